"""The command line: help, info, eval, errors as one line with exit code 1, the demo."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from reshoot.cli import main


def test_help_lists_the_commands(capsys):
    try:
        main(["--help"])
    except SystemExit as exc:
        assert exc.code == 0
    out = capsys.readouterr().out
    for cmd in ("info", "eval", "demo"):
        assert cmd in out


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "reshoot", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("reshoot ")


def test_info_json_keys(tmp_path, small_shot, capsys):
    small_shot.save(tmp_path / "shot")
    assert main(["info", str(tmp_path / "shot"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert {"frames", "fps", "width", "height", "people", "stages", "camera_path_m"} <= info.keys()
    assert (info["frames"], info["fps"], info["width"], info["height"], info["people"]) == (12, 24.0, 160, 90, 2)
    assert info["stages"] == ["demo-ground-truth"]
    assert info["camera_path_m"] > 0
    assert main(["info", str(tmp_path / "shot")]) == 0
    assert "2 frames" not in capsys.readouterr().out.splitlines()[0]


def test_eval_json_of_a_shot_against_itself(tmp_path, small_shot, capsys):
    small_shot.save(tmp_path / "shot")
    assert main(["eval", str(tmp_path / "shot"), "--gt", str(tmp_path / "shot"), "--json"]) == 0
    m = json.loads(capsys.readouterr().out)
    keys = {"pa", "iou_person", "miou", "mpjpe2d_px", "mpjpe2d_720p", "ate_pct", "ate_m", "rot_err_deg",
            "focal_err_pct", "wmpjpe_mm", "pampjpe_mm"}
    assert keys <= m.keys()
    for k in ("mpjpe2d_px", "mpjpe2d_720p", "ate_m", "ate_pct", "rot_err_deg", "focal_err_pct", "wmpjpe_mm", "pampjpe_mm"):
        assert abs(m[k]) < 1e-5, k
    assert m["pa"] is None  # needs a renderer of the bodies (not built yet)


def test_eval_without_gt_compares_with_own_observations(tmp_path, small_shot, capsys):
    small_shot.save(tmp_path / "shot")
    assert main(["eval", str(tmp_path / "shot"), "--json"]) == 0
    m = json.loads(capsys.readouterr().out)
    assert m["mpjpe2d_px"] < 1e-9  # the demo's keypoints are the exact projections of its joints
    assert m["ate_m"] is None and m["wmpjpe_mm"] is None


def test_known_errors_are_one_line_with_exit_code_1(tmp_path, small_shot, capsys):
    assert main(["info", str(tmp_path / "missing")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("reshoot: error: ") and err.count("\n") == 1
    folder = small_shot.save(tmp_path / "shot")
    with np.load(folder / "arrays.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["camera.T_world_cam"][0, 0, 0] = np.nan
    np.savez(folder / "arrays.npz", **arrays)
    assert main(["eval", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "camera.T_world_cam has 1 NaN/inf values" in err and err.count("\n") == 1


def test_demo_runs(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    assert "2 people" in out and "wmpjpe_mm" in out and "Blender" in out  # extract, eval, where the outputs are
    assert (tmp_path / "demo" / "shot" / "video.mp4").is_file()
    assert (tmp_path / "demo" / "shot" / "gt" / "shot.json").is_file()
    assert (tmp_path / "demo" / "run" / "shot" / "shot.json").is_file()
    for name in ("scene.glb", "overlay.mp4", "trajectory.png", "report.json", "report.md"):
        assert (tmp_path / "demo" / "run" / name).is_file()


def test_eval_renders_bodies_for_the_composition_metrics(tmp_path, body_shot, capsys):
    body_shot.save(tmp_path / "shot")
    assert main(["eval", str(tmp_path / "shot"), "--gt", str(tmp_path / "shot"), "--json"]) == 0
    m = json.loads(capsys.readouterr().out)
    assert m["pa"] == 100.0 and m["iou_person"] == 1.0 and m["miou"] == 1.0
    assert main(["eval", str(tmp_path / "shot"), "--json"]) == 0  # against its own masks
    assert json.loads(capsys.readouterr().out)["pa"] == 100.0
