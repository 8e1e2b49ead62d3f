r"""The dolly zoom: a zoom the background cannot show, and what the actors show of it.

A camera that moves along its view axis without turning, over a still background, makes
the same images under a whole family of reconstructions. In the first camera's frame, a
point at inverse depth ``u`` seen at ``r0`` pixels from the principal point is seen in
frame t at

    r(t) = r0 / (1/z(t) - u d(t)/z(t))

when the camera has moved ``d(t)`` forward and its focal length is ``z(t)`` times the
first. The denominator is affine in ``u``, so re-mapping every depth by ``u -> n (u - p)``
and every frame by ``1/z = 1 - d' p``, ``d = d' z / n`` (from a solution with ``z' = 1``
and moves ``d'``) leaves every image as it was. ``n`` is the scale no reconstruction
knows; ``p`` is a zoom no background shows. The solver finds the member without a zoom,
and for a dolly zoom (Hitchcock's push-in that widens the lens, seed 002 Table I) that
member is a pull-out, with the depths' order reversed (``n < 0``: the far background
comes out nearest).

The actors break the tie (``resolve``):

1. **Occlusion.** In that pull-out the actors hold their size while the camera retreats:
   they would stand farther away than the background they hide. Only one other thing
   does that, an actor walking towards a retreating camera (a backward tracking shot),
   and the ground tells the two apart: there the actors' feet land on the background's
   ground, in front of it. When they do not, the order is reversed, which only a zoom
   does.
2. **Eye level.** Among the reversed members, ``p`` sets how far behind the actors the
   background lies, and with it the camera's height above the ground the background
   holds, measured in the actors' heights (their feet on that ground give their depth,
   their height in pixels their size). The zoom is the one that puts the camera at eye
   level (``EYE_LEVEL``), and it is flagged as such: the images cannot say more.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np

from reshoot.stages.camera.ground import ground_plane
from reshoot.stages.camera.solve import MIN_TURN_DEG, CameraSolution, turned_deg

log = logging.getLogger(__name__)

EYE_LEVEL = 1.6 / 1.7
"""camera height above the ground over the actors' height, when nothing else shows it
(an eye-level camera, 1.6 m, and adults of 1.70 m)"""
AXIAL_DEG = 15.0
"""a camera moving within this angle of its view axis (and turning less than
``MIN_TURN_DEG``) is open to the family"""
MIN_MOVE = 0.02
"""... when it moves at least this fraction of the background's median depth"""
BEHIND_SHARE = 0.9
"""actors that seem farther than this share of the background points contradict it"""
LANDED_SHARE = 0.8
"""feet stand on a ground when this share of their rays meets it in front of the camera"""
FARTHEST_QUANTILE = 0.995
"""the background's farthest point (once the order is reversed) by this quantile of its
inverse depths, not the extreme: one stray point would bound the zoom"""
ZOOM_SEARCH = 8.0
"""the zooms tried run from that farthest point's at infinity to this many times its shift"""
FEET = (27, 28, 29, 30, 31, 32)
"""mediapipe33 ankles, heels and toes: the lowest one seen stands on the ground"""
MIN_CONF = 0.5
EDGE_PX = 2.0
"""a box this close to the frame's edge is cut off: its height is not the person's"""


@dataclass
class Figures:
    """People as standing figures in the image: where they touch the ground, how tall."""

    feet_px: np.ndarray
    """(A, T, 2) the lowest foot keypoint seen; NaN where none is"""
    height_px: np.ndarray
    """(A, T) from the top of the box to the feet; NaN where the box is cut off or unseen"""


def figures(actors: list, num_frames: int, width: int, height: int) -> Figures:
    """The standing figures of ``actors`` (the shot's, with their observations)."""
    A = len(actors)
    feet, tall = np.full((A, num_frames, 2), np.nan), np.full((A, num_frames), np.nan)
    for a, actor in enumerate(actors):
        obs = actor.observations
        if obs is None or obs.keypoint_format != "mediapipe33":
            continue
        kp, conf, box = obs.kpts2d_px[:, FEET], obs.kpts_conf[:, FEET], obs.boxes_xyxy_px
        seen = (conf >= MIN_CONF) & actor.present[:, None]
        lowest = np.argmax(np.where(seen, kp[..., 1], -np.inf), axis=1)
        rows = np.arange(num_frames)
        any_seen = seen.any(1)
        feet[a, any_seen] = kp[rows, lowest][any_seen]
        whole = (box[:, 1] > EDGE_PX) & (box[:, 3] < height - EDGE_PX) & (box[:, 0] > EDGE_PX) & (box[:, 2] < width - EDGE_PX)
        ok = any_seen & whole & (box[:, 3] > box[:, 1])
        tall[a, ok] = feet[a, ok, 1] - box[ok, 1]
    return Figures(feet, tall)


@dataclass
class _Path:
    """A solution in its first camera's frame."""

    R: np.ndarray
    """(T, 3, 3) world-to-camera rotations relative to the first camera"""
    C: np.ndarray
    """(T, 3) camera centres"""
    focal: np.ndarray
    points: np.ndarray


def _first_camera_frame(sol: CameraSolution) -> _Path:
    R0, t0, C = sol.R_cam_world[0], sol.t_cam_world[0], sol.centres
    return _Path(sol.R_cam_world @ R0.T, (C - C[0]) @ R0.T, sol.focal_px.copy(), sol.points @ R0.T + t0)


def _member(path: _Path, p: float) -> _Path:
    """The member of the family with ``u -> p - u`` (n = -1: the reversed order); points
    that would fall behind the camera are dropped."""
    Z = path.points[:, 2]
    u = p - 1.0 / Z
    keep = (Z > 0) & (u > 0)
    points = path.points[keep] * (1.0 / u[keep] / Z[keep])[:, None]
    z = 1.0 / (1.0 - path.C[:, 2] * p)
    return _Path(path.R, -path.C * z[:, None], path.focal * z, points)


