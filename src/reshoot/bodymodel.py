"""Adapter for the anny body model (Apache-2.0, MakeHuman CC0 assets).

The only module that imports :mod:`anny`. Models are built lazily and memoised; the
first construction of a rig family builds a cache (about 100 s), which ``make`` does
once at install time (``scripts/warm_caches.py``) into ``$ANNY_CACHE_DIR``.
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from reshoot.errors import ReshootError

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

ANNY_VERSION = "0.6.2"
# In a development checkout, `make install` builds the caches in .cache/ at the root:
# use them when the environment names no other place.
_CHECKOUT_CACHE = Path(__file__).resolve().parents[2] / ".cache"
if (_CHECKOUT_CACHE / "anny").is_dir():
    os.environ.setdefault("ANNY_CACHE_DIR", str(_CHECKOUT_CACHE / "anny"))
    os.environ.setdefault("WARP_CACHE_PATH", str(_CHECKOUT_CACHE / "warp"))

#: The anny configurations reshoot uses, by role.
#: ``fit``: low-poly mesh (369 vertices) and a light rig (38 bones) for fitting and
#: differentiable rendering; ``render``: the full mesh (13718 vertices) for pictures.
VARIANTS: dict[str, dict[str, str]] = {
    "fit": dict(rig="anny-notoes-nohands", topology="notoes_collapse3pc", skinning_method="lbs"),
    "render": dict(rig="anny-notoes-nohands", topology="anny", skinning_method="lbs"),
}


def model_id(variant: str) -> str:
    """The id stored in a shot's ``BodyParams.model`` for a variant, e.g.
    ``'anny-0.6.2:anny-notoes-nohands/notoes_collapse3pc'``."""
    v = VARIANTS[variant]
    return f"anny-{ANNY_VERSION}:{v['rig']}/{v['topology']}"


def variant_of(model: str) -> str:
    """Inverse of :func:`model_id`."""
    for variant in VARIANTS:
        if model_id(variant) == model:
            return variant
    known = ", ".join(model_id(v) for v in VARIANTS)
    raise ReshootError(f"unknown body model {model!r}; this reshoot knows {known}")


@dataclass
class PosedBody:
    """A posed body over frames, in the world."""

    vertices_world: np.ndarray
    """(T, V, 3) metres"""
    bone_heads_world: np.ndarray
    """(T, B, 3) metres: the head of each bone, the body's joints"""
    faces: np.ndarray
    """(F, 3) triangle vertex indices"""


def pose_body(
    model: str, phenotype: dict[str, float], bone_quats_wxyz: np.ndarray, T_world_root: np.ndarray, batch: int = 64
) -> PosedBody:
    """Evaluate anny for a pose sequence (the fields of a shot's ``BodyParams``).

    ``bone_quats_wxyz`` (T, B, 4): each bone's rotation about its own head (anny's
    "local-ref"); the root's entry is ignored, its world pose is ``T_world_root`` (T, 4, 4).
    """
    import torch

    anny_model = load_anny(variant_of(model), "float64")
    T, B = bone_quats_wxyz.shape[:2]
    if B != anny_model.bone_count:
        raise ReshootError(f"body has {B} bones but {model} has {anny_model.bone_count}")
    pose = pose_parameters(bone_quats_wxyz, T_world_root)
    pheno = {k: torch.full((1,), float(v), dtype=torch.float64) for k, v in phenotype.items()}
    verts, heads = [], []
    with torch.no_grad():
        for s in range(0, T, batch):
            chunk = pose[s : s + batch]
            out = anny_model(pose_parameters=chunk, phenotype_kwargs={k: v.expand(len(chunk)) for k, v in pheno.items()})
            verts.append(out["vertices"].numpy())
            heads.append(out["bone_poses"][:, :, :3, 3].numpy())
    return PosedBody(np.concatenate(verts), np.concatenate(heads), anny_model.get_triangular_faces().numpy())


