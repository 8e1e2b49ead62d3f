"""`reshoot bench`: the quick suite end to end, and the footage suite where the clips are."""

from __future__ import annotations

import json

import pytest

from reshoot.cli import main
from reshoot.eval.bench import run_bench, suite_shots
from reshoot.synth import SHOT_TYPES


def test_standard_suite_is_every_shot_type_with_one_and_two_people():
    shots = suite_shots("standard")
    assert {(s.shot_type, s.people) for s in shots} == {(t, p) for t in SHOT_TYPES for p in (1, 2)}
    assert all((s.seconds, s.fps, s.width, s.height) == (5.0, 24.0, 960, 540) for s in shots)
    assert len({s.seed for s in shots}) == len(shots)


def test_quick_suite_writes_tables_and_ground_truth_scores_perfectly(tmp_path, capsys):
    assert main(["bench", "--suite", "quick", "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["suite"] == "quick" and len(results["shots"]) == 3
    for r in results["shots"]:
        m = r["metrics"]  # the ground truth against itself: every metric at its best
        assert m["pa"] == pytest.approx(100.0) and m["iou_person"] == pytest.approx(1.0)
        assert m["rot_err_deg"] == pytest.approx(0.0, abs=1e-6) and m["wmpjpe_mm"] == pytest.approx(0.0, abs=1e-6)
        assert r["stages"]["synth"] > 0 and r["synth_s_per_frame"] > 0
        assert 0 <= r["detection"]["found"] <= r["detection"]["visible"]
    table = (tmp_path / "results.md").read_text()
    for shot_type in ("static", "arc", "dolly-zoom"):
        assert f"## {shot_type}" in table
    assert "mediapipe found" in table and (tmp_path / "contact.jpg").stat().st_size > 0


@pytest.mark.footage
def test_footage_suite_decodes_every_clip(tmp_path, footage_dir):
    records = run_bench("footage", tmp_path)
    assert len(records) == len(list(footage_dir.glob("*.mp4"))) and all(r["frames"] > 0 for r in records)
    assert "| sam2_bedroom.mp4 | 200 |" in (tmp_path / "results.md").read_text()
