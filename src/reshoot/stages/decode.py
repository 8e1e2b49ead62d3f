"""Decode: a video file or a folder of images into upright, square-pixel RGB frames.

What goes in:

* a video file in any container and codec FFmpeg (through PyAV) reads: mp4, mov, mkv,
  avi, webm ...; H.264, HEVC, ProRes, VP9, AV1 ...;
* a folder of images (``.png .jpg .jpeg .bmp .tif .tiff .webp``), frames in natural
  name order (``f2.png`` before ``f10.png``), played at :attr:`DecodeConfig.images_fps`
  (24 by default: a folder carries no frame rate).

What comes out is a :class:`Footage`: a :class:`~reshoot.shot.Video` record describing
the frames the later stages see, and a way to stream those frames (RGB ``uint8``,
shape ``(H, W, 3)``). The frames are:

* **upright**: the container's display matrix (the rotation tag phones write) is
  applied as FFmpeg's ``-autorotate`` does, flips included; JPEG EXIF orientation is
  applied to image folders (OpenCV's ``imread`` does it);
* **square-pixelled**: an anamorphic source (sample aspect ratio ``sar != 1``) is shown
  as a player shows it, ``sar * W`` wide and ``H`` high; ``Video.pixel_aspect`` is then 1
  (it describes the frames the shot's coordinates refer to), the source's ``sar`` is in
  :attr:`Footage.info`;
* **at the working resolution**: a frame whose longer side exceeds
  :attr:`DecodeConfig.max_side_px` (1920) is shrunk with ``cv2.INTER_AREA``, aspect kept,
  both sides rounded to even numbers. An 8K clip is perceived at 1920x1080;
  :meth:`Footage.to_source_px` maps coordinates back to the source's display pixels.

Coordinates are continuous pixels with the top-left image *corner* at (0, 0) (pixel
centres at +0.5), so mapping between working and source pixels is a pure per-axis scale.

Time: ``Video.timestamps_s`` are presentation times (``pts * time_base``) in seconds,
counted from the first kept frame, strictly increasing: a variable-frame-rate clip keeps
its real timing. ``Video.fps`` is the median frame rate (the container's nominal rate
when the two agree within 0.5 %).

Cuts: a clip must be one shot. Hard cuts are found with PySceneDetect's content score
(see :func:`find_cuts`); a clip with cuts is refused with the list of cut frames, unless
:attr:`DecodeConfig.shot` picks one of its segments.

Bad input raises a one-line :class:`~reshoot.errors.InputError` that says what was
received, what was expected and what to do: a missing path, a folder without images, a
still image, a file FFmpeg cannot read, no video stream, no decodable frame, too few
frames, a damaged or truncated file (unless :attr:`DecodeConfig.allow_damaged`), cuts
without a ``shot``, a ``shot`` out of range.

Memory: :func:`decode` reads the whole source once (timestamps, cut scores). It keeps
the working frames in memory when they fit in :attr:`DecodeConfig.cache_mb` (a 5 s
960x540 clip at 24 fps is 187 MB); otherwise :meth:`Footage.frames` decodes the source
again on each call and holds one frame at a time.
"""

from __future__ import annotations

import logging
import re
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from reshoot.errors import InputError
from reshoot.shot import Video

log = logging.getLogger(__name__)

#: File name suffixes (lower case) read as image frames.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
#: Cut scores are computed on frames shrunk to this longer side (PySceneDetect's default).
CUT_SCORE_SIDE_PX = 256
#: Fewest frames a shot may have (motion needs two).
MIN_FRAMES = 2
#: A frame-count shortfall against the container's declared count that is not called
#: damage: the larger of this many frames and 1 % (edit lists may trim a frame or two).
SHORTFALL_TOLERANCE_FRAMES = 1
#: FFmpeg "video" codecs that render text files as pictures (its tty demuxer takes .txt, .ans ...).
TEXT_CODECS = frozenset({"ansi", "bintext", "xbin", "idf"})
#: Most cut frames an error message lists.
MAX_LISTED_CUTS = 20