def _stand(path: _Path, figs: Figures, principal: np.ndarray, every: int = 3) -> dict | None:
    """Where the figures stand on the background's ground in ``path``: the first camera's
    height over their median height, the share of feet that land in front of the camera,
    and their median depth against the background's. None without a ground."""
    depth = path.points[:, 2][path.points[:, 2] > 0]
    if not len(depth):
        return None
    plane = ground_plane(path.points, np.array([0.0, -1.0, 0.0]), path.C[0], float(np.median(depth)))
    if plane is None:
        return None
    normal, offset, _ = plane
    heights, depths, landed, tried = [], [], 0, 0
    for t in range(0, len(path.C), every):
        for a in range(figs.feet_px.shape[0]):
            foot = figs.feet_px[a, t]
            if not np.isfinite(foot).all():
                continue
            tried += 1
            ray = path.R[t].T @ np.array([*(foot - principal) / path.focal[t], 1.0])
            denom = float(normal @ ray)
            lam = (offset - normal @ path.C[t]) / denom if abs(denom) > 1e-12 else -1.0
            if lam <= 0:
                continue
            landed += 1
            depths.append(lam)
            if np.isfinite(figs.height_px[a, t]):
                heights.append(figs.height_px[a, t] * lam / path.focal[t])
    if not tried or not heights:
        return None
    return {"camera_over_actor": float((normal @ path.C[0] - offset) / np.median(heights)),
            "landed": landed / tried, "feet_depth": float(np.median(depths)) if depths else np.inf,
            "background_depth": float(np.median(depth))}  # fmt: skip


def _apparent_inverse_depth(path: _Path, figs: Figures) -> float | None:
    """The smallest inverse depth of the figures, taken as still: ``h(t) (1 - d(t) u)``
    holds constant for a figure at inverse depth ``u`` when the camera moves ``d`` along
    its axis (least squares over each figure's frames). One figure behind the background
    is a contradiction; in a dolly zoom the one standing where the camera aims is."""
    d = path.C[:, 2]
    found = []
    for h in figs.height_px:
        ok = np.isfinite(h)
        if ok.sum() < 5 or np.ptp(d[ok]) <= 0:
            continue
        A = np.stack([np.ones(ok.sum()), h[ok] * d[ok]], 1)
        found.append(np.linalg.lstsq(A, h[ok], rcond=None)[0][1])
    return float(min(found)) if found else None


def resolve(sol: CameraSolution, figs: Figures, width: int, height: int) -> CameraSolution | None:
    """The dolly zoom in ``sol`` (a moving camera without a zoom), when the actors show
    one; else None. The first frame keeps its focal length (given or not); the zoom is
    flagged as set by an eye-level camera. A zoom the actors show but no ground can
    measure is left out, and said in ``sol.notes``."""
    if sol.model != "general" or sol.zooms or not len(sol.points):
        return None
    path = _first_camera_frame(sol)
    turn = turned_deg(sol.R_cam_world)
    move = path.C[np.argmax(np.linalg.norm(path.C, axis=1))]
    depth = path.points[:, 2][path.points[:, 2] > 0]
    if turn >= MIN_TURN_DEG or not len(depth) or np.linalg.norm(move) < MIN_MOVE * np.median(depth):
        return None
    if np.degrees(np.arccos(min(1.0, abs(move[2]) / np.linalg.norm(move)))) > AXIAL_DEG:
        return None
    u_actor = _apparent_inverse_depth(path, figs)
    u_background = 1.0 / depth
    if u_actor is None or u_actor >= np.quantile(u_background, 1.0 - BEHIND_SHARE):
        return None  # the actors stand in front of the background: no contradiction
    principal = np.array([width / 2.0, height / 2.0])
    here = _stand(path, figs, principal)
    if here is not None and here["landed"] >= LANDED_SHARE and here["feet_depth"] < here["background_depth"]:
        return None  # they walk with the camera: their feet are on the ground, in front
    u_far = float(np.quantile(u_background, FARTHEST_QUANTILE))
    best = None
    for p in u_far * np.exp(np.linspace(0.01, np.log(ZOOM_SEARCH), 120)):
        member = _member(path, float(p))
        stand = _stand(member, figs, principal)
        if stand is None or stand["landed"] < LANDED_SHARE:
            continue
        miss = abs(np.log(stand["camera_over_actor"] / EYE_LEVEL)) if stand["camera_over_actor"] > 0 else np.inf
        if best is None or miss < best[0]:
            best = (miss, member, stand)
    if best is None:
        sol.notes.append("the actors hold their size while the background says the camera moves along its axis "
                         "(a dolly zoom?), but no ground shows how much the lens zooms: held fixed")  # fmt: skip
        return None
    _, member, stand = best
    # the member lives in the first camera's frame, which becomes the solver's frame
    t_cw = -np.einsum("tij,tj->ti", member.R, member.C)
    zoom = member.focal[-1] / member.focal[0]
    note = (f"dolly zoom: the actors hold their size while the background says the camera moves along its axis, so "
            f"the lens zooms: focal {member.focal.min():.0f}-{member.focal.max():.0f} px (x{zoom:.2f} over the shot); "
            f"how much is not in the images: it is the zoom that puts the camera at eye level "
            f"({stand['camera_over_actor']:.2f} of the actors' height)")  # fmt: skip
    log.info("camera: %s", note)
    return replace(sol, R_cam_world=member.R, t_cam_world=t_cw, focal_px=member.focal, points=member.points, zooms=True,
                   notes=[*sol.notes, note])  # fmt: skip
