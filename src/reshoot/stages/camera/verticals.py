"""Which way is up, from the background's vertical edges (a vertical vanishing point).

A camera that does not move shows no ground plane in structure from motion, and one that
only pans shows the pan's axis at best; the tilt and roll of a film camera are rarely
zero (a locked-off camera looks down at the actors a few degrees). Built scenes are full
of vertical edges (wall corners, door and window frames, posts) and their images all
meet at one point, the vertical vanishing point. A straight edge seen in an image
spans, with the camera centre, a plane whose normal is n = K^T l (l the image line
through its ends); a vertical edge's plane contains the up direction u, so n . u = 0.
The up direction is the one most edge planes contain: RANSAC over pairs of edges (u =
n_i x n_j), then least squares over the agreeing ones (the eigenvector of the smallest
eigenvalue of sum w n n^T, w the edges' lengths).

Edges from several frames are put in one (the solver's) frame by the cameras'
rotations, so a pan's frames agree. The focal length enters through K: the up found
points at the vanishing point through the lens given, so an assumed focal length 15 %
off scales the tilt's tangent by 1.15 (0.6 degrees at a 4 degree tilt; measured on the
synthetic suite's still and panning shots, 0.2 to 0.4 degrees off), far less than the
2.5 to 6 degrees the actors' feet left (their soles span a metre or two of ground, in
flight half the time when running).

Accepted only when enough edges agree and they spread across the view (edges all in one
place fix the vanishing point in one direction only); otherwise None and the caller
keeps its assumption.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MIN_EDGE = 0.04
"""shortest edge used, as a fraction of the image height (22 px at 540)"""
AGREE_DEG = 0.5
"""an edge agrees with an up direction when its plane holds it within this angle"""
MAX_LEAN_DEG = 30.0
"""the up sought lies within this of the cameras' own up (-y): a film camera tilts, it
does not look straight down"""
MIN_EDGES = 12
"""agreeing edges needed ..."""
MIN_SPREAD_DEG = 5.0
"""... whose planes turn about the up by this much (root-mean-square, edge-length
weighted): edges from across the view"""
PERSON_MARGIN = 0.01
"""a person's mask grown by this fraction of the image width: edges touching it are not
background"""
SAMPLES = 400


@dataclass
class Verticals:
    up: np.ndarray
    """(3,) unit up direction, in the frame of the rotations given"""
    edges: int
    """agreeing edges"""
    spread_deg: float
    """how far their planes turn about ``up`` (root-mean-square)"""
    residual_deg: float
    """their planes' root-mean-square angle to ``up``"""


def edges(rgb: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    """(N, 4) straight edges x0, y0, x1, y1 (pixels) of the background of ``rgb``; edges
    touching a person (``labels`` > 0, grown by ``PERSON_MARGIN``) are left out."""
    import cv2

    H, W = rgb.shape[:2]
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if rgb.ndim == 3 else rgb
    found = cv2.createLineSegmentDetector(cv2.LSD_REFINE_STD).detect(gray)[0]
    if found is None:
        return np.zeros((0, 4))
    segs = found[:, 0].astype(np.float64)
    segs = segs[np.hypot(segs[:, 2] - segs[:, 0], segs[:, 3] - segs[:, 1]) >= MIN_EDGE * H]
    if labels is not None and (labels > 0).any() and len(segs):
        grow = max(1, round(PERSON_MARGIN * W))
        person = cv2.dilate((labels > 0).astype(np.uint8), np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)) > 0
        along = np.linspace(0.0, 1.0, 9)
        x = np.clip(np.rint(segs[:, None, 0] + along * (segs[:, None, 2] - segs[:, None, 0])), 0, W - 1).astype(int)
        y = np.clip(np.rint(segs[:, None, 1] + along * (segs[:, None, 3] - segs[:, None, 1])), 0, H - 1).astype(int)
        segs = segs[~person[y, x].any(1)]
    return segs


