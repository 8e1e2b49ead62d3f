"""Every person, frame by frame, with an identity that holds: detections, landmarks and
masks tied into tracks.

Per frame: the detector proposes people, looking besides where each track is heading (a
person cut by the frame's edge scores low in the whole frame but is found in a window
about their size); mediapipe's landmark model runs on each proposal's region (landmarks,
a mask and a "person here" score). Proposals that continue a track are taken first.
Where two people overlap the model takes the more salient one in either's region: when
it takes someone already found, it is asked again with them painted out of the frame
(for a track looked for behind them: all but where it is expected, then wholly).
Proposals are matched to the tracks by the distance from where each track was heading
and by the colours under its mask, and never to a track dressed otherwise (so two people
who cross keep their ids, and a track does not slide onto someone walking in front). A
track the detector misses follows its own landmarks for a while (the region the last
frame's landmarks give), and one the landmark model loses is looked for again for a few
frames; where someone walks out of the frame, it keeps the part of them still in it (the
landmark model's mask, without landmarks) until it is gone. A person who left the frame
or was hidden, and comes back elsewhere, is re-identified by colours alone; for that,
and that only, a weak detection (under the detector's ``min_score``: blurred, low
footage) will do. A track that starts or comes back is followed backwards through the
frames before, by its own landmarks with the people found there painted out, and at the
frame's edge by its mask, for as long as they see it (someone walking in from the edge
is found a few frames after they appear). Each pixel then goes to one person: where
masks overlap, to the one in front, whose feet are lower in the frame (people stand on
one ground).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from reshoot.errors import InputError, ShapeError
from reshoot.shot import mask_box
from reshoot.stages.perceive.landmarks import NUM_LANDMARKS, ROI_SCALE, PoseEstimate, PoseLandmarker, Roi

log = logging.getLogger(__name__)


MIN_PART_PX = 50
"""a person's part at the frame's edge smaller than this (pixels) is not followed further"""

Region = tuple[float, float, float]
"""a square of the frame: centre x, centre y, side (pixels)"""
Detect = Callable[[np.ndarray, Sequence[Region]], list["Detection"]]
"""the detector: every person in an RGB frame, looking at the given regions besides"""


class Detection(Protocol):
    """What the tracker needs of a detection (``detector.PersonDetection``)."""

    score: float
    keypoints_px: np.ndarray
    """(4, 2): hip centre, body-circle point, shoulder centre, upper-body circle point"""
    weak: bool
    """too doubtful to start a track: only to find again a known person who was lost
    (``reid_*``; ``DetectorConfig.weak_score``)"""


@dataclass
class TrackingConfig:
    """How proposals become tracks. Defaults work on film shots at 24-30 fps."""

    min_person_score: float = 0.5
    """landmark model's "a person is in the region" probability to accept a proposal"""
    new_track_score: float = 0.7
    """detector score a proposal needs to start a track (continuing one needs ``DetectorConfig.min_score``)"""
    mask_threshold: float = 0.5
    """person probability above which a pixel belongs to a person"""
    match_cost: float = 1.0
    """highest cost at which a proposal continues a track: the distance between its hips
    and where the track's hips were heading, in body heights, plus the colour distance"""
    colour_weight: float = 1.0
    """weight of the colour distance (histogram intersection, 0..1) in the match cost"""
    max_coast_frames: int = 24
    """a track the detector does not confirm follows its own landmarks this many frames at
    most. On low, blurred footage the detector misses people for a second or more whom the
    landmark model still sees plainly ("person here" 1.0); the real structuralize clip
    (426x240): at 8, both children were lost for 20-90 frames and one came back as a
    third track; at 24, kept. The standard suite: the same to the digit (the detector
    confirms within a few frames)"""
    lost_frames: int = 12
    """a track of someone known to be a person (``_real``) whom the landmark model lost (a
    blurred frame, a moment half hidden) is still looked for, and followed by its
    landmarks, this many frames after it was last seen; after, only a detection brings
    them back (a weak one will do, matched by colours alone). Structuralize's children
    over its 300 frames (with ``max_coast_frames`` 24, before weak detections): 204 and
    235 frames in 3 and 5 runs at 0; 202 and 269 in 4 and 9 runs at 3 or 6; 204 and 271
    in 5 and 2 runs at 12. Following someone not
    yet known to be a person kept a detection of chairs behind a child for 33 frames. The
    standard suite, one render: track-2p mask IoU 0.858 -> 0.875, arc-2p and pan-2p
    0.002-0.003 less, the others the same"""
    coast_colour_distance: float = 0.5
    """... and only while the colours under its mask stay this close to the track's"""
    max_gap_frames: int = 24
    """a track unseen for longer is no longer looked for where it was heading; it can
    still be re-identified by its colours (``reid_*``)"""
    reid_colour_distance: float = 0.25
    """a person is re-identified with a track unseen for a frame or more (who left the
    frame, or was hidden by someone, and came back elsewhere) by colours alone when
    their colour distance is at most this (one person over a shot: 0.05-0.1; two
    people in different clothes: 0.4 and more)"""
    max_colour_distance: float = 0.4
    """a proposal whose colours are further than this from a track's is someone else,
    however near: where a person walks in front of another, the landmark model takes the
    one in front in the other's region. A trade measured at 0.4 / 0.5 (off): pan-2p id
    switches 0 / 0 (1), arc-2p 6 / 10 (10); the real bedroom clip's second child, whose
    colours change as it turns, kept in 52 / 61 (61) of 200 frames"""
    reid_cost: float = 0.5
    """match cost of a re-identification besides the colour distance: what not knowing
    where the person went costs against a track that saw them coming"""
    min_track_frames: int = 5
    """tracks seen in fewer frames are dropped as spurious"""
    min_confirmed_frames: int = 3
    """tracks the detector confirmed in fewer frames are dropped as spurious"""
    min_track_score: float = 0.85
    """upper quartile of the detector's scores a track needs to be kept (people score 0.9
    and more when well framed, 0.6-0.85 cut by the frame's edge; faces in posters and
    figures in graffiti less than 0.85). The upper quartile, not the median: a person
    half out of the frame for most of a shot is still a person"""
    same_person_iou: float = 0.5
    """two proposals whose masks overlap this much (IoU) are one person ..."""
    union_area: float = 1.5
    """a proposal whose mask holds most (``union_inside``) of another's, this many times
    larger, with its landmarks elsewhere, is two people: the landmark model segments every
    person in its region, so where one stands half behind another the mask of the one it
    follows can hold both. The smaller one is a person, the larger is trimmed of them"""
    union_inside: float = 0.8
    """... the share of the smaller one's mask that lies in the larger one's"""
    distinct_iou: float = 0.2
    """... and two whose masks overlap less than this are two, however near their hips:
    two people side by side, one half behind the other (the synthetic arc-2p: hips 0.17
    person heights apart, masks 0.07 IoU; taken for one, the one behind was lost for 23
    frames)"""
    backfill_frames: int = 24
    """a track that starts, or comes back after a gap, is followed backwards by its own
    landmarks through this many frames before (at most back to where it was last seen):
    the detector finds a person cut by the frame's edge only in its windows, which run
    every few frames (``PerceiveConfig.tile_every``), and may miss them in the first few
    windows, so someone walking in was on screen before that (the synthetic track-2p: 25
    frames before the detector found them; mask IoU 0.721 without, 0.778 / 0.782 with 12
    / 24 frames back)"""
    edge_growth: float = 1.5
    """a person followed out of the frame (or back to where they came in) by their mask
    alone (``Tracker._edge_part``) keeps a mask at most this many times the area of the
    one before: the part of someone leaving shrinks, a larger one is something else"""
    region_scale: float = 1.5
    """the detector also looks where each track is heading, in a square this many body
    diameters wide (about 1.6 person heights: the model finds people best when they
    fill about two thirds of its input; at half, it misses some small ones)"""


