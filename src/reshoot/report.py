"""``RUN/report.json`` and ``RUN/report.md``: what a run of ``reshoot extract`` found, how
long each stage took, how well the bodies fit the footage, and what to be wary of."""

from __future__ import annotations

import resource
from typing import Any

import numpy as np

from reshoot import __version__
from reshoot.shot import Shot

#: The composition metrics of the report (see reshoot.eval.evaluate): the shot's bodies,
#: rendered through its camera, against its own masks and keypoints.
COMPOSITION = {"pa": "pixel accuracy, %", "iou_person": "person IoU", "miou": "mean IoU",
               "mpjpe2d_px": "2D joint error, px", "mpjpe2d_720p": "2D joint error, px at 720p"}  # fmt: skip


def build_report(shot: Shot, ran: list[str], seconds: dict[str, float], outputs: dict[str, str],
                 warnings: list[str]) -> dict[str, Any]:  # fmt: skip
    """The report of a run that left ``shot``: ``ran`` the stages run this time (the others
    were reused), ``seconds`` their wall times and those of the outputs, ``outputs`` the
    files made (name: what it is), ``warnings`` logged along the way."""
    v = shot.video
    stages = []
    for record in shot.provenance:
        stages.append({"stage": record.stage, "ran_now": record.stage in ran,
                       "seconds": seconds.get(record.stage, record.seconds), "finished_at": record.finished_at})  # fmt: skip
    composition = _composition(shot)  # before the peak memory: it renders every frame
    report: dict[str, Any] = {
        "reshoot": __version__,
        "source": v.source,
        "video": {"frames": v.num_frames, "fps": v.fps, "width": v.width, "height": v.height, "duration_s": v.duration_s},
        "stages": stages,
        "seconds": {"stages_run_now": sum(seconds.get(s, 0.0) for s in ran),
                    **{k: v for k, v in seconds.items() if k.startswith("output ")}},  # fmt: skip
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # of the process so far
        "camera": _camera(shot),
        "people": _people(shot),
        "composition": composition,
        "refine": _refine(shot),
        "warnings": list(dict.fromkeys(warnings + _notes(shot))),
        "outputs": outputs,
    }
    return report


UP_SOURCES = {
    "ground": "; up from the ground under the background", "verticals": "; up from the background's vertical edges",
    "pan axis": "; up along the pan's axis", "assumed level": "; up assumed (a level camera)",
}  # fmt: skip
"""how the report says what set the world's up (``meta.camera_init.up.source``)"""


def _camera(shot: Shot) -> dict[str, Any] | None:
    if shot.camera is None or shot.lens is None:
        return None
    meta = shot.meta.get("camera_init", {})
    return {
        "model": meta.get("model"), "turns": meta.get("turns"), "focal_px_median": float(np.median(shot.lens.fx)),
        "focal_px_range": [float(shot.lens.fx.min()), float(shot.lens.fx.max())], "focal_source": meta.get("focal_source"),
        "zooms": bool(shot.lens.zooms), "metric": bool(shot.camera.metric), "path_length": shot.camera.path_length(),
        "frames_solved": meta.get("registered"), "background_reprojection_px": meta.get("reprojection_px"),
        "up": (meta.get("up") or {}).get("source"),
    }  # fmt: skip


def _people(shot: Shot) -> list[dict[str, Any]]:
    placed = shot.meta.get("bodies", {}).get("actors", {})
    people = []
    for actor in shot.actors:
        info = placed.get(str(actor.track_id), {})
        people.append({
            "track_id": actor.track_id, "frames_present": int(actor.present.sum()), "body": actor.body is not None,
            "stature_m": info.get("stature_m"), "frames_seen": info.get("frames_seen"),
            "keypoint_reprojection_px": info.get("reprojection_px"),
        })  # fmt: skip
    return people


def _composition(shot: Shot) -> dict[str, float | None] | None:
    """The bodies against the shot's own masks and keypoints (None before the bodies stage)."""
    if shot.camera is None or not any(a.body is not None for a in shot.actors):
        return None
    from reshoot.eval.evaluate import evaluate
    from reshoot.render.labels import render_labels

    metrics = evaluate(shot, None, render_labels=render_labels)
    return {key: metrics[key] for key in COMPOSITION}


