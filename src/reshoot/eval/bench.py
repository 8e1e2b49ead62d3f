"""``reshoot bench``: every stage that exists, on every shot of a suite, against ground truth.

Suites
======
``quick``     a few tiny synthetic shots (seconds in all): what CI runs
``standard``  every shot type x 1 and 2 people, 5 s at 24 fps, 960x540, fixed seeds
``footage``   every clip in ``../shared/footage`` (no ground truth: composition only)

No extraction stage exists yet, so a synthetic shot's "estimate" is its ground truth:
the metrics check the generator and the metric code against each other (PA 100 %,
ATE 0 ...), the bench reports generation time, and mediapipe's detection rate of the
actors (does a real detector take them for people?). Each later stage adds its rows.

Writes ``DIR/results.json`` (one record per shot), ``DIR/results.md`` (a table per shot
type, and a summary), ``DIR/contact.jpg`` (four frames of every synthetic shot) and the
shots themselves in ``DIR/shots/NAME/``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reshoot._json import dumps
from reshoot.errors import InputError

log = logging.getLogger(__name__)

SUITES = ("quick", "standard", "footage")
FOOTAGE_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "footage"


@dataclass
class BenchShot:
    name: str
    shot_type: str
    people: int
    seconds: float
    fps: float
    width: int
    height: int
    seed: int


def suite_shots(suite: str) -> list[BenchShot]:
    """The synthetic shots of a suite, in a fixed order with fixed seeds."""
    from reshoot.synth import SHOT_TYPES

    if suite == "quick":
        specs = [("static", 1), ("arc", 2), ("dolly-zoom", 1)]
        return [BenchShot(f"{st}-{p}p", st, p, 1.0, 12.0, 480, 270, 100 + i) for i, (st, p) in enumerate(specs)]
    if suite == "standard":
        return [BenchShot(f"{st}-{p}p", st, p, 5.0, 24.0, 960, 540, 10 * i + p)
                for i, st in enumerate(SHOT_TYPES) for p in (1, 2)]  # fmt: skip
    raise InputError(f"unknown suite {suite!r}; expected one of {', '.join(SUITES)}")


def run_bench(suite: str, out_dir: str | Path, detect: bool = True, progress: Callable[[str], None] | None = None) -> list[dict]:
    """Run a suite; write ``results.json`` and ``results.md`` into ``out_dir``; return the records."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if suite == "footage":
        records = [_bench_footage(p, progress) for p in _footage_clips()]
    else:
        shots = suite_shots(suite)
        records = [_bench_synthetic(s, out / "shots" / s.name, detect, progress) for s in shots]
        contact_sheet([(s.name, out / "shots" / s.name / "video.mp4") for s in shots], out / "contact.jpg")
    (out / "results.json").write_text(dumps({"suite": suite, "shots": records}))
    (out / "results.md").write_text(markdown(suite, records))
    return records


def _footage_clips() -> list[Path]:
    if not FOOTAGE_DIR.is_dir():
        raise InputError(f"the footage suite needs {FOOTAGE_DIR} (../shared/footage beside the checkout); it is absent")
    return sorted(FOOTAGE_DIR.glob("*.mp4"))


def _bench_synthetic(spec: BenchShot, out: Path, detect: bool, progress) -> dict[str, Any]:
    from reshoot.eval.detection import decode_rgb, detection_report
    from reshoot.eval.evaluate import evaluate
    from reshoot.render.labels import render_labels
    from reshoot.shot import Shot
    from reshoot.synth.generate import SynthConfig, generate

    if progress:
        progress(f"{spec.name}: generating")
    cfg = SynthConfig(shot_type=spec.shot_type, people=spec.people, seconds=spec.seconds, fps=spec.fps,
                      width=spec.width, height=spec.height, seed=spec.seed)  # fmt: skip
    t0 = time.perf_counter()
    result = generate(cfg, out)
    gen_s = time.perf_counter() - t0
    T = result.shot.num_frames
    gt = Shot.load(out / "gt")
    t0 = time.perf_counter()
    metrics = evaluate(gt, gt, render_labels=render_labels)
    eval_s = time.perf_counter() - t0
    record: dict[str, Any] = {**asdict(spec), "frames": T, "stages": {"synth": gen_s, "eval": eval_s},
                              "synth_s_per_frame": gen_s / T, "synth_phases_s": result.seconds,
                              "metrics": {k: v for k, v in metrics.items() if k != "matched_actors"}}  # fmt: skip
    if detect:
        if progress:
            progress(f"{spec.name}: mediapipe detection")
        t0 = time.perf_counter()
        report = detection_report(gt, decode_rgb(str(out / "video.mp4")))
        record["stages"]["detect"] = time.perf_counter() - t0
        record["detection"] = {**asdict(report), "rate": report.rate}
    return record


