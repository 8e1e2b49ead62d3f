"""Fit mediapipe's 33 landmarks on the fitting body once, and write the map that ships
in the package (src/reshoot/data/mediapipe33_anny_fit.npz). About a minute on 2 cores.

    .venv/bin/python scripts/fit_keypoint_map.py
"""

import time

from reshoot.stages.bodies.keypoint_map import MAP_PATH, fit_keypoint_map, save_keypoint_map

start = time.perf_counter()
kmap = fit_keypoint_map()
save_keypoint_map(kmap)
print(f"wrote {MAP_PATH} for {kmap.model} in {time.perf_counter() - start:.0f} s; held-out error (mm): "
      + ", ".join(f"{k} {v:.1f}" for k, v in kmap.error_mm.items()))
