"""The bodies in the world (the paper's S_w = f_H(S_c, C), seed 001 Eq. 3): each fitted
body carried from camera to world coordinates by the camera path, the path's unknown
scale settled by the bodies, and each body's depth by the ground it stands on.

A body fitted to one view is right up to a scale about the camera centre: scaled by k,
it projects to the same pixels. ``fit.fit_track`` fits every actor at the adults' mean
stature; the ground tells the rest:

- **ground seen by the camera** (a moving camera over a textured floor: the camera stage
  puts it at z = 0, the path in arbitrary units). Frame by frame, the ray through an
  actor's lowest sole meets the ground at mu_t times the fitted depth (camera units per
  fitted metre). An actor's mu_a is the median over the frames that show the feet (a
  jump is outvoted). The path's metres per unit is s = 1 / mu_a, the median (in log) over
  the actors: each is taken for an adult of average height, and several agreeing make the
  scale surer. Each actor is then scaled by k_a = s mu_a (the ground, not the prior, says
  who is taller: a child next to adults comes out small), and, frame by frame, by the
  smoothed k_t = s mu_t: the fitted depth jitters with the pose, the ground does not. A
  child cannot be told from an adult by its keypoints alone (on a synthetic 8-year-old
  the adult body fitted them to 0.4 px, better than the child's own shape), so actors
  whose heights disagree are flagged, not excluded.
- **still or panning camera** (no baseline, so no ground from the background and no
  translation to scale): the ground lies under the actors' soles (their median height).
  Its tilt is the camera stage's up when that was measured (the background's vertical
  edges, a pan's axis); only when it was assumed (a level camera) is the ground's plane
  fitted to the soles (within ``GROUND_TILT_DEG`` of level, when the feet cover enough
  of it): soles over a metre or two of ground, a runner's in the air half the time, left
  the synthetic still and panning shots' ground 2.5 to 6 degrees off, the vertical edges
  0.2 to 0.4. The world is re-levelled on it; then each frame's depth as above.
- **moving camera, no ground in view**: the path's scale is the one that lets the
  actors' planted feet stay put (at every frame one foot of a walking or standing actor
  is down); then the ground from the feet as for a still camera. When no scale makes
  the feet stay (a camera that barely moves), it stays unresolved (flagged).

Feet the footage shows planted (they do not move against the ground from one frame to
the next) are pinned: the body is shifted so that they stay where they were put down.

``lift`` is a plain function of the fits and the camera so that the refine stage can
call it again with a better camera.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter1d, median_filter

from reshoot.stages.bodies.fit import FitConfig

log = logging.getLogger(__name__)

DISAGREE = 1.12
"""actors whose heights (at the voted scale) differ by more than this factor are flagged:
1.5 standard deviations of the ratio of two adults' heights (sd 9.5 cm about 1.70 m)"""
SIZE_RANGE = (0.45, 1.3)
"""an actor's size relative to the adult mean stature (0.77 m .. 2.2 m)"""
FRAME_DEPTH_RANGE = 0.1
"""a frame's depth may differ from the actor's own scale by this fraction at most. The
world joints follow the frame's scale (the body scaled about the camera: it projects as
fitted); the mesh (``BodyParams``: one build and stature per actor) stands at the
frame's depth at the actor's own size, so it is drawn that much smaller or larger than
fitted: 0.1-0.8 % (median over the frames of each actor of the standard suite, 90th
percentile 0.3-2.2 %), dolly-zoom-2p's seated actor 8 % smaller on the frames it stands.
Measured after refine (its body steps rerun on the bench's inputs): at 0 (every frame at
the actor's own scale: the mesh as fitted) dolly-zoom-2p's person IoU went 0.825 -> 0.864
but W-MPJPE was worse on each of six shots (track-1p 78 -> 124 mm, arc-1p 59 -> 91); at
0.2, dolly-zoom-2p's W-MPJPE 154 -> 283 mm. Holding the fit's standing soles on the
ground instead (so that depth and size agree; a session's branch, not kept) made person
IoU and 2D joints worse on each of 12 shots and W-MPJPE better on four."""
DEPTH_WINDOW = 11
"""frames in the running median of the per-frame depth (a foot misplaced for fewer than
half of them is outvoted)"""
DEPTH_SMOOTH = 2.0
"""... then a Gaussian of this many frames (sd)"""
GROUND_TILT_DEG = 20.0
MIN_FEET_SPREAD_M = 0.5
"""the soles must cover this much in both directions to tilt the ground (else level)"""


