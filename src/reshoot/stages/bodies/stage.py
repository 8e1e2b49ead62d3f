"""The bodies stage: every actor as an anny body, first relative to the camera (S_c,
``fit``), then in one metric world with the camera (S_w, ``world``).

Each actor is fitted over the span of frames it is seen in (first to last frame with its
torso detected); frames inside the span without keypoints are bridged by the fit's
smoothness; outside it the body holds its nearest pose and, while the actor crosses the
frame's edge (the part of someone walking out of the frame, or in), goes on at the speed
it had (``_glide``); both are marked in ``BodyParams.observed``. An actor whose torso is
never seen gets no body (a note says so).

Two halves: :func:`camera_space_bodies` (S_c, the fits) and :func:`place_in_world`
(S_w = f_H(S_c, C): the fits carried into the world of a camera path, which the refine
stage calls again with its better camera).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from reshoot.shot import Actor, ActorObservations, BodyParams, Shot
from reshoot.stages.bodies.fit import FOOT_LANDMARKS, FitConfig, Silhouettes, TrackFit

log = logging.getLogger(__name__)

MIN_TORSO_CONF = 0.3
TORSO = (11, 12, 23, 24)
LEGS = (25, 26, 27, 28)
"""knees and ankles: without them the legs are the pose prior's guess"""
CUT_MARGIN = 0.01
"""an actor whose box comes this close to the frame's bottom edge (a fraction of the
image height) runs out of the frame there"""
FOOT_ABOVE_EDGE = 0.5
"""... and a foot of such an actor placed this many torso lengths (shoulders to hips,
about a foot's length and a half) above that edge is folded into the frame"""
FOLDED_TORSO = 0.6
"""an actor cut by the frame's side, or half hidden by someone in front, whose torso is
shorter than this share of its length in the frames around, where the actor is whole in
view, is folded up by the detector"""
TORSO_WINDOW = 15
"""frames either side in which that length is taken (the median)"""
KNEES = (25, 26)
KNEE_BELOW_HIPS = 0.3
"""an actor cut by the frame's bottom edge whose knee the detector puts less than this
many torso lengths below the hips, in a minority of the frames around, has its legs
folded up into the frame (``_legs_folded``). Standing or walking, the thigh points down:
on the standard suite's renders the knees the detector sees sit 0.4 to 0.65 torso
lengths below the hips, the folded ones -0.3 to 0.26"""
HIDDEN_SHARE = 0.1
"""an actor is half hidden where this share of its box or more lies in the box of
someone nearer the camera (whose box reaches lower in the frame: people stand on one
ground)"""
GLIDE_FRAMES = 8
"""an actor walking out of the frame (or in) goes on beyond the frames fitted at the
speed of its last (first) this many, in the camera's frame (``_glide``)"""
MAX_GLIDE_MPS = 3.0
"""... at most this fast (a brisk walk: a speed out of a few jittery frames is not run at)"""
LOST_IN_VIEW_FRAMES = 12
"""a gap of at most this many frames in an actor's presence, with the actor in view on
both sides of it (away from the frame's edge), is someone the tracker lost a moment in
view, hidden behind someone in front or missed, not someone who left: their bridged
body is drawn there (``BodyParams.shown``; the tracker itself looks for a lost person
this long, ``TrackingConfig.lost_frames``)"""


def hidden_in_part(shot: Shot, k: int) -> np.ndarray:
    """(T,) bool: the frames where someone nearer the camera covers part of actor ``k``
    (:data:`HIDDEN_SHARE` of their box or more; nearer: their box reaches lower)."""
    mine, obs = shot.actors[k], shot.actors[k].observations
    hidden = np.zeros(shot.num_frames, bool)
    if obs is None:
        return hidden
    box = obs.boxes_xyxy_px
    area = np.maximum(box[:, 2] - box[:, 0], 0) * np.maximum(box[:, 3] - box[:, 1], 0)
    for j, other in enumerate(shot.actors):
        if j == k or other.observations is None:
            continue
        them = other.observations.boxes_xyxy_px
        w = np.minimum(box[:, 2], them[:, 2]) - np.maximum(box[:, 0], them[:, 0])
        h = np.minimum(box[:, 3], them[:, 3]) - np.maximum(box[:, 1], them[:, 1])
        covered = np.maximum(w, 0) * np.maximum(h, 0) >= HIDDEN_SHARE * np.maximum(area, 1e-9)
        hidden |= mine.present & other.present & (them[:, 3] > box[:, 3]) & covered
    return hidden


