"""``make demo``: the main job on a default input the project makes itself.

The pipeline stages (perceive, camera init, bodies, refine) are not built yet. Until
they are, the demo exercises what exists: it renders a synthetic shot with ``reshoot
synth`` (an arc around two anny actors, 3 s at 24 fps), makes a stand-in "estimate" of
it (the same shot seen in another world frame, with camera, lens and joint noise), and
prints ``reshoot info`` and ``reshoot eval`` of the estimate. ``make_ground_truth``
(stick figures, no rendering) makes the small shots of the unit tests.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from reshoot.geometry import look_at, se3_exp, transform_points, world_to_pixels
from reshoot.keypoints import MEDIAPIPE33
from reshoot.shot import Actor, ActorObservations, Camera, Lens, Shot, Video

log = logging.getLogger(__name__)

#: Joints of the demo's stick figures: (name, height above ground in m, lateral offset in m).
STICK_JOINTS = (
    ("nose", 1.62, 0.0), ("left_shoulder", 1.45, 0.19), ("right_shoulder", 1.45, -0.19),
    ("left_elbow", 1.17, 0.22), ("right_elbow", 1.17, -0.22), ("left_wrist", 0.92, 0.22),
    ("right_wrist", 0.92, -0.22), ("left_hip", 0.95, 0.11), ("right_hip", 0.95, -0.11),
    ("left_knee", 0.52, 0.11), ("right_knee", 0.52, -0.11), ("left_ankle", 0.08, 0.11),
    ("right_ankle", 0.08, -0.11),
)  # fmt: skip


def stick_walker(times_s: np.ndarray, start_xy: tuple[float, float], heading_rad: float, speed_mps: float) -> np.ndarray:
    """World joints (T, J, 3) of a stick figure walking in a straight line, legs and arms swinging."""
    names = [j[0] for j in STICK_JOINTS]
    base = np.array([[0.0, lat, h] for _, h, lat in STICK_JOINTS])  # body frame: x forward, y left, z up
    phase = 2 * np.pi * 0.9 * times_s  # ~0.9 strides per second
    joints = np.repeat(base[None], len(times_s), 0)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        swing = sign * np.sin(phase)
        joints[:, names.index(f"{side}_knee"), 0] += 0.15 * swing
        joints[:, names.index(f"{side}_ankle"), 0] += 0.30 * swing
        joints[:, names.index(f"{side}_elbow"), 0] -= 0.08 * swing
        joints[:, names.index(f"{side}_wrist"), 0] -= 0.20 * swing
    c, s = np.cos(heading_rad), np.sin(heading_rad)
    R = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    offset = np.stack([start_xy[0] + c * speed_mps * times_s, start_xy[1] + s * speed_mps * times_s, 0 * times_s], -1)
    return joints @ R.T + offset[:, None, :]


def make_ground_truth(seconds: float = 3.0, fps: float = 24.0, width: int = 960, height: int = 540) -> Shot:
    """An arc shot around two walking stick figures, with exact camera, lens and 2D keypoints."""
    T = int(round(seconds * fps))
    t = np.arange(T) / fps
    names = [j[0] for j in STICK_JOINTS]
    actors_world = [stick_walker(t, (-0.8, 0.3), 0.2, 0.6), stick_walker(t, (0.9, -0.4), 2.9, 0.5)]
    angle = np.deg2rad(-110 + 40 * t / seconds)  # a 40-degree arc around the pair
    eye = np.stack([5.0 * np.cos(angle), 5.0 * np.sin(angle), np.full(T, 1.7)], -1)
    target = np.array([0.0, 0.0, 1.1])
    T_world_cam = look_at(torch.from_numpy(eye), torch.from_numpy(np.broadcast_to(target, eye.shape).copy())).numpy()
    lens = Lens.constant(T, fx=800.0, fy=800.0, cx=width / 2, cy=height / 2)
    idx = [MEDIAPIPE33.index(n) for n in names]
    actors = []
    for k, joints in enumerate(actors_world):
        uv, depth = world_to_pixels(torch.from_numpy(joints), torch.from_numpy(T_world_cam), torch.from_numpy(lens.K()))
        kpts = np.zeros((T, len(MEDIAPIPE33), 2))
        conf = np.zeros((T, len(MEDIAPIPE33)))
        kpts[:, idx] = uv.numpy()
        conf[:, idx] = (depth.numpy() > 0).astype(float)
        boxes = np.concatenate([uv.numpy().min(1), uv.numpy().max(1)], -1)
        obs = ActorObservations(keypoint_format="mediapipe33", kpts2d_px=kpts, kpts_conf=conf, boxes_xyxy_px=boxes)
        actors.append(
            Actor(track_id=k + 1, present=np.ones(T, bool), observations=obs, joint_names=names, joints_world=joints)
        )
    shot = Shot(
        video=Video(fps=fps, num_frames=T, width=width, height=height, source="reshoot demo (stick figures)"),
        lens=lens,
        camera=Camera(T_world_cam=T_world_cam, metric=True),
        actors=actors,
        meta={"synthetic": True, "generator": "reshoot.demo.make_ground_truth"},
    )
    shot.record("demo-ground-truth", {"seconds": seconds, "fps": fps, "size": [width, height]}, ["video", "lens", "camera", "actors"])
    return shot


def make_estimate(gt: Shot, seed: int = 0, cam_noise_m: float = 0.01, rot_noise_deg: float = 0.2,
                  joint_noise_m: float = 0.03, focal_bias: float = 0.01) -> Shot:
    """A stand-in estimate: ``gt`` in another world frame (a rigid motion: the world's
    origin and heading are arbitrary) with camera, focal and joint noise."""
    rng = np.random.default_rng(seed)
    T_new_world = se3_exp(torch.tensor([0.3, -0.2, 1.0, 2.0, -1.0, 0.5], dtype=torch.float64))
    noise = np.concatenate(
        [rng.normal(0, np.deg2rad(rot_noise_deg), (gt.num_frames, 3)), rng.normal(0, cam_noise_m, (gt.num_frames, 3))], -1
    )
    T_world_cam = T_new_world @ torch.from_numpy(gt.camera.T_world_cam) @ se3_exp(torch.from_numpy(noise))
    actors = []
    for a in gt.actors:
        joints = transform_points(T_new_world, torch.from_numpy(a.joints_world)).numpy()
        joints = joints + rng.normal(0, joint_noise_m, joints.shape)
        actors.append(Actor(track_id=a.track_id + 100, present=a.present.copy(), observations=a.observations,
                            joint_names=list(a.joint_names), joints_world=joints))
    lens = Lens(fx=gt.lens.fx * (1 + focal_bias), fy=gt.lens.fy * (1 + focal_bias), cx=gt.lens.cx, cy=gt.lens.cy)
    shot = Shot(video=gt.video, lens=lens, camera=Camera(T_world_cam=T_world_cam.numpy(), metric=True), actors=actors)
    shot.record("demo-estimate", {"seed": seed, "cam_noise_m": cam_noise_m, "rot_noise_deg": rot_noise_deg,
                                  "joint_noise_m": joint_noise_m, "focal_bias": focal_bias}, ["lens", "camera", "actors"])
    return shot


def run_demo(out: Path) -> None:
    from reshoot.cli import main as cli
    from reshoot.synth.generate import SynthConfig

    print("reshoot demo: the extraction stages are not built yet. This demo renders a synthetic shot with\n"
          "exact ground truth (`reshoot synth`: an arc around two anny actors, 3 s), makes a noisy stand-in\n"
          "estimate of it, and evaluates the estimate against the ground truth.\n")
    cfg = SynthConfig(shot_type="arc", people=2, seconds=3.0, seed=0)
    print(f"$ reshoot synth --shot-type {cfg.shot_type} --people {cfg.people} --seconds {cfg.seconds:g} --seed {cfg.seed} "
          f"--out {out / 'shot'}")
    cli(["synth", "--shot-type", cfg.shot_type, "--people", str(cfg.people), "--seconds", str(cfg.seconds),
         "--seed", str(cfg.seed), "--out", str(out / "shot")])  # fmt: skip
    gt_dir = out / "shot" / "gt"
    est_dir = make_estimate(Shot.load(gt_dir)).save(out / "estimate")
    print(f"\n$ reshoot info {est_dir}")
    cli(["info", str(est_dir)])
    print(f"\n$ reshoot eval {est_dir} --gt {gt_dir}")
    cli(["eval", str(est_dir), "--gt", str(gt_dir)])
    print(f"\noutputs in {out}/: shot/video.mp4, shot/gt/ (ground truth) and estimate/ (shot folders)")
