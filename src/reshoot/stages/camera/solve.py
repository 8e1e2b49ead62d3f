"""The camera path and lens from background point tracks, with the model the shot needs.

- **static** (locked-off): the background does not move; the camera is still and the
  focal length cannot be seen (it is assumed, and flagged).
- **rotation** (pan/tilt about a fixed point): every pair of views is a homography
  ``H = K R K^-1``; the focal length is the one that makes those rotations rotations;
  a rotation-only bundle adjustment (points are directions) refines it all.
- **general**: keyframes registered incrementally (two-view essential matrix, then PnP),
  points triangulated, bundle adjustment with the focal length free (one, or one per
  keyframe when it changes: zooms), every other frame registered by PnP on the points.
  A camera that hardly turns is solved again with its orientation held (a dolly, truck or
  crane move) and kept so when that explains the background as well; its other frames
  then need only their translation, which is linear.

The choice is automatic (:func:`classify`) or forced (``CameraInitConfig.model``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from reshoot.errors import InputError
from reshoot.stages.camera.bundle import BundleProblem, adjust, residuals_px
from reshoot.stages.camera.tracks import PointTracks

log = logging.getLogger(__name__)

MODELS = ("auto", "static", "rotation", "general")
ASSUMED_HFOV_DEG = 55.0
"""horizontal field of view assumed when nothing shows the focal length (a locked-off
shot): a "normal" lens, about 35 mm on a full-frame sensor"""


@dataclass
class SolveConfig:
    model: str = "auto"
    """auto | static | rotation | general"""
    focal_px: float | None = None
    """the focal length when known (pixels); None: estimated"""
    zoom: str = "auto"
    """auto | fixed | per-frame: whether the focal length may change during the shot"""
    static_flow_px: float = 0.25
    """median background motion between frames (pixels) under which the camera is still"""
    keyframe_flow_frac: float = 0.01
    """a new keyframe when the background has moved this fraction of the frame's diagonal"""
    min_keyframe_gap: int = 3
    """... but never closer than this many frames (fast moves would make every frame a keyframe)"""
    max_keyframe_gap: int = 24
    """... or this many frames have passed (slow moves and zooms still get keyframes)"""
    rotation_inlier_ratio: float = 0.95
    """a shot is a pure rotation when homographies explain this share of what essential
    geometry explains, between keyframes (at ``inlier_px``)"""
    inlier_px: float = 1.5
    min_points: int = 30
    """background points a frame needs to be registered"""


@dataclass
class CameraSolution:
    R_cam_world: np.ndarray
    """(T, 3, 3)"""
    t_cam_world: np.ndarray
    """(T, 3)"""
    focal_px: np.ndarray
    """(T,)"""
    registered: np.ndarray
    """(T,) bool: solved from the frame's own points (else bridged from neighbours)"""
    points: np.ndarray
    """(P, 3) background points (directions for a rotation)"""
    model: str
    focal_source: str
    """"given", "metadata", "estimated" (from the motion), "horizon" (from the ground plane
    against the vertical edges: ``horizon``) or "assumed\""""
    zooms: bool = False
    turns: bool = True
    """False when a moving camera's orientation is held (a dolly, truck or crane move)"""
    reprojection_px: float = float("nan")
    """median reprojection error of the background points"""
    notes: list[str] = field(default_factory=list)

    @property
    def centres(self) -> np.ndarray:
        """(T, 3) the cameras' centres in the solver's frame."""
        return -np.einsum("tji,tj->ti", self.R_cam_world, self.t_cam_world)


# ------------------------------------------------------------------------- analysis


def keyframes(tracks: PointTracks, diag_px: float, cfg: SolveConfig) -> list[int]:
    """Frames where the background has moved ``keyframe_flow_frac`` of the diagonal since
    the last keyframe (or half its points were lost, or ``max_keyframe_gap`` frames
    passed), plus the first and last frames."""
    T = tracks.num_frames
    keys = [0]
    for t in range(1, T):
        ids, a, b = tracks.common(keys[-1], t)
        n_last = len(tracks.in_frame(keys[-1])[0])
        moved = np.median(np.linalg.norm(b - a, axis=1)) if len(ids) else np.inf
        lost = len(ids) < 0.5 * n_last
        if t - keys[-1] < cfg.min_keyframe_gap and not lost:
            continue
        if moved >= cfg.keyframe_flow_frac * diag_px or lost or t - keys[-1] >= cfg.max_keyframe_gap:
            # a frame that lost most points: the one before still shares them, unless it is the last keyframe
            keys.append(t if t - keys[-1] <= 1 or not lost else t - 1)
    if keys[-1] != T - 1:
        keys.append(T - 1)
    return keys


