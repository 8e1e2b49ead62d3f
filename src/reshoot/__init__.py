"""reshoot: cinematic behaviour transfer.

A film shot goes in; its camera (path and lens) and every actor's 3D body motion come
out, in one metric world, refined by differentiable filming, ready to re-apply.

The core import is light: :mod:`reshoot.shot`, :mod:`reshoot.geometry` and
:mod:`reshoot.eval` need numpy and torch only. Heavy dependencies (anny, OpenCV,
mediapipe, pycolmap, renderers) are imported by the stages that use them.
"""

__version__ = "0.1.0"

from reshoot.errors import ReshootError, ShotError  # noqa: E402

__all__ = ["__version__", "ReshootError", "ShotError"]
