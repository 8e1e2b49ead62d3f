"""``reshoot synth``: a film shot with exact ground truth.

A shot is laid out around the camera's line of sight: a *performer* in the middle (who
walks, waves, talks, jumps, sits...), and with more people, a *partner* beside them or a
*passer-by* who crosses the frame in front of or behind the performer (and so occludes
or is occluded). The camera path of the shot type frames them on a third. Everything is
drawn from one seed: the same seed gives the same shot, array for array.

Output folder::

    DIR/video.mp4     H.264, yuv420p (what a user would feed reshoot)
    DIR/frames/       PNG frames, with --frames (lossless: 000000.png ...)
    DIR/gt/           the ground-truth shot: cameras, lens, bodies, joints, masks, keypoints
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from reshoot.errors import InputError, ReshootError
from reshoot.geometry import ray_rotation, world_to_pixels
from reshoot.shot import Actor, ActorObservations, Camera, InstanceMasks, Lens, Shot, Video
from reshoot.synth import SHOT_TYPES
from reshoot.synth.actors import SynthActor, body_parts, make_actor, sample_phenotype
from reshoot.synth.camera_paths import PathConfig, camera_path
from reshoot.synth.motion import Segment

log = logging.getLogger(__name__)

MAX_PEOPLE = 3
MAX_LAYOUTS = 20
MIN_GAP_M = 0.7
"""closest two actors' roots (pelvis centres) may come, on the ground"""
MIN_CAMERA_M = 1.5
"""closest an actor may come to the camera, on the ground"""


@dataclass
class SynthConfig:
    """What ``reshoot synth`` makes. Every field has a default that gives a useful shot."""

    shot_type: str = "arc"
    """camera behaviour, one of ``camera_paths.SHOT_TYPES``"""
    people: int = 1
    """actors in the shot, 1 to 3"""
    seconds: float = 5.0
    fps: float = 24.0
    width: int = 960
    height: int = 540
    seed: int = 0
    """everything random (layout, bodies, looks, motions, set) derives from it"""
    child: bool = False
    """the last actor is a child of about eight (anny age 0.3, about 1.3 m) instead of an adult"""
    handheld_deg: float = 0.0
    """amplitude of a handheld wobble of the camera (0: on sticks)"""
    focal_px: float | None = None
    """focal length at the start; default 800 px at 960 wide, scaled with the width"""
    frames: bool = False
    """also write lossless PNG frames"""
    crf: int = 16
    """H.264 quality of video.mp4 (0 lossless .. 51 worst)"""

    def check(self) -> None:
        if self.shot_type not in SHOT_TYPES:
            raise InputError(f"unknown shot type {self.shot_type!r}; expected one of {', '.join(SHOT_TYPES)}")
        if not 1 <= self.people <= MAX_PEOPLE:
            raise InputError(f"--people must be 1 to {MAX_PEOPLE}, received {self.people}")
        if not (self.seconds > 0 and self.fps > 0):
            raise InputError(f"--seconds and --fps must be positive, received {self.seconds} and {self.fps}")
        if self.width < 16 or self.height < 16 or self.width % 2 or self.height % 2:
            raise InputError(
                f"--size must be even and at least 16x16 (H.264 needs even sizes), received {self.width}x{self.height}"
            )
        if round(self.seconds * self.fps) < 2:
            raise InputError(f"a shot needs at least 2 frames; {self.seconds} s at {self.fps} fps has fewer")


@dataclass
class Role:
    """An actor's part in the layout: what they do and where, in the camera's ground frame
    (x: to the right of the image, y: away from the camera; metres, at the subject)."""

    script: list[Segment]
    start: tuple[float, float]
    facing_deg: float
    """0 faces the camera, +90 walks to the image's right"""
    framed: bool = True
    """whether the camera frames this actor (passers-by are not framed)"""


@dataclass
class SynthResult:
    shot: Shot
    actors: list[SynthActor]
    seconds: dict[str, float] = field(default_factory=dict)
    """wall time per phase: motion, render, encode, save"""


# ------------------------------------------------------------------------ layout


