"""`reshoot bench`: the suites, the quick one end to end, the footage table."""

from __future__ import annotations

import json

import pytest

from reshoot.cli import main
from reshoot.eval.bench import suite_shots
from reshoot.synth import SHOT_TYPES


def test_standard_suite_is_every_shot_type_with_one_and_two_people():
    shots = suite_shots("standard")
    assert {(s.shot_type, s.people) for s in shots} == {(t, p) for t in SHOT_TYPES for p in (1, 2)}
    assert all((s.seconds, s.fps, s.width, s.height) == (5.0, 24.0, 960, 540) for s in shots)
    assert len({s.seed for s in shots}) == len(shots)


def test_quick_suite_extracts_scores_and_writes_tables(tmp_path):
    assert main(["bench", "--suite", "quick", "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["suite"] == "quick" and len(results["shots"]) == 3
    for r in results["shots"]:
        gt = r["gt_self_check"]  # the ground truth against itself: every metric at its best
        assert gt["pa"] == pytest.approx(100.0) and gt["iou_person"] == pytest.approx(1.0)
        assert gt["rot_err_deg"] == pytest.approx(0.0, abs=1e-6) and gt["wmpjpe_mm"] == pytest.approx(0.0, abs=1e-6)
        m = r["metrics"]  # what `reshoot extract` found, against the ground truth
        assert r["people_found"] >= 1 and 0.9 <= m["det_recall_full"] <= 1 and m["det_precision"] >= 0.9
        assert r["stages"]["synth"] > 0 and r["stages"]["extract"] > 0
        assert 0 <= r["detection"]["found"] <= r["detection"]["visible"]
        assert m["pampjpe_mm"] is not None and m["pa"] is not None and r["bodies"]["ground"] in ("background", "feet", "none")
    table = (tmp_path / "results.md").read_text()
    for shot_type in ("static", "arc", "dolly-zoom"):
        assert f"## {shot_type}" in table
    assert "recall (whole body)" in table and "W-MPJPE mm" in table and (tmp_path / "contact.jpg").stat().st_size > 0
    assert "rotation err deg, camera_init" in table  # the camera stage's camera beside refine's


def test_a_known_lens_is_given_to_the_camera_stage(tmp_path, capsys):
    assert main(["bench", "--suite", "quick", "--only", "static-1p", "--lens-known", "--no-detect", "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    (r,) = results["shots"]
    assert results["lens_known"] and r["camera"]["focal_source"] == "given"
    assert r["metrics"]["focal_err_pct"] == pytest.approx(0.0, abs=1e-6)
    assert "With the lens known" in (tmp_path / "results.md").read_text()
    assert main(["bench", "--suite", "footage", "--lens-known", "--out", str(tmp_path / "f")]) != 0
    assert "the footage has none to give" in capsys.readouterr().err


def test_footage_table_lists_every_clip():
    from reshoot.eval.bench import markdown

    records = [{"name": "a.mp4", "frames": 40, "width": 640, "height": 360, "people_expected": "1",
                "tracks_frames": [40, 7], "extract_ms_per_frame": 123.4}]  # fmt: skip
    assert "| a.mp4 | 40 | 640x360 | 1 | 2 (40, 7) | 123 |" in markdown("footage", records)
