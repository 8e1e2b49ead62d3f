"""``reshoot eval``: every metric a pair of shots supports, None where one lacks the data.

Actors of the estimate are matched to those of the reference by where they are in the
image (Hungarian assignment on the mean distance between their 2D centres over the
frames both are present in), so track ids need not agree.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from reshoot.errors import ReshootError
from reshoot.eval.body import BODY_JOINTS, FEET, HIPS, angle_diff_deg, foot_skate_mm, heading_deg, pa_mpjpe_mm, w_mpjpe_mm
from reshoot.eval.composition import composition_scores, mpjpe_2d, to_reference_height
from reshoot.eval.perception import PERCEPTION_KEYS, perception_scores
from reshoot.eval.trajectory import focal_error_pct, trajectory_errors
from reshoot.geometry import world_to_pixels
from reshoot.keypoints import keypoint_names
from reshoot.shot import Actor, Shot

log = logging.getLogger(__name__)

#: Renders a shot's bodies through its camera as a label image (T, H, W), uint8.
LabelRenderer = Callable[[Shot], np.ndarray]

METRIC_KEYS = (
    "pa", "iou_person", "miou", "mpjpe2d_px", "mpjpe2d_720p",
    "ate_pct", "ate_m", "rot_err_deg", "rpe_trans_m", "rpe_rot_deg", "scale",
    "focal_err_pct", "scale_err_pct", "wmpjpe_mm", "pampjpe_mm", "heading_err_deg", "foot_skate_mm",
) + PERCEPTION_KEYS  # fmt: skip


def projected_joints(shot: Shot, actor: Actor) -> tuple[np.ndarray, np.ndarray] | None:
    """The actor's world joints seen through the shot's camera: ``(uv_px (T,J,2), in_front (T,J))``."""
    if actor.joints_world is None or shot.camera is None or shot.lens is None:
        return None
    uv, depth = world_to_pixels(
        torch.from_numpy(actor.joints_world),
        torch.from_numpy(shot.camera.T_world_cam),
        torch.from_numpy(shot.lens.K()),
    )
    return uv.numpy(), depth.numpy() > 1e-6


def body_landmarks_px(shot: Shot, actor: Actor) -> tuple[np.ndarray, np.ndarray] | None:
    """The actor's body's 33 mediapipe landmarks (``stages.bodies.keypoint_map``) seen
    through the shot's camera, ``(uv_px (T, 33, 2), in_front (T, 33))``; None without a
    body of the fitting model."""
    from reshoot.bodymodel import pose_body, variant_of

    body = actor.body
    if body is None or shot.camera is None or shot.lens is None or variant_of(body.model) != "fit":
        return None
    from reshoot.stages.bodies.keypoint_map import load_keypoint_map

    posed = pose_body(body.model, body.phenotype, body.bone_quats_wxyz, body.T_world_root)
    landmarks = load_keypoint_map()(posed.vertices_world, posed.bone_heads_world)
    uv, depth = world_to_pixels(torch.from_numpy(landmarks), torch.from_numpy(shot.camera.T_world_cam),
                                torch.from_numpy(shot.lens.K()))  # fmt: skip
    return uv.numpy(), depth.numpy() > 1e-6


def _centres_2d(shot: Shot, actor: Actor) -> np.ndarray | None:
    """Per-frame 2D centre of the actor (T, 2), NaN where absent."""
    centres = np.full((shot.num_frames, 2), np.nan)
    if actor.observations is not None:
        b = actor.observations.boxes_xyxy_px
        centres[:] = 0.5 * (b[:, :2] + b[:, 2:])
    elif (proj := projected_joints(shot, actor)) is not None:
        uv, front = proj
        centres[:] = np.where(front.all(-1, keepdims=True), uv.mean(1), np.nan)
    else:
        return None
    centres[~actor.present] = np.nan
    return centres


def match_actors(est: Shot, ref: Shot) -> list[tuple[int, int]]:
    """Pairs ``(i_est, i_ref)`` of the same person, by 2D position; by track id without 2D data."""
    if not est.actors or not ref.actors:
        return []
    c_est = [_centres_2d(est, a) for a in est.actors]
    c_ref = [_centres_2d(ref, a) for a in ref.actors]
    if any(c is None for c in c_est + c_ref):
        ids = {a.track_id: j for j, a in enumerate(ref.actors)}
        return [(i, ids[a.track_id]) for i, a in enumerate(est.actors) if a.track_id in ids]
    big = 1e12
    cost = np.full((len(c_est), len(c_ref)), big)
    for i, ce in enumerate(c_est):
        for j, cr in enumerate(c_ref):
            d = np.linalg.norm(ce - cr, axis=-1)
            if np.isfinite(d).any():
                cost[i, j] = np.nanmean(d)
    rows, cols = linear_sum_assignment(cost)
    return [(int(i), int(j)) for i, j in zip(rows, cols) if cost[i, j] < big]


def _common_joints(a: Actor, b: Actor, only: tuple[str, ...] | None = None) -> tuple[list[int], list[int]]:
    if a.joint_names is None or b.joint_names is None:
        return [], []
    index = {n: j for j, n in enumerate(b.joint_names)}
    pairs = [(i, index[n]) for i, n in enumerate(a.joint_names) if n in index and (only is None or n in only)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def evaluate(est: Shot, ref: Shot | None = None, render_labels: LabelRenderer | None = None) -> dict[str, Any]:
    """All metrics of ``est`` against ground truth ``ref``; without ``ref``, the composition
    metrics compare ``est``'s rendered bodies with its own observations (the paper's
    protocol on real footage). Keys as :data:`METRIC_KEYS`, plus ``matched_actors``."""
    if ref is not None:
        mine, theirs = (est.num_frames, est.video.width, est.video.height), (ref.num_frames, ref.video.width, ref.video.height)
        if mine != theirs:
            raise ReshootError(
                f"the shots do not cover the same footage: the estimate has {mine[0]} frames of {mine[1]}x{mine[2]}, "
                f"the reference {theirs[0]} frames of {theirs[1]}x{theirs[2]}"
            )
    out: dict[str, Any] = dict.fromkeys(METRIC_KEYS)
    target = ref if ref is not None else est
    pairs = match_actors(est, ref) if ref is not None else [(i, i) for i in range(len(est.actors))]
    out["matched_actors"] = [[est.actors[i].track_id, target.actors[j].track_id] for i, j in pairs]

    # composition: rendered estimate vs the reference's instance masks
    if render_labels is not None and target.masks is not None and est.camera is not None and est.lens is not None:
        pred = render_labels(est)
        relabel = np.zeros(len(est.actors) + 1, dtype=np.uint8)  # estimate label -> reference label
        for i, j in pairs:
            relabel[i + 1] = j + 1
        scores = composition_scores(relabel[pred], target.masks.labels, len(target.actors) + 1)
        out.update(pa=scores.pa, iou_person=scores.iou_person, miou=scores.miou)

    # 2D joints: the estimate's reprojected joints vs the reference's (ground truth) or
    # vs its own detected keypoints (real footage)
    errs, counts = [], []
    for i, j in pairs:
        a, b = est.actors[i], target.actors[j]
        mine = projected_joints(est, a)
        if mine is None:
            continue
        if ref is not None:
            theirs = projected_joints(ref, b)
            ia, ib = _common_joints(a, b)
            if theirs is None or not ia:
                continue
            pred, gt = mine[0][:, ia], theirs[0][:, ib]
            valid = mine[1][:, ia] & theirs[1][:, ib] & (a.present & b.present)[:, None]
        else:
            obs = b.observations
            names = keypoint_names(obs.keypoint_format) if obs is not None else None
            if names is None or a.joint_names is None:
                continue
            if obs.keypoint_format == "mediapipe33" and (landmarks := body_landmarks_px(est, a)) is not None:
                pred, gt = landmarks[0], obs.kpts2d_px  # the body's own landmarks (anny's bones are not named so)
                valid = landmarks[1] & (obs.kpts_conf > 0.5) & a.present[:, None]
            else:
                index = {n: k for k, n in enumerate(names)}
                ia = [x for x, n in enumerate(a.joint_names) if n in index]
                ib = [index[a.joint_names[x]] for x in ia]
                if not ia:
                    continue
                pred, gt = mine[0][:, ia], obs.kpts2d_px[:, ib]
                valid = mine[1][:, ia] & (obs.kpts_conf[:, ib] > 0.5) & a.present[:, None]
        e = mpjpe_2d(pred, gt, valid)
        if e is not None:
            errs.append(e)
            counts.append(int(valid.sum()))
    if errs:
        out["mpjpe2d_px"] = float(np.average(errs, weights=counts))
        out["mpjpe2d_720p"] = to_reference_height(out["mpjpe2d_px"], est.video.height)

    if ref is None:
        return out

    # perception: detections, ids, 2D keypoints and masks against ground truth
    if (scores := perception_scores(est, ref)) is not None:
        out.update(scores.as_dict())

    # camera and lens against ground truth
    if est.camera is not None and ref.camera is not None:
        traj = trajectory_errors(est.camera.T_world_cam, ref.camera.T_world_cam)
        out.update({k: v for k, v in traj.as_dict().items() if k in METRIC_KEYS})
    if est.lens is not None and ref.lens is not None:
        out["focal_err_pct"] = focal_error_pct(est.lens.fx, ref.lens.fx)

    # bodies in the world, and the camera path's metric scale they settle
    if est.camera is not None and ref.camera is not None and est.camera.metric and ref.camera.path_length() > 1e-6:
        out["scale_err_pct"] = 100.0 * (est.camera.path_length() / ref.camera.path_length() - 1.0)
    preds, gts, valids, skates, skate_n, headings = [], [], [], [], [], []
    for i, j in pairs:
        a, b = est.actors[i], ref.actors[j]
        ia, ib = _common_joints(a, b, BODY_JOINTS)
        if not ia:  # skeletons other than anny's: every joint both name
            ia, ib = _common_joints(a, b)
        if not ia or a.joints_world is None or b.joints_world is None:
            continue
        both = a.present & b.present
        hips = next((h for h in HIPS if set(h) <= set(a.joint_names) & set(b.joint_names)), None)
        if hips and est.camera is not None and ref.camera is not None:
            ha, hb = [a.joint_names.index(n) for n in hips], [b.joint_names.index(n) for n in hips]
            headings.append(angle_diff_deg(heading_deg(a.joints_world[both][:, ha], est.camera.T_world_cam[both]),
                                           heading_deg(b.joints_world[both][:, hb], ref.camera.T_world_cam[both])))
        preds.append(a.joints_world[both][:, ia])
        gts.append(b.joints_world[both][:, ib])
        valids.append(np.ones(preds[-1].shape[:2], dtype=bool))
        fa, fb = _common_joints(a, b, FEET)
        if len(fa) == len(FEET) and (skate := foot_skate_mm(a.joints_world[:, fa], b.joints_world[:, fb], both)) is not None:
            skates.append(skate)
            skate_n.append(int(both.sum()))
    if preds:
        p, g, v = np.concatenate(preds), np.concatenate(gts), np.concatenate(valids)
        out["wmpjpe_mm"] = w_mpjpe_mm(p, g, v)
        out["pampjpe_mm"] = pa_mpjpe_mm(p, g, v)
    if skates:
        out["foot_skate_mm"] = float(np.average(skates, weights=skate_n))
    if headings and (errors := np.abs(np.concatenate(headings))).size:  # no frame where both are present: none
        out["heading_err_deg"] = float(np.median(errors))
    return out
