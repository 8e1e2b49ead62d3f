"""The synthetic film set: determinism, layout facts, the chair, and dense corners on camera."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from reshoot.errors import InputError
from reshoot.geometry import look_at
from reshoot.render.raster import Mesh, Rasterizer
from reshoot.synth import scene
from reshoot.synth.scene import SEAT_HEIGHT_M, FilmSet, build_set, chair

CENTRE = (3.0, -2.0)  # off the origin: everything must follow centre_xy


@pytest.fixture(scope="module")
def film_set() -> FilmSet:
    return build_set(np.random.default_rng(0), centre_xy=CENTRE)


def _clear_texture_caches() -> None:
    for obj in vars(scene).values():
        if hasattr(obj, "cache_clear"):
            obj.cache_clear()


def _ground(film_set: FilmSet) -> Mesh:
    (ground,) = [m for m in film_set.meshes if np.all(m.vertices_world[:, 2] == 0.0)]
    return ground


def test_same_seed_same_set_and_another_seed_another(film_set):
    _clear_texture_caches()  # rebuild every texture: the memo must not hide nondeterminism
    again = build_set(np.random.default_rng(0), centre_xy=CENTRE)
    assert len(again.meshes) == len(film_set.meshes)
    for a, b in zip(film_set.meshes, again.meshes):
        assert a.texture is not b.texture  # really rebuilt
        assert np.array_equal(a.vertices_world, b.vertices_world) and np.array_equal(a.faces, b.faces)
        assert np.array_equal(a.uv, b.uv) and np.array_equal(a.texture, b.texture)
    other = build_set(np.random.default_rng(1), centre_xy=CENTRE)
    assert not np.array_equal(_ground(other).texture, _ground(film_set).texture)
    assert other.obstacles_xyr.shape != film_set.obstacles_xyr.shape or not np.allclose(
        other.obstacles_xyr, film_set.obstacles_xyr
    )


def test_ground_is_z0_under_the_whole_courtyard_and_nothing_floats_or_sinks(film_set):
    ground = _ground(film_set)
    lo, hi = ground.vertices_world[:, :2].min(0), ground.vertices_world[:, :2].max(0)
    h = film_set.half_size_m
    assert np.all(lo <= np.subtract(CENTRE, h)) and np.all(hi >= np.add(CENTRE, h))
    for mesh in film_set.meshes:
        assert mesh.vertices_world[:, 2].min() == pytest.approx(0.0, abs=1e-9)  # stands on the ground
        assert mesh.static and mesh.label == 0 and mesh.texture is not None


def test_acting_disc_is_free_of_props_and_facades_enclose_it(film_set):
    assert film_set.clear_radius_m >= 4.0
    others = [m for m in film_set.meshes if m is not _ground(film_set)]
    xy = np.concatenate([m.vertices_world[:, :2] for m in others]) - CENTRE
    assert np.hypot(*xy.T).min() >= film_set.clear_radius_m
    x, y = film_set.obstacles_xyr[:, :2].T - np.array(CENTRE)[:, None]
    assert len(x) >= 15 and np.all(np.hypot(x, y) - film_set.obstacles_xyr[:, 2] >= film_set.clear_radius_m)
    # from the centre, every heading meets a facade at least 3 m high within the courtyard
    for heading in np.linspace(0, 2 * np.pi, 36, endpoint=False):
        d = np.array([np.cos(heading), np.sin(heading)])
        hit = _ray_height(others, np.array(CENTRE), d, film_set.half_size_m * 1.5)
        assert hit >= 3.0, np.rad2deg(heading)


def _ray_height(meshes: list[Mesh], origin_xy: np.ndarray, d: np.ndarray, reach_m: float) -> float:
    """Height of the tallest vertical face the horizontal ray from ``origin_xy`` along
    ``d`` crosses within ``reach_m`` (a 2D test on the faces' footprints)."""
    best = 0.0
    for mesh in meshes:
        tri = mesh.vertices_world[mesh.faces]
        for a, b in ((0, 1), (1, 2), (2, 0)):
            p, q = tri[:, a, :2] - origin_xy, tri[:, b, :2] - origin_xy
            e = q - p
            den = e[:, 0] * d[1] - e[:, 1] * d[0]
            with np.errstate(divide="ignore", invalid="ignore"):
                s = (p[:, 0] * e[:, 1] - p[:, 1] * e[:, 0]) / -den  # distance along the ray
                t = (p[:, 0] * d[1] - p[:, 1] * d[0]) / -den  # position along the edge
            crossed = (np.abs(den) > 1e-12) & (s > 0) & (s < reach_m) & (t >= 0) & (t <= 1)
            if crossed.any():
                best = max(best, float(tri[crossed, :, 2].max()))
    return best


def test_chair_seat_is_at_seat_height_and_the_backrest_behind_the_sitter():
    yaw = 0.7
    mesh = chair((1.0, 2.0), yaw)
    # straight down onto the seat centre from 3 m: the depth there is 3 m - seat height
    T_world_cam = np.eye(4)
    T_world_cam[:3, :3] = np.diag([1.0, -1.0, -1.0])  # z down, image x along world x
    T_world_cam[:3, 3] = [1.0, 2.0, 3.0]
    K = np.array([[100.0, 0, 32], [0, 100.0, 32], [0, 0, 1]])
    with Rasterizer(64, 64) as raster:
        out = raster.render([mesh], T_world_cam, K)
    assert out.depth_m[32, 32] == pytest.approx(3.0 - SEAT_HEIGHT_M, abs=1e-4)
    facing = np.array([np.cos(yaw), np.sin(yaw)])
    high = mesh.vertices_world[mesh.vertices_world[:, 2] > SEAT_HEIGHT_M + 0.05, :2] - [1.0, 2.0]
    assert np.all(high @ facing < -0.15)  # the backrest is behind the seat centre


def test_build_set_rejects_a_clear_disc_that_leaves_no_room_for_props():
    with pytest.raises(InputError, match="clear_radius_m"):
        build_set(np.random.default_rng(0), half_size_m=8.0, clear_radius_m=7.0)


def test_a_view_of_the_set_has_dense_well_spread_corners_on_ground_and_walls(film_set):
    """At 320x180, from 5 m, Shi-Tomasi corners cover the frame; the same set without
    its textures (each mesh in its mean colour) has an order of magnitude fewer."""
    eye, target = np.array([CENTRE[0], CENTRE[1] - 5.0, 1.6]), np.array([CENTRE[0], CENTRE[1], 1.25])
    T_world_cam = look_at(torch.from_numpy(eye), torch.from_numpy(target)).numpy()
    K = np.array([[800 / 3, 0.0, 160.0], [0.0, 800 / 3, 90.0], [0.0, 0.0, 1.0]])
    untextured = [Mesh(m.vertices_world, m.faces, color=m.texture.mean((0, 1)) / 255) for m in film_set.meshes]
    counts = {}
    with Rasterizer(320, 180) as raster:
        for name, meshes in (("textured", film_set.meshes), ("untextured", untextured)):
            lights = dict(key_light_world=film_set.key_light_world, fill_light_world=film_set.fill_light_world)
            out = raster.render(meshes, T_world_cam, K, background=film_set.sky_rgb, **lights)
            corners = cv2.goodFeaturesToTrack(cv2.cvtColor(out.rgb, cv2.COLOR_RGB2GRAY), 2000, 0.01, 3)
            uv = np.zeros((0, 2)) if corners is None else corners[:, 0]
            cells = np.histogram2d(uv[:, 1], uv[:, 0], bins=(4, 8), range=((0, 180), (0, 320)))[0]
            # lift each corner on a surface to the world with its depth: the ground is z = 0
            depth = out.depth_m[uv[:, 1].astype(int), uv[:, 0].astype(int)]
            on_surface = np.isfinite(depth)
            rays = np.c_[uv[on_surface] + 0.5, np.ones(on_surface.sum())] @ np.linalg.inv(K).T  # pixel centres
            z_world = (rays * depth[on_surface, None]) @ T_world_cam[2, :3] + T_world_cam[2, 3]
            counts[name] = (len(uv), int((cells >= 5).sum()), int((z_world < 0.01).sum()), int((z_world > 0.3).sum()))
    total, good_cells, on_ground, above = counts["textured"]
    assert total >= 450 and good_cells >= 24, counts  # of 32 cells of 40 x 45 px
    assert on_ground >= 120 and above >= 200, counts  # the ground, and the facades and props
    assert counts["untextured"][0] < total / 5, counts
