"""The camera path as the paper parameterises it (seed 001, Eq. 4-8): a continuous curve
on SE(3) made of small screw motions.

    c*_1 = A_1 c^_1                                   (Eq. 5: the first camera from the init)
    c*_t = A_t c^init_t,   A_t = exp([S_t] theta)     (Eq. 4, 6)
    S_t = (w_t, v_t),  w_t = w_1 + f_W(t),  v_t = v_1 + f_V(t)   (Eq. 7)

with one magnitude ``theta`` for the whole path and two small MLPs of time, f_W and
f_V; every parameter starts from N(0, 1e-6), so the path starts as the initial one.

Poses are camera-to-world (``T_world_cam``); ``A`` acts in the world frame (left).

What the paper leaves sequential, this does jointly. The official code optimises frame
after frame, each from the previous refined camera (c^init_t = c*_{t-1}), and never
evaluates the MLP at another time again. Here the whole path is one function of the
parameters: c^init_t = (c^_t c^_{t-1}^-1) c*_{t-1}, the previous refined camera moved by
the initial path's own step, so that with every A_t = I the path is the initial one,
and a correction made at one frame carries to all the later ones (as Eq. 8's chain
does); all frames are rendered and optimised together, and the MLPs are sampled at every
frame's time at every step. Time is normalised to [-1, 1] over the shot.
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


class CameraTrajectory(nn.Module):
    """Refined camera-to-world poses (T, 4, 4) around an initial path ``T_world_cam_init``."""

    def __init__(self, T_world_cam_init: torch.Tensor, hidden: int = 32, layers: int = 2) -> None:
        super().__init__()
        if T_world_cam_init.ndim != 3 or T_world_cam_init.shape[1:] != (4, 4):
            raise ValueError(f"CameraTrajectory: expected (T, 4, 4) poses, received {tuple(T_world_cam_init.shape)}")
        dtype = T_world_cam_init.dtype
        self.register_buffer("init", T_world_cam_init.clone())
        # the initial path's steps: c^_t c^_{t-1}^-1 (world frame)
        steps = T_world_cam_init[1:] @ torch.linalg.inv(T_world_cam_init[:-1])
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
        w = torch.cat([self.w1[None], w[1:]])
        v = torch.cat([self.v1[None], v[1:]])
        return screw_exp(w, v, self.theta.expand(len(w)))

    def forward(self) -> torch.Tensor:
        """c*_t for every frame (T, 4, 4), camera-to-world."""
        A = self.corrections()
        poses = [A[0] @ self.init[0]]
        for t in range(1, len(A)):  # Eq. 8: each camera from the one before
            poses.append(A[t] @ self.steps[t - 1] @ poses[-1])
        return torch.stack(poses)
