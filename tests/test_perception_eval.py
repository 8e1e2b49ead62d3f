"""Perception metrics against known answers: misses, id switches, keypoint and mask errors."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from reshoot.eval.evaluate import evaluate
from reshoot.eval.perception import perception_scores
from reshoot.shot import Actor, ActorObservations, InstanceMasks, Shot, Video

T = 10


@pytest.fixture
def two_boxes() -> Shot:
    """Two people as 20x40 px boxes walking right, apart, in every frame of a 120x60 shot,
    33 keypoints each spread over their box, all seen."""
    rng = np.random.default_rng(0)
    labels = np.zeros((T, 60, 120), np.uint8)
    actors = []
    for k, x0 in enumerate((10, 60)):
        boxes = np.array([[x0 + 2 * t, 10, x0 + 2 * t + 20, 50] for t in range(T)], float)
        for t, (a, b, c, d) in enumerate(boxes.astype(int)):
            labels[t, b:d, a:c] = k + 1
        kpts = boxes[:, None, :2] + rng.uniform(0, 1, (T, 33, 2)) * [20, 40]
        obs = ActorObservations("mediapipe33", kpts2d_px=kpts, kpts_conf=np.ones((T, 33)), boxes_xyxy_px=boxes)
        actors.append(Actor(track_id=k + 1, present=np.ones(T, bool), observations=obs))
    return Shot(video=Video(fps=24.0, num_frames=T, width=120, height=60), actors=actors,
                masks=InstanceMasks(labels=labels))  # fmt: skip


def test_ground_truth_against_itself_is_perfect(two_boxes):
    s = perception_scores(two_boxes, two_boxes)
    assert (s.det_recall, s.det_precision, s.id_switches, s.kpt2d_err_px, s.mask_iou) == (1.0, 1.0, 0, 0.0, 1.0)


def test_missed_frames_cost_recall_and_mask_iou_not_precision(two_boxes):
    est = copy.deepcopy(two_boxes)
    est.actors[0].present[:3] = False
    s = perception_scores(est, two_boxes)
    assert s.det_recall == pytest.approx((2 * T - 3) / (2 * T))
    assert s.det_precision == 1.0
    assert s.mask_iou == pytest.approx(((T - 3) / T + 1.0) / 2)  # a missed frame counts 0 for that person


def test_swapped_identities_count_one_switch_per_person(two_boxes):
    est = copy.deepcopy(two_boxes)
    a, b = est.actors
    a.observations, b.observations = copy.deepcopy(a.observations), copy.deepcopy(b.observations)
    for arr in ("kpts2d_px", "kpts_conf", "boxes_xyxy_px"):
        x, y = getattr(a.observations, arr), getattr(b.observations, arr)
        x[6:], y[6:] = y[6:].copy(), x[6:].copy()
    labels = est.masks.labels
    labels[6:] = np.where(labels[6:] == 1, 2, np.where(labels[6:] == 2, 1, 0))
    s = perception_scores(est, two_boxes)
    assert s.id_switches == 2 and s.det_recall == 1.0 and s.mask_iou == 1.0 and s.kpt2d_err_px == 0.0


def test_keypoint_error_is_the_median_of_matched_joints(two_boxes):
    est = copy.deepcopy(two_boxes)
    est.actors[0].observations.kpts2d_px += [3.0, 4.0]  # 5 px off for one of the two people
    est.actors[1].observations.kpts2d_px += [6.0, 8.0]  # 10 px off for the other
    est.actors[1].observations.kpts_conf[:, :5] = 0.4  # unsure: not counted
    assert perception_scores(est, two_boxes).kpt2d_err_px == pytest.approx(5.0)  # 330 joints at 5, 280 at 10


def test_without_estimated_masks_boxes_stand_in(two_boxes):
    est = copy.deepcopy(two_boxes)
    est.masks = None
    s = perception_scores(est, two_boxes)
    assert s.det_recall == 1.0 and s.id_switches == 0 and s.mask_iou > 0.9


def test_eval_reports_perception_keys_only_against_ground_truth(two_boxes):
    with_gt = evaluate(two_boxes, two_boxes)
    assert with_gt["det_recall"] == 1.0 and with_gt["id_switches"] == 0
    assert evaluate(two_boxes)["det_recall"] is None
