"""The shot: one typed, versioned object that every stage reads and extends.

A shot is saved as a folder::

    shot/
      shot.json    metadata, provenance, and a pointer ({"$array": key}) per array
      arrays.npz   every array but the masks, uncompressed (exact float64 round trip)
      masks.npz    the instance label images, zlib-compressed (they compress ~100x)

and loads back exactly. Both directions validate: a missing file or array, a wrong
shape, a NaN, a camera matrix that is not a rigid transform or a newer schema version
raise a one-line :class:`~reshoot.errors.ShotError` that says what and where.

Conventions (see ``docs/conventions.md``): world right-handed, Z up, metres; camera
OpenCV (x right, y down, z forward); ``T_world_cam`` maps camera points to world points;
quaternions (w, x, y, z); pixel centres at +0.5. Dimension letters: T frames, J joints,
K keypoints, B bones, H W image.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from reshoot import __version__
from reshoot.errors import ShotError

log = logging.getLogger(__name__)

#: The schema version this code writes; it reads this version and older ones.
SCHEMA_VERSION = 1
SHOT_JSON = "shot.json"
ARRAY_FILES = {"arrays": "arrays.npz", "masks": "masks.npz"}
#: Largest element-wise deviation from a rigid transform accepted in ``T_world_cam``.
RIGID_TOL = 1e-6
#: The label of background pixels in instance masks; actor ``k`` has label ``k + 1``.
BACKGROUND = 0


def array_field(shape: tuple, dtype: str, doc: str, *, optional: bool = False, file: str = "arrays") -> Any:
    """A dataclass field holding a numpy array of a declared shape and dtype.

    ``shape`` mixes integers and dimension letters (``"T"``, ``"J"``, ...); a letter is
    bound by the shot (T, H, W), by the record (J, B: from its names), or by the first
    array that uses it, and must agree everywhere after.
    """
    meta = {"shape": shape, "dtype": dtype, "doc": doc, "file": file}
    return field(default=None, metadata=meta) if optional else field(metadata=meta)


def record_field(cls: type, doc: str, *, many: bool = False) -> Any:
    """A field holding a nested record (``many``: a list of them)."""
    meta = {"record": cls, "many": many, "doc": doc}
    return field(default_factory=list, metadata=meta) if many else field(default=None, metadata=meta)


class _Record:
    """Mixin: array coercion on construction, dimension bindings, semantic checks."""

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if "shape" in f.metadata and value is not None:
                try:
                    setattr(self, f.name, np.asarray(value, dtype=f.metadata["dtype"]))
                except (TypeError, ValueError) as exc:
                    raise ShotError(
                        f"{type(self).__name__}.{f.name}: cannot be read as {f.metadata['dtype']} ({exc})"
                    ) from None

    def _dims(self) -> dict[str, int]:
        """Dimension letters this record binds (e.g. ``J`` from its joint names)."""
        return {}

    def _check(self, where: str, dims: dict[str, int]) -> None:
        """Semantic checks beyond shape, dtype and finiteness."""


# ---------------------------------------------------------------------------- records


@dataclass
class Video(_Record):
    """The footage the shot comes from."""

    fps: float = field(metadata={"doc": "frames per second (nominal; see timestamps_s)"})
    num_frames: int = field(metadata={"doc": "T, the number of frames"})
    width: int = field(metadata={"doc": "W, frame width in pixels of the frames the shot's coordinates refer to "
                                         "(after decode: upright, square pixels, the working size)"})
    height: int = field(metadata={"doc": "H, frame height in pixels"})
    pixel_aspect: float = field(default=1.0, metadata={"doc": "pixel width / pixel height"})
    source: str | None = field(default=None, metadata={"doc": "path of the source video or image folder"})
    timestamps_s: np.ndarray | None = array_field(("T",), "float64", "presentation time of each frame, seconds", optional=True)

    def _check(self, where: str, dims: dict[str, int]) -> None:
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise ShotError(f"{where}video.fps is {self.fps}, expected a positive number")
        if self.num_frames < 1 or self.width < 1 or self.height < 1:
            raise ShotError(
                f"{where}video has {self.num_frames} frames of {self.width}x{self.height}, expected at least 1 frame of 1x1"
            )
        if not (np.isfinite(self.pixel_aspect) and self.pixel_aspect > 0):
            raise ShotError(f"{where}video.pixel_aspect is {self.pixel_aspect}, expected a positive number")
        if self.timestamps_s is not None and np.any(np.diff(self.timestamps_s) <= 0):
            raise ShotError(f"{where}video.timestamps_s is not strictly increasing")

    @property
    def duration_s(self) -> float:
        if self.timestamps_s is not None and self.num_frames > 1:
            return float(self.timestamps_s[-1] - self.timestamps_s[0]) + 1.0 / self.fps
        return self.num_frames / self.fps


@dataclass
class Lens(_Record):
    """Per-frame pinhole intrinsics in pixels (OpenCV model)."""

    fx: np.ndarray = array_field(("T",), "float64", "focal length along x, pixels")
    fy: np.ndarray = array_field(("T",), "float64", "focal length along y, pixels")
    cx: np.ndarray = array_field(("T",), "float64", "principal point x, pixels (image corner at 0)")
    cy: np.ndarray = array_field(("T",), "float64", "principal point y, pixels")
    distortion: np.ndarray | None = array_field(
        ("T", "D"), "float64", "OpenCV distortion (k1, k2, p1, p2[, k3...]) per frame", optional=True
    )
    zooms: bool = field(default=False, metadata={"doc": "whether the focal length changes during the shot"})

    def _check(self, where: str, dims: dict[str, int]) -> None:
        for name in ("fx", "fy"):
            if np.any(getattr(self, name) <= 0):
                raise ShotError(f"{where}lens.{name} has values <= 0, expected positive focal lengths in pixels")

    @classmethod
    def constant(cls, num_frames: int, fx: float, fy: float, cx: float, cy: float) -> Lens:
        """The same intrinsics on every frame."""
        return cls(*(np.full(num_frames, float(v)) for v in (fx, fy, cx, cy)))

    def K(self) -> np.ndarray:
        """Intrinsic matrices, shape (T, 3, 3)."""
        K = np.zeros((len(self.fx), 3, 3))
        K[:, 0, 0], K[:, 1, 1], K[:, 0, 2], K[:, 1, 2], K[:, 2, 2] = self.fx, self.fy, self.cx, self.cy, 1.0
        return K


@dataclass
class Camera(_Record):
    """The camera path."""

    T_world_cam: np.ndarray = array_field(("T", 4, 4), "float64", "camera-to-world rigid transforms (OpenCV camera axes)")
    metric: bool = field(default=False, metadata={"doc": "True once translations are in metres (scale resolved)"})
    registered: np.ndarray | None = array_field(
        ("T",), "bool", "frames the camera was solved on (False: bridged or extrapolated)", optional=True
    )

    def _check(self, where: str, dims: dict[str, int]) -> None:
        R = self.T_world_cam[:, :3, :3]
        ortho = np.abs(np.swapaxes(R, -1, -2) @ R - np.eye(3)).max(axis=(-1, -2))
        det = np.abs(np.linalg.det(R) - 1.0)
        last = np.abs(self.T_world_cam[:, 3, :] - [0.0, 0.0, 0.0, 1.0]).max(axis=-1)
        err = np.maximum(np.maximum(ortho, det), last)
        bad = np.flatnonzero(err > RIGID_TOL)
        if bad.size:
            t = int(bad[0])
            raise ShotError(
                f"{where}camera.T_world_cam[{t}] is not a rigid transform (deviation {err[t]:.3g} > {RIGID_TOL:g}; "
                f"{bad.size} bad frames): expected an orthonormal rotation with det +1 and last row 0 0 0 1"
            )

    def centres(self) -> np.ndarray:
        """Camera centres in the world, shape (T, 3)."""
        return self.T_world_cam[:, :3, 3]

    def path_length(self) -> float:
        """Length of the polyline through the camera centres (world units)."""
        return float(np.linalg.norm(np.diff(self.centres(), axis=0), axis=-1).sum())


@dataclass
class BodyParams(_Record):
    """A parametric body (anny) over the shot: one phenotype, per-frame pose."""

    model: str = field(metadata={"doc": "body model id, e.g. 'anny-0.6.2:anny-notoes-nohands/notoes_collapse3pc'"})
    phenotype: dict[str, float] = field(metadata={"doc": "anny phenotype in [0, 1]: gender, age, muscle, weight, height, proportions"})
    bone_names: list[str] = field(metadata={"doc": "B names, the order of the bone axes below"})
    bone_quats_wxyz: np.ndarray = array_field(
        ("T", "B", 4), "float64", "each bone's local rotation about its head (anny 'local-ref'), unit quaternions wxyz"
    )
    T_world_root: np.ndarray = array_field(("T", 4, 4), "float64", "the root bone's world transform")
    observed: np.ndarray | None = array_field(
        ("T",), "bool", "frames whose pose rests on the actor's keypoints (False: bridged or held)", optional=True
    )
    shown: np.ndarray | None = array_field(
        ("T",), "bool", "frames the body is drawn in (renderings, exports): where the actor is present, and through "
        "a moment the tracker lost them in view (hidden behind someone); None: where present", optional=True
    )

    def _dims(self) -> dict[str, int]:
        return {"B": len(self.bone_names)}

    def _check(self, where: str, dims: dict[str, int]) -> None:
        norms = np.linalg.norm(self.bone_quats_wxyz, axis=-1)
        if np.any(np.abs(norms - 1.0) > 1e-6):
            raise ShotError(f"{where}body.bone_quats_wxyz has quaternions of norm != 1 (max deviation {np.abs(norms - 1).max():.3g})")
        for name, value in self.phenotype.items():
            if not (isinstance(value, (int, float)) and 0.0 <= value <= 1.0):
                raise ShotError(f"{where}body.phenotype[{name!r}] = {value!r}, expected a number in [0, 1]")


@dataclass
class ActorObservations(_Record):
    """What the footage shows of one actor, frame by frame (absent frames: confidence 0)."""

    keypoint_format: str = field(metadata={"doc": "names the K keypoints, e.g. 'mediapipe33'"})
    kpts2d_px: np.ndarray = array_field(("T", "K", 2), "float64", "2D keypoints, pixels")
    kpts_conf: np.ndarray = array_field(("T", "K"), "float64", "keypoint confidence in [0, 1]; 0 where unseen")
    boxes_xyxy_px: np.ndarray = array_field(("T", 4), "float64", "bounding box (x0, y0, x1, y1), pixels; zeros where absent")
    kpts3d_m: np.ndarray | None = array_field(
        ("T", "K", 3), "float64", "the detector's own 3D guess of the keypoints (mediapipe's world landmarks): metres, "
        "centred between the hips, in the axes of its view: the camera turned to look along the ray through the hips' "
        "centre in kpts2d_px (x right, y down, z along the ray; geometry.ray_rotation carries them into the camera's "
        "axes once the lens is known); zeros where absent",
        optional=True,
    )  # fmt: skip

    def _check(self, where: str, dims: dict[str, int]) -> None:
        if np.any((self.kpts_conf < 0) | (self.kpts_conf > 1)):
            raise ShotError(f"{where}observations.kpts_conf has values outside [0, 1]")


@dataclass
class Actor(_Record):
    """One person in the shot."""

    track_id: int = field(metadata={"doc": "persistent identity over the shot"})
    present: np.ndarray = array_field(("T",), "bool", "frames in which the actor is in the shot")
    observations: ActorObservations | None = record_field(ActorObservations, "2D evidence (perceive stage)")
    body: BodyParams | None = record_field(BodyParams, "fitted body model (bodies stage)")
    joint_names: list[str] | None = field(default=None, metadata={"doc": "J names of joints_world"})
    joints_world: np.ndarray | None = array_field(("T", "J", 3), "float64", "3D joints in the world, metres", optional=True)
    label: str | None = field(default=None, metadata={"doc": "free text, e.g. 'woman in red'"})

    def _dims(self) -> dict[str, int]:
        return {} if self.joint_names is None else {"J": len(self.joint_names)}

    def drawn(self) -> np.ndarray:
        """(T,) bool: the frames the actor's body is drawn in (renderings, overlays,
        exports): its body's ``shown`` frames, else where it is present."""
        if self.body is not None and self.body.shown is not None:
            return self.body.shown
        return self.present

    def _check(self, where: str, dims: dict[str, int]) -> None:
        if (self.joints_world is None) != (self.joint_names is None):
            raise ShotError(f"{where}actor {self.track_id}: joints_world and joint_names must be given together")


