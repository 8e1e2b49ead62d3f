r"""SE(3) in exponential coordinates, in the screw form of CineTrans (seed 001, Eq. 4).

A rigid transform is written ``A = exp([S] theta)`` with the screw axis ``S = (w, v)``
(rotation first, as in Lynch & Park's *Modern Robotics*) and a magnitude ``theta``:

.. math::

    A = \begin{bmatrix} e^{[w]\theta} & (I\theta + (1-\cos\theta)[w]
        + (\theta-\sin\theta)[w]^2)\, v \\ 0 & 1 \end{bmatrix}

That closed form holds for a unit ``w``. Here the product ``xi = (w theta, v theta)``
(the *twist*) is exponentiated exactly, which equals the formula above when ``|w| = 1``
and remains a valid rigid transform for any ``w`` (the paper's printed form does not:
an optimiser that lets ``|w|`` drift would leave SE(3)). ``screw_exp(w, v, theta)`` is
``se3_exp(concat(w * theta, v * theta))``.

Stateless torch functions over ``(..., 4, 4)`` homogeneous matrices; outputs follow the
input's device and dtype; differentiable everywhere, the identity included.
"""

from __future__ import annotations

import torch
from jaxtyping import Float
from torch import Tensor

from reshoot.geometry._checks import check_shape
from reshoot.geometry.so3 import SMALL_ANGLE_SQ, exp_coefficients, hat, so3_log


def se3_exp(xi: Float[Tensor, "*B 6"]) -> Float[Tensor, "*B 4 4"]:
    """The rigid transform ``exp([xi])`` of a twist ``xi = (omega, rho)`` (rotation first)."""
    check_shape(xi, (6,), "xi")
    omega, rho = xi[..., :3], xi[..., 3:]
    A, B, C = exp_coefficients((omega * omega).sum(-1))
    W = hat(omega)
    WW = W @ W
    eye = torch.eye(3, dtype=xi.dtype, device=xi.device)
    R = eye + A[..., None, None] * W + B[..., None, None] * WW
    V = eye + B[..., None, None] * W + C[..., None, None] * WW
    t = (V @ rho[..., None])[..., 0]
    return from_rotation_translation(R, t)


def se3_log(T: Float[Tensor, "*B 4 4"]) -> Float[Tensor, "*B 6"]:
    """The twist ``xi = (omega, rho)`` with ``se3_exp(xi) == T`` (rotation angle in [0, pi])."""
    check_shape(T, (4, 4), "T")
    R, t = T[..., :3, :3], T[..., :3, 3]
    omega = so3_log(R)
    theta_sq = (omega * omega).sum(-1)
    small = theta_sq < SMALL_ANGLE_SQ
    t2 = torch.where(small, torch.ones_like(theta_sq), theta_sq)
    theta = t2.sqrt()
    # V^-1 = I - [w]/2 + D [w]^2 with D = (1 - theta sin(theta) / (2 (1 - cos theta))) / theta^2
    D = torch.where(
        small,
        1 / 12 + theta_sq / 720 + theta_sq**2 / 30240,
        (1 - theta * torch.sin(theta) / (2 * (1 - torch.cos(theta)))) / t2,
    )
    W = hat(omega)
    eye = torch.eye(3, dtype=T.dtype, device=T.device)
    V_inv = eye - 0.5 * W + D[..., None, None] * (W @ W)
    rho = (V_inv @ t[..., None])[..., 0]
    return torch.cat([omega, rho], -1)


def screw_exp(
    w: Float[Tensor, "*B 3"], v: Float[Tensor, "*B 3"], theta: Float[Tensor, "*B"]
) -> Float[Tensor, "*B 4 4"]:
    """``A = exp([S] theta)`` for the screw axis ``S = (w, v)`` and magnitude ``theta`` (Eq. 4)."""
    check_shape(w, (3,), "w")
    check_shape(v, (3,), "v")
    theta = torch.as_tensor(theta, dtype=w.dtype, device=w.device)[..., None]
    return se3_exp(torch.cat([w * theta, v * theta], -1))


