"""Bundle adjustment: cameras, focal lengths and points refined together on the
reprojection error (robust), with scipy's sparse trust-region least squares.

Cameras are world-to-camera (OpenCV axes): ``x = f * (R X + t)[:2] / (R X + t)[2] + c``.
The first camera is held fixed (the gauge); a rotation-only problem has no translations
and its points are directions (kept at unit length after each solve).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.spatial.transform import Rotation


@dataclass
class BundleProblem:
    rotvec: np.ndarray
    """(C, 3) world-to-camera rotations"""
    trans: np.ndarray
    """(C, 3) world-to-camera translations (zeros and held when ``rotation_only``)"""
    focal: np.ndarray
    """(C,) pixels"""
    points: np.ndarray
    """(P, 3)"""
    obs_cam: np.ndarray
    """(N,) camera index of each observation"""
    obs_point: np.ndarray
    """(N,) point index"""
    obs_xy: np.ndarray
    """(N, 2) pixels"""
    principal: np.ndarray
    """(2,) principal point, pixels"""
    rotation_only: bool = False
    point_ids: np.ndarray | None = None
    """(P,) the track ids of the points, when they come from tracks"""
    translation_only: bool = False
    """rotations held: a camera that moves without turning (a dolly, truck or crane move)"""


def project(rotvec: np.ndarray, trans: np.ndarray, focal: np.ndarray, points: np.ndarray,
            principal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Pixels (N, 2) and depths (N,) of ``points`` (N, 3) through per-observation cameras."""
    Xc = Rotation.from_rotvec(rotvec).apply(points) + trans
    z = Xc[:, 2]
    safe = np.where(np.abs(z) < 1e-9, 1e-9, z)
    return focal[:, None] * Xc[:, :2] / safe[:, None] + principal, z


def residuals_px(bp: BundleProblem) -> np.ndarray:
    """(N,) reprojection error of each observation, pixels (inf behind the camera)."""
    uv, z = project(bp.rotvec[bp.obs_cam], bp.trans[bp.obs_cam], bp.focal[bp.obs_cam], bp.points[bp.obs_point], bp.principal)
    err = np.linalg.norm(uv - bp.obs_xy, axis=1)
    return np.where(z > 0, err, np.inf)


def _skew(v: np.ndarray) -> np.ndarray:
    """(N, 3, 3) cross-product matrices of (N, 3) vectors."""
    S = np.zeros((len(v), 3, 3))
    S[:, 0, 1], S[:, 0, 2], S[:, 1, 2] = -v[:, 2], v[:, 1], -v[:, 0]
    S[:, 1, 0], S[:, 2, 0], S[:, 2, 1] = v[:, 2], -v[:, 1], v[:, 0]
    return S