def _bench_footage(path: Path, progress) -> dict[str, Any]:
    from reshoot.eval.detection import decode_rgb

    if progress:
        progress(f"{path.name}: decoding")
    t0 = time.perf_counter()
    frames = decode_rgb(str(path))
    decode_s = time.perf_counter() - t0
    H, W = frames[0].shape[:2] if frames else (0, 0)
    return {"name": path.name, "shot_type": "footage", "frames": len(frames), "width": W, "height": H,
            "stages": {"decode": decode_s}, "metrics": {},
            "note": "no extraction stage yet: composition metrics need bodies and masks"}  # fmt: skip


# ------------------------------------------------------------------------ tables

COLUMNS = (
    ("pa", "PA %", "{:.1f}"), ("iou_person", "IoU", "{:.3f}"), ("mpjpe2d_720p", "2D err px@720p", "{:.2f}"),
    ("ate_pct", "ATE % path", "{:.2f}"), ("rot_err_deg", "rot deg", "{:.2f}"), ("focal_err_pct", "focal %", "{:.2f}"),
    ("wmpjpe_mm", "W-MPJPE mm", "{:.1f}"),
)  # fmt: skip


def _fmt(value: Any, spec: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return spec.format(value)


def markdown(suite: str, records: list[dict]) -> str:
    """The bench tables: one per shot type, then a summary with medians."""
    lines = [f"# reshoot bench: suite `{suite}`", ""]
    if suite == "footage":
        lines += ["| clip | frames | size | decode s | note |", "|---|---|---|---|---|"]
        lines += [f"| {r['name']} | {r['frames']} | {r['width']}x{r['height']} | {r['stages']['decode']:.2f} | {r['note']} |"
                  for r in records]  # fmt: skip
        return "\n".join(lines) + "\n"
    head = ["shot", "frames", "size"] + [c[1] for c in COLUMNS] + ["synth s/frame", "mediapipe found"]
    for shot_type in dict.fromkeys(r["shot_type"] for r in records):
        lines += [f"## {shot_type}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in (r for r in records if r["shot_type"] == shot_type):
            det = r.get("detection")
            found = f"{det['found']}/{det['visible']} ({100 * det['rate']:.1f} %)" if det and det["visible"] else "n/a"
            cells = [r["name"], str(r["frames"]), f"{r['width']}x{r['height']}"]
            cells += [_fmt(r["metrics"].get(key), spec) for key, _, spec in COLUMNS]
            cells += [f"{r['synth_s_per_frame']:.3f}", found]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    per_frame = [r["synth_s_per_frame"] for r in records]
    visible = sum(r.get("detection", {}).get("visible", 0) for r in records)
    found = sum(r.get("detection", {}).get("found", 0) for r in records)
    lines += ["## summary", "", f"- shots: {len(records)}, frames: {sum(r['frames'] for r in records)}",
              f"- synthesis: median {np.median(per_frame):.3f} s/frame "
              f"(min {min(per_frame):.3f}, max {max(per_frame):.3f})"]  # fmt: skip
    if visible:
        lines.append(f"- mediapipe found fully visible actors in {found}/{visible} actor-frames ({100 * found / visible:.1f} %)")
    return "\n".join(lines) + "\n"


def contact_sheet(videos: list[tuple[str, Path]], out_path: Path, per_row: int = 4, thumb_width: int = 320) -> None:
    """A JPEG grid: one row per video (``(caption, path)``), ``per_row`` frames spread over it."""
    import cv2

    from reshoot.eval.detection import decode_rgb

    rows = []
    for caption, path in videos:
        frames = decode_rgb(str(path))
        picks = np.linspace(0, len(frames) - 1, per_row).round().astype(int)
        thumbs = []
        for i in picks:
            h, w = frames[i].shape[:2]
            thumb = cv2.resize(frames[i], (thumb_width, round(h * thumb_width / w)), interpolation=cv2.INTER_AREA)
            thumbs.append(cv2.cvtColor(thumb, cv2.COLOR_RGB2BGR))
        row = np.hstack(thumbs)
        cv2.putText(row, caption, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(row, caption, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1, cv2.LINE_AA)
        rows.append(row)
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows]
    cv2.imwrite(str(out_path), np.vstack(rows), [cv2.IMWRITE_JPEG_QUALITY, 85])
