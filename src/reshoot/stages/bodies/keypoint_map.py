"""mediapipe's 33 landmarks on the fitting body (anny's low-poly mesh and light rig).

The landmarks are defined once on anny's full mesh (``synth.actors.body_parts``: the
nose tip vertex, the eye corners, the BlazePose knuckles, the heel and toe vertices, and
bone heads for shoulders, elbows, wrists, hips, knees and ankles). The fitting body has
the same 38-bone rig but a 369-vertex mesh, on which most surface points do not exist.
So each surface landmark is a fixed convex combination of nearby low-poly vertices,
fitted once (``scripts/fit_keypoint_map.py``) over bodies of every build in the poses of
the synthetic motion library, by non-negative least squares against the full mesh; the
joint landmarks are the rig's bone heads, exactly. The map ships in the package
(``reshoot/data/mediapipe33_anny_fit.npz``) with the error it reached.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reshoot.errors import ReshootError

MAP_PATH = Path(__file__).resolve().parents[2] / "data" / "mediapipe33_anny_fit.npz"


@dataclass(frozen=True)
class KeypointMap:
    """``keypoints = weights @ vertices + bone heads where bone >= 0``."""

    weights: np.ndarray
    """(33, V) float64: each surface landmark's convex weights over the fitting mesh's vertices (zero rows for joints)"""
    bone: np.ndarray
    """(33,) int: the bone whose head a joint landmark is, -1 for surface landmarks"""
    model: str
    """the body model id the map was fitted for"""
    error_mm: dict[str, float]
    """held-out error of the fit against the full mesh: median, 95th percentile, max"""

    def __call__(self, vertices: np.ndarray, bone_heads: np.ndarray) -> np.ndarray:
        """(..., 33, 3) landmarks from vertices (..., V, 3) and bone heads (..., B, 3);
        works on numpy arrays and on torch tensors (differentiable)."""
        if vertices.shape[-2] != self.weights.shape[1]:
            raise ReshootError(f"keypoint map for {self.weights.shape[1]} vertices, received {vertices.shape[-2]}")
        joint = self.bone >= 0
        if isinstance(vertices, np.ndarray):
            out = np.einsum("kv,...vc->...kc", self.weights, vertices)
            out[..., joint, :] = bone_heads[..., self.bone[joint], :]
            return out
        import torch

        W = torch.as_tensor(self.weights, dtype=vertices.dtype, device=vertices.device)
        out = torch.einsum("kv,...vc->...kc", W, vertices)
        index = torch.as_tensor(np.flatnonzero(joint), device=vertices.device)
        return out.index_copy(-2, index, bone_heads[..., torch.as_tensor(self.bone[joint]), :])


@functools.lru_cache(maxsize=1)
def load_keypoint_map(path: str | Path = MAP_PATH) -> KeypointMap:
    """The shipped map (cached)."""
    path = Path(path)
    if not path.is_file():
        raise ReshootError(f"{path} is missing: reinstall reshoot, or rebuild it with scripts/fit_keypoint_map.py")
    with np.load(path, allow_pickle=False) as data:
        return KeypointMap(weights=data["weights"], bone=data["bone"], model=str(data["model"]),
                           error_mm={k: float(v) for k, v in zip(data["error_names"], data["error_mm"])})  # fmt: skip


# ------------------------------------------------------------------------- fitting


def sample_bodies(count: int, seed: int) -> tuple[list[dict[str, float]], np.ndarray]:
    """``count`` phenotypes and bone rotations (count, B, 3, 3): builds of every kind in
    poses of the motion library at random moments, each bone turned a little more at random."""
    from scipy.spatial.transform import Rotation

    from reshoot.synth.actors import sample_phenotype
    from reshoot.synth.motion import ACTIONS, Segment, Style, evaluate_script, rot_xyz

    rng = np.random.default_rng(seed)
    phenotypes, rotations = [], []
    for _ in range(count):
        phenotypes.append(sample_phenotype(rng))
        action = ACTIONS[rng.integers(len(ACTIONS))]
        motion = evaluate_script([Segment(action, 3.0)], np.array([rng.uniform(0.2, 2.8)]), Style.sample(rng))
        R = rot_xyz(motion.angles)[0]
        jitter = Rotation.from_rotvec(rng.normal(0, np.radians(10), (len(R), 3))).as_matrix()
        R = np.einsum("bij,bjk->bik", jitter, R)
        R[0] = np.eye(3)
        rotations.append(R)
    return phenotypes, np.stack(rotations)


def _posed(variant: str, phenotypes: list[dict[str, float]], rotations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (N, V, 3) and bone heads (N, B, 3) of each body, root at the origin."""
    from reshoot.bodymodel import model_id, pose_body
    from reshoot.synth.actors import _quats_wxyz

    verts, heads = [], []
    for pheno, R in zip(phenotypes, rotations):
        posed = pose_body(model_id(variant), pheno, _quats_wxyz(R[None]), np.eye(4)[None])
        verts.append(posed.vertices_world[0])
        heads.append(posed.bone_heads_world[0])
    return np.stack(verts), np.stack(heads)


