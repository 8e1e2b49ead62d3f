"""The refine stage: differentiable filming (seed 001, sec. 3.1-3.2). The camera path
whose rendering of the actors matches the shot, then the bodies again with it.

The actors' posed anny meshes are rendered through the camera (``render.soft``: each
actor a flat colour on white, soft edges at ``RefineConfig.width`` pixels across) and
compared with the shot's instance masks painted the same way (``losses.composition_
loss``, two-sided), and their keypoints with the detected ones (``losses.joint_loss``).

Ours (``baseline="none"``) alternates, round after round while the loss over all frames
falls by at least ``min_gain``:

1. **camera**: the bodies held in the world, the path re-parameterised as the paper's
   continuous screw motion (``trajectory.CameraTrajectory``, Eq. 4-8: corrections in
   each camera's own frame; a still or panning camera, as the camera stage found it,
   stays so) and optimised as a whole, a random subset of frames per Adam step (its
   parameters are shared by every frame, so any frame's gradient moves the whole path);
   where the lens zooms, its focal length with it (``trajectory.FocalCurve``);
2. **bodies**: every body carried into the refined camera's frame (S_c), its outline
   fitted to its mask with its keypoints (``fit.fit_track`` from where it is; the mask
   seen in a window around the actor, ``crop`` pixels square, so that a small actor's
   limbs are as many pixels wide as a big one's), and put back in the world with the
   refined camera, S*_w = f_H(S_c, C*) (Eq. 3, ``bodies.stage.place_in_world``: the
   scale and the ground settled again).

The renderer (``renderer``): ``raster`` (the default) draws the meshes directly, as
above; ``nerf`` is the paper's: a small dynamic NeRF of the actors (``render.nerf``,
D-NeRF style: a time-conditioned deformation into a canonical field of density and actor
labels) trained in ``_Scene.pose`` on label images of the posed meshes from random views
around them (so again after every body step: the bodies change), then inverted in the
camera step with the same losses at its own, smaller working width (``nerf.width``: the
masks are downsampled to it). The seconds its trainings took are in ``meta.refine
["nerf_seconds"]``. The body step fits meshes whichever the renderer: it keeps the soft
rasteriser at ``width``.

A step that does not lower the loss is undone. The baselines, in the same code:
``init-only`` leaves the shot as the bodies stage left it (the paper's SLAM + body
start); ``per-frame`` moves each frame's camera on its own (an SE(3) per frame,
composition loss only: the paper's iNeRF row), the bodies held.
"""

from __future__ import annotations

import copy
import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from reshoot.errors import InputError
from reshoot.render.nerf import NerfConfig
from reshoot.shot import Actor, Shot
from reshoot.stages.bodies.fit import FitConfig, Silhouettes

log = logging.getLogger(__name__)

BASELINES = ("none", "init-only", "per-frame")
RENDERERS = ("raster", "nerf")