def edge_planes(segs: np.ndarray, K: np.ndarray, R_wc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit normals (N, 3) of the planes through the camera centre and each edge, in the
    frame ``R_wc`` (camera to that frame) turns into; the edges' lengths (N,)."""
    ends = np.stack([np.c_[segs[:, :2], np.ones(len(segs))], np.c_[segs[:, 2:], np.ones(len(segs))]])
    n = np.cross(ends[0], ends[1]) @ K  # K^T l, row-wise
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    return n @ R_wc.T, np.hypot(segs[:, 2] - segs[:, 0], segs[:, 3] - segs[:, 1])


def _fit(n: np.ndarray, w: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """The direction closest to lying in every plane (normals ``n``, weights ``w``), on
    ``prior``'s side."""
    u = np.linalg.eigh((n * w[:, None]).T @ n)[1][:, 0]
    return u if u @ prior >= 0 else -u


def vertical_up(planes: np.ndarray, lengths: np.ndarray, prior_up: np.ndarray,
                rng: np.random.Generator | None = None) -> Verticals | None:  # fmt: skip
    """The up direction most edge ``planes`` (unit normals (N, 3), ``edge_planes``) hold,
    within ``MAX_LEAN_DEG`` of ``prior_up``; None when too few edges agree or they do not
    spread across the view."""
    rng = rng or np.random.default_rng(0)
    prior = prior_up / np.linalg.norm(prior_up)
    # an edge can be vertical only if its plane holds a direction near the prior
    near = np.abs(planes @ prior) < np.sin(np.radians(MAX_LEAN_DEG))
    n, w = planes[near], lengths[near]
    if len(n) < MIN_EDGES:
        return None
    tol = np.sin(np.radians(AGREE_DEG))
    best, best_score = None, 0.0
    for i, j in rng.integers(0, len(n), (SAMPLES, 2)):
        u = np.cross(n[i], n[j])
        norm = np.linalg.norm(u)
        if norm < np.sin(np.radians(1.0)):  # (nearly) the same plane: no direction
            continue
        u = u / norm * np.sign(u @ prior)
        if u @ prior < np.cos(np.radians(MAX_LEAN_DEG)):
            continue
        score = w[np.abs(n @ u) < tol].sum()
        if score > best_score:
            best, best_score = u, score
    if best is None:
        return None
    u = best
    for _ in range(3):  # least squares over the agreeing edges, which it may change
        agree = np.abs(n @ u) < tol
        if agree.sum() < MIN_EDGES:
            return None
        u = _fit(n[agree], w[agree], prior)
    agree = np.abs(n @ u) < tol
    na, wa = n[agree], w[agree]
    if agree.sum() < MIN_EDGES or np.degrees(np.arccos(np.clip(u @ prior, -1, 1))) > MAX_LEAN_DEG:
        return None
    # the planes' normals turn in the plane square to u: their spread there about the mean
    evals = np.linalg.eigvalsh((na * wa[:, None]).T @ na / wa.sum())
    spread = float(np.degrees(np.arcsin(np.sqrt(np.clip(evals[1], 0, 1)))))
    if spread < MIN_SPREAD_DEG:
        return None
    residual = float(np.degrees(np.arcsin(np.sqrt(np.average((na @ u) ** 2, weights=wa)))))
    return Verticals(up=u, edges=int(agree.sum()), spread_deg=spread, residual_deg=residual)


def up_from_frames(frames: Sequence[np.ndarray], labels: Sequence[np.ndarray | None], K: np.ndarray, R_wc: np.ndarray,
                   prior_up: np.ndarray) -> Verticals | None:  # fmt: skip
    """The up direction from the vertical edges of ``frames`` (RGB) with their instance
    ``labels`` (or None), intrinsics ``K`` (F, 3, 3) and camera-to-world rotations
    ``R_wc`` (F, 3, 3), in that world's frame; ``prior_up``: the cameras' up there."""
    planes, lengths = [], []
    for rgb, lab, k, r in zip(frames, labels, K, R_wc):
        n, w = edge_planes(edges(rgb, lab), k, r)
        planes.append(n)
        lengths.append(w)
    if not planes:
        return None
    return vertical_up(np.concatenate(planes), np.concatenate(lengths), prior_up)
