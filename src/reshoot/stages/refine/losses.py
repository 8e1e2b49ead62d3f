"""The losses of differentiable filming (seed 001, sec. 3.1): how far a rendering of the
actors through a camera is from what the shot shows.

- **composition**: the observed instance masks painted in each actor's colour on white
  against the rendered actors (``render.soft.composite``), squared colour difference per
  pixel. The paper's official code counts only the pixels inside the observed masks, so
  a body rendered too big, or where nobody is, costs nothing; ``two_sided`` (the default)
  counts every pixel.
- **joints**: the bodies' keypoints projected through the camera against the detected 2D
  keypoints, weighted by their confidence, robust (Geman-McClure, in pixels).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def target_image(labels: torch.Tensor, colours: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """The observed instance masks ``labels`` (N, H, W) uint8 (0 background, k + 1 actor
    k) painted in ``colours`` (P, 3) on white, area-averaged down to ``size`` (w, h):
    (N, h, w, 3)."""
    P = len(colours)
    onehot = F.one_hot(labels.long(), P + 1).permute(0, 3, 1, 2).to(colours.dtype)  # (N, P+1, H, W)
    w, h = size
    onehot = F.interpolate(onehot, size=(h, w), mode="area")
    palette = torch.cat([torch.ones(1, 3, dtype=colours.dtype), colours])  # white background
    return torch.einsum("nkhw,kc->nhwc", onehot, palette)


def composition_loss(rendered: torch.Tensor, target: torch.Tensor, two_sided: bool = True) -> torch.Tensor:
    """Mean squared colour difference (N, h, w, 3) images; one-sided (the paper's code):
    only where the target is not background."""
    err = ((rendered - target) ** 2).sum(-1)
    if two_sided:
        return err.mean()
    inside = (target < 1.0 - 1e-6).any(-1).to(err.dtype)
    return (err * inside).sum() / inside.sum().clamp(min=1.0)


def joint_loss(uv: torch.Tensor, kpts: torch.Tensor, conf: torch.Tensor, robust_px: float = 10.0) -> torch.Tensor:
    """Geman-McClure of the distance between projected ``uv`` and detected ``kpts`` (...,
    K, 2) pixels, weighted by ``conf`` (..., K); a keypoint off by much more than
    ``robust_px`` costs about as much as a missing one."""
    r2 = ((uv - kpts) ** 2).sum(-1)
    rho = r2 / (r2 + robust_px**2)
    return (conf * rho).sum() / conf.sum().clamp(min=1e-6)
