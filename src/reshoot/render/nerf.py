"""A small dynamic NeRF of the actors (D-NeRF style, Pumarola et al. 2021) for the refine
stage's ``renderer="nerf"``: the paper's differentiable renderer (seed 001, sec. 3.1: "we
train a dynamic NeRF f_D(Theta, t) to capture the character motion tracks S_w" and invert
it for the camera).

The field, for a point x (world, metres) at a time t in [0, 1] (frame / (T - 1)):

    x_n  = (x - centre_t) / radius                   the frame's actors' centroid, one radius
    dx   = f_def(gamma(x_n), gamma(t))               deformation MLP into the canonical space
    sigma, logits = f_can(gamma(x_n + dx))           canonical MLP: density and actor labels

gamma the usual positional encoding (``freqs_x`` / ``freqs_t`` octaves, the input kept).
Subtracting each frame's centroid is the one departure from D-NeRF: it takes the actors'
walk off the deformation MLP (a few metres a shot) and leaves it their limbs. The colour
of a ray is the alpha-composited mixture of the actors' flat colours (softmax of the
label logits) over white, the image convention of ``render.soft.composite``: each actor
its colour, white where nobody is. Internally everything is "shares" (N, ..., P + 1):
the background's (label 0) and each actor's part of a pixel, as ``refine.losses.
label_shares`` makes from masks.

Rendering: stratified samples (``samples`` per ray) between the ray's entry into and exit
from the frame's actors' bounding box (padded by ``pad_m``); a ray that misses the box is
white. A coarse occupancy grid per frame (``grid`` cells a side over the frame's cube,
cells holding a vertex or a face centre, dilated by one) leaves the empty samples out of
the MLPs (their density is 0). Training (:func:`train_dynamic_nerf`): label images of the
posed meshes, drawn by the hard rasteriser (``render.raster``) at ``train_width`` px
square from ``views_per_frame`` random cameras around each frame's actors (any azimuth,
distance and height like the shot's cameras when they are given), random rays from them,
Adam on the squared error of the shares.

Conventions as :mod:`reshoot.geometry`: world right-handed, Z up, metres; cameras OpenCV
(x right, y down, z forward) given as ``T_world_cam`` (camera -> world); intrinsics ``K``
in pixels with pixel centres at +0.5 (pixel (i, j) looks along ((j + 0.5 - cx) / fx,
(i + 0.5 - cy) / fy, 1)); image row 0 at the top.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from reshoot.errors import ShapeError

if TYPE_CHECKING:
    import torch
    from torch import nn

log = logging.getLogger(__name__)


@dataclass
class NerfConfig:
    """The dynamic NeRF's size, its training, and the refine stage's image size with it.

    The defaults, measured on the standard suite's arc-1p (one walker, 120 frames; the
    NeRF's silhouettes, actor share > 0.5, against the meshes' through the shot's cameras
    at 240 px, IoU mean / worst frame; one core shared with other work, so the seconds are
    indicative): these settings 0.72 / 0.40 in 32-45 s (25 s on two idle cores: 1 s of
    label images, 21 s of Adam); ``steps`` 3000 0.76 / 0.51 in 108 s; ``freqs_t`` 8
    0.75 / 0.52; ``hidden`` 128 with 2 layers 0.73 / 0.49; a learned code per frame
    beside gamma(t), or gamma(t) given to the canonical MLP too, 0.74 and 0.72.
    The frames where the walker strides are the worst (0.4-0.7), those where it stands
    0.82-0.87: the small field cannot hold 120 frames of swinging legs sharply, whatever
    the shape of its input. On six frames of one body, 300 steps reach 0.93 from an unseen
    view (tests/test_nerf.py)."""

    width: int = 80
    """working width of the refine stage's camera step with this renderer, pixels (its
    cost grows with the pixels: the camera step renders ``camera_frames`` images a step;
    at 80 px a camera step of 80 iterations took 4.1 s on arc-1p on two idle cores, the
    soft rasteriser's at 240 px 2.5 s; 10-16 s and 4-9 s on arc-1p, static-2p and
    follow-2p on one shared core)"""
    train_width: int = 64
    """training images, pixels a side (square)"""
    views_per_frame: int = 4
    """random cameras around the actors per trained frame"""
    frame_stride: int = 1
    """train on every this-many-th frame (1: all)"""
    steps: int = 1000
    """Adam steps of the training"""
    rays: int = 1024
    """rays per training step"""
    samples: int = 32
    """samples per ray, between the ray's entry into and exit from the frame's box"""
    hidden: int = 64
    """units per hidden layer (both MLPs)"""
    layers: int = 3
    """hidden layers per MLP"""
    freqs_x: int = 6
    """octaves of the positional encoding of points"""
    freqs_t: int = 4
    """octaves of the positional encoding of time"""
    lr: float = 5e-3
    """Adam's learning rate (cosine-decayed to a tenth)"""
    grid: int = 64
    """occupancy grid cells a side, per frame (over the frame's cube of one radius: 64
    cells, about 4 cm for one standing adult, leave 16 % of a box's samples occupied,
    32 cells 38 %)"""
    pad_m: float = 0.08
    """the bounding boxes' and the occupancy's margin around the meshes, metres"""
    density_scale: float = 20.0
    """density per unit of the MLP's softplus output, per radius travelled"""
    seed: int = 0