def full_mesh_landmarks(phenotypes: list[dict[str, float]], rotations: np.ndarray) -> np.ndarray:
    """(N, 33, 3) the landmarks on the full mesh (the definition)."""
    from reshoot.synth.actors import body_parts

    parts = body_parts()
    verts, heads = _posed("render", phenotypes, rotations)
    return np.stack([verts[:, i] if kind == "vertex" else heads[:, i] for kind, i in parts.landmarks], 1)


def fit_keypoint_map(train: int = 300, test: int = 100, neighbours: int = 12, seed: int = 0) -> KeypointMap:
    """Fit the map on ``train`` random bodies; its ``error_mm`` is measured on ``test`` others."""
    from scipy.optimize import nnls

    from reshoot.bodymodel import model_id
    from reshoot.synth.actors import body_parts

    parts = body_parts()
    phen, rot = sample_bodies(train + test, seed)
    target = full_mesh_landmarks(phen, rot)
    verts, heads = _posed("fit", phen, rot)
    V = verts.shape[1]
    weights, bone = np.zeros((len(parts.landmarks), V)), np.full(len(parts.landmarks), -1)
    for k, (kind, index) in enumerate(parts.landmarks):
        if kind == "bone":
            bone[k] = index
            continue
        # candidates: the low-poly vertices nearest the landmark, over the training bodies
        d = np.linalg.norm(verts[:train] - target[:train, k, None, :], axis=-1).mean(0)
        near = np.argsort(d)[:neighbours]
        # min |A w - b|^2 with w >= 0, sum w = 1 (a heavy row holds the sum)
        A = verts[:train][:, near, :].transpose(0, 2, 1).reshape(-1, neighbours)
        b = target[:train, k, :].reshape(-1)
        A = np.vstack([A, 100.0 * np.ones(neighbours)])
        b = np.concatenate([b, [100.0]])
        w, _ = nnls(A, b)
        weights[k, near] = w / w.sum()
    kmap = KeypointMap(weights, bone, model_id("fit"), {})
    err = np.linalg.norm(kmap(verts[train:], heads[train:]) - target[train:], axis=-1) * 1000.0
    surface = bone < 0
    errors = {"median": float(np.median(err[:, surface])), "p95": float(np.percentile(err[:, surface], 95)),
              "max": float(err[:, surface].max()), "joints_max": float(err[:, ~surface].max())}  # fmt: skip
    return KeypointMap(weights, bone, model_id("fit"), errors)


def save_keypoint_map(kmap: KeypointMap, path: str | Path = MAP_PATH) -> None:
    names = list(kmap.error_mm)
    np.savez_compressed(path, weights=kmap.weights, bone=kmap.bone, model=np.array(kmap.model),
                        error_names=np.array(names), error_mm=np.array([kmap.error_mm[n] for n in names]))  # fmt: skip
