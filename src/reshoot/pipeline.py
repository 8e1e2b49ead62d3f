"""``reshoot extract``: a clip in, a shot folder out, stage by stage.

Stages run in order and each adds to the shot (``RUN/shot``). A stage whose inputs and
settings have not changed since it last ran (its fingerprint: the source file's size
and modification time, the stage settings, the reshoot version) is not run again: a
re-run is instant. ``--force`` runs everything again.

The refine stage replaces the camera path and the bodies that the stages before it
wrote; the shot as the bodies stage left it is kept in ``RUN/cache/bodies``, so that
refine can run again with other settings (or the run can stop before it) without
redoing the others.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from reshoot import __version__
from reshoot.errors import InputError, ShotError
from reshoot.shot import Shot
from reshoot.stages.bodies.stage import BodiesConfig, bodies, camera_init_path
from reshoot.stages.camera.stage import CameraInitConfig, camera_init, plot_path
from reshoot.stages.decode import DecodeConfig, decode
from reshoot.stages.perceive.stage import PerceiveConfig, perceive
from reshoot.stages.refine.stage import RefineConfig, refine

log = logging.getLogger(__name__)

STAGES = ("perceive", "camera_init", "bodies", "refine")
"""the stages that exist, in order (transfer comes next)"""
BEFORE_REFINE = "cache/bodies"
"""where, in the run folder, the shot as the bodies stage left it is kept"""


@dataclass
class ExtractConfig:
    """Settings of every stage of ``reshoot extract``."""

    decode: DecodeConfig = field(default_factory=DecodeConfig)
    perceive: PerceiveConfig = field(default_factory=PerceiveConfig)
    camera_init: CameraInitConfig = field(default_factory=CameraInitConfig)
    bodies: BodiesConfig = field(default_factory=BodiesConfig)
    refine: RefineConfig = field(default_factory=RefineConfig)


def fingerprint(source: Path, settings: dict) -> str:
    """What a stage's result depends on, hashed: the source (path, size, modification
    time; or, for a folder of images, those of every file), the settings, the version."""
    files = sorted(p for p in source.iterdir() if p.is_file()) if source.is_dir() else [source]
    stats = [(str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    blob = json.dumps({"source": stats, "settings": settings, "version": __version__}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _fingerprints(source: Path, cfg: ExtractConfig) -> dict[str, str]:
    """Each stage's fingerprint: its settings and everything before it."""
    settings: dict = {"decode": asdict(cfg.decode)}
    out = {}
    for stage in STAGES:
        settings[stage] = asdict(getattr(cfg, stage))
        out[stage] = fingerprint(source, settings)
    return out


def _previous(shot_dir: Path) -> Shot | None:
    if not (shot_dir / "shot.json").is_file():
        return None
    try:
        return Shot.load(shot_dir)
    except ShotError as exc:  # a broken folder from an interrupted run: redo it
        log.info("ignoring the previous result in %s (%s)", shot_dir, exc)
        return None


def _first_changed(wanted: tuple[str, ...], done: dict[str, str], fps: dict[str, str]) -> int:
    """Index in ``wanted`` of the first stage whose fingerprint differs from the one it ran with."""
    return next((i for i, stage in enumerate(wanted) if done.get(stage) != fps[stage]), len(wanted))


def _drop_bodies(shot: Shot) -> None:
    """Remove the bodies stage's results, the camera path back as the camera stage left it."""
    if "bodies" not in shot.meta:
        return
    if shot.camera is not None:
        shot.camera.T_world_cam, shot.camera.metric = camera_init_path(shot), False
    for actor in shot.actors:
        actor.body, actor.joint_names, actor.joints_world = None, None, None
    shot.meta.pop("bodies")