def encode(x: torch.Tensor, octaves: int) -> torch.Tensor:
    """Positional encoding (..., D) -> (..., D (2 octaves + 1)): x, sin(2^k pi x), cos(2^k pi x)."""
    import torch

    freqs = (2.0 ** torch.arange(octaves, dtype=x.dtype, device=x.device)) * math.pi
    xb = (x[..., None] * freqs).flatten(-2)
    return torch.cat([x, torch.sin(xb), torch.cos(xb)], -1)


def _mlp(inputs: int, hidden: int, layers: int, outputs: int) -> nn.Sequential:
    from torch import nn

    blocks: list[nn.Module] = []
    width = inputs
    for _ in range(layers):
        blocks += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    blocks.append(nn.Linear(width, outputs))
    return nn.Sequential(*blocks)


class DynamicNeRF:
    """The actors' time-conditioned radiance field: :func:`train_dynamic_nerf` makes one.

    Buffers (T frames, P actors, G grid cells): ``centre`` (T, 3) and ``radius`` () the
    normalisation (metres), ``lo``/``hi`` (T, 3) the frames' boxes (metres, world),
    ``occupancy`` (T, G, G, G) bool over the frame's cube [-1, 1]^3 (normalised, axes x y z),
    ``colours`` (P, 3) RGB in [0, 1]. Its MLPs: ``deform`` and ``canonical``. (A plain
    class holding torch modules: importing this module does not import torch.)"""

    def __init__(self, centre: torch.Tensor, radius: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor,
                 occupancy: torch.Tensor, colours: torch.Tensor, cfg: NerfConfig) -> None:  # fmt: skip
        from torch import nn

        self.cfg = cfg
        self.centre, self.radius, self.lo, self.hi = centre, radius, lo, hi
        self.occupancy, self.colours = occupancy, colours
        P = len(colours)
        ex, et = 3 * (2 * cfg.freqs_x + 1), 2 * cfg.freqs_t + 1
        self.deform = _mlp(ex + et, cfg.hidden, cfg.layers, 3)
        nn.init.zeros_(self.deform[-1].weight)  # starts as the identity
        nn.init.zeros_(self.deform[-1].bias)
        self.canonical = _mlp(ex, cfg.hidden, cfg.layers, 1 + P)

    @property
    def num_frames(self) -> int:
        return len(self.centre)

    def parameters(self) -> list[torch.Tensor]:
        """The MLPs' weights."""
        return [*self.deform.parameters(), *self.canonical.parameters()]

    def field(self, x_n: torch.Tensor, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Density (M,) per radius and actor probabilities (M, P) at normalised points
        ``x_n`` (M, 3) at ``frames`` (M,) long (time t = frame / (T - 1))."""
        import torch
        from torch import nn

        cfg = self.cfg
        t = (frames.to(x_n.dtype) / max(self.num_frames - 1, 1))[:, None]
        dx = self.deform(torch.cat([encode(x_n, cfg.freqs_x), encode(t, cfg.freqs_t)], -1))
        out = self.canonical(encode(x_n + dx, cfg.freqs_x))
        sigma = nn.functional.softplus(out[:, 0]) * cfg.density_scale
        return sigma, torch.softmax(out[:, 1:], -1)

    def _occupied(self, x_n: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
        """Whether normalised points ``x_n`` (..., 3) at ``frames`` (...,) fall in an occupied cell."""
        G = self.occupancy.shape[-1]
        cell = ((x_n + 1.0) * (G / 2)).floor().long()
        inside = ((cell >= 0) & (cell < G)).all(-1)
        cell = cell.clamp(0, G - 1)
        return inside & self.occupancy[frames, cell[..., 0], cell[..., 1], cell[..., 2]]

    def render_rays(self, origins: torch.Tensor, dirs: torch.Tensor, frames: torch.Tensor,
                    jitter: bool = False) -> torch.Tensor:  # fmt: skip
        """Shares (R, P + 1) (background first) of rays ``origins`` + s ``dirs`` (R, 3,
        world, metres; ``dirs`` need not be unit) at ``frames`` (R,) long. ``jitter``:
        stratified random samples (training), else each stratum's middle."""
        import torch

        R, P = len(origins), len(self.colours)
        lo, hi = self.lo[frames], self.hi[frames]
        with torch.no_grad():  # the box's entry and exit (slab test): where the samples go, not differentiated
            inv = 1.0 / torch.where(dirs.abs() < 1e-9, torch.full_like(dirs, 1e-9), dirs)
            a, b = (lo - origins) * inv, (hi - origins) * inv
            near = torch.minimum(a, b).amax(-1).clamp(min=0.05)
            far = torch.maximum(a, b).amin(-1)
            hit = far > near
        shares = torch.zeros(R, P + 1, dtype=origins.dtype, device=origins.device)
        shares[:, 0] = 1.0
        if not bool(hit.any()):
            return shares
        idx = hit.nonzero()[:, 0]
        o, d, f, near, far = origins[idx], dirs[idx], frames[idx], near[idx], far[idx]
        S = self.cfg.samples
        u = torch.full_like(near[:, None].expand(-1, S), 0.5)  # each stratum's middle
        if jitter:
            u = torch.rand_like(u)
        s = near[:, None] + (torch.arange(S, dtype=o.dtype, device=o.device) + u) / S * (far - near)[:, None]
        x = o[:, None] + s[..., None] * d[:, None]  # (Rh, S, 3) world
        x_n = (x - self.centre[f][:, None]) / self.radius
        with torch.no_grad():
            occ = self._occupied(x_n, f[:, None].expand(-1, S))
        step = ((far - near) / S * d.norm(dim=-1) / self.radius)[:, None]  # per radius
        sigma = torch.zeros(len(idx), S, dtype=o.dtype, device=o.device)
        probs = torch.zeros(len(idx), S, P, dtype=o.dtype, device=o.device)
        if bool(occ.any()):
            sig, pr = self.field(x_n[occ], f[:, None].expand(-1, S)[occ])
            sigma = sigma.masked_scatter(occ, sig)
            probs = probs.masked_scatter(occ[..., None].expand(-1, -1, P), pr)
        alpha = 1.0 - torch.exp(-sigma * step)
        passed = torch.cumprod(torch.cat([torch.ones_like(alpha[:, :1]), 1.0 - alpha[:, :-1] + 1e-10], 1), 1)
        w = alpha * passed  # (Rh, S)
        actors = (w[..., None] * probs).sum(1)  # (Rh, P)
        hit_shares = torch.cat([1.0 - w.sum(1, keepdim=True), actors], 1)
        return shares.index_put((idx,), hit_shares)

    def render_shares(self, T_world_cam: torch.Tensor, K: torch.Tensor, frames: torch.Tensor,
                      size: tuple[int, int], chunk: int = 1 << 16) -> torch.Tensor:  # fmt: skip
        """Shares (N, h, w, P + 1) seen by cameras ``T_world_cam`` (N, 4, 4) with
        intrinsics ``K`` (N, 3, 3) (pixels at ``size`` (w, h)) at ``frames`` (N,)
        (0 .. T - 1). Differentiable in the cameras and ``K``."""
        import torch

        N = len(T_world_cam)
        if T_world_cam.shape != (N, 4, 4) or K.shape != (N, 3, 3) or frames.shape != (N,):
            received = f"{tuple(T_world_cam.shape)}, {tuple(K.shape)} and {tuple(frames.shape)}"
            raise ShapeError(f"DynamicNeRF.render: expected T_world_cam (N, 4, 4), K (N, 3, 3) and frames (N,), "
                             f"received {received}")  # fmt: skip
        dtype = self.centre.dtype
        T_world_cam, K = T_world_cam.to(dtype), K.to(dtype)
        frames = frames.long().to(self.centre.device)
        origins, dirs = camera_rays(T_world_cam, K, size)  # (N, h, w, 3)
        w, h = size
        o, d = origins.reshape(-1, 3), dirs.reshape(-1, 3)
        f = frames[:, None].expand(N, h * w).reshape(-1)
        out = [self.render_rays(o[i : i + chunk], d[i : i + chunk], f[i : i + chunk]) for i in range(0, len(o), chunk)]
        return torch.cat(out).view(N, h, w, -1)

    def render(self, T_world_cam: torch.Tensor, K: torch.Tensor, frames: torch.Tensor,
               size: tuple[int, int]) -> torch.Tensor:  # fmt: skip
        """RGB (N, h, w, 3) in [0, 1]: each actor its colour over white, as
        ``render.soft.composite`` draws them. Arguments as :meth:`render_shares`."""
        import torch

        shares = self.render_shares(T_world_cam, K, frames, size)
        palette = torch.cat([torch.ones(1, 3, dtype=shares.dtype, device=shares.device), self.colours.to(shares.dtype)])
        return shares @ palette


def camera_rays(T_world_cam: torch.Tensor, K: torch.Tensor, size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Rays through the pixel centres of cameras ``T_world_cam`` (N, 4, 4), ``K`` (N, 3, 3)
    at ``size`` (w, h): origins and directions (N, h, w, 3) in the world; a direction is
    the world vector of camera depth 1 (not unit)."""
    import torch

    w, h = size
    dtype, device = T_world_cam.dtype, T_world_cam.device
    v, u = torch.meshgrid(torch.arange(h, dtype=dtype, device=device) + 0.5,
                          torch.arange(w, dtype=dtype, device=device) + 0.5, indexing="ij")  # fmt: skip
    fx, fy = K[:, 0, 0, None, None], K[:, 1, 1, None, None]
    cx, cy, skew = K[:, 0, 2, None, None], K[:, 1, 2, None, None], K[:, 0, 1, None, None]
    y = (v - cy) / fy
    x = (u - cx - skew * y) / fx
    d_cam = torch.stack([x, y, torch.ones_like(x)], -1)  # (N, h, w, 3)
    dirs = torch.einsum("nij,nhwj->nhwi", T_world_cam[:, :3, :3], d_cam)
    origins = T_world_cam[:, None, None, :3, 3].expand_as(dirs)
    return origins, dirs


def _scene_bounds(verts: list[torch.Tensor], faces: list[torch.Tensor], present: list[torch.Tensor], cfg: NerfConfig
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:  # fmt: skip
    """Per frame: centroid (T, 3), one radius (), box lo, hi (T, 3) and occupancy (T, G, G, G)."""
    import torch
    from torch import nn

    T = len(verts[0])
    on = [p.bool() for p in present]
    any_on = torch.stack(on).any(0)
    sums = sum((V.sum(1) * p[:, None] for V, p in zip(verts, on)), torch.zeros(T, 3))
    counts = sum((V.shape[1] * p.float() for V, p in zip(verts, on)), torch.zeros(T))
    centre = sums / counts.clamp(min=1)[:, None]
    fill = centre[any_on].mean(0) if any_on.any() else torch.zeros(3)
    centre[~any_on] = fill
    big = torch.full((T, 3), float("inf"))
    lo = torch.stack([torch.where(p[:, None], V.amin(1), big) for V, p in zip(verts, on)]).amin(0) - cfg.pad_m
    hi = torch.stack([torch.where(p[:, None], V.amax(1), -big) for V, p in zip(verts, on)]).amax(0) + cfg.pad_m
    lo[~any_on], hi[~any_on] = centre[~any_on], centre[~any_on]  # an empty box: every ray misses
    reach = [float((V - centre[:, None]).norm(dim=-1).amax(1)[p].max()) for V, p in zip(verts, on) if p.any()]
    radius = torch.tensor(max(max(reach, default=0.0) + cfg.pad_m, 0.1))
    G = cfg.grid
    occ = torch.zeros(T, G * G * G, dtype=torch.float32)
    for V, F, p in zip(verts, faces, on):
        pts = torch.cat([V, V[:, F].mean(2)], 1)  # vertices and face centres (T, V + F, 3)
        cell = (((pts - centre[:, None]) / radius + 1.0) * (G / 2)).floor().long().clamp(0, G - 1)
        flat = (cell[..., 0] * G + cell[..., 1]) * G + cell[..., 2]
        hits = torch.zeros_like(occ).scatter_(1, flat, 1.0)
        occ = torch.maximum(occ, hits * p[:, None].float())
    occ = nn.functional.max_pool3d(occ.view(T, 1, G, G, G), 3, stride=1, padding=1)[:, 0] > 0
    return centre, radius, lo, hi, occ


def _training_cameras(centre: np.ndarray, radius: float, frames: np.ndarray, cfg: NerfConfig,
                      T_world_cam: np.ndarray | None, rng: np.random.Generator
                      ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Random cameras around each of ``frames``' actors: ``T_world_cam`` (M, 4, 4) and the
    frame (M,) of each. Distance and height about the shot's cameras' (else 3.5 radii, eye
    height), any azimuth, all looking at the frame's centroid."""
    import torch

    from reshoot.geometry import look_at

    if T_world_cam is not None:
        off = T_world_cam[:, :3, 3] - centre
        dist = float(np.median(np.linalg.norm(off[:, :2], axis=-1)))
        rise = float(np.median(off[:, 2]))
    else:
        dist, rise = 3.5 * radius, 0.5
    dist = max(dist, 2.0 * radius)
    M = len(frames) * cfg.views_per_frame
    frame_of = np.repeat(frames, cfg.views_per_frame)
    azimuth = rng.uniform(0.0, 2.0 * np.pi, M)
    d = dist * rng.uniform(0.85, 1.2, M)
    z = rise + rng.uniform(-0.6, 0.9, M) * radius  # below and above the shot's cameras
    eye = centre[frame_of] + np.stack([d * np.cos(azimuth), d * np.sin(azimuth), z], -1)
    T = look_at(torch.from_numpy(eye), torch.from_numpy(centre[frame_of])).numpy()
    return T, frame_of


def train_dynamic_nerf(verts: list[torch.Tensor], faces: list[torch.Tensor], present: list[torch.Tensor],
                       colours: torch.Tensor, cfg: NerfConfig | None = None,
                       T_world_cam: np.ndarray | None = None) -> DynamicNeRF:  # fmt: skip
    """A :class:`DynamicNeRF` of posed meshes: actor k's vertices ``verts[k]`` (T, V_k, 3)
    (world, metres), its ``faces[k]`` (F_k, 3), where it is ``present[k]`` (T,) (0: drawn
    nowhere), its flat colour ``colours[k]`` (P, 3) in [0, 1]. ``T_world_cam`` (T, 4, 4):
    the shot's cameras, to train from views at about their distance and height.

    Training images: label images of the meshes from ``cfg.views_per_frame`` random cameras
    around the actors per frame (every ``cfg.frame_stride``-th), ``cfg.train_width`` px
    square, their focal length fitting the actors' radius into 90 % of the image; then
    ``cfg.steps`` Adam steps on ``cfg.rays`` random rays each (of those that meet the
    frame's box: the others are white whatever the field). Deterministic for a given
    ``cfg.seed`` (torch's global generator is left as it was)."""
    import torch

    cfg = cfg or NerfConfig()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        return _train(verts, faces, present, colours, cfg, T_world_cam)


def _train(verts: list[torch.Tensor], faces: list[torch.Tensor], present: list[torch.Tensor],
           colours: torch.Tensor, cfg: NerfConfig, T_world_cam: np.ndarray | None) -> DynamicNeRF:  # fmt: skip
    """:func:`train_dynamic_nerf`, in a forked random state."""
    import torch
    from torch import nn

    from reshoot.render.raster import Mesh, Rasterizer

    P = len(verts)
    if not (P == len(faces) == len(present) == len(colours)) or P == 0:
        raise ShapeError(f"train_dynamic_nerf: expected as many faces, present and colours as actors ({P}), "
                         f"received {len(faces)}, {len(present)} and {len(colours)}")  # fmt: skip
    T = len(verts[0])
    for V, p in zip(verts, present):
        if V.ndim != 3 or V.shape[0] != T or V.shape[2] != 3 or p.shape != (T,):
            raise ShapeError(f"train_dynamic_nerf: expected vertices (T, V, 3) and present (T,) with T = {T}, "
                             f"received {tuple(V.shape)} and {tuple(p.shape)}")  # fmt: skip
    t0 = time.perf_counter()
    gen = torch.Generator().manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    verts = [V.detach().float().cpu() for V in verts]
    faces = [F.detach().long().cpu() for F in faces]
    present = [p.detach().cpu() > 0.5 for p in present]
    centre, radius, lo, hi, occ = _scene_bounds(verts, faces, present, cfg)
    model = DynamicNeRF(centre, radius, lo, hi, occ, colours.detach().float().cpu().clone(), cfg)

    # the training images
    frames = np.arange(0, T, max(cfg.frame_stride, 1))
    frames = frames[torch.stack(present).any(0).numpy()[frames]]
    cams, frame_of = _training_cameras(centre.double().numpy(), float(radius), frames, cfg, T_world_cam, rng)
    S = cfg.train_width
    dist = np.linalg.norm(cams[:, :3, 3] - centre.double().numpy()[frame_of], axis=-1)
    focal = 0.45 * S / np.tan(np.arcsin(np.minimum(float(radius) / dist, 0.95)))
    K = np.zeros((len(cams), 3, 3))
    K[:, 0, 0], K[:, 1, 1], K[:, 0, 2], K[:, 1, 2], K[:, 2, 2] = focal, focal, S / 2, S / 2, 1.0
    labels = np.zeros((len(cams), S, S), np.uint8)
    V_np = [V.double().numpy() for V in verts]
    F_np = [F.numpy() for F in faces]
    with Rasterizer(S, S) as raster:
        for m, (T_wc, f) in enumerate(zip(cams, frame_of)):
            meshes = [Mesh(V_np[k][f], F_np[k], label=k + 1) for k in range(P) if present[k][f]]
            labels[m] = raster.render(meshes, T_wc, K[m]).labels
    t_images = time.perf_counter() - t0

    # their rays, those that meet the box
    origins, dirs = camera_rays(torch.from_numpy(cams).float(), torch.from_numpy(K).float(), (S, S))
    origins, dirs = origins.reshape(-1, 3), dirs.reshape(-1, 3)
    ray_frames = torch.from_numpy(frame_of).long()[:, None].expand(-1, S * S).reshape(-1)
    target = torch.from_numpy(labels).long().reshape(-1)
    with torch.no_grad():
        inv = 1.0 / dirs
        a, b = (lo[ray_frames] - origins) * inv, (hi[ray_frames] - origins) * inv
        near, far = torch.minimum(a, b).amax(-1).clamp(min=0.05), torch.maximum(a, b).amin(-1)
        keep = far > near
        # and that pass an occupied cell (finely sampled): the others are white whatever the field
        fine = torch.linspace(0.0, 1.0, 4 * cfg.samples)
        for i in keep.nonzero()[:, 0].split(1 << 15):
            s = near[i, None] + fine * (far - near)[i, None]
            x = origins[i, None] + s[..., None] * dirs[i, None]
            f = ray_frames[i]
            keep[i] = model._occupied((x - centre[f][:, None]) / radius, f[:, None].expand_as(s)).any(-1)
    origins, dirs, ray_frames, target = origins[keep], dirs[keep], ray_frames[keep], target[keep]
    onehot = nn.functional.one_hot(target, P + 1).float()

    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.steps, eta_min=0.1 * cfg.lr)
    n = len(origins)
    loss = torch.zeros(())
    t1 = time.perf_counter()
    for _ in range(cfg.steps):
        pick = torch.randint(n, (min(cfg.rays, n),), generator=gen)
        out = model.render_rays(origins[pick], dirs[pick], ray_frames[pick], jitter=True)
        loss = ((out - onehot[pick]) ** 2).sum(-1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    for p in model.parameters():
        p.requires_grad_(False)
    log.info("dynamic NeRF: %d images (%.1f s), %d rays, %d steps (%.1f s), last loss %.4f, %.1f s in all",
             len(cams), t_images, n, cfg.steps, time.perf_counter() - t1, float(loss.detach()),
             time.perf_counter() - t0)  # fmt: skip
    return model
