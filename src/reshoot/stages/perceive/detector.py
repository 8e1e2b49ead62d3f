"""Every person in a frame: mediapipe's bundled pose detector run directly, over the whole
frame and over overlapping square tiles, so that small and distant people are found too.

mediapipe's ``Pose`` follows one person and runs its detector on a letterboxed copy of the
whole frame only, where a person under about half the frame's height is a few dozen model
pixels tall and is missed. This module runs the same model
(``mediapipe/modules/pose_detection/pose_detection.tflite`` of the mediapipe 0.10.21
wheel) with ``ai-edge-litert``'s interpreter, decodes it as mediapipe's
``PoseDetectionCpu`` graph does, and adds passes over square tiles at finer scales; the
detections of all passes are merged into one per person.

The model (the options below were read from the graphs compiled into mediapipe 0.10.21's
``_framework_bindings`` library; ``tests/test_detector.py`` checks the decoding against
mediapipe's own output):

* input ``(1, 224, 224, 3)`` float32 RGB in [-1, 1]: the frame scaled to fit, centred,
  the rest zero (black, -1 after scaling); outputs ``(1, 2254, 12)`` regressors and
  ``(1, 2254, 1)`` score logits, one row per SSD anchor.
* anchors (``SsdAnchorsCalculator``): 5 layers, strides 8, 16, 32, 32, 32 on 224 px, so
  feature maps 28, 14, 7 (the three stride-32 layers share one 7 x 7 map), 2 anchors per
  cell and layer (aspect ratio 1 and the interpolated scale): 28² x 2 + 14² x 2 + 7² x 6
  = 2254; centres at ``(cell + 0.5) / map size``; ``fixed_anchor_size``: every anchor is
  1 x 1 (normalised), so the regressors are plain offsets.
* decoding (``TensorsToDetectionsCalculator``, ``reverse_output_order``): a row is
  ``(x, y, w, h, kx0, ky0, ..., kx3, ky3)`` in model pixels relative to the anchor
  centre: divide by 224 and add the anchor centre. The box is the *face* box (in practice
  always about 45 model pixels wide: its size carries no information); the 4 keypoints
  are the hip centre, a point on the circle around the full body (its distance to the hip
  centre is the body's radius, its direction from the hips the body's axis, towards the
  head), the shoulder centre and a point on the upper body's circle. Score: sigmoid of
  the logit clipped to +-100; mediapipe keeps scores >= 0.5.
* suppression (``NonMaxSuppressionCalculator``): weighted; every detection whose face
  box overlaps the best one's by IoU > 0.3 joins it, the group is their score-weighted
  mean with the best score. Then the letterbox is removed.
* mediapipe Pose's region from a detection (``PoseDetectionToRoi``): a square centred on
  the hip centre, side 2 x 1.25 x the body's radius, turned so that the body's axis
  points up.

The passes: the whole frame letterboxed (as mediapipe), then each level of
``DetectorConfig.tile_fractions``: square tiles of that fraction of the frame's short
side, overlapping by half. The model finds a person reliably from about 0.4-0.5 of its
input's side up; at the defaults (0.7, 0.4) a 16:9 frame takes 1 + 10 + 32 = 43 passes
and a person a fifth of the frame's height is found. Each level is scaled once with
area averaging (mediapipe warps bilinearly, which aliases when it shrinks a frame 5x;
on clear detections the keypoints of the two agree to 2-12 % of the body's radius).

A caller that expects someone somewhere (a tracker) names square regions: one pass each,
the region scaled to the model's input. A person at the frame's edge or cut by its
bottom scores 0.6-0.85 in the whole frame and may fall between tiles; in a window about
one and a half times their size they are found (``region_min_score``).

Merging: one person seen by many passes (whole in the frame, cut by tiles) gives
candidates whose face centres nearly coincide; they join when closer than
``merge_distance`` x the smaller body radius (never two of one pass: its suppression
already told them apart), and the person is placed by the finest passes that saw the
whole body (the median body radius of the group decides: a tile that cuts a body below
the shoulders sees a small "whole" person, a coarse pass may blend two neighbours into
one big one).

Precision: many passes give textures many chances. On synthetic courtyard shots (posters,
graffiti, stains), non-people reach scores of 0.5-0.9 while people mostly score 0.9-0.99
(real footage: 0.95+ with the face in view; 0.6-0.8 seen from behind, blurred or with
the head out of the frame). Measured on ten small synthetic shots (120 frames, actors
a sixth to half of the frame's height): ``min_score`` 0.8 finds 0.93 of the fully
visible actors with 0.13 false detections a frame (12 of the 15 one poster in a still
shot), 0.85 finds 0.87 with 0.01, 0.7 finds 0.96 with 0.37; the whole frame alone at
mediapipe's 0.5 finds 0.16. A tracker that checks each detection with the landmark
model's presence flag can afford a lower ``min_score``.

Coordinates: image pixels, x right, y down, the image's top-left corner at (0, 0) and
pixel centres at +0.5 (pixel ``(i, j)`` covers ``[j, j + 1) x [i, i + 1)``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reshoot.errors import InputError, ReshootError, ShapeError
from reshoot.stages.perceive.models import mediapipe_model

log = logging.getLogger(__name__)

INPUT_PX = 224
"""side of the model's square input, pixels"""
NUM_ANCHORS = 2254
KEYPOINT_NAMES = ("hip_centre", "body_circle", "shoulder_centre", "upper_body_circle")
"""the detector's 4 keypoints, in its order"""
HIP_CENTRE, BODY_CIRCLE, SHOULDER_CENTRE, UPPER_BODY_CIRCLE = range(4)
MEDIAPIPE_MIN_SCORE = 0.5
"""``min_score_thresh`` of ``PoseDetectionCpu`` in mediapipe 0.10.21"""
MEDIAPIPE_NMS_IOU = 0.3
"""``min_suppression_threshold`` of ``PoseDetectionCpu`` (IoU of face boxes)"""

