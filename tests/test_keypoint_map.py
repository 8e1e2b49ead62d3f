"""The map from the fitting body (anny low-poly) to mediapipe's 33 landmarks, against
the landmarks' definition on the full mesh."""

from __future__ import annotations

import numpy as np
import pytest

from reshoot.bodymodel import model_id
from reshoot.keypoints import MEDIAPIPE33
from reshoot.stages.bodies.keypoint_map import _posed, full_mesh_landmarks, load_keypoint_map, sample_bodies


def test_the_shipped_map_is_convex_and_for_the_fitting_body():
    kmap = load_keypoint_map()
    assert kmap.model == model_id("fit") and kmap.weights.shape[0] == len(MEDIAPIPE33)
    surface = kmap.bone < 0
    assert (kmap.weights >= 0).all() and np.allclose(kmap.weights[surface].sum(1), 1.0)
    assert not kmap.weights[~surface].any()
    # joints are bone heads: shoulders, elbows, wrists, hips, knees, ankles
    joints = {MEDIAPIPE33[k] for k in np.flatnonzero(~surface)}
    assert joints == {f"{s}_{j}" for s in ("left", "right") for j in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")}


def test_the_map_puts_the_landmarks_where_the_full_mesh_has_them():
    kmap = load_keypoint_map()
    phenotypes, rotations = sample_bodies(8, seed=1234)  # bodies the fit never saw
    target = full_mesh_landmarks(phenotypes, rotations)
    verts, heads = _posed("fit", phenotypes, rotations)
    err_mm = np.linalg.norm(kmap(verts, heads) - target, axis=-1) * 1000
    assert np.median(err_mm) < 6.0 and err_mm.max() < 25.0
    assert err_mm[:, kmap.bone >= 0].max() < 1e-6  # joints exactly


def test_the_map_is_differentiable_in_torch_and_agrees_with_numpy():
    import torch

    kmap = load_keypoint_map()
    rng = np.random.default_rng(0)
    verts, heads = rng.normal(size=(2, kmap.weights.shape[1], 3)), rng.normal(size=(2, 38, 3))
    v = torch.tensor(verts, requires_grad=True)
    out = kmap(v, torch.tensor(heads))
    assert out.detach().numpy() == pytest.approx(kmap(verts, heads))
    out.sum().backward()
    assert v.grad is not None and v.grad.abs().sum() > 0