def mask_box(mask: np.ndarray) -> np.ndarray:
    """(4,) x0, y0, x1, y1 (pixels) of a boolean mask's pixels; nan where it has none."""
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    if not len(rows):
        return np.full(4, np.nan)
    return np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], float)


@dataclass
class InstanceMasks(_Record):
    """Per-frame instance label images: each pixel belongs to one actor or to the background."""

    labels: np.ndarray = array_field(
        ("T", "H", "W"), "uint8", "0 = background, k + 1 = shot.actors[k]", file="masks"
    )

    def boxes(self, label: int) -> np.ndarray:
        """(T, 4) the box of ``label``'s pixels in every frame (``mask_box``; nan where none)."""
        return np.stack([mask_box(frame == label) for frame in self.labels]) if len(self.labels) else np.zeros((0, 4))

    def _check(self, where: str, dims: dict[str, int]) -> None:
        n = dims.get("P", 0)
        top = int(self.labels.max()) if self.labels.size else 0
        if top > n:
            raise ShotError(f"{where}masks.labels uses label {top} but the shot has {n} actors (labels 0..{n})")


@dataclass
class StageRecord(_Record):
    """Provenance: one stage run that wrote into the shot."""

    stage: str = field(metadata={"doc": "stage name, e.g. 'perceive'"})
    config: dict[str, Any] = field(default_factory=dict, metadata={"doc": "the stage's config, as JSON"})
    version: str = field(default=__version__, metadata={"doc": "reshoot version that ran it"})
    wrote: list[str] = field(default_factory=list, metadata={"doc": "fields of the shot it wrote"})
    seconds: float | None = field(default=None, metadata={"doc": "wall time of the stage"})
    finished_at: str = field(
        default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), metadata={"doc": "UTC time"}
    )


