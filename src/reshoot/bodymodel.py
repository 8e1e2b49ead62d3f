"""Adapter for the anny body model (Apache-2.0, MakeHuman CC0 assets).

The only module that imports :mod:`anny`. Models are built lazily and memoised; the
first construction of a rig family builds a cache (about 100 s), which ``make`` does
once at install time (``scripts/warm_caches.py``) into ``$ANNY_CACHE_DIR``.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING

from reshoot.errors import ReshootError

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

#: The anny configurations reshoot uses, by role.
#: ``fit``: low-poly mesh (369 vertices) and a light rig (38 bones) for fitting and
#: differentiable rendering; ``render``: the full mesh (13718 vertices) for pictures.
VARIANTS: dict[str, dict[str, str]] = {
    "fit": dict(rig="anny-notoes-nohands", topology="notoes_collapse3pc", skinning_method="lbs"),
    "render": dict(rig="anny-notoes-nohands", topology="anny", skinning_method="lbs"),
}


@functools.lru_cache(maxsize=None)
def load_anny(variant: str = "fit", dtype_name: str = "float32") -> "torch.nn.Module":
    """Return the memoised anny model for ``variant`` (a key of :data:`VARIANTS`)."""
    if variant not in VARIANTS:
        raise ReshootError(f"unknown anny variant {variant!r}; expected one of {sorted(VARIANTS)}")
    import torch

    try:
        import anny
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ReshootError(f"the anny body model is not installed ({exc}); run `make install`") from exc
    log.info("building anny model %s %s", variant, VARIANTS[variant])
    model = anny.Anny(**VARIANTS[variant])
    return model.to(getattr(torch, dtype_name))
