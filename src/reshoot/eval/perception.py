"""Perception against ground truth: did the stage find every person, keep their ids,
place their 2D joints and cut out their masks?

People are matched frame by frame: by mask IoU when the estimate has instance masks, by
the IoU of boxes otherwise; a pair counts when its IoU reaches ``min_iou`` (0.5). The
ground truth's visible extent of a person is its instance mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from reshoot.shot import Shot, mask_box

PERCEPTION_KEYS = ("det_recall", "det_recall_full", "det_precision", "id_switches", "kpt2d_err_px", "mask_iou")
MIN_VISIBLE_PX = 100
"""a ground-truth person covering fewer pixels than this is not expected to be found"""


@dataclass
class PerceptionScores:
    det_recall: float
    """matched / visible ground-truth person-frames"""
    det_recall_full: float
    """the same over frames where the whole body is in the frame and unhidden (nan if none)"""
    det_precision: float
    """matched / estimated person-frames"""
    id_switches: int
    """times a ground-truth person's matched track changes from one id to another"""
    kpt2d_err_px: float
    """median distance of matched keypoints (estimate confidence > 0.5, seen in the ground truth)"""
    mask_iou: float
    """per person, the mean mask IoU over the frames it is visible (0 where missed), averaged"""

    def as_dict(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in PERCEPTION_KEYS}


def _boxes_from_labels(labels: np.ndarray, n: int) -> np.ndarray:
    """(n, 4) xyxy boxes of labels 1..n in one label image (zeros where absent)."""
    return np.stack([np.nan_to_num(mask_box(labels == k + 1)) for k in range(n)]) if n else np.zeros((0, 4))


def _area(boxes: np.ndarray) -> np.ndarray:
    return np.prod(np.clip(boxes[..., 2:] - boxes[..., :2], 0, None), -1)


def _box_iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) IoU of two sets of xyxy boxes."""
    lo, hi = np.maximum(a[:, None, :2], b[None, :, :2]), np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), -1)
    union = _area(a)[:, None] + _area(b)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _mask_iou_matrix(est: np.ndarray, gt: np.ndarray, n_est: int, n_gt: int) -> np.ndarray:
    """(n_est, n_gt) IoU between the labels of two label images (0 is background)."""
    joint = np.bincount(est.ravel().astype(np.int64) * (n_gt + 1) + gt.ravel(), minlength=(n_est + 1) * (n_gt + 1))
    joint = joint.reshape(n_est + 1, n_gt + 1)
    inter = joint[1:, 1:].astype(float)
    union = joint[1:, :].sum(1)[:, None] + joint[:, 1:].sum(0)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def perception_scores(est: Shot, ref: Shot, min_iou: float = 0.5) -> PerceptionScores | None:
    """Scores of ``est``'s observations (and masks) against ``ref``; None when either
    lacks what they need (observations in ``est``, masks and observations in ``ref``)."""
    from reshoot.eval.detection import fully_visible

    if ref.masks is None or not all(a.observations is not None for a in ref.actors):
        return None
    if not est.actors or not all(a.observations is not None for a in est.actors):
        return None
    T, n_est, n_gt = ref.num_frames, len(est.actors), len(ref.actors)
    visible = found = full_visible = full_found = est_present = est_matched = switches = 0
    kpt_errors: list[np.ndarray] = []
    iou_sums, vis_counts = np.zeros(n_gt), np.zeros(n_gt)
    last_id = [None] * n_gt
    for t in range(T):
        gt_labels = ref.masks.labels[t]
        gt_area = np.bincount(gt_labels.ravel(), minlength=n_gt + 1)[1:]
        if est.masks is not None:
            iou = _mask_iou_matrix(est.masks.labels[t], gt_labels, n_est, n_gt)
            est_area = np.bincount(est.masks.labels[t].ravel(), minlength=n_est + 1)[1:]
        else:
            est_boxes = _clip(np.stack([a.observations.boxes_xyxy_px[t] for a in est.actors]), ref)
            iou = _box_iou_matrix(est_boxes, _boxes_from_labels(gt_labels, n_gt))
            est_area = _area(est_boxes)
        # an estimate counts where it claims someone visible: present, and not a speck
        est_here = np.array([a.present[t] for a in est.actors]) & (est_area >= MIN_VISIBLE_PX)
        iou[~est_here] = 0.0
        est_present += int(est_here.sum())
        rows, cols = linear_sum_assignment(-iou)
        match = {int(j): int(i) for i, j in zip(rows, cols) if iou[i, j] >= min_iou}
        est_matched += len(match)
        for j in range(n_gt):
            if gt_area[j] < MIN_VISIBLE_PX:
                continue
            visible += 1
            vis_counts[j] += 1
            whole = fully_visible(ref, j, t)
            full_visible += whole
            if j not in match:
                continue
            i = match[j]
            found += 1
            full_found += whole
            iou_sums[j] += iou[i, j] if est.masks is not None else _mask_or_box_iou(est, ref, i, j, t)
            tid = est.actors[i].track_id
            switches += last_id[j] is not None and last_id[j] != tid
            last_id[j] = tid
            e_obs, g_obs = est.actors[i].observations, ref.actors[j].observations
            ok = (e_obs.kpts_conf[t] > 0.5) & (g_obs.kpts_conf[t] > 0)
            if e_obs.keypoint_format == g_obs.keypoint_format and ok.any():
                kpt_errors.append(np.linalg.norm(e_obs.kpts2d_px[t, ok] - g_obs.kpts2d_px[t, ok], axis=1))
    per_person = iou_sums[vis_counts > 0] / vis_counts[vis_counts > 0]
    return PerceptionScores(
        det_recall=found / visible if visible else float("nan"),
        det_recall_full=full_found / full_visible if full_visible else float("nan"),
        det_precision=est_matched / est_present if est_present else float("nan"),
        id_switches=int(switches),
        kpt2d_err_px=float(np.median(np.concatenate(kpt_errors))) if kpt_errors else float("nan"),
        mask_iou=float(per_person.mean()) if len(per_person) else float("nan"),
    )


def _clip(boxes: np.ndarray, shot: Shot) -> np.ndarray:
    """Boxes cut to the frame: the visible part of a person."""
    return np.clip(boxes, 0, [shot.video.width, shot.video.height] * 2)


def _mask_or_box_iou(est: Shot, ref: Shot, i: int, j: int, t: int) -> float:
    """Without estimated masks: the box IoU stands in for the mask IoU."""
    gt_box = _boxes_from_labels(ref.masks.labels[t], len(ref.actors))[j]
    return float(_box_iou_matrix(_clip(est.actors[i].observations.boxes_xyxy_px[t][None], ref), gt_box[None])[0, 0])