def trusted_confidence(obs: ActorObservations, width: int, height: int, hidden: np.ndarray | None = None) -> np.ndarray:
    """(T, 33) the keypoints' confidences as the fit should take them. In frames where the
    actor runs out of the bottom of the frame (a close-up, someone walking up to the
    camera) the feet are at or below its edge; the detector's ankles, heels and toes
    placed higher up, more than ``FOOT_ABOVE_EDGE`` torso lengths, are guesses folded into
    the frame (on the synthetic pull-out it put the ankles at hip height with confidence
    0.5, the fit folded the legs and stood the body 40 to 60 % too far) and get none.
    Feet guessed at or beyond the edge are kept: there the detector carries the legs on
    as they point (the synthetic push-in's close-ups: 5 px off).

    Where the actor runs out of the frame's side, the detector may fold the whole body
    into what is left: on the synthetic track-2p's walker leaving the frame it put the
    shoulders down at the hips (torso 56 -> 39 -> 19 px in three frames) with confidence
    1.0, and the fit took the body 8 -> 20 m away (truth 7). So it may where someone in
    front hides part of the actor (``hidden``, (T,) bool: :func:`hidden_in_part`): on a
    render of the synthetic arc-2p, the one behind in the crossing had torsos of 23, 13,
    19, 16 and 8 px (80 whole) with confidence 0.9-0.99, and the fit took them 4.8 ->
    13.6 m away. A frame, cut or half hidden, whose torso is shorter than
    ``FOLDED_TORSO`` of its median length over the frames within ``TORSO_WINDOW`` where
    the actor is whole in view keeps no keypoint: the fit bridges it."""
    conf = obs.kpts_conf.copy()
    xy = obs.kpts2d_px
    torso = np.linalg.norm(xy[:, [11, 12]].mean(1) - xy[:, [23, 24]].mean(1), axis=-1)
    cut = _at_bottom(obs.boxes_xyxy_px, height)
    folded = cut[:, None] & (xy[:, FOOT_LANDMARKS, 1] < height - FOOT_ABOVE_EDGE * torso[:, None])
    conf[:, FOOT_LANDMARKS] = np.where(folded, 0.0, conf[:, FOOT_LANDMARKS])
    conf[_legs_folded(xy, conf, cut, torso)] = 0.0
    side = _at_side(obs.boxes_xyxy_px, width)
    partial = side if hidden is None else side | hidden  # cut by the frame's side, or half hidden
    seen = (obs.kpts_conf[:, list(TORSO)] >= MIN_TORSO_CONF).all(1)
    whole = seen & ~partial
    for t in np.flatnonzero(partial & seen):
        near = slice(max(t - TORSO_WINDOW, 0), t + TORSO_WINDOW + 1)
        around = torso[near][whole[near]]
        if len(around) >= 3 and torso[t] < FOLDED_TORSO * np.median(around):
            conf[t] = 0.0
    return conf


def _legs_folded(xy: np.ndarray, conf: np.ndarray, cut: np.ndarray, torso: np.ndarray) -> np.ndarray:
    """(T,) bool: frames of an actor cut by the frame's bottom edge (``cut``) where the
    detector folded the legs up into the frame. Its keypoints ``xy`` (T, 33, 2) put a
    knee seen (``conf`` (T, 33)) less than ``KNEE_BELOW_HIPS`` torso lengths (``torso``,
    (T,) px) below the hips, in a minority of the cut frames within ``TORSO_WINDOW``:
    someone seated stays seated, a detector that folds the legs flickers. On the
    synthetic pull-out's walker coming in at the bottom right the landmark model put the
    knees level with the hips or above, the torso a fifth short, in 8 of 30 frames; the
    fit folded the legs into a sitting pose and stood the body 20 % too far. With the 5
    frames caught left out (bodies and refine rerun on the bench's render): person IoU
    0.807 -> 0.851, 2D joints 13.9 -> 11.7 px at 720p, W-MPJPE 284 -> 253 mm, PA-MPJPE
    99 -> 85; no other shot of the suite has such a frame."""
    hips_y = xy[:, [23, 24], 1].mean(1)
    high = cut & ((xy[:, KNEES, 1] < hips_y[:, None] + KNEE_BELOW_HIPS * torso[:, None])
                  & (conf[:, KNEES] >= MIN_TORSO_CONF)).any(1)  # fmt: skip
    folded = np.zeros(len(xy), bool)
    for t in np.flatnonzero(high):
        near = slice(max(t - TORSO_WINDOW, 0), t + TORSO_WINDOW + 1)
        folded[t] = high[near].sum() < 0.5 * cut[near].sum()
    return folded


