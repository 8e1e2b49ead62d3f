"""Pinhole projection with intrinsics (OpenCV camera: x right, y down, z forward).

Pixel coordinates are continuous with the image's top-left *corner* at (0, 0), so the
centre of pixel (column i, row j) is at (i + 0.5, j + 0.5) and a centred principal point
is (W / 2, H / 2).
"""

from __future__ import annotations

import torch
from jaxtyping import Float
from torch import Tensor

from reshoot.geometry._checks import check_shape
from reshoot.geometry.se3 import inverse, transform_points

#: Points closer to the image plane than this (metres, camera z) do not project.
MIN_DEPTH = 1e-6


def intrinsics_matrix(
    fx: Float[Tensor, "*B"], fy: Float[Tensor, "*B"], cx: Float[Tensor, "*B"], cy: Float[Tensor, "*B"]
) -> Float[Tensor, "*B 3 3"]:
    """``K = [[fx, 0, cx], [0, fy, cy], [0, 0, 1]]`` (all in pixels)."""
    fx, fy, cx, cy = torch.broadcast_tensors(*(torch.as_tensor(a) for a in (fx, fy, cx, cy)))
    zero, one = torch.zeros_like(fx), torch.ones_like(fx)
    return torch.stack(
        [torch.stack([fx, zero, cx], -1), torch.stack([zero, fy, cy], -1), torch.stack([zero, zero, one], -1)],
        -2,
    )


def project(
    points_cam: Float[Tensor, "*B N 3"], K: Float[Tensor, "*B 3 3"]
) -> tuple[Float[Tensor, "*B N 2"], Float[Tensor, "*B N"]]:
    """Project camera-frame points to pixels. Returns ``(uv_px, depth)``.

    Points with ``depth <= MIN_DEPTH`` (behind or on the camera) get the projection of
    a point at ``MIN_DEPTH``; callers mask them with ``depth > MIN_DEPTH``.
    """
    check_shape(points_cam, (-1, 3), "points_cam")
    check_shape(K, (3, 3), "K")
    depth = points_cam[..., 2]
    z = depth.clamp(min=MIN_DEPTH)
    xy = points_cam[..., :2] / z[..., None]
    fx, fy = K[..., None, 0, 0], K[..., None, 1, 1]
    cx, cy, skew = K[..., None, 0, 2], K[..., None, 1, 2], K[..., None, 0, 1]
    u = fx * xy[..., 0] + skew * xy[..., 1] + cx
    v = fy * xy[..., 1] + cy
    return torch.stack([u, v], -1), depth


def world_to_pixels(
    points_world: Float[Tensor, "*B N 3"], T_world_cam: Float[Tensor, "*B 4 4"], K: Float[Tensor, "*B 3 3"]
) -> tuple[Float[Tensor, "*B N 2"], Float[Tensor, "*B N"]]:
    """Project world points through a camera at ``T_world_cam`` with intrinsics ``K``."""
    return project(transform_points(inverse(T_world_cam), points_world), K)


def unproject(
    uv_px: Float[Tensor, "*B N 2"], depth: Float[Tensor, "*B N"], K: Float[Tensor, "*B 3 3"]
) -> Float[Tensor, "*B N 3"]:
    """Camera-frame points at ``depth`` (camera z, metres) behind pixels ``uv_px``."""
    check_shape(uv_px, (-1, 2), "uv_px")
    check_shape(K, (3, 3), "K")
    fx, fy = K[..., None, 0, 0], K[..., None, 1, 1]
    cx, cy, skew = K[..., None, 0, 2], K[..., None, 1, 2], K[..., None, 0, 1]
    y = (uv_px[..., 1] - cy) / fy
    x = (uv_px[..., 0] - cx - skew * y) / fx
    return torch.stack([x * depth, y * depth, depth], -1)


def ray_rotation(uv_px: Float[Tensor, "*B 2"], K: Float[Tensor, "*B 3 3"]) -> Float[Tensor, "*B 3 3"]:
    """The camera turned to look along the ray through pixel ``uv_px`` (the smallest
    turn, no roll about the ray): the rotation from that view's axes to the camera's.
    A model that sees a crop centred on ``uv_px`` (it cannot know where in the frame the
    crop was) estimates 3D in that view's axes; this carries them into the camera's."""
    from reshoot.geometry.so3 import so3_exp

    check_shape(uv_px, (2,), "uv_px")
    check_shape(K, (3, 3), "K")
    ray = unproject(uv_px[..., None, :], torch.ones_like(uv_px[..., :1]), K)[..., 0, :]
    ray = torch.nn.functional.normalize(ray, dim=-1)
    axis = torch.stack([-ray[..., 1], ray[..., 0], torch.zeros_like(ray[..., 0])], -1)  # z x ray
    angle = torch.atan2(torch.linalg.norm(axis, dim=-1), ray[..., 2])
    return so3_exp(torch.nn.functional.normalize(axis, dim=-1) * angle[..., None])


def look_at(
    eye: Float[Tensor, "*B 3"], target: Float[Tensor, "*B 3"], up: Float[Tensor, "*B 3"] | None = None
) -> Float[Tensor, "*B 4 4"]:
    """``T_world_cam`` of an OpenCV camera at ``eye`` looking at ``target`` (z forward),
    with image-up along ``up`` (default world +Z, so the image's y axis points down)."""
    from reshoot.geometry.se3 import from_rotation_translation

    check_shape(eye, (3,), "eye")
    check_shape(target, (3,), "target")
    if up is None:
        up = torch.tensor([0.0, 0.0, 1.0], dtype=eye.dtype, device=eye.device).expand_as(eye)
    z = torch.nn.functional.normalize(target - eye, dim=-1)
    x = torch.nn.functional.normalize(torch.linalg.cross(z, up.expand_as(z)), dim=-1)
    y = torch.linalg.cross(z, x)
    return from_rotation_translation(torch.stack([x, y, z], -1), eye)
