"""The reshoot error family.

A :class:`ReshootError` is a *known* failure: bad input, a broken shot folder, a
missing dependency. Its message is one line that says what was received, what was
expected and what to do. The CLI prints it and exits 1; anything else is a bug and
gets a traceback and a log file.
"""

from __future__ import annotations


class ReshootError(Exception):
    """Base class of every error reshoot raises on purpose."""


class ShotError(ReshootError):
    """A shot folder is missing, malformed, or inconsistent."""


class InputError(ReshootError):
    """A user input (a path, an option, a video) cannot be used."""


class ShapeError(ReshootError, ValueError):
    """An array has the wrong shape; the message gives the received and expected shapes."""