def actor_confidence(shot: Shot, k: int) -> np.ndarray:
    """(T, 33) actor ``k``'s keypoint confidences as the fits take them:
    :func:`trusted_confidence` in ``shot``'s frame, with who hides them in part."""
    return trusted_confidence(shot.actors[k].observations, shot.video.width, shot.video.height, hidden_in_part(shot, k))


def _at_side(boxes: np.ndarray, width: int) -> np.ndarray:
    """(T,) bool: boxes (T, 4) that reach the frame's left or right edge (``CUT_MARGIN``)."""
    return (boxes[:, 0] <= width * CUT_MARGIN) | (boxes[:, 2] >= width * (1.0 - CUT_MARGIN))


def _at_bottom(boxes: np.ndarray, height: int) -> np.ndarray:
    """(T,) bool: boxes (T, 4) that reach the frame's bottom edge (``CUT_MARGIN``)."""
    return boxes[:, 3] >= height * (1.0 - CUT_MARGIN)


def crossing_edge(actor: Actor, width: int, height: int) -> np.ndarray:
    """(T,) bool: frames in which ``actor`` is in the shot at the frame's side or bottom
    edge (walking out, or in)."""
    boxes = actor.observations.boxes_xyxy_px
    return actor.present & (_at_side(boxes, width) | _at_bottom(boxes, height))


def lost_in_view(actor: Actor, width: int, height: int) -> np.ndarray:
    """(T,) bool: the frames of ``actor``'s gaps in presence of at most
    :data:`LOST_IN_VIEW_FRAMES` between two frames where it is in view and not at the
    frame's side or bottom edge (:func:`crossing_edge`): hidden a moment or missed by the
    tracker, not gone out of the frame (whose bridged body could walk through the view)."""
    edge = crossing_edge(actor, width, height)
    seen = np.flatnonzero(actor.present)
    lost = np.zeros(len(actor.present), bool)
    for before, after in zip(seen[:-1], seen[1:]):
        if 1 < after - before <= LOST_IN_VIEW_FRAMES + 1 and not edge[before] and not edge[after]:
            lost[before + 1 : after] = True
    return lost


@dataclass
class BodiesConfig:
    fit: FitConfig = field(default_factory=FitConfig)
    pin_feet: bool = True
    """shift each body so that its planted feet stay put (``world.lift``)"""


def camera_init_path(shot: Shot) -> np.ndarray:
    """The camera path as the camera stage left it (before the bodies stage scaled and
    levelled it)."""
    from reshoot.stages.bodies.world import unlift_camera

    done = shot.meta.get("bodies")
    if not done:
        return shot.camera.T_world_cam
    return unlift_camera(shot.camera.T_world_cam, done["scale"], np.array(done["levelling"]))


def _span(seen: np.ndarray) -> slice:
    idx = np.flatnonzero(seen)
    return slice(int(idx[0]), int(idx[-1]) + 1)


def _pad(x: np.ndarray, span: slice, T: int) -> np.ndarray:
    """``x`` over ``span`` extended to T frames by holding its first and last frames."""
    return np.concatenate([np.repeat(x[:1], span.start, 0), x, np.repeat(x[-1:], T - span.stop, 0)])


@dataclass
class CameraSpaceBodies:
    """S_c: every fitted actor relative to the camera, over the whole shot."""

    actors: list[int]
    """indices into ``shot.actors`` of the fitted ones"""
    fits: list[TrackFit]
    """per fitted actor, padded to the shot: the frames outside its span (first to last
    seen torso) held (gliding on across the frame's edge), not observed"""
    report: dict[str, dict]
    """per track id (every actor): frames seen, bridged, held, feet, keypoint error, notes"""


