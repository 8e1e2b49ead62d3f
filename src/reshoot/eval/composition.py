"""Composition metrics of CineTrans (seed 001, Table 1): how well rendered actors
restore the framing of the original shot.

Label images hold 0 for background and ``k + 1`` for actor ``k``. Scores accumulate a
confusion matrix over all frames (the usual segmentation protocol), so large and small
frames weigh by their pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reshoot.errors import ShapeError

#: Frame height the paper's 2D joint errors are comparable at.
REFERENCE_HEIGHT_PX = 720


@dataclass(frozen=True)
class CompositionScores:
    """Pixel accuracy and IoUs of a predicted label image against the reference."""

    pa: float
    """Pixel accuracy in percent: share of pixels whose label is right."""
    iou: np.ndarray
    """IoU per label (index 0 = background), NaN for a label absent from both images."""

    @property
    def iou_person(self) -> float | None:
        """Mean IoU over the actors (labels >= 1), background excluded; None without actors."""
        people = self.iou[1:]
        people = people[np.isfinite(people)]
        return float(people.mean()) if people.size else None

    @property
    def miou(self) -> float:
        """Mean IoU over every label including background (the paper's IoU)."""
        return float(np.nanmean(self.iou))


#: Pixels counted at a time by :func:`confusion_matrix`.
CHUNK_PIXELS = 1 << 24


def confusion_matrix(pred: np.ndarray, ref: np.ndarray, num_labels: int) -> np.ndarray:
    """``C[i, j]`` = number of pixels with reference label ``i`` and predicted label ``j``."""
    if pred.shape != ref.shape:
        raise ShapeError(f"label images differ in shape: predicted {pred.shape}, reference {ref.shape}")
    top = max(int(pred.max(initial=0)), int(ref.max(initial=0)))
    if top >= num_labels:
        raise ValueError(f"label {top} found but num_labels is {num_labels}")
    pred, ref = pred.reshape(-1), ref.reshape(-1)
    C = np.zeros(num_labels * num_labels, np.int64)
    for s in range(0, len(ref), CHUNK_PIXELS):  # in chunks: a whole shot's int64 indices would take gigabytes
        idx = ref[s : s + CHUNK_PIXELS].astype(np.int64) * num_labels + pred[s : s + CHUNK_PIXELS]
        C += np.bincount(idx, minlength=num_labels * num_labels)
    return C.reshape(num_labels, num_labels)


def composition_scores(pred: np.ndarray, ref: np.ndarray, num_labels: int | None = None) -> CompositionScores:
    """Score predicted label images ``(..., H, W)`` against reference ones of the same shape."""
    if num_labels is None:
        num_labels = max(int(pred.max(initial=0)), int(ref.max(initial=0))) + 1
    C = confusion_matrix(pred, ref, num_labels).astype(np.float64)
    tp = np.diag(C)
    union = C.sum(0) + C.sum(1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, tp / union, np.nan)
    return CompositionScores(pa=100.0 * tp.sum() / C.sum(), iou=iou)


def mpjpe_2d(pred_px: np.ndarray, ref_px: np.ndarray, valid: np.ndarray | None = None) -> float | None:
    """Mean 2D joint error in pixels over the valid joints; None when none is valid.

    ``pred_px`` and ``ref_px``: ``(..., 2)``; ``valid``: ``(...)`` booleans.
    """
    if pred_px.shape != ref_px.shape or pred_px.shape[-1] != 2:
        raise ShapeError(f"2D joints: predicted {pred_px.shape} and reference {ref_px.shape}, expected equal (..., 2)")
    err = np.linalg.norm(pred_px - ref_px, axis=-1)
    if valid is not None:
        err = err[valid]
    return float(err.mean()) if err.size else None


def to_reference_height(error_px: float | None, height_px: int) -> float | None:
    """Rescale a pixel error measured on a frame ``height_px`` high to a 720-pixel-high frame."""
    return None if error_px is None else error_px * REFERENCE_HEIGHT_PX / height_px