@dataclass
class RefineConfig:
    baseline: str = "none"
    """``none`` (ours), ``init-only`` or ``per-frame`` (module docstring)"""
    renderer: str = "raster"
    """what the camera step renders the actors with: ``raster`` (their meshes, soft
    rasteriser) or ``nerf`` (a dynamic NeRF trained on them, the paper's; module docstring)"""
    nerf: NerfConfig = field(default_factory=NerfConfig)
    """the dynamic NeRF's size, training and working width (``renderer="nerf"`` only)"""
    width: int = 240
    """working width of the renderings, pixels"""
    sigma: float = 0.5
    """edge blur of the soft silhouettes, px^2 at the working width"""
    crop: int = 160
    """the body step fits each actor's outline in a window this many pixels square around
    it (0: in the whole frame at ``width``). Measured on the standard suite's static-2p,
    arc-1p, push-in-1p, track-2p and follow-2p (person IoU; the frame at 240 px across,
    outline weight 50): the frame 0.804 / 0.865 / 0.887 / 0.667 / 0.761; a window of 160
    px 0.868 / 0.900 / 0.911 / 0.772 / 0.840, 2D joints 1-2 px better on each, in the same
    time; 128 px 0.864 / 0.894 / 0.908 / 0.767 / 0.836; blurrier edges (sigma 1 px^2)
    worse: 0.855 / 0.877 / 0.893 / 0.753 / 0.823"""
    cull_below: float = 1e-3
    rounds: int = 2
    """camera then bodies, at most this many times. Measured on the standard suite (person
    IoU after 1 / 2 / 3 rounds): arc-1p 0.829 / 0.833 / 0.843, static-2p (two people, 120
    frames: 10 s a round) 0.769 / 0.775 / 0.780; the loss still falls by 4-8 % in the
    third round, the metrics barely move"""
    min_gain: float = 0.01
    """another round follows one that lowered the loss by at least this fraction (a step
    that raises it is undone)"""
    camera_iterations: int = 80
    camera_frames: int = 16
    """frames rendered per Adam step of the camera"""
    camera_lr: float = 2e-3
    joint_weight: float = 0.05
    """weight of the keypoint loss against the composition loss. The keypoints hold the
    camera where the masks alone would turn it to make imperfect bodies fit. Measured on
    the standard suite's arc-1p, static-2p, pan-1p and follow-1p at 0 / 0.05 / 0.2 / 1:
    person IoU moves by 0.005 at most up to 0.2 (static-2p 0.774 / 0.775 / 0.773 / 0.760);
    camera rotation error (deg) arc 0.49 / 0.12 / 0.11 / 0.09, pan 0.29 / 0.03 / 0.04 /
    0.03, follow 0.60 / 0.17 / 0.04 / 0.06; 2D joints (px at 720p) arc 4.7 / 5.5 / 5.7 /
    5.7, follow 6.5 / 7.0 / 7.4 / 7.5"""
    min_conf: float = 0.5
    per_frame_iterations: int = 60
    per_frame_lr: float = 2e-3
    body: FitConfig = field(default_factory=lambda: FitConfig(outline_iterations=45))
    """the body step's fit (its outline phase only). The outline's weight (50), in
    ``crop``'s window, measured on the five shots above (person IoU; PA-MPJPE mm): 50:
    0.868 / 0.900 / 0.911 / 0.772 / 0.840, 48.4 / 45.9 / 46.7 / 86.6 / 62.5; 100: 0.879 /
    0.905 / 0.918 / 0.791 / 0.856, 48.1 / 46.5 / 45.9 / 86.0 / 63.3; 200: 0.884 / 0.907 /
    0.919 / 0.797 / 0.863, 48.0 / 47.6 / 45.3 / 86.3 / 65.6 (a window of 192 px at 100:
    0.881 / 0.909 / 0.917 / 0.795 / 0.859, 15 % slower). On the real clips the masks are
    the clothes' and the hair's as well, and a heavier outline pulls the bodies off their
    keypoints: at 100 the 2D joints (px at 720p, against the detected keypoints) came out
    worse than the bodies stage's on four of the five clips (bedroom 14.9 -> 17.2, juggle
    10.6 -> 11.3), at 50 better on four (bedroom 15.5, juggle 9.9, hike 11.9 -> 9.0).
    Measured again with the code of 2026-11-24 (the step alone, rerun on the inputs of a
    bench run), 50 -> 100: the standard suite's person IoU better on all 16 shots (median
    0.864 -> 0.877; 0.90 or more on 3 as before), 2D joints on 15 (5.0 -> 4.9 px), PA-MPJPE
    worse on 13 (by up to 2.4 mm); the five clips' IoU against their masks 0.009-0.024
    better and their 2D joints 1.0-2.2 px worse on every one (hike 9.4 -> 11.1, juggle
    9.9 -> 11.2, bedroom 16.1 -> 18.2). The naked synthetic bodies reward filling the
    mask, dressed people do not: 50 kept. Weighing only the body outside the mask at 100
    (the part a dressed person's mask cannot explain), the rest at 50: IoU better on 4 of
    the first 8 shots, worse on dolly-zoom-2p (0.825 -> 0.817) and pan-2p (0.812 -> 0.805).
    The iterations, in the whole frame (before the window): more fit better and cost
    the time this stage is held to (30 s for 120 frames and two people). Measured on the
    standard suite at 30 / 45 / 60 (person IoU; seconds of the whole stage): pan-1p 0.826
    / 0.837 / 0.845, 15 / 16 / 21 s; arc-1p 0.858 / 0.867 / 0.872; track-2p 0.635 / 0.644
    / 0.651, 19 / 22 / 27 s; static-2p 0.799 / 0.806 / 0.810, 21 / 29.5 / 36 s (2D joints
    of the four 6.8 / 6.5 / 6.3 px at 720p on average). Earlier, at 30 / 60 / 120 on
    pan-1p: 0.792 / 0.827 / 0.845"""
    pin_feet: bool = False
    """the body step's world lift pins planted feet again (``bodies.world.lift``). Off:
    the shift that keeps a planted foot still moves the body off the outline the step has
    just fitted, and the rounds fight it. Measured with / without: the tests' walker
    (arc, 480x270, IoU 0.684 before refine) person IoU 0.707 (every body step raised the
    loss and was undone) / 0.796; the standard suite's static-2p: IoU 0.769 / 0.775,
    W-MPJPE 131 / 146 mm, foot skating 27.6 / 30.4 mm a frame; arc-1p: 0.839 / 0.847,
    66 / 66 mm, 12.9 / 13.2"""
    seed: int = 0
    threads: int = 2


