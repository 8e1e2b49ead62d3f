"""Label images of a shot's bodies through its camera: what ``reshoot eval`` compares
with instance masks for the composition metrics (PA, IoU)."""

from __future__ import annotations

import numpy as np

from reshoot.bodymodel import pose_body
from reshoot.errors import ReshootError
from reshoot.render.raster import Mesh, Rasterizer
from reshoot.shot import Shot


def render_labels(shot: Shot) -> np.ndarray:
    """(T, H, W) uint8: 0 background, ``k + 1`` where actor ``k``'s body is nearest.

    Actors without a body, and frames where an actor is not present, draw nothing.
    """
    if shot.camera is None or shot.lens is None:
        raise ReshootError("rendering labels needs a camera and a lens in the shot")
    posed = [
        pose_body(a.body.model, a.body.phenotype, a.body.bone_quats_wxyz, a.body.T_world_root) if a.body else None
        for a in shot.actors
    ]
    T, H, W = shot.num_frames, shot.video.height, shot.video.width
    labels = np.zeros((T, H, W), np.uint8)
    K = shot.lens.K()
    with Rasterizer(W, H) as raster:
        for t in range(T):
            meshes = [
                Mesh(p.vertices_world[t], p.faces, label=k + 1)
                for k, (a, p) in enumerate(zip(shot.actors, posed))
                if p is not None and a.present[t]
            ]
            if meshes:
                labels[t] = raster.render(meshes, shot.camera.T_world_cam[t], K[t]).labels
    return labels
