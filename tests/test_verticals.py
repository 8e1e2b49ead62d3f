"""Up from the background's vertical edges: a locked-off camera's tilt and roll."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from reshoot.geometry import look_at
from reshoot.render.raster import Rasterizer
from reshoot.stages.camera.verticals import edges, up_from_frames, vertical_up
from reshoot.synth.scene import build_set

W, H, F = 640, 360, 533.0


@pytest.fixture(scope="module")
def view():
    """The synthetic courtyard from a camera tilted 7 degrees down and rolled 3 degrees;
    (rgb, T_world_cam)."""
    film_set = build_set(np.random.default_rng(2))
    eye = np.array([0.0, -5.0, 1.6])
    pitch, roll = np.radians(-7.0), np.radians(3.0)
    fwd = np.array([0.0, np.cos(pitch), np.sin(pitch)])
    side = np.array([1.0, 0.0, 0.0])
    up = np.cos(roll) * np.cross(side, fwd) + np.sin(roll) * side  # image up turned about the view axis
    T_world_cam = look_at(torch.from_numpy(eye), torch.from_numpy(eye + fwd), torch.from_numpy(up)).numpy()
    K = np.array([[F, 0, W / 2], [0, F, H / 2], [0, 0, 1.0]])
    with Rasterizer(W, H) as raster:
        out = raster.render(film_set.meshes, T_world_cam, K, background=film_set.sky_rgb,
                            key_light_world=film_set.key_light_world, fill_light_world=film_set.fill_light_world)  # fmt: skip
    return out.rgb, T_world_cam


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1, 1))))


@pytest.mark.parametrize("focal_off", [1.0, 1.15])
def test_a_tilted_rolled_camera_gets_its_up_from_the_vertical_edges(view, focal_off):
    """The up found points at the true vertical vanishing point within 0.5 degrees: with
    the true focal length it is the true up; with one 15 % off (an assumed focal length)
    it is that point's direction through the wrong lens (the tilt's tangent scaled)."""
    rgb, T_world_cam = view
    truth = T_world_cam[:3, :3].T @ [0.0, 0.0, 1.0]  # world up in camera axes
    assert _angle_deg(truth, [0.0, -1.0, 0.0]) > 7.0  # the camera's own up is far off
    K_true = np.array([[F, 0, W / 2], [0, F, H / 2], [0, 0, 1.0]])
    K = np.array([[F * focal_off, 0, W / 2], [0, F * focal_off, H / 2], [0, 0, 1.0]])
    expected = np.linalg.inv(K) @ K_true @ truth  # through the vanishing point K_true @ truth
    found = up_from_frames([rgb], [None], K[None], np.eye(3)[None], prior_up=np.array([0.0, -1.0, 0.0]))
    assert found is not None and found.edges >= 20
    assert _angle_deg(found.up, expected) < 0.5


def test_rotations_carry_the_edges_into_one_frame(view):
    """The same view with the camera given turned by R: the up comes out turned by R."""
    rgb, T_world_cam = view
    K = np.array([[[F, 0, W / 2], [0, F, H / 2], [0, 0, 1.0]]])
    R = look_at(torch.zeros(3, dtype=torch.float64), torch.tensor([1.0, 0.2, 0.1], dtype=torch.float64),
                torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64)).numpy()[:3, :3]  # fmt: skip
    plain = up_from_frames([rgb], [None], K, np.eye(3)[None], prior_up=np.array([0.0, -1.0, 0.0]))
    turned = up_from_frames([rgb], [None], K, R[None], prior_up=R @ [0.0, -1.0, 0.0])
    assert _angle_deg(turned.up, R @ plain.up) < 1e-6


def test_no_edges_or_edges_in_one_place_give_no_up(view):
    rgb, _ = view
    K = np.array([[[F, 0, W / 2], [0, F, H / 2], [0, 0, 1.0]]])
    prior = np.array([0.0, -1.0, 0.0])
    blank = np.full_like(rgb, 128)
    assert up_from_frames([blank], [None], K, np.eye(3)[None], prior) is None
    # everything a person: no background edge is left
    person = np.ones(rgb.shape[:2], np.uint8)
    assert len(edges(rgb, person)) == 0
    assert up_from_frames([rgb], [person], K, np.eye(3)[None], prior) is None
    # one vertical edge seen many times: its plane holds many directions, none is found
    planes = np.tile([[1.0, 0.0, 0.0]], (40, 1)) + np.random.default_rng(0).normal(0, 1e-4, (40, 3))
    assert vertical_up(planes / np.linalg.norm(planes, axis=1, keepdims=True), np.full(40, 50.0), prior) is None
