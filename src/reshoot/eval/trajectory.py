"""Camera path errors against ground truth: ATE and RPE (through evo), rotation and
focal errors.

The estimate lives in its own world frame and, before the body stage, at an arbitrary
scale, so it is aligned to the reference by the least-squares similarity of the camera
centres (Sim(3) Umeyama, evo's ``correct_scale``). Shots whose reference camera does
not move (locked-off, pan) have no such alignment: their ATE is the spread of the
estimated centres (drift).

The rotation error aligns the orientations on their own (one rotation, the chordal L2
optimum), for every shot: positions alone align rotations poorly on flat or short paths
(on a 40-degree arc of 5 m radius, 1 cm of position noise tilts the Sim(3) by 1.3
degrees), which would charge the position noise to the orientations.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import asdict, dataclass

import numpy as np
import torch

from reshoot.errors import ShapeError
from reshoot.geometry import angle_between, umeyama

log = logging.getLogger(__name__)

#: A reference path whose centres spread less than this (world units, RMS) is "not moving".
STATIC_SPREAD = 1e-6


@dataclass(frozen=True)
class TrajectoryErrors:
    ate_m: float
    """RMS position error after alignment (reference units, metres for ground truth); for a
    static reference, the RMS spread of the estimated centres (in the estimate's units)."""
    ate_pct: float | None
    """``ate_m`` as a percentage of the reference path length; None for a static reference."""
    rot_err_deg: float
    """Mean angle between aligned estimated and reference camera orientations."""
    rpe_trans_m: float | None
    """RMS frame-to-frame relative translation error after Sim(3) alignment."""
    rpe_rot_deg: float
    """RMS frame-to-frame relative rotation error."""
    scale: float | None
    """The similarity's scale (reference units per estimate unit); None for a static reference."""
    path_length_m: float
    """Length of the reference path."""

    def as_dict(self) -> dict[str, float | None]:
        return asdict(self)


def spread(points: np.ndarray) -> float:
    """RMS distance of points (N, 3) from their centroid."""
    return float(np.sqrt(((points - points.mean(0)) ** 2).sum(-1).mean()))


def _evo_path(T_world_cam: np.ndarray):
    from evo.core.trajectory import PosePath3D

    return PosePath3D(poses_se3=list(T_world_cam))


def trajectory_errors(T_world_cam_est: np.ndarray, T_world_cam_ref: np.ndarray) -> TrajectoryErrors:
    """Compare two camera paths ``(T, 4, 4)`` frame by frame."""
    if T_world_cam_est.shape != T_world_cam_ref.shape or T_world_cam_est.shape[1:] != (4, 4):
        raise ShapeError(
            f"camera paths: estimate {T_world_cam_est.shape} and reference {T_world_cam_ref.shape}, expected equal (T, 4, 4)"
        )
    from evo.core import metrics
    from evo.core.geometry import GeometryException
    from evo.main_ape import ape
    from evo.main_rpe import rpe

    p_est, p_ref = T_world_cam_est[:, :3, 3], T_world_cam_ref[:, :3, 3]
    path_length = float(np.linalg.norm(np.diff(p_ref, axis=0), axis=-1).sum())
    R_est = torch.from_numpy(T_world_cam_est[:, :3, :3])
    R_ref = torch.from_numpy(T_world_cam_ref[:, :3, :3])
    rel = metrics.PoseRelation
    ref_path, est_path = _evo_path(T_world_cam_ref), _evo_path(T_world_cam_est)

    moving = spread(p_ref) > STATIC_SPREAD and spread(p_est) > STATIC_SPREAD
    if moving:
        sim = umeyama(torch.from_numpy(p_est), torch.from_numpy(p_ref), with_scale=True)
        scale = float(sim.scale)
        try:  # evo's ape() aligns its estimate IN PLACE: always hand it a copy
            ate_m = float(ape(ref_path, copy.deepcopy(est_path), rel.translation_part, align=True, correct_scale=True).stats["rmse"])
        except GeometryException:  # collinear centres (a straight track): evo refuses, the residual is still unique
            ate_m = float(np.sqrt(((sim.apply(torch.from_numpy(p_est)).numpy() - p_ref) ** 2).sum(-1).mean()))
        ate_pct = 100.0 * ate_m / path_length if path_length > 0 else None
        # relative poses do not see the world's rigid gauge, only its scale
        scaled = T_world_cam_est.copy()
        scaled[:, :3, 3] *= scale
        rpe_trans = float(
            rpe(ref_path, _evo_path(scaled), rel.translation_part, delta=1, delta_unit=metrics.Unit.frames).stats["rmse"]
        ) if len(scaled) > 1 else 0.0
    else:
        ate_m, ate_pct, scale, rpe_trans = spread(p_est), None, None, None
    R_align = align_orientations(R_est, R_ref)
    rot_err = torch.rad2deg(angle_between(R_align @ R_est, R_ref)).mean()
    rpe_rot = float(
        rpe(ref_path, copy.deepcopy(est_path), rel.rotation_angle_deg, delta=1, delta_unit=metrics.Unit.frames).stats["rmse"]
    ) if len(T_world_cam_ref) > 1 else 0.0
    return TrajectoryErrors(
        ate_m=ate_m,
        ate_pct=ate_pct,
        rot_err_deg=float(rot_err),
        rpe_trans_m=rpe_trans,
        rpe_rot_deg=rpe_rot,
        scale=scale,
        path_length_m=path_length,
    )


def align_orientations(R_est: torch.Tensor, R_ref: torch.Tensor) -> torch.Tensor:
    """The rotation ``R`` minimising ``sum_i |R R_est_i - R_ref_i|_F^2`` (SVD projection of
    ``sum_i R_ref_i R_est_i^T`` onto SO(3))."""
    U, _, Vh = torch.linalg.svd((R_ref @ R_est.transpose(-1, -2)).sum(0))
    D = torch.diag(torch.tensor([1.0, 1.0, float(torch.sign(torch.linalg.det(U @ Vh)))], dtype=U.dtype))
    return U @ D @ Vh


def focal_error_pct(fx_est: np.ndarray, fx_ref: np.ndarray) -> float:
    """Mean relative focal length error over the frames, percent."""
    return float(100.0 * np.mean(np.abs(fx_est - fx_ref) / fx_ref))
