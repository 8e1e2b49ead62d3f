"""``make demo``: the main job on a default input the project makes itself.

It renders a synthetic shot with ``reshoot synth``, runs ``reshoot extract`` on its video
(the stages that exist: decode, perceive, camera_init, bodies, refine), and scores the result against
the ground truth with ``reshoot eval``. ``make_ground_truth`` (stick figures, no rendering) makes the
small shots of the unit tests.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from reshoot.geometry import look_at, world_to_pixels
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


def run_demo(out: Path) -> None:
    from reshoot.cli import main as cli

    print("reshoot demo: renders a synthetic shot with exact ground truth (`reshoot synth`: an arc around two\n"
          "anny actors, 3 s), runs the extraction on its video (`reshoot extract`: perceive, camera, bodies,\n"
          "refine by differentiable filming, then the scene, overlay, trajectory and report) and scores it\n"
          "against the truth (`reshoot eval`).\n")
    run = out / "run"
    steps = [
        ["synth", "--shot-type", "arc", "--people", "2", "--seconds", "3", "--seed", "0", "--out", str(out / "shot")],
        ["extract", str(out / "shot" / "video.mp4"), "--out", str(run)],
        ["eval", str(run / "shot"), "--gt", str(out / "shot" / "gt")],
    ]
    for argv in steps:
        print(f"$ reshoot {' '.join(argv)}")
        if cli(argv) != 0:
            raise SystemExit(f"reshoot demo: `reshoot {argv[0]}` failed")
        print()
    print(f"outputs in {out}/:\n"
          f"  shot/video.mp4, shot/gt/     the synthetic shot and its ground truth\n"
          f"  run/scene.glb                the camera and both actors, animated: open it in Blender (File > Import >\n"
          f"                               glTF 2.0), look through the camera, and set the video as its background\n"
          f"  run/overlay.mp4              the video with the bodies found drawn on\n"
          f"  run/trajectory.png           the camera and the actors' paths from above and from the side\n"
          f"  run/report.md, report.json   stage times, fit to the footage, warnings\n"
          f"  run/shot/                    everything found, as a shot folder (`reshoot info {run / 'shot'}`)")
