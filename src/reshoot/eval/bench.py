"""``reshoot bench``: every stage that exists, on every shot of a suite, against ground truth.

Suites
======
``quick``     a few tiny synthetic shots (seconds in all): what CI runs
``standard``  every shot type x 1 and 2 people, 5 s at 24 fps, 960x540, fixed seeds
``footage``   every clip in ``../shared/footage`` (no ground truth: people found, speed)

A synthetic shot is generated, then ``reshoot extract`` runs on its video (it is not
handed the ground truth) and its result is scored against the ground truth: perception
(detection recall and precision, id switches, 2D keypoint error, mask IoU), camera,
bodies, and the refine stage against its baselines (init-only, per-frame) run on the
same bodies-stage result (CineTrans Table 1). The bench also checks the metric code on the ground truth against itself
(``gt_self_check`` in the JSON), the generation time, and how often mediapipe's own Pose
finds each fully visible actor (do the actors look human to a real detector?).

Writes ``DIR/results.json`` (one record per shot), ``DIR/results.md`` (tables per shot
type, the refine table, and a summary), ``DIR/contact.jpg`` (four overlay frames of every
shot: what extract found, the refined bodies drawn on) and the shots and runs in ``DIR/shots/NAME/`` (``DIR/runs/`` for
footage).
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


def run_bench(suite: str, out_dir: str | Path, detect: bool = True, progress: Callable[[str], None] | None = None,
              nerf: bool = False, only: list[str] | None = None, lens_known: bool = False) -> list[dict]:  # fmt: skip
    """Run a suite; write ``results.json``, ``results.md`` and ``contact.jpg`` into ``out_dir``; return the records.
    ``nerf``: the refine table gets a row for the NeRF renderer too (minutes a shot);
    ``only``: the shots (clips) of these names alone; ``lens_known``: each synthetic
    shot's true focal length (its first frame's) is given to the camera stage, as lens
    metadata or ``--focal-px`` would give it (what the rest makes of a known lens)."""
    out = Path(out_dir)
    if suite == "footage" and lens_known:
        raise InputError("--lens-known gives the synthetic shots' true focal length; the footage has none to give")
    out.mkdir(parents=True, exist_ok=True)
    if suite == "footage":
        clips = _only(_footage_clips(), [p.stem for p in _footage_clips()], only)
        records = [_bench_footage(p, out / "runs" / p.stem, progress, nerf) for p in clips]
        overlays = [(p.stem, out / "runs" / p.stem / "overlay.mp4") for p in clips]
        contact_sheet([(name, video) for name, video in overlays if video.is_file()], out / "contact.jpg")
    else:
        shots = _only(suite_shots(suite), [s.name for s in suite_shots(suite)], only)
        records = [_bench_synthetic(s, out / "shots" / s.name, detect, progress, nerf, lens_known) for s in shots]
        contact_sheet([(s.name, out / "shots" / s.name / "run" / "overlay.mp4") for s in shots], out / "contact.jpg")
    (out / "results.json").write_text(dumps({"suite": suite, "lens_known": lens_known, "shots": records}))
    (out / "results.md").write_text(markdown(suite, records, lens_known))
    return records


def _only(items: list, names: list[str], only: list[str] | None) -> list:
    """The ``items`` whose name is in ``only`` (all when None); an unknown name is an error."""
    if only is None:
        return items
    unknown = sorted(set(only) - set(names))
    if unknown:
        raise InputError(f"--only {', '.join(unknown)}: not in the suite, whose shots are {', '.join(names)}")
    return [item for item, name in zip(items, names) if name in only]


#: People in each clip of ../shared/footage (its README), for the footage table.
FOOTAGE_PEOPLE = {
    "sam2_bedroom": "2", "sam2_05_default_juggle": "1", "mmhuman3d_single_person_demo": "1",
    "FlowMotion_hike_854x480": "1", "mmaction2_test_video_structuralize": "2, then 3",
}  # fmt: skip


def _footage_clips() -> list[Path]:
    if not FOOTAGE_DIR.is_dir():
        raise InputError(f"the footage suite needs {FOOTAGE_DIR} (../shared/footage beside the checkout); it is absent")
    return sorted(FOOTAGE_DIR.glob("*.mp4"))


def _run_extract(video: Path, run: Path, focal_px: float | None = None) -> tuple[Any, float]:
    """``reshoot extract`` up to the last stage that exists (``focal_px``: the lens given,
    as ``--focal-px``); (the shot, seconds)."""
    from reshoot.pipeline import ExtractConfig, extract

    cfg = ExtractConfig()
    cfg.camera_init.solve.focal_px = focal_px
    t0 = time.perf_counter()
    result = extract(video, run, cfg, force=True, overwrite=True)
    return result.shot, time.perf_counter() - t0


REFINE_KEYS = ("pa", "iou_person", "mpjpe2d_720p", "ate_pct", "rot_err_deg", "wmpjpe_mm", "pampjpe_mm")
REFINE_METHODS = ("init-only", "per-frame", "ours (raster)", "ours (nerf)")
"""the rows of the refine table (seed 001, Table 1): the bodies stage's result, each
frame's camera on its own, and the refine stage with either renderer (nerf: when asked)"""


