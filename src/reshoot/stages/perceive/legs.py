"""Left and right legs kept apart over a track.

mediapipe's landmark model labels each frame on its own, and seen from the side it may
take the near leg for the far one: it turns the lower body half round (hips, knees,
ankles, heels and toes all swapped, with full confidence) for a frame or a few, while
the upper body stays as it was. On the standard suite's renders that happened on 31
frames of seven actors, most of them walking (arc-2p's walker across the view 8 of the
32 frames whose legs it sees, follow-2p's 8 of 116); a body fitted to such a frame
crosses its legs or bends them to where neither leg is.

A leg does not jump from one frame to the next. Over each run of frames in which the
legs are seen, the labelling (as given, or swapped) is chosen by dynamic programming:
each frame's labelling costs how far its knees, ankles, heels and toes (about the hips,
in torso lengths) lie from the previous frame's under its labelling, plus a little for
swapping at all, so that the detector's own labels stand wherever continuity does not
clearly say otherwise (legs passing each other are as likely either way).

Measured on the six standard-suite shots where it swaps anything (bodies and refine
rerun on the same detections): person IoU, 2D joints and foot skating better on all six
(pan-2p 0.812 -> 0.831, arc-2p 0.815 -> 0.823, follow-2p 0.846 -> 0.859), W-MPJPE on
five (pan-2p 124 -> 112 mm, arc-2p 128 -> 116; follow-2p 114 -> 115).
"""

from __future__ import annotations

import numpy as np

HIPS = (23, 24)
LEFT = (23, 25, 27, 29, 31)
"""mediapipe's left hip, knee, ankle, heel and toe; the right ones are the next indices"""
RIGHT = (24, 26, 28, 30, 32)
LIMBS = (1, 2, 3, 4)
"""the entries of ``LEFT``/``RIGHT`` that move with the legs (not the hips)"""
SHOULDERS = (11, 12)
MIN_CONF = 0.3
"""a landmark counts as seen from this confidence on (as in the body fit, ``FitConfig.min_conf``)"""
SWAP_COST = 0.3
"""what a swapped frame costs before continuity says anything, in torso lengths. On the
standard suite's renders (the frames whose legs the truth shows swapped, or clearly not):
at 0.3, 25 of the 31 swapped frames found and no frame swapped that was right; at 0.05,
28 found, but 4 right ones swapped (arc-2p's walker, legs cut by the frame's bottom edge)
and track-2p's walker turned on its last frames at the frame's edge (W-MPJPE 152 -> 245
mm, the body held beyond them elsewhere); at 0.5, 17 found"""
MAX_GAP = 3
"""frames without legs seen that continuity still bridges"""

SWAPPED = np.arange(33)
SWAPPED[list(LEFT)], SWAPPED[list(RIGHT)] = RIGHT, LEFT
"""mediapipe's 33 landmarks with the legs' sides swapped"""


def _legs(kpts: np.ndarray, conf: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T, 2, 4, 2) each side's knee, ankle, heel and toe about the hips' centre in
    torso lengths, (T, 2, 4) which of them are seen, (T,) frames where the legs can be
    judged (hips and shoulders seen, some of each leg)."""
    seen = conf >= MIN_CONF
    hips = kpts[:, list(HIPS)].mean(1)
    torso = np.linalg.norm(kpts[:, list(SHOULDERS)].mean(1) - hips, axis=-1)
    ok = seen[:, list(HIPS) + list(SHOULDERS)].all(1) & (torso > 1e-6)
    torso = np.where(ok, torso, 1.0)
    side = np.stack([np.array(LEFT)[list(LIMBS)], np.array(RIGHT)[list(LIMBS)]])  # (2, 4)
    legs = (kpts[:, side] - hips[:, None, None]) / torso[:, None, None, None]
    legs_seen = seen[:, side]
    return legs, legs_seen, ok & legs_seen.any(2).all(1)


def _step_cost(a: np.ndarray, a_seen: np.ndarray, b: np.ndarray, b_seen: np.ndarray) -> np.ndarray:
    """(2, 2) how far the legs ``b`` (2, 4, 2) lie from ``a`` under each pair of
    labellings (row: ``a`` as given or swapped; column: ``b``): the mean distance over
    the points both see."""
    cost = np.empty((2, 2))
    for i in range(2):
        for j in range(2):
            pa, sa = (a, a_seen) if i == 0 else (a[::-1], a_seen[::-1])
            pb, sb = (b, b_seen) if j == 0 else (b[::-1], b_seen[::-1])
            both = sa & sb
            cost[i, j] = np.linalg.norm(pa - pb, axis=-1)[both].mean() if both.any() else 0.0
    return cost


def swapped_legs(kpts: np.ndarray, conf: np.ndarray) -> np.ndarray:
    """(T,) bool: the frames of one track whose legs the detector labelled the wrong way
    round. ``kpts`` (T, 33, 2) mediapipe's landmarks in pixels, ``conf`` (T, 33)."""
    legs, legs_seen, ok = _legs(kpts, conf)
    out = np.zeros(len(kpts), bool)
    frames = np.flatnonzero(ok)
    if len(frames) < 2:
        return out
    runs = np.split(frames, np.flatnonzero(np.diff(frames) > MAX_GAP + 1) + 1)
    for run in runs:
        total = np.array([0.0, SWAP_COST])  # best cost so far ending as given / swapped
        back = np.zeros((len(run), 2), int)
        for n in range(1, len(run)):
            t, u = run[n - 1], run[n]
            step = total[:, None] + _step_cost(legs[t], legs_seen[t], legs[u], legs_seen[u])
            back[n] = step.argmin(0)
            total = step.min(0) + np.array([0.0, SWAP_COST])
        state = int(total.argmin())
        for n in range(len(run) - 1, -1, -1):
            out[run[n]] = state == 1
            state = back[n, state]
    return out


def relabel_legs(kpts: np.ndarray, conf: np.ndarray, kpts3d: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:  # fmt: skip
    """One track's landmarks with the legs' sides made consistent over time
    (:func:`swapped_legs`): ``kpts`` (T, 33, 2), ``conf`` (T, 33) and the 3D guess
    ``kpts3d`` (T, 33, 3) or None, returned as new arrays, with the frames swapped."""
    swap = swapped_legs(kpts, conf)
    kpts, conf = kpts.copy(), conf.copy()
    kpts[swap] = kpts[swap][:, SWAPPED]
    conf[swap] = conf[swap][:, SWAPPED]
    if kpts3d is not None:
        kpts3d = kpts3d.copy()
        kpts3d[swap] = kpts3d[swap][:, SWAPPED]
    return kpts, conf, kpts3d, swap
