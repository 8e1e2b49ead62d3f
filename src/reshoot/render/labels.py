"""Label images of a shot's bodies through its camera: what ``reshoot eval`` compares
with instance masks for the composition metrics (PA, IoU).

Bodies are drawn with anny's full mesh, as the overlay and the exported scene show them,
whichever mesh they were fitted with (the fitting mesh's rig is the full mesh's; its
low-poly surface alone would score a perfect fit at IoU 0.93-0.94)."""

from __future__ import annotations

import numpy as np

from reshoot.bodymodel import model_id, pose_body, variant_of
from reshoot.errors import ReshootError
from reshoot.render.raster import Mesh, Rasterizer
from reshoot.shot import Shot


def render_labels(shot: Shot) -> np.ndarray:
    """(T, H, W) uint8: 0 background, ``k + 1`` where actor ``k``'s body is nearest.

    Actors without a body, and frames an actor's body is not drawn in (``Actor.drawn``:
    where it is not present, but for a moment it was lost in view), draw nothing.
    """
    if shot.camera is None or shot.lens is None:
        raise ReshootError("rendering labels needs a camera and a lens in the shot")
    posed = [
        pose_body(_full_mesh(a.body.model), a.body.phenotype, a.body.bone_quats_wxyz, a.body.T_world_root) if a.body else None
        for a in shot.actors
    ]
    T, H, W = shot.num_frames, shot.video.height, shot.video.width
    labels = np.zeros((T, H, W), np.uint8)
    K = shot.lens.K()
    drawn = [a.drawn() for a in shot.actors]
    with Rasterizer(W, H) as raster:
        for t in range(T):
            meshes = [
                Mesh(p.vertices_world[t], p.faces, label=k + 1)
                for k, (p, shown) in enumerate(zip(posed, drawn))
                if p is not None and shown[t]
            ]
            if meshes:
                labels[t] = raster.render(meshes, shot.camera.T_world_cam[t], K[t]).labels
    return labels


def _full_mesh(model: str) -> str:
    """The full-mesh model of ``model``'s rig (every variant reshoot knows shares one rig)."""
    variant_of(model)  # an unknown model is an error, not drawn with a rig it may not have
    return model_id("render")