def _refine_variants(run: Path, refined: Any, gt: Any, render_labels: Any, refined_metrics: dict | None = None,
                     nerf: bool = False) -> dict[str, dict] | None:  # fmt: skip
    """Each method of :data:`REFINE_METHODS` on the shot as the bodies stage left it
    (``RUN/cache/bodies``), scored: against ``gt``, or (footage) against the shot's own
    masks and keypoints; with its seconds. ``refined_metrics``: the refined shot's
    scores, when they are in hand already; ``nerf``: with the NeRF renderer's row."""
    import copy

    from reshoot.eval.evaluate import evaluate
    from reshoot.pipeline import BEFORE_REFINE
    from reshoot.shot import Shot
    from reshoot.stages.refine.stage import RefineConfig, refine

    if "refine" not in refined.meta or not (run / BEFORE_REFINE / "shot.json").is_file():
        return None
    start = Shot.load(run / BEFORE_REFINE)
    t0 = time.perf_counter()
    per_frame = refine(copy.deepcopy(start), RefineConfig(baseline="per-frame"))
    shots = {"init-only": (start, 0.0), "per-frame": (per_frame, time.perf_counter() - t0),
             "ours (raster)": (refined, refined.meta["refine"]["seconds"])}  # fmt: skip
    if nerf:
        with_nerf = refine(copy.deepcopy(start), RefineConfig(renderer="nerf"))
        shots["ours (nerf)"] = (with_nerf, with_nerf.meta["refine"]["seconds"])
    out = {}
    for name, (shot, seconds) in shots.items():
        mine = shot is refined and refined_metrics is not None
        metrics = refined_metrics if mine else evaluate(shot, gt, render_labels=render_labels)
        out[name] = {**{k: metrics.get(k) for k in REFINE_KEYS}, "seconds": seconds}
    out["ours (raster)"]["rounds_kept"] = refined.meta["refine"].get("rounds_kept")
    if nerf:
        out["ours (nerf)"]["nerf_seconds"] = shots["ours (nerf)"][0].meta["refine"].get("nerf_seconds")
    return out


def _stage_seconds(shot: Any) -> dict[str, float]:
    """Wall time of each stage that wrote into ``shot``."""
    return {r.stage: r.seconds for r in shot.provenance if r.seconds is not None}


