"""JSON output for people and programs: arrays become lists, non-finite floats null."""

from __future__ import annotations

import json
import math
from typing import Any


def _default(o: Any) -> Any:
    if hasattr(o, "tolist"):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _clean(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):  # JSON has no NaN: a value that is not a number is null
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if hasattr(x, "tolist"):
        return _clean(x.tolist())
    return x


def dumps(obj: Any) -> str:
    """Indented JSON of ``obj``; numpy arrays and scalars as lists and numbers, NaN and inf as null."""
    return json.dumps(_clean(obj), indent=2, default=_default)
