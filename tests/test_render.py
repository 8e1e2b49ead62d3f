"""The CPU rasteriser against known answers, and label rendering of bodies for `eval`."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from reshoot.errors import ShapeError
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


def test_the_fit_meshs_silhouette_surface_covers_what_the_full_mesh_covers(body_shot):
    """anny's low-poly fitting mesh lies inside the full one and is seen about 4 % smaller;
    pushed out along its normals (``silhouette_surface``) it covers the same area. And
    ``render_labels`` draws a body fitted with the low-poly mesh as the full mesh."""
    from reshoot.bodymodel import model_id, pose_body, silhouette_surface

    W, H = 960, 540
    K_big = np.array([[800.0, 0.0, W / 2], [0.0, 800.0, H / 2], [0.0, 0.0, 1.0]])  # bodies ~270 px tall
    areas = {"full": 0, "fit": 0, "pushed out": 0}
    with Rasterizer(W, H) as r:
        for a in body_shot.actors:
            b = a.body
            full = pose_body(model_id("render"), b.phenotype, b.bone_quats_wxyz, b.T_world_root)
            fit = pose_body(model_id("fit"), b.phenotype, b.bone_quats_wxyz, b.T_world_root)
            pushed = silhouette_surface(torch.from_numpy(fit.vertices_world), torch.from_numpy(fit.faces).long()).numpy()
            for t in range(0, body_shot.num_frames, 2):
                draw = {"full": (full.vertices_world[t], full.faces), "fit": (fit.vertices_world[t], fit.faces),
                        "pushed out": (pushed[t], fit.faces)}  # fmt: skip
                for name, (V, F) in draw.items():
                    drawn = r.render([Mesh(V, F, label=1)], body_shot.camera.T_world_cam[t], K_big).labels
                    areas[name] += np.count_nonzero(drawn)
    assert 0.93 < areas["fit"] / areas["full"] < 0.98, areas  # the premise: the low-poly mesh is seen smaller
    assert abs(areas["pushed out"] / areas["full"] - 1.0) < 0.02, areas
    # eval draws what the overlay and the exported scene show: the full mesh
    assert body_shot.actors[0].body.model == model_id("fit")
    drawn = render_labels(body_shot)
    with Rasterizer(body_shot.video.width, body_shot.video.height) as r:
        b = body_shot.actors[0].body
        full = pose_body(model_id("render"), b.phenotype, b.bone_quats_wxyz, b.T_world_root)
        alone = r.render([Mesh(full.vertices_world[0], full.faces, label=1)], body_shot.camera.T_world_cam[0],
                         body_shot.lens.K()[0]).labels  # fmt: skip
    assert np.array_equal(drawn[0] == 1, alone == 1)


# --- textures ---------------------------------------------------------------------------

RED, GREEN, BLUE, YELLOW = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)
# a 2 x 2 checker of 8 x 8-texel blocks: linear filtering is exact inside each block
CHECKER = np.repeat(np.repeat(np.array([[RED, GREEN], [BLUE, YELLOW]], np.uint8), 8, 0), 8, 1)
# x in [-0.4, 0.4], y in [-0.4, 0.4] at z = 2 -> u in [22, 42), v in [14, 34); the corners
# in order top-left, top-right, bottom-right, bottom-left of the image
SQUARE = quad(-0.4, 0.4, -0.4, 0.4, 2.0)
FLAT = dict(ambient=1.0, key_light_cam=(1.0, 0.0, 0.0), fill_light_cam=(0.0, 1.0, 0.0))  # shade 1: the albedo


def test_uv_origin_is_the_texture_top_left_and_u_runs_along_columns(raster):
    uv = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    out = raster.render([Mesh(SQUARE, QUAD, uv=uv, texture=CHECKER, label=1)], np.eye(4), K, **FLAT)
    # each quadrant of the square, 2 px away from its seams and edges, shows its block
    for rows, cols, colour in [((16, 22), (24, 30), RED), ((16, 22), (34, 40), GREEN),
                               ((26, 32), (24, 30), BLUE), ((26, 32), (34, 40), YELLOW)]:  # fmt: skip
        block = out.rgb[rows[0] : rows[1], cols[0] : cols[1]].reshape(-1, 3).astype(int)
        assert np.abs(block - colour).max() <= 1, (colour, block.min(0), block.max(0))


def test_texture_repeats_outside_the_unit_square(raster):
    uv = np.array([[0.0, 0.0], [2.0, 0.0], [2.0, 1.0], [0.0, 1.0]])  # twice across
    out = raster.render([Mesh(SQUARE, QUAD, uv=uv, texture=CHECKER)], np.eye(4), K, **FLAT)
    # u = 2 (px - 22) / 20 at the pixel centre: 0.25 -> red, 0.75 -> green, 1.25 -> red again, 1.75 -> green
    top_row = out.rgb[18]
    assert [tuple(top_row[c]) for c in (24, 29, 34, 39)] == [RED, GREEN, RED, GREEN]


def test_vertex_colour_multiplies_the_texture_and_defaults_to_white(raster):
    uv = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    white = np.full((4, 4, 3), 255, np.uint8)
    plain = raster.render([Mesh(SQUARE, QUAD, uv=uv, texture=white)], np.eye(4), K, **FLAT)
    tinted = raster.render([Mesh(SQUARE, QUAD, color=[0.5, 1.0, 0.25], uv=uv, texture=white)], np.eye(4), K, **FLAT)
    assert tuple(plain.rgb[24, 32]) == (255, 255, 255)
    assert np.abs(tinted.rgb[24, 32].astype(int) - [128, 255, 64]).max() <= 1


def test_untextured_mesh_keeps_its_grey_default(raster):
    out = raster.render([Mesh(SQUARE, QUAD)], np.eye(4), K, **FLAT)
    assert np.abs(out.rgb[24, 32].astype(int) - round(0.7 * 255)).max() <= 1


def test_static_meshes_and_textures_are_cached_by_object_not_by_a_reused_id(raster):
    uv = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    for k, colour in enumerate([RED, GREEN, BLUE, YELLOW, RED]):
        # a new texture and a new static mesh each time, the old ones collected: CPython
        # often hands the new arrays the old ids, and the caches must not mistake them
        texture = np.full((4, 4, 3), colour, np.uint8)
        mesh = Mesh(SQUARE + [0.0, 0.0, 0.1 * k], QUAD, uv=uv, texture=texture, static=True, label=k + 1)
        for _frame in range(2):
            out = raster.render([mesh], np.eye(4), K, **FLAT)
            assert tuple(out.rgb[24, 32]) == colour and out.labels[24, 32] == k + 1
            assert out.depth_m[24, 32] == pytest.approx(2.0 + 0.1 * k)
        del mesh, texture


def test_world_lights_equal_the_same_lights_given_in_the_camera_frame(raster):
    from reshoot.geometry import look_at

    eye, target = torch.tensor([1.0, -2.0, 1.5], dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    T_world_cam = look_at(eye, target).numpy()
    ball = Mesh(*_icosahedron(), color=[0.8, 0.6, 0.4])
    key_cam, fill_cam = np.array([-0.4, -0.8, -0.45]), np.array([0.6, -0.2, -0.75])
    in_cam = raster.render([ball], T_world_cam, K, key_light_cam=tuple(key_cam), fill_light_cam=tuple(fill_cam))
    R_world_cam = T_world_cam[:3, :3]
    in_world = raster.render([ball], T_world_cam, K, key_light_world=tuple(R_world_cam @ key_cam),
                             fill_light_world=tuple(R_world_cam @ fill_cam))  # fmt: skip
    assert (in_cam.labels == in_world.labels).all()
    assert np.abs(in_cam.rgb.astype(int) - in_world.rgb).max() <= 1
    assert in_cam.rgb.std() > 10  # the shading varies across the ball: the test compares something


def _icosahedron() -> tuple[np.ndarray, np.ndarray]:
    t = (1 + 5**0.5) / 2
    v = np.array([[-1, t, 0], [1, t, 0], [-1, -t, 0], [1, -t, 0], [0, -1, t], [0, 1, t],
                  [0, -1, -t], [0, 1, -t], [t, 0, -1], [t, 0, 1], [-t, 0, -1], [-t, 0, 1]], float)  # fmt: skip
    f = np.array([[0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11], [1, 5, 9], [5, 11, 4], [11, 10, 2],
                  [10, 7, 6], [7, 1, 8], [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8], [3, 8, 9], [4, 9, 5],
                  [2, 4, 11], [6, 2, 10], [8, 6, 7], [9, 8, 1]])  # fmt: skip
    return 0.5 * v / np.linalg.norm(v, axis=1, keepdims=True), f


def test_mesh_rejects_a_texture_without_uv_and_a_float_texture():
    with pytest.raises(ValueError, match="both uv and texture"):
        Mesh(SQUARE, QUAD, texture=CHECKER)
    with pytest.raises(ShapeError, match="uint8"):
        Mesh(SQUARE, QUAD, uv=np.zeros((4, 2)), texture=CHECKER / 255.0)