# SsdAnchorsCalculator options of PoseDetectionCpu (mediapipe 0.10.21)
_ANCHOR_STRIDES = (8, 16, 32, 32, 32)
_ANCHORS_PER_LAYER = 2  # aspect ratio 1.0 plus the interpolated scale (aspect 1.0)
_ANCHOR_OFFSET = 0.5


@dataclass
class DetectorConfig:
    """How :class:`PoseDetector` looks for people. The defaults find a standing person
    from about a fifth of the frame's short side up to the whole frame."""

    min_score: float = 0.8
    """score (probability, 0..1) a person needs: the best over the passes that found
    them. mediapipe keeps 0.5, but over 40-odd passes textures (stains, posters,
    graffiti) reach 0.5-0.9 (see the module docstring for the measured trade-off)"""
    region_min_score: float = MEDIAPIPE_MIN_SCORE
    """score a person needs when a pass over one of the regions the caller named saw them
    (a tracker's person at the frame's edge or cut by its bottom scores 0.6-0.85: the
    caller, who expects someone there, checks them on its own)"""
    weak_score: float | None = None
    """where set, people scoring this or more but under ``min_score`` are returned too,
    marked :attr:`PersonDetection.weak`: too doubtful to take as someone new, enough to
    find again someone already known (a tracker matches them by their colours). None:
    not returned"""
    candidate_score: float = MEDIAPIPE_MIN_SCORE
    """score a single pass's detection needs to take part (mediapipe's 0.5): weaker views
    of a person found elsewhere still help place them"""
    nms_iou: float = MEDIAPIPE_NMS_IOU
    """within one pass: detections whose face boxes overlap by more than this IoU are one
    person (mediapipe's weighted non-maximum suppression)"""
    merge_distance: float = 0.5
    """across passes: two detections are one person when their face centres are closer
    than this fraction of the smaller of their body radii. (The model's face box has a
    fixed size in model pixels, so boxes from passes at different scales cannot be
    compared by overlap; the face is what every pass that finds a person sees. On
    synthetic shots one person's detections lay within 0.36 radii, two people's 0.99
    radii or more apart.)"""
    tiles: bool = True
    """besides the whole (letterboxed) frame, look at overlapping square tiles"""
    tile_fractions: tuple[float, ...] = (0.7, 0.4)
    """side of each level's square tiles, as a fraction of the frame's short side. The
    model finds a person reliably down to about 0.4-0.5 of its input's side, so a level
    of fraction f finds people from about 0.45 f of the short side up: with 0.4, a
    person a fifth of the frame's height"""
    tile_overlap: float = 0.5
    """fraction of a tile's side that neighbouring tiles share: with 0.5, anything up to
    half a tile's side lies whole in some tile"""
    min_tile_px: float = 112.0
    """levels whose tiles would be smaller than this (frame pixels) are skipped: the
    model's input would be a more than 2x blown-up, blurred image"""
    max_people: int = 20
    """most detections returned per frame (the highest scores)"""
    num_threads: int = 2
    """interpreter threads. Measured on 2 idle cores: 3.0 ms a pass with 2, 5.9 ms with 1
    (a 960x540 frame with tiles: 152 ms against 275 ms); with another process busy on one
    core, 2 threads lose (7.1 ms against 5.8 ms): take 1 when running beside other work"""
    model_path: str | None = None
    """the .tflite model; None: the one inside the installed mediapipe wheel"""

    def check(self) -> None:
        """Raise :class:`InputError` on a value that cannot work."""
        for name in ("min_score", "region_min_score", "candidate_score"):
            if not 0.0 < getattr(self, name) < 1.0:
                raise InputError(f"DetectorConfig.{name} must be in (0, 1), received {getattr(self, name)}")
        if self.weak_score is not None and not 0.0 < self.weak_score <= self.min_score:
            raise InputError(f"DetectorConfig.weak_score must be None or in (0, min_score], received {self.weak_score}")
        for name in ("nms_iou", "merge_distance"):
            if not 0.0 < getattr(self, name) < 1.0:
                raise InputError(f"DetectorConfig.{name} must be in (0, 1), received {getattr(self, name)}")
        if not 0.0 <= self.tile_overlap < 0.95:
            raise InputError(f"DetectorConfig.tile_overlap must be in [0, 0.95), received {self.tile_overlap}")
        if any(not 0.0 < f <= 1.0 for f in self.tile_fractions):
            raise InputError(f"DetectorConfig.tile_fractions must lie in (0, 1], received {self.tile_fractions}")
        if self.max_people < 1 or self.num_threads < 1:
            raise InputError(
                "DetectorConfig.max_people and num_threads must be >= 1, "
                f"received {self.max_people} and {self.num_threads}"
            )