def adjust(bp: BundleProblem, focal_mode: str = "fixed", focal_smoothness: float = 50.0,
           max_iterations: int = 100) -> BundleProblem:  # fmt: skip
    """Refine ``bp`` (returns a new problem) by Levenberg-Marquardt on the reprojection
    error, points eliminated by the Schur complement (the reduced system holds only the
    camera parameters, solved densely). ``focal_mode``: "fixed", "shared" (one focal for
    every camera) or "per-camera" (with ``focal_smoothness`` x the change of log focal
    between neighbouring cameras as extra residuals). Rotations are updated on the left,
    ``R <- exp(d) R``, and the problem is re-linearised at every accepted step, where the
    analytic Jacobians are exact. Outliers are pruned between solves (``solve._prune``)
    rather than down-weighted: plain least squares converges from a rough start where a
    robust loss crawls."""
    P = len(bp.points)
    lam = 1e-4
    fun, jac, x0, unpack, n_a = _functions(bp, focal_mode, focal_smoothness)
    r = fun(x0)
    cost = float(r @ r)
    for _ in range(max_iterations):
        J = jac(x0).tocsc()
        Ja, Jp = J[:, :n_a], J[:, n_a:]
        ga, gb = Ja.T @ r, (Jp.T @ r).reshape(P, 3)
        U = (Ja.T @ Ja).toarray()
        W = (Ja.T @ Jp).toarray().reshape(n_a, P, 3)  # dense: n_a is small, and dense products are fast
        V = (Jp.T @ Jp).tocoo()
        Vb = np.zeros((P, 3, 3))
        np.add.at(Vb, (V.row // 3, V.row % 3, V.col % 3), V.data)
        if bp.rotation_only:  # a direction's length is not a parameter: hold it
            Vb += np.einsum("pi,pj->pij", bp.points, bp.points)
        accepted = False
        while lam < 1e10:
            Ud = U + lam * np.diag(np.diag(U) + 1e-9)
            Vd = Vb + lam * (np.eye(3) * (np.diagonal(Vb, axis1=1, axis2=2)[:, :, None] + 1e-9))
            Vinv = np.linalg.inv(Vd)
            Y = np.einsum("apj,pjk->apk", W, Vinv)  # W V^-1
            S = Ud - Y.reshape(n_a, -1) @ W.reshape(n_a, -1).T
            try:
                da = np.linalg.solve(S, -(ga - Y.reshape(n_a, -1) @ gb.ravel())) if n_a else np.zeros(0)
            except np.linalg.LinAlgError:
                lam *= 10
                continue
            db = -np.einsum("pij,pj->pi", Vinv, gb + np.einsum("apj,a->pj", W, da))
            x1 = np.concatenate([da, x0[n_a:] + db.ravel()])
            r1 = fun(x1)
            cost1 = float(r1 @ r1)
            if np.isfinite(cost1) and cost1 < cost:
                accepted = True
                break
            lam *= 4
        if not accepted:
            break
        R, tr, f, pts = unpack(x1)
        if bp.rotation_only:
            pts = pts / np.linalg.norm(pts, axis=1, keepdims=True)
        bp = replace(bp, rotvec=R.as_rotvec(), trans=np.array(tr, float), focal=np.array(f, float), points=pts)
        gain, cost = cost - cost1, cost1
        lam = max(lam / 3, 1e-7)
        fun, jac, x0, unpack, n_a = _functions(bp, focal_mode, focal_smoothness)
        r = fun(x0)
        cost = float(r @ r)  # after the re-normalisation of directions
        if gain < 1e-12 * max(cost, 1e-12) or (n_a and np.abs(da).max() < 1e-10):
            break
    return bp


def _functions(bp: BundleProblem, focal_mode: str, focal_smoothness: float):
    """Residuals, their sparse Jacobian, the start (zero updates), the unpacker, and
    the number of camera parameters of ``bp``."""
    from scipy.sparse import csr_matrix

    C, P, N = len(bp.rotvec), len(bp.points), len(bp.obs_cam)
    pose_dim = 3 if bp.rotation_only or bp.translation_only else 6
    n_focal = {"fixed": 0, "shared": 1, "per-camera": C}[focal_mode]
    n_pose = (C - 1) * pose_dim
    R0 = Rotation.from_rotvec(bp.rotvec)
    smooth = focal_mode == "per-camera" and C > 1

    def unpack(x: np.ndarray) -> tuple[Rotation, np.ndarray, np.ndarray, np.ndarray]:
        poses = np.concatenate([np.zeros(pose_dim), x[:n_pose]]).reshape(C, pose_dim)
        R = R0 if bp.translation_only else Rotation.from_rotvec(poses[:, :3]) * R0
        tr = bp.trans if bp.rotation_only else bp.trans + poses[:, pose_dim - 3 :]
        if focal_mode == "fixed":
            f = bp.focal
        elif focal_mode == "shared":
            f = bp.focal * np.exp(x[n_pose])
        else:
            f = bp.focal * np.exp(x[n_pose : n_pose + C])
        return R, tr, f, x[n_pose + n_focal :].reshape(P, 3)

    def parts(x: np.ndarray):
        R, tr, f, pts = unpack(x)
        RX = R[bp.obs_cam].apply(pts[bp.obs_point])
        Xc = RX + tr[bp.obs_cam]
        z = np.where(np.abs(Xc[:, 2]) < 1e-9, 1e-9, Xc[:, 2])
        fo = f[bp.obs_cam]
        uv = fo[:, None] * Xc[:, :2] / z[:, None] + bp.principal
        return R, f, RX, Xc, z, fo, uv

    def fun(x: np.ndarray) -> np.ndarray:
        _, f, _, _, _, _, uv = parts(x)
        res = (uv - bp.obs_xy).ravel()
        return np.concatenate([res, focal_smoothness * np.diff(np.log(f))]) if smooth else res

    rows2 = np.arange(2 * N).reshape(N, 2)  # the two rows of each observation

    def jac(x: np.ndarray):
        R, f, RX, Xc, z, fo, uv = parts(x)
        Du = np.zeros((N, 2, 3))
        Du[:, 0, 0] = Du[:, 1, 1] = fo / z
        Du[:, :, 2] = -fo[:, None] * Xc[:, :2] / (z * z)[:, None]
        blocks_r, blocks_c, blocks_v = [], [], []

        def put(J: np.ndarray, cols: np.ndarray, sel: np.ndarray | None = None) -> None:
            """J (n, 2, k) into rows of observations ``sel`` and columns ``cols`` (n, k)."""
            r = rows2 if sel is None else rows2[sel]
            blocks_r.append(np.repeat(r[:, :, None], J.shape[2], axis=2).ravel())
            blocks_c.append(np.repeat(cols[:, None, :], 2, axis=1).ravel())
            blocks_v.append(J.ravel())

        moving = bp.obs_cam > 0
        base = (bp.obs_cam[moving] - 1) * pose_dim
        if not bp.translation_only:
            put(-Du[moving] @ _skew(RX[moving]), base[:, None] + np.arange(3), moving)
        if not bp.rotation_only:
            put(Du[moving], base[:, None] + pose_dim - 3 + np.arange(3), moving)
        if focal_mode != "fixed":
            col = np.full(N, n_pose) if focal_mode == "shared" else n_pose + bp.obs_cam
            put((uv - bp.principal)[:, :, None], col[:, None])
        J_pt = Du @ R[bp.obs_cam].as_matrix()
        put(J_pt, n_pose + n_focal + 3 * bp.obs_point[:, None] + np.arange(3))
        r, c, v = np.concatenate(blocks_r), np.concatenate(blocks_c), np.concatenate(blocks_v)
        if smooth:
            k = np.arange(C - 1)
            r = np.concatenate([r, 2 * N + k, 2 * N + k])
            c = np.concatenate([c, n_pose + k, n_pose + k + 1])
            v = np.concatenate([v, np.full(C - 1, -focal_smoothness), np.full(C - 1, focal_smoothness)])
        return csr_matrix((v, (r, c)), shape=(2 * N + (C - 1 if smooth else 0), n_pose + n_focal + 3 * P))

    x0 = np.concatenate([np.zeros(n_pose + n_focal), bp.points.ravel()])
    return fun, jac, x0, unpack, n_pose + n_focal