@dataclass
class Lifted:
    joints_world: list[np.ndarray]
    """per actor (T, B, 3) metres"""
    T_world_root: list[np.ndarray]
    """per actor (T, 4, 4)"""
    size: list[float]
    """per actor: its scale relative to the fit (its stature is the fit's times this)"""
    T_world_cam: np.ndarray
    """(T, 4, 4) the camera path, metres when ``metric``"""
    metric: bool
    scale: float
    """metres per unit of the camera path given"""
    levelling: np.ndarray
    """(4, 4) the rigid motion applied to the given world after ``scale`` (re-levelled on
    the feet; identity otherwise): X_new = levelling (scale X_given)"""
    ground: str
    """where the ground came from: "background" (the camera stage's plane), "feet" or "none\""""
    notes: list[str] = field(default_factory=list)


def _lowest_sole(fit, R: np.ndarray) -> np.ndarray:
    """(T, 3) each frame's lowest sole vertex relative to the camera, in world axes
    (fitted metres)."""
    soles = np.einsum("tij,tkj->tki", R, fit.soles_cam)
    return soles[np.arange(len(R)), np.argmin(soles[..., 2], 1)]


def _feet(soles: np.ndarray, left: np.ndarray) -> np.ndarray:
    """(T, 2, 3) the centres of the left and right soles, from sole vertices (T, S, 3)."""
    return np.stack([soles[:, left].mean(1), soles[:, ~left].mean(1)], 1)


FLIGHT_HEIGHT_M = 0.1
"""a frame whose lowest sole the ground would put this far under where the actor usually
stands is taken for a flight (a jump, a running stride): its depth is not the ground's"""
FLIGHT_WINDOW_S = 2.0
"""where the actor usually stands: the median depth over this long (a flight lasts under
0.7 s: a 0.6 m jump)"""


def _in_flight(mu: np.ndarray, ok: np.ndarray, camera_height_m: np.ndarray, fps: float) -> np.ndarray:
    """(T,) bool: frames whose ground depth ``mu`` (camera units per fitted metre, where
    ``ok``) is the ground's depth under feet in the air. Putting a raised sole on the
    ground carries the body further along its ray, and only further: a flight shows as a
    short rise of ``mu`` over the actor's usual depth, by ``1 - usual / mu`` of the
    camera's height (``camera_height_m``, (T,) metres above the ground)."""
    T = len(mu)
    if ok.sum() < 2:
        return np.zeros(T, bool)
    idx = np.arange(T)
    filled = np.interp(idx, idx[ok], mu[ok])
    window = min(max(int(round(FLIGHT_WINDOW_S * fps)) | 1, DEPTH_WINDOW), T)
    usual = median_filter(filled, window, mode="nearest")
    with np.errstate(divide="ignore", invalid="ignore"):
        lifted_m = camera_height_m * (1.0 - usual / mu)
    return ok & (lifted_m > FLIGHT_HEIGHT_M)


