"""Cameras that move without turning: their orientation held when the background allows
(``solve._held_if_still``), and the dolly zoom the background cannot show
(``stages.camera.zoom``). Exact background tracks of a courtyard, with an actor's feet
and height, projected through known paths."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from reshoot.stages.camera.bundle import project
from reshoot.stages.camera.solve import solve
from reshoot.stages.camera.tracks import PointTracks
from reshoot.stages.camera.zoom import Figures, resolve
from reshoot.synth.camera_paths import PathConfig, camera_path

W, H = 960, 540
STATURE = 1.7


def _courtyard(rng: np.random.Generator) -> np.ndarray:
    """Background points behind an actor at the origin, seen from +X: ground, props, a facade."""
    ground = np.c_[rng.uniform(-14, -0.5, 900), rng.uniform(-7, 7, 900), np.zeros(900)]
    props = np.c_[rng.uniform(-13, -2, 400), rng.uniform(-7, 7, 400), rng.uniform(0, 2.5, 400)]
    facade = np.c_[np.full(600, -14.0), rng.uniform(-9, 9, 600), rng.uniform(0, 6, 600)]
    return np.concatenate([ground, props, facade])


def _film(T_world_cam: np.ndarray, fx: np.ndarray, feet_world: np.ndarray, seed: int = 0) -> tuple[PointTracks, Figures]:
    """Background tracks (0.2 px noise) and the actor's figure in every frame."""
    rng = np.random.default_rng(seed)
    points = _courtyard(rng)
    principal = np.array([W / 2, H / 2])
    T_cw = np.linalg.inv(T_world_cam)

    def image(t: int, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rv = np.repeat(Rotation.from_matrix(T_cw[t, :3, :3]).as_rotvec()[None], len(X), 0)
        return project(rv, np.repeat(T_cw[t, :3, 3][None], len(X), 0), np.full(len(X), fx[t]), X, principal)

    point, frame, xy = [], [], []
    feet, tall = np.full((1, len(fx), 2), np.nan), np.full((1, len(fx)), np.nan)
    for t in range(len(fx)):
        uv, z = image(t, points)
        seen = np.flatnonzero((z > 0) & (uv[:, 0] > 0) & (uv[:, 0] < W) & (uv[:, 1] > 0) & (uv[:, 1] < H))
        point.append(seen), frame.append(np.full(len(seen), t)), xy.append(uv[seen] + rng.normal(0, 0.2, (len(seen), 2)))
        ends, _ = image(t, np.stack([feet_world[t], feet_world[t] + [0, 0, STATURE]]))
        feet[0, t], tall[0, t] = ends[0], ends[0, 1] - ends[1, 1]
    point, frame, xy = np.concatenate(point), np.concatenate(frame), np.concatenate(xy)
    _, point = np.unique(point, return_inverse=True)
    return PointTracks(point, frame, xy, int(point.max()) + 1, len(fx)), Figures(feet, tall)


def _path(shot_type: str, T: int = 48):
    return camera_path(shot_type, np.zeros((T, 3)), W, PathConfig(heading_deg=0.0))


def _rotation_error_deg(sol, T_world_cam: np.ndarray) -> np.ndarray:
    R_true = np.linalg.inv(T_world_cam)[:, :3, :3]
    est = Rotation.from_matrix(sol.R_cam_world) * Rotation.from_matrix(sol.R_cam_world[0]).inv()
    true = Rotation.from_matrix(R_true) * Rotation.from_matrix(R_true[0]).inv()
    return np.degrees(np.linalg.norm((est * true.inv()).as_rotvec(), axis=1))


@pytest.mark.parametrize("shot_type", ["track", "push-in"])
def test_a_camera_that_does_not_turn_is_held_still_and_a_handheld_one_is_not(shot_type):
    T = 48
    still = camera_path(shot_type, np.zeros((T, 3)), W, PathConfig(heading_deg=0.0))
    tracks, _ = _film(still.T_world_cam, still.fx_px, np.zeros((T, 3)))
    sol = solve(tracks, W, H)
    assert any("does not turn" in n for n in sol.notes) and sol.registered.all()
    assert np.ptp(sol.R_cam_world, axis=0).max() == 0  # one orientation for the whole shot
    C = -np.einsum("tji,tj->ti", sol.R_cam_world, sol.t_cam_world)
    C_true = still.T_world_cam[:, :3, 3]
    # the path's shape: each frame's share of the move, along it
    along = (C - C[0]) @ (C[-1] - C[0]) / np.linalg.norm(C[-1] - C[0]) ** 2
    along_true = (C_true - C_true[0]) @ (C_true[-1] - C_true[0]) / np.linalg.norm(C_true[-1] - C_true[0]) ** 2
    assert np.abs(along - along_true).max() < 0.01
    # a handheld wobble of 0.1 degrees (0.2 over the shot) is a turn: not held, and followed
    shaky = camera_path(shot_type, np.zeros((T, 3)), W, PathConfig(heading_deg=0.0, handheld_deg=0.1),
                        np.random.default_rng(1))  # fmt: skip
    tracks, _ = _film(shaky.T_world_cam, shaky.fx_px, np.zeros((T, 3)))
    sol = solve(tracks, W, H)
    assert not any("does not turn" in n for n in sol.notes)
    assert _rotation_error_deg(sol, shaky.T_world_cam).max() < 0.05 < _rotation_error_deg(sol, still.T_world_cam).max()


def test_a_dolly_zoom_is_found_from_the_actor_and_its_zoom_from_eye_level():
    path = _path("dolly-zoom")
    tracks, figs = _film(path.T_world_cam, path.fx_px, np.zeros((len(path.fx_px), 3)))
    fixed = solve(tracks, W, H)
    # the background alone: a pull-out with the focal held explains it
    assert fixed.model == "general" and not fixed.zooms and fixed.reprojection_px < 0.5
    found = resolve(fixed, figs, W, H)
    assert found is not None and found.zooms and any("dolly zoom" in n for n in found.notes)
    truth = path.fx_px / path.fx_px[0]  # 800 -> 560 px while pushing in 1.5 of 5 m
    assert np.abs(found.focal_px / found.focal_px[0] / truth - 1).max() < 0.03
    C = -np.einsum("tji,tj->ti", found.R_cam_world, found.t_cam_world)
    forward = found.R_cam_world[0, 2]  # the first camera's view axis
    move = C[-1] - C[0]
    assert move @ forward / np.linalg.norm(move) > 0.99  # it pushes in, not out
    # the background's points are kept (none falls behind the camera)
    assert len(found.points) > 0.99 * len(fixed.points)


def test_a_dolly_zoom_with_its_focal_length_given_zooms_from_it():
    from reshoot.stages.camera.solve import SolveConfig

    path = _path("dolly-zoom")
    tracks, figs = _film(path.T_world_cam, path.fx_px, np.zeros((len(path.fx_px), 3)))
    found = resolve(solve(tracks, W, H, SolveConfig(focal_px=800.0)), figs, W, H)
    assert found is not None and found.focal_source == "given"
    assert np.abs(found.focal_px / path.fx_px - 1).max() < 0.03  # 800 px at the start, 560 px at the end


@pytest.mark.parametrize("shot_type", ["push-in", "pull-out"])
def test_a_push_in_or_pull_out_keeps_its_fixed_lens(shot_type):
    path = _path(shot_type)
    tracks, figs = _film(path.T_world_cam, path.fx_px, np.zeros((len(path.fx_px), 3)))
    fixed = solve(tracks, W, H)
    assert fixed.model == "general" and not fixed.zooms
    assert resolve(fixed, figs, W, H) is None


def test_an_actor_walking_towards_a_retreating_camera_is_not_a_dolly_zoom():
    """A backward tracking shot: the actor holds their size as a dolly zoom's does, but
    their feet stand on the ground in front of the background."""
    T = 48
    path = _path("pull-out", T)
    C = path.T_world_cam[:, :3, 3]
    feet = np.c_[C[:, 0] - C[0, 0], np.zeros(T), np.zeros(T)]  # walking with the camera, 5 m in front
    tracks, figs = _film(path.T_world_cam, path.fx_px, feet)
    fixed = solve(tracks, W, H)
    assert np.nanstd(figs.height_px) / np.nanmean(figs.height_px) < 0.01  # the size holds
    assert resolve(fixed, figs, W, H) is None
    assert not any("dolly zoom" in n for n in fixed.notes)  # settled by the feet, not for want of a ground


def test_figures_stand_on_their_lowest_foot_and_skip_cut_off_boxes():
    from reshoot.shot import Actor, ActorObservations
    from reshoot.stages.camera.zoom import FEET, figures

    T = 3
    kp, conf = np.zeros((T, 33, 2)), np.zeros((T, 33))
    kp[:, FEET] = [[400, 500], [420, 510], [398, 505], [421, 512], [405, 520], [425, 518]]
    conf[:, FEET] = 0.9
    conf[1, 31] = 0.1  # the lowest toe unseen in frame 1: the next lowest foot point stands
    boxes = np.array([[380, 100, 440, 521], [380, 100, 440, 521], [380, 0, 440, 521]], float)  # frame 2: cut off at the top
    actor = Actor(track_id=1, present=np.ones(T, bool),
                  observations=ActorObservations("mediapipe33", kp, conf, boxes))  # fmt: skip
    figs = figures([actor], T, W, H)
    assert figs.feet_px[0, 0] == pytest.approx([405, 520]) and figs.feet_px[0, 1] == pytest.approx([425, 518])
    assert figs.height_px[0, :2] == pytest.approx([420, 418]) and np.isnan(figs.height_px[0, 2])
