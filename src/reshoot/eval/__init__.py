"""Metrics: composition (the paper's Table 1), camera and body errors against ground truth."""

from reshoot.eval.body import pa_mpjpe_mm, w_mpjpe_mm
from reshoot.eval.composition import CompositionScores, composition_scores, confusion_matrix, mpjpe_2d, to_reference_height
from reshoot.eval.trajectory import TrajectoryErrors, focal_error_pct, trajectory_errors

__all__ = [
    "CompositionScores",
    "TrajectoryErrors",
    "composition_scores",
    "confusion_matrix",
    "focal_error_pct",
    "mpjpe_2d",
    "pa_mpjpe_mm",
    "to_reference_height",
    "trajectory_errors",
    "w_mpjpe_mm",
]
