"""Where the models reshoot runs come from: the ``.tflite`` files inside the installed
mediapipe 0.10.21 wheel (the last that ships them), found without importing mediapipe
(its import takes about a second and reshoot uses none of its code)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from reshoot.errors import ReshootError


def mediapipe_model(relative: str) -> Path:
    """The model file ``relative`` (e.g. ``pose_detection/pose_detection.tflite``) under
    the installed mediapipe wheel's ``modules`` folder. Raises :class:`ReshootError`
    when mediapipe is not installed or the file is not there."""
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        raise ReshootError("mediapipe is not installed; reshoot needs mediapipe==0.10.21 for its models (`make install`)")
    path = Path(next(iter(spec.submodule_search_locations))) / "modules" / relative
    if not path.is_file():
        raise ReshootError(f"{path} is missing: reshoot needs mediapipe==0.10.21, the last wheel that ships its models")
    return path
