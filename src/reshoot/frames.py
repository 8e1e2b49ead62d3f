"""The ONLY place that converts between axis conventions and quaternion orders.

Inside reshoot: world right-handed, Z up, metres; camera OpenCV (x right, y down,
z forward); quaternions (w, x, y, z). Conversions happen at the edges (exporters,
viewers, libraries with other habits) and go through these functions.

::

    reshoot world (Z up)      glTF / three.js world (Y up)     OpenCV camera   OpenGL camera
         z                          y                           z (forward)     y (up)
         |  y                       |                          /               |
         | /                        |                         o---- x          o---- x
         o---- x                    o---- x                   |               /
                                   /                          y (down)       z (backward)
                                  z
"""

from __future__ import annotations

import numpy as np
import torch

#: Maps reshoot world points (Z up) to glTF world points (Y up): (x, y, z) -> (x, z, -y).
R_GLTF_WORLD = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])

#: Maps OpenCV camera points to OpenGL camera points: (x, y, z) -> (x, -y, -z).
R_GL_CV = np.diag([1.0, -1.0, -1.0])


def _like(m: np.ndarray, x):
    return torch.as_tensor(m, dtype=x.dtype, device=x.device) if isinstance(x, torch.Tensor) else m.astype(x.dtype)


def quat_wxyz_to_xyzw(q):
    """Reorder quaternions (w, x, y, z) -> (x, y, z, w) (roma, scipy, glTF use xyzw)."""
    return q[..., [1, 2, 3, 0]]


def quat_xyzw_to_wxyz(q):
    """Reorder quaternions (x, y, z, w) -> (w, x, y, z)."""
    return q[..., [3, 0, 1, 2]]


def T_world_cam_opencv_to_opengl(T_world_cam):
    """A camera pose with OpenCV camera axes -> the same pose with OpenGL camera axes
    (x right, y up, looking down -z), as glTF, Blender and three.js cameras expect."""
    M = np.eye(4)
    M[:3, :3] = R_GL_CV.T  # T_cv_gl
    return T_world_cam @ _like(M, T_world_cam)


def T_world_cam_opengl_to_opencv(T_world_cam):
    """Inverse of :func:`T_world_cam_opencv_to_opengl`."""
    M = np.eye(4)
    M[:3, :3] = R_GL_CV  # T_gl_cv
    return T_world_cam @ _like(M, T_world_cam)


def zup_to_yup(T_or_points):
    """Express reshoot (Z up) transforms ``(..., 4, 4)`` or points ``(..., 3)`` in a Y-up world."""
    if T_or_points.shape[-2:] == (4, 4):
        M = np.eye(4)
        M[:3, :3] = R_GLTF_WORLD
        return _like(M, T_or_points) @ T_or_points
    return T_or_points @ _like(R_GLTF_WORLD, T_or_points).T


def yup_to_zup(T_or_points):
    """Inverse of :func:`zup_to_yup`."""
    if T_or_points.shape[-2:] == (4, 4):
        M = np.eye(4)
        M[:3, :3] = R_GLTF_WORLD.T
        return _like(M, T_or_points) @ T_or_points
    return T_or_points @ _like(R_GLTF_WORLD.T, T_or_points).T