def extract(source: str | Path, out: str | Path, cfg: ExtractConfig | None = None, stop_after: str = STAGES[-1],
            force: bool = False, overlay: bool = True,
            progress: Callable[[str, int, int], None] | None = None) -> Path:  # fmt: skip
    """Run the stages up to ``stop_after`` on ``source`` (a video file or a folder of
    images); write ``out/shot`` (and ``out/overlay.mp4``, the people drawn on the frames;
    ``out/camera_path.png`` once the camera is solved); return the shot's path.
    ``progress(stage, done, total)`` is called as frames are processed."""
    if stop_after not in STAGES:
        raise InputError(f"--stop-after {stop_after!r}: the stages are {', '.join(STAGES)}")
    cfg = cfg or ExtractConfig()
    source, out = Path(source), Path(out)
    shot_dir = out / "shot"
    if not source.exists():
        raise InputError(f"{source}: no such file or folder")
    wanted = STAGES[: STAGES.index(stop_after) + 1]
    fps = _fingerprints(source, cfg)
    previous = None if force else _previous(shot_dir)
    done = previous.meta.get("fingerprints", {}) if previous is not None else {}
    # the stages to run: from the first whose fingerprint changed
    first = _first_changed(wanted, done, fps)
    unrefined = False
    if "refine" in done and ("refine" not in wanted or first <= STAGES.index("refine")):
        # the previous run refined the camera and bodies, and what comes now needs them
        # as the bodies stage left them: its kept copy, or the stages again from the camera
        kept = _previous(out / BEFORE_REFINE)
        kept_done = kept.meta.get("fingerprints", {}) if kept is not None else {}
        if kept is not None and "refine" not in kept_done:
            previous, done, unrefined = kept, kept_done, True
        else:
            done = {k: v for k, v in done.items() if k == "perceive"}
        first = _first_changed(wanted, done, fps)
    if first == len(wanted) and not unrefined:
        log.info("%s: unchanged since the last run, reusing %s", ", ".join(wanted), shot_dir)
        return shot_dir
    footage = decode(source, cfg.decode)
    total = footage.num_frames
    shot = previous if first > 0 else None
    for stage in wanted[first:]:
        report = (lambda n, stage=stage: progress(stage, n, total)) if progress else None
        if stage == "perceive":
            shot = perceive(footage, cfg.perceive, progress=report)
            info = footage.info
            shot.meta["decode"] = {  # the way back to the source: its size, pixels, turn, and the segment taken
                "source_size": list(footage.source_size), "scale_xy": list(footage.scale_xy),
                "source_pixel_aspect": info.pixel_aspect, "source_quarter_turns": info.quarter_turns,
                "mirrored": info.mirror, "first_frame": footage.first_frame, "start_s": footage.start_s,
                "cut_frames": list(footage.cut_frames),
            }  # fmt: skip
        elif stage == "camera_init":
            _drop_bodies(shot)  # they stood in the old camera's world
            shot.meta.pop("refine", None)
            shot = camera_init(shot, footage, cfg.camera_init)
        elif stage == "bodies":
            shot = bodies(shot, cfg.bodies)
        elif stage == "refine":
            shot.save(out / BEFORE_REFINE)
            shot = refine(shot, cfg.refine)
        before = STAGES[: STAGES.index(stage)]
        kept = {k: v for k, v in shot.meta.get("fingerprints", {}).items() if k in before}
        shot.meta["fingerprints"] = {**kept, stage: fps[stage]}
    # results of later stages computed from older inputs are stale: drop them
    later = STAGES[STAGES.index(stop_after) + 1 :]
    if "bodies" in later:
        _drop_bodies(shot)
    if "camera_init" in later:
        shot.camera, shot.lens = None, None
        shot.meta.pop("camera_init", None)
    shot.save(shot_dir)
    if shot.camera is not None:
        plot_path(shot, out / "camera_path.png")
    else:
        (out / "camera_path.png").unlink(missing_ok=True)
    if overlay:  # the people (and their bodies) drawn: redrawn as they changed
        from reshoot.render.overlay import write_overlay_video

        write_overlay_video(shot, footage.frames(), out / "overlay.mp4")
    return shot_dir