@dataclass
class DecodeConfig:
    """How ``decode`` reads a clip. Every field has a default that works."""

    max_side_px: int = 1920
    """working resolution: frames whose longer side (after rotation and pixel-aspect
    correction) exceeds this are shrunk to it (``cv2.INTER_AREA``, aspect kept, even sizes);
    smaller frames are never enlarged"""
    shot: int | None = None
    """which cut-free segment of a clip with cuts to keep, 0-based (CLI ``--shot N``);
    None: refuse a clip with cuts"""
    cut_threshold: float = 15.0
    """a cut needs a content score (PySceneDetect ``content_val``: mean absolute change of
    hue, saturation and value between consecutive frames, 0..255, on frames shrunk to
    256 px) of at least this. Measured on ../shared/footage: motion within a shot 2-17, a
    whip pan with heavy blur up to 23; hard cuts spliced between those clips 45-90"""
    cut_ratio: float = 3.0
    """... and at least this multiple of the mean score of its ``cut_window`` neighbours on
    each side (PySceneDetect ``AdaptiveDetector``'s rule and default): a cut is a spike,
    fast camera motion (whip pans, shaky handheld) is sustained. Measured: footage
    without cuts at most 2.3 (1.3 where the score passed 15), spliced hard cuts 5.2-24"""
    cut_window: int = 2
    """neighbours on each side a frame's score is compared with"""
    min_shot_frames: int = MIN_FRAMES
    """fewest frames of a usable shot (at least 2): a shorter clip, or a shorter segment
    picked with ``shot``, is refused"""
    images_fps: float = 24.0
    """frame rate of a folder of images (a folder carries none); unused for video files"""
    allow_damaged: bool = False
    """use what can be decoded from a damaged or truncated video (CLI ``--allow-damaged``)
    instead of refusing it; frames that failed to decode are missing and the timestamps
    show the gap"""
    cache_mb: float = 1024.0
    """keep the working frames in memory when the whole clip takes at most this many MiB;
    above it, ``Footage.frames()`` decodes the source again on each call (0: never keep)"""

    def check(self) -> None:
        """Raise :class:`InputError` on a value no clip can be decoded with."""
        if self.max_side_px < 16:
            raise InputError(f"max_side_px must be at least 16, received {self.max_side_px}")
        if self.shot is not None and self.shot < 0:
            raise InputError(f"--shot must be 0 or more (0 is the first shot), received {self.shot}")
        if not (self.cut_threshold > 0 and self.cut_ratio > 0):
            raise InputError(
                f"cut_threshold and cut_ratio must be positive, received {self.cut_threshold} and {self.cut_ratio}"
            )
        if self.cut_window < 1:
            raise InputError(f"cut_window must be at least 1, received {self.cut_window}")
        if self.min_shot_frames < MIN_FRAMES:
            raise InputError(f"min_shot_frames must be at least {MIN_FRAMES}, received {self.min_shot_frames}")
        if not (np.isfinite(self.images_fps) and self.images_fps > 0):
            raise InputError(f"images_fps must be a positive number, received {self.images_fps}")
        if self.cache_mb < 0:
            raise InputError(f"cache_mb must be 0 or more, received {self.cache_mb}")


@dataclass(frozen=True)
class SourceInfo:
    """What :func:`probe` learns about a source from its header and first frame."""

    path: Path
    kind: Literal["video", "images"]
    stored_size: tuple[int, int]
    """(W, H) of a decoded frame as stored, pixels"""
    pixel_aspect: float
    """sample aspect ratio of the stored pixels: width / height (1: square)"""
    quarter_turns: int
    """counter-clockwise quarter turns (0..3) that make a stored frame upright"""
    mirror: bool
    """whether a left-right mirror follows the turns"""
    nominal_fps: float | None
    """the container's frame rate (images: ``DecodeConfig.images_fps``); None if unknown"""
    declared_frames: int | None
    """frame count the container declares (images: the number of files); None if unknown"""
    codec: str
    """codec name, or ``"images"``"""
    files: tuple[Path, ...] = ()
    """image folder: the frames, in order"""
    focal_35mm: float | None = None
    """the 35 mm-equivalent focal length the source declares (EXIF FocalLengthIn35mmFilm of
    an image folder's first frame), millimetres; None when it declares none"""

    @property
    def display_size_f(self) -> tuple[float, float]:
        """(W, H) of an upright, square-pixel frame at full resolution (may be fractional)."""
        w, h = self.stored_size[0] * self.pixel_aspect, float(self.stored_size[1])
        return (h, w) if self.quarter_turns % 2 else (w, h)

    @property
    def display_size(self) -> tuple[int, int]:
        """:attr:`display_size_f` rounded: the size a player shows."""
        w, h = self.display_size_f
        return max(1, round(w)), max(1, round(h))