@dataclass
class TrackResult:
    """One person over the shot (absent frames: zeros, ``present`` False)."""

    track_id: int
    present: np.ndarray
    """(T,) bool"""
    kpts2d_px: np.ndarray
    """(T, 33, 2)"""
    kpts_conf: np.ndarray
    """(T, 33) in [0, 1]: visibility x presence of each landmark"""
    boxes_xyxy_px: np.ndarray
    """(T, 4)"""
    kpts3d_m: np.ndarray
    """(T, 33, 3) the landmark model's metric 3D landmarks (hip-centred, image axes)"""


@dataclass
class _Track:
    track_id: int
    colour: np.ndarray
    hips: np.ndarray
    """(2,) last hip centre, pixels"""
    height: float
    """last box height, pixels"""
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))
    """hips, pixels per frame"""
    last_t: int = -1
    last: PoseEstimate | None = None
    detector_scores: list[float] = field(default_factory=list)
    """the detector's score in each frame it found this person"""
    coasting: int = 0
    """frames since the detector last found this person"""
    mask: np.ndarray | None = None
    """(H, W) bool: the last mask"""
    areas: deque[int] = field(default_factory=lambda: deque(maxlen=2))
    """pixels of the last two masks, newest last"""
    part_colour: np.ndarray | None = None
    """colours under the last mask (``colour`` is the person's, kept from whole views)"""
    frames: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    """t -> (kpts (33, 2), conf (33,), box (4,), world landmarks (33, 3))"""

    def predicted_hips(self, t: int) -> np.ndarray:
        return self.hips + self.velocity * min(t - self.last_t, 3)  # extrapolate a few frames at most

    def heights_from(self, xy: np.ndarray, t: int) -> float:
        """How far ``xy`` (pixels) is from where this track's hips are heading in frame ``t``, in body heights."""
        return float(np.linalg.norm(np.asarray(xy) - self.predicted_hips(t)) / max(self.height, 1.0))


