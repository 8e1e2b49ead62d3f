"""The shot data model: exact round trips, validation, and one-line errors for broken shots."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from reshoot.errors import ShotError
from reshoot.shot import SCHEMA_VERSION, BodyParams, Shot


def assert_same_shot(a: Shot, b: Shot) -> None:
    """Field-by-field equality, arrays bit for bit (dtype included)."""
    from dataclasses import fields, is_dataclass

    def same(x, y, where):
        if is_dataclass(x):
            assert type(x) is type(y), where
            for f in fields(x):
                same(getattr(x, f.name), getattr(y, f.name), f"{where}.{f.name}")
        elif isinstance(x, list) and x and is_dataclass(x[0]):
            assert len(x) == len(y), where
            for i, (p, q) in enumerate(zip(x, y)):
                same(p, q, f"{where}[{i}]")
        elif isinstance(x, np.ndarray):
            assert isinstance(y, np.ndarray) and x.dtype == y.dtype and x.shape == y.shape, where
            assert np.array_equal(x, y), where
        else:
            assert x == y, where

    same(a, b, "shot")


def with_body(shot: Shot) -> Shot:
    T = shot.num_frames
    rng = np.random.default_rng(0)
    q = rng.normal(size=(T, 3, 4))
    shot.actors[0].body = BodyParams(
        model="anny-0.6.2:anny-notoes-nohands/notoes_collapse3pc",
        phenotype={"gender": 0.3, "age": 2 / 3, "muscle": 0.5, "weight": 0.5, "height": 0.55, "proportions": 0.5},
        bone_names=["root", "spine", "neck"],
        bone_quats_wxyz=q / np.linalg.norm(q, axis=-1, keepdims=True),
        T_world_root=shot.camera.T_world_cam.copy(),
    )
    return shot


def test_round_trip_is_exact(tmp_path, small_shot):
    shot = with_body(small_shot)
    shot.record("test", {"alpha": 0.1, "nested": {"k": [1, 2]}}, ["actors"], seconds=1.25)
    shot.save(tmp_path / "shot")
    back = Shot.load(tmp_path / "shot")
    assert_same_shot(shot, back)
    # a second save of the loaded shot writes identical files
    back.save(tmp_path / "again")
    for name in ("shot.json",):
        assert (tmp_path / "shot" / name).read_text() == (tmp_path / "again" / name).read_text()


def test_masks_are_stored_compactly(tmp_path, small_shot):
    small_shot.save(tmp_path / "shot")
    raw = small_shot.masks.labels.nbytes
    assert (tmp_path / "shot" / "masks.npz").stat().st_size < raw / 10


def test_save_replaces_atomically_and_refuses_non_shot_folders(tmp_path, small_shot):
    small_shot.save(tmp_path / "shot")
    small_shot.video.source = "second version"
    small_shot.save(tmp_path / "shot")
    assert Shot.load(tmp_path / "shot").video.source == "second version"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shot"]  # no temp or backup left behind
    (tmp_path / "notashot").mkdir()
    (tmp_path / "notashot" / "precious.txt").write_text("x")
    with pytest.raises(ShotError, match="not a shot folder; refusing"):
        small_shot.save(tmp_path / "notashot")
    assert (tmp_path / "notashot" / "precious.txt").exists()


def test_a_failing_save_leaves_the_old_shot_intact(tmp_path, small_shot, monkeypatch):
    small_shot.save(tmp_path / "shot")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", boom)
    small_shot.video.source = "never written"
    with pytest.raises(OSError, match="disk full"):
        small_shot.save(tmp_path / "shot")
    assert Shot.load(tmp_path / "shot").video.source != "never written"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shot"]


# ------------------------------------------------------------------------ broken shots


def saved(tmp_path: Path, shot: Shot) -> Path:
    return shot.save(tmp_path / "shot")


def rewrite_array(folder: Path, key: str, value: np.ndarray) -> None:
    with np.load(folder / "arrays.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays[key] = value
    np.savez(folder / "arrays.npz", **arrays)


def edit_json(folder: Path, edit) -> None:
    doc = json.loads((folder / "shot.json").read_text())
    edit(doc)
    (folder / "shot.json").write_text(json.dumps(doc))


def one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg
    return msg


def test_missing_folder_and_files(tmp_path, small_shot):
    with pytest.raises(ShotError, match="no such shot folder") as e:
        Shot.load(tmp_path / "nowhere")
    one_line(e)
    folder = saved(tmp_path, small_shot)
    os.remove(folder / "arrays.npz")
    with pytest.raises(ShotError, match=r"arrays\.npz: missing") as e:
        Shot.load(folder)
    one_line(e)
    os.remove(folder / "shot.json")
    with pytest.raises(ShotError, match="missing shot.json"):
        Shot.load(folder)


def test_missing_array_key(tmp_path, small_shot):
    folder = saved(tmp_path, small_shot)
    with np.load(folder / "arrays.npz") as npz:
        arrays = {k: npz[k] for k in npz.files if k != "actors.1.joints_world"}
    np.savez(folder / "arrays.npz", **arrays)
    with pytest.raises(ShotError, match=r"array 'actors\.1\.joints_world' is missing") as e:
        Shot.load(folder)
    assert str(folder) in one_line(e)


def test_wrong_shape_names_the_array_and_both_shapes(tmp_path, small_shot):
    folder = saved(tmp_path, small_shot)
    rewrite_array(folder, "camera.T_world_cam", np.zeros((small_shot.num_frames, 3, 4)))
    with pytest.raises(ShotError, match=r"camera\.T_world_cam has shape \(12, 3, 4\), expected \(T=12, 4, 4\)") as e:
        Shot.load(folder)
    one_line(e)
    folder = saved(tmp_path, small_shot)
    rewrite_array(folder, "actors.0.observations.kpts_conf", np.zeros((small_shot.num_frames, 30)))
    with pytest.raises(ShotError, match=r"kpts_conf has shape \(12, 30\), expected \(T=12, K=33\)"):
        Shot.load(folder)


def test_nan_is_refused_with_its_index(tmp_path, small_shot):
    folder = saved(tmp_path, small_shot)
    joints = small_shot.actors[0].joints_world.copy()
    joints[4, 2, 1] = np.nan
    rewrite_array(folder, "actors.0.joints_world", joints)
    with pytest.raises(ShotError, match=r"actors\.0\.joints_world has 1 NaN/inf values \(first at index \(4, 2, 1\)\)") as e:
        Shot.load(folder)
    one_line(e)


def test_non_rigid_camera_is_refused(tmp_path, small_shot):
    folder = saved(tmp_path, small_shot)
    T = small_shot.camera.T_world_cam.copy()
    T[5, :3, :3] *= 1.01  # a scaled rotation
    rewrite_array(folder, "camera.T_world_cam", T)
    with pytest.raises(ShotError, match=r"camera\.T_world_cam\[5\] is not a rigid transform") as e:
        Shot.load(folder)
    one_line(e)
    T = small_shot.camera.T_world_cam.copy()
    T[2, 3, 0] = 0.5  # a projective last row
    rewrite_array(folder, "camera.T_world_cam", T)
    with pytest.raises(ShotError, match=r"T_world_cam\[2\] is not a rigid"):
        Shot.load(folder)


def test_newer_schema_version_says_upgrade(tmp_path, small_shot):
    folder = saved(tmp_path, small_shot)
    edit_json(folder, lambda d: d.update(version=SCHEMA_VERSION + 1, writer="reshoot 9.0"))
    with pytest.raises(ShotError, match=r"schema version 2 by reshoot 9\.0.*reads up to version 1: upgrade reshoot") as e:
        Shot.load(folder)
    one_line(e)


def test_bad_json_and_missing_fields(tmp_path, small_shot):
    folder = saved(tmp_path, small_shot)
    (folder / "shot.json").write_text("{not json")
    with pytest.raises(ShotError, match="not valid JSON") as e:
        Shot.load(folder)
    one_line(e)
    folder = saved(tmp_path, small_shot)
    edit_json(folder, lambda d: d["video"].pop("fps"))
    with pytest.raises(ShotError, match="required field 'video.fps' is missing"):
        Shot.load(folder)
    folder = saved(tmp_path, small_shot)
    edit_json(folder, lambda d: d.pop("schema"))
    with pytest.raises(ShotError, match="not a reshoot shot"):
        Shot.load(folder)


def test_semantic_checks_on_save(tmp_path, small_shot):
    small_shot.masks.labels[0, 0, 0] = 7
    with pytest.raises(ShotError, match="uses label 7 but the shot has 2 actors"):
        small_shot.save(tmp_path / "a")
    small_shot.masks.labels[0, 0, 0] = 0
    small_shot.lens.fx[3] = -1
    with pytest.raises(ShotError, match="lens.fx has values <= 0"):
        small_shot.save(tmp_path / "b")
    small_shot.lens.fx[3] = 800
    small_shot.actors[1].track_id = small_shot.actors[0].track_id
    with pytest.raises(ShotError, match="repeated track ids"):
        small_shot.save(tmp_path / "c")
    assert not (tmp_path / "a").exists() and not (tmp_path / "c").exists()


def test_summary(small_shot):
    s = small_shot.summary()
    assert (s["frames"], s["fps"], s["width"], s["height"], s["people"]) == (12, 24.0, 160, 90, 2)
    assert s["stages"] == ["demo-ground-truth"]
    steps = np.linalg.norm(np.diff(small_shot.camera.T_world_cam[:, :3, 3], axis=0), axis=-1)
    assert s["camera_path_m"] == pytest.approx(steps.sum())
    small_shot.camera = None
    assert small_shot.summary()["camera_path_m"] is None
