"""Named keypoint formats. A keypoint and a body joint with the same name are the same
point, which is how 2D detections and 3D bodies are compared."""

from __future__ import annotations

#: mediapipe Pose's 33 landmarks, in its order (BlazePose topology).
MEDIAPIPE33 = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_pinky", "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)  # fmt: skip

#: Edges drawn between mediapipe landmarks (a subset of BlazePose's, for overlays).
MEDIAPIPE33_EDGES = (
    (11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (11, 23), (12, 24), (23, 24),
    (23, 25), (25, 27), (24, 26), (26, 28), (27, 29), (29, 31), (28, 30), (30, 32), (0, 11), (0, 12),
)  # fmt: skip

FORMATS: dict[str, tuple[str, ...]] = {"mediapipe33": MEDIAPIPE33}


def keypoint_names(fmt: str) -> tuple[str, ...] | None:
    """The names of a keypoint format's points, in order; None for an unknown format."""
    return FORMATS.get(fmt)