def pose_parameters(bone_quats_wxyz: np.ndarray, T_world_root: np.ndarray) -> torch.Tensor:
    """anny's ``pose_parameters`` (T, B, 4, 4) float64 for a shot's body: each bone's
    rotation (``bone_quats_wxyz`` (T, B, 4)), the root's entry its world pose (``T_world_root`` (T, 4, 4))."""
    import roma
    import torch

    from reshoot.frames import quat_wxyz_to_xyzw

    T, B = bone_quats_wxyz.shape[:2]
    pose = torch.eye(4, dtype=torch.float64).repeat(T, B, 1, 1)
    pose[:, :, :3, :3] = roma.unitquat_to_rotmat(quat_wxyz_to_xyzw(torch.from_numpy(bone_quats_wxyz)))
    pose[:, 0] = torch.from_numpy(T_world_root)
    return pose


FIT_SURFACE_OFFSET_M = 0.003
"""how far the ``fit`` mesh's surface lies inside the full one's, on average: the low-poly
mesh's facets cut across the full mesh's curves, and it is seen 4 % smaller in area.
Pushed out by 3 mm along its normals it covers the same area (measured on the synthetic
shots' bodies: area 1.00 of the full mesh's, silhouette IoU 0.94-0.95 with it, against
0.96 and 0.93-0.94 as it is). Silhouettes compared with real people use the pushed-out
surface; without it a fit moves the body about 2 % nearer the camera to fill the mask."""


def silhouette_surface(vertices: torch.Tensor, faces: torch.Tensor, offset_m: float = FIT_SURFACE_OFFSET_M) -> torch.Tensor:
    """``vertices`` (..., V, 3) pushed out by ``offset_m`` along the area-weighted normals
    of the mesh ``faces`` (F, 3) (differentiable): the surface a silhouette of the ``fit``
    mesh is drawn from."""
    import torch

    a, b, c = (vertices[..., faces[:, k], :] for k in range(3))
    face_normals = torch.linalg.cross(b - a, c - a)  # length: twice the face's area
    normals = torch.zeros_like(vertices)
    for k in range(3):
        normals = normals.index_add(-2, faces[:, k], face_normals)
    return vertices + offset_m * normals / torch.linalg.norm(normals, dim=-1, keepdim=True).clamp(min=1e-12)


def stature_m(phenotype: dict[str, float], variant: str = "render") -> float:
    """Standing height of a phenotype in metres: the rest pose's mesh, top to bottom."""
    import torch

    model = load_anny(variant, "float64")
    kwargs = {k: torch.tensor([float(v)], dtype=torch.float64) for k, v in phenotype.items()}
    with torch.no_grad():
        out = model(pose_parameters=torch.eye(4, dtype=torch.float64).repeat(1, model.bone_count, 1, 1),
                    phenotype_kwargs=kwargs)  # fmt: skip
    z = out["vertices"][0, :, 2]
    return float(z.max() - z.min())


def height_for_stature(phenotype: dict[str, float], target_m: float, variant: str = "render") -> float:
    """anny's ``height`` parameter in [0, 1] that gives ``phenotype`` (its other keys
    kept) a standing height of ``target_m`` (clamped to what the range allows)."""
    lo, hi = 0.0, 1.0
    for _ in range(20):  # stature grows monotonically with the height parameter
        mid = 0.5 * (lo + hi)
        if stature_m({**phenotype, "height": mid}, variant) < target_m:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


@functools.cache
def load_anny(variant: str = "fit", dtype_name: str = "float32") -> torch.nn.Module:
    """Return the memoised anny model for ``variant`` (a key of :data:`VARIANTS`)."""
    if variant not in VARIANTS:
        raise ReshootError(f"unknown anny variant {variant!r}; expected one of {sorted(VARIANTS)}")
    import torch

    try:
        import anny
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ReshootError(f"the anny body model is not installed ({exc}); run `make install`") from exc
    log.info("building anny model %s %s", variant, VARIANTS[variant])
    model = anny.Anny(**VARIANTS[variant])
    return model.to(getattr(torch, dtype_name))