def _refine(shot: Shot) -> dict[str, Any] | None:
    meta = shot.meta.get("refine")
    if meta is None:
        return None
    out = {"baseline": meta["baseline"], "rounds_run": len(meta.get("rounds", [])), "rounds_kept": meta.get("rounds_kept")}
    for when in ("start", "end"):
        if when in meta:
            out[f"loss_{when}"] = {k: meta[when][k] for k in ("composition", "joints", "total")}
    return out


def _notes(shot: Shot) -> list[str]:
    """The notes the stages left in the shot: what a user should know about the result."""
    notes = list(shot.meta.get("camera_init", {}).get("notes", [])[1:])  # the first says what was solved
    bodies = shot.meta.get("bodies", {})
    notes += bodies.get("notes", [])
    for track_id, info in bodies.get("actors", {}).items():
        notes += [f"person {track_id}: {note}" for note in info.get("notes", [])]
    notes += shot.meta.get("refine", {}).get("notes", [])
    return notes


def report_markdown(report: dict[str, Any]) -> str:
    """``report.md``: the report as a page to read."""
    v = report["video"]
    lines = [f"# reshoot extract: {report['source']}", "",
             f"{v['frames']} frames at {v['fps']:g} fps ({v['duration_s']:.2f} s), {v['width']}x{v['height']}, "
             f"{len(report['people'])} people; reshoot {report['reshoot']}.", "",
             "## Stages", "", "| stage | seconds | |", "|---|---:|---|"]  # fmt: skip
    for s in report["stages"]:
        took = "" if s["seconds"] is None else f"{s['seconds']:.1f}"
        lines.append(f"| {s['stage']} | {took} | {'run now' if s['ran_now'] else 'reused from ' + s['finished_at']} |")
    outputs = {k.removeprefix("output "): t for k, t in report["seconds"].items() if k.startswith("output ")}
    lines += ["", f"Outputs made in {sum(outputs.values()):.1f} s ("
              + ", ".join(f"{k} {t:.1f} s" for k, t in outputs.items()) + f"); peak memory {report['peak_memory_mb']:.0f} MB.",
              ""]  # fmt: skip
    cam = report["camera"]
    if cam is not None:
        unit = "m" if cam["metric"] else "units (scale not resolved)"
        f0, f1 = cam["focal_px_range"]
        lens = f"focal {cam['focal_px_median']:.0f} px ({cam['focal_source']})"
        if cam["zooms"]:
            lens += f", zooming {f0:.0f} to {f1:.0f} px"
        held = ", its orientation held (it does not turn)" if cam.get("turns") is False else ""
        up = UP_SOURCES.get(cam.get("up"), "")
        lines += ["## Camera", "", f"{cam['model']} camera{held}, {lens}, path {cam['path_length']:.2f} {unit}{up}.", ""]
    lines += ["## People", "", "| person | frames | body | stature (m) | keypoints (px) |", "|---|---:|---|---:|---:|"]
    for p in report["people"]:
        stature = "" if p["stature_m"] is None else f"{p['stature_m']:.2f}"
        reproj = "" if p["keypoint_reprojection_px"] is None else f"{p['keypoint_reprojection_px']:.1f}"
        lines.append(f"| {p['track_id']} | {p['frames_present']} | {'yes' if p['body'] else 'no'} | {stature} | {reproj} |")
    comp = report["composition"]
    if comp is not None:
        lines += ["", "## Fit to the footage", "", "The bodies rendered through the camera, against the people's masks and "
                  "keypoints as perceived:", "", "| metric | value |", "|---|---:|"]  # fmt: skip
        lines += [f"| {label} | {'n/a' if comp[k] is None else format(comp[k], '.3g')} |" for k, label in COMPOSITION.items()]
    ref = report["refine"]
    if ref is not None and "loss_start" in ref:
        lines += ["", f"Refine ({ref['baseline'] if ref['baseline'] != 'none' else 'differentiable filming'}): loss "
                  f"{ref['loss_start']['total']:.4f} -> {ref['loss_end']['total']:.4f}, "
                  f"{ref['rounds_kept']} of {ref['rounds_run']} rounds kept."]  # fmt: skip
    lines += ["", "## Warnings", ""] + ([f"- {w}" for w in report["warnings"]] or ["none"])
    lines += ["", "## Outputs", ""] + [f"- `{name}`: {what}" for name, what in report["outputs"].items()]
    return "\n".join(lines) + "\n"
