"""The perceive stage: every person in a decoded shot, with a persistent id, 33 2D
keypoints with confidence, a box, and an instance mask (each pixel one person or none).

Detector (``detector.py``: mediapipe's bundled person detector over the frame and
tiles) -> landmark model per person (``landmarks.py``) -> tracks (``tracking.py``).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from reshoot.errors import InputError
from reshoot.shot import Actor, ActorObservations, InstanceMasks, Shot
from reshoot.stages.decode import Footage
from reshoot.stages.perceive.detector import DetectorConfig, PersonDetection, PoseDetector
from reshoot.stages.perceive.landmarks import PoseLandmarker
from reshoot.stages.perceive.tracking import Region, TrackingConfig, track_people

log = logging.getLogger(__name__)


WEAK_SCORE = 0.6
"""the tracker takes detections this weak to find again someone it lost (``DetectorConfig.weak_score``)"""


@dataclass
class PerceiveConfig:
    """How people are found and followed."""

    detector: DetectorConfig = field(default_factory=lambda: DetectorConfig(weak_score=WEAK_SCORE))
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    tile_every: int = 6
    """look for people with the tiles (small, distant people; 40-odd passes of the detector)
    every this many frames, and over the whole frame only (one pass) in between: tracks
    follow their landmarks meanwhile, and a newcomer is found within this many frames"""
    landmark_threads: int = 1
    """interpreter threads of the landmark model"""


def alternating_detector(cfg: PerceiveConfig) -> Callable[[np.ndarray, Sequence[Region]], list[PersonDetection]]:
    """The detector the tracker calls once per frame: over the frame and its tiles every
    ``cfg.tile_every``-th call (the first included), over the whole frame only between."""
    if cfg.tile_every < 1 or cfg.tile_every > cfg.tracking.max_coast_frames:
        raise InputError(f"tile_every must be 1 to max_coast_frames ({cfg.tracking.max_coast_frames}), received {cfg.tile_every}")
    tiled = PoseDetector(cfg.detector)
    whole = PoseDetector(replace(cfg.detector, tiles=False))
    calls = itertools.count()

    def detect(rgb: np.ndarray, regions: Sequence[Region]) -> list[PersonDetection]:
        return (tiled if next(calls) % cfg.tile_every == 0 else whole).detect(rgb, regions)

    return detect


def perceive(footage: Footage, cfg: PerceiveConfig | None = None,
             progress: Callable[[int, int], None] | None = None) -> Shot:  # fmt: skip
    """A new shot holding ``footage``'s video record, one actor per kept track (with
    ``mediapipe33`` observations) and the instance masks. Raises :class:`InputError`
    when nobody is found in the whole clip. ``progress(done, total)``: frames done."""
    cfg = cfg or PerceiveConfig()
    cfg.detector.check()
    t0 = time.perf_counter()
    video = footage.video
    tracks, labels = track_people(footage.frames(), video.width, video.height, alternating_detector(cfg),
                                  PoseLandmarker(cfg.landmark_threads), cfg.tracking,
                                  progress and (lambda n: progress(n, video.num_frames)))  # fmt: skip
    if not tracks:
        raise InputError(
            f"{video.source}: no person found in any of its {video.num_frames} frames; reshoot extracts the "
            "behaviour of people on screen (a person smaller than about a sixth of the frame height may be missed)"
        )
    actors = [
        Actor(track_id=tr.track_id, present=tr.present,
              observations=ActorObservations(keypoint_format="mediapipe33", kpts2d_px=tr.kpts2d_px,
                                             kpts_conf=tr.kpts_conf, boxes_xyxy_px=tr.boxes_xyxy_px,
                                             kpts3d_m=tr.kpts3d_m))
        for tr in tracks
    ]  # fmt: skip
    shot = Shot(video=video, actors=actors, masks=InstanceMasks(labels=labels))
    seconds = time.perf_counter() - t0
    shot.record("perceive", asdict(cfg), wrote=["actors.observations", "masks"], seconds=seconds)
    log.info("perceive: %d people in %d frames, %.1f s (%.0f ms/frame)", len(actors), video.num_frames, seconds,
             1000 * seconds / max(video.num_frames, 1))  # fmt: skip
    return shot