def _performer_script(rng: np.random.Generator, seconds: float, shot_type: str) -> tuple[list[Segment], float]:
    """The central actor's script and facing (deg, 0 = towards the camera)."""
    if shot_type == "follow":  # the camera follows a walker: walk the whole shot, maybe turning
        turn = float(rng.choice([0.0, -35.0, 35.0]))
        return [Segment("walk", seconds, turn_deg=turn)], float(rng.choice([-90.0, 90.0]))
    half = seconds / 2
    menu = [
        ([Segment("walk", half), Segment("wave", seconds - half)], rng.uniform(-60, 60)),
        ([Segment("talk", seconds)], rng.uniform(-40, 40)),
        ([Segment("walk", seconds, turn_deg=float(rng.choice([-90.0, 90.0])))], rng.choice([-90.0, 90.0])),
        ([Segment("stand", 0.6), Segment("jump", 2.0), Segment("talk", max(seconds - 2.6, 0.5))], rng.uniform(-30, 30)),
        ([Segment("talk", min(1.2, half)), Segment("sit", max(seconds - 1.2, half))], rng.uniform(-30, 30)),
        ([Segment("run", half), Segment("wave", seconds - half)], rng.choice([-80.0, 80.0])),
        ([Segment("wave", seconds)], rng.uniform(-30, 30)),
    ]
    script, facing = menu[rng.integers(len(menu))]
    return script, float(facing)


def layout(cfg: SynthConfig, rng: np.random.Generator) -> list[Role]:
    """Who does what, where: a performer, then a partner or a passer-by per extra person."""
    script, facing = _performer_script(rng, cfg.seconds, cfg.shot_type)
    roles = [Role(script, (0.0, 0.0), facing)]
    lanes = list(rng.permutation([-1.3, 1.6]))  # in front of the performer (occludes) or behind
    for k in range(1, cfg.people):
        if lanes and (rng.random() < 0.5 or cfg.shot_type == "follow"):  # a passer-by crossing the frame
            depth = float(lanes.pop())
            direction = float(rng.choice([-1.0, 1.0]))
            run = rng.random() < 0.25
            roles.append(Role([Segment("run" if run else "walk", cfg.seconds)], (-direction * 1.6, depth),
                              90.0 * direction, framed=False))  # fmt: skip
        else:  # a partner beside the performer, talking or waving
            side = 1.0 if k == 1 else -1.0
            action = "talk" if rng.random() < 0.6 else "wave"
            roles.append(Role([Segment(action, cfg.seconds)], (side * rng.uniform(0.8, 1.1), rng.uniform(-0.3, 0.4)),
                              -side * rng.uniform(20, 60)))  # fmt: skip
    return roles


def _cast(cfg: SynthConfig, rng: np.random.Generator, times: np.ndarray, view_heading: float
          ) -> tuple[list[Role], list[SynthActor]]:  # fmt: skip
    """Draw a layout seen from ``view_heading`` and build its actors."""
    back = np.array([np.cos(view_heading), np.sin(view_heading)])  # from the subject towards the camera
    right = np.array([-back[1], back[0]])  # the image's right, on the ground
    roles = layout(cfg, rng)
    actors = []
    for k, role in enumerate(roles):
        start = role.start[0] * right - role.start[1] * back
        facing = np.deg2rad(role.facing_deg)
        forward = np.cos(facing) * back + np.sin(facing) * right  # the direction the actor faces
        heading = float(np.arctan2(forward[0], -forward[1]))  # anny faces -Y at heading 0
        phenotype = sample_phenotype(rng, child=cfg.child and k == len(roles) - 1)
        actors.append(make_actor(role.script, times, start, heading, rng, phenotype))
    return roles, actors


def _clear_of_each_other(actors: list[SynthActor], cam_centres: np.ndarray) -> bool:
    """Whether the actors' roots stay ``MIN_GAP_M`` apart and ``MIN_CAMERA_M`` from the camera
    (on the ground plane) in every frame."""
    roots = [a.body.T_world_root[:, :2, 3] for a in actors]
    for i, p in enumerate(roots):
        if np.linalg.norm(p - cam_centres[:, :2], axis=1).min() < MIN_CAMERA_M:
            return False
        if any(np.linalg.norm(p - q, axis=1).min() < MIN_GAP_M for q in roots[i + 1 :]):
            return False
    return True


