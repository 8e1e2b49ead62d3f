"""``reshoot extract`` end to end on a small synthetic shot: the run folder's outputs
exist, load and match the ground truth; re-runs, --from-stage, interruptions, another
clip's run and a full disk."""

from __future__ import annotations

import errno
import json
import shutil

import numpy as np
import pytest
from gltf_check import assert_valid

from reshoot.cli import STAGE_NAMES, main
from reshoot.pipeline import OUTPUTS, STAGES
from reshoot.shot import Shot
from reshoot.stages.bodies.stage import camera_init_path
from reshoot.synth.generate import SynthConfig, generate


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """An arc around two people, 1.5 s at 12 fps, 640x360, with its ground truth."""
    out = tmp_path_factory.mktemp("clip")
    generate(SynthConfig(shot_type="arc", people=2, seconds=1.5, fps=12.0, width=640, height=360, seed=0), out)
    return out


@pytest.fixture(scope="module")
def run(clip, tmp_path_factory):
    """``reshoot extract`` of the clip, all stages, with what it printed."""
    out = tmp_path_factory.mktemp("run")
    assert main(["extract", str(clip / "video.mp4"), "--out", str(out)]) == 0
    return out


def test_the_run_folder_holds_every_output_and_they_match_the_truth(clip, run):
    import imageio.v3 as iio
    import pygltflib

    from reshoot.eval.evaluate import evaluate

    est, gt = Shot.load(run / "shot"), Shot.load(clip / "gt")
    assert est.stages == ["perceive", "camera_init", "bodies", "refine"]
    # the scene: valid glTF, the camera animated over every frame, one skinned actor each
    assert_valid(run / "scene.glb")
    scene = pygltflib.GLTF2().load(str(run / "scene.glb"))
    assert len(scene.cameras) == 1 and len(scene.skins) == len(est.actors) == 2
    times = [a for a in scene.accessors if a.min is not None and len(a.min) == 1]
    assert max(a.max[0] for a in times) == pytest.approx((est.num_frames - 1) / est.video.fps, abs=1e-4)
    # the overlay: every frame, at the working size; the trajectory: a picture
    frames = iio.imread(run / "overlay.mp4", plugin="pyav")
    assert frames.shape == (est.num_frames, 360, 640, 3)
    assert iio.imread(run / "trajectory.png").ndim == 3
    # the report: every stage timed, the fit to the footage measured
    report = json.loads((run / "report.json").read_text())
    assert [s["stage"] for s in report["stages"]] == est.stages and all(s["seconds"] > 0 for s in report["stages"])
    assert report["peak_memory_mb"] > 100 and len(report["people"]) == 2
    assert report["composition"]["pa"] > 98 and report["composition"]["iou_person"] > 0.75  # measured 99.0, 0.83
    assert "## Stages" in (run / "report.md").read_text()
    assert json.loads((run / "config.json").read_text())["source"] == str((clip / "video.mp4").resolve())
    assert "refine: done" in (run / "log.txt").read_text()
    assert STAGE_NAMES == STAGES  # the command line names the stages without importing them
    # and the shot against the ground truth
    from reshoot.render.labels import render_labels

    m = evaluate(est, gt, render_labels=render_labels)  # measured: IoU 0.81, 6.0 px, 0.35 %, 0.31 deg, 0.16 %, 111 mm
    assert m["pa"] > 98 and m["iou_person"] > 0.75 and m["mpjpe2d_720p"] < 8  # the paper's 8 px at 720p
    assert m["ate_pct"] < 1.0 and m["rot_err_deg"] < 0.6 and m["focal_err_pct"] < 1.0 and m["wmpjpe_mm"] < 200


def test_a_rerun_is_instant_and_from_stage_runs_that_stage_again(clip, run, tmp_path, capsys):
    out = tmp_path / "run"
    shutil.copytree(run, out)
    video = str(clip / "video.mp4")
    made = [out / "shot" / "shot.json", out / "config.json"] + [out / name for name in OUTPUTS]
    stamps = [p.stat().st_mtime_ns for p in made]
    assert main(["extract", video, "--out", str(out)]) == 0
    assert "(perceive, camera_init, bodies, refine reused)" in capsys.readouterr().out
    assert [p.stat().st_mtime_ns for p in made] == stamps  # nothing made again
    before = Shot.load(out / "shot").provenance
    assert main(["extract", video, "--out", str(out), "--from-stage", "refine"]) == 0
    assert "(perceive, camera_init, bodies reused)" in capsys.readouterr().out
    after = Shot.load(out / "shot").provenance
    assert [r.stage for r in after] == [r.stage for r in before]
    assert [r.finished_at for r in after[:3]] == [r.finished_at for r in before[:3]]
    assert (out / "overlay.mp4").stat().st_mtime_ns != stamps[2 + OUTPUTS.index("overlay.mp4")]  # the outputs follow


