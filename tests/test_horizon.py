"""The focal length of a camera that does not turn, from its ground plane against its
vertical edges (``stages.camera.horizon``): the stretched reconstruction an assumed lens
makes, built from pixels, and what the two tilts in it give back."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from reshoot.stages.camera.horizon import LENS_PRIOR_SD, focal_from_horizon

W, H = 960, 540
F_TRUE, F_ASSUMED = 800.0, 922.0


def _K(f: float) -> np.ndarray:
    return np.array([[f, 0, W / 2], [0, f, H / 2], [0, 0, 1.0]])


def _camera(tilt_deg: float, roll_deg: float = 2.0) -> np.ndarray:
    """World-to-camera rotation (OpenCV axes) of a camera looking along +Y, tilted down
    by ``tilt_deg`` and rolled by ``roll_deg``."""
    level = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])  # world X, -Z, Y as the camera's x, y, z
    turn = Rotation.from_euler("xz", [tilt_deg, roll_deg], degrees=True).as_matrix()
    return turn @ level


def _reconstruction(tilt_deg: float, seed: int = 0, slope_deg: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """The ground plane's normal and the vertical edges' up, in the first camera's axes, as
    a reconstruction through the assumed lens gives them: background points and two
    cameras (a push-in) whose pixels the true lens made, triangulated with the assumed one.
    ``slope_deg``: the ground rises to the right by that much."""
    rng = np.random.default_rng(seed)
    R = _camera(tilt_deg)
    eye = np.array([0.0, -5.0, 1.6])
    x = rng.uniform(-4, 4, 300)
    ground = np.c_[x, rng.uniform(1, 12, 300), x * np.tan(np.radians(slope_deg))]
    cams = [eye, eye + [0, 1.0, 0]]
    K_true, K_assumed = _K(F_TRUE), _K(F_ASSUMED)

    def pixels(X, c):
        x = (X - c) @ R.T @ K_true.T
        return x[:, :2] / x[:, 2:]

    # each point from its two pixels, rays through the assumed lens; the second camera's
    # centre as that lens sees it (the focus of expansion, a pixel, read through it; the
    # baseline's length is arbitrary)
    rays = [np.c_[pixels(ground, c), np.ones(len(ground))] @ np.linalg.inv(K_assumed).T for c in cams]
    baseline = R @ (cams[1] - cams[0])
    c1 = np.linalg.solve(K_assumed, K_true @ baseline)
    pts = []
    for d0, d1 in zip(*rays):
        a, b = np.linalg.lstsq(np.c_[d0, -d1], c1, rcond=None)[0]  # closest approach: its midpoint
        pts.append(0.5 * (a * d0 + b * d1 + c1))
    pts = np.array(pts)
    normal = np.linalg.svd(pts - pts.mean(0))[2][-1]
    normal *= -np.sign(normal[1])  # up: towards the camera's -y
    # the vertical vanishing point, a pixel, read through the assumed lens
    vp = K_true @ (R @ [0, 0, 1.0])
    up = np.linalg.solve(K_assumed, vp)
    up *= -np.sign(up[1])
    return normal, up / np.linalg.norm(up)


def test_the_assumed_lens_reconstructs_the_scene_stretched_along_the_view():
    """Why the background alone cannot tell: the ground comes out flat with either lens,
    tilted less through the longer one, and the verticals' vanishing point more."""
    normal, up = _reconstruction(4.0)
    tilt_ground = np.degrees(np.arctan(-normal[2] / np.hypot(*normal[:2])))
    tilt_edges = np.degrees(np.arctan(-up[2] / np.hypot(*up[:2])))
    k = F_ASSUMED / F_TRUE
    assert np.tan(np.radians(tilt_ground)) == pytest.approx(np.tan(np.radians(4.0)) / k, rel=1e-3)
    assert np.tan(np.radians(tilt_edges)) == pytest.approx(np.tan(np.radians(4.0)) * k, rel=1e-3)


@pytest.mark.parametrize("tilt_deg", [4.0, 10.0, -6.0])
def test_the_two_tilts_give_the_focal_length(tilt_deg):
    normal, up = _reconstruction(tilt_deg)
    found = focal_from_horizon(F_ASSUMED, normal, up)
    assert found is not None
    assert found.measured_px == pytest.approx(F_TRUE, rel=2e-3)
    assert found.tilt_deg == pytest.approx(tilt_deg, abs=0.05)
    # a few degrees of tilt measure the lens far better than the assumption knows it
    assert found.sd_log < LENS_PRIOR_SD / 6
    assert found.focal_px == pytest.approx(F_TRUE, rel=0.02)


def test_a_nearly_level_camera_leans_on_the_assumed_lens():
    normal, up = _reconstruction(0.4)
    found = focal_from_horizon(F_ASSUMED, normal, up)
    assert found is not None and found.measured_px == pytest.approx(F_TRUE, rel=0.01)
    assert found.sd_log > LENS_PRIOR_SD  # 0.4 degrees: the tilts' noise outweighs the lens they show
    # ... so the focal length moves less than half-way (in log) from the assumed one
    assert np.sqrt(F_TRUE * F_ASSUMED) < found.focal_px < F_ASSUMED


def test_a_ground_that_slopes_sideways_gives_nothing():
    assert focal_from_horizon(F_ASSUMED, *_reconstruction(4.0, slope_deg=0.5)) is not None
    assert focal_from_horizon(F_ASSUMED, *_reconstruction(4.0, slope_deg=3.0)) is None


def test_tilts_that_disagree_give_nothing():
    normal, up = _reconstruction(4.0)
    level_up = up.copy()
    level_up[2] = -up[2]  # the edges say the camera looks up, the ground says down
    assert focal_from_horizon(F_ASSUMED, normal, level_up) is None