def camera_space_bodies(shot: Shot, cfg: FitConfig | None = None,
                        progress: Callable[[int, int], None] | None = None) -> CameraSpaceBodies:  # fmt: skip
    """S_c: fit every actor of ``shot`` (observations and lens needed) over the span of
    frames it is seen in. ``progress(done, total)``: actors done."""
    from reshoot.errors import InputError
    from reshoot.stages.bodies.fit import fit_track

    cfg = cfg or FitConfig()
    if shot.lens is None:
        raise InputError("the bodies need the lens: run camera_init first")
    T, K = shot.num_frames, shot.lens.K()
    out = CameraSpaceBodies([], [], {})
    for k, actor in enumerate(shot.actors):
        if progress is not None:
            progress(k, len(shot.actors))
        obs = actor.observations
        entry: dict = {"notes": []}
        out.report[str(actor.track_id)] = entry
        seen = obs is not None and (obs.kpts_conf[:, list(TORSO)] >= MIN_TORSO_CONF).all(1)
        if obs is None or not np.any(seen):
            entry["notes"].append("torso never seen: no body")
            continue
        span = _span(seen)
        kpts3d = obs.kpts3d_m[span] if obs.kpts3d_m is not None else None
        conf = actor_confidence(shot, k)
        try:
            fit = fit_track(obs.kpts2d_px[span], conf[span], K[span], kpts3d, cfg)
        except InputError as exc:
            entry["notes"].append(f"no body: {exc}")
            continue
        legs = (conf[span][:, list(LEGS)] >= cfg.min_conf).any(1)
        if legs.mean() < 0.5:
            entry["notes"].append(f"legs seen in {legs.mean():.0%} of the frames: the rest are guessed standing")
        n_seen, n_span = int(fit.observed.sum()), span.stop - span.start
        if n_seen < 10:
            entry["notes"].append(f"seen in only {n_seen} frames")
        entry.update(frames_seen=n_seen, frames_bridged=n_span - n_seen, frames_held=T - n_span,
                     feet_seen=int(fit.feet_seen.sum()), reprojection_px=float(np.nanmedian(fit.reprojection_px)),
                     seconds=fit.seconds)  # fmt: skip
        out.actors.append(k)
        out.fits.append(_padded_fit(fit, span, crossing_edge(actor, shot.video.width, shot.video.height), shot.video.fps))
    if progress is not None:
        progress(len(shot.actors), len(shot.actors))
    return out


def camera_space_from_world(shot: Shot, T_world_cam: np.ndarray, placed: dict[str, dict], cfg: FitConfig | None = None,
                            silhouettes: dict[int, Silhouettes] | None = None) -> CameraSpaceBodies:  # fmt: skip
    """S_c back from the world: every actor with a body, relative to the camera path
    ``T_world_cam`` (metric, the world of the bodies), scaled about the camera to the
    fitted stature as ``camera_space_bodies`` leaves it (the inverse of
    :func:`place_in_world`, whose planted-feet shifts it keeps). ``placed``: per track id,
    the actor's report from the last ``place_in_world`` (its ``size``). With
    ``silhouettes`` (by actor index) those actors' outlines are fitted too
    (``fit.fit_track`` from there)."""
    import roma
    import torch

    from reshoot.bodymodel import height_for_stature
    from reshoot.errors import InputError
    from reshoot.frames import quat_wxyz_to_xyzw
    from reshoot.stages.bodies.fit import FitStart, fit_track

    cfg = cfg or FitConfig()
    if shot.lens is None:
        raise InputError("no lens to see the bodies through: run camera_init first")
    K, T_cam_world = shot.lens.K(), np.linalg.inv(T_world_cam)
    out = CameraSpaceBodies([], [], {tid: dict(entry) for tid, entry in placed.items()})
    for k, actor in enumerate(shot.actors):
        body, obs = actor.body, actor.observations
        if body is None or obs is None:
            continue
        size = out.report[str(actor.track_id)]["size"]
        T_cam_root = T_cam_world @ body.T_world_root
        T_cam_root[:, :3, 3] /= size
        rotvec = roma.unitquat_to_rotvec(quat_wxyz_to_xyzw(torch.from_numpy(body.bone_quats_wxyz))).numpy()
        rotvec[:, 0] = 0.0  # the root's turn is T_cam_root's
        pheno = {**body.phenotype, "height": height_for_stature(body.phenotype, cfg.stature_m, "fit")}
        # over the frames the body was fitted on (first to last); held beyond, as before
        span = _span(body.observed) if body.observed is not None and body.observed.any() else slice(0, shot.num_frames)
        start = FitStart(pheno, rotvec[span], T_cam_root[span])
        masks = (silhouettes or {}).get(k)
        conf = actor_confidence(shot, k)
        fit = fit_track(obs.kpts2d_px[span], conf[span], K[span],
                        obs.kpts3d_m[span] if obs.kpts3d_m is not None else None, cfg,
                        silhouettes=masks.frames(span) if masks is not None else None, start=start)  # fmt: skip
        out.actors.append(k)
        out.fits.append(_padded_fit(fit, span, crossing_edge(actor, shot.video.width, shot.video.height), shot.video.fps))
    return out