@dataclass
class Shot(_Record):
    """A whole shot: video, lens, camera, actors, masks and provenance."""

    video: Video = field(metadata={"record": Video, "many": False, "doc": "the source footage"})
    lens: Lens | None = record_field(Lens, "per-frame intrinsics")
    camera: Camera | None = record_field(Camera, "the camera path")
    actors: list[Actor] = record_field(Actor, "every person, in label order", many=True)
    masks: InstanceMasks | None = record_field(InstanceMasks, "instance label images")
    provenance: list[StageRecord] = record_field(StageRecord, "stages that wrote into the shot, in order", many=True)
    meta: dict[str, Any] = field(default_factory=dict, metadata={"doc": "free JSON metadata (e.g. the generator's settings)"})

    def _dims(self) -> dict[str, int]:
        v = self.video
        return {"T": v.num_frames, "H": v.height, "W": v.width, "P": len(self.actors)}

    def _check(self, where: str, dims: dict[str, int]) -> None:
        ids = [a.track_id for a in self.actors]
        if len(set(ids)) != len(ids):
            raise ShotError(f"{where}actors have repeated track ids {ids}")

    # ------------------------------------------------------------------ conveniences

    @property
    def num_frames(self) -> int:
        return self.video.num_frames

    @property
    def stages(self) -> list[str]:
        """Names of the stages that wrote into the shot, first run first, each once."""
        return list(dict.fromkeys(r.stage for r in self.provenance))

    def record(self, stage: str, config: dict[str, Any], wrote: list[str], seconds: float | None = None) -> None:
        """Append a provenance record for ``stage``."""
        self.provenance.append(StageRecord(stage=stage, config=config, wrote=wrote, seconds=seconds))

    def validate(self, where: str = "") -> Shot:
        """Check every shape, dtype, finiteness and semantic rule; raise :class:`ShotError`."""
        _validate(self, "", where, {})
        return self

    def summary(self) -> dict[str, Any]:
        """The facts ``reshoot info`` prints."""
        v = self.video
        out: dict[str, Any] = {
            "frames": v.num_frames,
            "fps": v.fps,
            "duration_s": round(v.duration_s, 6),
            "width": v.width,
            "height": v.height,
            "pixel_aspect": v.pixel_aspect,
            "source": v.source,
            "people": len(self.actors),
            "stages": self.stages,
            "camera_path_m": None,
            "camera_metric": None,
            "focal_px": None,
            "zooms": None,
            "has_masks": self.masks is not None,
            "actors": [
                {
                    "track_id": a.track_id,
                    "frames_present": int(a.present.sum()),
                    "observations": a.observations is not None,
                    "body": a.body is not None,
                    "joints": None if a.joint_names is None else len(a.joint_names),
                }
                for a in self.actors
            ],
        }
        if self.camera is not None:
            out["camera_path_m"] = self.camera.path_length()
            out["camera_metric"] = self.camera.metric
        if self.lens is not None:
            out["focal_px"] = [float(self.lens.fx.min()), float(self.lens.fx.max())]
            out["zooms"] = self.lens.zooms
        return out

    # ------------------------------------------------------------------ persistence

    def save(self, path: str | os.PathLike) -> Path:
        """Write the shot folder atomically: a crash never leaves a half-written shot.

        The folder is built beside ``path`` under a temporary name, then swapped in.
        """
        self.validate()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, dict[str, np.ndarray]] = {k: {} for k in ARRAY_FILES}
        doc = {"schema": "reshoot.shot", "version": SCHEMA_VERSION, "writer": f"reshoot {__version__}"}
        doc.update(_to_json(self, "", arrays))
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
        try:
            np.savez(tmp / ARRAY_FILES["arrays"], **arrays["arrays"])
            np.savez_compressed(tmp / ARRAY_FILES["masks"], **arrays["masks"])
            with open(tmp / SHOT_JSON, "w") as fh:
                json.dump(doc, fh, indent=1, allow_nan=False)
                fh.flush()
                os.fsync(fh.fileno())
            _swap_in(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        log.debug("saved shot to %s", path)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> Shot:
        """Load and validate a shot folder; every problem is a one-line :class:`ShotError`."""
        path = Path(path)
        meta_path = path / SHOT_JSON
        if not path.is_dir():
            raise ShotError(f"{path}: no such shot folder (expected a folder with {SHOT_JSON})")
        if not meta_path.is_file():
            raise ShotError(f"{path}: missing {SHOT_JSON}; is this a shot folder?")
        try:
            doc = json.loads(meta_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ShotError(f"{meta_path}: not valid JSON ({exc})") from None
        if not isinstance(doc, dict) or doc.get("schema") != "reshoot.shot":
            raise ShotError(f"{meta_path}: not a reshoot shot (no 'schema': 'reshoot.shot')")
        version = doc.get("version")
        if not isinstance(version, int) or version < 1:
            raise ShotError(f"{meta_path}: schema version {version!r} is not a positive integer")
        if version > SCHEMA_VERSION:
            raise ShotError(
                f"{meta_path}: written with shot schema version {version} by {doc.get('writer', 'a newer reshoot')}; "
                f"this reshoot {__version__} reads up to version {SCHEMA_VERSION}: upgrade reshoot"
            )
        with _ArrayStore(path) as store:
            shot = _from_json(cls, doc, store, str(meta_path))
        shot.validate(f"{path}: ")
        return shot


# ---------------------------------------------------------------------------- machinery


def _swap_in(tmp: Path, path: Path) -> None:
    """Replace ``path`` by the folder ``tmp``; the old one is removed only once the new is in place."""
    if not path.exists():
        os.replace(tmp, path)
        return
    if not (path / SHOT_JSON).is_file():
        raise ShotError(f"{path}: exists and is not a shot folder; refusing to replace it")
    old = path.with_name(f".{path.name}.old-{os.getpid()}")
    os.replace(path, old)
    os.replace(tmp, path)
    shutil.rmtree(old, ignore_errors=True)


class _ArrayStore:
    """Lazy access to the npz files of a shot folder, with errors that name the file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._open: dict[str, Any] = {}

    def __enter__(self) -> _ArrayStore:
        return self

    def __exit__(self, *exc: object) -> None:
        for npz in self._open.values():
            npz.close()

    def get(self, file: str, key: str) -> np.ndarray:
        fname = ARRAY_FILES[file]
        if file not in self._open:
            fpath = self.folder / fname
            if not fpath.is_file():
                raise ShotError(f"{fpath}: missing (the shot refers to array {key!r} in it)")
            try:
                self._open[file] = np.load(fpath, allow_pickle=False)
            except (OSError, ValueError, zipfile.BadZipFile) as exc:
                raise ShotError(f"{fpath}: unreadable ({exc})") from None
        npz = self._open[file]
        if key not in npz.files:
            raise ShotError(f"{self.folder / fname}: array {key!r} is missing")
        try:
            return npz[key]
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            raise ShotError(f"{self.folder / fname}: array {key!r} is unreadable ({exc})") from None


def _record_fields(obj: Any) -> Iterator[tuple[dataclasses.Field, Any]]:
    for f in fields(obj):
        yield f, getattr(obj, f.name)


def _to_json(obj: Any, prefix: str, arrays: dict[str, dict[str, np.ndarray]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f, value in _record_fields(obj):
        key = f"{prefix}{f.name}"
        if value is None:
            out[f.name] = None
        elif "shape" in f.metadata:
            arrays[f.metadata["file"]][key] = value
            out[f.name] = {"$array": key}
        elif "record" in f.metadata and f.metadata["many"]:
            out[f.name] = [_to_json(item, f"{key}.{i}.", arrays) for i, item in enumerate(value)]
        elif "record" in f.metadata:
            out[f.name] = _to_json(value, f"{key}.", arrays)
        else:
            out[f.name] = value
    return out


def _from_json(cls: type, doc: Any, store: _ArrayStore, where: str, prefix: str = "") -> Any:
    if not isinstance(doc, dict):
        raise ShotError(f"{where}: {prefix.rstrip('.') or 'shot'} should be an object, found {type(doc).__name__}")
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        key = f"{prefix}{f.name}"
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if f.name not in doc:
            if required:
                raise ShotError(f"{where}: required field {key!r} is missing")
            continue
        value = doc[f.name]
        if value is None:
            if required:
                raise ShotError(f"{where}: required field {key!r} is null")
            kwargs[f.name] = None
        elif "shape" in f.metadata:
            if not (isinstance(value, dict) and isinstance(value.get("$array"), str)):
                raise ShotError(f"{where}: field {key!r} should point to an array ({{'$array': key}})")
            kwargs[f.name] = store.get(f.metadata["file"], value["$array"])
        elif "record" in f.metadata and f.metadata["many"]:
            if not isinstance(value, list):
                raise ShotError(f"{where}: field {key!r} should be a list")
            kwargs[f.name] = [
                _from_json(f.metadata["record"], item, store, where, f"{key}.{i}.") for i, item in enumerate(value)
            ]
        elif "record" in f.metadata:
            kwargs[f.name] = _from_json(f.metadata["record"], value, store, where, f"{key}.")
        else:
            kwargs[f.name] = value
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ShotError(f"{where}: {prefix.rstrip('.') or 'shot'}: {exc}") from None


def _validate(obj: Any, prefix: str, where: str, dims: dict[str, int]) -> None:
    dims = {**dims, **obj._dims()}
    for f, value in _record_fields(obj):
        key = f"{prefix}{f.name}"
        if value is None:
            continue
        if "shape" in f.metadata:
            _check_array(value, f.metadata, key, where, dims)
        elif "record" in f.metadata and f.metadata["many"]:
            for i, item in enumerate(value):
                _validate(item, f"{key}.{i}.", where, dims)
        elif "record" in f.metadata:
            if not isinstance(value, f.metadata["record"]):
                raise ShotError(f"{where}{key} is a {type(value).__name__}, expected {f.metadata['record'].__name__}")
            _validate(value, f"{key}.", where, dims)
    obj._check(f"{where}{prefix}", dims)


def _check_array(value: Any, meta: dict[str, Any], key: str, where: str, dims: dict[str, int]) -> None:
    spec = meta["shape"]
    if not isinstance(value, np.ndarray):
        raise ShotError(f"{where}{key} is a {type(value).__name__}, expected a numpy array")
    expected = ", ".join(f"{d}={dims[d]}" if isinstance(d, str) and d in dims else str(d) for d in spec)
    if value.ndim != len(spec):
        raise ShotError(f"{where}{key} has shape {value.shape}, expected ({expected})")
    for size, d in zip(value.shape, spec):
        if isinstance(d, str):
            if d not in dims:
                dims[d] = size  # first use binds the letter for the rest of this record
            elif dims[d] != size:
                raise ShotError(f"{where}{key} has shape {value.shape}, expected ({expected})")
        elif size != d:
            raise ShotError(f"{where}{key} has shape {value.shape}, expected ({expected})")
    if value.dtype != np.dtype(meta["dtype"]):
        raise ShotError(f"{where}{key} has dtype {value.dtype}, expected {meta['dtype']}")
    if value.dtype.kind == "f":
        bad = ~np.isfinite(value)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ShotError(f"{where}{key} has {int(bad.sum())} NaN/inf values (first at index {first})")
