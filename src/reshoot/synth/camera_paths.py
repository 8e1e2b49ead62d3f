"""Camera paths of the shot types film people name (seed 001 sec. 4.2, seed 002 Table I).

Each path frames a subject (the actors' centre, a world track over time) the way an
operator would: the subject on a vertical third, the eyes in the upper third, moves eased
in and out. All paths are exact: they are the ground truth of the synthetic shots.

=============  ================================================================
``static``     locked off: one pose for the whole shot
``push-in``    dolly along the view axis towards the subject, orientation fixed
``pull-out``   the reverse of a push-in
``pan``        rotation only about a fixed centre, sweeping across the subject
``track``      truck sideways along the camera's x axis, orientation fixed
``follow``     moves with the subject at a fixed offset, keeps it framed
``arc``        orbits the subject at a constant distance, the angle sweeps
``dolly-zoom`` pushes in while the focal length widens: the subject's size holds
               (framed centred: off-centre the zoom would slide it sideways)
=============  ================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from reshoot.errors import InputError
from reshoot.geometry import look_at, se3_exp
from reshoot.synth import SHOT_TYPES

__all__ = ["SHOT_TYPES", "CameraPath", "PathConfig", "camera_path", "ease"]


@dataclass
class CameraPath:
    T_world_cam: np.ndarray
    """(T, 4, 4) OpenCV camera poses in the world"""
    fx_px: np.ndarray
    """(T,) focal length in pixels (square pixels: fy = fx)"""


@dataclass
class PathConfig:
    """How a shot type's path is laid out around the subject."""

    distance_m: float = 5.0
    """camera-to-subject distance at the start (for push-in/pull-out: the mean)"""
    height_m: float = 1.6
    """camera height above the ground"""
    aim_height_m: float = 1.25
    """height on the subject the camera aims at (chest: leaves headroom)"""
    focal_px: float = 800.0
    """focal length (dolly-zoom: at the start)"""
    move_m: float = 1.5
    """length of a push-in, pull-out or track move"""
    sweep_deg: float = 40.0
    """angle swept by a pan or an arc"""
    third: float = 1 / 3
    """horizontal image position of the subject, as a fraction of the width (1/3 or 2/3)"""
    handheld_deg: float = 0.0
    """amplitude of a smooth handheld wobble of the orientation (0: on sticks)"""
    heading_deg: float | None = None
    """direction from the subject towards the camera, about world Z from +X (None: drawn from the rng)"""


def ease(s: np.ndarray) -> np.ndarray:
    """Smoothstep: a move that starts and ends at rest."""
    return s * s * (3 - 2 * s)


def _frame_on_third(T_world_cam: np.ndarray, width: int, fx: float, third: float) -> np.ndarray:
    """Yaw every camera about its own y axis by one angle, so that the aim point, on the
    optical axis before, lands at ``third * width`` at focal ``fx``."""
    xi = np.zeros((len(T_world_cam), 6))
    xi[:, 1] = np.arctan((0.5 - third) * width / fx)
    return T_world_cam @ se3_exp(torch.from_numpy(xi)).numpy()


def _look(eye: np.ndarray, target: np.ndarray) -> np.ndarray:
    return look_at(torch.from_numpy(eye), torch.from_numpy(np.ascontiguousarray(target))).numpy()