@dataclass(eq=False)
class Footage:
    """A decoded shot: its :class:`Video` record and its frames at the working size.

    Frames are RGB ``uint8`` arrays of shape ``(H, W, 3)`` with ``W, H = video.width,
    video.height``: upright, square pixels. Frame ``t`` of the shot is frame
    ``first_frame + t`` of the source (counted in decoding order from 0).
    """

    video: Video
    """fps, num_frames, working width/height, the source's pixel aspect, source path,
    timestamps_s (from the first kept frame)"""
    source_size: tuple[int, int]
    """(W, H) of the source as displayed: upright, square pixels, full resolution"""
    scale: float
    """working pixels per source display pixel (1 unless the source was shrunk)"""
    scale_xy: tuple[float, float]
    """the exact per-axis scale (x, y); differs from ``scale`` by the even-size rounding"""
    first_frame: int
    """index in the source of the shot's first frame"""
    start_s: float
    """presentation time of the shot's first frame in the source's own clock
    (``pts * time_base``; images: ``index / images_fps``), seconds"""
    cut_frames: tuple[int, ...]
    """source frames that start a new shot (hard cuts found in the whole source)"""
    cut_scores: np.ndarray
    """(N,) content score of every source frame against the previous one (frame 0: 0)"""
    info: SourceInfo
    """what ``probe`` found"""
    _cache: list[np.ndarray] | None = field(default=None, repr=False)

    @property
    def num_frames(self) -> int:
        return self.video.num_frames

    @property
    def in_memory(self) -> bool:
        """Whether the frames are kept in memory (else each ``frames()`` call decodes again)."""
        return self._cache is not None

    def frames(self, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
        """Yield the shot's frames ``start .. stop - 1`` (RGB uint8, (H, W, 3)), in order.

        From memory when :attr:`in_memory`; otherwise the source is decoded again from its
        start (one frame in memory at a time).
        """
        stop = self.num_frames if stop is None else min(stop, self.num_frames)
        if not 0 <= start <= stop:
            raise InputError(f"frame range {start}..{stop} is outside the shot's 0..{self.num_frames}")
        if self._cache is not None:
            yield from self._cache[start:stop]
            return
        first, last = self.first_frame + start, self.first_frame + stop
        if first == last:
            return
        index = -1
        for index, _, rgb in _working_frames(self.info, (self.video.width, self.video.height), _Damage(), first):
            yield rgb
            if index + 1 >= last:
                return
        raise InputError(
            f"{self.info.path}: decoded {max(index + 1, first)} frames at most, expected {last}; "
            "did the file change since it was decoded?"
        )

    def read(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """The frames ``start .. stop - 1`` as one array, shape (T, H, W, 3), uint8."""
        frames = list(self.frames(start, stop))
        if not frames:
            return np.zeros((0, self.video.height, self.video.width, 3), np.uint8)
        return np.stack(frames)

    def to_source_px(self, xy_px: ArrayLike) -> np.ndarray:
        """Working pixels (..., 2) -> source display pixels (..., 2), float64 (x, y).

        Source display pixels are those of the upright, square-pixel picture at full
        resolution (:attr:`source_size`), not of the stored raster of a rotated or
        anamorphic file. Continuous coordinates, image corner at (0, 0): a pure scale.
        """
        return np.asarray(xy_px, dtype=np.float64) / np.asarray(self.scale_xy)

    def from_source_px(self, xy_px: ArrayLike) -> np.ndarray:
        """Source display pixels (..., 2) -> working pixels (..., 2), float64 (x, y)."""
        return np.asarray(xy_px, dtype=np.float64) * np.asarray(self.scale_xy)


# ------------------------------------------------------------------------ public


def decode(path: str | Path, cfg: DecodeConfig | None = None) -> Footage:
    """Decode the video file or image folder at ``path`` into a one-shot :class:`Footage`.

    Reads the whole source once: timestamps, cut scores and (within ``cfg.cache_mb``) the
    working frames. Raises a one-line :class:`InputError` on any input it cannot use.
    """
    cfg = cfg or DecodeConfig()
    cfg.check()
    t0 = time.perf_counter()
    info = probe(path, cfg)
    work_w, work_h = working_size(*info.display_size_f, max_side_px=cfg.max_side_px,
                                  resample=info.pixel_aspect != 1.0)  # fmt: skip
    budget = cfg.cache_mb * 2**20
    frame_bytes = work_w * work_h * 3
    cache: list[np.ndarray] | None = [] if frame_bytes <= budget else None
    times: list[float | None] = []
    scorer = _CutScorer()
    damage = _Damage()
    for _, t_s, rgb in _working_frames(info, (work_w, work_h), damage):
        times.append(t_s)
        scorer.add(rgb)
        if cache is not None:
            if (len(cache) + 1) * frame_bytes <= budget:
                cache.append(rgb)
            else:
                log.debug("%s: frames exceed cache_mb=%g; frames() will decode again", info.path, cfg.cache_mb)
                cache = None
    n = len(times)
    _check_damage(info, n, damage, cfg)
    if n == 0:
        raise InputError(
            f"{path}: no frame could be decoded ({damage.describe()}); expected a video with at least "
            f"{cfg.min_shot_frames} frames"
        )
    if n < cfg.min_shot_frames:
        what = "a single frame (a still image?)" if n == 1 else f"only {n} frames"
        raise InputError(
            f"{path} has {what}; a shot needs at least {cfg.min_shot_frames} frames: give a longer clip"
        )
    times_s = _strictly_increasing(times, info.nominal_fps or cfg.images_fps, str(path))
    scores = np.asarray(scorer.scores)
    cuts = find_cuts(scores, threshold=cfg.cut_threshold, ratio=cfg.cut_ratio, window=cfg.cut_window)
    first, stop = _pick_segment(str(path), n, cuts, cfg)
    seg_t = times_s[first:stop]
    fps = _frame_rate(seg_t, info.nominal_fps)
    dw, dh = info.display_size_f
    video = Video(fps=fps, num_frames=stop - first, width=work_w, height=work_h, pixel_aspect=1.0,
                  source=str(info.path.resolve()), timestamps_s=seg_t - seg_t[0])  # fmt: skip
    footage = Footage(
        video=video,
        source_size=info.display_size,
        scale=min(1.0, cfg.max_side_px / max(dw, dh)),
        scale_xy=(work_w / dw, work_h / dh),
        first_frame=first,
        start_s=float(seg_t[0]),
        cut_frames=tuple(cuts),
        cut_scores=scores,
        info=info,
        _cache=None if cache is None else cache[first:stop],
    )
    notes = [f"shot {cfg.shot}: source frames {first}..{stop - 1}"] if cuts else []
    notes += [f"pixel aspect {info.pixel_aspect:.4g}"] if info.pixel_aspect != 1 else []
    notes += [f"turned {90 * info.quarter_turns} deg ccw"] if info.quarter_turns else []
    notes += ["mirrored"] if info.mirror else []
    log.info("decoded %s: %d frames at %dx%d, %.4g fps, source %dx%d%s in %.2f s", path, video.num_frames,
             work_w, work_h, fps, *info.display_size, "".join(f", {n}" for n in notes),
             time.perf_counter() - t0)  # fmt: skip
    return footage


def probe(path: str | Path, cfg: DecodeConfig | None = None) -> SourceInfo:
    """Classify ``path`` and read its geometry (size, pixel aspect, orientation) and rate.

    Decodes at most the first frame of a video (the display matrix comes with the frames)
    and reads the first image of a folder. Raises :class:`InputError` on unusable input.
    """
    cfg = cfg or DecodeConfig()
    p = Path(path)
    if not p.exists():
        raise InputError(f"{path}: no such file or folder; expected a video file or a folder of images")
    if p.is_dir():
        return _probe_images(p, cfg)
    if p.suffix.lower() in IMAGE_SUFFIXES:
        raise InputError(
            f"{path} is a still image, and a still image is not a shot: reshoot follows people and the camera "
            f"over time; give a video, or a folder of at least {cfg.min_shot_frames} images"
        )
    return _probe_video(p)


def working_size(display_w: float, display_h: float, max_side_px: int, resample: bool = False) -> tuple[int, int]:
    """The (W, H) frames are perceived at, for an upright square-pixel size ``display_w x display_h``.

    Shrinks so the longer side is at most ``max_side_px`` (never enlarges). A resampled
    size (shrunk, or ``resample``: non-square source pixels) is rounded to even numbers;
    a frame that needs no resampling keeps its exact size, odd or not.
    """
    scale = min(1.0, max_side_px / max(display_w, display_h))
    if scale == 1.0 and not resample:
        return round(display_w), round(display_h)
    return _even(display_w * scale), _even(display_h * scale)


def find_cuts(scores: ArrayLike, threshold: float = 15.0, ratio: float = 3.0, window: int = 2) -> list[int]:
    """Frames that start a new shot, from per-frame content scores.

    ``scores[i]`` compares frame ``i`` with frame ``i - 1`` (``scores[0]`` is ignored).
    Frame ``i`` is a cut when ``scores[i] >= threshold`` and ``scores[i] >= ratio *`` the
    mean of the scores of up to ``window`` frames on each side (fewer at the ends of the
    clip; none: the ratio test passes). This is PySceneDetect's ``AdaptiveDetector`` rule,
    without its blind spots: it judges the first and last ``window`` frames too, and does
    not hide a cut that comes soon after the clip's start or another cut.

    It finds hard cuts between different shots. It does not see a dissolve, nor a jump
    cut inside one static scene (the picture barely changes); a photographer's flash may
    show as two cuts one frame apart.
    """
    s = np.asarray(scores, dtype=np.float64)
    cuts = []
    for i in range(1, len(s)):
        if s[i] < threshold:
            continue
        neighbours = np.concatenate([s[max(1, i - window) : i], s[i + 1 : i + 1 + window]])
        if len(neighbours) == 0 or s[i] >= ratio * neighbours.mean():
            cuts.append(i)
    return cuts


def orient(rgb: np.ndarray, quarter_turns: int, mirror: bool) -> np.ndarray:
    """Turn an (H, W, C) image ``quarter_turns`` x 90 degrees counter-clockwise (as seen on
    screen), then mirror it left-right if ``mirror``. Returns a contiguous array."""
    out = np.rot90(rgb, quarter_turns % 4)
    if mirror:
        out = out[:, ::-1]
    return np.ascontiguousarray(out)


def orientation_from_display_matrix(matrix: tuple[int, ...] | list[int]) -> tuple[int, bool]:
    """(counter-clockwise quarter turns, mirror) that display a frame upright, from FFmpeg's
    ``AV_FRAME_DATA_DISPLAYMATRIX`` (9 int32, 16.16 fixed point).

    Follows ``ffmpeg -autorotate`` (``fftools``): the angle is rounded to a quarter turn
    (a tilt that is not one is ignored with a warning), flips go with it.
    """
    a, b, c, d = (v / 65536.0 for v in (matrix[0], matrix[1], matrix[3], matrix[4]))
    sx, sy = np.hypot(a, c), np.hypot(b, d)
    if sx == 0 or sy == 0:
        log.warning("ignoring a degenerate display matrix %s", list(matrix))
        return 0, False
    ccw = -np.degrees(np.arctan2(b / sy, a / sx))  # av_display_rotation_get
    theta = (-ccw) % 360.0  # clockwise, as fftools' get_rotation
    quarter = round(theta / 90.0) % 4
    if abs(theta - 90.0 * round(theta / 90.0)) > 1.0:
        log.warning("display matrix turns the picture %.1f deg; using the nearest quarter turn", theta)
    if quarter == 1:  # clockwise 90: transpose=clock, or cclock_flip (a plain transpose)
        return (3, True) if c > 0 else (3, False)
    if quarter == 3:  # clockwise 270: transpose=cclock, or clock_flip
        return (1, True) if c < 0 else (1, False)
    if quarter == 2:  # hflip and/or vflip
        hflip, vflip = a < 0, d < 0
        return (2, False) if hflip and vflip else (0, True) if hflip else (2, True) if vflip else (0, False)
    return (2, True) if d < 0 else (0, False)  # upright, maybe flipped top to bottom


# ------------------------------------------------------------------------ sources


def _natural_key(path: Path) -> list[Any]:
    return [int(tok) if tok.isdigit() else tok.lower() for tok in re.split(r"(\d+)", path.name)]


def _probe_images(folder: Path, cfg: DecodeConfig) -> SourceInfo:
    entries = [e for e in folder.iterdir() if e.is_file() and not e.name.startswith(".")]
    files = sorted((e for e in entries if e.suffix.lower() in IMAGE_SUFFIXES), key=_natural_key)
    if not files:
        other = " (it is empty)"
        if entries:
            other = f" (it holds {len(entries)} other files, e.g. {sorted(entries)[0].name})"
        raise InputError(
            f"{folder} is a folder with no images{other}; expected a video file, or a folder of frames "
            f"({' '.join(IMAGE_SUFFIXES)})"
        )
    first = _read_image(files[0], folder)
    return SourceInfo(path=folder, kind="images", stored_size=(first.shape[1], first.shape[0]), pixel_aspect=1.0,
                      quarter_turns=0, mirror=False, nominal_fps=float(cfg.images_fps), declared_frames=len(files),
                      codec="images", files=tuple(files), focal_35mm=_exif_focal_35mm(files[0]))  # fmt: skip


def _exif_focal_35mm(file: Path) -> float | None:
    """EXIF FocalLengthIn35mmFilm (tag 0xA405 in the Exif IFD) of an image, if it has one."""
    try:
        from PIL import Image

        with Image.open(file) as image:
            value = image.getexif().get_ifd(0x8769).get(0xA405)
    except Exception:  # no EXIF, or a format PIL does not read: the camera stage estimates the focal
        return None
    return float(value) if value else None


def _read_image(file: Path, folder: Path) -> np.ndarray:
    """RGB uint8 (H, W, 3), EXIF orientation applied (OpenCV does it for IMREAD_COLOR)."""
    import cv2

    bgr = cv2.imread(str(file), cv2.IMREAD_COLOR)
    if bgr is None:
        raise InputError(f"{file}: unreadable image in the frame folder {folder}; fix or remove it")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _open_video(path: Path) -> tuple[Any, Any]:
    """(container, video stream), or a one-line InputError."""
    import av

    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise InputError(
            f"{path}: not a video FFmpeg can read ({_ffmpeg_reason(exc)}); expected a video file "
            f"(mp4, mov, mkv, avi, webm ...) or a folder of images; is it complete?"
        ) from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be opened ({exc.strerror or exc})") from None
    try:  # cover art in a music file is a "video" stream of one picture
        still = av.stream.Disposition.attached_pic | av.stream.Disposition.still_image
        videos = [s for s in container.streams.video if not s.disposition & still]
    except AttributeError:  # PyAV < 13 has no Disposition flags
        videos = list(container.streams.video)
    if not videos:
        kinds = ", ".join(sorted({s.type for s in container.streams})) or "nothing"
        if container.streams.video:
            kinds += ", and a cover picture"
        container.close()
        raise InputError(f"{path} has no video stream (it holds {kinds}; a file with no frames has none either)")
    stream = videos[0]
    if stream.codec_context.name in TEXT_CODECS:
        container.close()
        raise InputError(
            f"{path} is a text file (FFmpeg's {stream.codec_context.name!r} decoder would draw its characters), "
            "not a video; expected a video file or a folder of images"
        )
    # PyAV's default threading (slices): frame threading was no faster here, and on damaged
    # input it may drop a different number of frames from run to run
    return container, stream


def _ffmpeg_reason(exc: Exception) -> str:
    return str(getattr(exc, "strerror", None) or exc).split(":")[0].strip()


def _probe_video(path: Path) -> SourceInfo:
    import av

    container, stream = _open_video(path)
    with container:
        damage = _Damage()
        first = next(_decoded(container, stream, damage), None)
        if first is None:
            raise InputError(
                f"{path}: no frame could be decoded ({damage.describe()}); expected a video with frames; "
                "the file is damaged or empty"
            )
        matrix = None
        for sd in first.side_data:
            if getattr(sd, "type", None) == av.sidedata.sidedata.Type.DISPLAYMATRIX:
                raw = bytes(sd)
                if len(raw) >= 36:
                    matrix = struct.unpack("=9i", raw[:36])  # int32_t[9], native order
        if matrix is not None:
            turns, mirror = orientation_from_display_matrix(matrix)
        else:  # old muxers and libraries: a "rotate" tag, clockwise degrees
            rotate = str(stream.metadata.get("rotate", "0") or "0")
            turns = (-round(float(rotate) / 90.0)) % 4 if _is_number(rotate) else 0
            mirror = False
        sar = stream.sample_aspect_ratio or stream.codec_context.sample_aspect_ratio
        pixel_aspect = float(sar) if sar and sar > 0 else 1.0
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        return SourceInfo(
            path=path, kind="video", stored_size=(first.width, first.height), pixel_aspect=pixel_aspect,
            quarter_turns=turns, mirror=mirror, nominal_fps=float(rate) if rate else None,
            declared_frames=int(stream.frames) or None, codec=stream.codec_context.name,
        )  # fmt: skip


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass
class _Damage:
    """What went wrong while decoding a video."""

    failed_packets: int = 0
    """packets the decoder rejected"""
    concealed_frames: int = 0
    """frames the decoder output but flagged corrupt (error concealment)"""
    read_error: str | None = None
    """why reading stopped early, if it did"""

    def __bool__(self) -> bool:
        return bool(self.failed_packets or self.concealed_frames or self.read_error)

    def describe(self) -> str:
        parts = []
        if self.failed_packets:
            parts.append(f"{self.failed_packets} packets failed to decode")
        if self.concealed_frames:
            parts.append(f"{self.concealed_frames} frames decoded with errors")
        if self.read_error:
            parts.append(f"reading stopped: {self.read_error}")
        return ", ".join(parts) or "the stream holds no frames"


def _decoded(container: Any, stream: Any, damage: _Damage) -> Iterator[Any]:
    """Decoded ``av.VideoFrame`` s of ``stream`` in presentation order; errors go to ``damage``."""
    import av

    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except av.error.FFmpegError as exc:
            damage.read_error = _ffmpeg_reason(exc)
            return
        try:
            frames = packet.decode()
        except av.error.FFmpegError:
            damage.failed_packets += 1
            continue
        for frame in frames:
            if getattr(frame, "is_corrupt", False):
                damage.concealed_frames += 1
            yield frame


def _working_frames(info: SourceInfo, work_wh: tuple[int, int], damage: _Damage, start: int = 0
                    ) -> Iterator[tuple[int, float | None, np.ndarray]]:  # fmt: skip
    """(source index, presentation time in seconds or None, working RGB frame) for every frame
    of the source from ``start`` on; earlier frames are decoded (a video) but not converted."""
    import cv2

    w, h = work_wh
    pre_wh = (h, w) if info.quarter_turns % 2 else (w, h)  # the working size before turning
    warned = False

    def to_working(rgb: np.ndarray) -> np.ndarray:
        nonlocal warned
        if (rgb.shape[1], rgb.shape[0]) != info.stored_size and not warned:
            log.warning("%s: the frame size changes mid-stream (%dx%d, then %dx%d); stretching to %dx%d",
                        info.path, *info.stored_size, rgb.shape[1], rgb.shape[0], *pre_wh)  # fmt: skip
            warned = True
        if (rgb.shape[1], rgb.shape[0]) != pre_wh:
            shrink = pre_wh[0] <= rgb.shape[1] and pre_wh[1] <= rgb.shape[0]
            rgb = cv2.resize(rgb, pre_wh, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        return orient(rgb, info.quarter_turns, info.mirror)

    if info.kind == "images":
        for i in range(start, len(info.files)):
            file = info.files[i]
            rgb = _read_image(file, info.path)
            if (rgb.shape[1], rgb.shape[0]) != info.stored_size:
                raise InputError(
                    f"{file} is {rgb.shape[1]}x{rgb.shape[0]} but the first frame {info.files[0].name} is "
                    f"{info.stored_size[0]}x{info.stored_size[1]}; every frame of a folder must have the same size"
                )
            yield i, i / info.nominal_fps, to_working(rgb)  # type: ignore[operator]
        return
    container, stream = _open_video(info.path)
    with container:
        for i, frame in enumerate(_decoded(container, stream, damage)):
            if i < start:
                continue
            t_s = float(frame.pts * frame.time_base) if frame.pts is not None and frame.time_base else None
            yield i, t_s, to_working(frame.to_ndarray(format="rgb24"))


def _check_damage(info: SourceInfo, n: int, damage: _Damage, cfg: DecodeConfig) -> None:
    declared = info.declared_frames
    short = 0 if declared is None else declared - n
    tolerated = max(SHORTFALL_TOLERANCE_FRAMES, 0.01 * (declared or 0))
    if not damage and short <= tolerated:
        if short > 0:
            log.warning("%s: decoded %d of the %d frames the container declares", info.path, n, declared)
        return
    of = f" of {declared}" if declared else ""
    why = damage.describe() if damage else "the file ends early"
    if cfg.allow_damaged or n == 0:
        if n:
            log.warning("%s: damaged or truncated: using the %d%s frames that decoded (%s)", info.path, n, of, why)
        return
    raise InputError(
        f"{info.path}: damaged or truncated video: decoded {n}{of} frames ({why}); re-export or re-download it, "
        f"or use the {n} frames with --allow-damaged"
    )


# ------------------------------------------------------------------------ time, cuts, segments


def _even(x: float) -> int:
    return max(2, 2 * round(x / 2))


def _strictly_increasing(times: list[float | None], fps: float, where: str) -> np.ndarray:
    """Seconds from the first frame; a missing or non-increasing time becomes the previous one
    plus a nominal frame (logged), so every frame is kept in order."""
    out = np.empty(len(times))
    fixed = 0
    prev = None
    for i, t in enumerate(times):
        if t is None or (prev is not None and t <= prev):
            t = 0.0 if prev is None else prev + 1.0 / fps
            fixed += 1
        out[i] = prev = t
    if fixed:
        log.warning("%s: %d frames had a missing or non-increasing timestamp; spaced them 1/%g s apart",
                    where, fixed, fps)  # fmt: skip
    return out


def _frame_rate(times_s: np.ndarray, nominal: float | None) -> float:
    """Median rate of ``times_s``; the nominal rate when it agrees within 0.5 %."""
    median = 1.0 / float(np.median(np.diff(times_s)))
    if nominal and abs(nominal - median) <= 0.005 * median:
        return float(Fraction(nominal).limit_denominator(1001))
    return median


def _pick_segment(path: str, n: int, cuts: list[int], cfg: DecodeConfig) -> tuple[int, int]:
    """(first, stop) source frames of the shot to keep."""
    bounds = [0, *cuts, n]
    segments = list(zip(bounds[:-1], bounds[1:]))
    if cfg.shot is None:
        if cuts:
            listed = ", ".join(str(c) for c in cuts[:MAX_LISTED_CUTS])
            if len(cuts) > MAX_LISTED_CUTS:
                listed += f" and {len(cuts) - MAX_LISTED_CUTS} more"
            ranges = ", ".join(f"{a}-{b - 1}" for a, b in segments[:MAX_LISTED_CUTS])
            if len(segments) > MAX_LISTED_CUTS:
                ranges += ", ..."
            s = "s" if len(cuts) > 1 else ""
            raise InputError(
                f"{path} has {len(cuts)} cut{s} (at frame{s} {listed}): {len(segments)} shots (frames {ranges}); "
                f"pick one with --shot N (0..{len(segments) - 1})"
            )
        first, stop = segments[0]
    else:
        if cfg.shot >= len(segments):
            has = f"{len(cuts)} cuts, so {len(segments)} shots" if cuts else "no cuts, so 1 shot"
            raise InputError(f"--shot {cfg.shot} is out of range: {path} has {has}; pick 0..{len(segments) - 1}")
        first, stop = segments[cfg.shot]
    if stop - first < cfg.min_shot_frames:
        count = f"{stop - first} frame{'s' if stop - first > 1 else ''}"
        raise InputError(
            f"shot {cfg.shot or 0} of {path} (frames {first}-{stop - 1}) has {count}; a shot needs at least "
            f"{cfg.min_shot_frames}: pick another with --shot N"
        )
    return first, stop


class _CutScorer:
    """PySceneDetect's ``ContentDetector`` score of each frame against the previous one."""

    def __init__(self) -> None:
        from scenedetect.detectors import ContentDetector
        from scenedetect.stats_manager import StatsManager

        self._detector = ContentDetector()
        self._stats = StatsManager()
        self._detector.stats_manager = self._stats
        self._key = ContentDetector.FRAME_SCORE_KEY
        self.scores: list[float] = []

    def add(self, rgb: np.ndarray) -> None:
        import cv2
        from scenedetect.common import FrameTimecode

        h, w = rgb.shape[:2]
        f = CUT_SCORE_SIDE_PX / max(h, w)
        if f < 1:
            # bilinear, as PySceneDetect's SceneManager shrinks (INTER_AREA costs 1 ms more a frame)
            rgb = cv2.resize(rgb, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_LINEAR)
        timecode = FrameTimecode(len(self.scores), fps=24.0)  # a frame counter: the rate plays no part
        self._detector.process_frame(timecode, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        score = self._stats.get_metrics(timecode, [self._key])[0]
        self.scores.append(0.0 if score is None else float(score))