def _bench_synthetic(spec: BenchShot, out: Path, detect: bool, progress, nerf: bool = False,
                     lens_known: bool = False) -> dict[str, Any]:  # fmt: skip
    from reshoot.eval.detection import detection_report
    from reshoot.eval.evaluate import evaluate
    from reshoot.render.labels import render_labels
    from reshoot.shot import Shot
    from reshoot.stages.decode import decode
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
    self_check = evaluate(gt, gt, render_labels=render_labels)  # the metric code against the generator
    if progress:
        progress(f"{spec.name}: extracting")
    est, extract_s = _run_extract(out / "video.mp4", out / "run", float(gt.lens.fx[0]) if lens_known else None)
    metrics = evaluate(est, gt, render_labels=render_labels)  # the bodies rendered: composition metrics
    record: dict[str, Any] = {
        **asdict(spec), "frames": T, "stages": {"synth": gen_s, "extract": extract_s},
        "synth_s_per_frame": gen_s / T, "synth_phases_s": result.seconds, "extract_ms_per_frame": 1000 * extract_s / T,
        "people_found": len(est.actors), "metrics": {k: v for k, v in metrics.items() if k != "matched_actors"},
        "gt_self_check": {k: v for k, v in self_check.items() if k != "matched_actors"},
        "stage_s": _stage_seconds(est), "camera": est.meta.get("camera_init"), "bodies": est.meta.get("bodies"),
    }  # fmt: skip
    if progress:
        progress(f"{spec.name}: refine baselines")
    record["refine"] = _refine_variants(out / "run", est, gt, render_labels, metrics, nerf)
    if detect:
        if progress:
            progress(f"{spec.name}: mediapipe realism check")
        t0 = time.perf_counter()
        report = detection_report(gt, list(decode(out / "video.mp4").frames()))
        record["stages"]["mediapipe_check"] = time.perf_counter() - t0
        record["detection"] = {**asdict(report), "rate": report.rate}
    return record


def _bench_footage(path: Path, run: Path, progress, nerf: bool = False) -> dict[str, Any]:
    from reshoot.errors import ReshootError
    from reshoot.stages.decode import probe

    if progress:
        progress(f"{path.name}: extracting")
    record: dict[str, Any] = {"name": path.name, "shot_type": "footage", "people_expected": FOOTAGE_PEOPLE.get(path.stem, "?")}
    try:
        shot, extract_s = _run_extract(path, run)
    except ReshootError as exc:  # a clip the stages refuse is a result too: say why
        try:
            w, h = probe(path).display_size
        except ReshootError:
            w = h = None
        return {**record, "frames": None, "width": w, "height": h, "error": str(exc), "tracks_frames": []}
    T = shot.num_frames
    from reshoot.render.labels import render_labels

    if progress:
        progress(f"{path.name}: refine baselines")
    record["refine"] = _refine_variants(run, shot, None, render_labels, nerf=nerf)
    return {**record, "frames": T, "width": shot.video.width, "height": shot.video.height,
            "stages": {"extract": extract_s}, "extract_ms_per_frame": 1000 * extract_s / T,
            "tracks_frames": [int(a.present.sum()) for a in shot.actors], "stage_s": _stage_seconds(shot),
            "camera": shot.meta.get("camera_init"), "bodies": shot.meta.get("bodies")}  # fmt: skip


# ------------------------------------------------------------------------ tables

COLUMNS = (
    ("det_recall_full", "recall (whole body)", "{:.3f}"), ("det_recall", "recall (any part)", "{:.3f}"),
    ("det_precision", "precision", "{:.3f}"), ("id_switches", "id switches", "{:d}"),
    ("kpt2d_err_px", "2D kpt err px", "{:.1f}"), ("mask_iou", "mask IoU", "{:.3f}"),
)  # fmt: skip


CAMERA_COLUMNS = (
    ("ate_pct", "ATE % of path", "{:.3f}"), ("ate_m", "ATE / drift (units)", "{:.4f}"),
    ("rot_err_deg", "rotation err deg", "{:.3f}"), ("focal_err_pct", "focal err %", "{:.2f}"),
)  # fmt: skip

INIT_COLUMNS = (("ate_pct", "ATE % of path", "{:.3f}"), ("rot_err_deg", "rotation err deg", "{:.3f}"))
"""the camera as the camera stage found it (the columns before them: as refine left it)"""


