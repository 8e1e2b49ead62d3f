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


def label_shares(labels: torch.Tensor, count: int, size: tuple[int, int]) -> torch.Tensor:
    """Each label's share of every pixel of ``labels`` (N, H, W) uint8, area-averaged down
    to ``size`` (w, h): (N, count, h, w), label by label (a one-hot of the whole shot at
    full size would be gigabytes)."""
    w, h = size
    shares = []
    for k in range(count):
        mask = (labels == k).float()[:, None]
        shares.append(F.interpolate(mask, size=(h, w), mode="area")[:, 0])
    return torch.stack(shares, 1)


def paint(shares: torch.Tensor, colours: torch.Tensor) -> torch.Tensor:
    """Label shares (N, P + 1, h, w) (``label_shares``) painted in ``colours`` (P, 3), the
    background (label 0) white: (N, h, w, 3)."""
    palette = torch.cat([torch.ones(1, 3, dtype=colours.dtype), colours])
    return torch.einsum("nkhw,kc->nhwc", shares.to(colours.dtype), palette)


def target_image(labels: torch.Tensor, colours: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """The observed instance masks ``labels`` (N, H, W) uint8 (0 background, k + 1 actor
    k) painted in ``colours`` (P, 3) on white, area-averaged down to ``size`` (w, h):
    (N, h, w, 3)."""
    return paint(label_shares(labels, len(colours) + 1, size), colours)


def composition_loss(rendered: torch.Tensor, target: torch.Tensor, two_sided: bool = True,
                     weight: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
    """Mean squared colour difference of (N, h, w, 3) images; one-sided (the paper's
    code): only where the target is not background. ``weight`` (N, h, w): how much each
    pixel counts (0: it says nothing)."""
    err = ((rendered - target) ** 2).sum(-1)
    counted = torch.ones_like(err) if weight is None else weight.to(err.dtype)
    if not two_sided:
        counted = counted * (target < 1.0 - 1e-6).any(-1).to(err.dtype)
    return (err * counted).sum() / counted.sum().clamp(min=1.0)


def joint_loss(uv: torch.Tensor, kpts: torch.Tensor, conf: torch.Tensor, robust_px: float = 10.0) -> torch.Tensor:
    """Geman-McClure of the distance between projected ``uv`` and detected ``kpts`` (...,
    K, 2) pixels, weighted by ``conf`` (..., K); a keypoint off by much more than
    ``robust_px`` costs about as much as a missing one."""
    r2 = ((uv - kpts) ** 2).sum(-1)
    rho = r2 / (r2 + robust_px**2)
    return (conf * rho).sum() / conf.sum().clamp(min=1e-6)
