from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from reshoot.demo import make_ground_truth
from reshoot.shot import InstanceMasks, Shot

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FOOTAGE = SHARED / "footage"


@pytest.fixture(autouse=True)
def _seed_and_threads():
    torch.manual_seed(0)
    np.random.seed(0)


@pytest.fixture
def small_shot() -> Shot:
    """A 12-frame 160x90 arc shot of two stick figures, with instance masks drawn from
    their 2D boxes so that every field of the shot model is populated."""
    shot = make_ground_truth(seconds=0.5, fps=24.0, width=160, height=90)
    labels = np.zeros((shot.num_frames, 90, 160), np.uint8)
    for k, actor in enumerate(shot.actors):
        for t, (x0, y0, x1, y1) in enumerate(actor.observations.boxes_xyxy_px.round().astype(int)):
            labels[t, max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)] = k + 1
    shot.masks = InstanceMasks(labels=labels)
    shot.video.timestamps_s = np.arange(shot.num_frames) / shot.video.fps
    return shot


def footage(name: str) -> Path:
    """Path of a real clip in ../shared/footage, or skip the test when it is absent."""
    path = FOOTAGE / name
    if not path.is_file():
        pytest.skip(f"real footage {path} is absent (../shared/footage is not beside the checkout)")
    return path
