"""The perceive stage: every person in a decoded shot, with a persistent id, 33 2D
keypoints with confidence, a box, and an instance mask (each pixel one person or none).

Detector (``detector.py``: mediapipe's bundled person detector over the frame and
tiles) -> landmark model per person (``landmarks.py``) -> tracks (``tracking.py``) ->
each track's legs labelled the same way round over time (``legs.py``).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from reshoot.errors import InputError
from reshoot.shot import Actor, ActorObservations, InstanceMasks, Shot
from reshoot.stages.decode import Footage
from reshoot.stages.perceive.detector import DetectorConfig, PersonDetection, PoseDetector
from reshoot.stages.perceive.landmarks import PoseLandmarker
from reshoot.stages.perceive.legs import relabel_legs
from reshoot.stages.perceive.tracking import Region, TrackingConfig, track_people

log = logging.getLogger(__name__)


WEAK_SCORE = 0.6
"""the tracker takes detections this weak to find again someone it lost (``DetectorConfig.weak_score``)"""


@dataclass
class PerceiveConfig:
    """How people are found and followed."""

    detector: DetectorConfig = field(default_factory=lambda: DetectorConfig(weak_score=WEAK_SCORE))
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    tile_every: tuple[int, ...] = (6, 12)
    """look for people with each level of tiles (``detector.tile_fractions``: medium and
    small, distant people; 10 and 32 passes of the detector on a 16:9 frame) every this
    many frames, one entry per level, and over the whole frame only (one pass) between:
    tracks follow their landmarks meanwhile (the detector also looks where each one is
    heading), and a newcomer is found within this many frames. On the standard suite's
    renders the finest level every 12 frames instead of 6 found the same people to the
    digit on the two-person shots (detections, id switches, masks) and 2D keypoints within
    0.25 px on the one-person ones, with a third fewer passes (9-25 ms a frame faster);
    both levels every 12 lost precision and mask IoU where two people cross (track-2p,
    arc-2p)"""
    landmark_threads: int = 2
    """interpreter threads of the landmark model: 7.3 ms a call with 2 on 2 idle cores,
    14 ms with 1 (a one-person shot 4-6 ms a frame faster, a two-person one about 20)"""
    mirror_landmarks: bool = True
    """read each person's landmarks from their crop's mirror image too and average the two
    (``landmarks`` module docstring: 3-4 mm nearer the truth in 3D, 0.3-0.5 px in 2D, a
    second pass of the model)"""

    def check(self) -> None:
        """Raise :class:`InputError` on a value that cannot work."""
        self.detector.check()
        levels = len(self.detector.tile_fractions)
        if len(self.tile_every) != levels:
            raise InputError(f"PerceiveConfig.tile_every needs one entry per tile level ({levels}: "
                             f"{self.detector.tile_fractions}), received {self.tile_every}")  # fmt: skip
        most = self.tracking.max_coast_frames
        if any(not 1 <= every <= most for every in self.tile_every):
            raise InputError(f"PerceiveConfig.tile_every entries must be 1 to max_coast_frames ({most}), "
                             f"received {self.tile_every}")  # fmt: skip
        if self.landmark_threads < 1:
            raise InputError(f"PerceiveConfig.landmark_threads must be >= 1, received {self.landmark_threads}")


def scheduled_detector(cfg: PerceiveConfig) -> Callable[[np.ndarray, Sequence[Region]], list[PersonDetection]]:
    """The detector the tracker calls once per frame: over the whole frame, and over each
    level of tiles every ``cfg.tile_every``-th call for that level (the first call
    included)."""
    cfg.check()
    detector = PoseDetector(cfg.detector)
    schedule = tuple(zip(cfg.detector.tile_fractions, cfg.tile_every, strict=True))
    calls = itertools.count()

    def detect(rgb: np.ndarray, regions: Sequence[Region]) -> list[PersonDetection]:
        call = next(calls)
        return detector.detect(rgb, regions, tile_fractions=[f for f, every in schedule if call % every == 0])

    return detect


def perceive(footage: Footage, cfg: PerceiveConfig | None = None,
             progress: Callable[[int, int], None] | None = None) -> Shot:  # fmt: skip
    """A new shot holding ``footage``'s video record, one actor per kept track (with
    ``mediapipe33`` observations) and the instance masks. Raises :class:`InputError`
    when nobody is found in the whole clip. ``progress(done, total)``: frames done."""
    cfg = cfg or PerceiveConfig()
    t0 = time.perf_counter()
    video = footage.video
    tracks, labels = track_people(footage.frames(), video.width, video.height, scheduled_detector(cfg),
                                  PoseLandmarker(cfg.landmark_threads, cfg.mirror_landmarks), cfg.tracking,
                                  progress and (lambda n: progress(n, video.num_frames)))  # fmt: skip
    if not tracks:
        raise InputError(
            f"{video.source}: no person found in any of its {video.num_frames} frames; reshoot extracts the "
            "behaviour of people on screen (a person smaller than about a sixth of the frame height may be missed)"
        )
    actors, swapped = [], {}
    for tr in tracks:
        kpts, conf, kpts3d, swap = relabel_legs(tr.kpts2d_px, tr.kpts_conf, tr.kpts3d_m)
        if swap.any():
            swapped[str(tr.track_id)] = np.flatnonzero(swap).tolist()
        actors.append(Actor(track_id=tr.track_id, present=tr.present,
                            observations=ActorObservations(keypoint_format="mediapipe33", kpts2d_px=kpts,
                                                           kpts_conf=conf, boxes_xyxy_px=tr.boxes_xyxy_px,
                                                           kpts3d_m=kpts3d)))  # fmt: skip
    shot = Shot(video=video, actors=actors, masks=InstanceMasks(labels=labels))
    shot.meta["perceive"] = {"legs_swapped": swapped}
    for track_id, frames in swapped.items():
        log.info("perceive: person %s's legs were labelled the wrong way round in %d frames: swapped back",
                 track_id, len(frames))  # fmt: skip
    seconds = time.perf_counter() - t0
    shot.record("perceive", asdict(cfg), wrote=["actors.observations", "masks"], seconds=seconds)
    log.info("perceive: %d people in %d frames, %.1f s (%.0f ms/frame)", len(actors), video.num_frames, seconds,
             1000 * seconds / max(video.num_frames, 1))  # fmt: skip
    return shot
