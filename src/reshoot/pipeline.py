"""``reshoot extract``: a clip in, a run folder out, stage by stage.

A run folder holds::

    RUN/
      config.json     the source, the settings of every stage, the reshoot version
      log.txt         what each run did, appended (stages, times, warnings)
      shot/           the shot (see reshoot.shot), saved after every stage
      scene.glb       the camera and every actor, animated (see reshoot.export.gltf)
      overlay.mp4     the footage with the people and their bodies drawn on
      trajectory.png  top and side views of the camera path and the people's paths
      report.json     per-stage times, composition metrics, warnings
      report.md       the same for people
      cache/bodies/   the shot as the bodies stage left it (refine starts from it)

Stages run in order and each adds to the shot. A stage whose fingerprint (the source
file's size and modification time, the settings of the stage and those before it, and a
hash of reshoot's code) is the one it last ran with is not run again, so a re-run is
instant and a changed option re-runs its stage and the ones after it. The shot is saved,
atomically, after every stage: an interrupted run goes on from where it stopped, and a
crash never leaves a half-written shot or output.

The refine stage replaces the camera path and the bodies that the stages before it
wrote; the shot as the bodies stage left it is kept in ``RUN/cache/bodies``, so that
refine can run again with other settings (or the run can stop before it) without
redoing the others.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from reshoot import __version__
from reshoot._files import atomic_path
from reshoot._json import dumps
from reshoot.errors import InputError, ShotError
from reshoot.shot import Shot
from reshoot.stages.bodies.stage import BodiesConfig, bodies, camera_init_path
from reshoot.stages.camera.stage import CameraInitConfig, camera_init, plot_path
from reshoot.stages.decode import DecodeConfig, Footage, decode
from reshoot.stages.perceive.stage import PerceiveConfig, perceive
from reshoot.stages.refine.stage import RefineConfig, refine

log = logging.getLogger(__name__)

STAGES = ("perceive", "camera_init", "bodies", "refine")
"""the stages that exist, in order (transfer comes next)"""
BEFORE_REFINE = "cache/bodies"
"""where, in the run folder, the shot as the bodies stage left it is kept"""
RUN_CONFIG, RUN_LOG = "config.json", "log.txt"
OUTPUTS = ("scene.glb", "overlay.mp4", "trajectory.png", "report.json", "report.md")
"""the files made from the shot once the stages have run"""
_RUN_ENTRIES = ("shot", "cache", RUN_CONFIG, RUN_LOG, *OUTPUTS)
"""everything a run folder may hold: what ``overwrite`` removes"""

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: called as a stage goes on (frames, actors or steps)"""


@dataclass
class ExtractConfig:
    """Settings of every stage of ``reshoot extract``."""

    decode: DecodeConfig = field(default_factory=DecodeConfig)
    perceive: PerceiveConfig = field(default_factory=PerceiveConfig)
    camera_init: CameraInitConfig = field(default_factory=CameraInitConfig)
    bodies: BodiesConfig = field(default_factory=BodiesConfig)
    refine: RefineConfig = field(default_factory=RefineConfig)


@dataclass
class RunResult:
    """What :func:`extract` did."""

    shot_dir: Path
    shot: Shot
    """the shot as saved in ``shot_dir``"""
    ran: list[str]
    """the stages run this time (the others were reused)"""
    seconds: dict[str, float]
    """wall time of each stage run this time, and of ``outputs``"""
    report: dict
    """``RUN/report.json``"""


@functools.cache
def code_version() -> str:
    """A hash of reshoot's source files: a stage's results are reused only by the code that made them."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def fingerprint(source: Path, settings: dict) -> str:
    """What a stage's result depends on, hashed: the source (path, size, modification
    time; or, for a folder of images, those of every file), the settings, the code."""
    files = sorted(p for p in source.iterdir() if p.is_file()) if source.is_dir() else [source]
    stats = [(str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    blob = json.dumps({"source": stats, "settings": settings, "code": code_version()}, sort_keys=True, default=str)
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


# ------------------------------------------------------------------------- the run folder


def _claim(out: Path, source: Path, overwrite: bool) -> None:
    """Make ``out`` this source's run folder: new, empty, or a run of the same source.
    Another clip's run is refused unless ``overwrite`` (then its entries are removed); a
    folder that holds something else is always refused: reshoot deletes only its own."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: a file is there, expected a folder")
    if not out.exists() or not any(out.iterdir()):
        return
    config = out / RUN_CONFIG
    theirs = None
    if config.is_file():
        with contextlib.suppress(ValueError, OSError):
            theirs = json.loads(config.read_text()).get("source")
    elif (out / "shot" / "shot.json").is_file():  # a run from before config.json was kept
        with contextlib.suppress(ValueError, OSError):
            theirs = json.loads((out / "shot" / "shot.json").read_text())["video"]["source"]
    else:
        raise InputError(f"--out {out}: the folder is not empty and holds no reshoot run; choose a new or empty folder")
    if theirs is not None and Path(theirs).resolve() == source.resolve():
        return
    if not overwrite:
        raise InputError(f"--out {out} holds the run of another clip ({theirs}); pass --overwrite to replace it, "
                         "or choose another folder")  # fmt: skip
    log.warning("replacing the run of %s in %s", theirs, out)
    for name in _RUN_ENTRIES:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def _write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


