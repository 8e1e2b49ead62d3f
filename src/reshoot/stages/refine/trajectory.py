"""The camera path as the paper parameterises it (seed 001, Eq. 4-8): a continuous curve
on SE(3) made of small screw motions.

    c*_1 = c^_1 A_1                                   (Eq. 5: the first camera from the init)
    c*_t = c^init_t A_t,   A_t = exp([S_t] theta)     (Eq. 4, 6)
    S_t = (w_t, v_t),  w_t = w_1 + f_W(t),  v_t = v_1 + f_V(t)   (Eq. 7)

with one magnitude ``theta`` for the whole path and two small MLPs of time, f_W and
f_V; every parameter starts from N(0, 1e-6), so the path starts as the initial one.

Poses are camera-to-world (``T_world_cam``); ``A`` acts in each camera's own frame
(right). In the world frame (left, as iNeRF has it) a turn of the camera about its own
centre is a screw about an axis metres away, w and v large and opposed: on a synthetic
arc whose path drifted off by 0.5-1.5 degrees, the world-frame path brought the actors'
joints from 8.1 px off to 1.9 px (the first frame barely moved: 4.0 -> 3.7 px), the
camera-frame one to 1.8 px (3.3 px at the first frame); each frame's camera on its own
reaches 0.8 px. With every weight at N(0, 1e-6) no gradient reaches the MLPs' hidden
layers (SiLU(0) = 0): f_W and f_V act as constants, and the path can correct a drift
that grows evenly along the shot, not one that comes and goes.

What the paper leaves sequential, this does jointly. The official code optimises frame
after frame, each from the previous refined camera (c^init_t = c*_{t-1}), and never
evaluates the MLP at another time again. Here the whole path is one function of the
parameters: c^init_t = c*_{t-1} (c^_{t-1}^-1 c^_t), the previous refined camera moved by
the initial path's own step, so that with every A_t = I the path is the initial one,
and a correction made at one frame carries to all the later ones (as Eq. 8's chain
does); the MLPs are sampled at every frame's time at every step, whichever frames the
step renders. Time is normalised to [-1, 1] over the shot.
"""

from __future__ import annotations

import torch
from torch import nn

from reshoot.geometry import screw_exp

INIT_STD = 1e-6
"""standard deviation of every parameter at the start (the paper's N(0, 1e-6))"""


def _mlp(hidden: int, layers: int) -> nn.Sequential:
    blocks: list[nn.Module] = []
    width = 1
    for _ in range(layers):
        blocks += [nn.Linear(width, hidden), nn.SiLU()]
        width = hidden
    blocks.append(nn.Linear(width, 3))
    for p in (q for m in blocks if isinstance(m, nn.Linear) for q in m.parameters()):
        nn.init.normal_(p, 0.0, INIT_STD)
    return nn.Sequential(*blocks)


MODELS = ("general", "translation", "rotation", "static")
"""how the camera may move (the camera stage's models): anyhow; without turning (its steps
pure translations, the first camera free: a dolly, truck or crane move); turning about a
fixed centre (its steps pure rotations in the camera's frame, the first camera free); not
at all (one camera for every frame, A_1 alone)"""


class CameraTrajectory(nn.Module):
    """Refined camera-to-world poses (T, 4, 4) around an initial path ``T_world_cam_init``,
    moving as its camera ``model`` allows (:data:`MODELS`)."""

    def __init__(self, T_world_cam_init: torch.Tensor, hidden: int = 32, layers: int = 2, model: str = "general") -> None:
        super().__init__()
        if T_world_cam_init.ndim != 3 or T_world_cam_init.shape[1:] != (4, 4):
            raise ValueError(f"CameraTrajectory: expected (T, 4, 4) poses, received {tuple(T_world_cam_init.shape)}")
        if model not in MODELS:
            raise ValueError(f"CameraTrajectory: model {model!r}, expected one of {', '.join(MODELS)}")
        self.model = model
        dtype = T_world_cam_init.dtype
        self.register_buffer("init", T_world_cam_init.clone())
        # the initial path's steps: c^_{t-1}^-1 c^_t (in the previous camera's frame)
        steps = torch.linalg.inv(T_world_cam_init[:-1]) @ T_world_cam_init[1:]
        self.register_buffer("steps", steps)
        T = len(T_world_cam_init)
        self.register_buffer("times", torch.linspace(-1.0, 1.0, T, dtype=dtype)[:, None])
        self.theta = nn.Parameter(torch.randn((), dtype=dtype) * INIT_STD)
        self.w1 = nn.Parameter(torch.randn(3, dtype=dtype) * INIT_STD)
        self.v1 = nn.Parameter(torch.randn(3, dtype=dtype) * INIT_STD)
        self.f_w = _mlp(hidden, layers).to(dtype)
        self.f_v = _mlp(hidden, layers).to(dtype)

    def corrections(self) -> torch.Tensor:
        """A_t (T, 4, 4): A_1 from (theta, w_1, v_1) alone (Eq. 5), then with the MLPs (Eq. 7)."""
        w = self.w1 + self.f_w(self.times)
        v = self.v1 + self.f_v(self.times)
        w = torch.cat([self.w1[None], w[1:] if self.model != "translation" else torch.zeros_like(w[1:])])
        v = torch.cat([self.v1[None], v[1:] if self.model == "general" else torch.zeros_like(v[1:])])
        return screw_exp(w, v, self.theta.expand(len(w)))

    def forward(self) -> torch.Tensor:
        """c*_t for every frame (T, 4, 4), camera-to-world."""
        A = self.corrections()
        if self.model == "static":
            return (self.init[0] @ A[0]).expand(len(A), 4, 4)
        # Eq. 8, each camera from the one before: c*_t = F_0 F_1 ... F_t with
        # F_0 = c^_0 A_0 and F_t = (c^_{t-1}^-1 c^_t) A_t; the prefix products by doubling
        # (log2 T batched products instead of T sequential ones)
        path = torch.cat([(self.init[0] @ A[0])[None], self.steps @ A[1:]])
        span = 1
        while span < len(path):
            path = torch.cat([path[:span], path[:-span] @ path[span:]])
            span *= 2
        return path


class FocalCurve(nn.Module):
    """A zooming lens's correction: each frame's focal length times exp(f_F(t)), f_F a
    small MLP of time like f_W and f_V. Its last layer starts from N(0, 1e-6) (the lens
    starts as it was); the hidden ones from torch's default (with every weight that
    small no gradient reaches them, and the curve could only scale the whole shot)."""

    def __init__(self, num_frames: int, hidden: int = 16) -> None:
        super().__init__()
        self.register_buffer("times", torch.linspace(-1.0, 1.0, num_frames, dtype=torch.float64)[:, None])
        self.f_f = nn.Sequential(nn.Linear(1, hidden), nn.SiLU(), nn.Linear(hidden, 1)).double()
        for p in self.f_f[-1].parameters():
            nn.init.normal_(p, 0.0, INIT_STD)

    def forward(self) -> torch.Tensor:
        """(T,) the factors."""
        return torch.exp(self.f_f(self.times)[:, 0])