UP_MEASURED = ("ground", "verticals", "pan axis")
"""what the camera stage may have set its world's up by (``meta.camera_init.up``) that
the actors' feet should not overrule (the other: "assumed level")"""


def place_in_world(shot: Shot, bodies_c: CameraSpaceBodies, T_world_cam: np.ndarray,
                   cfg: BodiesConfig | None = None) -> dict:  # fmt: skip
    """S_w = f_H(S_c, C): carry ``bodies_c`` into the world of the camera path
    ``T_world_cam`` (arbitrary units; its ground z = 0 when the camera stage found one,
    its z axis up when the camera stage measured it: ``meta.camera_init``) and write the
    bodies, world joints and the (metric when it can be) camera into ``shot``. Returns
    what goes into ``meta.bodies`` (without the timing). The refine stage calls it again
    with a better camera."""
    import roma
    import torch

    from reshoot.bodymodel import height_for_stature, load_anny, model_id
    from reshoot.frames import quat_xyzw_to_wxyz
    from reshoot.stages.bodies.world import lift

    cfg = cfg or BodiesConfig()
    for actor in shot.actors:  # the old bodies stood in another camera's world
        actor.body, actor.joint_names, actor.joints_world = None, None, None
    world = shot.meta.get("camera_init", {})
    ground_known = world.get("ground") is not None
    up_known = ground_known or world.get("up", {}).get("source") in UP_MEASURED
    lifted = lift(bodies_c.fits, T_world_cam, ground_known, shot.video.fps, cfg.pin_feet, up_known)
    model, bone_names = model_id("fit"), list(load_anny("fit").bone_labels)
    for a, (k, fit) in enumerate(zip(bodies_c.actors, bodies_c.fits)):
        actor = shot.actors[k]
        pheno = dict(fit.phenotype)
        target = cfg.fit.stature_m * lifted.size[a]
        pheno["height"] = height_for_stature(pheno, target, "fit")
        quats = roma.rotvec_to_unitquat(torch.from_numpy(fit.bone_rotvec))
        lost = lost_in_view(actor, shot.video.width, shot.video.height)  # drawn there too: hidden a moment
        actor.body = BodyParams(model=model, phenotype=pheno, bone_names=bone_names,
                                bone_quats_wxyz=quat_xyzw_to_wxyz(quats).numpy(), T_world_root=lifted.T_world_root[a],
                                observed=fit.observed, shown=actor.present | lost)  # fmt: skip
        actor.joint_names = bone_names
        actor.joints_world = lifted.joints_world[a]
        bodies_c.report[str(actor.track_id)].update(size=lifted.size[a], stature_m=target,
                                                    frames_lost_in_view=int(lost.sum()))  # fmt: skip
    shot.camera.T_world_cam = lifted.T_world_cam
    shot.camera.metric = lifted.metric
    for note in lifted.notes:
        log.info("bodies: %s", note)
    return {"scale": lifted.scale, "levelling": lifted.levelling.tolist(), "ground": lifted.ground,
            "metric": lifted.metric, "notes": lifted.notes, "actors": bodies_c.report}  # fmt: skip


