"""Overlays that show at a glance what a stage saw: each person's mask tinted in their
colour, their box with the track id, their skeleton (keypoints with confidence > 0.5);
once the bodies stage has run, each fitted body rendered (shaded, in the person's colour)
over the frame in place of the mask, so the fit shows against the footage."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from reshoot.keypoints import MEDIAPIPE33_EDGES
from reshoot.shot import Shot

#: Track colours (RGB), cycled by actor index.
PALETTE = np.array([
    [230, 60, 60], [60, 140, 240], [70, 200, 90], [240, 190, 40], [190, 80, 220], [40, 200, 200],
    [250, 130, 40], [150, 150, 150],
], np.uint8)  # fmt: skip


def draw_observations(rgb: np.ndarray, shot: Shot, t: int, alpha: float = 0.45,
                      bodies: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:  # fmt: skip
    """Frame ``t`` of ``shot`` (``rgb`` (H, W, 3) uint8) with its people drawn on, a new
    array. ``bodies``: the frame's rendered bodies ``(rgb, labels)`` to blend in instead of
    the masks (see :class:`BodyPainter`)."""
    import cv2

    out = rgb.copy()
    if bodies is not None:
        shade, labels = bodies
        for k in range(len(shot.actors)):
            m = labels == k + 1
            tint = shade[m].astype(np.float32) / 255.0 * PALETTE[k % len(PALETTE)]
            out[m] = (out[m] * (1 - BODY_ALPHA) + tint * BODY_ALPHA).astype(np.uint8)
    elif shot.masks is not None:
        labels = shot.masks.labels[t]
        for k in range(len(shot.actors)):
            m = labels == k + 1
            out[m] = (out[m] * (1 - alpha) + PALETTE[k % len(PALETTE)] * alpha).astype(np.uint8)
    thick = max(1, round(out.shape[0] / 360))
    for k, actor in enumerate(shot.actors):
        obs = actor.observations
        if obs is None or not actor.present[t]:
            continue
        colour = tuple(int(c) for c in PALETTE[k % len(PALETTE)])
        x0, y0, x1, y1 = obs.boxes_xyxy_px[t].round().astype(int)
        cv2.rectangle(out, (x0, y0), (x1, y1), colour, thick)
        cv2.putText(out, str(actor.track_id), (x0 + 2, max(y0 - 4, 12)), cv2.FONT_HERSHEY_SIMPLEX, 0.4 * thick + 0.2,
                    colour, thick, cv2.LINE_AA)  # fmt: skip
        if obs.keypoint_format != "mediapipe33":
            continue
        pts, ok = obs.kpts2d_px[t], obs.kpts_conf[t] > 0.5
        for i, j in MEDIAPIPE33_EDGES:
            if ok[i] and ok[j]:
                cv2.line(out, tuple(pts[i].round().astype(int)), tuple(pts[j].round().astype(int)), (255, 255, 255), thick,
                         cv2.LINE_AA)  # fmt: skip
        for p in pts[ok]:
            cv2.circle(out, tuple(p.round().astype(int)), thick + 1, colour, -1, cv2.LINE_AA)
    return out


BODY_ALPHA = 0.7


class BodyPainter:
    """Renders a shot's fitted bodies (anny's full mesh) through its camera, frame by
    frame: ``painter(t) -> (rgb, labels)`` or None where no body is present."""

    def __init__(self, shot: Shot) -> None:
        from reshoot.bodymodel import model_id, pose_body
        from reshoot.render.raster import Rasterizer

        self.shot = shot
        self.posed = [
            pose_body(model_id("render"), a.body.phenotype, a.body.bone_quats_wxyz, a.body.T_world_root)
            if a.body is not None else None
            for a in shot.actors
        ]  # fmt: skip
        self.raster = Rasterizer(shot.video.width, shot.video.height)
        self.K = shot.lens.K()

    def __call__(self, t: int) -> tuple[np.ndarray, np.ndarray] | None:
        from reshoot.render.raster import Mesh

        meshes = [Mesh(p.vertices_world[t], p.faces, color=np.ones(3), label=k + 1)
                  for k, (a, p) in enumerate(zip(self.shot.actors, self.posed)) if p is not None and a.drawn()[t]]  # fmt: skip
        if not meshes:
            return None
        r = self.raster.render(meshes, self.shot.camera.T_world_cam[t], self.K[t])
        return r.rgb, r.labels

    def close(self) -> None:
        self.raster.close()


def write_overlay_video(shot: Shot, frames: Iterable[np.ndarray], path: str | Path, crf: int = 20) -> Path:
    """Draw :func:`draw_observations` (with the fitted bodies, when the shot has them) on
    every frame and write an H.264 video at the shot's rate."""
    from reshoot.videoio import VideoWriter

    has_bodies = shot.camera is not None and any(a.body is not None for a in shot.actors)
    painter = BodyPainter(shot) if has_bodies else None
    try:
        with VideoWriter(path, shot.video.width, shot.video.height, shot.video.fps, crf) as video:
            for t, rgb in enumerate(frames):
                video.write(draw_observations(rgb, shot, t, bodies=painter(t) if painter else None))
    finally:
        if painter is not None:
            painter.close()
    return Path(path)
