"""The focal length of a camera that moves without turning, from its ground plane against
its vertical edges.

A translating camera does not show its focal length in its background's motion: with the
focal length taken k times too long, the background reconstructs exactly, stretched by k
along the view (camera axes x right, y down, z forward: a pixel's ray K'^-1 p is the true
ray with its z multiplied by k). Two directions in that reconstruction are stretched in
opposite ways:

- the ground plane's normal, fitted to the reconstructed ground points, transforms as a
  plane's normal does (by the inverse transpose, z divided by k): its tilt out of the
  image plane reads tan(phi) / k;
- the vertical edges' vanishing point is a pixel (``verticals``), read through the same
  K': its direction's tilt reads k tan(phi).

Both are the world's up, whose true tilt phi (the camera looking down or up) is unknown,
so k^2 is their ratio of tilts: one equation, the classic calibration from a vanishing
point and the vanishing line of the plane square to it, with the principal point at the
image centre. It needs the camera to look down or up: at a tilt phi, an error of d in
either tilt moves log k by about d / (2 phi) each. The film camera's usual few degrees
suffice (the synthetic suite's 4 degrees: on its eight moving shots with a fixed lens,
the push-ins, pull-outs, tracks and follows, the focal length comes out 0.3 to 4.3 % off,
where the assumed lens is 15 % long); a level camera falls back on the assumed lens.
The estimate and the assumed focal length are combined by their uncertainties
(``TILT_SD_DEG``, ``LENS_PRIOR_SD``), so a weak tilt moves the lens little.

A zooming lens is not estimated here: a dolly zoom's family of solutions (``zoom``) is
not one stretch of the scene, and on the suite's two dolly zooms (the member the actors
pick) the two tilts gave the first frame's focal length 11 % long and 9 % short.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TILT_SD_DEG = 0.25
"""uncertainty of each tilt (the ground's, the vertical edges'). On the synthetic suite's
eight fixed-lens moving shots the ratio of tilts gave k within 2.1 % root-mean-square,
about 0.12 degrees on each tilt; twice that for real lenses (distortion, edges that are
not quite vertical)"""
ROLL_AGREE_DEG = 1.0
"""the stretch leaves the roll alone: a ground whose normal leans sideways from the
vertical edges' up by more than this (four ``TILT_SD_DEG``; 0.2 degrees at most on the
suite) is not level (a slope, a ramp, a wrong plane) and measures nothing"""
LENS_PRIOR_SD = 0.35
"""the assumed lens's uncertainty, in log focal length: one sd spans a 40 to 73 degree
horizontal view about the assumed 55"""


@dataclass
class HorizonFocal:
    focal_px: float
    """the focal length, the measurement and the assumption combined"""
    measured_px: float
    """the focal length the two tilts alone give"""
    sd_log: float
    """the measurement's uncertainty in log focal length"""
    tilt_deg: float
    """the camera's tilt (positive: looking down), geometric mean of the two readings"""


def _roll_deg(up_cam: np.ndarray) -> float:
    """how far ``up_cam`` (camera axes, y down) leans sideways in the image plane"""
    return float(np.degrees(np.arctan2(up_cam[0], -up_cam[1])))


def _tilt(up_cam: np.ndarray) -> float:
    """tan of the tilt of ``up_cam`` (the world's up in camera axes, y down) out of the
    image plane: positive when the camera looks down (up leans towards it)."""
    return float(-up_cam[2] / np.hypot(up_cam[0], up_cam[1]))


def focal_from_horizon(assumed_px: float, ground_up_cam: np.ndarray, vertical_up_cam: np.ndarray) -> HorizonFocal | None:
    """The focal length (pixels) of a camera that moves without turning, from the ground
    plane's normal and the vertical edges' up, both in the camera's axes of a
    reconstruction made with ``assumed_px``. None when the two lean apart sideways
    (``ROLL_AGREE_DEG``: the ground is not level) or their tilts disagree in sign (a level
    camera within their noise, or a wrong ground)."""
    if abs(_roll_deg(ground_up_cam) - _roll_deg(vertical_up_cam)) > ROLL_AGREE_DEG:
        return None
    r_g, r_v = _tilt(ground_up_cam), _tilt(vertical_up_cam)
    if r_g * r_v <= 0:
        return None
    log_k = 0.5 * (np.log(abs(r_v)) - np.log(abs(r_g)))
    sd_tilt = np.radians(TILT_SD_DEG)
    # d log tan(phi) = d phi / (sin phi cos phi)
    sd_log = 0.5 * float(np.hypot(*(sd_tilt * (1 + r * r) / abs(r) for r in (r_g, r_v))))
    measured = np.log(assumed_px) - log_k
    w = LENS_PRIOR_SD**2 / (LENS_PRIOR_SD**2 + sd_log**2)
    combined = w * measured + (1 - w) * np.log(assumed_px)
    tilt = float(np.degrees(np.arctan(np.sign(r_g) * np.sqrt(r_g * r_v))))
    return HorizonFocal(float(np.exp(combined)), float(np.exp(measured)), sd_log, tilt)
