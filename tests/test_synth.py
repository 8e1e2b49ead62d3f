"""The synthetic shot generator: determinism, ground truth consistent with the pictures,
feet planted on the ground, and the CLI end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from reshoot.cli import main
from reshoot.geometry import world_to_pixels
from reshoot.render.raster import Mesh, Rasterizer
from reshoot.shot import Shot
from reshoot.synth.actors import body_parts, make_actor
from reshoot.synth.generate import SynthConfig, generate
from reshoot.synth.motion import Segment

TINY = dict(seconds=0.5, fps=12.0, width=384, height=216)  # hands a few pixels wide


@pytest.fixture(scope="module")
def two_people(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    result = generate(SynthConfig(shot_type="arc", people=2, seed=3, frames=True, **TINY), out)
    return out, result


def test_same_seed_same_shot_other_seed_other_shot(two_people, tmp_path):
    out, _ = two_people
    generate(SynthConfig(shot_type="arc", people=2, seed=3, frames=True, **TINY), tmp_path / "again")
    a, b = Shot.load(out / "gt"), Shot.load(tmp_path / "again" / "gt")
    assert np.array_equal(a.camera.T_world_cam, b.camera.T_world_cam)
    assert np.array_equal(a.masks.labels, b.masks.labels)
    for x, y in zip(a.actors, b.actors):
        assert np.array_equal(x.body.bone_quats_wxyz, y.body.bone_quats_wxyz)
        assert np.array_equal(x.joints_world, y.joints_world)
        assert np.array_equal(x.observations.kpts2d_px, y.observations.kpts2d_px)
        assert x.body.phenotype == y.body.phenotype
    for name in ("000000.png", "000005.png"):
        assert (out / "frames" / name).read_bytes() == (tmp_path / "again" / "frames" / name).read_bytes()
    other = generate(SynthConfig(shot_type="arc", people=2, seed=4, **TINY), tmp_path / "other")
    assert not np.allclose(other.shot.camera.T_world_cam, a.camera.T_world_cam)


def test_ground_truth_shot_is_complete_and_reloads(two_people):
    out, result = two_people
    shot = Shot.load(out / "gt")
    T = round(TINY["seconds"] * TINY["fps"])
    assert shot.num_frames == T and (shot.video.width, shot.video.height) == (TINY["width"], TINY["height"])
    assert (out / "video.mp4").stat().st_size > 0 and len(list((out / "frames").glob("*.png"))) == T
    assert shot.camera.metric and shot.masks is not None and len(shot.actors) == 2
    for actor in shot.actors:
        assert actor.observations.keypoint_format == "mediapipe33"
        assert actor.observations.kpts2d_px.shape == (T, 33, 2) and actor.joints_world.shape == (T, 38, 3)
    # the body parameters reproduce the rendered vertices exactly (they are the ground truth)
    from reshoot.bodymodel import pose_body

    a = shot.actors[0]
    posed = pose_body(a.body.model, a.body.phenotype, a.body.bone_quats_wxyz, a.body.T_world_root)
    assert np.abs(posed.vertices_world - result.actors[0].vertices_world).max() < 1e-6
    assert np.abs(posed.bone_heads_world - a.joints_world).max() < 1e-6


def test_keypoints_fall_on_the_rendered_bodies(two_people):
    """Every ground-truth landmark in the frame projects onto its body, in the depth buffer
    and the label image of a fresh render: a joint inside the body (shoulder, hip...) has
    the body's surface at its pixel, in front of it; a point on the surface (nose, ear,
    heel...) has the body's surface at its depth or in front (the heel seen from the
    front) within a pixel: on the silhouette the pixel centre may fall just outside.
    Someone nearer may hide either, and then it is marked unseen."""
    _, result = two_people
    shot, parts = result.shot, body_parts()
    K, T_cam = torch.from_numpy(shot.lens.K()), torch.from_numpy(shot.camera.T_world_cam)
    W, H = shot.video.width, shot.video.height
    checked = 0
    with Rasterizer(W, H) as raster:
        for t in range(shot.num_frames):
            meshes = [Mesh(a.vertices_world[t], parts.faces, label=k + 1) for k, a in enumerate(result.actors)]
            frame = raster.render(meshes, shot.camera.T_world_cam[t], shot.lens.K()[t])
            assert np.array_equal(frame.labels, shot.masks.labels[t])  # no prop stands in front of the actors
            for k, a in enumerate(result.actors):
                uv, depth = world_to_pixels(torch.from_numpy(a.landmarks_world[t]), T_cam[t], K[t])
                seen = shot.actors[k].observations.kpts_conf[t]
                for (u, v), d, s, (kind, _) in zip(uv.numpy(), depth.numpy(), seen, parts.landmarks):
                    if not (0 <= u < W and 0 <= v < H):
                        assert s == 0
                        continue
                    if not (1 <= u < W - 1 and 1 <= v < H - 1):
                        continue  # on the frame's edge: the pixels around it are partly outside
                    r, c = int(v), int(u)
                    if kind == "bone":
                        assert frame.depth_m[r, c] <= d and (frame.labels[r, c] == k + 1 or s == 0)
                    else:
                        near = (slice(max(r - 1, 0), r + 2), slice(max(c - 1, 0), c + 2))
                        # a pixel is ~1.5 cm wide at 5 m: the surface next to a rim point may recede that much
                        assert frame.depth_m[near].min() <= d + 0.03
                        assert (frame.labels[near] == k + 1).any() or (s == 0 and (frame.labels[near] > 0).any())
                    checked += 1
    assert checked > 200  # of 2 actors x 33 landmarks x 6 frames: most are in the frame


@pytest.mark.parametrize(
    "script",
    [
        [Segment("walk", 3.0, turn_deg=70.0)],
        [Segment("run", 2.0), Segment("wave", 1.0)],
        [Segment("jump", 2.0), Segment("talk", 1.0)],
        [Segment("stand", 0.5), Segment("sit", 2.5)],
    ],
    ids=["walk-turn", "run-wave", "jump-talk", "sit"],
)
def test_feet_stay_planted_while_they_carry_the_weight(script):
    times = np.arange(72) / 24.0
    actor = make_actor(script, times, np.array([1.0, 2.0]), 0.3, np.random.default_rng(0))
    v = actor.vertices_world
    assert v[..., 2].min() > -1e-9  # nothing goes through the ground
    planted = 0
    for side, sole in enumerate(body_parts().soles):
        down = v[:, sole, 2].min(1) < 0.001  # the sole touches the ground
        move = np.linalg.norm(np.diff(v[:, sole], axis=0), axis=-1).max(-1)  # (T-1,) worst sole vertex
        carrying = (actor.stance == side) & down
        both = carrying[1:] & carrying[:-1]
        planted += both.sum()
        assert np.all(move[both] < 1e-6)  # the weight-bearing foot does not move at all
        touching = down[1:] & down[:-1]
        # the other one may skid in the one frame it lands or lifts off (measured: <= 8 mm at
        # the first and last steps of a gait, 0 elsewhere), never more
        assert np.all(move[touching] < 0.01)
        assert np.mean(move[touching] > 1e-6) < 0.1
    assert planted > 30


@pytest.mark.parametrize("action", ["walk", "run"])
def test_a_gait_carries_the_body_forward_at_every_step(action):
    # the landing foot takes the weight only once it stops swinging forward: pinned
    # earlier, it threw the body back (-3.5 m/s for two frames of every step of a walk)
    times = np.arange(72) / 24.0
    actor = make_actor([Segment(action, 3.0)], times, np.zeros(2), 0.0, np.random.default_rng(1))
    forward = -np.diff(actor.body.T_world_root[:, 1, 3]) / np.diff(times)  # heading 0 faces -Y
    under_way = forward[12:48]  # after the first step, before the last (the gait stops at 3 s)
    assert under_way.min() > 0.5
    assert under_way.max() < 3.0 * np.median(under_way)


def test_a_walk_goes_somewhere_and_a_jump_leaves_the_ground():
    times = np.arange(96) / 24.0
    walk = make_actor([Segment("walk", 4.0)], times, np.zeros(2), 0.0, np.random.default_rng(1))
    travelled = walk.body.T_world_root[-1, :2, 3] - walk.body.T_world_root[0, :2, 3]
    assert 1.5 < np.linalg.norm(travelled) < 6.0 and travelled[1] < 0  # heading 0 faces -Y
    jump = make_actor([Segment("jump", 2.0)], times[:48], np.zeros(2), 0.0, np.random.default_rng(1))
    assert jump.vertices_world[..., 2].min(1).max() > 0.12  # both feet off the ground at the top


def test_three_people_keep_apart_and_clear_of_the_camera(tmp_path):
    shot = generate(SynthConfig(shot_type="push-in", people=3, seed=5, seconds=2.0, fps=6.0, width=96, height=64),
                    tmp_path).shot  # fmt: skip
    roots = [a.body.T_world_root[:, :2, 3] for a in shot.actors]
    cams = shot.camera.T_world_cam[:, :2, 3]
    for i, p in enumerate(roots):
        assert np.linalg.norm(p - cams, axis=1).min() >= 1.5
        for q in roots[i + 1 :]:
            assert np.linalg.norm(p - q, axis=1).min() >= 0.7


def test_bad_configs_are_one_line_errors(tmp_path, capsys):
    assert main(["synth", "--people", "4", "--out", str(tmp_path)]) == 1
    assert "--people must be 1 to 3" in capsys.readouterr().err
    assert main(["synth", "--size", "961x540", "--out", str(tmp_path)]) == 1
    assert "even" in capsys.readouterr().err
    assert main(["synth", "--size", "big", "--out", str(tmp_path)]) == 1
    assert "960x540" in capsys.readouterr().err


def test_cli_synth_then_info_and_eval_against_itself(tmp_path, capsys):
    out = tmp_path / "shot"
    assert main(["synth", "--shot-type", "dolly-zoom", "--people", "1", "--seconds", "0.5", "--fps", "8",
                 "--size", "160x96", "--seed", "2", "--out", str(out)]) == 0  # fmt: skip
    assert "actor 1:" in capsys.readouterr().out
    assert main(["info", str(out / "gt"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["frames"] == 4 and info["zooms"] and info["people"] == 1
    assert main(["eval", str(out / "gt"), "--gt", str(out / "gt"), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["pa"] == pytest.approx(100.0) and metrics["iou_person"] == pytest.approx(1.0)
    assert metrics["mpjpe2d_px"] == pytest.approx(0.0, abs=1e-9) and metrics["focal_err_pct"] == pytest.approx(0.0)
