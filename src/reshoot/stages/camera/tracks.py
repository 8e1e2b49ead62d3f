"""Background point tracks: KLT (pyramidal Lucas-Kanade) over the shot, people masked out.

Corners are found on the background only (the instance masks, dilated, are kept out),
followed frame to frame with a forward-backward check, and topped up where tracks are
lost. The result is one observation list: which point, which frame, where.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)


@dataclass
class TrackConfig:
    """How background points are found and followed."""

    max_side_px: int = 960
    """track on frames scaled down to this longest side (coordinates come back at full size)"""
    max_points: int = 1200
    """points followed at once"""
    min_distance_px: float = 10.0
    """between corners, at tracking size"""
    quality: float = 0.005
    """corner quality relative to the best corner (OpenCV's ``qualityLevel``)"""
    max_fb_error_px: float = 0.7
    """forward-backward disagreement above which a point is dropped (tracking size)"""
    mask_margin: float = 0.02
    """people's masks grow by this fraction of the frame's diagonal before points are kept out"""
    refill_ratio: float = 0.8
    """look for new corners when fewer than this share of ``max_points`` survive"""


@dataclass
class PointTracks:
    """Observations of background points: ``point[i]`` seen in frame ``frame[i]`` at ``xy[i]``."""

    point: np.ndarray
    """(N,) int point ids, 0..num_points-1"""
    frame: np.ndarray
    """(N,) int"""
    xy: np.ndarray
    """(N, 2) float64 pixels of the shot's frames"""
    num_points: int
    num_frames: int

    def in_frame(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids, xy) of the points seen in frame ``t``."""
        sel = self.frame == t
        return self.point[sel], self.xy[sel]

    def common(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ids, xy in a, xy in b) of the points seen in both frames."""
        ia, xa = self.in_frame(a)
        ib, xb = self.in_frame(b)
        ids, ka, kb = np.intersect1d(ia, ib, assume_unique=True, return_indices=True)
        return ids, xa[ka], xb[kb]

    def per_frame_counts(self) -> np.ndarray:
        return np.bincount(self.frame, minlength=self.num_frames)


def _keep_out(labels: np.ndarray | None, size_wh: tuple[int, int], margin_px: int) -> np.ndarray:
    """(h, w) uint8 mask, 255 where corners may be: away from people."""
    import cv2

    w, h = size_wh
    if labels is None:
        return np.full((h, w), 255, np.uint8)
    people = cv2.resize((labels > 0).astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
    if margin_px > 0:
        people = cv2.dilate(people, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin_px + 1, 2 * margin_px + 1)))
    return np.where(people > 0, 0, 255).astype(np.uint8)


def track_background(frames: Iterable[np.ndarray], labels: np.ndarray | None, cfg: TrackConfig | None = None) -> PointTracks:
    """KLT tracks of background corners over ``frames`` (RGB (H, W, 3) uint8); ``labels``
    (T, H, W) are the shot's instance masks (0 background) or None."""
    import cv2

    cfg = cfg or TrackConfig()
    lk = dict(winSize=(21, 21), maxLevel=3, criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01))
    obs_point: list[np.ndarray] = []
    obs_frame: list[np.ndarray] = []
    obs_xy: list[np.ndarray] = []
    prev = None
    pts = np.zeros((0, 2), np.float32)
    ids = np.zeros(0, int)
    next_id = 0
    scale = 1.0
    t = -1
    for t, rgb in enumerate(frames):
        H, W = rgb.shape[:2]
        scale = min(1.0, cfg.max_side_px / max(H, W))
        size = (max(1, round(W * scale)), max(1, round(H * scale)))
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        if scale < 1.0:
            gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        margin = round(cfg.mask_margin * float(np.hypot(*size)))
        allowed = _keep_out(None if labels is None else labels[t], size, margin)
        if prev is not None and len(pts):
            fwd, ok1, _ = cv2.calcOpticalFlowPyrLK(prev, gray, pts, None, **lk)
            back, ok2, _ = cv2.calcOpticalFlowPyrLK(gray, prev, fwd, None, **lk)
            fb = np.linalg.norm(back - pts, axis=1)
            xi, yi = np.round(fwd[:, 0]).astype(int), np.round(fwd[:, 1]).astype(int)
            inside = (xi >= 0) & (xi < size[0]) & (yi >= 0) & (yi < size[1])
            good = (ok1.ravel() == 1) & (ok2.ravel() == 1) & (fb < cfg.max_fb_error_px) & inside
            good[good] &= allowed[yi[good], xi[good]] > 0
            pts, ids = fwd[good], ids[good]
        if len(pts) < cfg.refill_ratio * cfg.max_points:
            free = allowed.copy()
            for x, y in pts:
                cv2.circle(free, (int(x), int(y)), int(cfg.min_distance_px), 0, -1)
            new = cv2.goodFeaturesToTrack(gray, cfg.max_points - len(pts), cfg.quality, cfg.min_distance_px, mask=free)
            if new is not None:
                new = new.reshape(-1, 2).astype(np.float32)
                pts = np.concatenate([pts, new])
                ids = np.concatenate([ids, np.arange(next_id, next_id + len(new))])
                next_id += len(new)
        obs_point.append(ids.copy())
        obs_frame.append(np.full(len(ids), t))
        obs_xy.append((pts.astype(np.float64) + 0.5) / scale)  # OpenCV's pixel centres are at integers, ours at +0.5
        prev = gray
    T = t + 1
    if T == 0:
        return PointTracks(np.zeros(0, int), np.zeros(0, int), np.zeros((0, 2)), 0, 0)
    point, frame, xy = np.concatenate(obs_point), np.concatenate(obs_frame), np.concatenate(obs_xy)
    # points seen once say nothing about motion
    seen = np.bincount(point, minlength=next_id)
    keep = seen[point] >= 2
    remap = np.cumsum(seen >= 2) - 1
    tracks = PointTracks(remap[point[keep]], frame[keep], xy[keep], int((seen >= 2).sum()), T)
    log.info("background tracks: %d points, %.0f per frame (median)", tracks.num_points, np.median(tracks.per_frame_counts()))
    return tracks
