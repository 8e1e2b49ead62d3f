"""Body joint errors in 3D: W-MPJPE (world, one rigid alignment for the whole shot) and
PA-MPJPE (per frame and person, similarity Procrustes)."""

from __future__ import annotations

import numpy as np
import torch

from reshoot.errors import ShapeError
from reshoot.geometry import umeyama


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