def test_an_interrupted_run_goes_on_from_the_last_finished_stage(clip, tmp_path, monkeypatch, capsys):
    import reshoot.pipeline

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    video, out = str(clip / "video.mp4"), str(tmp_path / "run")
    monkeypatch.setattr(reshoot.pipeline, "bodies", interrupted)
    assert main(["extract", video, "--out", out, "--stop-after", "bodies"]) == 130
    assert "run the same command again" in capsys.readouterr().err
    kept = Shot.load(tmp_path / "run" / "shot")
    assert kept.stages == ["perceive", "camera_init"]
    monkeypatch.undo()
    assert main(["extract", video, "--out", out, "--stop-after", "bodies"]) == 0
    assert "(perceive, camera_init reused)" in capsys.readouterr().out
    shot = Shot.load(tmp_path / "run" / "shot")
    assert shot.stages == ["perceive", "camera_init", "bodies"]
    assert [r.finished_at for r in shot.provenance[:2]] == [r.finished_at for r in kept.provenance]
    assert "interrupted during bodies" in (tmp_path / "run" / "log.txt").read_text()


def test_another_clips_run_is_replaced_only_when_asked(clip, tmp_path, capsys):
    other = tmp_path / "other.mp4"
    shutil.copy(clip / "video.mp4", other)
    out = str(tmp_path / "run")
    assert main(["extract", str(clip / "video.mp4"), "--out", out, "--stop-after", "perceive"]) == 0
    capsys.readouterr()
    assert main(["extract", str(other), "--out", out, "--stop-after", "perceive"]) == 1
    err = capsys.readouterr().err
    assert "holds the run of another clip" in err and "--overwrite" in err and err.count("\n") == 1
    assert main(["extract", str(other), "--out", out, "--stop-after", "perceive", "--overwrite"]) == 0
    assert Shot.load(tmp_path / "run" / "shot").video.source == str(other)
    # a folder holding something else is never taken, --overwrite or not
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("keep me")
    assert main(["extract", str(other), "--out", str(tmp_path / "mine"), "--overwrite"]) == 1
    assert "holds no reshoot run" in capsys.readouterr().err
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "keep me"


def test_a_full_disk_leaves_the_run_as_it_was(clip, run, tmp_path, monkeypatch, capsys):
    import reshoot.render.overlay

    out = tmp_path / "run"
    shutil.copytree(run, out)
    overlay = (out / "overlay.mp4").read_bytes()

    def disk_full(shot, frames, path, *args, **kwargs):
        with open(path, "wb") as fh:
            fh.write(b"\x00" * 1000)
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(reshoot.render.overlay, "write_overlay_video", disk_full)
    (out / "report.json").unlink()  # the outputs must be made again
    assert main(["extract", str(clip / "video.mp4"), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and err.count("\n") == 1
    assert (out / "overlay.mp4").read_bytes() == overlay
    assert Shot.load(out / "shot").stages[-1] == "refine"
    assert not [p for p in out.iterdir() if ".tmp" in p.name]


def test_stopping_earlier_than_the_last_run_drops_what_came_after(run, clip, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(run, out)
    assert main(["extract", str(clip / "video.mp4"), "--out", str(out), "--stop-after", "camera_init"]) == 0
    shot = Shot.load(out / "shot")
    assert shot.stages == ["perceive", "camera_init"] and all(a.body is None for a in shot.actors)
    assert set(shot.meta["fingerprints"]) == {"perceive", "camera_init"} and "refine" not in shot.meta
    kept = Shot.load(out / "cache" / "bodies")  # the camera as the camera stage left it
    assert np.array_equal(shot.camera.T_world_cam, camera_init_path(kept))