def camera_path(
    shot_type: str,
    subject_world: np.ndarray,
    width: int,
    cfg: PathConfig | None = None,
    rng: np.random.Generator | None = None,
) -> CameraPath:
    """The camera path of ``shot_type`` framing ``subject_world`` (T, 3), ground-level centre
    of the actors at each frame (the z component is ignored: the ground is z = 0).

    ``follow`` keeps the moving subject framed; the other types frame one point, the
    middle of the ground the subject covers during the shot (for a still subject: where
    it stands)."""
    if shot_type not in SHOT_TYPES:
        raise InputError(f"unknown shot type {shot_type!r}; expected one of {', '.join(SHOT_TYPES)}")
    cfg = cfg or PathConfig()
    rng = rng or np.random.default_rng(0)
    T = len(subject_world)
    s = ease(np.linspace(0.0, 1.0, T))
    subj = subject_world.copy()
    subj[:, 2] = cfg.aim_height_m
    start = 0.5 * (subj.min(0) + subj.max(0))  # where the camera frames the subject
    heading = rng.uniform(0, 2 * np.pi) if cfg.heading_deg is None else np.deg2rad(cfg.heading_deg)
    back = np.array([np.cos(heading), np.sin(heading), 0.0])  # from the subject towards the camera
    side = np.array([-back[1], back[0], 0.0])
    up = np.array([0.0, 0.0, cfg.height_m - cfg.aim_height_m])
    fx = np.full(T, cfg.focal_px)

    def still(eye):
        return np.broadcast_to(eye, (T, 3)).copy()

    if shot_type in ("static", "pan"):
        eye = still(start + cfg.distance_m * back + up)
        if shot_type == "static":
            target = still(start)
        else:  # sweep the view across the subject, centred on it
            ang = np.deg2rad(cfg.sweep_deg) * (s - 0.5)
            to_subject = start - eye[0]
            c, si = np.cos(ang), np.sin(ang)
            rot = np.stack([c * to_subject[0] - si * to_subject[1], si * to_subject[0] + c * to_subject[1],
                            np.full(T, to_subject[2])], -1)  # fmt: skip
            target = eye + rot
    elif shot_type in ("push-in", "pull-out", "dolly-zoom"):
        direction = -1.0 if shot_type == "pull-out" else 1.0
        d = cfg.distance_m + direction * cfg.move_m * (0.5 - s)  # metres to the framed point
        if shot_type == "dolly-zoom":
            d = cfg.distance_m - cfg.move_m * s
            fx = cfg.focal_px * d / cfg.distance_m  # the subject's image size holds: f / d constant
        axis = start - (start + cfg.distance_m * back + up)
        axis /= np.linalg.norm(axis)
        eye = start - d[:, None] * axis[None, :]
        target = eye + axis  # orientation fixed: the move is along the view axis
    elif shot_type == "track":
        eye0 = start + cfg.distance_m * back + up
        eye = eye0 + (s[:, None] - 0.5) * cfg.move_m * side
        target = eye + (start - eye0)  # orientation fixed: a truck, not a pan
    elif shot_type == "follow":
        eye = subj + cfg.distance_m * back + up
        target = subj
    else:  # arc
        ang = heading + np.deg2rad(cfg.sweep_deg) * (s - 0.5)
        ring = np.stack([np.cos(ang), np.sin(ang), np.zeros(T)], -1)
        eye = start + cfg.distance_m * ring + up
        target = still(start)

    # a dolly-zoom keeps its subject centred (off-centre, the zoom would slide it sideways)
    third = 0.5 if shot_type == "dolly-zoom" else cfg.third
    T_world_cam = _frame_on_third(_look(eye, target), width, float(fx[0]), third)
    if cfg.handheld_deg > 0:
        T_world_cam = T_world_cam @ se3_exp(torch.from_numpy(_wobble(T, cfg.handheld_deg, rng))).numpy()
    return CameraPath(T_world_cam=T_world_cam, fx_px=fx)


def _wobble(T: int, amplitude_deg: float, rng: np.random.Generator) -> np.ndarray:
    """(T, 6) small smooth rotations: a few incommensurate sines per axis."""
    t = np.arange(T)[:, None]
    xi = np.zeros((T, 6))
    for k, period in enumerate((37.0, 23.0, 13.0)):
        phase = rng.uniform(0, 2 * np.pi, 3)
        xi[:, :3] += np.sin(2 * np.pi * t / period + phase) / (k + 1)
    xi[:, :3] *= np.deg2rad(amplitude_deg) / 1.8
    return xi