def _init_metric(r: dict, key: str) -> float | None:
    """A metric of the shot as the bodies stage left it, its camera the camera stage's
    (up to the scale and levelling, which these metrics align away): refine's init-only row."""
    return (r.get("refine") or {}).get("init-only", {}).get(key)


BODY_COLUMNS = (
    ("pa", "PA %", "{:.1f}"), ("iou_person", "person IoU", "{:.3f}"),
    ("wmpjpe_mm", "W-MPJPE mm", "{:.0f}"), ("pampjpe_mm", "PA-MPJPE mm", "{:.1f}"),
    ("heading_err_deg", "heading err deg", "{:.1f}"), ("scale_err_pct", "scale err %", "{:+.1f}"),
    ("foot_skate_mm", "foot skate mm/frame", "{:.1f}"),
    ("mpjpe2d_720p", "2D joints px @720p", "{:.1f}"),
)  # fmt: skip
"""heading error: which way each body faces as the camera sees it, against the truth
(median over the frames, ``eval.body.heading_deg``); scale error: the metric camera
path's length against the truth's (moving cameras only)"""

LOWER_IS_BETTER = {"id_switches", "kpt2d_err_px", "ate_pct", "ate_m", "rot_err_deg", "focal_err_pct", "wmpjpe_mm",
                   "pampjpe_mm", "heading_err_deg", "foot_skate_mm", "mpjpe2d_720p", "seconds"}  # fmt: skip


def _body_cells(r: dict) -> list[str]:
    """ground source, ms per person-frame of the bodies stage."""
    bodies = r.get("bodies")
    if not bodies:
        return ["n/a"] * 2
    seconds = r.get("stage_s", {}).get("bodies")
    people = max(len([a for a in bodies["actors"].values() if "size" in a]), 1)
    per = f"{1000 * seconds / (people * r['frames']):.0f}" if seconds is not None and r.get("frames") else "n/a"
    return [bodies["ground"] + ("" if bodies["metric"] else ", scale unresolved"), per]


def _camera_cells(r: dict) -> list[str]:
    """model, focal source, frames solved, seconds per frame of the camera stage."""
    cam = r.get("camera")
    if not cam:
        return ["n/a"] * 4
    seconds = r.get("stage_s", {}).get("camera_init")
    per_frame = f"{seconds / r['frames']:.3f}" if seconds is not None and r.get("frames") else "n/a"
    model = cam["model"] + (", not turning" if cam.get("turns") is False else "")
    model += f", up: {cam['up']['source']}" if cam.get("up") else ""
    return [model, cam["focal_source"] + (", zooms" if cam.get("zooms") else ""),
            f"{cam['registered']}/{cam['frames']}", per_frame]  # fmt: skip


REFINE_COLUMNS = (
    ("pa", "PA %", "{:.2f}"), ("iou_person", "person IoU", "{:.3f}"), ("mpjpe2d_720p", "MPJPE px @720p", "{:.1f}"),
    ("ate_pct", "ATE % of path", "{:.3f}"), ("rot_err_deg", "rotation err deg", "{:.3f}"),
    ("wmpjpe_mm", "W-MPJPE mm", "{:.0f}"), ("seconds", "seconds", "{:.1f}"),
)  # fmt: skip