def bodies(shot: Shot, cfg: BodiesConfig | None = None, progress: Callable[[int, int], None] | None = None) -> Shot:
    """Fit a body to every actor of ``shot`` (which has observations, camera and lens) and
    put them in the world; the camera path becomes metric when the ground allows.
    ``progress(done, total)``: actors fitted."""
    from reshoot.errors import InputError

    cfg = cfg or BodiesConfig()
    t0 = time.perf_counter()
    if shot.camera is None or shot.lens is None:
        raise InputError("the bodies stage needs the camera path and lens: run camera_init first")
    T_cam_init = camera_init_path(shot)
    bodies_c = camera_space_bodies(shot, cfg.fit, progress)
    meta = place_in_world(shot, bodies_c, T_cam_init, cfg)
    seconds = time.perf_counter() - t0
    shot.meta["bodies"] = {**meta, "seconds": seconds}
    shot.record("bodies", asdict(cfg), wrote=["actors.body", "actors.joints_world", "camera"], seconds=seconds)
    log.info("bodies: %d of %d actors, scale %.3f m/unit (ground: %s), %.1f s", len(bodies_c.fits), len(shot.actors),
             meta["scale"], meta["ground"], seconds)  # fmt: skip
    return shot


def _glide(root_cam: np.ndarray, span: slice, crossing: np.ndarray, fps: float) -> np.ndarray:
    """(T, 3) where a body fitted over ``span`` (its root's camera-space positions
    ``root_cam``, (len, 3)) goes beyond it: on at the speed of its last ``GLIDE_FRAMES``
    (back at that of its first), at most ``MAX_GLIDE_MPS``, through the frames after
    (before) it in which the actor is ``crossing`` ((T,) bool, :func:`crossing_edge`: the
    tracker keeps the part of someone walking out of the frame, or in, without keypoints
    to fit), then held. Zero inside ``span``."""
    T = len(crossing)
    out = np.zeros((T, 3))
    n = min(GLIDE_FRAMES, len(root_cam))
    if n < 3:
        return out
    for end, step in ((span.stop - 1, 1), (span.start, -1)):
        x = root_cam[-n:] if step > 0 else root_cam[:n]
        v = np.polyfit(np.arange(n, dtype=float), x, 1)[0]  # (3,) per frame: the least-squares line's slope
        speed = np.linalg.norm(v) * fps
        if speed > MAX_GLIDE_MPS:
            v *= MAX_GLIDE_MPS / speed
        run = 0  # frames crossing the edge right beyond the span
        while 0 <= end + step * (run + 1) < T and crossing[end + step * (run + 1)]:
            run += 1
        out += step * np.clip(step * (np.arange(T) - end), 0, run)[:, None] * v
    return out


def _padded_fit(fit: TrackFit, span: slice, crossing: np.ndarray, fps: float) -> TrackFit:
    """A ``TrackFit`` over ``span`` extended to the whole shot of ``len(crossing)``
    frames, its pose held, gliding on where the actor crosses the frame's edge
    (:func:`_glide`); those frames count as neither observed nor showing the feet."""
    from dataclasses import replace

    T = len(crossing)

    def pad_mask(m: np.ndarray) -> np.ndarray:
        out = np.zeros(T, bool)
        out[span] = m
        return out

    glide = _glide(fit.T_cam_root[:, :3, 3], span, crossing, fps)
    T_cam_root = _pad(fit.T_cam_root, span, T)
    T_cam_root[:, :3, 3] += glide
    moved = glide[:, None]
    return replace(
        fit, bone_rotvec=_pad(fit.bone_rotvec, span, T), T_cam_root=T_cam_root,
        joints_cam=_pad(fit.joints_cam, span, T) + moved, landmarks_cam=_pad(fit.landmarks_cam, span, T) + moved,
        soles_cam=_pad(fit.soles_cam, span, T) + moved, observed=pad_mask(fit.observed), feet_seen=pad_mask(fit.feet_seen),
        reprojection_px=np.concatenate([np.full(span.start, np.nan), fit.reprojection_px, np.full(T - span.stop, np.nan)]),
    )  # fmt: skip