# ---------------------------------------------------------------------- generate


def generate(cfg: SynthConfig, out_dir: str | Path) -> SynthResult:
    """Make the shot of ``cfg`` and write it to ``out_dir`` (see the module docstring)."""
    from reshoot.render.raster import Mesh, Rasterizer
    from reshoot.synth.scene import build_set, chair
    from reshoot.videoio import VideoWriter

    cfg.check()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(cfg.seed)
    seconds: dict[str, float] = {}
    T = int(round(cfg.seconds * cfg.fps))
    times = np.arange(T) / cfg.fps

    t0 = time.perf_counter()
    for _ in range(MAX_LAYOUTS):  # draw layouts until nobody walks through someone, or into the camera
        view_heading = rng.uniform(0, 2 * np.pi)  # the side the camera films from
        roles, actors = _cast(cfg, rng, times, view_heading)
        framed = [a for a, r in zip(actors, roles) if r.framed]
        subject = np.mean([a.body.T_world_root[:, :3, 3] for a in framed], axis=0)
        focal = cfg.focal_px or 800.0 * cfg.width / 960
        # on a third, unless the subject travels: then centred, with room to move either way
        travels = np.linalg.norm(np.ptp(subject[:, :2], axis=0)) > 1.0 and cfg.shot_type != "follow"
        third = 0.5 if travels else float(rng.choice([1 / 3, 2 / 3]))
        path = camera_path(cfg.shot_type, subject, cfg.width,
                           PathConfig(focal_px=focal, handheld_deg=cfg.handheld_deg,
                                      heading_deg=np.rad2deg(view_heading), third=third), rng)  # fmt: skip
        if _clear_of_each_other(actors, path.T_world_cam[:, :3, 3]):
            break
    else:
        raise ReshootError(f"no layout of {MAX_LAYOUTS} drawn for seed {cfg.seed} keeps the actors apart; try another seed")
    seconds["motion"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    film_set = build_set(rng)
    seats = [chair(*_seat_under(a)) for a in actors if a.sitting.any()]
    lights = dict(background=film_set.sky_rgb, key_light_world=film_set.key_light_world,
                  fill_light_world=film_set.fill_light_world)  # fmt: skip
    lens = Lens(fx=path.fx_px, fy=path.fx_px.copy(), cx=np.full(T, cfg.width / 2), cy=np.full(T, cfg.height / 2),
                zooms=bool(np.ptp(path.fx_px) > 1e-9))  # fmt: skip
    K = lens.K()
    faces = body_parts().faces
    labels = np.zeros((T, cfg.height, cfg.width), np.uint8)
    frames_dir = out / "frames"
    if cfg.frames:
        frames_dir.mkdir(exist_ok=True)
    # anisotropic filtering keeps the ground sharp to the horizon: features for structure from motion
    with (
        Rasterizer(cfg.width, cfg.height, anisotropy=8) as raster,
        VideoWriter(out / "video.mp4", cfg.width, cfg.height, cfg.fps, cfg.crf) as video,
    ):
        for t in range(T):
            meshes = film_set.meshes + seats + [Mesh(a.vertices_world[t], faces, color=a.colors, label=k + 1)
                                                for k, a in enumerate(actors)]  # fmt: skip
            frame = raster.render(meshes, path.T_world_cam[t], K[t], **lights)
            labels[t] = frame.labels
            video.write(frame.rgb)
            if cfg.frames:
                _write_png(frames_dir / f"{t:06d}.png", frame.rgb)
    seconds["render"] = time.perf_counter() - t0

    shot = _ground_truth_shot(cfg, actors, path.T_world_cam, lens, labels, out / "video.mp4")
    shot.meta["synth"] = {
        "config": asdict(cfg),
        "view_heading_deg": float(np.rad2deg(view_heading)),
        "roles": [{"script": [asdict(s) for s in r.script], "framed": r.framed} for r in roles],
        "seats": len(seats),
    }
    t0 = time.perf_counter()
    shot.record("synth", asdict(cfg), wrote=["video", "lens", "camera", "actors", "masks"],
                seconds=sum(seconds.values()))  # fmt: skip
    shot.save(out / "gt")
    seconds["save"] = time.perf_counter() - t0
    log.info("synth %s: %d frames in %.1f s (%s)", out, T, sum(seconds.values()), seconds)
    return SynthResult(shot=shot, actors=actors, seconds=seconds)


def _seat_under(actor: SynthActor) -> tuple[np.ndarray, float]:
    """Where a sitting actor's chair goes: (seat centre xy, yaw rad), from the seated pose
    at the end of the shot (the chair stands in the set from the first frame)."""
    T_root = actor.body.T_world_root[-1]
    forward = T_root[:2, :2] @ np.array([0.0, -1.0])
    centre = T_root[:2, 3] + 0.06 * forward
    return centre, float(np.arctan2(forward[1], forward[0]))


def _ground_truth_shot(cfg: SynthConfig, actors: list[SynthActor], T_world_cam: np.ndarray, lens: Lens,
                       labels: np.ndarray, video_path: Path) -> Shot:  # fmt: skip
    import torch

    T = len(T_world_cam)
    W, H = cfg.width, cfg.height
    K = torch.from_numpy(lens.K())
    T_cam = torch.from_numpy(T_world_cam)
    shot_actors = []
    for k, a in enumerate(actors):
        uv, depth = world_to_pixels(torch.from_numpy(a.landmarks_world), T_cam, K)
        uv, depth = uv.numpy(), depth.numpy()
        inside = (depth > 0) & (uv[..., 0] >= 0) & (uv[..., 0] < W) & (uv[..., 1] >= 0) & (uv[..., 1] < H)
        col = np.clip(uv[..., 0].astype(int), 0, W - 1)
        row = np.clip(uv[..., 1].astype(int), 0, H - 1)
        owner = labels[np.arange(T)[:, None], row, col]
        hidden = (owner > 0) & (owner != k + 1)  # someone else is nearer there
        conf = (inside & ~hidden).astype(float)  # seen: in the frame and not behind someone else
        vuv, vdepth = world_to_pixels(torch.from_numpy(a.vertices_world), T_cam, K)
        vuv = vuv.numpy()
        boxes = np.concatenate([vuv.min(1), vuv.max(1)], -1)
        boxes[..., [0, 2]] = np.clip(boxes[..., [0, 2]], 0, W)
        boxes[..., [1, 3]] = np.clip(boxes[..., [1, 3]], 0, H)
        present = (labels == k + 1).reshape(T, -1).any(1)
        boxes[~present] = 0.0
        # the landmarks centred between the hips in the axes of a view along the ray through
        # them (what mediapipe's world landmarks estimate from a crop)
        T_cam_world = np.linalg.inv(T_world_cam)
        lm_cam = np.einsum("tij,tkj->tki", T_cam_world[:, :3, :3], a.landmarks_world)
        view = ray_rotation(torch.from_numpy(uv[:, [23, 24]].mean(1)), K).numpy()
        kpts3d = np.einsum("tji,tkj->tki", view, lm_cam - lm_cam[:, [23, 24]].mean(1, keepdims=True))
        obs = ActorObservations(keypoint_format="mediapipe33", kpts2d_px=uv, kpts_conf=conf, boxes_xyxy_px=boxes,
                                kpts3d_m=kpts3d)  # fmt: skip
        shot_actors.append(Actor(track_id=k + 1, present=present, observations=obs, body=a.body,
                                 joint_names=list(a.body.bone_names), joints_world=a.joints_world,
                                 label=a.look.describe()))  # fmt: skip
    video = Video(fps=cfg.fps, num_frames=T, width=W, height=H, source=str(video_path.resolve()),
                  timestamps_s=np.arange(T) / cfg.fps)  # fmt: skip
    return Shot(video=video, lens=lens, camera=Camera(T_world_cam=T_world_cam, metric=True), actors=shot_actors,
                masks=InstanceMasks(labels=labels))  # fmt: skip


# ---------------------------------------------------------------------- writing


def _write_png(path: Path, rgb: np.ndarray) -> None:
    import cv2

    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