def _refine_table(records: list[dict]) -> list[str]:
    """Differentiable filming against its baselines (seed 001, Table 1): per shot type the
    medians over its shots of each method, then whether ours beats both on PA, IoU and
    MPJPE."""
    done = [r for r in records if r.get("refine")]
    if not done:
        return []
    head = ["shot type", "method"] + [c[1] for c in REFINE_COLUMNS]
    lines = ["## refine: differentiable filming against its baselines (medians per shot type)", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]  # fmt: skip
    beaten = []
    for shot_type in dict.fromkeys(r["shot_type"] for r in done):
        group = [r["refine"] for r in done if r["shot_type"] == shot_type]
        medians = {}
        for method in [m for m in REFINE_METHODS if any(m in g for g in group)]:
            medians[method] = {}
            for key, _, _ in REFINE_COLUMNS:
                values = [g[method].get(key) for g in group if g.get(method)]
                values = [v for v in values if v is not None and math.isfinite(v)]
                medians[method][key] = float(np.median(values)) if values else None
            cells = [shot_type, method] + [_fmt(medians[method][key], spec) for key, _, spec in REFINE_COLUMNS]
            lines.append("| " + " | ".join(cells) + " |")
        ours = medians["ours (raster)"]

        def better(key: str, other: dict) -> bool:
            a, b = ours[key], other[key]
            return a is not None and b is not None and (a < b if key in LOWER_IS_BETTER else a > b)

        losing = [f"{key} vs {m}" for m in REFINE_METHODS[:2] for key in ("pa", "iou_person", "mpjpe2d_720p")
                  if not better(key, medians[m])]  # fmt: skip
        if losing:
            beaten.append(f"{shot_type} ({', '.join(losing)})")
    lines += ["", "ours beats both baselines on PA, IoU and MPJPE on every shot type" if not beaten else
              "ours does not beat both baselines on: " + "; ".join(beaten), ""]  # fmt: skip
    return lines