@dataclass
class PersonDetection:
    """One person found in a frame (image pixels, corner at 0, pixel centres at +0.5).

    ``box_xyxy_px`` is the bounding square of the full-body circle that mediapipe builds
    Pose's region from: centred on the hip centre, half-side the body's radius (hip centre
    to the body circle point), clipped to the frame. It is square, so much wider than a
    standing person (on synthetic actors: side 1.07 x the person's height, median; IoU
    with the tight person box 0.35, median), but it holds the whole body (94 % or more of
    the tight box in 9 of 10 cases), raised arms included, and it stays put as limbs
    move: what a tracker and a crop want. The model's own box is the face:
    ``face_box_xyxy_px``. Pose's region (mediapipe's ``PoseDetectionToRoi``): centre
    ``keypoints_px[0]``, side 2.5 x :attr:`body_radius_px`, turned by :attr:`rotation_rad`
    (``landmarks.Roi.around_body(keypoints_px[0], keypoints_px[1])``).
    """

    box_xyxy_px: np.ndarray
    """(4,) float64: x0, y0, x1, y1 of the full-body circle's bounding square, clipped to the frame"""
    score: float
    """detector probability in [min_score, 1] (``region_min_score`` in a caller's region,
    ``weak_score`` when :attr:`weak`): the best over the passes that found this person"""
    keypoints_px: np.ndarray
    """(4, 2) float64 x, y: hip centre, full-body circle point, shoulder centre, upper-body
    circle point (:data:`KEYPOINT_NAMES`); may lie outside the frame"""
    face_box_xyxy_px: np.ndarray
    """(4,) float64: the model's box, around the face (not clipped)"""
    views: int = 1
    """how many passes (whole frame, tiles) found this person"""
    weak: bool = False
    """scored under ``min_score`` (at least ``DetectorConfig.weak_score``), outside the caller's regions"""

    @property
    def hip_centre_px(self) -> np.ndarray:
        """(2,) the centre of the body circle"""
        return self.keypoints_px[HIP_CENTRE]

    @property
    def body_radius_px(self) -> float:
        """radius of the circle around the full body, pixels"""
        return float(np.linalg.norm(self.keypoints_px[BODY_CIRCLE] - self.keypoints_px[HIP_CENTRE]))

    @property
    def rotation_rad(self) -> float:
        """mediapipe's region rotation (``NormalizedRect.rotation``): how far the body's
        axis (hips towards the head) is turned from straight up, clockwise on screen
        positive (the head leaning right), in [-pi, pi)"""
        dx, dy = self.keypoints_px[BODY_CIRCLE] - self.keypoints_px[HIP_CENTRE]
        angle = math.pi / 2 - math.atan2(-dy, dx)
        return (angle + math.pi) % (2 * math.pi) - math.pi


