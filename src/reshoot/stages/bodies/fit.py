"""One actor's body over the shot, relative to the camera (the paper's S_c, seed 001 Eq. 1):
anny (low-poly mesh, light rig) fitted to the actor's 2D keypoints.

Unknowns: one phenotype for the whole track; per frame the 38 bone rotations and the
root's pose in camera coordinates. All frames are solved together (Adam in torch):

- keypoints: mediapipe's 33 landmarks on the body (``keypoint_map``) projected with the
  shot's lens, against the detections, weighted by their confidence and robust (Geman-
  McClure on the error in body heights, so a wrong detection costs little);
- limb directions against the detector's own 3D guess (mediapipe's world landmarks):
  2D keypoints alone leave each limb free to point toward or away from the camera, and
  the whole body free to turn left or right (on a synthetic arc, a 2D-only fit matched
  the keypoints to 0.5 px with the body turned 89 degrees the wrong way). Weight 10,
  measured on seven synthetic shots of the standard suite (arc, track, push-in, pull-out,
  follow, static, pan; perceived inputs): PA-MPJPE of the 14 major joints summed over
  them 503 / 468 / 450 / 448 mm at weights 3 / 6 / 10 / 20, foot skating worse at 20;
  with the true 3D directions 30-35 mm a shot;
- pose prior: bone rotations stay near the rest pose unless the keypoints say otherwise;
- smoothness: the joints' acceleration in camera space (bridges frames where the actor
  is hidden or off-screen: those are flagged);
- build prior: the phenotype stays near an average adult, and the standing height at the
  adults' mean (the depth-size ambiguity of a single view is settled by how tall people
  usually are; ``world.lift`` then sizes each actor from the ground).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from reshoot.errors import InputError

log = logging.getLogger(__name__)

PHENOTYPE_KEYS = ("gender", "age", "muscle", "weight", "height")
PHENOTYPE_START = {"gender": 0.5, "age": 0.7, "muscle": 0.5, "weight": 0.5, "height": 0.38}
"""an average adult: height 0.38 makes it 1.70 m tall (``FitConfig.stature_m``)"""
FOOT_LANDMARKS = (27, 28, 29, 30, 31, 32)
"""mediapipe's ankles, heels and toes"""
SOLE_BAND_M = 0.02
"""the sole: the rest pose's vertices this close to its lowest point"""
TORSO_M = 0.5
"""shoulder centre to hip centre of an average adult, metres (first depth guess)"""


@dataclass
class FitConfig:
    iterations: int = 150
    """(300 gave 1-5 mm better PA-MPJPE at twice the time)"""
    place_iterations: int = 80
    """first, the root alone on the torso keypoints"""
    lr: float = 0.05
    robust: float = 0.03
    """Geman-McClure scale of the keypoint error, in body heights"""
    min_conf: float = 0.3
    pose_weight: float = 2e-3
    direction_weight: float = 10.0
    """weight of the limb directions against the detector's 3D guess"""
    smooth_weight: float = 50.0
    build_weight: float = 1e-2
    stature_m: float = 1.70
    """standing height the body is held at: one view cannot tell a tall actor far away
    from a short one near, so every body is fitted at the adults' mean (men 1.77, women
    1.64) and the world lift (``world.lift``) settles each actor's size from the ground"""
    stature_weight: float = 1e3
    outline_iterations: int = 40
    """with ``Silhouettes``: a last phase with the outline fitted too. On the standard
    suite's arc and track (one person, perceived inputs, 240 px across, weight 50, sigma
    0.25 px^2) the person IoU went 0.75 -> 0.83 and 0.77 -> 0.83, the 2D joint error 8.1
    -> 6.1 and 6.7 -> 5.4 px at 720p, PA-MPJPE 46.5 -> 46.7 and 40.5 -> 39.7 mm. Blurrier
    edges fit worse (sigma 1: IoU 0.80 on the arc, PA-MPJPE 48.1; 0.1: 0.82); a heavier
    weight bends the limbs in depth (200 at sigma 1: IoU 0.82, PA-MPJPE 54.9). An
    iteration costs about 0.1 s for 120 frames on two cores (anny forward and back about
    0.02, the soft rasteriser 0.03): the refine stage's phase, not the bodies stage's."""
    outline_weight: float = 50.0
    outline_lr: float = 0.005
    """Adam's step in the outline phase. Faster is not better: on pan-1p (refine's 30
    iterations) person IoU 0.792 / 0.791 / 0.783 at 0.005 / 0.015 / 0.03; nor is a fast
    start that slows down (cosine from 0.015 to 0.001 over refine's 45 iterations: person
    IoU and 2D joints worse on each of the standard suite's first 7 shots, median IoU
    0.865 -> 0.847)"""
    outline_sigma: float = 0.25
    """edge blur of the soft silhouette, px^2 at the working size"""
    threads: int = 1


