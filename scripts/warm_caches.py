"""Build the anny model caches once, at install time (about 100 s per rig family).

Run by ``make install``; safe to run again (a warm cache makes it take seconds).
"""

import time

from reshoot.bodymodel import VARIANTS, load_anny

for variant in VARIANTS:
    start = time.perf_counter()
    load_anny(variant)
    print(f"anny {variant}: ready in {time.perf_counter() - start:.1f} s")