def median_flow(tracks: PointTracks) -> np.ndarray:
    """(T-1,) median displacement of the background points between consecutive frames."""
    out = np.zeros(max(tracks.num_frames - 1, 0))
    for t in range(len(out)):
        ids, a, b = tracks.common(t, t + 1)
        out[t] = np.median(np.linalg.norm(b - a, axis=1)) if len(ids) else np.nan
    return out


def classify(tracks: PointTracks, keys: list[int], cfg: SolveConfig) -> tuple[str, dict]:
    """"static", "rotation" or "general", and the evidence."""
    import cv2

    flow = median_flow(tracks)
    evidence: dict = {"median_flow_px": float(np.nanmedian(flow)) if len(flow) else 0.0}
    if not len(flow) or np.nanmedian(flow) < cfg.static_flow_px:
        return "static", evidence
    ratios = []
    for a, b in zip(keys[:-1], keys[1:]):
        _, xa, xb = tracks.common(a, b)
        if len(xa) < 15:
            continue
        _, in_h = cv2.findHomography(xa, xb, cv2.RANSAC, cfg.inlier_px)
        _, in_f = cv2.findFundamentalMat(xa, xb, cv2.FM_RANSAC, cfg.inlier_px, 0.999)
        if in_h is not None and in_f is not None and in_f.sum() > 0:
            ratios.append(in_h.sum() / in_f.sum())
    evidence["homography_ratio"] = float(np.median(ratios)) if ratios else None
    if ratios and np.median(ratios) >= cfg.rotation_inlier_ratio:
        return "rotation", evidence
    return "general", evidence


# ------------------------------------------------------------------------- helpers


def _K(f: float, principal: np.ndarray) -> np.ndarray:
    return np.array([[f, 0, principal[0]], [0, f, principal[1]], [0, 0, 1.0]])


def _nearest_rotation(M: np.ndarray) -> np.ndarray:
    U, _, Vt = np.linalg.svd(M)
    return U @ np.diag([1, 1, np.sign(np.linalg.det(U @ Vt))]) @ Vt


def _bridge(R: np.ndarray, t: np.ndarray, f: np.ndarray, ok: np.ndarray, window: int = 5) -> None:
    """Fill frames not ``ok`` in place: between solved frames, rotations by slerp and
    translations and log focal linearly; before the first and after the last solved frame,
    carried on at the mean speed of the ``window`` solved frames next to them (constant
    velocity; the focal length held)."""
    T = len(ok)
    solved = np.flatnonzero(ok)
    if len(solved) == T or len(solved) == 0:
        return
    if len(solved) == 1:
        R[:], t[:], f[:] = R[solved[0]], t[solved[0]], f[solved[0]]
        return
    inside = np.arange(solved[0], solved[-1] + 1)
    R[inside] = Slerp(solved, Rotation.from_matrix(R[solved]))(inside).as_matrix()
    for k in range(3):
        t[inside, k] = np.interp(inside, solved, t[solved, k])
    f[:] = np.exp(np.interp(np.arange(T), solved, np.log(f[solved])))
    for end, edge, step in ((solved[-1], range(solved[-1] + 1, T), 1), (solved[0], range(solved[0] - 1, -1, -1), -1)):
        if not len(edge):
            continue
        near = solved[-window:] if step == 1 else solved[:window][::-1]  # the edge's solved frames, outwards last
        if len(near) < 2:
            R[list(edge)], t[list(edge)] = R[end], t[end]
            continue
        span = abs(int(near[-1]) - int(near[0]))
        turn = (Rotation.from_matrix(R[near[-1]]) * Rotation.from_matrix(R[near[0]]).inv()).as_rotvec() / span
        move = (t[near[-1]] - t[near[0]]) / span  # (in camera-from-world terms; fine for small turns)
        for u in edge:
            n = abs(u - end)
            R[u] = (Rotation.from_rotvec(turn * n) * Rotation.from_matrix(R[end])).as_matrix()
            t[u] = t[end] + move * n