@dataclass
class Silhouettes:
    """An actor's instance masks, for fitting the body's outline too (``fit_track``)."""

    target: np.ndarray
    """(T, h, w) the actor's share of each pixel at the working size, in [0, 1]"""
    known: np.ndarray
    """(T, h, w) bool: pixels that say something about this actor (not another actor's:
    they may hide this one)"""
    K: np.ndarray
    """(T, 3, 3) intrinsics at the working size"""

    @classmethod
    def from_labels(cls, labels: np.ndarray, label: int, K: np.ndarray, width: int) -> Silhouettes:
        """From instance label images (T, H, W) (``label``: this actor's), area-averaged
        down to ``width`` pixels across."""
        import cv2

        H, W = labels.shape[1:]
        height = max(1, round(H * width / W))
        mine = np.stack([cv2.resize((f == label).astype(np.float32), (width, height), interpolation=cv2.INTER_AREA)
                         for f in labels])  # fmt: skip
        others = np.stack([cv2.resize(((f > 0) & (f != label)).astype(np.float32), (width, height),
                                      interpolation=cv2.INTER_AREA) for f in labels])  # fmt: skip
        K = K.copy()
        K[:, 0] *= width / W
        K[:, 1] *= height / H
        return cls(target=mine, known=others < 0.5, K=K)

    @classmethod
    def around(cls, labels: np.ndarray, label: int, K: np.ndarray, boxes: np.ndarray, size: int,
               margin: float = 0.2) -> Silhouettes:  # fmt: skip
        """From instance label images (T, H, W) (``label``: this actor's) in a square
        window around the actor in every frame: ``boxes`` (T, 4) where it is (x0, y0, x1,
        y1 px), widened by ``margin`` of its longer side on every side, area-averaged to
        ``size`` pixels square. An actor is then seen as sharply whatever its size in the
        frame (in a full frame 240 px across, a walker 140 px tall of 540 is 60 px tall,
        an arm 3 px wide). Pixels outside the frame say nothing: the body may reach out."""
        import cv2

        T, H, W = labels.shape
        target = np.zeros((T, size, size), np.float32)
        known = np.zeros((T, size, size), bool)
        K = K.copy()

        def shrink(m: np.ndarray) -> np.ndarray:
            return cv2.resize(m.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA)

        for t in range(T):
            # no further than half a frame beyond the frame: all unknown there (a body whose
            # vertices come near the camera's plane projects thousands of pixels across)
            x0, y0, x1, y1 = np.clip(boxes[t], [-W / 2, -H / 2] * 2, [1.5 * W, 1.5 * H] * 2)
            side = max(x1 - x0, y1 - y0) * (1.0 + 2.0 * margin)
            if not np.isfinite(side) or side < 1.0:
                continue  # nowhere to look: nothing known
            side = int(np.ceil(side))
            cx, cy = 0.5 * (x0 + x1), 0.5 * (y0 + y1)
            ix, iy = int(np.floor(cx - side / 2)), int(np.floor(cy - side / 2))
            window = np.full((side, side), -1, np.int16)  # -1: outside the frame
            sx, sy = slice(max(ix, 0), min(ix + side, W)), slice(max(iy, 0), min(iy + side, H))
            if sx.start < sx.stop and sy.start < sy.stop:
                window[sy.start - iy : sy.stop - iy, sx.start - ix : sx.stop - ix] = labels[t, sy, sx]
            target[t] = shrink(window == label)
            known[t] = shrink((window != label) & (window != 0)) < 0.5  # another's or outside: unknown
            s = size / side
            K[t] = np.array([[s, 0.0, -s * ix], [0.0, s, -s * iy], [0.0, 0.0, 1.0]]) @ K[t]
        return cls(target=target, known=known, K=K)

    def frames(self, span: slice) -> Silhouettes:
        """These silhouettes over ``span`` of the frames."""
        return Silhouettes(self.target[span], self.known[span], self.K[span])


