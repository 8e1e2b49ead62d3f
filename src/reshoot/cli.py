"""The ``reshoot`` command line: wires stages, shows progress, turns known errors (bad
input, a full disk) into one clear line (exit 1). Anything unexpected is a bug: it
prints the traceback, keeps it in a log file and exits 2.

Heavy modules are imported inside the commands, so ``reshoot --help`` stays instant.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from reshoot import __version__
from reshoot._json import dumps
from reshoot.errors import ReshootError

log = logging.getLogger("reshoot")

STAGE_NAMES = ("perceive", "camera_init", "bodies", "refine")
"""pipeline.STAGES, without importing the stages here"""

UNITS = {
    "pa": "%", "iou_person": "", "miou": "", "mpjpe2d_px": "px", "mpjpe2d_720p": "px @720p",
    "ate_pct": "% of path", "ate_m": "m", "rot_err_deg": "deg", "rpe_trans_m": "m/frame",
    "rpe_rot_deg": "deg/frame", "scale": "", "focal_err_pct": "%", "scale_err_pct": "%", "wmpjpe_mm": "mm",
    "pampjpe_mm": "mm", "heading_err_deg": "deg", "foot_skate_mm": "mm/frame", "det_recall": "", "det_recall_full": "", "det_precision": "", "id_switches": "", "kpt2d_err_px": "px",
    "mask_iou": "",
}  # fmt: skip


# ----------------------------------------------------------------------------- commands


def cmd_info(args: argparse.Namespace) -> int:
    from reshoot.shot import Shot

    summary = Shot.load(args.shot).summary()
    if args.json:
        print(dumps(summary))
        return 0
    s = summary
    print(f"shot      {args.shot}")
    print(f"video     {s['frames']} frames, {s['fps']:g} fps ({s['duration_s']:.2f} s), {s['width']}x{s['height']}"
          + (f", pixel aspect {s['pixel_aspect']:g}" if s["pixel_aspect"] != 1 else ""))
    if s["source"]:
        print(f"source    {s['source']}")
    if s["focal_px"] is not None:
        f0, f1 = s["focal_px"]
        print(f"lens      focal {f0:.1f} px" + (f" .. {f1:.1f} px (zooms)" if s["zooms"] else ""))
    if s["camera_path_m"] is not None:
        unit = "m" if s["camera_metric"] else "units (scale not resolved)"
        print(f"camera    path length {s['camera_path_m']:.3f} {unit}")
    print(f"people    {s['people']}" + (" (with instance masks)" if s["has_masks"] else ""))
    for a in s["actors"]:
        parts = [f"present in {a['frames_present']} frames"]
        parts += [p for p, on in (("2D observations", a["observations"]), ("body", a["body"])) if on]
        if a["joints"]:
            parts.append(f"{a['joints']} world joints")
        print(f"  actor {a['track_id']}: " + ", ".join(parts))
    print(f"stages    {', '.join(s['stages']) or '(none)'}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from reshoot.eval.evaluate import evaluate
    from reshoot.shot import Shot

    est = Shot.load(args.shot)
    gt = Shot.load(args.gt) if args.gt else None
    renderer = None
    if any(a.body is not None for a in est.actors):
        from reshoot.render.labels import render_labels as renderer
    metrics = evaluate(est, gt, render_labels=renderer)
    if args.json:
        print(dumps(metrics))
        return 0
    print(f"{args.shot} against {args.gt or 'its own observations'}")
    for key, unit in UNITS.items():
        value = metrics.get(key)
        text = "n/a" if value is None else f"{value:.4g}"
        print(f"  {key:<14} {text:>10} {unit}")
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    from reshoot.synth.generate import SynthConfig, generate

    width, height = _parse_size(args.size)
    cfg = SynthConfig(shot_type=args.shot_type, people=args.people, seconds=args.seconds, fps=args.fps, width=width,
                      height=height, seed=args.seed, child=args.child, handheld_deg=args.handheld,
                      frames=args.frames)  # fmt: skip
    result = generate(cfg, args.out)
    s = result.shot
    took = sum(result.seconds.values())
    print(f"wrote {args.out}/video.mp4 and {args.out}/gt/ ({s.num_frames} frames, {cfg.width}x{cfg.height}, "
          f"{took:.1f} s, {took / s.num_frames:.3f} s/frame)")  # fmt: skip
    for actor, synth in zip(s.actors, result.actors):
        actions = ", ".join(seg.action + (f" turning {seg.turn_deg:+.0f} deg" if seg.turn_deg else "") for seg in synth.script)
        print(f"  actor {actor.track_id}: {actor.label}; {actions}")
    return 0


def _parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ReshootError(f"--size must look like 960x540, received {text!r}") from None
    return w, h


def cmd_bench(args: argparse.Namespace) -> int:
    from reshoot.eval.bench import run_bench

    only = args.only.split(",") if args.only else None
    records = run_bench(args.suite, args.out, detect=not args.no_detect, progress=lambda m: print(m, file=sys.stderr),
                        nerf=args.nerf, only=only, lens_known=args.lens_known)  # fmt: skip
    print((Path(args.out) / "results.md").read_text())
    print(f"{len(records)} shots; wrote {args.out}/results.json and {args.out}/results.md")
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from reshoot.pipeline import ExtractConfig, extract

    cfg = ExtractConfig()
    cfg.decode.shot, cfg.decode.max_side_px, cfg.decode.allow_damaged = args.shot, args.max_side, args.allow_damaged
    cfg.camera_init.solve.model, cfg.camera_init.solve.focal_px = args.camera_model, args.focal_px
    cfg.camera_init.solve.zoom = args.zoom
    cfg.refine.baseline, cfg.refine.renderer = args.baseline, args.renderer
    bars: dict[str, tqdm] = {}
    units = {"perceive": "frame", "camera_init": "frame", "bodies": "person", "refine": "step"}

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in bars:
            for bar in bars.values():  # one bar at a time: the stage before is done
                bar.close()
            bars[stage] = tqdm(total=total, desc=f"{stage:<11}", unit=units[stage], file=sys.stderr, leave=False,
                               bar_format="{desc} {percentage:3.0f}%|{bar:24}| {n_fmt}/{total_fmt} {unit}s "
                               "[{elapsed} elapsed, {remaining} left]")  # fmt: skip
        bars[stage].update(done - bars[stage].n)

    started = time.perf_counter()
    try:
        run = extract(args.video, args.out, cfg, stop_after=args.stop_after, from_stage=args.from_stage, force=args.force,
                      overwrite=args.overwrite, progress=progress)  # fmt: skip
    except KeyboardInterrupt:
        print(f"reshoot: interrupted; the finished stages are kept in {args.out}: run the same command again to go on",
              file=sys.stderr)  # fmt: skip
        return 130
    finally:
        for bar in bars.values():
            bar.close()
    _print_run(args, run, time.perf_counter() - started)
    return 0


def _print_run(args: argparse.Namespace, run, took: float) -> None:
    """What ``reshoot extract`` found and made, from its report."""
    import numpy as np

    shot, report, out = run.shot, run.report, Path(args.out)
    reused = [s["stage"] for s in report["stages"] if s["stage"] in STAGE_NAMES and s["stage"] not in run.ran]
    people = f"{len(shot.actors)} {'person' if len(shot.actors) == 1 else 'people'}"
    print(f"{args.video}: {shot.num_frames} frames, {people}, {took:.1f} s"
          + (f" ({', '.join(reused)} reused)" if reused else ""))  # fmt: skip
    if run.seconds:
        print("  seconds: " + ", ".join(f"{stage} {v:.1f}" for stage, v in run.seconds.items())
              + f"; outputs {report['seconds']['outputs']:.1f}; peak memory {report['peak_memory_mb']:.0f} MB")  # fmt: skip
    if shot.camera is not None:
        meta = shot.meta.get("camera_init", {})
        print(f"  camera: {meta.get('model')} shot, focal {np.median(shot.lens.fx):.0f} px ({meta.get('focal_source')}"
              f"{', zooms' if shot.lens.zooms else ''}), {meta.get('registered')}/{meta.get('frames')} frames solved, "
              f"background reprojection {meta.get('reprojection_px') or float('nan'):.2f} px")  # fmt: skip
    if "bodies" in shot.meta:
        meta = shot.meta["bodies"]
        scale = f"metric, {meta['scale']:.3g} m per camera unit" if meta["metric"] else "scale unresolved"
        print(f"  world: ground from {meta['ground']}, {scale}")
    for person in report["people"]:
        line = f"  person {person['track_id']}: in {person['frames_present']} frames"
        if person["body"]:
            line += (f", body {person['stature_m']:.2f} m tall, fitted on {person['frames_seen']} frames, keypoints "
                     f"{person['keypoint_reprojection_px']:.1f} px")  # fmt: skip
        print(line)
    if "refine" in shot.meta:
        print("  " + _refine_line(shot.meta["refine"]))
    comp = report.get("composition")
    if comp is not None:
        print(f"  fit to the footage: PA {comp['pa']:.2f} %, person IoU {comp['iou_person']:.3f}, "
              f"2D joints {comp['mpjpe2d_px']:.1f} px")  # fmt: skip
    for warning in report.get("warnings", []):
        print(f"  warning: {warning}")
    print(f"wrote {out}/: " + ", ".join(["shot/", *report["outputs"]]))


def _refine_line(meta: dict) -> str:
    """What the refine stage did, in one line."""
    if meta["baseline"] == "init-only":
        return "refine: init-only baseline (camera and bodies as the bodies stage left them)"
    if "start" not in meta:
        return "refine: " + "; ".join(meta["notes"])
    rounds = f", {meta['rounds_kept']} of {len(meta['rounds'])} rounds kept" if meta["baseline"] == "none" else ""
    start, end = meta["start"], meta["end"]
    if meta["baseline"] != "none":
        method = f"{meta['baseline']} baseline"
    else:
        method = f"ours, the NeRF trained {len(meta['nerf_seconds'])} times" if meta.get("nerf_seconds") else "ours"
    return (f"refine ({method}): composition loss "
            f"{start['composition']:.4f} -> {end['composition']:.4f}, keypoints {start['joints']:.3f} -> "
            f"{end['joints']:.3f}{rounds}, {meta['seconds']:.1f} s")  # fmt: skip


def cmd_demo(args: argparse.Namespace) -> int:
    from reshoot.demo import run_demo

    run_demo(Path(args.out))
    return 0


# ------------------------------------------------------------------------------- wiring


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reshoot",
        description="Cinematic behaviour transfer: a shot's camera, lens and every actor's 3D motion, "
        "extracted, refined by differentiable filming, and re-applied.",
    )
    parser.add_argument("--version", action="version", version=f"reshoot {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("info", help="summarise a saved shot", description="Print a summary of a shot folder.")
    p.add_argument("shot", help="shot folder (with shot.json)")
    p.add_argument("--json", action="store_true", help="one JSON object instead of text")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser(
        "eval",
        help="metrics of a shot, against ground truth or its own observations",
        description="Composition (PA, IoU, 2D joint error), camera (ATE, RPE, rotation, focal) and body "
        "(W-MPJPE, PA-MPJPE) metrics. Without --gt, the composition metrics compare the shot's bodies "
        "with its own observations. A metric the shots cannot support is null, never made up.",
    )
    p.add_argument("shot", help="the estimated shot folder")
    p.add_argument("--gt", help="ground-truth shot folder (e.g. from `reshoot synth`)")
    p.add_argument("--json", action="store_true", help="one JSON object instead of text")
    p.set_defaults(func=cmd_eval)

    from reshoot.synth import SHOT_TYPES

    p = sub.add_parser(
        "synth",
        help="render a synthetic film shot with exact ground truth",
        description="Render a shot of anny actors in a textured set along a camera path of the chosen type: "
        "OUT/video.mp4 and OUT/gt/ (a shot folder: cameras, lens, bodies, world joints, instance masks, "
        "33 mediapipe-style 2D keypoints). The same seed gives the same shot.",
    )
    p.add_argument("--shot-type", default="arc", choices=SHOT_TYPES, help="camera behaviour (default: arc)")
    p.add_argument("--people", type=int, default=1, help="actors, 1 to 3 (default: 1)")
    p.add_argument("--child", action="store_true", help="the last actor is a child of about eight")
    p.add_argument("--seconds", type=float, default=5.0, help="duration (default: 5)")
    p.add_argument("--fps", type=float, default=24.0, help="frame rate (default: 24)")
    p.add_argument("--size", default="960x540", help="WxH in pixels (default: 960x540)")
    p.add_argument("--seed", type=int, default=0, help="seed of everything random (default: 0)")
    p.add_argument("--handheld", type=float, default=0.0, metavar="DEG", help="handheld wobble amplitude, degrees (default: 0)")
    p.add_argument("--frames", action="store_true", help="also write lossless PNG frames to OUT/frames/")
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser(
        "bench",
        help="run the benchmark suite and write its tables",
        description="Run every existing stage on every shot of a suite and write OUT/results.json and "
        "OUT/results.md (a table per shot type). Suites: quick (tiny shots, for CI), standard (every shot "
        "type x 1 and 2 people, 5 s, 24 fps, 960x540), footage (the clips in ../shared/footage).",
    )
    p.add_argument("--suite", default="quick", choices=("quick", "standard", "footage"))
    p.add_argument("--out", default="bench-out", help="output folder (default: bench-out)")
    p.add_argument("--no-detect", action="store_true", help="skip the mediapipe detection check")
    p.add_argument("--nerf", action="store_true",
                   help="also refine with the NeRF renderer, a row of the refine table (minutes a shot)")
    p.add_argument("--only", metavar="NAMES", help="these shots (or clips) of the suite alone, comma-separated, "
                   "e.g. arc-1p,static-2p")  # fmt: skip
    p.add_argument("--lens-known", action="store_true",
                   help="give each synthetic shot's true focal length to the camera stage, as lens metadata "
                   "would: what the bodies and the scale make of a known lens")  # fmt: skip
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser(
        "extract",
        help="extract a shot's people, camera path and lens, and bodies from a video, refined by differentiable filming",
        description="Decode a video (or a folder of images), check it is one shot, and run the stages: "
        "perceive (every person: persistent id, 33 2D keypoints, box, instance mask), camera_init (the camera path "
        "and focal length from the background, people masked out), bodies (every person as an anny body, in one "
        "world with the camera, scale from the ground they stand on), refine (differentiable filming: the camera path "
        "whose rendering of the bodies matches the people's masks and keypoints, then the bodies again with it). "
        "Writes the run folder OUT: shot/ (the shot), scene.glb (the camera and every actor, animated, for Blender "
        "and other 3D tools), overlay.mp4 (the footage with the bodies drawn on), trajectory.png (the camera and the "
        "people from above and the side), report.json and report.md (times, fit to the footage, warnings), "
        "config.json and log.txt. A stage whose input, settings and code are unchanged is not run again; an "
        "interrupted run goes on from the last finished stage.",
    )
    p.add_argument("video", help="video file or folder of images")
    p.add_argument("--out", required=True, help="run folder")
    p.add_argument("--stop-after", default=STAGE_NAMES[-1], choices=STAGE_NAMES, help="last stage to run")
    p.add_argument("--from-stage", default=None, choices=STAGE_NAMES,
                   help="run this stage and the ones after it again, even if unchanged")
    p.add_argument("--camera-model", default="auto", choices=("auto", "static", "rotation", "general"),
                   help="camera motion model: auto (detected), static (locked-off), rotation (pan/tilt), general")
    p.add_argument("--focal-px", type=float, default=None, metavar="PX",
                   help="the lens's focal length in pixels at the working resolution, when known")
    p.add_argument("--zoom", default="auto", choices=("auto", "fixed", "per-frame"),
                   help="whether the focal length changes: auto (a zoom the background's motion shows, or a dolly zoom "
                   "the actors show), fixed (never), per-frame (a focal length per frame, from the background)")  # fmt: skip
    p.add_argument("--baseline", default="none", choices=("none", "init-only", "per-frame"),
                   help="refine as a baseline instead: init-only (the camera and bodies as the bodies stage left them) or "
                   "per-frame (each frame's camera on its own, composition loss only)")  # fmt: skip
    p.add_argument("--renderer", default="raster", choices=("raster", "nerf"),
                   help="what refine's camera step renders the actors with: raster (their meshes, the default) or nerf (a "
                   "dynamic NeRF trained on them, the paper's renderer: slower, see the README)")  # fmt: skip
    p.add_argument("--shot", type=int, default=None, metavar="N",
                   help="for a clip with cuts: which shot to take (0 is the first)")  # fmt: skip
    p.add_argument("--max-side", type=int, default=1920, metavar="PX",
                   help="working resolution: longer frame side, larger frames are shrunk (default: 1920)")  # fmt: skip
    p.add_argument("--allow-damaged", action="store_true", help="use what decodes from a damaged or truncated file")
    p.add_argument("--force", action="store_true", help="run every stage again, even if unchanged")
    p.add_argument("--overwrite", action="store_true", help="replace the run of another clip that OUT holds")
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("demo", help="run the main job on a default input the project makes itself")
    p.add_argument("--out", default="runs/demo", help="output folder (default: runs/demo)")
    p.set_defaults(func=cmd_demo)
    return parser


class _Stderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record comes (tests and tools replace it)."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


_STDERR = _Stderr()
_STDERR.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))


def _setup_logging(verbosity: int) -> None:
    """reshoot's log on stderr at the level asked (warnings by default). The handler has
    the level, not only the logger: a run may lower the logger's level to keep its own
    log file (see pipeline.extract) without flooding the terminal."""
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    _STDERR.setLevel(level)
    logger = logging.getLogger("reshoot")
    logger.setLevel(level)
    if _STDERR not in logger.handlers:
        logger.addHandler(_STDERR)


#: Errors of the machine, not of reshoot: one line, exit 1, like a bad input.
MACHINE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    try:
        return args.func(args)
    except ReshootError as exc:
        print(f"reshoot: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("reshoot: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        if exc.errno not in MACHINE_ERRNOS:
            return _bug()
        print(f"reshoot: error: {exc}", file=sys.stderr)
        return 1
    except Exception:
        return _bug()


def _bug() -> int:
    """Print the traceback of the exception being handled, keep it in a log file; exit code 2."""
    text = traceback.format_exc()
    fd, path = tempfile.mkstemp(prefix=f"reshoot-{time.strftime('%Y%m%d-%H%M%S')}-", suffix=".log")
    with os.fdopen(fd, "w") as fh:
        fh.write(f"reshoot {__version__}\nargv: {sys.argv}\n\n{text}")
    print(text, file=sys.stderr)
    print(f"reshoot: internal error (a bug, please report it); traceback saved to {path}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
