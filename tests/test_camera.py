"""Camera initialisation against the synthetic generator's ground truth: the model each
kind of shot needs, the path, the focal length, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from reshoot.errors import InputError
from reshoot.eval.trajectory import focal_error_pct, trajectory_errors
from reshoot.shot import Shot
from reshoot.stages.camera.bundle import BundleProblem, adjust, residuals_px
from reshoot.stages.camera.solve import SolveConfig, solve
from reshoot.stages.camera.stage import camera_init, level_world
from reshoot.stages.camera.tracks import track_background
from reshoot.stages.decode import decode
from reshoot.synth.generate import SynthConfig, generate


def _shot(tmp_path_factory, shot_type: str, seconds: float = 2.0, seed: int = 3) -> tuple[Shot, object]:
    out = tmp_path_factory.mktemp(shot_type)
    generate(SynthConfig(shot_type=shot_type, people=1, seconds=seconds, fps=24.0, width=640, height=360, seed=seed), out)
    gt = Shot.load(out / "gt")
    return gt, decode(out / "video.mp4")


def _solved(gt: Shot, footage) -> Shot:
    """camera_init on a shot holding the ground truth's people masks (perception aside)."""
    est = Shot(video=footage.video, masks=gt.masks)
    return camera_init(est, footage)


@pytest.mark.parametrize("shot_type", ["arc", "pan"])
def test_camera_path_and_focal_length_match_the_ground_truth(tmp_path_factory, shot_type):
    gt, footage = _shot(tmp_path_factory, shot_type)
    est = _solved(gt, footage)
    meta = est.meta["camera_init"]
    assert meta["model"] == {"arc": "general", "pan": "rotation"}[shot_type]
    assert meta["focal_source"] == "estimated" and meta["scale"] == "arbitrary" and not est.camera.metric
    assert est.camera.registered.all()
    err = trajectory_errors(est.camera.T_world_cam, gt.camera.T_world_cam)
    assert err.rot_err_deg <= 0.5
    assert focal_error_pct(est.lens.fx, gt.lens.fx) <= 2.0
    if shot_type == "arc":
        assert err.ate_pct <= 1.0
    else:  # a pan turns about a fixed point: no drift
        assert err.ate_m < 1e-9
    # the world: Z up (ground truth's cameras are levelled: their x axes lie flat), first camera 1.6 up
    assert np.abs(est.camera.T_world_cam[:, 2, 0]).max() < 0.02
    assert est.camera.T_world_cam[0, :3, 3] == pytest.approx([0, 0, 1.6])


def test_a_translating_camera_gets_its_path_and_an_assumed_focal_length(tmp_path_factory):
    gt, footage = _shot(tmp_path_factory, "track")
    est = _solved(gt, footage)
    meta = est.meta["camera_init"]
    assert meta["model"] == "general" and meta["focal_source"] == "assumed"
    assert any("too little to show it" in n for n in meta["notes"])
    assert trajectory_errors(est.camera.T_world_cam, gt.camera.T_world_cam).ate_pct <= 1.0


def test_a_shot_without_background_points_falls_back_to_a_flagged_still_camera(tmp_path_factory):
    gt, footage = _shot(tmp_path_factory, "static", seconds=0.5)
    everything = Shot(video=footage.video, masks=type(gt.masks)(labels=np.ones_like(gt.masks.labels)))
    est = camera_init(everything, footage)  # "people" cover the whole frame: no background
    assert not est.camera.registered.any() and "too few background points" in est.meta["camera_init"]["notes"][0]
    with pytest.raises(InputError, match="camera model"):
        solve(track_background(iter(()), None), 10, 10, SolveConfig(model="dolly"))


def test_bundle_adjustment_recovers_a_known_focal_length_and_path():
    from scipy.spatial.transform import Rotation

    from reshoot.stages.camera.bundle import project

    rng = np.random.default_rng(0)
    C, P = 12, 300
    pts = rng.uniform([-4, -2, 6], [4, 2, 14], (P, 3))
    rv = np.stack([[0, 0.03 * i, 0] for i in range(C)])
    tr = np.stack([[-0.15 * i, 0, 0] for i in range(C)])
    cam, pid = np.repeat(np.arange(C), P), np.tile(np.arange(P), C)
    principal = np.array([320.0, 180.0])
    uv, z = project(rv[cam], tr[cam], np.full(len(cam), 500.0), pts[pid], principal)
    seen = (z > 0) & (np.abs(uv - principal) < principal).all(1)
    start = BundleProblem(rv + rng.normal(0, 0.005, rv.shape) * (np.arange(C) > 0)[:, None],
                          tr + rng.normal(0, 0.03, tr.shape) * (np.arange(C) > 0)[:, None], np.full(C, 450.0),
                          pts + rng.normal(0, 0.1, pts.shape), cam[seen], pid[seen], uv[seen], principal)  # fmt: skip
    out = adjust(start, "shared")
    assert np.median(residuals_px(start)) > 5 and np.max(residuals_px(out)) < 1e-3
    assert out.focal[0] == pytest.approx(500.0, rel=1e-5)
    assert Rotation.from_rotvec(out.rotvec).as_matrix() == pytest.approx(Rotation.from_rotvec(rv).as_matrix(), abs=1e-6)
    # the path up to scale (the first camera is the gauge)
    s = np.linalg.norm(out.trans[-1]) / np.linalg.norm(tr[-1])
    assert out.trans / s == pytest.approx(tr, abs=1e-5)


def test_level_world_puts_z_up_and_the_first_camera_above_the_origin():
    from reshoot.stages.camera.solve import CameraSolution

    # cameras looking along +Z of a solver world whose "up" is -Y, moving along X
    T = 5
    R_cw = np.repeat(np.eye(3)[None], T, 0)
    t_cw = -np.stack([[0.5 * i, 0, 0] for i in range(T)])
    sol = CameraSolution(R_cw, t_cw, np.full(T, 500.0), np.ones(T, bool), np.zeros((0, 3)), "general", "estimated")
    T_wc = level_world(sol)
    assert T_wc[0, :3, 3] == pytest.approx([0, 0, 1.6])
    assert T_wc[0, :3, 2] == pytest.approx([0, 1, 0])  # looking along +Y
    assert T_wc[0, :3, 1] == pytest.approx([0, 0, -1])  # image down is world down
    assert np.ptp(T_wc[:, 2, 3]) == pytest.approx(0)  # moving level
