"""SE(3)/SO(3) maps, projection and alignment: property tests against naive references,
group laws, and float64 gradcheck (identity included)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from reshoot.errors import ShapeError
from reshoot.geometry import (
    angle_between,
    hat,
    intrinsics_matrix,
    inverse,
    look_at,
    project,
    ray_rotation,
    rigidity_error,
    screw_exp,
    screw_log,
    se3_exp,
    se3_log,
    so3_exp,
    so3_log,
    transform_points,
    umeyama,
    unproject,
    vee,
)

f64 = torch.float64
finite = st.floats(-3.0, 3.0, allow_nan=False, allow_subnormal=False)
twists = arrays(np.float64, 6, elements=finite)
# rotation angle strictly below pi so that the log is unique
small_twists = arrays(np.float64, 6, elements=st.floats(-1.7, 1.7, allow_nan=False, allow_subnormal=False))


def twist_matrix(xi: torch.Tensor) -> torch.Tensor:
    """The 4x4 matrix [xi] whose matrix exponential is the rigid transform (the naive reference)."""
    M = torch.zeros(*xi.shape[:-1], 4, 4, dtype=xi.dtype)
    M[..., :3, :3] = hat(xi[..., :3])
    M[..., :3, 3] = xi[..., 3:]
    return M


def paper_screw(w: torch.Tensor, v: torch.Tensor, theta: float) -> torch.Tensor:
    """Eq. 4 of seed 001 written out literally, for a unit w."""
    W = hat(w)
    eye = torch.eye(3, dtype=f64)
    R = eye + math.sin(theta) * W + (1 - math.cos(theta)) * W @ W
    t = (eye * theta + (1 - math.cos(theta)) * W + (theta - math.sin(theta)) * W @ W) @ v
    A = torch.eye(4, dtype=f64)
    A[:3, :3], A[:3, 3] = R, t
    return A


@settings(max_examples=200, deadline=None)
@given(twists)
def test_se3_exp_matches_matrix_exponential(xi):
    xi = torch.from_numpy(xi)
    assert torch.allclose(se3_exp(xi), torch.linalg.matrix_exp(twist_matrix(xi)), atol=1e-10)


@settings(max_examples=200, deadline=None)
@given(small_twists)
def test_se3_log_inverts_exp(xi):
    xi = torch.from_numpy(xi)
    if xi[:3].norm() >= math.pi - 1e-3:
        return
    assert torch.allclose(se3_log(se3_exp(xi)), xi, atol=1e-9)


@settings(max_examples=100, deadline=None)
@given(twists, twists)
def test_group_laws(a, b):
    A, B = se3_exp(torch.from_numpy(a)), se3_exp(torch.from_numpy(b))
    eye = torch.eye(4, dtype=f64)
    assert torch.allclose(inverse(A) @ A, eye, atol=1e-10)
    assert torch.allclose(inverse(A), se3_exp(-torch.from_numpy(a)), atol=1e-10)
    assert torch.allclose(inverse(A @ B), inverse(B) @ inverse(A), atol=1e-10)
    assert rigidity_error(A @ B) < 1e-10


def test_exp_is_rigid_for_any_screw_axis_and_equals_the_paper_for_unit_w():
    gen = torch.Generator().manual_seed(1)
    for _ in range(20):
        w = torch.randn(3, dtype=f64, generator=gen)
        v = torch.randn(3, dtype=f64, generator=gen)
        theta = float(torch.rand(1, dtype=f64, generator=gen)) * 3.0
        # any w: still a rigid transform (the printed formula would not be)
        assert rigidity_error(screw_exp(w, v, torch.tensor(theta, dtype=f64))) < 1e-12
        wu = w / w.norm()
        assert torch.allclose(screw_exp(wu, v, torch.tensor(theta, dtype=f64)), paper_screw(wu, v, theta), atol=1e-12)


def test_screw_log_canonical_forms():
    w = torch.tensor([0.0, 0.6, 0.8], dtype=f64)
    v = torch.tensor([1.0, -2.0, 0.5], dtype=f64)
    w2, v2, th = screw_log(screw_exp(w, v, torch.tensor(1.2, dtype=f64)))
    assert torch.allclose(w2, w, atol=1e-12) and torch.allclose(v2, v, atol=1e-12) and abs(th - 1.2) < 1e-12
    # pure translation: w = 0, |v| = 1, theta = distance
    T = torch.eye(4, dtype=f64)
    T[:3, 3] = torch.tensor([3.0, 0.0, 4.0])
    w2, v2, th = screw_log(T)
    assert torch.allclose(w2, torch.zeros(3, dtype=f64)) and torch.allclose(v2, torch.tensor([0.6, 0, 0.8], dtype=f64))
    assert abs(th - 5.0) < 1e-12
    w2, v2, th = screw_log(torch.eye(4, dtype=f64))
    assert th == 0 and w2.abs().max() == 0 and v2.abs().max() == 0


def test_so3_log_near_pi_and_zero():
    axis = torch.tensor([1.0, 2.0, -2.0], dtype=f64) / 3.0
    for angle in (math.pi - 1e-9, math.pi, 1e-9, 0.0, 1.0):
        R = so3_exp(axis * angle)
        rv = so3_log(R)
        assert torch.allclose(so3_exp(rv), R, atol=1e-9)
        assert abs(rv.norm() - angle) < 1e-8
    assert torch.allclose(vee(hat(axis)), axis)


def test_gradcheck_exp_log_float64():
    torch.manual_seed(0)
    xi = (torch.randn(4, 6, dtype=f64) * 0.7).requires_grad_()
    assert torch.autograd.gradcheck(se3_exp, (xi,))
    T = se3_exp(torch.randn(3, 6, dtype=f64) * 0.5).requires_grad_()
    assert torch.autograd.gradcheck(se3_log, (T,))
    w, v = torch.randn(3, dtype=f64, requires_grad=True), torch.randn(3, dtype=f64, requires_grad=True)
    theta = torch.tensor(0.8, dtype=f64, requires_grad=True)
    assert torch.autograd.gradcheck(screw_exp, (w, v, theta))


def test_gradient_at_identity_is_finite_and_exact():
    """The paper initialises from N(0, 1e-6): the Taylor branch must carry the right gradient."""
    for scale in (0.0, 1e-6):
        xi = (torch.randn(6, dtype=f64) * scale).requires_grad_()
        assert torch.autograd.gradcheck(se3_exp, (xi,), eps=1e-7)
        # d exp(xi) / d xi at 0 is the generator itself
        J = torch.autograd.functional.jacobian(se3_exp, torch.zeros(6, dtype=f64))
        for k in range(6):
            e = torch.zeros(6, dtype=f64)
            e[k] = 1
            assert torch.allclose(J[..., k], twist_matrix(e), atol=1e-12)


def test_follows_input_dtype():
    xi32 = torch.randn(5, 6, dtype=torch.float32)
    assert se3_exp(xi32).dtype == torch.float32
    assert se3_log(se3_exp(xi32)).dtype == torch.float32


def test_shape_errors_say_what_was_received():
    with pytest.raises(ShapeError, match=r"xi: expected shape \(\.\.\., 6\), received \(4, 5\)"):
        se3_exp(torch.zeros(4, 5))
    with pytest.raises(ShapeError, match="received"):
        inverse(torch.zeros(3, 4))


def test_projection_round_trip_and_pixel_centre_convention():
    K = intrinsics_matrix(torch.tensor(800.0, dtype=f64), torch.tensor(810.0, dtype=f64),
                          torch.tensor(480.0, dtype=f64), torch.tensor(270.0, dtype=f64))
    pts = torch.tensor([[0.0, 0.0, 2.0], [0.5, -0.25, 4.0], [-1.0, 1.0, 10.0]], dtype=f64)
    uv, depth = project(pts, K)
    assert torch.allclose(uv[0], torch.tensor([480.0, 270.0], dtype=f64))  # the optical axis hits (W/2, H/2)
    assert torch.allclose(uv[1], torch.tensor([480 + 800 * 0.125, 270 - 810 * 0.0625], dtype=f64))
    assert torch.allclose(unproject(uv, depth, K), pts, atol=1e-12)


def test_look_at_opencv_axes():
    eye = torch.tensor([0.0, -5.0, 1.5], dtype=f64)
    target = torch.tensor([0.0, 0.0, 1.5], dtype=f64)
    T = look_at(eye, target)
    assert rigidity_error(T) < 1e-12
    assert torch.allclose(T[:3, 2], torch.tensor([0.0, 1.0, 0.0], dtype=f64))  # z forward, toward target
    assert torch.allclose(T[:3, 0], torch.tensor([1.0, 0.0, 0.0], dtype=f64))  # x right
    assert torch.allclose(T[:3, 1], torch.tensor([0.0, 0.0, -1.0], dtype=f64))  # y down = world -Z
    cam = transform_points(inverse(T), target[None])
    assert torch.allclose(cam, torch.tensor([[0.0, 0.0, 5.0]], dtype=f64))


def test_ray_rotation_looks_along_the_ray_without_roll():
    K = intrinsics_matrix(torch.tensor(800.0, dtype=f64), torch.tensor(800.0, dtype=f64),
                          torch.tensor(480.0, dtype=f64), torch.tensor(270.0, dtype=f64))  # fmt: skip
    uv = torch.tensor([[480.0, 270.0], [880.0, 270.0], [480.0, 670.0], [100.0, 20.0]], dtype=f64)
    R = ray_rotation(uv, K.expand(4, 3, 3))
    assert torch.allclose(R.transpose(-1, -2) @ R, torch.eye(3, dtype=f64).expand(4, 3, 3), atol=1e-12)
    assert torch.allclose(torch.linalg.det(R), torch.ones(4, dtype=f64))
    ray = unproject(uv, torch.ones(4, dtype=f64), K)
    assert torch.allclose(R[..., 2], ray / ray.norm(dim=-1, keepdim=True))  # the view's z is the ray
    assert torch.allclose(R[0], torch.eye(3, dtype=f64))  # the centre: the camera itself
    # a pixel on the horizon turns about the camera's y only (26.6 degrees), one straight below about x only
    assert torch.allclose(R[1, :, 1], torch.tensor([0.0, 1.0, 0.0], dtype=f64))
    assert math.isclose(math.degrees(math.acos(R[1, 0, 0])), math.degrees(math.atan(0.5)), abs_tol=1e-9)
    assert torch.allclose(R[2, :, 0], torch.tensor([1.0, 0.0, 0.0], dtype=f64))


def test_ray_rotation_sees_someone_facing_the_camera_off_centre_as_facing_it():
    """What a crop-based landmark model sees: a body off to the side that faces the
    camera's centre shows it its chest square on; the view's axes say so, the camera's
    do not (its shoulders' line turned by the ray's angle)."""
    K = intrinsics_matrix(*(torch.tensor(v, dtype=f64) for v in (700.0, 700.0, 480.0, 270.0)))
    centre = torch.tensor([2.0, 0.3, 4.0], dtype=f64)  # 26.6 degrees right of the axis
    facing = -centre / centre.norm()  # toward the camera
    across = torch.linalg.cross(facing, torch.tensor([0.0, -1.0, 0.0], dtype=f64))
    shoulders = torch.stack([centre - 0.2 * across, centre + 0.2 * across])
    uv, _ = project(centre[None], K)
    R = ray_rotation(uv[0], K)
    seen = (shoulders - centre) @ R  # in the view's axes
    assert abs(float(seen[1, 2] - seen[0, 2])) < 1e-9  # both shoulders at one depth: square on
    in_camera = shoulders[1, 2] - shoulders[0, 2]
    assert abs(float(in_camera)) > 0.15  # in the camera's axes one shoulder is 18 cm nearer


@settings(max_examples=50, deadline=None)
@given(twists, st.floats(0.1, 10.0))
def test_umeyama_recovers_a_known_similarity(xi, scale):
    gen = torch.Generator().manual_seed(3)
    src = torch.randn(20, 3, dtype=f64, generator=gen)
    T = se3_exp(torch.from_numpy(xi))
    dst = scale * transform_points(T, src) - (scale - 1) * T[:3, 3]  # s R x + s t - (s-1) t = s R x + t
    sim = umeyama(src, dst)
    assert abs(float(sim.scale) - scale) < 1e-8 * scale
    assert float(angle_between(sim.R, T[:3, :3])) < 1e-7
    assert torch.allclose(sim.apply(src), dst, atol=1e-8)
    rigid = umeyama(src, transform_points(T, src), with_scale=False)
    assert torch.allclose(rigid.R, T[:3, :3], atol=1e-8) and float(rigid.scale) == 1.0