def _fmt(value: Any, spec: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return spec.format(value)


def markdown(suite: str, records: list[dict], lens_known: bool = False) -> str:
    """The bench tables: one per shot type, then a summary with medians."""
    lines = [f"# reshoot bench: suite `{suite}`", ""]
    if lens_known:
        lines += ["With the lens known (`--lens-known`): each shot's true focal length given to the camera stage.", ""]
    if suite == "footage":
        lines += ["| clip | frames | working size | people there | tracks found (frames each) | extract ms/frame | "
                  "camera model | focal | frames solved | camera s/frame | bodies: heights m | ground | "
                  "bodies ms/person-frame |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
        for r in records:
            if r.get("error"):
                lines.append(f"| {r['name']} | | {r['width']}x{r['height']} | {r['people_expected']} | "
                             f"refused: {r['error'].replace('|', '/')} | | | | | | | | |")  # fmt: skip
                continue
            tracks = ", ".join(str(n) for n in r["tracks_frames"])
            bodies = r.get("bodies") or {"actors": {}}
            heights = ", ".join(f"{a['stature_m']:.2f}" for a in bodies["actors"].values() if "stature_m" in a) or "n/a"
            lines.append(f"| {r['name']} | {r['frames']} | {r['width']}x{r['height']} | {r['people_expected']} | "
                         f"{len(r['tracks_frames'])} ({tracks}) | {r['extract_ms_per_frame']:.0f} | "
                         + " | ".join(_camera_cells(r)) + f" | {heights} | " + " | ".join(_body_cells(r)) + " |")  # fmt: skip
        lines += _refine_table(records)
        return "\n".join(lines) + "\n"
    head = ["shot", "frames", "people"] + [c[1] for c in COLUMNS] + ["extract ms/frame", "synth s/frame", "mediapipe found"]
    for shot_type in dict.fromkeys(r["shot_type"] for r in records):
        lines += [f"## {shot_type}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in (r for r in records if r["shot_type"] == shot_type):
            det = r.get("detection")
            found = f"{det['found']}/{det['visible']} ({100 * det['rate']:.1f} %)" if det and det["visible"] else "n/a"
            cells = [r["name"], str(r["frames"]), f"{r['people_found']} of {r['people']}"]
            cells += [_fmt(r["metrics"].get(key), spec) for key, _, spec in COLUMNS]
            cells += [f"{r['extract_ms_per_frame']:.0f}", f"{r['synth_s_per_frame']:.3f}", found]
            lines.append("| " + " | ".join(cells) + " |")
        cam_head = (["shot"] + [c[1] for c in CAMERA_COLUMNS] + [f"{c[1]}, camera_init" for c in INIT_COLUMNS]
                    + ["camera model", "focal", "frames solved", "camera s/frame"])  # fmt: skip
        lines += ["", "| " + " | ".join(cam_head) + " |", "|" + "---|" * len(cam_head)]
        for r in (r for r in records if r["shot_type"] == shot_type):
            cells = [r["name"]] + [_fmt(r["metrics"].get(key), spec) for key, _, spec in CAMERA_COLUMNS]
            cells += [_fmt(_init_metric(r, key), spec) for key, _, spec in INIT_COLUMNS] + _camera_cells(r)
            lines.append("| " + " | ".join(cells) + " |")
        body_head = ["shot"] + [c[1] for c in BODY_COLUMNS] + ["ground", "bodies ms/person-frame"]
        lines += ["", "| " + " | ".join(body_head) + " |", "|" + "---|" * len(body_head)]
        for r in (r for r in records if r["shot_type"] == shot_type):
            cells = [r["name"]] + [_fmt(r["metrics"].get(key), spec) for key, _, spec in BODY_COLUMNS] + _body_cells(r)
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines += _refine_table(records)
    lines += ["## summary", "", f"- shots: {len(records)}, frames: {sum(r['frames'] for r in records)}"]
    summary = [(key, name, spec, lambda r, key=key: r["metrics"].get(key)) for key, name, spec in COLUMNS + CAMERA_COLUMNS]
    summary += [(key, f"{name}, camera_init", spec, lambda r, key=key: _init_metric(r, key)) for key, name, spec in INIT_COLUMNS]
    summary += [(key, name, spec, lambda r, key=key: r["metrics"].get(key)) for key, name, spec in BODY_COLUMNS]
    for key, name, spec, get in summary:
        values = [get(r) for r in records]
        values = [v for v in values if v is not None and math.isfinite(v)]
        if values:
            worst = max(values, key=abs) if key == "scale_err_pct" else max(values) if key in LOWER_IS_BETTER else min(values)
            lines.append(f"- {name}: median {_fmt(float(np.median(values)), spec.replace(':d', ':.1f'))}, "
                         f"worst {_fmt(worst, spec)}")  # fmt: skip
    per_frame = [r["extract_ms_per_frame"] for r in records]
    lines.append(f"- extract (all stages and outputs): median {np.median(per_frame):.0f} ms/frame")
    for stage in ("perceive", "camera_init"):
        seconds = [r["stage_s"][stage] / r["frames"] for r in records if stage in r.get("stage_s", {})]
        if seconds:
            lines.append(f"- {stage}: median {1000 * np.median(seconds):.0f} ms/frame (max {1000 * max(seconds):.0f})")
    per_person = [float(c) for r in records if (c := _body_cells(r)[1]) != "n/a"]
    if per_person:
        lines.append(f"- bodies: median {np.median(per_person):.0f} ms/person-frame (max {max(per_person):.0f})")
    synth = [r["synth_s_per_frame"] for r in records]
    lines.append(f"- synthesis: median {np.median(synth):.3f} s/frame (min {min(synth):.3f}, max {max(synth):.3f})")
    visible = sum(r.get("detection", {}).get("visible", 0) for r in records)
    found = sum(r.get("detection", {}).get("found", 0) for r in records)
    if visible:
        lines.append(f"- mediapipe found fully visible actors in {found}/{visible} actor-frames ({100 * found / visible:.1f} %)")
    return "\n".join(lines) + "\n"


def contact_sheet(videos: list[tuple[str, Path]], out_path: Path, per_row: int = 4, thumb_width: int = 320) -> None:
    """A JPEG grid: one row per video (``(caption, path)``), ``per_row`` frames spread over it."""
    import cv2

    from reshoot.stages.decode import decode

    rows = []
    for caption, path in videos:
        frames = decode(path).read()
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
