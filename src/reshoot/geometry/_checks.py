"""Shape checks that say what was received and what was expected."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from reshoot.errors import ShapeError


def check_shape(x: torch.Tensor, trailing: Sequence[int], name: str) -> None:
    """Raise :class:`ShapeError` unless ``x.shape`` ends with ``trailing``.

    ``trailing`` may contain ``-1`` for "any size". Leading (batch) dimensions are free.
    """
    if not isinstance(x, torch.Tensor):
        raise ShapeError(f"{name}: expected a torch.Tensor, received {type(x).__name__}")
    n = len(trailing)
    ok = x.ndim >= n and all(e == -1 or s == e for s, e in zip(x.shape[x.ndim - n :], trailing))
    if not ok:
        want = ", ".join("N" if e == -1 else str(e) for e in trailing)
        raise ShapeError(f"{name}: expected shape (..., {want}), received {tuple(x.shape)}")