def _triangulate(P1: np.ndarray, P2: np.ndarray, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    import cv2

    X = cv2.triangulatePoints(P1, P2, x1.T.astype(np.float64), x2.T.astype(np.float64))
    return (X[:3] / X[3]).T


def _median_error(bp: BundleProblem, observed: BundleProblem) -> float:
    """Median reprojection error of ``bp``'s solution over every observation of
    ``observed`` (the same points before outliers were pruned): what pruning hid counts,
    so that models that had to drop more of the background do not look better."""
    err = residuals_px(replace(bp, obs_cam=observed.obs_cam, obs_point=observed.obs_point, obs_xy=observed.obs_xy))
    return float(np.median(np.where(np.isfinite(err), err, 1e6)))


def _prune(bp: BundleProblem, max_px: float) -> BundleProblem:
    keep = residuals_px(bp) <= max_px
    return replace(bp, obs_cam=bp.obs_cam[keep], obs_point=bp.obs_point[keep], obs_xy=bp.obs_xy[keep])


def _observations(tracks: PointTracks, frames: list[int], point_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cam index, point index, xy) of the given points in the given frames."""
    cam_of = {t: i for i, t in enumerate(frames)}
    index = np.full(tracks.num_points, -1)
    index[point_ids] = np.arange(len(point_ids))
    sel = np.isin(tracks.frame, frames) & (index[tracks.point] >= 0)
    cams = np.array([cam_of[t] for t in tracks.frame[sel]], int)
    return cams, index[tracks.point[sel]], tracks.xy[sel]


# ------------------------------------------------------------------------- solvers


def solve(tracks: PointTracks, width: int, height: int, cfg: SolveConfig | None = None) -> CameraSolution:
    cfg = cfg or SolveConfig()
    if cfg.model not in MODELS:
        raise InputError(f"camera model {cfg.model!r}: expected one of {', '.join(MODELS)}")
    if cfg.zoom not in ("auto", "fixed", "per-frame"):
        raise InputError(f"zoom {cfg.zoom!r}: expected auto, fixed or per-frame")
    principal = np.array([width / 2.0, height / 2.0])
    diag = float(np.hypot(width, height))
    counts = tracks.per_frame_counts()
    if tracks.num_frames == 0:
        raise InputError("the shot has no frames: nothing to solve a camera from")
    if np.median(counts) < cfg.min_points:
        # a face filling the frame, a blank wall: nothing to see the camera move by
        sol = _solve_static(tracks, width, cfg)
        sol.model, sol.registered[:] = "static", False
        sol.notes.insert(0, f"too few background points ({np.median(counts):.0f} per frame, {cfg.min_points} needed): "
                            "the camera is held still, every frame flagged unregistered")  # fmt: skip
        log.warning("camera: %s", sol.notes[0])
        return sol
    keys = keyframes(tracks, diag, cfg)
    model, evidence = classify(tracks, keys, cfg)
    if cfg.model != "auto":
        evidence["detected"] = model
        model = cfg.model
    log.info("camera: %s shot (%s), %d keyframes", model, evidence, len(keys))
    if model == "static":
        sol = _solve_static(tracks, width, cfg)
    elif cfg.model == "rotation":
        sol = _solve_rotation(tracks, keys, principal, width, cfg)
    elif cfg.model == "general":
        sol = _solve_general(tracks, keys, principal, width, cfg)
    else:
        sol = _choose(tracks, keys, principal, width, cfg, model, evidence)
        model = sol.model
    sol.notes.insert(0, f"model {model}: {evidence}")
    return sol


def _choose(tracks: PointTracks, keys: list[int], principal: np.ndarray, width: int, cfg: SolveConfig, model: str,
            evidence: dict) -> CameraSolution:  # fmt: skip
    """A moving camera: the model the homography test suggests first; the other one too
    when the first does not solve every frame or fits the background worse than
    ``GOOD_FIT_PX``. Of two, the simpler (pan) wins unless the general one
    explains the background clearly better or solves clearly more frames."""
    T = tracks.num_frames
    candidates: dict[str, CameraSolution] = {}
    order = ("rotation", "general") if model == "rotation" else ("general", "rotation")
    for name in order:
        if candidates:
            first = next(iter(candidates.values()))
            if first.registered.all() and first.reprojection_px <= GOOD_FIT_PX:
                break  # it fits throughout: no need to try the other
        try:
            run = _solve_rotation if name == "rotation" else _solve_general
            candidates[name] = run(tracks, keys, principal, width, cfg)
        except InputError as exc:
            evidence[f"{name} failed"] = str(exc)
    if not candidates:
        sol = _solve_static(tracks, width, cfg)
        sol.registered[:] = False
        sol.notes.insert(0, "neither a pan nor a moving camera fits the background: the camera is held still, every "
                            "frame flagged unregistered")  # fmt: skip
        return sol
    if len(candidates) == 1:
        return next(iter(candidates.values()))
    rot, gen = candidates["rotation"], candidates["general"]
    evidence["reprojection_px"] = {"rotation": round(rot.reprojection_px, 3), "general": round(gen.reprojection_px, 3)}
    solved = {"rotation": int(rot.registered.sum()), "general": int(gen.registered.sum())}
    if abs(solved["rotation"] - solved["general"]) > 0.1 * T:
        pick = rot if solved["rotation"] > solved["general"] else gen
        pick.notes.append(f"frames solved: {solved}; the {pick.model} model keeps more of the shot")
        return pick
    return rot if rot.reprojection_px <= max(1.25 * gen.reprojection_px, gen.reprojection_px + 0.1) else gen


PLAUSIBLE_HFOV_DEG = (8.0, 120.0)
"""horizontal fields of view of real lenses, long telephoto to wide fisheye-free: a solve
outside them is degenerate (too little parallax), not a lens"""


def _hfov_deg(focal_px: float, width: int) -> float:
    return float(np.degrees(2.0 * np.arctan(width / 2.0 / focal_px)))


def plausible_focal(focal_px: float, width: int) -> bool:
    return bool(PLAUSIBLE_HFOV_DEG[0] <= _hfov_deg(focal_px, width) <= PLAUSIBLE_HFOV_DEG[1])


def assumed_focal(width: int) -> float:
    return width / 2.0 / np.tan(np.radians(ASSUMED_HFOV_DEG) / 2.0)


def _solve_static(tracks: PointTracks, width: int, cfg: SolveConfig) -> CameraSolution:
    T = tracks.num_frames
    f = cfg.focal_px or assumed_focal(width)
    notes = [] if cfg.focal_px else [
        f"focal length assumed ({ASSUMED_HFOV_DEG:g} degree horizontal view): a still camera does not show it"
    ]
    return CameraSolution(np.repeat(np.eye(3)[None], T, 0), np.zeros((T, 3)), np.full(T, float(f)), np.ones(T, bool),
                          np.zeros((0, 3)), "static", "given" if cfg.focal_px else "assumed", notes=notes)  # fmt: skip


def _rotation_focal(Hs: list[np.ndarray], principal: np.ndarray, width: int) -> float:
    """The focal length that makes ``K^-1 H K`` closest to rotations (scaled to det 1)."""
    from scipy.optimize import minimize_scalar

    def cost(log_f: float) -> float:
        K = _K(np.exp(log_f), principal)
        Ki = np.linalg.inv(K)
        total = 0.0
        for H in Hs:
            M = Ki @ H @ K
            M = M / np.cbrt(np.linalg.det(M))
            total += float(np.linalg.norm(M @ M.T - np.eye(3)))
        return total

    best = minimize_scalar(cost, bounds=(np.log(0.2 * width), np.log(8.0 * width)), method="bounded", options={"xatol": 1e-5})
    return float(np.exp(best.x))


def _turn_on(H: np.ndarray, frames: int, more: int) -> np.ndarray:
    """The homography of a turn that went on at the speed of ``H`` (``frames`` long) for
    ``more`` frames: ``H = K R K^-1`` gives ``K R^a K^-1 = H^a``."""
    from scipy.linalg import fractional_matrix_power

    H = H / np.cbrt(np.linalg.det(H))
    return np.real(fractional_matrix_power(H, more / frames))


def _solve_rotation(tracks: PointTracks, keys: list[int], principal: np.ndarray, width: int, cfg: SolveConfig) -> CameraSolution:
    import cv2

    T = tracks.num_frames
    # homographies keyframe to keyframe, chained from the first
    H_0k, steps, breaks = [np.eye(3)], [], []
    for a, b in zip(keys[:-1], keys[1:]):
        _, xa, xb = tracks.common(a, b)
        H = cv2.findHomography(xa, xb, cv2.RANSAC, cfg.inlier_px)[0] if len(xa) >= 8 else None
        if H is None:  # nothing seen across (a whip pan's blur): carry on turning as before
            H = _turn_on(*steps[-1], b - a) if steps else np.eye(3)
            breaks.append(b)
        steps.append((H, b - a))
        H_0k.append(H @ H_0k[-1])
    notes = []
    if breaks:
        notes.append(f"{len(breaks)} breaks in the background (at frames {breaks}): the turn across each is extrapolated "
                     "at constant speed")  # fmt: skip
    unbroken = H_0k[1 : keys.index(breaks[0])] if breaks else H_0k[1:]
    if cfg.focal_px:
        f, source = cfg.focal_px, "given"
    elif unbroken:
        f, source = _rotation_focal(unbroken, principal, width), "estimated"
    else:
        f, source = assumed_focal(width), "assumed"
        notes.append(f"focal length assumed ({ASSUMED_HFOV_DEG:g} degree horizontal view): the pan breaks at once")
    K = _K(f, principal)
    Ki = np.linalg.inv(K)
    R_keys = np.stack([_nearest_rotation(Ki @ H @ K / np.cbrt(np.linalg.det(Ki @ H @ K))) for H in H_0k])
    # points: directions, first seen in a keyframe
    key_ids = np.unique(tracks.point[np.isin(tracks.frame, keys)])
    cams, pidx, xy = _observations(tracks, keys, key_ids)
    _, first = np.unique(pidx, return_index=True)  # observations come in frame order: each point's first keyframe
    rays = np.c_[xy[first], np.ones(len(first))] @ Ki.T
    rays /= np.linalg.norm(rays, axis=1, keepdims=True)
    dirs = np.einsum("pji,pj->pi", R_keys[cams[first]], rays)  # R^T ray: the direction in the first camera's frame
    bp = BundleProblem(Rotation.from_matrix(R_keys).as_rotvec(), np.zeros((len(keys), 3)), np.full(len(keys), f), dirs,
                       cams, pidx, xy, principal, rotation_only=True, point_ids=key_ids)  # fmt: skip
    focal_mode = "shared" if source == "estimated" else "fixed"
    observed = bp
    bp = adjust(_prune(adjust(bp, focal_mode), max(3 * cfg.inlier_px, 1.0)), focal_mode)
    # every frame: the rotation taking the known directions to the frame's rays (Kabsch)
    R = np.zeros((T, 3, 3))
    ok = np.zeros(T, bool)
    Kf = _K(bp.focal[0], principal)
    Kfi = np.linalg.inv(Kf)
    index = np.full(tracks.num_points, -1)
    index[key_ids] = np.arange(len(key_ids))
    for t in range(T):
        ids, xy_t = tracks.in_frame(t)
        known = index[ids] >= 0
        if known.sum() < cfg.min_points:
            continue
        rays = np.c_[xy_t[known], np.ones(known.sum())] @ Kfi.T
        rays /= np.linalg.norm(rays, axis=1, keepdims=True)
        d = bp.points[index[ids[known]]]
        w = np.ones(len(d))
        for _ in range(3):  # reweighted: points that disagree by more than ~2 px count less
            Rt = _nearest_rotation((rays * w[:, None]).T @ d)
            ang = np.linalg.norm(np.cross(d @ Rt.T, rays), axis=1) * bp.focal[0]
            w = 1.0 / np.maximum(ang / (2 * cfg.inlier_px), 1.0)
        R[t], ok[t] = Rt, True
    t_zero = np.zeros((T, 3))
    focal = np.full(T, float(bp.focal[0]))
    _bridge(R, t_zero, focal, ok)
    return CameraSolution(R, t_zero, focal, ok, bp.points, "rotation", source, reprojection_px=_median_error(bp, observed),
                          notes=notes)  # fmt: skip


GOOD_FIT_PX = 0.5
"""a solution that solves every frame and reprojects the background this well (median,
pixels) is not second-guessed by the other model"""
MIN_ZOOM = 0.05
"""a focal length that changes less than this (relative) over the shot is held constant:
phone stabilisation and rolling shutter look like small zooms"""
MIN_TURN_DEG = 3.0
"""a moving camera that turns less than this over the shot does not show its focal length
(a translating pinhole camera and a scene stretched in depth make the same images)"""
HELD_TURN_FIT = (1.05, 0.02)
"""... and is taken not to turn at all (a dolly, truck or crane move: rotations held) when
that model reprojects the background within this factor and margin (px) of the free
model's median error: along a narrow view a small turn and a sideways move look alike,
and a free solve trades one for the other (a follow shot's 0.9 degrees, its fit 0.27 px
against the held model's 0.24)"""


def _solve_general(tracks: PointTracks, keys: list[int], principal: np.ndarray, width: int, cfg: SolveConfig) -> CameraSolution:
    f0 = cfg.focal_px or assumed_focal(width)
    notes: list[str] = []
    bp, keys_used = _incremental(tracks, keys, principal, f0, cfg)
    turn = _turn_deg(bp)
    if cfg.focal_px:
        focal_source = "given"
    elif turn < MIN_TURN_DEG:  # the focal length slides freely with the depths: hold the assumed one
        focal_source = "assumed"
        notes.append(f"focal length assumed ({ASSUMED_HFOV_DEG:g} degree horizontal view): the camera turns {turn:.1f} "
                     f"degrees, too little to show it")  # fmt: skip
    else:
        focal_source = "estimated"
        bp = adjust(bp, "shared")
        if abs(np.log(bp.focal[0] / f0)) > np.log(1.25):  # far from the guess: start again from the estimate
            f0 = float(bp.focal[0])
            bp, keys_used = _incremental(tracks, keys, principal, f0, cfg)
            bp = adjust(bp, "shared")
        if not plausible_focal(float(bp.focal[0]), width):  # a degenerate solve (too little parallax), not a lens
            notes.append(f"focal length assumed ({ASSUMED_HFOV_DEG:g} degree horizontal view): the motion gave "
                         f"{_hfov_deg(float(bp.focal[0]), width):.0f} degrees, outside any lens's "
                         f"{PLAUSIBLE_HFOV_DEG[0]:g}-{PLAUSIBLE_HFOV_DEG[1]:g}")  # fmt: skip
            focal_source, f0 = "assumed", assumed_focal(width)
            bp, keys_used = _incremental(tracks, keys, principal, f0, cfg)
            turn = _turn_deg(bp)  # with a lens: a turn may have stood in for the focal length
    observed = bp
    bp = _prune(bp, max(3 * cfg.inlier_px, 3 * float(np.median(residuals_px(bp)))))
    focal_mode = "shared" if focal_source == "estimated" else "fixed"
    bp = adjust(bp, focal_mode)
    if turn < MIN_TURN_DEG:
        bp = _held_if_still(bp, observed, focal_mode, notes)
    zooms = False
    if focal_source != "given" and cfg.zoom != "fixed" and len(keys_used) > 2:
        shared_err = float(np.median(residuals_px(bp)))
        zbp = adjust(bp, "per-camera", focal_smoothness=20.0)
        zoom_err = float(np.median(residuals_px(zbp)))
        spread = float(zbp.focal.max() / zbp.focal.min() - 1.0)
        lens_like = plausible_focal(float(zbp.focal.min()), width) and plausible_focal(float(zbp.focal.max()), width)
        if lens_like and (cfg.zoom == "per-frame" or (zoom_err < 0.8 * shared_err and spread > MIN_ZOOM)):
            bp, zooms = zbp, True
            notes.append(f"zoom: focal {zbp.focal.min():.0f}-{zbp.focal.max():.0f} px "
                         f"(reprojection {shared_err:.2f} -> {zoom_err:.2f} px)")
    sol = _register_all(tracks, bp, keys_used, principal, cfg, zooms, focal_source, notes)
    sol.reprojection_px = _median_error(bp, observed)
    return sol


def turned_deg(R_cam_world: np.ndarray) -> float:
    """The most any of the cameras ``R_cam_world`` (T, 3, 3) is turned from the first, degrees."""
    turned = Rotation.from_matrix(R_cam_world) * Rotation.from_matrix(R_cam_world[0]).inv()
    return float(np.degrees(np.linalg.norm(turned.as_rotvec(), axis=1).max()))


def _turn_deg(bp: BundleProblem) -> float:
    """How far the last camera of ``bp`` is turned from the first, degrees."""
    R_first, R_last = Rotation.from_rotvec(bp.rotvec[0]), Rotation.from_rotvec(bp.rotvec[-1])
    return float(np.degrees(np.linalg.norm((R_last * R_first.inv()).as_rotvec())))


def _held_if_still(bp: BundleProblem, observed: BundleProblem, focal_mode: str, notes: list[str]) -> BundleProblem:
    """``bp`` solved again with every camera's rotation held at the first's, when that
    fits the background as well (``HELD_TURN_FIT``); else ``bp``."""
    R = Rotation.from_rotvec(bp.rotvec).as_matrix()
    centres = -np.einsum("kji,kj->ki", R, bp.trans)
    held = adjust(replace(bp, rotvec=np.repeat(bp.rotvec[:1], len(bp.rotvec), 0), trans=-centres @ R[0].T,
                          translation_only=True), focal_mode)  # fmt: skip
    free_err, held_err = _median_error(bp, observed), _median_error(held, observed)
    factor, margin = HELD_TURN_FIT
    if held_err > factor * free_err + margin:
        return bp
    notes.append(f"the camera does not turn: its orientation held (reprojection {free_err:.3f} px turning freely, "
                 f"{held_err:.3f} px held)")  # fmt: skip
    return held


def _incremental(tracks: PointTracks, keys: list[int], principal: np.ndarray, f: float,
                 cfg: SolveConfig) -> tuple[BundleProblem, list[int]]:  # fmt: skip
    """Keyframes registered one after another; points triangulated as they gain a baseline."""
    import cv2

    K = _K(f, principal)
    # the first pair: the first keyframe and the earliest later one with enough parallax
    a = keys[0]
    b = keys[min(2, len(keys) - 1)]
    ids, xa, xb = tracks.common(a, b)
    if len(ids) < max(cfg.min_points, 8):
        raise InputError(f"frames {a} and {b} share {len(ids)} background points: too few to start the camera path")
    E, inl = cv2.findEssentialMat(xa, xb, K, cv2.RANSAC, 0.999, cfg.inlier_px)
    if E is None or E.shape[0] < 3:
        raise InputError(f"no two-view geometry between frames {a} and {b}")
    E = E[:3]  # (several solutions come stacked: the first is the best supported)
    _, R, t, inl2, _ = cv2.recoverPose(E, xa, xb, K, distanceThresh=1e4, mask=inl.copy())
    good = inl2.ravel() > 0
    poses: dict[int, tuple[np.ndarray, np.ndarray]] = {a: (np.eye(3), np.zeros(3)), b: (R, t.ravel())}
    X = _triangulate(K @ np.c_[np.eye(3), np.zeros(3)], K @ np.c_[R, t], xa[good], xb[good])
    point_xyz: dict[int, np.ndarray] = {}
    for pid, x in zip(ids[good], X):
        point_xyz[int(pid)] = x
    registered = [a, b]
    for k in keys[1:]:
        if k in poses:
            continue
        ids_k, xy_k = tracks.in_frame(k)
        known = np.array([int(p) in point_xyz for p in ids_k], bool)
        if known.sum() < cfg.min_points:
            log.info("keyframe %d: %d known points, skipped", k, known.sum())
            continue
        obj, xy = np.stack([point_xyz[int(p)] for p in ids_k[known]]), xy_k[known]
        okp, rvec, tvec, inl = cv2.solvePnPRansac(obj, xy, K, None, iterationsCount=200,
                                                  reprojectionError=2 * cfg.inlier_px, flags=cv2.SOLVEPNP_EPNP)  # fmt: skip
        if not okp or inl is None or len(inl) < cfg.min_points:
            log.info("keyframe %d: PnP failed", k)
            continue
        obj_in, xy_in = obj[inl.ravel()], xy[inl.ravel()]
        rvec, tvec = cv2.solvePnPRefineLM(obj_in, xy_in, K, None, rvec, tvec)
        # EPnP can land on a pose turned half round where the points lie along the view
        # (a dolly in a synthetic dolly zoom: the last keyframe turned 162 degrees); the
        # last keyframe's pose, refined, is the other candidate: the better fit is kept
        R_prev, t_prev = poses[registered[-1]]
        rvec_near, tvec_near = cv2.solvePnPRefineLM(obj_in, xy_in, K, None, cv2.Rodrigues(R_prev)[0],
                                                    t_prev.reshape(3, 1).copy())  # fmt: skip
        if _pnp_error(obj, xy, K, rvec_near, tvec_near) < _pnp_error(obj, xy, K, rvec, tvec):
            rvec, tvec = rvec_near, tvec_near
        poses[k] = (cv2.Rodrigues(rvec)[0], tvec.ravel())
        registered.append(k)
        # new points: seen here and in an earlier registered keyframe, with enough angle
        for j in sorted(registered[:-1], key=lambda j: -abs(j - k))[:3]:
            ids2, xj, xk = tracks.common(j, k)
            new = np.array([int(p) not in point_xyz for p in ids2], bool)
            if new.sum() == 0:
                continue
            Rj, tj = poses[j]
            Rk, tk = poses[k]
            Xn = _triangulate(K @ np.c_[Rj, tj], K @ np.c_[Rk, tk], xj[new], xk[new])
            zj = (Xn @ Rj.T + tj)[:, 2]
            zk = (Xn @ Rk.T + tk)[:, 2]
            cj, ck = -Rj.T @ tj, -Rk.T @ tk
            rj, rk = Xn - cj, Xn - ck
            cosang = np.sum(rj * rk, 1) / (np.linalg.norm(rj, axis=1) * np.linalg.norm(rk, axis=1) + 1e-12)
            fine = (zj > 0) & (zk > 0) & (cosang < np.cos(np.radians(1.0)))
            for pid, x in zip(ids2[new][fine], Xn[fine]):
                point_xyz[int(pid)] = x
        if len(registered) % 5 == 0:  # keep the growing map consistent
            bp = _problem(tracks, registered, poses, point_xyz, principal, f)
            bp = adjust(bp, "fixed", max_iterations=10)
            _unpack_into(bp, registered, poses, point_xyz)
    registered = sorted(registered)
    bp = _problem(tracks, registered, poses, point_xyz, principal, f)
    bp = adjust(bp, "fixed")
    return bp, registered


def _pnp_error(obj: np.ndarray, xy: np.ndarray, K: np.ndarray, rvec: np.ndarray, tvec: np.ndarray) -> float:
    """Median reprojection error (pixels) of points ``obj`` (N, 3) seen at ``xy`` (N, 2)
    by the camera (``rvec``, ``tvec``); inf where any lies behind it."""
    import cv2

    if np.any((obj @ cv2.Rodrigues(rvec)[0].T + tvec.reshape(1, 3))[:, 2] <= 0):
        return float("inf")
    proj = cv2.projectPoints(obj, rvec, tvec, K, None)[0].reshape(-1, 2)
    return float(np.median(np.linalg.norm(proj - xy, axis=1)))


def _problem(tracks: PointTracks, frames: list[int], poses: dict, point_xyz: dict, principal: np.ndarray,
             f: float) -> BundleProblem:  # fmt: skip
    frames = sorted(frames)
    pids = np.array(sorted(point_xyz), int)
    cams, pidx, xy = _observations(tracks, frames, pids)
    seen = np.bincount(pidx, minlength=len(pids))
    keep = seen[pidx] >= 2
    rv = np.stack([Rotation.from_matrix(poses[t][0]).as_rotvec() for t in frames])
    tr = np.stack([poses[t][1] for t in frames])
    bp = BundleProblem(rv, tr, np.full(len(frames), f), np.stack([point_xyz[int(p)] for p in pids]), cams[keep], pidx[keep],
                       xy[keep], principal, point_ids=pids)  # fmt: skip
    return _prune(bp, 8.0)


def _unpack_into(bp: BundleProblem, frames: list[int], poses: dict, point_xyz: dict) -> None:
    for i, t in enumerate(sorted(frames)):
        poses[t] = (Rotation.from_rotvec(bp.rotvec[i]).as_matrix(), bp.trans[i])
    for pid, x in zip(bp.point_ids, bp.points):
        point_xyz[int(pid)] = x


def _register_all(tracks: PointTracks, bp: BundleProblem, keys: list[int], principal: np.ndarray, cfg: SolveConfig,
                  zooms: bool, focal_source: str, notes: list[str]) -> CameraSolution:  # fmt: skip
    """Every frame by PnP on the adjusted points (focal interpolated between keyframes)."""
    import cv2

    T = tracks.num_frames
    R, t = np.zeros((T, 3, 3)), np.zeros((T, 3))
    focal = np.exp(np.interp(np.arange(T), keys, np.log(bp.focal)))
    ok = np.zeros(T, bool)
    for i, k in enumerate(keys):
        R[k], t[k], ok[k] = Rotation.from_rotvec(bp.rotvec[i]).as_matrix(), bp.trans[i], True
    index = np.full(tracks.num_points, -1)
    index[bp.point_ids] = np.arange(len(bp.point_ids))
    for f in range(T):
        if ok[f]:
            continue
        ids, xy = tracks.in_frame(f)
        known = index[ids] >= 0
        if known.sum() < cfg.min_points:
            continue
        obj = bp.points[index[ids[known]]]
        # start from the nearest keyframe
        near = keys[int(np.argmin(np.abs(np.array(keys) - f)))]
        if bp.translation_only:  # the orientation is the keyframes' (one for the whole shot)
            found = _translation_given(R[near], obj, xy[known], focal[f], principal, t[near], 2 * cfg.inlier_px)
            if found is not None and found[1] >= cfg.min_points:
                R[f], t[f], ok[f] = R[near], found[0], True
            continue
        K = _K(focal[f], principal)
        rvec0, tvec0 = cv2.Rodrigues(R[near])[0], t[near].reshape(3, 1).copy()
        okp, rvec, tvec, inl = cv2.solvePnPRansac(obj, xy[known], K, None, rvec0, tvec0, useExtrinsicGuess=True,
                                                  iterationsCount=100, reprojectionError=2 * cfg.inlier_px)  # fmt: skip
        if not okp or inl is None or len(inl) < cfg.min_points:
            continue
        rvec, tvec = cv2.solvePnPRefineLM(obj[inl.ravel()], xy[known][inl.ravel()], K, None, rvec, tvec)
        R[f], t[f], ok[f] = cv2.Rodrigues(rvec)[0], tvec.ravel(), True
    _bridge(R, t, focal, ok)
    if not ok.all():
        notes.append(f"{int((~ok).sum())} frames bridged from their neighbours (too few background points)")
    err = residuals_px(bp)
    return CameraSolution(R, t, focal, ok, bp.points, "general", focal_source, zooms=zooms, turns=not bp.translation_only,
                          reprojection_px=float(np.median(err[np.isfinite(err)])), notes=notes)  # fmt: skip


def _translation_given(R: np.ndarray, points: np.ndarray, xy: np.ndarray, f: float, principal: np.ndarray,
                       t0: np.ndarray, max_px: float) -> tuple[np.ndarray, int] | None:  # fmt: skip
    """The translation of a camera turned by ``R`` that sees ``points`` (N, 3) at ``xy``
    (N, 2), and how many agree within ``max_px``: the projection equations are linear in
    it (``t_x - u t_z = u Y_z - Y_x`` in normalised coordinates, ``Y = R X``), solved by
    least squares weighted by inverse depth (so that the error is the image's), from
    ``t0`` and trimmed of the points that disagree, a few times over."""
    Y = points @ R.T
    uv = (xy - principal) / f
    t, keep = np.asarray(t0, float).copy(), np.ones(len(Y), bool)
    for _ in range(5):
        depth = Y[:, 2] + t[2]
        w = np.where(depth > 1e-9, 1.0 / np.maximum(depth, 1e-9), 0.0) * keep
        if np.count_nonzero(w) < 3:
            return None
        A = np.zeros((len(Y), 2, 3))
        A[:, 0, 0] = A[:, 1, 1] = 1.0
        A[:, :, 2] = -uv
        b = uv * Y[:, 2:3] - Y[:, :2]
        t = np.linalg.lstsq((A * w[:, None, None]).reshape(-1, 3), (b * w[:, None]).ravel(), rcond=None)[0]
        depth = Y[:, 2] + t[2]
        err = f * np.linalg.norm((Y[:, :2] + t[:2]) / np.where(depth > 1e-9, depth, np.nan)[:, None] - uv, axis=1)
        keep = np.nan_to_num(err, nan=np.inf) <= max_px
    return t, int(keep.sum())
