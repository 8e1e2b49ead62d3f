"""Stateless geometry over torch tensors: SO(3)/SE(3) maps, projection, alignment.

Every function broadcasts over leading batch dimensions, follows its input's device and
dtype, and is differentiable. Frames are named in variables: ``T_world_cam`` maps camera
points to world points.
"""

from reshoot.geometry.align import Similarity, umeyama
from reshoot.geometry.camera import intrinsics_matrix, look_at, project, ray_rotation, unproject, world_to_pixels
from reshoot.geometry.se3 import (
    compose,
    from_rotation_translation,
    inverse,
    rigidity_error,
    screw_exp,
    screw_log,
    se3_exp,
    se3_log,
    transform_points,
)
from reshoot.geometry.so3 import angle_between, hat, rotation_angle, so3_exp, so3_log, vee

__all__ = [
    "Similarity",
    "angle_between",
    "compose",
    "from_rotation_translation",
    "hat",
    "intrinsics_matrix",
    "inverse",
    "look_at",
    "project",
    "ray_rotation",
    "rigidity_error",
    "rotation_angle",
    "screw_exp",
    "screw_log",
    "se3_exp",
    "se3_log",
    "so3_exp",
    "so3_log",
    "transform_points",
    "umeyama",
    "unproject",
    "vee",
    "world_to_pixels",
]