def _shown(actor: Actor) -> np.ndarray:
    """(T,) bool: the frames an actor's body is rendered in for the losses: where the
    actor is in the shot (only there do the masks hold them: not where the tracker lost
    them a moment, which ``Actor.drawn`` draws), from the first to the last frame its
    body was fitted on. Beyond those the body is held, not seen (someone walking out of
    the frame: the part of them still in it has moved on from where the held body
    stands), and the actor's pixels there say nothing.
    On six synthetic shots whose walkers leave and come in at the frame's edge (the
    perceive stage keeps the part of them in it) the refined figures moved by 0.001 IoU
    and 0.1 px at most: a guard for an actor whose body spans few of its frames."""
    shown = actor.present.copy()
    observed = actor.body.observed
    if observed is not None and observed.any():
        seen = np.flatnonzero(observed)
        shown[: seen[0]] = False
        shown[seen[-1] + 1 :] = False
    return shown


class _Scene:
    """The actors as the renderer and the losses see them: posed meshes in the world
    (held during a camera step), their keypoints, the shot's masks at the working size."""

    def __init__(self, shot: Shot, cfg: RefineConfig) -> None:
        import torch

        from reshoot.render.overlay import PALETTE
        from reshoot.render.soft import SoftRaster
        from reshoot.stages.refine.losses import label_shares, paint

        W, H = shot.video.width, shot.video.height
        w = min(cfg.width, W)
        h = max(1, round(H * w / W))
        self.raster = SoftRaster(w, h, sigma=cfg.sigma, cull_below=cfg.cull_below)
        self.min_conf = cfg.min_conf
        self.masks, self.crop = shot.masks, cfg.crop
        # the NeRF's working size (the camera step's images with it)
        self.nerf_cfg = cfg.nerf if cfg.renderer == "nerf" else None
        self.nerf_size = (min(cfg.nerf.width, W), max(1, round(H * min(cfg.nerf.width, W) / W)))
        self.nerf, self.nerf_seconds, self._nerfs = None, [], {}
        # a still or panning camera stays so (unknown: as free as the paper's)
        init = shot.meta.get("camera_init", {})
        self.camera_model = init.get("model", "general")
        if self.camera_model == "general" and init.get("turns") is False:
            self.camera_model = "translation"  # the camera stage held its orientation: refine keeps it
        self.set_lens(shot)
        P = len(shot.actors)
        self.colours = torch.tensor(PALETTE[np.arange(P) % len(PALETTE)] / 255.0, dtype=torch.float32)
        self.shares = label_shares(torch.from_numpy(shot.masks.labels), P + 1, (w, h))  # (T, P + 1, h, w)
        self.target = paint(self.shares, self.colours)
        if self.nerf_cfg is not None:
            self.shares_nerf = label_shares(torch.from_numpy(shot.masks.labels), P + 1, self.nerf_size)
            self.target_nerf = paint(self.shares_nerf, self.colours)
        self.pose(shot)

    def set_lens(self, shot: Shot) -> None:
        """The intrinsics of ``shot``'s lens, at the video's and at the working size."""
        import torch

        self.K = torch.from_numpy(shot.lens.K()).float()
        self.K_work = self.K.clone()
        self.K_work[:, 0] *= self.raster.width / shot.video.width
        self.K_work[:, 1] *= self.raster.height / shot.video.height
        self.K_nerf = self.K.clone()
        self.K_nerf[:, 0] *= self.nerf_size[0] / shot.video.width
        self.K_nerf[:, 1] *= self.nerf_size[1] / shot.video.height

    @staticmethod
    def _zoomed(K, zoom):
        """Intrinsics ``K`` (N, 3, 3) with their focal lengths times ``zoom`` (N,) (None: as they are)."""
        import torch

        if zoom is None:
            return K
        extra = torch.stack([K[:, 0, 0], K[:, 1, 1], torch.zeros_like(zoom)], -1) * (zoom - 1.0)[:, None]
        return K + torch.diag_embed(extra)

    def silhouettes(self, k: int, T_world_cam: np.ndarray) -> Silhouettes:
        """Actor ``k``'s masks, for its body's outline fit: in a window around the actor
        (``crop``; where its mask is and where its body is seen through ``T_world_cam``),
        else at the working size."""
        if self.crop > 0:
            boxes = _union_boxes(self.masks.boxes(k + 1), self.body_boxes(k, T_world_cam))
            return Silhouettes.around(self.masks.labels, k + 1, self.K.double().numpy(), boxes, self.crop)
        mine = self.shares[:, k + 1]
        others = self.shares[:, 1:].sum(1) - mine
        return Silhouettes(target=mine.numpy(), known=(others < 0.5).numpy(), K=self.K_work.double().numpy())

    def body_boxes(self, k: int, T_world_cam: np.ndarray) -> np.ndarray:
        """(T, 4) the box of actor ``k``'s body through the cameras (nan where it is behind)."""
        import torch

        from reshoot.render.soft import NEAR_M, project_vertices

        V = self.verts[self.actors.index(k)].double()
        T_cam_world = torch.from_numpy(np.linalg.inv(T_world_cam))
        X = torch.einsum("tij,tvj->tvi", T_cam_world[:, :3, :3], V) + T_cam_world[:, None, :3, 3]
        uv, z = project_vertices(X, self.K.double())
        uv = torch.where((z > NEAR_M)[..., None], uv, torch.nan).numpy()
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a frame with the body wholly behind: nan
            return np.concatenate([np.nanmin(uv, 1), np.nanmax(uv, 1)], -1)

    def pose(self, shot: Shot) -> None:
        """Pose the actors' bodies (as ``shot`` has them now) in the world."""
        import torch

        from reshoot.bodymodel import pose_body, silhouette_surface
        from reshoot.stages.bodies.keypoint_map import load_keypoint_map
        from reshoot.stages.bodies.stage import actor_confidence

        kmap = load_keypoint_map()
        self.actors = [k for k, a in enumerate(shot.actors) if a.body is not None]
        self.shown = {k: _shown(shot.actors[k]) for k in self.actors}
        self.weight = self._weight(self.shares)
        if self.nerf_cfg is not None:
            self.weight_nerf = self._weight(self.shares_nerf)
        self.verts, self.faces, self.landmarks, self.drawn, self.kpts, self.conf = [], [], [], [], [], []
        for k in self.actors:
            actor = shot.actors[k]
            posed = pose_body(actor.body.model, actor.body.phenotype, actor.body.bone_quats_wxyz, actor.body.T_world_root)
            V, faces = torch.from_numpy(posed.vertices_world).float(), torch.from_numpy(posed.faces).long()
            # the keypoint map is anny's low-poly mesh's (the bodies stage's), drawn by its
            # silhouette surface: another mesh (a ground truth's) is drawn as it is, and its
            # keypoints are not compared
            fits_map = V.shape[1] == kmap.weights.shape[1]
            self.verts.append(silhouette_surface(V, faces) if fits_map else V)
            self.faces.append(faces)
            self.landmarks.append(kmap(V, torch.from_numpy(posed.bone_heads_world).float()) if fits_map else None)
            self.drawn.append(torch.from_numpy(self.shown[k]).float())
            obs = actor.observations
            conf = actor_confidence(shot, k)  # folded guesses out
            conf = conf * (conf >= self.min_conf) * self.shown[k][:, None]
            self.kpts.append(torch.from_numpy(obs.kpts2d_px).float())
            self.conf.append(torch.from_numpy(conf).float())
        if self.nerf_cfg is not None:
            self._train_nerf(shot)

    def _weight(self, shares):
        """Per pixel, what the composition loss counts of it (T, h, w): pixels of actors
        without a body say nothing (whoever is behind them is hidden), nor do an actor's
        pixels in frames its body is not drawn in (``shown``)."""
        import torch

        unmodelled = torch.zeros_like(shares[:, 0])
        for k in range(shares.shape[1] - 1):
            drawn = self.shown[k].astype(np.float32) if k in self.shown else np.zeros(len(unmodelled), np.float32)
            unmodelled = unmodelled + shares[:, k + 1] * torch.from_numpy(1.0 - drawn)[:, None, None]
        return 1.0 - unmodelled

    def _train_nerf(self, shot: Shot) -> None:
        """The dynamic NeRF of the bodies as posed now (the last two kept: a body step
        undone poses the bodies as they were, and their NeRF is reused)."""
        import hashlib

        from reshoot.render.nerf import train_dynamic_nerf

        key = hashlib.sha1(b"".join(V.numpy().tobytes() for V in self.verts)).hexdigest()
        if key not in self._nerfs:
            t0 = time.perf_counter()
            self._nerfs = {k: v for k, v in list(self._nerfs.items())[-1:]}
            self._nerfs[key] = train_dynamic_nerf(self.verts, self.faces, self.drawn, self.colours[self.actors],
                                                  self.nerf_cfg, T_world_cam=shot.camera.T_world_cam)  # fmt: skip
            self.nerf_seconds.append(time.perf_counter() - t0)
        self.nerf = self._nerfs[key]

    def render(self, T_world_cam, frames, zoom=None):
        """The actors through cameras ``T_world_cam`` (N, 4, 4) at ``frames`` (N,), their
        focal lengths times ``zoom`` (N,): (N, h, w, 3)."""
        import torch

        from reshoot.render.soft import composite, soft_silhouette

        if self.nerf is not None:  # (N, h, w, 3) at the NeRF's working size
            K = self._zoomed(self.K_nerf[frames], zoom)
            return self.nerf.render(T_world_cam, K, frames, self.nerf_size)
        R, C = T_world_cam[:, :3, :3], T_world_cam[:, :3, 3]
        K = self._zoomed(self.K_work[frames], zoom)
        sils, depths = [], []
        for a, (V, faces) in enumerate(zip(self.verts, self.faces)):
            X = torch.einsum("nji,nvj->nvi", R, V[frames] - C[:, None])  # R^T (X - C)
            sil = soft_silhouette(self.raster, X, faces, K)
            sils.append(sil * self.drawn[a][frames, None, None])
            depths.append(X[..., 2].mean(1))
        return composite(sils, torch.stack(depths, 1), self.colours[self.actors])

    def composition(self, T_world_cam, frames, zoom=None):
        from reshoot.stages.refine.losses import composition_loss

        image = self.render(T_world_cam, frames, zoom)
        if self.nerf is not None:
            return composition_loss(image, self.target_nerf[frames], weight=self.weight_nerf[frames])
        return composition_loss(image, self.target[frames], weight=self.weight[frames])

    def joints(self, T_world_cam, frames, zoom=None):
        import torch

        from reshoot.stages.refine.losses import joint_loss

        R, C = T_world_cam[:, :3, :3], T_world_cam[:, :3, 3]
        K = self._zoomed(self.K[frames], zoom)
        total = T_world_cam.new_zeros(())
        for L, kpts, conf in zip(self.landmarks, self.kpts, self.conf):
            if L is None:
                continue
            X = torch.einsum("nji,nkj->nki", R, L[frames] - C[:, None])
            uv = torch.einsum("nij,nkj->nki", K[:, :2, :2], X[..., :2] / X[..., 2:].clamp(min=0.05)) + K[:, None, :2, 2]
            total = total + joint_loss(uv, kpts[frames], conf[frames])
        return total / max(len(self.landmarks), 1)

    def loss(self, T_world_cam: np.ndarray, joint_weight: float) -> dict[str, float]:
        """Both losses over every frame, for a camera path (T, 4, 4)."""
        import torch

        with torch.no_grad():
            poses = torch.from_numpy(T_world_cam).float()
            frames = torch.arange(len(poses))
            comp, joints = float(self.composition(poses, frames)), float(self.joints(poses, frames))
        return {"composition": comp, "joints": joints, "total": comp + joint_weight * joints}