@contextlib.contextmanager
def _run_log(out: Path) -> Iterator[list[str]]:
    """Append reshoot's log (INFO and up) to ``RUN/log.txt`` for the block; yields the
    warnings logged meanwhile."""
    warnings: list[str] = []

    class _Warnings(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            warnings.append(record.getMessage())

    logger = logging.getLogger("reshoot")
    to_file = logging.FileHandler(out / RUN_LOG)
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    to_file.setLevel(logging.INFO)
    caught = _Warnings(logging.WARNING)
    level = logger.level
    logger.setLevel(min(logger.getEffectiveLevel(), logging.INFO))
    logger.addHandler(to_file)
    logger.addHandler(caught)
    try:
        yield warnings
    finally:
        logger.removeHandler(caught)
        logger.removeHandler(to_file)
        to_file.close()
        logger.setLevel(level)


# ------------------------------------------------------------------------------- extract


def extract(source: str | Path, out: str | Path, cfg: ExtractConfig | None = None, stop_after: str = STAGES[-1],
            from_stage: str | None = None, force: bool = False, overwrite: bool = False, outputs: bool = True,
            progress: Progress | None = None) -> RunResult:  # fmt: skip
    """Run the stages up to ``stop_after`` on ``source`` (a video file or a folder of
    images) into the run folder ``out`` (see the module docstring), then make the outputs
    (``outputs=False``: the shot only). ``from_stage`` (or ``force``: all) runs that stage
    and the ones after it even if unchanged; ``overwrite`` lets ``out`` hold another
    clip's run, which is replaced."""
    for name, stage in (("--stop-after", stop_after), ("--from-stage", from_stage)):
        if stage is not None and stage not in STAGES:
            raise InputError(f"{name} {stage!r}: the stages are {', '.join(STAGES)}")
    if from_stage is not None and STAGES.index(from_stage) > STAGES.index(stop_after):
        raise InputError(f"--from-stage {from_stage} comes after --stop-after {stop_after}")
    cfg = cfg or ExtractConfig()
    source, out = Path(source), Path(out)
    if not source.exists():
        raise InputError(f"{source}: no such file or folder")
    _claim(out, source, overwrite)
    out.mkdir(parents=True, exist_ok=True)
    with _run_log(out) as warnings:
        log.info("reshoot %s extract %s (code %s), stages up to %s", __version__, source, code_version(), stop_after)
        config = dumps({"source": str(source.resolve()), "reshoot": __version__, "code": code_version(),
                        "stop_after": stop_after, "config": asdict(cfg)}) + "\n"  # fmt: skip
        if not (out / RUN_CONFIG).is_file() or (out / RUN_CONFIG).read_text() != config:
            _write_text(out / RUN_CONFIG, config)
        shot, footage, ran, seconds = _run_stages(source, out, cfg, stop_after, from_stage, force, progress)
        if not outputs:
            return RunResult(out / "shot", shot, ran, seconds, {})
        report = _outputs(shot, source, out, cfg, footage, ran, seconds, warnings)
        return RunResult(out / "shot", shot, ran, seconds, report)


def _run_stages(source: Path, out: Path, cfg: ExtractConfig, stop_after: str, from_stage: str | None, force: bool,
                progress: Progress | None) -> tuple[Shot, Footage | None, list[str], dict[str, float]]:  # fmt: skip
    """The stages that need to run, run and saved one by one; the shot as they leave it,
    the decoded footage (None when nothing ran), the stages run and their seconds."""
    shot_dir = out / "shot"
    wanted = STAGES[: STAGES.index(stop_after) + 1]
    fps = _fingerprints(source, cfg)
    previous = None if force else _previous(shot_dir)
    done = previous.meta.get("fingerprints", {}) if previous is not None else {}

    def first_to_run() -> int:  # from the first whose fingerprint changed, or from_stage
        first = _first_changed(wanted, done, fps)
        return min(first, wanted.index(from_stage)) if from_stage is not None else first

    first = first_to_run()
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
        first = first_to_run()
    beyond = [stage for stage in done if stage not in wanted]  # results of stages not asked for this time
    if first == len(wanted) and not unrefined and not beyond:
        log.info("%s: unchanged since the last run, reusing %s", ", ".join(wanted), shot_dir)
        return previous, None, [], {}
    footage = decode(source, cfg.decode) if first < len(wanted) else None
    shot = previous if first > 0 else None
    if shot is not None:  # the records of the stages about to run again go
        shot.provenance = [r for r in shot.provenance if r.stage not in wanted[first:]]
    ran, seconds = [], {}
    for stage in wanted[first:]:
        report = (lambda done, total, stage=stage: progress(stage, done, total)) if progress else None
        log.info("%s: running", stage)
        t0 = time.perf_counter()
        try:
            shot = _run_stage(stage, shot, footage, cfg, out, report)
        except KeyboardInterrupt:
            log.warning("interrupted during %s; the stages before it are saved in %s", stage, shot_dir)
            raise
        before = STAGES[: STAGES.index(stage)]
        kept = {k: v for k, v in shot.meta.get("fingerprints", {}).items() if k in before}
        shot.meta["fingerprints"] = {**kept, stage: fps[stage]}
        seconds[stage] = time.perf_counter() - t0
        ran.append(stage)
        if stage != wanted[-1]:  # saved as it goes, so that an interrupted run resumes here
            shot.save(shot_dir)
        log.info("%s: done in %.1f s", stage, seconds[stage])
    # results of later stages computed from older inputs are stale: drop them
    later = STAGES[STAGES.index(stop_after) + 1 :]
    if "bodies" in later:
        _drop_bodies(shot)
    if "camera_init" in later:
        shot.camera, shot.lens = None, None
        shot.meta.pop("camera_init", None)
    shot.provenance = [r for r in shot.provenance if r.stage not in later]
    shot.meta["fingerprints"] = {k: v for k, v in shot.meta.get("fingerprints", {}).items() if k not in later}
    shot.save(shot_dir)
    return shot, footage, ran, seconds


def _run_stage(stage: str, shot: Shot | None, footage: Footage, cfg: ExtractConfig, out: Path,
               progress: Callable[[int, int], None] | None) -> Shot:  # fmt: skip
    if stage == "perceive":
        shot = perceive(footage, cfg.perceive, progress=progress)
        info = footage.info
        shot.meta["decode"] = {  # the way back to the source: its size, pixels, turn, and the segment taken
            "source_size": list(footage.source_size), "scale_xy": list(footage.scale_xy),
            "source_pixel_aspect": info.pixel_aspect, "source_quarter_turns": info.quarter_turns,
            "mirrored": info.mirror, "first_frame": footage.first_frame, "start_s": footage.start_s,
            "cut_frames": list(footage.cut_frames),
        }  # fmt: skip
        return shot
    if stage == "camera_init":
        _drop_bodies(shot)  # they stood in the old camera's world
        shot.meta.pop("refine", None)
        return camera_init(shot, footage, cfg.camera_init, progress=progress)
    if stage == "bodies":
        return bodies(shot, cfg.bodies, progress=progress)
    shot.save(out / BEFORE_REFINE)
    return refine(shot, cfg.refine, progress=progress)


# ------------------------------------------------------------------------------- outputs


def _outputs(shot: Shot, source: Path, out: Path, cfg: ExtractConfig, footage: Footage | None, ran: list[str],
             seconds: dict[str, float], warnings: list[str]) -> dict:  # fmt: skip
    """Make the outputs from the shot, unless they are there already for this very shot."""
    from reshoot.export.gltf import write_gltf
    from reshoot.render.overlay import write_overlay_video
    from reshoot.report import build_report, report_markdown

    made_from = shot.meta.get("fingerprints", {})
    previous = out / "report.json"
    if not ran and previous.is_file():
        with contextlib.suppress(ValueError, OSError):
            report = json.loads(previous.read_text())
            wanted = [name for name in OUTPUTS if name in report.get("outputs", {})]
            if report.get("made_from") == made_from and all((out / name).is_file() for name in wanted):
                log.info("outputs: unchanged, reusing them")
                return report
    t0 = time.perf_counter()
    times: dict[str, float] = {}
    made: dict[str, str] = {}

    @contextlib.contextmanager
    def making(name: str, what: str) -> Iterator[None]:
        t = time.perf_counter()
        yield
        made[name], times[name] = what, time.perf_counter() - t

    if shot.camera is None:  # nothing placed in 3D yet
        for name in ("trajectory.png", "scene.glb"):
            (out / name).unlink(missing_ok=True)
    else:
        with making("trajectory.png", "top and side views of the camera and the people's paths"):
            with atomic_path(out / "trajectory.png") as tmp:
                plot_path(shot, tmp)
        with making("scene.glb", "the camera and every actor, animated (glTF 2.0, Y up, metres)"):
            write_gltf(shot, out / "scene.glb")  # what it cannot carry is logged, so in the warnings
    with making("overlay.mp4", "the footage with the people found and their bodies drawn on"):
        with atomic_path(out / "overlay.mp4") as tmp:
            write_overlay_video(shot, (footage or decode(source, cfg.decode)).frames(), tmp)
    made["report.json"], made["report.md"] = "this report", "this report, for people"
    report = build_report(shot, ran, {**seconds, **{f"output {k}": v for k, v in times.items()}}, made, warnings)
    report["made_from"] = made_from
    report["seconds"]["outputs"] = time.perf_counter() - t0
    _write_text(out / "report.json", dumps(report) + "\n")
    _write_text(out / "report.md", report_markdown(report))
    return report