@dataclass
class _Person:
    """A person found in the current frame, before assignment."""

    estimate: PoseEstimate
    mask: np.ndarray
    """(H, W) bool"""
    box: np.ndarray
    colour: np.ndarray
    detected: bool
    """found by the detector (else by following a track's landmarks)"""
    detector_score: float = 0.0
    weak: bool = False
    """found by a weak detection: may only re-identify a known person who was lost"""
    track: _Track | None = None
    edge_only: bool = False
    """only a part of them at the frame's edge, too little for landmarks: their mask counts, their landmarks do not"""

    @property
    def hips(self) -> np.ndarray:
        return np.asarray(self.estimate.next_roi.centre_px)


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return np.count_nonzero(a & b) / union if union else 0.0


def _painted_out(rgb: np.ndarray, masks: Sequence[np.ndarray], roi: Roi | None = None) -> np.ndarray:
    """``rgb`` with the pixels of ``masks`` (and a margin of a few pixels: the masks' edges
    are soft) painted over with the background beside them: the frame shifted sideways,
    taking nothing from the masks themselves, from outside the frame, or from the columns
    of ``roi`` (where the person looked for is: a copy of them would be a second one). A
    flat or blurred fill leaves a person-shaped patch that the landmark model still takes
    for a person; the background's own texture does not."""
    import cv2

    hidden = np.zeros(rgb.shape[:2], np.uint8)
    for mask in masks:
        hidden |= mask.astype(np.uint8)
    hidden = cv2.dilate(hidden, np.ones((9, 9), np.uint8)).astype(bool)
    rows, cols = np.flatnonzero(hidden.any(1)), np.flatnonzero(hidden.any(0))
    if not len(cols):
        return rgb
    W = rgb.shape[1]
    x = np.arange(W)
    usable = ~hidden[rows[0] : rows[-1] + 1].any(0)  # columns free of the hidden people over their rows
    if roi is not None:
        half = roi.size_px / 2
        usable &= (x < roi.centre_px[0] - half) | (x > roi.centre_px[0] + half)
    need = hidden.sum(0)  # hidden pixels per column
    step = max((cols[-1] - cols[0] + 1) // 4, 1)
    best = None
    for s in sorted(range(-W + 1, W, step), key=abs):
        src = x + s
        ok = (src >= 0) & (src < W)
        bad = int(need[~ok].sum() + need[ok][~usable[src[ok]]].sum())
        if best is None or bad < best[0]:
            best = (bad, np.clip(src, 0, W - 1))
        if bad == 0:
            break
    out = rgb.copy()
    out[hidden] = rgb[:, best[1]][hidden]
    return out


def _trim(p: _Person, other: np.ndarray, hsv: np.ndarray) -> None:
    """``p`` without the pixels of mask ``other``: its mask, box and colours."""
    p.mask = p.mask & ~other
    if p.mask.any():
        p.box = mask_box(p.mask)
    p.colour = _colour_histogram(hsv, p.mask)


def _frame_record(p: _Person) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What a track keeps of ``p`` for its frame (``_Track.frames``)."""
    est = p.estimate
    world = est.world_m if est.world_m is not None else np.zeros((NUM_LANDMARKS, 3))
    conf = np.zeros(NUM_LANDMARKS) if p.edge_only else est.visibility * est.presence
    return est.kpts_px.copy(), conf, p.box.copy(), world.copy()


def _landmarks_apart(p: _Person, q: _Person) -> float:
    """Median distance (pixels) between the landmarks both proposals see; inf with fewer
    than 5 in common."""
    both = (p.estimate.presence > 0.5) & (q.estimate.presence > 0.5)
    if both.sum() < 5:
        return float("inf")
    return float(np.median(np.linalg.norm(p.estimate.kpts_px[both] - q.estimate.kpts_px[both], axis=1)))


def _colour_histogram(hsv: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Hue x saturation histogram (16 x 4) of the masked pixels of an HSV image, summing to 1."""
    import cv2

    hist = cv2.calcHist([hsv], [0, 1], mask.astype(np.uint8), [16, 4], [0, 180, 0, 256]).ravel()
    total = hist.sum()
    return hist / total if total > 0 else np.full_like(hist, 1.0 / hist.size)


def _colour_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(1.0 - np.minimum(a, b).sum())


class Tracker:
    """Feed frames in order with :meth:`step`; :meth:`finish` gives the tracks and the
    instance label images (one label per kept track, in order of first appearance)."""

    def __init__(self, width: int, height: int, detect: Detect,
                 landmarker: PoseLandmarker, cfg: TrackingConfig | None = None) -> None:  # fmt: skip
        self.width, self.height = width, height
        self.detect, self.landmarker = detect, landmarker
        self.cfg = cfg or TrackingConfig()
        self.tracks: list[_Track] = []
        self.labels: list[np.ndarray] = []  # per frame (H, W) uint8: index into self.tracks + 1
        self.recent: deque[np.ndarray] = deque(maxlen=self.cfg.backfill_frames)
        """the last frames before this one (RGB), newest last: for :meth:`_backfill`"""
        self.t = 0

    # -------------------------------------------------------------------------- per frame

    def _look(self, rgb: np.ndarray, roi: Roi, hide: Sequence[np.ndarray] = ()) -> PoseEstimate:
        """The landmark model in ``roi``; ``hide``: masks of people found already, painted
        out of the frame first (so that the model cannot take them again)."""
        return self.landmarker.estimate(_painted_out(rgb, hide, roi) if len(hide) else rgb, roi)

    def _person(self, est: PoseEstimate, hsv: np.ndarray, detector_score: float | None = None) -> _Person | None:
        """The person the landmark model found (``est``), or None where it sees nobody."""
        if est.score < self.cfg.min_person_score:
            return None
        mask = est.mask(self.width, self.height) > self.cfg.mask_threshold
        if mask.any():
            box = mask_box(mask)
        else:
            seen = est.presence > 0.5
            if not seen.any():
                return None
            box = np.concatenate([est.kpts_px[seen].min(0), est.kpts_px[seen].max(0)])
        return _Person(est, mask, box, _colour_histogram(hsv, mask), detected=detector_score is not None,
                       detector_score=detector_score or 0.0)  # fmt: skip

    def _edge_part(self, est: PoseEstimate, hsv: np.ndarray, tr: _Track, others: np.ndarray,
                   before_px: int, before_colour: np.ndarray | None) -> _Person | None:  # fmt: skip
        """The part of ``tr``'s person left in the frame where they cross its edge and the
        landmark model (``est``) no longer takes what it sees for a person, or None. Its
        "person here" score falls to nothing once a walker is a third in the frame, but its
        mask still covers what is there (the synthetic track-2p's walkers: IoU 0.83-0.94 down to
        1000 pixels, score 0.00-0.18). Taken when that mask, less ``others`` (pixels of
        people found already), touches the frame's edge, is dressed as the track or as the
        part it is followed from (``before_colour``: the last leg in the frame is not
        dressed as the whole person), and is at most ``edge_growth`` times ``before_px``
        (the larger of the track's last two masks, in the frames it is followed from: the
        part of someone leaving shrinks, though the model's mask may miss much of it in
        one frame). Its landmarks are guesses and get no confidence."""
        cfg = self.cfg
        mask = (est.mask(self.width, self.height) > cfg.mask_threshold) & ~others
        area = np.count_nonzero(mask)
        if area < MIN_PART_PX or area > cfg.edge_growth * before_px:
            return None
        box = mask_box(mask)
        if not (box[0] <= 0 or box[1] <= 0 or box[2] >= self.width or box[3] >= self.height):
            return None
        colour = _colour_histogram(hsv, mask)
        dressed = [tr.colour] if before_colour is None else [tr.colour, before_colour]
        if min(_colour_distance(colour, c) for c in dressed) > cfg.coast_colour_distance:
            return None
        return _Person(est, mask, box, colour, detected=False, edge_only=True)

    def _same_person(self, p: _Person, q: _Person) -> bool:
        """Two proposals of one person: their masks overlap a lot, or (unless their masks
        keep apart) their hips nearly coincide, or so do their landmarks (two regions that
        locked onto one body)."""
        if p.mask.any() and q.mask.any():
            if self._in_union(p, q) or self._in_union(q, p):
                return False
            iou = mask_iou(p.mask, q.mask)
            if iou > self.cfg.same_person_iou:
                return True
            if iou < self.cfg.distinct_iou:
                return False
        height = max(p.box[3] - p.box[1], q.box[3] - q.box[1], 1.0)
        if float(np.linalg.norm(p.hips - q.hips)) < 0.2 * height:
            return True
        return _landmarks_apart(p, q) < 0.1 * height

    def _in_union(self, p: _Person, q: _Person) -> bool:
        """``q``'s mask holds ``p`` and someone else (``TrackingConfig.union_area``)."""
        area_p, area_q = np.count_nonzero(p.mask), np.count_nonzero(q.mask)
        if area_p == 0 or area_q < self.cfg.union_area * area_p:
            return False
        if np.count_nonzero(p.mask & q.mask) < self.cfg.union_inside * area_p:
            return False
        apart = _landmarks_apart(p, q)
        return np.isfinite(apart) and apart >= 0.2 * max(p.box[3] - p.box[1], 1.0)

    def _trim_unions(self, p: _Person, found: list[_Person], hsv: np.ndarray) -> None:
        """Where new person ``p``'s mask or one of ``found``'s holds the other person too,
        take the other's pixels from it and measure it again."""
        for q in found:
            if self._in_union(p, q):
                _trim(q, p.mask, hsv)
            elif self._in_union(q, p):
                _trim(p, q.mask, hsv)

    def _another(self, rgb: np.ndarray, hsv: np.ndarray, roi: Roi, found: list[_Person],
                 detector_score: float | None = None, first: _Person | None = None,
                 expect: _Track | None = None) -> _Person | None:  # fmt: skip
        """The person in ``roi`` who is not one of ``found``, or None. Where two people
        overlap, the landmark model takes the more salient one in either's region (the
        one in front, usually): when it takes someone already found, it looks again with
        them painted out of the frame, and what it sees then must not be them either.
        ``first``: the model's person in ``roi`` already looked for. ``expect``: the track
        of the person looked for, who may be behind the ones found: first, where they are
        expected (:meth:`_expected`) nothing is painted out (the mask of one found may
        hold them too, in the region of either); then, if it still takes one found (who
        fills that region), or saw nobody at first, it looks with the ones found painted
        out wholly, and keeps what shows of the person beside them (the synthetic
        crossings: the one behind, half hidden, found so with "person here" 1.0 and a mask
        0.76-0.78 IoU against what shows of them; the three crossing shots' mask IoU over
        three renders 0.852 -> 0.862 on average, the worst 0.832 -> 0.843)."""
        person = first or self._person(self._look(rgb, roi), hsv, detector_score)
        if person is None and (expect is None or not found):
            return None
        if person is not None and not any(self._same_person(person, q) for q in found):
            self._trim_unions(person, found, hsv)
            return person
        keep = self._expected(expect, self.t) if expect is not None else None
        whole = [q.mask for q in found]
        for hide in [whole] if keep is None else [[m & ~keep for m in whole], whole]:
            person = self._person(self._look(rgb, roi, hide), hsv, detector_score)
            if person is not None and keep is not None and hide is whole:
                _trim(person, np.logical_or.reduce(whole), hsv)  # the ones in front painted out: what shows of them
                if np.count_nonzero(person.mask) < MIN_PART_PX:
                    return None
            if person is not None and not any(self._same_person(person, q) for q in found):
                break
        else:
            return None
        if self._inside_someone(person, [q for q in found if not self._in_union(person, q)]):
            return None
        self._trim_unions(person, found, hsv)
        return person

    def _inside_someone(self, p: _Person, people: list[_Person]) -> bool:
        """Most of ``p``'s mask lies on someone already found: a part of them, not a new person."""
        area = np.count_nonzero(p.mask)
        return area > 0 and any(np.count_nonzero(p.mask & q.mask) > 0.5 * area for q in people if q is not p)

    def step(self, rgb: np.ndarray) -> None:
        if rgb.shape != (self.height, self.width, 3):
            raise InputError(f"frame {self.t} is {rgb.shape}, expected ({self.height}, {self.width}, 3)")
        import cv2

        t, cfg = self.t, self.cfg
        hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)  # once per frame, for every proposal's colours
        proposals: list[_Person] = []
        live = [tr for tr in self.tracks if t - tr.last_t <= cfg.max_gap_frames]
        followed = [tr for tr in live if tr.last_t == t - 1 or (t - tr.last_t <= 1 + cfg.lost_frames and self._real(tr))]
        regions = [self._region(tr, t) for tr in followed]
        known = [tr for tr in self.tracks if tr in live or self._reidentifiable(tr, t)]
        for roi, score, first, tr in self._first_looks(rgb, hsv, regions, known):
            if first is None:
                continue  # the landmark model saw nobody there
            if first.weak and any(self._same_person(first, q) for q in proposals):
                continue  # a doubtful view of someone found already
            person = self._another(rgb, hsv, roi, proposals, score, first, tr)
            if person is not None:
                proposals.append(person)
        self._assign(proposals, known, t)
        proposals = [p for p in proposals if p.track is not None or not p.weak]  # who nobody knows: not taken
        # tracks the detector missed follow their own landmarks for a while, if seen just
        # before (or known and lost a few frames ago)
        for tr in followed:
            if any(p.track is tr for p in proposals) or tr.coasting >= cfg.max_coast_frames:
                continue
            roi = tr.last.next_roi  # where the last landmarks said they would be next, moved on over a gap
            roi = replace(roi, centre_px=tuple(np.asarray(roi.centre_px) + tr.velocity * (t - tr.last_t - 1)))
            person = self._another(rgb, hsv, roi, proposals, expect=tr)
            if person is not None and _colour_distance(person.colour, tr.colour) > cfg.coast_colour_distance:
                continue  # the region has slid onto someone or something else
            if person is None and tr.last_t == t - 1:  # leaving the frame, maybe
                others = [q.mask for q in proposals]
                hidden = np.logical_or.reduce(others) if others else np.zeros((self.height, self.width), bool)
                seen = self._look(rgb, tr.last.next_roi, others)
                person = self._edge_part(seen, hsv, tr, hidden, max(tr.areas), tr.part_colour)
            if person is None:
                continue
            person.track = tr
            proposals.append(person)
        for p in proposals:  # confident unmatched detections of someone new start tracks
            if p.track is not None or not p.detected or p.weak or p.detector_score < cfg.new_track_score:
                continue
            if not self._inside_someone(p, [q for q in proposals if q.track is not None]):
                p.track = _Track(track_id=len(self.tracks) + 1, colour=p.colour, hips=p.hips, height=p.box[3] - p.box[1])
                self.tracks.append(p.track)
        if len(self.tracks) > 254:
            raise InputError(f"more than 254 people tracks by frame {t}: an instance mask holds at most 255 labels")
        people = [p for p in proposals if p.track is not None]
        self.labels.append(self._label_image(people))
        for p in people:
            back = p.track.last_t
            self._update(p.track, p, t)
            if t - back > 1:  # a new track (last_t -1), or one back after a gap
                self._backfill(p.track, p.estimate, stop=back + 1)
        self.recent.append(rgb)
        self.t += 1

    def _first_looks(self, rgb: np.ndarray, hsv: np.ndarray, regions: Sequence[Region],
                     known: list[_Track]) -> list[tuple[Roi, float | None, _Person | None, _Track | None]]:  # fmt: skip
        """The detector's people in this frame: per detection its region
        (:meth:`_upright`), its score (None where it was turned over), the landmark
        model's person there (None: nobody) and the track it lies on
        (:meth:`_track_at`), in the order they are taken: first those who continue a
        track best, then by score. Where two people stand close the detector may also
        place one between them, whose region the landmark model fills with parts of both
        (the synthetic arc-2p: a mask 0.38 / 0.28 IoU against the two, scoring 0.91,
        above the 0.74 of one of them seen whole); taken first it hides the one seen
        whole, taken after it is looked at again with them painted out. Weak detections
        are looked at only while someone is lost (:meth:`_lost`), only off the tracks
        followed, only where they would re-identify someone, and last."""
        looks = []
        lost = [tr for tr in known if self._lost(tr, self.t)]
        for det in self.detect(rgb, regions):
            weak = det.weak
            try:
                seen = Roi.around_body(det.keypoints_px[0], det.keypoints_px[1])
            except ShapeError:
                continue
            on = self._track_at(seen, known)
            if weak and (on is not None or not lost):
                continue  # only to find a lost person again (a weak view of one being followed adds nothing)
            roi = self._upright(seen, on)
            # the score of a reading upside down is not one of the person: the detection only places them
            score = det.score if roi is seen else None
            person = self._person(self._look(rgb, roi), hsv, score)
            if person is not None:
                person.weak = weak
            cost = min((self._cost(person, tr, self.t) for tr in known), default=np.inf) if person else np.inf
            if weak and cost > self.cfg.match_cost:
                continue
            looks.append((weak, cost if cost <= self.cfg.match_cost else np.inf, -det.score, roi, score, person, on))
        looks.sort(key=lambda look: look[:3])
        return [(roi, score, person, on) for *_, roi, score, person, on in looks]

    def _track_at(self, roi: Roi, known: list[_Track]) -> _Track | None:
        """The track whose hips are heading nearest ``roi``'s centre, within ``match_cost``
        body heights, among those seen in the last few frames; None where none is."""
        t = self.t
        near = [(tr.heights_from(roi.centre_px, t), tr) for tr in known if tr.last is not None and t - tr.last_t <= 3]
        near = [(d, tr) for d, tr in near if d <= self.cfg.match_cost]
        return min(near, key=lambda x: x[0])[1] if near else None

    @staticmethod
    def _upright(roi: Roi, tr: _Track | None) -> Roi:
        """``roi`` turned the way up of the track it lies on (``tr``), where the detector
        has the body's axis more than a right angle from that track's: a body does not
        turn over between two frames, and the detector does put some upside down (small
        people in the real structuralize clip, 0.6-0.7 beside an upright 0.6 of the same
        person), where the landmark model follows the region's up and finds a person
        without legs."""
        if tr is None:
            return roi
        up = tr.last.next_roi.up
        return roi if np.dot(roi.up, up) >= 0 else Roi(roi.centre_px, roi.size_px, up)

    def _expected(self, tr: _Track, t: int) -> np.ndarray | None:
        """(H, W) bool: where ``tr``'s person should be in frame ``t``: their last mask
        moved as their hips were moving, widened by a tenth of their height; None without
        a mask."""
        import cv2

        if tr.mask is None or not tr.areas[-1]:
            return None
        dx, dy = tr.predicted_hips(t) - tr.hips
        moved = cv2.warpAffine(tr.mask.astype(np.uint8), np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]]),
                               (self.width, self.height), flags=cv2.INTER_NEAREST)  # fmt: skip
        box = mask_box(moved)
        if not np.isfinite(box).all():
            return None
        r = max(int(0.1 * tr.height), 1)  # widened around the mask's box only: a wide kernel over the frame is slow
        x0, y0 = max(int(box[0]) - r, 0), max(int(box[1]) - r, 0)
        x1, y1 = min(int(box[2]) + r, self.width), min(int(box[3]) + r, self.height)
        out = np.zeros((self.height, self.width), bool)
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        out[y0:y1, x0:x1] = cv2.dilate(moved[y0:y1, x0:x1], kernel).astype(bool)
        return out

    def _backfill(self, tr: _Track, est: PoseEstimate, stop: int) -> None:
        """Follow ``tr`` backwards from its landmarks ``est`` in this frame through the
        frames before it, down to frame ``stop`` at most: the landmark model in the region
        the next frame's landmarks give, the people found in that frame painted out, while
        it sees a person dressed as the track, or the part of them at the frame's edge
        (:meth:`_edge_part`: where they came in). Their pixels are added where nobody is.
        Without the painting the model takes whoever stands in front in the region (the
        synthetic pan-2p's walker coming in behind another: 4 frames lost)."""
        import cv2

        cfg = self.cfg
        areas, colour = deque([tr.areas[-1]], maxlen=2), tr.part_colour
        for back, rgb in enumerate(reversed(self.recent), start=1):
            k = self.t - back
            if k < max(stop, 0) or k in tr.frames:
                return
            hsv, others = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV), self.labels[k] > 0
            seen = self._look(rgb, est.next_roi, [others] if others.any() else ())
            person = self._person(seen, hsv)
            if person is not None:
                _trim(person, others, hsv)  # the margin of the people painted out
            if person is None or _colour_distance(person.colour, tr.colour) > cfg.coast_colour_distance:
                person = self._edge_part(seen, hsv, tr, others, max(areas), colour)  # where they came in, maybe
                if person is None:
                    return
            areas.append(np.count_nonzero(person.mask))
            if areas[-1] < MIN_PART_PX:
                return
            colour = person.colour
            self.labels[k][person.mask] = self.tracks.index(tr) + 1
            tr.frames[k] = _frame_record(person)
            est = person.estimate

    def _region(self, tr: _Track, t: int) -> Region:
        """Where the detector looks for ``tr`` in frame ``t``: around its predicted hips,
        ``region_scale`` body diameters wide (the last landmarks' region is 1.25 diameters)."""
        x, y = tr.predicted_hips(t)
        return float(x), float(y), self.cfg.region_scale * tr.last.next_roi.size_px / ROI_SCALE

    def _reidentifiable(self, tr: _Track, t: int) -> bool:
        """``tr`` may take a person by colours alone: unseen for a frame or more, and seen
        long enough before to be someone (not a passing likeness)."""
        return t - tr.last_t > 1 and len(tr.frames) >= self.cfg.min_track_frames

    def _lost(self, tr: _Track, t: int) -> bool:
        """``tr`` is a person (``_real``) who was lost: the landmark model no longer
        follows them (unseen for more than ``lost_frames``), so only a detection brings
        them back; a weak one may (``DetectorConfig.weak_score``)."""
        return t - tr.last_t > 1 + self.cfg.lost_frames and self._reidentifiable(tr, t) and self._real(tr)

    def _cost(self, p: _Person, tr: _Track, t: int) -> float:
        """What continuing ``tr`` with ``p`` costs: the distance from where ``tr`` was
        heading (body heights) plus the colour distance; or, for a track lost a while, a
        re-identification by colours. A weak detection (``p.weak``) only re-identifies a
        lost person (:meth:`_lost`)."""
        cfg = self.cfg
        colour = _colour_distance(p.colour, tr.colour)
        if colour > cfg.max_colour_distance:
            return np.inf
        reid = np.inf
        if self._reidentifiable(tr, t) and colour <= cfg.reid_colour_distance:
            reid = cfg.reid_cost + cfg.colour_weight * colour
        if p.weak:
            return reid if self._lost(tr, t) else np.inf
        cost = np.inf
        if t - tr.last_t <= cfg.max_gap_frames:
            cost = tr.heights_from(p.hips, t) + cfg.colour_weight * colour
        return float(min(cost, reid))

    def _assign(self, proposals: list[_Person], tracks: list[_Track], t: int) -> None:
        """Hungarian matching of detected proposals to tracks on position and colour."""
        from scipy.optimize import linear_sum_assignment

        if not proposals or not tracks:
            return
        cost = np.array([[self._cost(p, tr, t) for tr in tracks] for p in proposals])
        allowed = cost <= self.cfg.match_cost
        # forbidden pairs cost more than any set of allowed ones: never traded for a good pair
        rows, cols = linear_sum_assignment(np.where(allowed, cost, 1e6))
        for i, j in zip(rows, cols):
            if allowed[i, j]:
                proposals[i].track = tracks[j]

    def _update(self, tr: _Track, p: _Person, t: int) -> None:
        if tr.last_t >= 0:
            tr.velocity = 0.5 * tr.velocity + 0.5 * (p.hips - tr.hips) / max(t - tr.last_t, 1)
        tr.hips, tr.height, tr.last_t, tr.last = p.hips, p.box[3] - p.box[1], t, p.estimate
        tr.mask = p.mask
        tr.areas.append(int(np.count_nonzero(p.mask)))
        tr.part_colour = p.colour
        if not p.edge_only:  # a sliver's colours are not the person's
            tr.colour = 0.8 * tr.colour + 0.2 * p.colour
        if p.detected:
            tr.detector_scores.append(p.detector_score)
        tr.coasting = 0 if p.detected else tr.coasting + 1
        tr.frames[t] = _frame_record(p)

    def _label_image(self, people: list[_Person]) -> np.ndarray:
        """(H, W) uint8: each pixel to one person (index into self.tracks + 1), front one
        first: the person whose box reaches lowest in the frame stands nearest."""
        labels = np.zeros((self.height, self.width), np.uint8)
        for p in sorted(people, key=lambda p: p.box[3]):  # back to front: nearer people paint over
            labels[p.mask] = self.tracks.index(p.track) + 1
        return labels

    # ------------------------------------------------------------------------------ end

    def _real(self, tr: _Track) -> bool:
        """A track of a person, not of a passing likeness: seen long enough, confirmed by
        the detector often enough, and with confidence."""
        cfg = self.cfg
        return (len(tr.frames) >= cfg.min_track_frames and len(tr.detector_scores) >= cfg.min_confirmed_frames
                and float(np.percentile(tr.detector_scores, 75)) >= cfg.min_track_score)  # fmt: skip

    def finish(self) -> tuple[list[TrackResult], np.ndarray]:
        """Tracks seen in at least ``min_track_frames`` frames, and the (T, H, W) labels
        (0 background, k + 1 the k-th kept track)."""
        T = self.t
        kept = [tr for tr in self.tracks if self._real(tr)]
        remap = np.zeros(len(self.tracks) + 1, np.uint8)
        results = []
        for k, tr in enumerate(kept):
            remap[self.tracks.index(tr) + 1] = k + 1
            res = TrackResult(track_id=k + 1, present=np.zeros(T, bool), kpts2d_px=np.zeros((T, NUM_LANDMARKS, 2)),
                              kpts_conf=np.zeros((T, NUM_LANDMARKS)), boxes_xyxy_px=np.zeros((T, 4)),
                              kpts3d_m=np.zeros((T, NUM_LANDMARKS, 3)))  # fmt: skip
            for t, (kpts, conf, box, world) in tr.frames.items():
                res.present[t], res.kpts2d_px[t], res.kpts_conf[t], res.boxes_xyxy_px[t] = True, kpts, conf, box
                res.kpts3d_m[t] = world
            results.append(res)
        labels = remap[np.stack(self.labels)] if T else np.zeros((0, self.height, self.width), np.uint8)
        log.info("tracking: %d tracks over %d frames, %d kept", len(self.tracks), T, len(kept))
        return results, labels


def track_people(frames: Iterable[np.ndarray], width: int, height: int, detect: Detect,
                 landmarker: PoseLandmarker, cfg: TrackingConfig | None = None,
                 progress: Callable[[int], None] | None = None) -> tuple[list[TrackResult], np.ndarray]:  # fmt: skip
    """Run a :class:`Tracker` over ``frames`` (RGB (H, W, 3) uint8, in order)."""
    tracker = Tracker(width, height, detect, landmarker, cfg)
    for rgb in frames:
        tracker.step(rgb)
        if progress:
            progress(tracker.t)
    return tracker.finish()