def _frame_scale(ratio: np.ndarray, ok: np.ndarray, own: float, depth: np.ndarray) -> np.ndarray:
    """(T,) a smooth per-frame scale from noisy ``ratio`` where ``ok``, ``own`` elsewhere.

    What is smoothed is where the scale puts the body, ``ratio`` x its fitted depth
    ``depth`` (T,): a body moves smoothly in the world, while its fitted depth (the
    keypoints' spread at a fixed stature) wavers with its pose, and a smooth ratio would
    keep that wavering. Measured on the standard suite's 16 shots, bodies stage: W-MPJPE
    better on 13 (median 153 -> 143 mm; static-1p, a run, 210 -> 186; push-in-1p 112 ->
    128), foot skating 33.0 -> 30.1 mm a frame on average.

    Before the first frame that places the body and after the last, the scale is held,
    not the place: there nothing says where the body is, and an actor coming out of the
    fitted depth's frames (walking in from the edge, the feet not yet seen) keeps moving
    as fitted, not frozen at the depth it was first placed at. Measured after refine (the
    bodies and refine stages rerun on a bench run's inputs): W-MPJPE push-in-1p 88 -> 80
    mm, pull-out-1p 154 -> 153, the other 14 shots within 2 mm (median 101 -> 98); on
    another run's renders pull-out-1p 161 -> 155, track-2p 165 -> 170, static-1p, pan-2p
    and arc-2p within 1.5 mm (the other 11 within 2 mm with the first version, below).
    Continuing the ends of the Gaussian by point reflection (2 x_0 - x_i: exact on a
    steady walk, where the repeated end pulls the last frames in by up to 1 %) was worse
    on that run's shots it moved (static-1p 148 -> 151, pan-2p 126 -> 129, arc-2p 107 ->
    111): the placed depth is noisy at the ends, and a reflection carries the noise on."""
    T = len(ratio)
    if ok.sum() < 2:
        return np.full(T, own)
    idx = np.arange(T)
    placed = np.interp(idx, idx[ok], ratio[ok] * depth[ok])
    first, last = idx[ok][[0, -1]]
    placed[:first], placed[last + 1 :] = ratio[first] * depth[:first], ratio[last] * depth[last + 1 :]
    placed = gaussian_filter1d(median_filter(placed, min(DEPTH_WINDOW, T), mode="nearest"), DEPTH_SMOOTH, mode="nearest")
    return np.clip(placed / depth, own * (1 - FRAME_DEPTH_RANGE), own * (1 + FRAME_DEPTH_RANGE))


def _level_on_feet(fits: list, T_world_cam: np.ndarray, tilt: bool = True) -> tuple[np.ndarray, str, list[str]]:
    """For a camera that does not move: the rigid transform (4, 4) that re-levels the
    world so that the actors' soles stand on z = 0; how the ground was found; notes.
    ``tilt``: the soles' plane may tilt the ground (else it stays square to the world's z)."""
    R, C = T_world_cam[:, :3, :3], T_world_cam[:, :3, 3]
    points = np.concatenate([(_lowest_sole(f, R) + C)[f.feet_seen] for f in fits]) if fits else np.zeros((0, 3))
    if len(points) < 3:
        return np.eye(4), "none", ["no actor's feet are seen: the ground is not known"]
    up = np.array([0.0, 0.0, 1.0])
    centre = np.median(points, 0)
    spread = np.linalg.svd(points - points.mean(0), compute_uv=False) / np.sqrt(len(points))
    notes = []
    if tilt and spread[1] * 4 >= MIN_FEET_SPREAD_M:  # the soles cover an area: fit its plane
        _, _, vt = np.linalg.svd(points - centre)
        normal = vt[2] * np.sign(vt[2] @ up)
        tilt_deg = np.degrees(np.arccos(np.clip(normal @ up, -1, 1)))
        if tilt_deg <= GROUND_TILT_DEG:
            up = normal
        else:
            notes.append(f"the soles' plane is {tilt_deg:.0f} degrees from level: kept level")
    # rotate up onto +Z (the smallest turn), then the plane through the centre to z = 0
    axis = np.cross(up, [0.0, 0.0, 1.0])
    angle = np.arctan2(np.linalg.norm(axis), up[2])
    from scipy.spatial.transform import Rotation

    turn = Rotation.from_rotvec(axis / max(np.linalg.norm(axis), 1e-12) * angle).as_matrix()
    A = np.eye(4)
    A[:3, :3] = turn
    A[2, 3] = -(turn @ centre)[2]
    return A, "feet", notes