# ------------------------------------------------------------------------- the model


def default_model_path() -> Path:
    """``pose_detection.tflite`` inside the installed mediapipe 0.10.21 wheel."""
    return mediapipe_model("pose_detection/pose_detection.tflite")


def ssd_anchors() -> np.ndarray:
    """(2254, 2) anchor centres (x, y), normalised to the model input (0..1), in the
    order of the model's outputs: per feature map (28, 14, 7), row-major cells, and per
    cell the anchors of every layer sharing that stride. Their size is fixed to 1."""
    centres = []
    layer = 0
    while layer < len(_ANCHOR_STRIDES):
        stride = _ANCHOR_STRIDES[layer]
        same = sum(1 for s in _ANCHOR_STRIDES[layer:] if s == stride)  # consecutive layers of this stride
        cells = math.ceil(INPUT_PX / stride)
        grid = (np.arange(cells) + _ANCHOR_OFFSET) / cells
        y, x = np.meshgrid(grid, grid, indexing="ij")
        xy = np.stack([x.ravel(), y.ravel()], 1)
        centres.append(np.repeat(xy, same * _ANCHORS_PER_LAYER, axis=0))
        layer += same
    anchors = np.concatenate(centres)
    assert len(anchors) == NUM_ANCHORS, len(anchors)  # a fact of the model, not of the input
    return anchors