@dataclass
class TrackFit:
    phenotype: dict[str, float]
    bone_rotvec: np.ndarray
    """(T, B, 3) each bone's rotation about its head (anny local-ref); the root's is zero"""
    T_cam_root: np.ndarray
    """(T, 4, 4) the root (pelvis) in camera coordinates"""
    joints_cam: np.ndarray
    """(T, B, 3) bone heads in camera coordinates, metres"""
    landmarks_cam: np.ndarray
    """(T, 33, 3)"""
    soles_cam: np.ndarray
    """(T, S, 3) the mesh's vertices under the feet, camera coordinates"""
    sole_left: np.ndarray
    """(S,) bool: which of them are under the left foot"""
    observed: np.ndarray
    """(T,) bool: frames with keypoints to fit (the others are bridged)"""
    feet_seen: np.ndarray
    """(T,) bool: observed frames whose ankles, heels or toes were detected"""
    reprojection_px: np.ndarray
    """(T,) median keypoint error of confident keypoints (nan where none)"""
    seconds: float


@dataclass
class FitStart:
    """Where ``fit_track`` goes on from: a body already fitted (or carried back from the
    world, ``stage.camera_space_from_world``)."""

    phenotype: dict[str, float]
    bone_rotvec: np.ndarray
    """(T, B, 3), the root's ignored"""
    T_cam_root: np.ndarray
    """(T, 4, 4)"""


def _initial_root(kpts: np.ndarray, conf: np.ndarray, K: np.ndarray, ok: np.ndarray, kpts3d: np.ndarray | None = None,
                  flipped: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Root rotations (T, 3, 3) and translations (T, 3) in camera coordinates from the
    torso keypoints: depth from the torso's length (the running median over
    ``START_WINDOW`` frames); turned as the detector's 3D guess ``kpts3d`` (T, 33, 3) has
    the torso (hips left to right, hips to shoulders), else facing the camera or away by
    the order of the shoulders, which flips from frame to frame in profile. Where the 3D
    guess itself turns half round for a frame or two (``flipped``, from
    ``flipped_guesses``), the root starts turned back (and the limbs do not follow that guess: ``fit_track``). On the
    synthetic arc-2p, pan-2p and track-2p: W-MPJPE 129 -> 126, 133 -> 123 and 382 -> 377 mm
    against the median start alone."""
    T = len(kpts)
    R = np.zeros((T, 3, 3))
    t = np.zeros((T, 3))
    facing = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])  # anny X, Y, Z (faces -Y, Z up) -> camera x, y, z
    away = np.diag([-1.0, 1.0, -1.0]) @ facing  # turned half round about the vertical (camera y)
    for i in range(T):
        hips, shoulders = kpts[i, [23, 24]].mean(0), kpts[i, [11, 12]].mean(0)
        torso_px = np.linalg.norm(shoulders - hips) if ok[i] else 0.0
        f = K[i, 0, 0]
        z = f * TORSO_M / torso_px if torso_px > 5 else np.nan
        t[i] = [(hips[0] - K[i, 0, 2]) * z / f, (hips[1] - K[i, 1, 2]) * z / f, z]
        # mediapipe's left shoulder lies right of the right one in the image when facing the camera
        R[i] = facing if kpts[i, 11, 0] >= kpts[i, 12, 0] else away
        if kpts3d is not None and ok[i] and (turned := _torso_frame(kpts3d[i])) is not None:
            R[i] = turned
    if flipped is not None:  # a guess turned half round against the frames around it: turn it back
        R[flipped] = R[flipped] @ np.diag([-1.0, -1.0, 1.0])  # half a turn about the body's own up (anny Z)
    bad = ~np.isfinite(t[:, 2])
    if bad.all():
        raise InputError("no frame shows the actor's torso: nothing to place a body by")
    good = np.flatnonzero(~bad)
    for k in range(3):
        t[bad, k] = np.interp(np.flatnonzero(bad), good, t[good, k])
    # a frame whose keypoints are garbage (a torso a fifth of its length, the landmark model
    # confused by someone crossing) would start 17 m away, and the smoothness would drag
    # its neighbours after it: the running median over START_WINDOW frames
    from scipy.ndimage import median_filter

    t = median_filter(t, size=(min(START_WINDOW, T), 1), mode="nearest")
    return R, t


START_WINDOW = 9
"""frames in the running median of the roots' first positions (``_initial_root``)"""
FLIP_WINDOW = 9
"""frames around one whose 3D guess is compared with theirs (``flipped_guesses``)"""


