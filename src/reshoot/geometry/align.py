"""Similarity and rigid alignment of point sets (Umeyama 1991), batched."""

from __future__ import annotations

from typing import NamedTuple

import torch
from jaxtyping import Float
from torch import Tensor

from reshoot.errors import ShapeError
from reshoot.geometry._checks import check_shape


class Similarity(NamedTuple):
    """``x_dst = scale * R @ x_src + t``."""

    scale: Float[Tensor, "*B"]
    R: Float[Tensor, "*B 3 3"]
    t: Float[Tensor, "*B 3"]

    def apply(self, points: Float[Tensor, "*B N 3"]) -> Float[Tensor, "*B N 3"]:
        return self.scale[..., None, None] * (points @ self.R.transpose(-1, -2)) + self.t[..., None, :]


def umeyama(
    src: Float[Tensor, "*B N 3"], dst: Float[Tensor, "*B N 3"], with_scale: bool = True
) -> Similarity:
    """The least-squares similarity (or rigid transform, ``with_scale=False``) taking
    ``src`` onto ``dst``: minimises ``sum |dst - (s R src + t)|^2`` over ``R`` in SO(3).

    Needs at least 3 non-collinear points for a unique rotation. Degenerate inputs
    (all points equal) give the identity rotation and unit scale.
    """
    check_shape(src, (-1, 3), "src")
    check_shape(dst, (-1, 3), "dst")
    if src.shape != dst.shape:
        raise ShapeError(f"umeyama: src {tuple(src.shape)} and dst {tuple(dst.shape)} differ")
    n = src.shape[-2]
    mu_s, mu_d = src.mean(-2, keepdim=True), dst.mean(-2, keepdim=True)
    xs, xd = src - mu_s, dst - mu_d
    cov = xd.transpose(-1, -2) @ xs / n  # (..., 3, 3)
    U, S, Vh = torch.linalg.svd(cov)
    d = torch.sign(torch.linalg.det(U) * torch.linalg.det(Vh))
    d = torch.where(d == 0, torch.ones_like(d), d)
    E = torch.ones_like(S)
    E = torch.cat([E[..., :2], d[..., None]], -1)
    R = U @ torch.diag_embed(E) @ Vh
    if with_scale:
        var_s = (xs * xs).sum((-1, -2)) / n
        safe = torch.where(var_s > 0, var_s, torch.ones_like(var_s))
        scale = torch.where(var_s > 0, (S * E).sum(-1) / safe, torch.ones_like(var_s))
    else:
        scale = torch.ones(src.shape[:-2], dtype=src.dtype, device=src.device)
    t = mu_d[..., 0, :] - scale[..., None] * (R @ mu_s[..., 0, :, None])[..., 0]
    return Similarity(scale, R, t)