def _union_boxes(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(T, 4) boxes holding both ``a`` and ``b`` (either nan: the other)."""
    lo, hi = np.fmin(a[:, :2], b[:, :2]), np.fmax(a[:, 2:], b[:, 2:])
    return np.concatenate([lo, hi], -1)


def _camera_step(scene: _Scene, T_world_cam: np.ndarray, cfg: RefineConfig, zooms: bool = False
                 ) -> tuple[np.ndarray, np.ndarray | None]:  # fmt: skip
    """Ours: the whole path as one continuous screw-motion curve (Eq. 4-8); where the
    lens ``zooms``, its focal length too, times a smooth function of time. Returns the
    path and the focal lengths' factors (None: unchanged)."""
    import torch

    from reshoot.stages.refine.trajectory import CameraTrajectory, FocalCurve

    traj = CameraTrajectory(torch.from_numpy(T_world_cam), model=scene.camera_model)
    focal = FocalCurve(len(T_world_cam)) if zooms else None
    params = list(traj.parameters()) + (list(focal.parameters()) if focal is not None else [])
    opt = torch.optim.Adam(params, lr=cfg.camera_lr)
    gen = torch.Generator().manual_seed(cfg.seed)
    T = len(T_world_cam)
    for _ in range(cfg.camera_iterations):
        frames = torch.randperm(T, generator=gen)[: cfg.camera_frames]
        opt.zero_grad()
        poses = traj()[frames].float()
        zoom = focal()[frames].float() if focal is not None else None
        loss = scene.composition(poses, frames, zoom) + cfg.joint_weight * scene.joints(poses, frames, zoom)
        loss.backward()
        opt.step()
    with torch.no_grad():
        return _rigid(traj().numpy()), focal().numpy() if focal is not None else None


def _per_frame_step(scene: _Scene, T_world_cam: np.ndarray, cfg: RefineConfig, zooms: bool = False
                    ) -> tuple[np.ndarray, None]:  # fmt: skip
    """The iNeRF baseline: every frame's camera on its own, composition loss only (every
    frame in every step: a frame left out would drift on its optimiser's momentum)."""
    import torch

    from reshoot.geometry import se3_exp

    init = torch.from_numpy(T_world_cam)
    xi = torch.zeros(len(init), 6, dtype=torch.float64, requires_grad=True)  # in each camera's own frame
    opt = torch.optim.Adam([xi], lr=cfg.per_frame_lr)
    frames = torch.arange(len(init))
    for _ in range(cfg.per_frame_iterations):
        opt.zero_grad()
        loss = scene.composition((init @ se3_exp(xi)).float(), frames)
        loss.backward()
        opt.step()
    with torch.no_grad():
        return _rigid((init @ se3_exp(xi)).numpy()), None


def _rigid(T: np.ndarray) -> np.ndarray:
    """Poses with their rotations made orthonormal again (the nearest rotation)."""
    U, _, Vt = np.linalg.svd(T[:, :3, :3])
    D = np.repeat(np.eye(3)[None], len(T), 0)
    D[:, 2, 2] = np.linalg.det(U @ Vt)
    out = T.copy()
    out[:, :3, :3] = U @ D @ Vt
    out[:, 3] = [0.0, 0.0, 0.0, 1.0]
    return out


def _step(cfg: RefineConfig) -> Callable[..., tuple[np.ndarray, np.ndarray | None]]:
    """The camera step of ``cfg.baseline``: the per-frame poses, or ours."""
    return _per_frame_step if cfg.baseline == "per-frame" else _camera_step


def refine_camera(shot: Shot, cfg: RefineConfig | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """The camera step alone: the path (T, 4, 4) whose rendering of ``shot``'s bodies,
    held in the world, best matches its masks and keypoints (``cfg.baseline``
    "per-frame": each frame's camera on its own, composition loss only), and, where the
    lens zooms, the factors (T,) of its focal lengths (else None)."""
    import torch

    cfg = cfg or RefineConfig()
    _check(cfg)
    torch.set_num_threads(cfg.threads)
    return _step(cfg)(_Scene(shot, cfg), shot.camera.T_world_cam, cfg, shot.lens.zooms)


def _check(cfg: RefineConfig) -> None:
    if cfg.baseline not in BASELINES:
        raise InputError(f"--baseline {cfg.baseline!r}: expected one of {', '.join(BASELINES)}")
    if cfg.renderer not in RENDERERS:
        raise InputError(f"--renderer {cfg.renderer!r}: expected one of {', '.join(RENDERERS)}")


def _state(shot: Shot) -> tuple:
    return copy.deepcopy((shot.camera, shot.lens, [(a.body, a.joint_names, a.joints_world) for a in shot.actors]))


def _restore(shot: Shot, state: tuple) -> None:
    shot.camera, shot.lens, bodies = state
    for actor, (body, names, joints) in zip(shot.actors, bodies):
        actor.body, actor.joint_names, actor.joints_world = body, names, joints


def refine(shot: Shot, cfg: RefineConfig | None = None, progress: Callable[[int, int], None] | None = None) -> Shot:
    """Refine the camera path and the bodies of ``shot`` (after the bodies stage, with
    instance masks) by differentiable rendering; ``meta.refine`` says what each round did.
    ``progress(done, total)``: steps (a camera step and a body step a round) done, out of
    the most there can be (rounds stop early when they no longer help)."""
    import torch

    from reshoot.stages.bodies.stage import BodiesConfig, camera_space_from_world, place_in_world

    cfg = cfg or RefineConfig()
    _check(cfg)
    if shot.camera is None or "bodies" not in shot.meta:
        raise InputError("the refine stage needs the camera and the bodies: run the bodies stage first")
    if shot.masks is None:
        raise InputError("the refine stage needs the actors' instance masks (the perceive stage makes them)")
    t0 = time.perf_counter()
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    report: dict = {"baseline": cfg.baseline, "renderer": cfg.renderer, "rounds": [], "notes": []}
    scene = _Scene(shot, cfg) if any(a.body is not None for a in shot.actors) else None
    if scene is None:
        report["notes"].append("no actor has a body: nothing to render, the camera is kept")
    elif cfg.baseline != "init-only":
        start = scene.loss(shot.camera.T_world_cam, cfg.joint_weight)
        report["start"] = start
        best = start["total"]
        placed = shot.meta["bodies"]  # how the bodies were last put in the world (their sizes)
        body = replace(cfg.body, threads=cfg.threads)
        rounds = 1 if cfg.baseline == "per-frame" else cfg.rounds
        per_round = 2 if cfg.baseline == "none" else 1  # the camera, then (ours) the bodies
        steps = rounds * per_round
        report_step = progress or (lambda done, total: None)
        report_step(0, steps)
        for r in range(rounds):
            t_round, before = time.perf_counter(), best
            entry: dict = {}
            # 1. the camera, the bodies held
            kept, t_step = _state(shot), time.perf_counter()
            shot.camera.T_world_cam, zoom = _step(cfg)(scene, shot.camera.T_world_cam, cfg, shot.lens.zooms)
            camera_seconds = time.perf_counter() - t_step
            if zoom is not None:
                shot.lens.fx, shot.lens.fy = shot.lens.fx * zoom, shot.lens.fy * zoom
                scene.set_lens(shot)
            report_step(r * per_round + 1, steps)
            entry["camera"] = {**scene.loss(shot.camera.T_world_cam, cfg.joint_weight), "seconds": camera_seconds}
            entry["camera"]["kept"] = entry["camera"]["total"] < best or cfg.baseline == "per-frame"
            if entry["camera"]["kept"]:
                best = entry["camera"]["total"]
            else:
                _restore(shot, kept)
                scene.set_lens(shot)
            # 2. the bodies with the refined camera
            if cfg.baseline == "none":
                kept = _state(shot), placed
                masks = {k: scene.silhouettes(k, shot.camera.T_world_cam) for k in scene.actors}  # the lens as refined
                bodies_c = camera_space_from_world(shot, shot.camera.T_world_cam, placed["actors"], body, masks)
                placed = place_in_world(shot, bodies_c, shot.camera.T_world_cam,
                                        BodiesConfig(fit=body, pin_feet=cfg.pin_feet))  # fmt: skip
                scene.pose(shot)
                entry["bodies"] = {**scene.loss(shot.camera.T_world_cam, cfg.joint_weight), "scale": placed["scale"]}
                entry["bodies"]["kept"] = entry["bodies"]["total"] < best
                if entry["bodies"]["kept"]:
                    best = entry["bodies"]["total"]
                else:
                    _restore(shot, kept[0])
                    placed = kept[1]
                    scene.pose(shot)
            report_step((r + 1) * per_round, steps)
            entry["seconds"] = time.perf_counter() - t_round
            entry["kept"] = best < before
            report["rounds"].append(entry)
            log.info("refine round %d: loss %.4f -> %.4f (%.1f s)%s", r + 1, before, best, entry["seconds"],
                     "" if entry["kept"] else ", undone")  # fmt: skip
            if 1.0 - best / before < cfg.min_gain:
                break
        report_step(steps, steps)
        report["end"] = scene.loss(shot.camera.T_world_cam, cfg.joint_weight)
        report["rounds_kept"] = sum(e["kept"] for e in report["rounds"])
        report["bodies"] = placed
    if scene is not None and cfg.renderer == "nerf":
        report["nerf_seconds"] = scene.nerf_seconds  # each training of the NeRF
    seconds = time.perf_counter() - t0
    shot.meta["refine"] = {**report, "seconds": seconds}
    wrote = ["camera", "actors.body", "actors.joints_world"] + (["lens"] if shot.lens.zooms else [])
    shot.record("refine", asdict(cfg), wrote=wrote, seconds=seconds)
    return shot