def screw_log(T: Float[Tensor, "*B 4 4"]) -> tuple[Tensor, Tensor, Tensor]:
    """Inverse of :func:`screw_exp` in canonical form: ``(w, v, theta)``.

    ``|w| = 1`` and ``theta`` is the rotation angle when ``T`` rotates; for a pure
    translation ``w = 0``, ``|v| = 1`` and ``theta`` is the distance; the identity gives
    ``theta = 0`` with ``w = v = 0``.
    """
    xi = se3_log(T)
    omega, rho = xi[..., :3], xi[..., 3:]
    angle = omega.norm(dim=-1)
    dist = rho.norm(dim=-1)
    rotates = angle > 1e-12
    theta = torch.where(rotates, angle, dist)
    safe = torch.where(theta > 0, theta, torch.ones_like(theta))[..., None]
    return omega / safe, rho / safe, theta


def from_rotation_translation(
    R: Float[Tensor, "*B 3 3"], t: Float[Tensor, "*B 3"]
) -> Float[Tensor, "*B 4 4"]:
    """Assemble homogeneous 4x4 transforms from rotations and translations."""
    check_shape(R, (3, 3), "R")
    check_shape(t, (3,), "t")
    batch = torch.broadcast_shapes(R.shape[:-2], t.shape[:-1])
    T = torch.zeros(*batch, 4, 4, dtype=R.dtype, device=R.device)
    T[..., :3, :3] = R
    T[..., :3, 3] = t
    T[..., 3, 3] = 1
    return T


def inverse(T: Float[Tensor, "*B 4 4"]) -> Float[Tensor, "*B 4 4"]:
    """The inverse of a rigid transform, ``T_b_a`` from ``T_a_b`` (exact, no matrix solve)."""
    check_shape(T, (4, 4), "T")
    R_t = T[..., :3, :3].transpose(-1, -2)
    return from_rotation_translation(R_t, -(R_t @ T[..., :3, 3:4])[..., 0])


def compose(T_a_b: Float[Tensor, "*B 4 4"], T_b_c: Float[Tensor, "*B 4 4"]) -> Float[Tensor, "*B 4 4"]:
    """``T_a_c = T_a_b @ T_b_c``: first ``T_b_c``, then ``T_a_b``."""
    check_shape(T_a_b, (4, 4), "T_a_b")
    check_shape(T_b_c, (4, 4), "T_b_c")
    return T_a_b @ T_b_c


def transform_points(T_a_b: Float[Tensor, "*B 4 4"], points_b: Float[Tensor, "*B N 3"]) -> Float[Tensor, "*B N 3"]:
    """Map points from frame ``b`` to frame ``a``: ``points_a = R points_b + t``."""
    check_shape(T_a_b, (4, 4), "T_a_b")
    check_shape(points_b, (-1, 3), "points_b")
    R, t = T_a_b[..., None, :3, :3], T_a_b[..., None, :3, 3]
    return (R @ points_b[..., None])[..., 0] + t


def rigidity_error(T: Float[Tensor, "*B 4 4"]) -> Float[Tensor, "*B"]:
    """How far ``T`` is from a rigid transform: the largest of ``|R^T R - I|``,
    ``|det R - 1|`` and ``|last row - (0, 0, 0, 1)|`` (element-wise max)."""
    check_shape(T, (4, 4), "T")
    R = T[..., :3, :3]
    eye = torch.eye(3, dtype=T.dtype, device=T.device)
    ortho = (R.transpose(-1, -2) @ R - eye).abs().amax(dim=(-1, -2))
    det = (torch.linalg.det(R) - 1).abs()
    last = T[..., 3, :] - torch.tensor([0, 0, 0, 1], dtype=T.dtype, device=T.device)
    return torch.maximum(torch.maximum(ortho, det), last.abs().amax(-1))
