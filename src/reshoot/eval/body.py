"""Body joint errors in 3D: W-MPJPE (world, one rigid alignment for the whole shot),
PA-MPJPE (per frame and person, similarity Procrustes) and foot skating, on the 14 major
joints (``BODY_JOINTS``: the usual LSP-style set, so that numbers compare across papers);
and which way each body faces as the camera sees it (``heading_deg``), which PA-MPJPE
aligns away and W-MPJPE mixes with everything else."""

from __future__ import annotations

import numpy as np
import torch

from reshoot.errors import ShapeError
from reshoot.geometry import umeyama

#: anny bone heads of the 14 major joints: hips, knees, ankles, shoulders, elbows, wrists, neck, head.
BODY_JOINTS = (
    "upperleg01.L", "upperleg01.R", "lowerleg01.L", "lowerleg01.R", "foot.L", "foot.R", "upperarm01.L",
    "upperarm01.R", "lowerarm01.L", "lowerarm01.R", "wrist.L", "wrist.R", "neck01", "head",
)  # fmt: skip
FEET = ("foot.L", "foot.R")
HIPS = (("upperleg01.L", "upperleg01.R"), ("left_hip", "right_hip"))
"""left and right hip joints, by the names of anny's rig or of a COCO-style skeleton"""
PLANTED_MM = 5.0
"""a reference foot that moves less than this between frames is planted"""


def _check(pred: np.ndarray, ref: np.ndarray, valid: np.ndarray) -> None:
    if pred.shape != ref.shape or pred.shape[-1] != 3 or valid.shape != pred.shape[:-1]:
        raise ShapeError(
            f"3D joints: predicted {pred.shape}, reference {ref.shape}, valid {valid.shape}; "
            "expected (..., J, 3), (..., J, 3), (..., J)"
        )


def w_mpjpe_mm(pred_world: np.ndarray, ref_world: np.ndarray, valid: np.ndarray) -> float | None:
    """Mean joint error in millimetres after ONE rigid (rotation + translation, no scale)
    alignment of all valid joints: the estimate's world frame is arbitrary up to a rigid
    motion, but its metric scale and every actor's placement must be right.

    ``pred_world``, ``ref_world``: ``(..., J, 3)`` metres; ``valid``: ``(..., J)``.
    """
    _check(pred_world, ref_world, valid)
    p, r = pred_world[valid], ref_world[valid]
    if len(p) < 3:
        return None
    sim = umeyama(torch.from_numpy(p)[None], torch.from_numpy(r)[None], with_scale=False)
    aligned = sim.apply(torch.from_numpy(p)[None])[0].numpy()
    return float(1000.0 * np.linalg.norm(aligned - r, axis=-1).mean())


def pa_mpjpe_mm(pred: np.ndarray, ref: np.ndarray, valid: np.ndarray) -> float | None:
    """Mean joint error in millimetres after a similarity (Procrustes) alignment of each
    pose ``(J, 3)`` on its own: the error of the body's articulation alone.

    ``pred``, ``ref``: ``(N, J, 3)``; ``valid``: ``(N, J)``; poses with fewer than 3 valid
    joints are skipped.
    """
    _check(pred, ref, valid)
    errors = []
    for p, r, v in zip(pred, ref, valid):
        if v.sum() < 3:
            continue
        sim = umeyama(torch.from_numpy(p[v])[None], torch.from_numpy(r[v])[None], with_scale=True)
        aligned = sim.apply(torch.from_numpy(p[v])[None])[0].numpy()
        errors.append(np.linalg.norm(aligned - r[v], axis=-1))
    return float(1000.0 * np.concatenate(errors).mean()) if errors else None


def foot_skate_mm(pred_feet: np.ndarray, ref_feet: np.ndarray, valid: np.ndarray) -> float | None:
    """Mean horizontal slide of the estimated feet, millimetres per frame, over the frames
    where the reference foot is planted (moves less than ``PLANTED_MM``).

    ``pred_feet``, ``ref_feet``: ``(T, F, 3)`` world metres, Z up; ``valid``: ``(T,)``.
    """
    _check(pred_feet, ref_feet, np.broadcast_to(valid[:, None], pred_feet.shape[:2]))
    step_ref = np.linalg.norm(np.diff(ref_feet, axis=0), axis=-1) * 1000
    step_pred = np.linalg.norm(np.diff(pred_feet[..., :2], axis=0), axis=-1) * 1000
    planted = (step_ref < PLANTED_MM) & (valid[1:] & valid[:-1])[:, None]
    return float(step_pred[planted].mean()) if planted.any() else None


def heading_deg(hips_world: np.ndarray, T_world_cam: np.ndarray) -> np.ndarray:
    """(T,) which way a body faces as its camera sees it: the heading of its hip line
    (right hip to left) about the world's up (Z), against the camera's own heading, in
    degrees (90: the body faces the camera square on, its left hip on the image's right).
    Independent of the world's origin and heading and of the camera's tilt, so an
    estimate's compares with the truth's.

    ``hips_world``: ``(T, 2, 3)`` the left and right hip joints, metres; ``T_world_cam``:
    ``(T, 4, 4)``.
    """
    if hips_world.ndim != 3 or hips_world.shape[1:] != (2, 3) or T_world_cam.shape != (len(hips_world), 4, 4):
        raise ShapeError(f"heading: hips {hips_world.shape}, cameras {T_world_cam.shape}; expected (T, 2, 3), (T, 4, 4)")
    line = (hips_world[:, 0] - hips_world[:, 1])[:, :2]
    right, forward = T_world_cam[:, :2, 0], T_world_cam[:, :2, 2]  # the camera's x and z, seen from above
    right = right / np.maximum(np.linalg.norm(right, axis=-1, keepdims=True), 1e-12)
    forward = forward / np.maximum(np.linalg.norm(forward, axis=-1, keepdims=True), 1e-12)
    return np.degrees(np.arctan2((line * right).sum(-1), (line * forward).sum(-1)))


def angle_diff_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a - b`` wrapped into [-180, 180) degrees."""
    return (np.asarray(a) - np.asarray(b) + 180.0) % 360.0 - 180.0
