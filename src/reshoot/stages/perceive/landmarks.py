"""33 body landmarks and a person mask from a region of interest: mediapipe's bundled
``pose_landmark_full.tflite`` run directly (ai-edge-litert), one person per call.

mediapipe's own Pose follows one person; running its landmark model ourselves lets
reshoot follow every track with its own region, and gives each person a segmentation
mask in that region. The region follows mediapipe's convention: a square around the
hips, turned so that the body's axis (hips towards the head) points up in the crop, its
side 1.25 x the diameter of the circle the detector (or the previous frame's landmarks)
puts around the body.

The landmarks are read twice, from the crop and from its mirror image (``MIRROR``): the
model's two guesses of a pose, the second's left and right swapped back, are averaged.
Its errors are mostly its own bias for what it sees, not noise from frame to frame
(smoothing its 3D guess over 1-4 frames leaves it within 1-3 mm), and a mirror image is
what it sees differently: on five shots of the standard suite's renders (push-in-1p,
pull-out-1p, pan-1p, pan-2p, arc-2p) its 3D guess of the 12 limb joints came 3-4 mm
nearer the truth on each (PA-MPJPE 62.8 -> 59.3, 97.6 -> 94.3, 48.6 -> 44.3, 58.2 ->
54.2, 54.4 -> 51.1 mm) and its 2D keypoints 0.3-0.5 px (push-in-1p, pan-1p, pan-2p:
medians 4.36 -> 3.88, 5.39 -> 5.04, 5.20 -> 4.93 px at 960x540; 4.86 -> 4.59 px over the
suite's 16 shots, the bench's runs before and after), for a second pass of the model
(perceive 67 -> 75 ms a frame on the suite). The two readings are averaged landmark by
landmark even where they put a limb on opposite sides (a leg in profile, which the model
may take for either; a fifth of the readings on pan-2p and arc-2p): matching the
mirror's sides to the crop's first came out worse in 3D on push-in-1p (59.3 -> 62.6 mm)
and within 0.7 mm on the others. Its mask, visibility and presence are the crop's (the
mirror's mean moved the mask IoU by 0.002).

Coordinates: image pixels, corner at (0, 0), pixel centres at +0.5.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reshoot.errors import ReshootError, ShapeError
from reshoot.keypoints import MEDIAPIPE33
from reshoot.stages.perceive.models import mediapipe_model

log = logging.getLogger(__name__)


def _mirrored(name: str) -> str:
    """A landmark's name on the body's other side (itself on the middle line)."""
    for a, b in (("left", "right"), ("right", "left")):
        if name.startswith(a + "_") or name.endswith("_" + a):
            return name.replace(a, b)
    return name


INPUT_PX = 256
"""the landmark model's square input (and segmentation) size"""
ROI_SCALE = 1.25
"""side of the region / diameter of the body circle (mediapipe's pose_detection_to_roi)"""
NUM_LANDMARKS = 33
AUX_HIPS, AUX_SCALE = 33, 34
"""auxiliary landmarks: the hip centre and a point on the body circle (the next region)"""
MIRROR = np.array([MEDIAPIPE33.index(_mirrored(n)) for n in MEDIAPIPE33])
"""mediapipe's 33 landmarks as a mirror image shows them: each one's other side"""


def model_path() -> Path:
    """The landmark model inside the mediapipe 0.10.21 wheel."""
    return mediapipe_model("pose_landmark/pose_landmark_full.tflite")


@dataclass(frozen=True)
class Roi:
    """A square region of the image, turned: where a person's landmarks are looked for."""

    centre_px: tuple[float, float]
    size_px: float
    """side length"""
    up: tuple[float, float]
    """unit vector, image axes: the crop's up direction (the body's axis, hips to head)"""

    @staticmethod
    def around_body(hips_px: np.ndarray, circle_px: np.ndarray, scale: float = ROI_SCALE) -> Roi:
        """The region of a body circle: centred on the hips, its radius the distance to
        ``circle_px`` (a point on the circle along the body's axis, towards the head)."""
        axis = np.asarray(circle_px, float) - np.asarray(hips_px, float)
        radius = float(np.linalg.norm(axis))
        if not np.isfinite(radius) or radius < 1e-3:
            raise ShapeError(f"a body circle needs two distinct points, received {hips_px} and {circle_px}")
        up = axis / radius
        return Roi((float(hips_px[0]), float(hips_px[1])), 2 * radius * scale, (float(up[0]), float(up[1])))

    def crop_to_image(self) -> np.ndarray:
        """(2, 3) affine map from crop coordinates (0..INPUT_PX, corner at 0) to image ones."""
        ux, uy = self.up
        x_axis, y_axis = np.array([-uy, ux]), np.array([-ux, -uy])  # crop right, crop down
        k = self.size_px / INPUT_PX
        A = np.stack([x_axis * k, y_axis * k], 1)
        b = np.asarray(self.centre_px) - A @ np.array([INPUT_PX / 2, INPUT_PX / 2])
        return np.concatenate([A, b[:, None]], 1)


def _warp(image: np.ndarray, dst_to_src: np.ndarray, size_wh: tuple[int, int], interp: int) -> np.ndarray:
    """cv2.warpAffine with a map between continuous coordinates (corner at 0): cv2 samples
    at integer pixel centres, so shift by half a pixel on both sides."""
    import cv2

    A, b = dst_to_src[:, :2], dst_to_src[:, 2]
    M = np.concatenate([A, (b + A @ np.array([0.5, 0.5]) - 0.5)[:, None]], 1)
    return cv2.warpAffine(image, M, size_wh, flags=interp | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -60, 60)))


