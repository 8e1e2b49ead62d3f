"""``reshoot extract``: a clip in, a shot folder out, stage by stage.

Stages run in order and each adds to the shot (``RUN/shot``). A stage whose inputs and
settings have not changed since it last ran (its fingerprint: the source file's size
and modification time, the stage settings, the reshoot version) is not run again: a
re-run is instant. ``--force`` runs everything again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from reshoot import __version__
from reshoot.errors import InputError, ReshootError
from reshoot.shot import Shot
from reshoot.stages.decode import DecodeConfig, decode
from reshoot.stages.perceive.stage import PerceiveConfig, perceive

log = logging.getLogger(__name__)

STAGES = ("perceive",)
"""the stages that exist, in order (camera, bodies, refine and transfer come next)"""


@dataclass
class ExtractConfig:
    """Settings of every stage of ``reshoot extract``."""

    decode: DecodeConfig = field(default_factory=DecodeConfig)
    perceive: PerceiveConfig = field(default_factory=PerceiveConfig)


def fingerprint(source: Path, settings: dict) -> str:
    """What a stage's result depends on, hashed: the source (path, size, modification
    time; or, for a folder of images, those of every file), the settings, the version."""
    files = sorted(p for p in source.iterdir() if p.is_file()) if source.is_dir() else [source]
    stats = [(str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    blob = json.dumps({"source": stats, "settings": settings, "version": __version__}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def extract(source: str | Path, out: str | Path, cfg: ExtractConfig | None = None, stop_after: str = STAGES[-1],
            force: bool = False, overlay: bool = True,
            progress: Callable[[str, int, int], None] | None = None) -> Path:  # fmt: skip
    """Run the stages up to ``stop_after`` on ``source`` (a video file or a folder of
    images); write ``out/shot`` (and ``out/overlay.mp4``, the people drawn on the frames);
    return the shot's path. ``progress(stage, done, total)`` is called as frames are processed."""
    if stop_after not in STAGES:
        raise InputError(f"--stop-after {stop_after!r}: the stages are {', '.join(STAGES)}")
    cfg = cfg or ExtractConfig()
    source, shot_dir = Path(source), Path(out) / "shot"
    if not source.exists():
        raise InputError(f"{source}: no such file or folder")
    fp = fingerprint(source, {"decode": asdict(cfg.decode), "perceive": asdict(cfg.perceive)})
    if not force and (shot_dir / "shot.json").is_file():
        try:
            previous = Shot.load(shot_dir)
        except ReshootError as exc:  # a broken folder from an interrupted run: redo it
            log.info("ignoring the previous result in %s (%s)", shot_dir, exc)
        else:
            if previous.meta.get("fingerprints", {}).get("perceive") == fp:
                log.info("perceive: unchanged since the last run, reusing %s", shot_dir)
                return shot_dir
    footage = decode(source, cfg.decode)
    total = footage.num_frames
    shot = perceive(footage, cfg.perceive, progress=(lambda done: progress("perceive", done, total)) if progress else None)
    info = footage.info
    shot.meta["decode"] = {  # the way back to the source: its size, pixels, turn, and the segment taken
        "source_size": list(footage.source_size), "scale_xy": list(footage.scale_xy),
        "source_pixel_aspect": info.pixel_aspect, "source_quarter_turns": info.quarter_turns, "mirrored": info.mirror,
        "first_frame": footage.first_frame, "start_s": footage.start_s, "cut_frames": list(footage.cut_frames),
    }  # fmt: skip
    shot.meta["fingerprints"] = {"perceive": fp}
    shot.save(shot_dir)
    if overlay:
        from reshoot.render.overlay import write_overlay_video

        write_overlay_video(shot, footage.frames(), Path(out) / "overlay.mp4")
    return shot_dir
