"""Does a real person detector see the synthetic actors? mediapipe Pose (its bundled
model) run on each fully visible actor, against the ground truth.

This is a check of the synthetic shots' realism, not the perception stage: it is told
where each actor is (a crop around the ground-truth box, as a tracker would give it)
and asks whether mediapipe finds a person there, on the right body.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from reshoot.errors import ReshootError
from reshoot.shot import Shot


@dataclass
class DetectionReport:
    visible: int
    """actor-frames in which an actor is fully visible"""
    found: int
    """of those, the ones where mediapipe found that actor"""
    median_error_px: float
    """median 2D landmark error of the found poses (visible landmarks, pixels)"""

    @property
    def rate(self) -> float:
        return self.found / self.visible if self.visible else float("nan")


def fully_visible(shot: Shot, k: int, t: int, margin_px: float = 2.0, min_seen: float = 0.9) -> bool:
    """Actor ``k`` is whole in frame ``t``: its body's box is inside the image and at least
    ``min_seen`` of its landmarks are not hidden by someone else."""
    obs = shot.actors[k].observations
    x0, y0, x1, y1 = obs.boxes_xyxy_px[t]
    W, H = shot.video.width, shot.video.height
    inside = x0 >= margin_px and y0 >= margin_px and x1 <= W - margin_px and y1 <= H - margin_px and x1 > x0
    return bool(inside and obs.kpts_conf[t].mean() >= min_seen)


def _crop(box: np.ndarray, W: int, H: int, pad: float = 0.1) -> tuple[int, int, int, int]:
    """A tight crop around a person box, padded by ``pad`` of its size, clipped to the image.
    (Tight: on a loose crop that takes in a neighbour, Pose often locks onto the neighbour.)"""
    x0, y0, x1, y1 = box
    px, py = pad * (x1 - x0), pad * (y1 - y0)
    return max(int(x0 - px), 0), max(int(y0 - py), 0), min(int(np.ceil(x1 + px)), W), min(int(np.ceil(y1 + py)), H)


def detection_report(shot: Shot, frames: list[np.ndarray], max_error: float = 0.1) -> DetectionReport:
    """Run mediapipe Pose (``model_complexity=1``, the bundled model, each frame on its own)
    on a crop around every fully visible actor of ``shot``.

    ``frames``: the decoded RGB frames (T of (H, W, 3) uint8). An actor counts as found
    when mediapipe returns a pose whose visible landmarks lie, in the median, within
    ``max_error`` of the actor's box height of the ground truth (so a pose locked on a
    neighbour does not count).
    """
    os.environ.setdefault("GLOG_minloglevel", "2")  # mediapipe's C++ logs: warnings and above only
    try:
        from mediapipe.python.solutions import pose as mp_pose
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ReshootError(f"mediapipe is not installed ({exc}); run `make install`") from exc
    if len(frames) != shot.num_frames:
        raise ReshootError(f"the video has {len(frames)} frames, the shot {shot.num_frames}")
    W, H = shot.video.width, shot.video.height
    visible = found = 0
    errors: list[float] = []
    with mp_pose.Pose(static_image_mode=True, model_complexity=1, enable_segmentation=False) as pose:
        for k, actor in enumerate(shot.actors):
            obs = actor.observations
            for t in range(shot.num_frames):
                if not fully_visible(shot, k, t):
                    continue
                visible += 1
                x0, y0, x1, y1 = _crop(obs.boxes_xyxy_px[t], W, H)
                result = pose.process(np.ascontiguousarray(frames[t][y0:y1, x0:x1]))
                if result.pose_landmarks is None:
                    continue
                lm = np.array([[p.x * (x1 - x0) + x0, p.y * (y1 - y0) + y0] for p in result.pose_landmarks.landmark])
                seen = obs.kpts_conf[t] > 0
                err = np.linalg.norm(lm[seen] - obs.kpts2d_px[t, seen], axis=1)
                box_h = obs.boxes_xyxy_px[t, 3] - obs.boxes_xyxy_px[t, 1]
                if np.median(err) <= max_error * box_h:
                    found += 1
                    errors.append(float(np.median(err)))
    return DetectionReport(visible=visible, found=found, median_error_px=float(np.median(errors)) if errors else float("nan"))
