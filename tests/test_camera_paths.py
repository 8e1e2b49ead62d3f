"""Each shot type has its motion signature, and frames its subject on a third."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reshoot.errors import InputError
from reshoot.geometry import angle_between, rigidity_error, world_to_pixels
from reshoot.synth.camera_paths import SHOT_TYPES, PathConfig, camera_path

W, T = 960, 48
CFG = PathConfig()


def still_subject(n=T):
    return np.tile([0.5, -0.3, 0.0], (n, 1))


def walking_subject(n=T):
    return np.stack([np.linspace(-1, 1.5, n), np.linspace(0, 0.5, n), np.zeros(n)], -1)


def path(shot_type, subject=None, **kw):
    return camera_path(shot_type, still_subject() if subject is None else subject, W, PathConfig(**kw),
                       np.random.default_rng(4))


def centres(p):
    return p.T_world_cam[:, :3, 3]


def rotations(p):
    return torch.from_numpy(p.T_world_cam[:, :3, :3])


def rot_change_deg(p):
    return np.rad2deg(angle_between(rotations(p), rotations(p)[:1].expand(T, 3, 3)).numpy())


def aim_px(p, subject):
    aim = subject.copy()
    aim[:, 2] = CFG.aim_height_m
    K = np.zeros((len(aim), 3, 3))
    K[:, 0, 0] = K[:, 1, 1] = p.fx_px
    K[:, 0, 2], K[:, 1, 2], K[:, 2, 2] = W / 2, 270, 1
    uv, _ = world_to_pixels(torch.from_numpy(aim[:, None]), torch.from_numpy(p.T_world_cam), torch.from_numpy(K))
    return uv[:, 0].numpy()


@pytest.mark.parametrize("shot_type", SHOT_TYPES)
def test_paths_are_rigid_and_frame_the_subject(shot_type):
    p = path(shot_type)
    assert p.T_world_cam.shape == (T, 4, 4) and float(rigidity_error(torch.from_numpy(p.T_world_cam)).max()) < 1e-9
    uv = aim_px(p, still_subject())
    if shot_type in ("pan", "track"):  # the subject crosses the left third during the move
        assert (uv[0, 0] - W / 3) * (uv[-1, 0] - W / 3) < 0
    else:  # held on the left third (a dolly-zoom: centred), the aim point on the centre line
        assert np.allclose(uv[:, 0], W / 2 if shot_type == "dolly-zoom" else W / 3, atol=1e-6)
        assert np.allclose(uv[:, 1], 270, atol=1e-6)
    if shot_type in ("static", "pan", "track", "follow", "arc"):
        assert np.allclose(centres(p)[:, 2], CFG.height_m, atol=1e-9)


def test_static_does_not_move():
    p = path("static")
    assert np.abs(p.T_world_cam - p.T_world_cam[0]).max() == 0


def test_pan_rotates_about_a_fixed_centre():
    p = path("pan")
    assert np.abs(centres(p) - centres(p)[0]).max() < 1e-12
    assert rot_change_deg(p)[-1] == pytest.approx(CFG.sweep_deg, abs=1e-6)


@pytest.mark.parametrize("shot_type,sign", [("push-in", -1), ("pull-out", 1)])
def test_push_in_and_pull_out_move_along_the_view_axis(shot_type, sign):
    p = path(shot_type)
    move = centres(p)[-1] - centres(p)[0]
    view_axis = p.T_world_cam[0, :3, 2]
    cos = move @ view_axis / np.linalg.norm(move)
    # along the view axis before the off-third yaw: at exactly that yaw from the optical axis
    yaw = np.arctan((0.5 - 1 / 3) * W / CFG.focal_px)
    assert cos * -sign == pytest.approx(np.cos(yaw), abs=1e-9)
    assert np.linalg.norm(move) == pytest.approx(CFG.move_m)
    dist = np.linalg.norm(centres(p) - [0.5, -0.3, CFG.aim_height_m], axis=-1)
    assert np.sign(dist[-1] - dist[0]) == sign
    assert rot_change_deg(p).max() < 1e-6


def test_track_slides_sideways_with_a_fixed_orientation():
    p = path("track")
    move = centres(p)[-1] - centres(p)[0]
    assert np.linalg.norm(move) == pytest.approx(CFG.move_m)
    x_axis = p.T_world_cam[0, :3, 0]
    yaw = np.arctan((0.5 - 1 / 3) * W / CFG.focal_px)
    assert abs(move @ x_axis) / np.linalg.norm(move) == pytest.approx(np.cos(yaw), abs=1e-9)
    assert rot_change_deg(p).max() < 1e-6


def test_follow_keeps_its_offset_and_the_framing():
    subject = walking_subject()
    p = path("follow", subject)
    offset = centres(p) - subject
    assert np.abs(offset - offset[0]).max() < 1e-9
    assert np.allclose(aim_px(p, subject), [W / 3, 270], atol=1e-6)


def test_arc_keeps_its_distance_while_the_angle_sweeps():
    p = path("arc")
    rel = centres(p)[:, :2] - [0.5, -0.3]
    assert np.allclose(np.linalg.norm(rel, axis=-1), CFG.distance_m, atol=1e-9)
    ang = np.unwrap(np.arctan2(rel[:, 1], rel[:, 0]))
    assert abs(np.rad2deg(ang[-1] - ang[0])) == pytest.approx(CFG.sweep_deg, abs=1e-6)


def test_dolly_zoom_holds_the_subject_size_while_the_focal_widens():
    p = path("dolly-zoom")
    assert p.fx_px[-1] < 0.8 * p.fx_px[0] and np.all(np.diff(p.fx_px) <= 0)
    head_foot = np.array([[0.5, -0.3, 1.75], [0.5, -0.3, 0.0]])
    K = np.zeros((T, 3, 3))
    K[:, 0, 0] = K[:, 1, 1] = p.fx_px
    K[:, 0, 2], K[:, 1, 2], K[:, 2, 2] = W / 2, 270, 1
    uv, _ = world_to_pixels(torch.from_numpy(np.tile(head_foot, (T, 1, 1))), torch.from_numpy(p.T_world_cam),
                            torch.from_numpy(K))
    height_px = (uv[:, 1, 1] - uv[:, 0, 1]).numpy()
    assert height_px.std() / height_px.mean() < 0.01  # within 1 % over the move
    assert rot_change_deg(p).max() < 1e-6


def test_handheld_wobble_is_small_and_smooth():
    p = path("static", handheld_deg=0.5)
    change = rot_change_deg(p)
    assert 0.05 < change.max() < 2.0
    step = np.rad2deg(angle_between(rotations(p)[1:], rotations(p)[:-1]).numpy())
    assert step.max() < 0.3  # no jumps between frames


def test_unknown_shot_type():
    with pytest.raises(InputError, match="unknown shot type 'zoom'; expected one of static"):
        path("zoom")
