"""The ground among the background's points: the plane the camera stage levels the world
on, and the plane the actors' feet stand on when the dolly zoom is resolved."""

from __future__ import annotations

import numpy as np

GROUND_TILT_DEG = 20.0
"""a ground plane is at most this far from level (as the cameras' x axes say)"""
GROUND_SHARE = 0.15
"""... and holds at least this share of the background points"""
GROUND_TOLERANCE = 0.01
"""... within this fraction of the scene's median depth"""


def ground_plane(points: np.ndarray, up: np.ndarray, camera: np.ndarray, scale: float,
                 rng: np.random.Generator | None = None) -> tuple[np.ndarray, float, int] | None:  # fmt: skip
    """The ground among background ``points`` (N, 3): a plane within ``GROUND_TILT_DEG`` of
    level (``up``), below ``camera`` (a centre), holding ``GROUND_SHARE`` of the points or
    more within ``GROUND_TOLERANCE`` x ``scale`` (a scene depth). (unit normal pointing
    up, offset d with n.x = d on the plane, inliers) or None."""
    rng = rng or np.random.default_rng(0)
    N = len(points)
    if N < 30:
        return None
    tol = GROUND_TOLERANCE * scale
    best, best_count = None, 0
    for i, j, k in rng.integers(0, N, (400, 3)):
        n = np.cross(points[j] - points[i], points[k] - points[i])
        if np.linalg.norm(n) < 1e-12:
            continue
        n = n / np.linalg.norm(n)
        n = n if n @ up >= 0 else -n
        if n @ up < np.cos(np.radians(GROUND_TILT_DEG)):
            continue
        d = n @ points[i]
        if n @ camera - d <= tol:  # not below the camera
            continue
        count = int((np.abs(points @ n - d) < tol).sum())
        if count > best_count:
            best, best_count = (n, d), count
    if best is None or best_count < GROUND_SHARE * N:
        return None
    n, d = best
    inliers = points[np.abs(points @ n - d) < tol]
    centre = inliers.mean(0)
    n = np.linalg.svd(inliers - centre)[2][-1]  # least squares over the inliers
    n = n if n @ up >= 0 else -n
    return n, float(n @ centre), len(inliers)