STILL_STEP_M = 0.1
"""a foot that moves more than this between frames is not planted (caps a frame's cost)"""


def _scale_from_still_feet(fits: list, T_world_cam: np.ndarray) -> float | None:
    """Metres per unit of a moving camera's path such that the actors' feet slide the
    least: at every frame one foot of a walking (or standing) actor is planted, so the
    slower foot's step, ``s dC + d(R X)``, should vanish. Minimised over a log grid of
    ``s``; None when the camera moves too little for the feet to tell."""
    R, C = T_world_cam[:, :3, :3], T_world_cam[:, :3, 3]
    dC, dX = [], []
    for fit in fits:
        feet = _feet(np.einsum("tij,tkj->tki", R, fit.soles_cam), fit.sole_left)
        ok = fit.feet_seen[1:] & fit.feet_seen[:-1]
        dC.append(np.diff(C, axis=0)[ok])
        dX.append(np.diff(feet, axis=0)[ok])
    if not dC or sum(len(d) for d in dC) < 5:
        return None
    dC, dX = np.concatenate(dC), np.concatenate(dX)

    def cost(s: float) -> float:
        step = np.linalg.norm(s * dC[:, None] + dX, axis=-1).min(1)
        return float(np.minimum(step, STILL_STEP_M).sum())

    grid = np.exp(np.linspace(np.log(1e-2), np.log(1e2), 401))
    costs = np.array([cost(s) for s in grid])
    best = int(np.argmin(costs))
    if best in (0, len(grid) - 1) or costs[best] > 0.8 * costs[0]:  # no clear minimum: the camera barely moves
        return None
    lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    from scipy.optimize import minimize_scalar

    return float(minimize_scalar(cost, bounds=(lo, hi), method="bounded").x)


