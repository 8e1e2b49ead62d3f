from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from reshoot.demo import make_ground_truth
from reshoot.shot import InstanceMasks, Shot

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FOOTAGE = SHARED / "footage"


@pytest.fixture(autouse=True)
def _seed_and_threads():
    torch.manual_seed(0)
    np.random.seed(0)


@pytest.fixture
def small_shot() -> Shot:
    """A 12-frame 160x90 arc shot of two stick figures, with instance masks drawn from
    their 2D boxes so that every field of the shot model is populated."""
    shot = make_ground_truth(seconds=0.5, fps=24.0, width=160, height=90)
    labels = np.zeros((shot.num_frames, 90, 160), np.uint8)
    for k, actor in enumerate(shot.actors):
        for t, (x0, y0, x1, y1) in enumerate(actor.observations.boxes_xyxy_px.round().astype(int)):
            labels[t, max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)] = k + 1
    shot.masks = InstanceMasks(labels=labels)
    shot.video.timestamps_s = np.arange(shot.num_frames) / shot.video.fps
    return shot


@pytest.fixture
def footage_dir() -> Path:
    """../shared/footage (real clips), or skip the test when it is absent."""
    if not FOOTAGE.is_dir():
        pytest.skip(f"real footage {FOOTAGE} is absent (../shared/footage is not beside the checkout)")
    return FOOTAGE


def make_body_shot(num_frames: int = 6, width: int = 160, height: int = 90) -> Shot:
    """Two anny bodies (fitted with the low-poly mesh) walking sideways in front of a still
    camera, with instance masks rendered from the bodies themselves (the full mesh)."""
    from reshoot.bodymodel import load_anny, model_id, pose_body
    from reshoot.geometry import look_at
    from reshoot.render.labels import render_labels
    from reshoot.shot import Actor, BodyParams, Camera, Lens, Video

    anny_model = load_anny("fit", "float64")
    T, B = num_frames, anny_model.bone_count
    quats = np.zeros((T, B, 4))
    quats[..., 0] = 1.0
    actors = []
    for k, (x0, pheno) in enumerate([(-0.6, {"gender": 0.0, "height": 0.6}), (0.7, {"gender": 1.0, "height": 0.4})]):
        T_world_root = np.repeat(np.eye(4)[None], T, 0)
        T_world_root[:, 0, 3] = x0 + 0.05 * np.arange(T)
        T_world_root[:, 2, 3] = 0.86
        body = BodyParams(model=model_id("fit"), phenotype=pheno, bone_names=list(anny_model.bone_labels),
                          bone_quats_wxyz=quats.copy(), T_world_root=T_world_root)
        posed = pose_body(body.model, body.phenotype, body.bone_quats_wxyz, body.T_world_root)
        actors.append(Actor(track_id=k + 1, present=np.ones(T, bool), body=body,
                            joint_names=list(anny_model.bone_labels), joints_world=posed.bone_heads_world))
    eye = torch.tensor([[0.0, -5.0, 1.4]], dtype=torch.float64).expand(T, 3)
    T_world_cam = look_at(eye, torch.tensor([0.0, 0.0, 0.9], dtype=torch.float64).expand(T, 3)).numpy()
    shot = Shot(
        video=Video(fps=24.0, num_frames=T, width=width, height=height),
        lens=Lens.constant(T, 120.0, 120.0, width / 2, height / 2),
        camera=Camera(T_world_cam=T_world_cam, metric=True),
        actors=actors,
    )
    shot.masks = InstanceMasks(labels=render_labels(shot))
    return shot


@pytest.fixture(scope="session")
def body_shot() -> Shot:
    return make_body_shot()


@pytest.fixture(scope="session")
def walker(tmp_path_factory) -> Shot:
    """The ground truth of a 2 s arc around one walker, 480x270 at 8 fps (the refine tests' case)."""
    from reshoot.synth.generate import SynthConfig, generate

    out = tmp_path_factory.mktemp("walker")
    generate(SynthConfig(shot_type="arc", people=1, seconds=2.0, fps=8.0, width=480, height=270, seed=3), out)
    return Shot.load(out / "gt")


def joints_off_px(shot: Shot, T_world_cam: np.ndarray, truth: Shot) -> np.ndarray:
    """(T,) how far, on average, the true joints land from where the true camera sees
    them when seen through ``T_world_cam`` and ``shot``'s lens instead (pixels)."""
    import torch

    from reshoot.geometry import world_to_pixels

    joints = torch.from_numpy(truth.actors[0].joints_world)
    seen, _ = world_to_pixels(joints, torch.from_numpy(T_world_cam), torch.from_numpy(shot.lens.K()))
    true, _ = world_to_pixels(joints, torch.from_numpy(truth.camera.T_world_cam), torch.from_numpy(truth.lens.K()))
    return np.linalg.norm((seen - true).numpy(), axis=-1).mean(1)


def turned(T_world_cam: np.ndarray, yaw_deg: np.ndarray, pitch_deg: np.ndarray) -> np.ndarray:
    """A copy of the path with each camera turned about its own axes (pan ``yaw``, tilt ``pitch``)."""
    out = T_world_cam.copy()
    for t, (y, p) in enumerate(zip(np.radians(yaw_deg), np.radians(pitch_deg))):
        Ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
        Rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
        out[t, :3, :3] = out[t, :3, :3] @ Ry @ Rx
    return out