@dataclass
class PoseEstimate:
    """One person's landmarks in one frame."""

    kpts_px: np.ndarray
    """(33, 2) image pixels, mediapipe's BlazePose order (``reshoot.keypoints.MEDIAPIPE33``)"""
    visibility: np.ndarray
    """(33,) in [0, 1]: how likely the point is seen (not hidden)"""
    presence: np.ndarray
    """(33,) in [0, 1]: how likely the point is inside the image"""
    score: float
    """in [0, 1]: how likely the region holds a person at all"""
    roi: Roi
    next_roi: Roi
    """the region this frame's landmarks give for the next frame"""
    mask_crop: np.ndarray
    """(INPUT_PX, INPUT_PX) float32 person probability in the region's crop"""
    world_m: np.ndarray | None = None
    """(33, 3) the model's metric 3D landmarks: centred between the hips, metres, in the
    axes of its view of the crop (turned upright to the image's: x right, y down, z along
    the ray through the crop, which is centred on the hips; ``ActorObservations.kpts3d_m``)"""

    def mask(self, width: int, height: int) -> np.ndarray:
        """(H, W) float32 person probability in the image (0 outside the region)."""
        import cv2

        image_to_crop = cv2.invertAffineTransform(self.roi.crop_to_image())
        return _warp(self.mask_crop, image_to_crop, (width, height), cv2.INTER_LINEAR)


class PoseLandmarker:
    """The landmark model, loaded once; :meth:`estimate` runs it on one region."""

    def __init__(self, threads: int = 1, mirror: bool = True) -> None:
        """``mirror``: read the landmarks from the crop's mirror image too and average
        (module docstring); off, the crop's alone."""
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ReshootError(f"ai-edge-litert is not installed ({exc}); run `make install`") from exc
        self._net = Interpreter(model_path=str(model_path()), num_threads=threads)
        self._net.allocate_tensors()
        self._input = self._net.get_input_details()[0]["index"]
        by_shape = {tuple(d["shape"]): d["index"] for d in self._net.get_output_details()}
        self._landmarks = by_shape[(1, 5 * (NUM_LANDMARKS + 6))]  # x, y, z, visibility, presence of 39 points
        self._flag = by_shape[(1, 1)]  # a person is in the region (probability)
        self._segmentation = by_shape[(1, INPUT_PX, INPUT_PX, 1)]  # person mask (logits)
        self._world = by_shape[(1, 3 * (NUM_LANDMARKS + 6))]  # metric landmarks of 39 points, hip-centred, crop axes
        self.mirror = mirror

    def _run(self, crop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The model on a crop (INPUT_PX square, uint8 RGB): its raw landmarks (39, 5:
        x, y, z crop px, visibility and presence logits) and world landmarks (33, 3: crop
        axes, metres)."""
        self._net.set_tensor(self._input, (crop.astype(np.float32) / 255.0)[None])
        self._net.invoke()
        raw = self._net.get_tensor(self._landmarks).reshape(-1, 5).astype(np.float64)
        world = self._net.get_tensor(self._world).reshape(-1, 3)[:NUM_LANDMARKS].astype(np.float64)
        return raw, world

    def _mirror_reading(self, crop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The model's landmarks in the crop's mirror image, put back in the crop: (33, 2)
        crop px and (33, 3) world, each landmark where the mirror saw its other side."""
        raw, world = self._run(np.ascontiguousarray(crop[:, ::-1]))
        xy = raw[:NUM_LANDMARKS, :2][MIRROR]
        xy[:, 0] = INPUT_PX - xy[:, 0]  # continuous coordinates, corner at 0
        world = world[MIRROR]
        world[:, 0] = -world[:, 0]
        return xy, world

    def estimate(self, rgb: np.ndarray, roi: Roi) -> PoseEstimate:
        """Landmarks and mask of the person in ``roi`` of the image ``rgb`` (H, W, 3) uint8."""
        import cv2

        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ShapeError(f"PoseLandmarker.estimate: expected an (H, W, 3) uint8 RGB image, received {rgb.shape} {rgb.dtype}")
        M = roi.crop_to_image()
        crop = _warp(rgb, M, (INPUT_PX, INPUT_PX), cv2.INTER_LINEAR)
        raw, world = self._run(crop)  # x, y, z, visibility, presence (crop px); world: crop axes
        score = float(self._net.get_tensor(self._flag).ravel()[0])  # already a probability (mediapipe thresholds it raw)
        mask_crop = _sigmoid(self._net.get_tensor(self._segmentation)[0, :, :, 0]).astype(np.float32)
        xy_crop = raw[:, :2].copy()
        if self.mirror:  # the 33 landmarks (not the auxiliary region points): the two readings' mean
            xy_mirror, world_mirror = self._mirror_reading(crop)
            xy_crop[:NUM_LANDMARKS] = 0.5 * (xy_crop[:NUM_LANDMARKS] + xy_mirror)
            world = 0.5 * (world + world_mirror)
        xy = xy_crop @ M[:, :2].T + M[:, 2]
        next_roi = Roi.around_body(xy[AUX_HIPS], xy[AUX_SCALE])
        # world landmarks: the crop's axes turned back to the image's (mediapipe's WorldLandmarkProjection)
        crop_axes = M[:, :2] / np.linalg.norm(M[:, 0])  # columns: the crop's right and down, in image axes
        world[:, :2] = world[:, :2] @ crop_axes.T
        return PoseEstimate(kpts_px=xy[:NUM_LANDMARKS], visibility=_sigmoid(raw[:NUM_LANDMARKS, 3]),
                            presence=_sigmoid(raw[:NUM_LANDMARKS, 4]), score=score, roi=roi, next_roi=next_roi,
                            mask_crop=mask_crop, world_m=world)  # fmt: skip