def lift(fits: list, T_world_cam: np.ndarray, ground_known: bool, fps: float, pin_feet: bool = True,
         up_known: bool = False) -> Lifted:  # fmt: skip
    """Carry ``fits`` (``fit.TrackFit`` per actor: camera coordinates, metres at the adult
    stature) into the world of the camera path ``T_world_cam`` (T, 4, 4): its translations
    in arbitrary units, its ground z = 0 when ``ground_known``, its z axis up when
    ``up_known`` (else the feet may tilt it). ``pin_feet``: shift each body so that its
    planted feet stay put (``fps``: the frame rate, for foot speeds)."""
    moving = np.ptp(T_world_cam[:, :3, 3], axis=0).max() > 1e-9
    notes: list[str] = []
    levelling, still_scale, unresolved = np.eye(4), 1.0, False
    if ground_known:
        ground = "background"
    else:
        if moving:  # the camera's metres from the feet that stay put, before the ground from them
            still_scale = _scale_from_still_feet(fits, T_world_cam)
            if still_scale is None:
                notes.append("a moving camera, no ground in view and no foot that stays put: the path's scale is "
                             "unresolved")  # fmt: skip
                still_scale, unresolved = 1.0, True
            else:
                notes.append(f"no ground in view: the path's scale from the actors' planted feet "
                             f"({still_scale:.3g} m per unit)")  # fmt: skip
                T_world_cam = T_world_cam.copy()
                T_world_cam[:, :3, 3] *= still_scale
        levelling, ground, more = _level_on_feet(fits, T_world_cam, tilt=not up_known)
        T_world_cam = levelling @ T_world_cam
        notes += more
    R, C = T_world_cam[:, :3, :3], T_world_cam[:, :3, 3]
    # per actor and frame: camera units per fitted metre that put the lowest sole on z = 0
    mus, oks = [], []
    for a, fit in enumerate(fits):
        low = _lowest_sole(fit, R)[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            mu = -C[:, 2] / low
        seen = fit.feet_seen
        if not seen.any() and ground != "none":  # a close-up: stand the fitted legs on the ground
            seen = fit.observed
            notes.append(f"actor {a}: feet never seen; placed standing on the ground")
        ok = seen & (low < -1e-6) & np.isfinite(mu) & (mu > 0) & (ground != "none")
        # the camera's height in metres: on the feet's ground the world is in metres already; over the
        # background's, in camera units: metres at the adult stature (the scale comes after)
        height_m = C[:, 2] / np.median(mu[ok]) if ground == "background" and ok.any() else C[:, 2]
        flight = _in_flight(mu, ok, height_m, fps)
        if flight.any():
            notes.append(f"actor {a}: feet in the air in {int(flight.sum())} frames (a jump or a run): "
                         "its depth there bridged from the frames around")  # fmt: skip
        ok &= ~flight
        mus.append(mu)
        oks.append(ok)
    own = np.array([float(np.median(mu[ok])) if ok.any() else np.nan for mu, ok in zip(mus, oks)])
    # who votes on the scale: the actors whose feet are seen (failing that, anyone placed)
    have = [a for a in range(len(fits)) if np.isfinite(own[a])]
    voters = [a for a in have if fits[a].feet_seen.any()] or have
    if ground == "background" and voters:
        scale = float(np.exp(np.median(np.log(1.0 / own[voters]))))
        metric = True
        sizes = scale * own[voters]
        if sizes.max() / sizes.min() > DISAGREE:
            notes.append(f"the actors' heights differ by {sizes.max() / sizes.min() - 1:.0%} (a child, someone "
                         "seated, or an unusual height): the scale takes them all for adults of average height")
    elif ground == "background":
        scale, metric = 1.0, True
        notes.append("no actor's feet are seen: the path's scale is the camera stage's (first camera at eye level, 1.6 m)")
    else:  # a camera that does not move is metric at any scale; one scaled by the feet is too
        scale, metric = still_scale, not unresolved
    T_metric = T_world_cam.copy()
    if ground == "background":
        T_metric[:, :3, 3] *= scale
    joints, roots, sizes = [], [], []
    for a, fit in enumerate(fits):
        size = float(np.clip(scale * own[a], *SIZE_RANGE)) if np.isfinite(own[a]) else 1.0
        if np.isfinite(own[a]) and size != scale * own[a]:
            notes.append(f"actor {a}: the ground makes it {scale * own[a]:.2f} times the adult mean; kept to {size:.2f}")
        k = _frame_scale(scale * mus[a], oks[a], size, fit.T_cam_root[:, 2, 3])[:, None, None]

        def to_world(X_cam: np.ndarray) -> np.ndarray:
            return np.einsum("tij,tkj->tki", T_metric[:, :3, :3], k * X_cam) + T_metric[:, None, :3, 3]

        T_world_root = T_metric @ fit.T_cam_root
        T_world_root[:, :3, 3] = to_world(fit.T_cam_root[:, None, :3, 3])[:, 0]
        joints_world = to_world(fit.joints_cam)
        if pin_feet and ground != "none":
            feet_cam = _feet(fit.soles_cam, fit.sole_left)
            feet = to_world(feet_cam)
            planted = _planted(feet_cam, feet, T_metric, fit.feet_seen, size, fps)
            shift = _planted_shift(feet, planted)
            joints_world[..., :2] += shift[:, None]
            T_world_root[:, :2, 3] += shift
        joints.append(joints_world)
        roots.append(T_world_root)
        sizes.append(size)
    return Lifted(joints, roots, sizes, T_metric, metric, scale, levelling, ground, notes)


CONTACT_HEIGHT_M = 0.15
"""a foot whose sole is this close to the ground ..."""
CONTACT_SPEED = 0.3
"""... and that moves, as the footage sees it, slower than this many body heights per
second is planted (a walking foot swings at about 1.5 body heights per second)"""
MIN_CONTACT_FRAMES = 3
MAX_PIN_M = 0.3
"""the most a body is shifted to keep a planted foot still"""


def _planted(feet_cam: np.ndarray, feet: np.ndarray, T_world_cam: np.ndarray, seen: np.ndarray, size: float,
             fps: float) -> np.ndarray:  # fmt: skip
    """(T, 2) bool: which feet are planted. Judged by how the footage sees them move,
    not by their estimated world positions (whose depth wobbles by tens of centimetres):
    the direction in which the camera sees a foot at t + 1 against the one it would see
    if the foot had stayed where it was at t, in body heights per second."""
    T = len(feet)
    if T < 2:
        return np.zeros((T, 2), bool)
    R, C = T_world_cam[:, :3, :3], T_world_cam[:, :3, 3]
    seen_dir = feet_cam / np.linalg.norm(feet_cam, axis=-1, keepdims=True)
    stayed = np.einsum("tji,tfj->tfi", R[1:], feet[:-1] - C[1:, None])  # where it was, seen from the next camera
    stayed /= np.linalg.norm(stayed, axis=-1, keepdims=True)
    angle = np.arccos(np.clip((stayed * seen_dir[1:]).sum(-1), -1, 1))  # (T-1, 2) radians
    body = FitConfig.stature_m * size / np.linalg.norm(feet_cam[1:], axis=-1)  # the body's angular height
    speed = angle / body * fps
    speed = np.concatenate([speed[:1], np.maximum(speed[1:], speed[:-1]), speed[-1:]])  # both steps of a frame
    both = seen & np.concatenate([seen[:1], seen[1:] & seen[:-1]])
    return (speed < CONTACT_SPEED) & (feet[..., 2] < CONTACT_HEIGHT_M) & both[:, None]


def _planted_shift(feet: np.ndarray, planted: np.ndarray) -> np.ndarray:
    """(T, 2) the horizontal shift of a body that keeps its planted feet still.

    ``feet`` (T, 2, 3): the soles' centres in the world; ``planted`` (T, 2). Over each run
    of at least ``MIN_CONTACT_FRAMES`` planted frames a foot should stay at its median
    place, and the body is shifted by what it strays from it (both feet planted: the
    mean). Between runs the shift is interpolated, so the body never jumps."""
    T = len(feet)
    xy = feet[..., :2]
    want = np.zeros((T, 2, 2))
    have = np.zeros((T, 2), bool)
    for f in range(2):
        edges = np.flatnonzero(np.diff(np.concatenate([[0], planted[:, f].astype(int), [0]])))
        for start, stop in zip(edges[::2], edges[1::2]):
            if stop - start >= MIN_CONTACT_FRAMES:
                want[start:stop, f] = np.median(xy[start:stop, f], axis=0) - xy[start:stop, f]
                have[start:stop, f] = True
    some = have.any(1)
    if not some.any():
        return np.zeros((T, 2))
    shift = (want[some] * have[some][..., None]).sum(1) / have[some].sum(1)[:, None]
    idx = np.arange(T)
    shift = np.stack([np.interp(idx, idx[some], shift[:, i]) for i in range(2)], 1)
    norm = np.linalg.norm(shift, axis=1, keepdims=True)
    shift *= np.minimum(1.0, MAX_PIN_M / np.maximum(norm, 1e-12))
    return gaussian_filter1d(shift, 1.0, axis=0, mode="nearest")


def unlift_camera(T_world_cam: np.ndarray, scale: float, levelling: np.ndarray) -> np.ndarray:
    """The camera path as the camera stage gave it, from a lifted one (``Lifted.T_world_cam``)."""
    T = np.linalg.inv(levelling) @ T_world_cam
    T[:, :3, 3] /= scale
    return T