def decode(
    regressors: np.ndarray, logits: np.ndarray, anchors: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The model's raw outputs as scores (N,), face boxes (N, 4) x0 y0 x1 y1 and keypoints
    (N, 4, 2) x y, boxes and keypoints normalised to the model input (0..1, corner at 0).

    ``regressors`` (N, 12), ``logits`` (N,) or (N, 1), ``anchors`` (N, 2) (rows of
    :func:`ssd_anchors`; any subset, in the same order as the rows)."""
    reg = regressors.astype(np.float64) / INPUT_PX
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits.reshape(-1).astype(np.float64), -100.0, 100.0)))
    centre = reg[:, 0:2] + anchors
    half = reg[:, 2:4] / 2
    boxes = np.concatenate([centre - half, centre + half], 1)
    keypoints = reg[:, 4:12].reshape(-1, 4, 2) + anchors[:, None, :]
    return scores, boxes, keypoints


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one (4,) xyxy box with each of (N, 4) boxes: (N,)."""
    inter = _intersection(box, boxes)
    union = _area(box) + _area(boxes) - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def _area(boxes: np.ndarray) -> np.ndarray:
    return np.clip(boxes[..., 2] - boxes[..., 0], 0, None) * np.clip(boxes[..., 3] - boxes[..., 1], 0, None)


def _intersection(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    lo = np.maximum(box[:2], boxes[:, :2])
    hi = np.minimum(box[2:], boxes[:, 2:])
    return np.prod(np.clip(hi - lo, 0, None), axis=1)


def weighted_nms(scores: np.ndarray, boxes: np.ndarray, iou: float) -> list[np.ndarray]:
    """mediapipe's weighted non-maximum suppression: groups of indices, best first. Each
    group is the best remaining detection and every remaining one whose box overlaps it
    by IoU > ``iou``; the group stands for one detection, the score-weighted mean of its
    members (see :func:`_weighted_mean`) with the best one's score."""
    order = np.argsort(-scores, kind="stable")
    groups = []
    while order.size:
        overlap = box_iou(boxes[order[0]], boxes[order])
        same = overlap > iou
        same[0] = True
        groups.append(order[same])
        order = order[~same]
    return groups


def _weighted_mean(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    w = weights.reshape((-1,) + (1,) * (values.ndim - 1))
    return (values * w).sum(0) / weights.sum()


# ------------------------------------------------------------------------ the passes


@dataclass(frozen=True)
class _Level:
    """The frame scaled by (kx, ky) to (w, h) pixels; its passes are 224 x 224 windows at
    integer offsets ``origins`` (x, y) in the scaled image (negative or overflowing parts
    are zero: the letterbox)."""

    name: str
    w: int
    h: int
    origins: tuple[tuple[int, int], ...]
    fraction: float | None = None
    """the tile level's entry of ``DetectorConfig.tile_fractions``; None: the whole frame"""

    def scale(self, width: int, height: int) -> tuple[float, float]:
        return self.w / width, self.h / height


def _positions(length: int, overlap: float) -> list[int]:
    """Window origins along an axis of ``length`` scaled pixels, spread evenly from edge to
    edge with at least ``overlap`` of a window shared by neighbours (one centred window
    when it is longer than the axis)."""
    if length <= INPUT_PX:
        return [-((INPUT_PX - length) // 2)]
    n = math.ceil((length - INPUT_PX) / (INPUT_PX * (1.0 - overlap)) - 1e-9) + 1
    return sorted({int(round(p)) for p in np.linspace(0, length - INPUT_PX, n)})


def plan_levels(width: int, height: int, cfg: DetectorConfig) -> list[_Level]:
    """The passes over a ``width`` x ``height`` frame: the whole frame letterboxed, then
    each tile level of ``cfg`` that differs from it and is not too fine."""
    k = INPUT_PX / max(width, height)
    w, h = max(1, round(width * k)), max(1, round(height * k))
    levels = [_Level("frame", w, h, ((-((INPUT_PX - w) // 2), -((INPUT_PX - h) // 2)),))]
    if not cfg.tiles:
        return levels
    for fraction in cfg.tile_fractions:
        side = fraction * min(width, height)
        if side < cfg.min_tile_px or side > 0.9 * max(width, height):
            continue  # too blurred, or the whole frame again
        k = INPUT_PX / side
        w, h = round(width * k), round(height * k)
        origins = tuple((x, y) for y in _positions(h, cfg.tile_overlap) for x in _positions(w, cfg.tile_overlap))
        levels.append(_Level(f"tiles {fraction:g}", w, h, origins, fraction))
    return levels


@dataclass
class _Candidate:
    """A detection of one pass, in frame pixels."""

    score: float
    face: np.ndarray
    """(4,) the model's (face) box"""
    keypoints: np.ndarray
    """(4, 2)"""
    window: np.ndarray
    """(4,) x0, y0, x1, y1: the part of the frame the pass saw (an edge past the frame's
    edge is moved to infinity: nothing is cut there that the frame does not cut)"""
    zoom: float
    """model pixels per frame pixel of the pass (finer passes see more detail)"""
    level: str = ""
    pass_id: int = -1
    """which pass of the frame found it: one pass's detections are distinct people (its
    suppression already joined each person's)"""

    @property
    def face_centre(self) -> np.ndarray:
        return (self.face[:2] + self.face[2:]) / 2

    @property
    def radius(self) -> float:
        return float(np.linalg.norm(self.keypoints[BODY_CIRCLE] - self.keypoints[HIP_CENTRE]))

    def sees_whole(self, radius: float) -> bool:
        """Whether a body circle of ``radius`` around this candidate's hip centre lies in
        the pass's window."""
        centre = self.keypoints[HIP_CENTRE]
        return bool(np.all(centre - radius >= self.window[:2]) and np.all(centre + radius <= self.window[2:]))


# ------------------------------------------------------------------------ the detector


class PoseDetector:
    """mediapipe's pose detector over the whole frame and tiles; see the module docstring.

    Load once, then call :meth:`detect` per frame. Not thread-safe (one interpreter)."""

    def __init__(self, cfg: DetectorConfig | None = None) -> None:
        self.cfg = cfg or DetectorConfig()
        self.cfg.check()
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:
            raise ReshootError(
                f"ai-edge-litert is not installed ({exc}); `pip install ai-edge-litert` runs the detector"
            ) from None
        path = Path(self.cfg.model_path) if self.cfg.model_path else default_model_path()
        if not path.is_file():
            raise ReshootError(
                f"the pose detector model {path} is missing; reshoot needs mediapipe==0.10.21 "
                "(the last wheel that ships its models) or DetectorConfig.model_path"
            )
        self._net = Interpreter(model_path=str(path), num_threads=self.cfg.num_threads)
        self._net.allocate_tensors()
        (inp,) = self._net.get_input_details()
        if tuple(inp["shape"]) != (1, INPUT_PX, INPUT_PX, 3) or inp["dtype"] != np.float32:
            raise ReshootError(
                f"{path} takes {tuple(inp['shape'])} {inp['dtype']}, expected (1, 224, 224, 3) float32: "
                "not mediapipe's pose detector"
            )
        self._input = inp["index"]
        by_shape = {tuple(d["shape"]): d["index"] for d in self._net.get_output_details()}
        try:
            self._regressors, self._logits = by_shape[(1, NUM_ANCHORS, 12)], by_shape[(1, NUM_ANCHORS, 1)]
        except KeyError:
            raise ReshootError(f"{path} outputs {sorted(by_shape)}, expected (1, 2254, 12) and (1, 2254, 1)") from None
        self._anchors = ssd_anchors()
        self._levels: dict[tuple[int, int], list[_Level]] = {}
        self.last_passes = 0
        """passes the last :meth:`detect` ran"""
        self._passes = 0  # passes run so far: each candidate's pass_id

    # ------------------------------------------------------------------------- running

    def run_model(self, window: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One pass on a (224, 224, 3) uint8 RGB window: the raw (2254, 12) regressors and
        (2254,) score logits (see :func:`decode`)."""
        self._net.set_tensor(self._input, (window.astype(np.float32) * (2.0 / 255.0) - 1.0)[None])
        self._net.invoke()
        return self._net.get_tensor(self._regressors)[0], self._net.get_tensor(self._logits)[0, :, 0]

    def detect(self, rgb: np.ndarray, regions: Sequence[tuple[float, float, float]] = (),
               tile_fractions: Collection[float] | None = None) -> list[PersonDetection]:  # fmt: skip
        """Every person in one frame ``rgb`` (H, W, 3) uint8 RGB, best score first.

        ``regions``: squares ``(centre x, centre y, side)`` in frame pixels to look at
        besides the planned passes, one pass each (where a tracker expects someone: a
        person at the frame's edge or cut by its bottom scores low in the whole frame and
        may fall between tiles, but is found in a window about one and a half times their
        size). ``tile_fractions``: the tile levels (entries of ``cfg.tile_fractions``) to
        look with this time, besides the whole frame; None: all of them."""
        import cv2

        if not isinstance(rgb, np.ndarray):
            raise InputError(
                f"PoseDetector.detect: expected an (H, W, 3) uint8 numpy RGB image, received {type(rgb).__name__}"
            )
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] < 2 or rgb.shape[1] < 2:
            raise ShapeError(f"PoseDetector.detect: expected an (H, W, 3) RGB image, received shape {rgb.shape}")
        if rgb.dtype != np.uint8:
            raise InputError(
                f"PoseDetector.detect: expected a uint8 image (0..255), received {rgb.dtype}; convert it first"
            )
        H, W = rgb.shape[:2]
        levels = self._levels.get((W, H))
        if levels is None:
            levels = self._levels[(W, H)] = plan_levels(W, H, self.cfg)
            log.debug("detector passes at %dx%d: %s", W, H, [(lv.name, len(lv.origins)) for lv in levels])
        if tile_fractions is not None:
            unknown = set(tile_fractions) - set(self.cfg.tile_fractions)
            if unknown:
                raise InputError(f"PoseDetector.detect: no tile level {sorted(unknown)}; "
                                 f"the detector's are {self.cfg.tile_fractions}")  # fmt: skip
            levels = [lv for lv in levels if lv.fraction is None or lv.fraction in tile_fractions]
        t0 = time.perf_counter()
        candidates: list[_Candidate] = []
        window = np.zeros((INPUT_PX, INPUT_PX, 3), np.uint8)
        for level in levels:
            kx, ky = level.scale(W, H)
            if (level.w, level.h) == (W, H):
                scaled = rgb
            else:  # area averaging: no aliasing when a frame shrinks several times
                scaled = cv2.resize(rgb, (level.w, level.h), interpolation=cv2.INTER_AREA)
            for ox, oy in level.origins:
                window[:] = 0
                x0, y0 = max(ox, 0), max(oy, 0)
                x1, y1 = min(ox + INPUT_PX, level.w), min(oy + INPUT_PX, level.h)
                window[y0 - oy : y1 - oy, x0 - ox : x1 - ox] = scaled[y0:y1, x0:x1]
                candidates += self._pass(window, level.name, (ox, oy), (kx, ky), (W, H))
        for region in regions:
            candidates += self._region_pass(rgb, region, window)
        self.last_passes = sum(len(lv.origins) for lv in levels) + len(regions)
        people = self._merge(candidates, W, H)
        log.debug("detector: %d passes, %d candidates, %d people in %.1f ms",
                  self.last_passes, len(candidates), len(people), 1e3 * (time.perf_counter() - t0))  # fmt: skip
        return people

    __call__ = detect

    def _region_pass(self, rgb: np.ndarray, region: tuple[float, float, float], window: np.ndarray) -> list[_Candidate]:
        """One pass over the square ``region`` (centre x, centre y, side; at least
        ``min_tile_px``) of ``rgb``, its part outside the frame black as the letterbox."""
        import cv2

        H, W = rgb.shape[:2]
        cx, cy, side = region
        side = max(int(round(side)), int(math.ceil(self.cfg.min_tile_px)))
        x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
        k = INPUT_PX / side  # model pixels per frame pixel
        cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x0 + side, W), min(y0 + side, H)
        window[:] = 0
        if cx1 <= cx0 or cy1 <= cy0:
            return []
        # the square's pixel (x, y) lands at model pixel (x - x0) * k; round the pasted block's edges the same way
        px0, py0 = round((cx0 - x0) * k), round((cy0 - y0) * k)
        px1, py1 = min(round((cx1 - x0) * k), INPUT_PX), min(round((cy1 - y0) * k), INPUT_PX)
        if px1 <= px0 or py1 <= py0:
            return []
        interp = cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR
        window[py0:py1, px0:px1] = cv2.resize(rgb[cy0:cy1, cx0:cx1], (px1 - px0, py1 - py0), interpolation=interp)
        return self._pass(window, "region", (x0 * k, y0 * k), (k, k), (W, H))

    def _pass(self, window: np.ndarray, name: str, origin: tuple[int, int], scale: tuple[float, float],
              size: tuple[int, int]) -> list[_Candidate]:  # fmt: skip
        """One pass's detections (weighted NMS within the pass), in frame pixels."""
        regressors, logits = self.run_model(window)
        threshold = min(self.cfg.candidate_score, self.cfg.min_score, self.cfg.region_min_score, self.cfg.weak_score or 1.0)
        keep = logits >= math.log(threshold / (1.0 - threshold))  # sigmoid(logit) >= threshold
        scores, boxes, keypoints = decode(regressors[keep], logits[keep], self._anchors[keep])
        valid = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        if not valid.any():
            return []
        scores, boxes, keypoints = scores[valid], boxes[valid], keypoints[valid]
        # window (normalised) -> scaled image pixels -> frame pixels
        ox, oy = origin
        kx, ky = scale
        W, H = size
        to_frame = np.array([INPUT_PX / kx, INPUT_PX / ky])
        offset = np.array([ox / kx, oy / ky])
        lo, hi = offset, offset + to_frame  # the window, in the frame
        seen = np.concatenate([lo, hi])
        seen[:2][lo <= 0] = -np.inf
        seen[2:][hi >= [W, H]] = np.inf
        out = []
        for group in weighted_nms(scores, boxes, self.cfg.nms_iou):
            w = scores[group]
            face = _weighted_mean(boxes[group], w).reshape(2, 2) * to_frame + offset
            kpts = _weighted_mean(keypoints[group], w) * to_frame + offset
            out.append(_Candidate(float(scores[group[0]]), face.reshape(4), kpts, seen, float(kx), name, self._passes))
        self._passes += 1
        return out

    def _merge(self, candidates: list[_Candidate], W: int, H: int) -> list[PersonDetection]:
        """One detection per person from the candidates of all passes.

        Best score first, a candidate joins the first group whose best candidate's face
        centre lies within ``merge_distance`` x the smaller of their body radii and that
        holds nothing of the candidate's own pass (two people one pass told apart, one
        half hidden behind the other, stay two). A group with a best score of
        ``min_score`` or more (``region_min_score`` when a region's pass is in it;
        ``weak_score``, marked weak, otherwise) becomes the score-weighted mean of its
        members from the finest pass that saw the whole body circle (finer passes see
        more detail; a pass that cut the body guesses the hips), with that best score."""
        candidates = sorted(candidates, key=lambda c: -c.score)
        groups: list[list[_Candidate]] = []
        for cand in candidates:
            for group in groups:
                seed = group[0]
                reach = self.cfg.merge_distance * min(cand.radius, seed.radius)
                if np.linalg.norm(cand.face_centre - seed.face_centre) < reach and all(
                    c.pass_id != cand.pass_id for c in group
                ):
                    group.append(cand)
                    break
            else:
                groups.append([cand])
        def confirmed(g: list[_Candidate]) -> bool:
            return g[0].score >= self.cfg.min_score or (
                g[0].score >= self.cfg.region_min_score and any(c.level == "region" for c in g))  # fmt: skip

        weak_score = self.cfg.weak_score if self.cfg.weak_score is not None else np.inf
        kept = [(g, not confirmed(g)) for g in groups if confirmed(g) or g[0].score >= weak_score]
        people = []
        for group, weak in kept[: self.cfg.max_people]:
            # a pass that cut the body may see a smaller person (hips at the chest), a
            # coarse pass may blend two neighbours into one larger one: judge "whole" by
            # the median body the passes saw
            radius = float(np.median([c.radius for c in group]))
            whole = [c for c in group if c.sees_whole(radius)] or group
            finest = max(c.zoom for c in whole)
            members = [c for c in whole if c.zoom >= finest * 0.999]
            w = np.array([c.score for c in members])
            kpts = _weighted_mean(np.stack([c.keypoints for c in members]), w)
            face = _weighted_mean(np.stack([c.face for c in members]), w)
            centre = kpts[HIP_CENTRE]
            radius = float(np.linalg.norm(kpts[BODY_CIRCLE] - centre))
            box = np.clip(np.concatenate([centre - radius, centre + radius]), 0.0, [W, H, W, H])
            people.append(PersonDetection(box_xyxy_px=box, score=group[0].score, keypoints_px=kpts,
                                          face_box_xyxy_px=face, views=len(group), weak=weak))  # fmt: skip
        return people
