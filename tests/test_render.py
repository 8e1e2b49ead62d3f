"""The CPU rasteriser against known answers, and label rendering of bodies for `eval`."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from reshoot.eval.evaluate import evaluate
from reshoot.geometry import project
from reshoot.render.labels import render_labels
from reshoot.render.raster import Mesh, Rasterizer

K = np.array([[50.0, 0.0, 32.0], [0.0, 50.0, 24.0], [0.0, 0.0, 1.0]])
QUAD = np.array([[0, 1, 2], [0, 2, 3]])


def quad(x0, x1, y0, y1, z):
    return np.array([[x0, y0, z], [x1, y0, z], [x1, y1, z], [x0, y1, z]], dtype=float)


@pytest.fixture(scope="module")
def raster():
    with Rasterizer(64, 48) as r:
        yield r


def test_quad_covers_exactly_the_pixels_whose_centres_it_contains(raster):
    # x in [-0.4, 0.4], y in [-0.2, 0.2] at z = 2 -> u in [22, 42), v in [19, 29)
    out = raster.render([Mesh(quad(-0.4, 0.4, -0.2, 0.2, 2.0), QUAD, color=[1, 0, 0], label=3)], np.eye(4), K)
    expected = np.zeros((48, 64), np.uint8)
    expected[19:29, 22:42] = 3
    assert np.array_equal(out.labels, expected)
    assert np.all(out.depth_m[expected > 0] == pytest.approx(2.0))
    assert np.all(np.isinf(out.depth_m[expected == 0]))
    assert tuple(out.rgb[0, 0]) == (255, 255, 255) and out.rgb[24, 32, 0] > 150 and out.rgb[24, 32, 1] == 0


def test_nearest_mesh_wins_whatever_the_draw_order(raster):
    near = Mesh(quad(-0.2, 0.2, -0.2, 0.2, 2.0), QUAD, label=1)
    far = Mesh(quad(-0.4, 0.4, -0.4, 0.4, 3.0), QUAD, label=2)
    for order in ([near, far], [far, near]):
        out = raster.render(order, np.eye(4), K)
        assert out.labels[24, 32] == 1 and out.depth_m[24, 32] == pytest.approx(2.0)
        assert out.labels[24, 37] == 2 and out.depth_m[24, 37] == pytest.approx(3.0)  # u = 37.5: far quad only


def test_agrees_with_geometry_project_through_a_moving_camera(raster):
    rng = np.random.default_rng(0)
    from reshoot.geometry import se3_exp

    T_world_cam = se3_exp(torch.tensor([0.1, -0.2, 0.05, 0.3, 0.1, -0.5], dtype=torch.float64)).numpy()
    cam_pts = np.stack([rng.uniform(-0.5, 0.5, 20), rng.uniform(-0.3, 0.3, 20), rng.uniform(1.5, 4, 20)], -1)
    world = cam_pts @ T_world_cam[:3, :3].T + T_world_cam[:3, 3]
    uv, _ = project(torch.from_numpy(cam_pts), torch.from_numpy(K))
    for k, (p, (u, v)) in enumerate(zip(world, uv.numpy())):
        # a square around the point, facing the camera, >= 1.25 px half-size: it covers the pixel
        right, down = T_world_cam[:3, 0] * 0.1, T_world_cam[:3, 1] * 0.1
        square = np.stack([p - right - down, p + right - down, p + right + down, p - right + down])
        out = raster.render([Mesh(square, QUAD, label=1)], T_world_cam, K)
        assert out.labels[int(v), int(u)] == 1, k


def test_eval_of_a_body_shot_against_itself_is_perfect(body_shot):
    m = evaluate(body_shot, body_shot, render_labels=render_labels)
    assert m["pa"] == 100.0 and m["iou_person"] == 1.0 and m["miou"] == 1.0
    assert m["mpjpe2d_px"] == 0.0 and m["wmpjpe_mm"] < 1e-6
    # the masks really hold both actors, each of a plausible size
    sizes = [(body_shot.masks.labels == k).sum() / body_shot.num_frames for k in (1, 2)]
    # ~1.6 m x 0.3 m seen from 5 m at f = 120 px: about 40 x 7 px
    assert all(150 < s < 600 for s in sizes), sizes


def test_composition_metrics_respond_to_a_camera_error(body_shot):
    est = copy.deepcopy(body_shot)
    est.camera.T_world_cam[:, 0, 3] += 0.05  # the camera 5 cm to the right: bodies shift ~1.2 px
    m = evaluate(est, body_shot, render_labels=render_labels)
    assert 95 < m["pa"] < 99.9 and 0.3 < m["iou_person"] < 0.95
    assert m["mpjpe2d_px"] == pytest.approx(120 * 0.05 / 5.0, rel=0.1)  # f * dx / depth
