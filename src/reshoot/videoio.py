"""Writing videos: H.264 (libx264, yuv420p) through PyAV, at an exact frame rate."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from reshoot.errors import InputError


class VideoWriter:
    """``with VideoWriter(path, width, height, fps) as w: w.write(rgb)`` for RGB (H, W, 3) uint8 frames."""

    def __init__(self, path: str | Path, width: int, height: int, fps: float, crf: int = 18) -> None:
        import av

        if width % 2 or height % 2:
            raise InputError(f"H.264 needs even frame sizes, received {width}x{height}")
        self._av = av
        self.container = av.open(str(path), mode="w")
        self.stream = self.container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        self.stream.width, self.stream.height, self.stream.pix_fmt = width, height, "yuv420p"
        self.stream.options = {"crf": str(crf), "preset": "fast"}

    def write(self, rgb: np.ndarray) -> None:
        for packet in self.stream.encode(self._av.VideoFrame.from_ndarray(rgb, format="rgb24")):
            self.container.mux(packet)

    def close(self) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
