"""Metrics on hand-made cases with known answers."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from reshoot.errors import ReshootError
from reshoot.eval import (
    composition_scores,
    focal_error_pct,
    mpjpe_2d,
    pa_mpjpe_mm,
    to_reference_height,
    trajectory_errors,
    w_mpjpe_mm,
)
from reshoot.eval.body import angle_diff_deg, heading_deg
from reshoot.eval.evaluate import evaluate, match_actors
from reshoot.geometry import look_at, se3_exp, transform_points, umeyama

f64 = torch.float64


def test_composition_on_a_hand_made_label_image():
    # 4x5 reference: actor 1 on the left 2 columns (8 px), actor 2 on the last column (4 px)
    ref = np.zeros((4, 5), np.uint8)
    ref[:, :2] = 1
    ref[:, 4] = 2
    pred = ref.copy()
    pred[0, 2] = 1  # one background pixel painted as actor 1
    pred[3, 4] = 0  # one actor-2 pixel missed
    s = composition_scores(pred, ref)
    assert s.pa == pytest.approx(100 * 18 / 20)
    # actor 1: inter 8, union 9; actor 2: inter 3, union 4; background: inter 7, union 9
    assert s.iou == pytest.approx([7 / 9, 8 / 9, 3 / 4])
    assert s.iou_person == pytest.approx((8 / 9 + 3 / 4) / 2)
    assert s.miou == pytest.approx((7 / 9 + 8 / 9 + 3 / 4) / 3)


def test_composition_accumulates_over_frames_and_handles_absent_labels():
    ref = np.zeros((2, 3, 3), np.uint8)
    ref[0, 0, 0] = 1
    pred = np.zeros_like(ref)
    s = composition_scores(pred, ref, num_labels=3)
    assert s.pa == pytest.approx(100 * 17 / 18)
    assert s.iou[1] == 0 and np.isnan(s.iou[2])
    assert s.iou_person == 0.0  # label 2 absent from both: not averaged in
    perfect = composition_scores(ref, ref)
    assert perfect.pa == 100 and perfect.miou == 1 and perfect.iou_person == 1


def test_mpjpe_2d_and_720p_rescale():
    ref = np.zeros((2, 3, 2))
    pred = ref.copy()
    pred[0, 0] = [3, 4]  # 5 px
    pred[1, 2] = [0, 10]  # 10 px but invalid
    valid = np.array([[True, True, True], [True, True, False]])
    assert mpjpe_2d(pred, ref, valid) == pytest.approx(5 / 5)
    assert mpjpe_2d(pred, ref, np.zeros_like(valid)) is None
    assert to_reference_height(4.0, 540) == pytest.approx(4.0 * 720 / 540)


def arc_path(n=40):
    ang = torch.linspace(0, 1.2, n, dtype=f64)
    eye = torch.stack([4 * torch.cos(ang), 4 * torch.sin(ang), 1.5 + 0.2 * ang], -1)
    return look_at(eye, torch.tensor([0.0, 0.0, 1.0], dtype=f64).expand(n, 3)).numpy()


def test_trajectory_zero_after_a_known_similarity():
    T_ref = arc_path()
    S = se3_exp(torch.tensor([0.4, -1.0, 0.3, 5.0, -2.0, 1.0], dtype=f64)).numpy()
    T_est = S @ T_ref
    T_est[:, :3, 3] *= 0.25  # scale the world: the poses stay rigid
    err = trajectory_errors(T_est, T_ref)
    assert err.ate_m < 1e-9 and err.ate_pct < 1e-7
    assert err.rot_err_deg < 1e-5 and err.rpe_rot_deg < 1e-5 and err.rpe_trans_m < 1e-9
    assert err.scale == pytest.approx(4.0)


def test_trajectory_known_ate():
    T_ref = arc_path()
    T_est = T_ref.copy()
    # alternate +-5 cm offsets along world Z: zero mean, so alignment cannot remove them
    sign = np.where(np.arange(len(T_ref)) % 2 == 0, 1.0, -1.0)
    T_est[:, 2, 3] += 0.05 * sign
    err = trajectory_errors(T_est, T_ref)
    path = np.linalg.norm(np.diff(T_ref[:, :3, 3], axis=0), axis=-1).sum()
    # the best similarity can only shrink the residual a little: RMSE within 2 % of 5 cm
    assert err.ate_m == pytest.approx(0.05, rel=0.02)
    assert err.ate_pct == pytest.approx(100 * err.ate_m / path)
    assert err.rot_err_deg < 1e-6  # orientations are exact, and aligned on their own
    # evo's alignment and ours agree
    sim = umeyama(torch.from_numpy(T_est[:, :3, 3]), torch.from_numpy(T_ref[:, :3, 3]))
    residual = sim.apply(torch.from_numpy(T_est[:, :3, 3])).numpy() - T_ref[:, :3, 3]
    assert err.ate_m == pytest.approx(np.sqrt((residual**2).sum(-1).mean()), rel=1e-9)
    assert err.scale == pytest.approx(float(sim.scale), rel=1e-12)


def test_rotation_error_of_a_known_tilt():
    # a tracking shot: the camera slides along x looking along +y, orientation fixed
    eye = torch.stack([torch.linspace(0, 3, 20, dtype=f64), torch.zeros(20, dtype=f64), torch.full((20,), 1.5, dtype=f64)], -1)
    T_ref = look_at(eye, eye + torch.tensor([0.0, 1.0, 0.0], dtype=f64)).numpy()
    # tilt alternate frames by +-2 degrees about world x: no single rotation removes that
    sign = np.where(np.arange(20) % 2 == 0, 1.0, -1.0)
    tilt = se3_exp(torch.from_numpy(np.stack([np.deg2rad(2.0) * sign] + [np.zeros(20)] * 5, -1))).numpy()
    T_est = T_ref.copy()
    T_est[:, :3, :3] = tilt[:, :3, :3] @ T_ref[:, :3, :3]
    err = trajectory_errors(T_est, T_ref)
    assert err.ate_m < 1e-9
    assert err.rot_err_deg == pytest.approx(2.0, abs=1e-9)
    # a constant tilt is a change of world frame: no error at all
    T_est[:, :3, :3] = tilt[0, :3, :3] @ T_ref[:, :3, :3]
    T_est[:, :3, 3] = T_ref[:, :3, 3] @ tilt[0, :3, :3].T
    assert trajectory_errors(T_est, T_ref).rot_err_deg < 1e-6


def test_static_and_pan_shots():
    eye = torch.tensor([0.0, -5.0, 1.6], dtype=f64).expand(30, 3)
    pan = torch.linspace(-0.5, 0.5, 30, dtype=f64)
    target = torch.stack([5 * torch.sin(pan), -5 + 5 * torch.cos(pan), torch.full_like(pan, 1.6)], -1)
    T_ref = look_at(eye, target).numpy()
    S = se3_exp(torch.tensor([0.2, 0.1, -0.3, 1.0, 2.0, 3.0], dtype=f64)).numpy()
    err = trajectory_errors(S @ T_ref, T_ref)  # a pan in another world frame: exact
    assert err.ate_pct is None and err.scale is None and err.ate_m < 1e-9 and err.rot_err_deg < 1e-6
    drift = S @ T_ref
    drift[:, 0, 3] += np.linspace(0, 0.003, 30)  # 3 mm of drift
    err = trajectory_errors(drift, T_ref)
    assert err.ate_m == pytest.approx(np.std(np.linspace(0, 0.003, 30)), rel=1e-6)


def test_focal_error():
    assert focal_error_pct(np.array([808.0, 792.0]), np.array([800.0, 800.0])) == pytest.approx(1.0)


def test_body_errors_rigid_and_procrustes():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(10, 17, 3))
    valid = np.ones((10, 17), bool)
    T = se3_exp(torch.tensor([0.1, 0.5, -0.2, 3.0, 1.0, 0.0], dtype=f64))
    moved = transform_points(T, torch.from_numpy(ref.reshape(-1, 3))).numpy().reshape(ref.shape)
    assert w_mpjpe_mm(moved, ref, valid) < 1e-6  # a rigid motion of the world costs nothing
    # a 10 % scale error costs: the W-MPJPE is not scale invariant, PA-MPJPE is
    assert w_mpjpe_mm(1.1 * moved, ref, valid) > 50
    assert pa_mpjpe_mm(1.1 * moved, ref, valid) < 1e-6
    # a saddle: opposite corners of a unit square lifted by +-d. No rotation or shift
    # removes it; the optimal similarity only shrinks by s = 2 / (2 + d^2), leaving
    # sqrt(2 (1 - s)^2 + s^2 d^2) at every corner.
    d = 0.1
    square = np.array([[1.0, 1.0, 0.0], [-1.0, -1.0, 0.0], [1.0, -1.0, 0.0], [-1.0, 1.0, 0.0]])
    saddle = square + np.array([[0, 0, d], [0, 0, d], [0, 0, -d], [0, 0, -d]])
    s = 2 / (2 + d**2)
    expected_mm = 1000 * np.sqrt(2 * (1 - s) ** 2 + s**2 * d**2)
    assert pa_mpjpe_mm(saddle[None], square[None], np.ones((1, 4), bool)) == pytest.approx(expected_mm, rel=1e-9)
    # invalid joints are left out of both the alignment and the mean
    off = ref.copy()
    off[:, 0] += [0.0, 0.0, 0.1]
    valid[:, 0] = False
    assert pa_mpjpe_mm(off, ref, valid) < 1e-6


def test_heading_of_a_body_as_its_camera_sees_it():
    """Square on to the camera: 90 degrees; turned 30 degrees to its left (anticlockwise
    from above): 60. The world's origin and heading and the camera's tilt do not count."""
    cam = look_at(torch.tensor([0.0, -5.0, 1.5], dtype=f64), torch.tensor([0.0, 0.0, 1.0], dtype=f64)).numpy()
    turn = np.radians(30.0)
    facing = np.array([[[0.1, 0.0, 0.9], [-0.1, 0.0, 0.9]]])  # left hip at +X: the body faces -Y, the camera
    turned = np.array([[[0.1 * np.cos(turn), 0.1 * np.sin(turn), 0.9], [-0.1 * np.cos(turn), -0.1 * np.sin(turn), 0.9]]])
    assert heading_deg(facing, cam[None]) == pytest.approx([90.0])
    assert heading_deg(turned, cam[None]) == pytest.approx([60.0])
    T = se3_exp(torch.tensor([0.0, 0.0, 1.2, 3.0, -1.0, 0.2], dtype=f64)).numpy()  # about Z, and moved
    moved = (turned[0] @ T[:3, :3].T + T[:3, 3])[None]
    assert heading_deg(moved, (T @ cam)[None]) == pytest.approx([60.0])
    tilted = cam @ se3_exp(torch.tensor([0.4, 0.0, 0.0, 0.0, 0.0, 0.0], dtype=f64)).numpy()  # pitched 23 degrees
    assert heading_deg(turned, tilted[None]) == pytest.approx([60.0])
    assert angle_diff_deg(170.0, -170.0) == pytest.approx(-20.0)


def test_evaluate_reports_how_far_the_bodies_are_turned(small_shot):
    est = copy.deepcopy(small_shot)
    turn = np.radians(20.0)
    R = np.array([[np.cos(turn), -np.sin(turn), 0.0], [np.sin(turn), np.cos(turn), 0.0], [0.0, 0.0, 1.0]])
    for a in est.actors:  # each body turned 20 degrees about the vertical through its hips
        centre = a.joints_world[:, [a.joint_names.index("left_hip"), a.joint_names.index("right_hip")]].mean(1, keepdims=True)
        a.joints_world = (a.joints_world - centre) @ R.T + centre
    assert evaluate(small_shot, small_shot)["heading_err_deg"] == 0
    assert evaluate(est, small_shot)["heading_err_deg"] == pytest.approx(20.0)


def test_evaluate_a_shot_against_itself_is_zero(small_shot):
    m = evaluate(small_shot, small_shot)
    assert m["mpjpe2d_px"] == 0 and m["mpjpe2d_720p"] == 0
    assert m["ate_m"] < 1e-9 and m["ate_pct"] < 1e-7 and m["rot_err_deg"] < 1e-5
    assert m["focal_err_pct"] == 0 and m["wmpjpe_mm"] < 1e-6 and m["pampjpe_mm"] < 1e-6
    assert m["pa"] is None and m["iou_person"] is None  # no label renderer yet: null, never made up


def test_evaluate_with_a_label_renderer_and_shuffled_actors(small_shot):
    est = small_shot
    ref = copy.deepcopy(small_shot)
    ref.actors = ref.actors[::-1]  # actors in another order with other ids
    for k, a in enumerate(ref.actors):
        a.track_id = 50 + k
    labels = ref.masks.labels.copy()
    ref.masks.labels = np.where(labels == 1, 2, np.where(labels == 2, 1, 0)).astype(np.uint8)
    assert match_actors(est, ref) == [(0, 1), (1, 0)]
    m = evaluate(est, ref, render_labels=lambda shot: small_shot.masks.labels)
    assert m["pa"] == 100 and m["iou_person"] == 1 and m["miou"] == 1
    assert m["matched_actors"] == [[1, 51], [2, 50]]


def test_evaluate_refuses_shots_of_different_footage(small_shot):
    other = copy.deepcopy(small_shot)
    other.video.width = 320
    with pytest.raises(ReshootError, match="estimate has 12 frames of 320x90, the reference 12 frames of 160x90"):
        evaluate(other, small_shot)