def flipped_guesses(kpts3d: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """(T,) bool: frames whose 3D guess (T, 33, 3) has the body facing more than 90 degrees
    from where it faces in the ``FLIP_WINDOW`` frames around (the mean direction of the
    ``ok`` ones): the detector's guess turned half round, as it does in a frame or two
    when someone walks in profile (a person does not turn half round in a frame)."""
    T = len(kpts3d)
    fwd = np.full((T, 2), np.nan)
    for i in np.flatnonzero(ok):
        if (R := _torso_frame(kpts3d[i])) is not None:
            back = R[:, 1]  # anny's +Y: the body's back, camera axes
            fwd[i] = -back[[0, 2]] / max(np.linalg.norm(back[[0, 2]]), 1e-9)  # seen from above: x, z
    out = np.zeros(T, bool)
    half = FLIP_WINDOW // 2
    for i in range(T):
        if np.isnan(fwd[i, 0]):
            continue
        around = fwd[max(i - half, 0) : i + half + 1]
        around = around[np.isfinite(around[:, 0])]
        mean = around.sum(0) - fwd[i]  # the others'
        out[i] = np.linalg.norm(mean) > 1e-6 and float(fwd[i] @ mean) < 0.0
    return out


def _torso_frame(landmarks: np.ndarray) -> np.ndarray | None:
    """(3, 3) anny's root axes in camera coordinates from 3D landmarks (33, 3): X the body's
    left (right hip to left hip), Z up (hips to shoulders) made square to it, Y = Z x X
    (the body's back); None where they do not span a frame."""
    left = landmarks[23] - landmarks[24]
    up = landmarks[[11, 12]].mean(0) - landmarks[[23, 24]].mean(0)
    if np.linalg.norm(left) < 1e-6 or np.linalg.norm(up) < 1e-6:
        return None
    x = left / np.linalg.norm(left)
    z = up - x * (up @ x)
    if np.linalg.norm(z) < 0.3 * np.linalg.norm(up):  # hips and spine nearly in line
        return None
    z /= np.linalg.norm(z)
    return np.stack([x, np.cross(z, x), z], 1)


def guess_in_camera(kpts3d_view: np.ndarray, kpts_px: np.ndarray, K: np.ndarray) -> np.ndarray:
    """(T, 33, 3) the detector's 3D guess in camera axes, from its own view's
    (``ActorObservations.kpts3d_m``: the axes of a camera turned to look along the ray
    through the hips, as the landmark model sees its crop; ``kpts_px`` (T, 33, 2) the
    keypoints, ``K`` (T, 3, 3) the lens). Taken as camera axes, the guess has someone
    off to a side turned by the ray's angle (on the standard suite's renders the bodies
    came out turned 10-30 degrees about the vertical, the farther off-centre the more)."""
    import torch

    from reshoot.geometry import ray_rotation

    hips = torch.from_numpy(kpts_px[:, [23, 24]].mean(1))
    R = ray_rotation(hips, torch.from_numpy(K)).numpy()
    return np.einsum("tij,tkj->tki", R, kpts3d_view)


# limb and torso directions compared with the detector's 3D guess (landmark pairs)
SEGMENTS = ((11, 13), (13, 15), (12, 14), (14, 16), (23, 25), (25, 27), (24, 26), (26, 28), (11, 12), (23, 24),
            (23, 11), (24, 12))  # fmt: skip


def fit_track(kpts_px: np.ndarray, conf: np.ndarray, K: np.ndarray, kpts3d_m: np.ndarray | None = None,
              cfg: FitConfig | None = None, silhouettes: Silhouettes | None = None,
              start: FitStart | None = None) -> TrackFit:  # fmt: skip
    """Fit anny to one actor's keypoints ``kpts_px`` (T, 33, 2) with confidence ``conf``
    (T, 33) seen through intrinsics ``K`` (T, 3, 3); ``kpts3d_m`` (T, 33, 3), the
    detector's 3D guess (in its view's axes, ``guess_in_camera``), guides the limbs'
    directions in depth;
    ``silhouettes``, the actor's masks, make a last phase fit the body's outline too.

    ``start``: a fit of the same T frames to go on from (its phenotype kept): only the
    outline phase runs (with ``silhouettes``; without, the result is ``start`` re-posed,
    its keypoint errors measured against ``kpts_px``)."""
    import roma
    import torch

    from reshoot.bodymodel import load_anny
    from reshoot.stages.bodies.keypoint_map import load_keypoint_map

    cfg = cfg or FitConfig()
    t0 = time.perf_counter()
    torch.set_num_threads(cfg.threads)
    T = len(kpts_px)
    conf = np.where(conf >= cfg.min_conf, conf, 0.0)
    observed = (conf[:, [11, 12, 23, 24]] > 0).all(1)
    if not observed.any():
        raise InputError("the actor's shoulders and hips are never seen together: no body can be fitted")
    if start is not None and len(start.T_cam_root) != T:
        raise InputError(f"the fit to start from covers {len(start.T_cam_root)} frames, the keypoints {T}")
    if kpts3d_m is not None:
        kpts3d_m = guess_in_camera(kpts3d_m, kpts_px, K)
    flipped = flipped_guesses(kpts3d_m, observed) if kpts3d_m is not None else None
    if start is None:
        R0, t0_root = _initial_root(kpts_px, conf, K, observed, kpts3d_m, flipped)
    else:
        R0, t0_root = start.T_cam_root[:, :3, :3], start.T_cam_root[:, :3, 3]
    model, kmap = load_anny("fit", "float32"), load_keypoint_map()
    B = model.bone_count
    f32 = dict(dtype=torch.float32)
    obs = torch.tensor(kpts_px, **f32)
    w = torch.tensor(conf, **f32)
    Kt = torch.tensor(K, **f32)
    seen_y = np.where(conf > 0, kpts_px[..., 1], np.nan)
    with np.errstate(invalid="ignore"):  # frames with nothing seen: the median of the others
        height = np.nanmax(seen_y, axis=1, initial=-np.inf) - np.nanmin(seen_y, axis=1, initial=np.inf)
    height = np.maximum(np.where(np.isfinite(height), height, np.median(height[np.isfinite(height)])), 1.0)
    height_px = torch.tensor(height, **f32)
    root_rot = roma.rotmat_to_rotvec(torch.tensor(R0, **f32)).requires_grad_()
    root_t = torch.tensor(t0_root, **f32).requires_grad_()
    if start is None:
        bones = torch.zeros(T, B - 1, 3, **f32).requires_grad_()
    else:
        bones = torch.tensor(start.bone_rotvec[:, 1:], **f32).requires_grad_()
    average = torch.tensor([PHENOTYPE_START[k] for k in PHENOTYPE_KEYS], **f32)
    first = average if start is None else torch.tensor([start.phenotype[k] for k in PHENOTYPE_KEYS], **f32)
    pheno_logit = torch.logit(first.clamp(1e-4, 1 - 1e-4)).clone().requires_grad_()
    rest = torch.eye(4, **f32).repeat(1, B, 1, 1)

    def shape(pheno: torch.Tensor) -> dict[str, torch.Tensor]:
        """anny's phenotype arguments for one body (anny shapes it once for all frames)"""
        return {k: pheno[i : i + 1] for i, k in enumerate(PHENOTYPE_KEYS)} | {"proportions": torch.full((1,), 0.5, **f32)}

    def at_rest(pheno: torch.Tensor) -> dict[str, torch.Tensor]:
        """anny's output for the body standing in the rest pose (its frame: Z up, its left +X)"""
        return model(pose_parameters=rest, phenotype_kwargs=shape(pheno))

    def forward() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """The posed bodies' vertices (T, V, 3) and bone heads (T, B, 3), the phenotype,
        and the body standing at rest (V, 3): one more pose in the same call, which
        shapes the body once for all of them (a second call would shape it again: on a
        40-frame track a fifth of a step's time)."""
        pheno = torch.sigmoid(pheno_logit)
        rot = torch.cat([roma.rotvec_to_rotmat(root_rot)[:, None], roma.rotvec_to_rotmat(bones)], 1)
        trans = torch.cat([root_t[:, None], torch.zeros(T, B - 1, 3, **f32)], 1)  # bones turn about their heads
        bottom = torch.tensor([0.0, 0.0, 0.0, 1.0], **f32).expand(T, B, 1, 4)
        pose = torch.cat([torch.cat([torch.cat([rot, trans[..., None]], -1), bottom], -2), rest])
        out = model(pose_parameters=pose, phenotype_kwargs=shape(pheno))
        heads = out["bone_poses"][:T, :, :3, 3]
        return out["vertices"][:T], heads, pheno, out["vertices"][T]

    def project(lm: torch.Tensor) -> torch.Tensor:
        z = lm[..., 2].clamp(min=0.05)
        return torch.einsum("tij,tkj->tki", Kt[:, :2, :2], lm[..., :2] / z[..., None]) + Kt[:, None, :2, 2]

    def keypoint_loss(lm: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        r2 = ((project(lm) - obs) ** 2).sum(-1) / height_px[:, None] ** 2
        return (weight * r2 / (r2 + cfg.robust**2)).sum() / weight.sum().clamp(min=1.0)

    seg = torch.tensor(SEGMENTS)
    if kpts3d_m is not None:
        guess = torch.tensor(kpts3d_m, **f32)
        d_guess = guess[:, seg[:, 1]] - guess[:, seg[:, 0]]
        d_guess = d_guess / d_guess.norm(dim=-1, keepdim=True).clamp(min=1e-6)
        w_dir = w[:, seg[:, 0]] * w[:, seg[:, 1]]
        w_dir = w_dir * torch.tensor(~flipped, **f32)[:, None]  # a guess turned half round

    def direction_loss(lm: torch.Tensor) -> torch.Tensor:
        if kpts3d_m is None:
            return lm.new_zeros(())
        d = lm[:, seg[:, 1]] - lm[:, seg[:, 0]]
        d = d / d.norm(dim=-1, keepdim=True).clamp(min=1e-6)
        return (w_dir * ((d - d_guess) ** 2).sum(-1)).sum() / w_dir.sum().clamp(min=1.0)

    torso = torch.zeros(33, **f32)
    torso[[11, 12, 23, 24]] = 1.0
    # 1. place the root on the torso: the body still in its rest pose, which anny moves
    # rigidly with the root (posed = root pose x rest body), so it is shaped only once
    with torch.no_grad():
        standing = at_rest(average)
        rest_verts, rest_heads = standing["vertices"][0], standing["bone_poses"][0, :, :3, 3]
    opt = torch.optim.Adam([root_rot, root_t], lr=cfg.lr)
    for _ in range(cfg.place_iterations if start is None else 0):
        opt.zero_grad()
        R = roma.rotvec_to_rotmat(root_rot)
        verts = torch.einsum("tij,vj->tvi", R, rest_verts) + root_t[:, None]
        heads = torch.einsum("tij,bj->tbi", R, rest_heads) + root_t[:, None]
        lm = kmap(verts, heads)
        loss = keypoint_loss(lm, w * torso) + cfg.direction_weight * direction_loss(lm)
        loss.backward()
        opt.step()

    def pose_loss(verts: torch.Tensor, heads: torch.Tensor) -> torch.Tensor:
        """Keypoints, limb directions, pose prior and smoothness."""
        lm = kmap(verts, heads)
        loss = keypoint_loss(lm, w) + cfg.direction_weight * direction_loss(lm)
        loss = loss + cfg.pose_weight * (bones**2).sum(-1).mean() * B
        if T > 2:
            acc = heads[2:] - 2 * heads[1:-1] + heads[:-2]
            loss = loss + cfg.smooth_weight * (acc**2).sum(-1).mean()
        return loss

    # 2. everything
    opt = torch.optim.Adam([root_rot, root_t, bones, pheno_logit], lr=cfg.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, cfg.iterations, eta_min=cfg.lr * 0.05)
    for _ in range(cfg.iterations if start is None else 0):
        opt.zero_grad()
        verts, heads, pheno, standing = forward()
        loss = pose_loss(verts, heads) + cfg.build_weight * ((pheno - average) ** 2).sum()
        z = standing[:, 2]
        loss = loss + cfg.stature_weight * (z.max() - z.min() - cfg.stature_m) ** 2
        loss.backward()
        opt.step()
        sched.step()
    if silhouettes is not None and cfg.outline_iterations > 0:
        # 3. the outline too: the soft silhouette against the mask, where it says something
        from torch.nn.functional import mse_loss

        from reshoot.bodymodel import silhouette_surface
        from reshoot.render.soft import SoftRaster, soft_silhouette

        known = torch.tensor(silhouettes.known, **f32)
        target = torch.tensor(silhouettes.target, **f32) * known  # what is known of the mask
        counted = known.sum().clamp(min=1.0)
        raster = SoftRaster(target.shape[2], target.shape[1], sigma=cfg.outline_sigma)
        K_work = torch.tensor(silhouettes.K, **f32)
        faces = model.get_triangular_faces().long()
        # the build is kept, and anny need not carry its gradient. Fitted to the outline as
        # well (its logits at Adam 0.05, the build and stature priors on), it thinned every
        # body, which lets limbs a little off their masks cost less: on the standard suite's
        # arc-1p, dolly-zoom-1p and follow-1p anny's weight 0.28 / 0.20 / 0.19 (truth 0.54 /
        # 0.41 / 0.65, kept 0.59 / 0.39 / 0.36), person IoU 0.904 -> 0.896, 0.891 -> 0.877,
        # 0.878 -> 0.873
        pheno_logit.requires_grad_(False)
        opt = torch.optim.Adam([root_rot, root_t, bones], lr=cfg.outline_lr)
        for _ in range(cfg.outline_iterations):
            opt.zero_grad()
            verts, heads, _, _ = forward()
            loss = pose_loss(verts, heads)
            outline = soft_silhouette(raster, silhouette_surface(verts, faces), faces, K_work)
            loss = loss + cfg.outline_weight * mse_loss(outline * known, target, reduction="sum") / counted
            loss.backward()
            opt.step()
    with torch.no_grad():
        verts, heads, pheno, standing = forward()
        lm = kmap(verts, heads)
        err = torch.linalg.norm(project(lm) - obs, dim=-1).numpy()
        soles = torch.nonzero(standing[:, 2] < standing[:, 2].min() + SOLE_BAND_M)[:, 0]
    reproj = np.array([np.median(e[c > 0]) if (c > 0).any() else np.nan for e, c in zip(err, conf)])
    T_cam_root = np.repeat(np.eye(4)[None], T, 0)
    T_cam_root[:, :3, :3] = roma.rotvec_to_rotmat(root_rot.detach().double()).numpy()
    T_cam_root[:, :3, 3] = root_t.detach().double().numpy()
    seconds = time.perf_counter() - t0
    log.info("body fit: %d frames, keypoint error median %.1f px, %.1f s", T, np.nanmedian(reproj), seconds)
    return TrackFit(
        phenotype={**{k: float(v) for k, v in zip(PHENOTYPE_KEYS, pheno.numpy())}, "proportions": 0.5},
        bone_rotvec=np.concatenate([np.zeros((T, 1, 3)), bones.detach().double().numpy()], 1),
        T_cam_root=T_cam_root, joints_cam=heads.double().numpy(), landmarks_cam=lm.double().numpy(),
        soles_cam=verts[:, soles].double().numpy(), sole_left=(standing[soles, 0] > 0).numpy(), observed=observed,
        feet_seen=observed & (conf[:, list(FOOT_LANDMARKS)] > 0).any(1), reprojection_px=reproj, seconds=seconds,
    )  # fmt: skip
