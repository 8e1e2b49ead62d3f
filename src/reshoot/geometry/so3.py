"""SO(3): skew matrices, the exponential and logarithm maps, angles between rotations.

Stateless torch functions; outputs follow the input's device and dtype; every function
broadcasts over leading batch dimensions and is differentiable (including at the
identity, where the closed forms switch to Taylor series).
"""

from __future__ import annotations

import roma
import torch
from jaxtyping import Float
from torch import Tensor

from reshoot.geometry._checks import check_shape

#: Below this squared angle (rad^2) the closed forms are replaced by Taylor series.
SMALL_ANGLE_SQ = 1e-6


def hat(w: Float[Tensor, "*B 3"]) -> Float[Tensor, "*B 3 3"]:
    """The skew-symmetric matrix ``[w]`` with ``[w] @ x == cross(w, x)``."""
    check_shape(w, (3,), "w")
    x, y, z = w.unbind(-1)
    zero = torch.zeros_like(x)
    return torch.stack(
        [
            torch.stack([zero, -z, y], -1),
            torch.stack([z, zero, -x], -1),
            torch.stack([-y, x, zero], -1),
        ],
        -2,
    )


def vee(W: Float[Tensor, "*B 3 3"]) -> Float[Tensor, "*B 3"]:
    """Inverse of :func:`hat` (reads the antisymmetric part)."""
    check_shape(W, (3, 3), "W")
    return 0.5 * torch.stack(
        [W[..., 2, 1] - W[..., 1, 2], W[..., 0, 2] - W[..., 2, 0], W[..., 1, 0] - W[..., 0, 1]], -1
    )


def exp_coefficients(theta_sq: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """``A = sin t / t``, ``B = (1 - cos t) / t^2``, ``C = (t - sin t) / t^3`` of ``t^2``.

    Exact away from zero, fourth-order Taylor series near it, with gradients that stay
    finite at ``t = 0`` (the square root is never taken of a small number).
    """
    small = theta_sq < SMALL_ANGLE_SQ
    t2 = torch.where(small, torch.ones_like(theta_sq), theta_sq)
    t = t2.sqrt()
    s, c = torch.sin(t), torch.cos(t)
    A = torch.where(small, 1 - theta_sq / 6 + theta_sq**2 / 120, s / t)
    B = torch.where(small, 0.5 - theta_sq / 24 + theta_sq**2 / 720, (1 - c) / t2)
    C = torch.where(small, 1 / 6 - theta_sq / 120 + theta_sq**2 / 5040, (t - s) / (t2 * t))
    return A, B, C


def so3_exp(rotvec: Float[Tensor, "*B 3"]) -> Float[Tensor, "*B 3 3"]:
    """Rodrigues' formula: the rotation by ``|rotvec|`` radians about ``rotvec``."""
    check_shape(rotvec, (3,), "rotvec")
    A, B, _ = exp_coefficients((rotvec * rotvec).sum(-1))
    W = hat(rotvec)
    eye = torch.eye(3, dtype=rotvec.dtype, device=rotvec.device)
    return eye + A[..., None, None] * W + B[..., None, None] * (W @ W)


def so3_log(R: Float[Tensor, "*B 3 3"]) -> Float[Tensor, "*B 3"]:
    """The rotation vector of ``R`` (angle in [0, pi]); robust near 0 and pi.

    Goes through the unit quaternion (roma), which has no singularity at pi.
    """
    check_shape(R, (3, 3), "R")
    return roma.rotmat_to_rotvec(R)


def rotation_angle(R: Float[Tensor, "*B 3 3"]) -> Float[Tensor, "*B"]:
    """The angle of ``R`` in radians, in [0, pi] (accurate for small angles too)."""
    return so3_log(R).norm(dim=-1)


def angle_between(R_a: Float[Tensor, "*B 3 3"], R_b: Float[Tensor, "*B 3 3"]) -> Float[Tensor, "*B"]:
    """The angle in radians of the rotation taking ``R_b`` to ``R_a`` (geodesic distance)."""
    return rotation_angle(R_a @ R_b.transpose(-1, -2))
