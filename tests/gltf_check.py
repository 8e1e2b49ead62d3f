"""Reading a .glb back for the tests: the Khronos glTF validator's report, and the file
evaluated by hand at its keyframes (animation, node hierarchy, linear blend skinning)."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pygltflib
import pytest
from scipy.spatial.transform import Rotation

VALIDATOR = Path(__file__).resolve().parents[1] / ".cache/node/node_modules/gltf-validator"
#: glTF (Y up) from reshoot (Z up): (x, y, z) -> (x, z, -y), written out here as the spec says.
C = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


def validate(path: Path) -> dict:
    """The Khronos glTF validator's report on ``path``."""
    if shutil.which("node") is None or not VALIDATOR.is_dir():
        pytest.fail(f"the Khronos glTF validator (node and {VALIDATOR}) is missing: `make install` puts it there")
    script = ("const v = require(process.argv[1]);"
              "v.validateBytes(new Uint8Array(require('fs').readFileSync(process.argv[2])))"
              ".then(r => console.log(JSON.stringify(r)), e => { console.error(e); process.exit(1); });")  # fmt: skip
    out = subprocess.run(["node", "-e", script, str(VALIDATOR), str(path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["issues"]


def assert_valid(path: Path) -> None:
    issues = validate(path)
    problems = [m for m in issues["messages"] if m["severity"] <= 1]  # 0 errors, 1 warnings (2 infos, 3 hints)
    assert issues["numErrors"] == 0 and issues["numWarnings"] == 0, problems


@dataclass
class Glb:
    """A re-loaded .glb, evaluated by hand at keyframes."""

    gltf: pygltflib.GLTF2
    blob: bytes

    @classmethod
    def load(cls, path: Path) -> Glb:
        gltf = pygltflib.GLTF2().load(str(path))
        return cls(gltf, gltf.binary_blob())

    def read(self, accessor: int) -> np.ndarray:
        """An accessor's elements, (count,) or (count, n) (MAT4: (count, 4, 4), row-major)."""
        acc = self.gltf.accessors[accessor]
        view = self.gltf.bufferViews[acc.bufferView]
        dtype = {5126: np.float32, 5121: np.uint8, 5123: np.uint16, 5125: np.uint32}[acc.componentType]
        n = {"SCALAR": 1, "VEC3": 3, "VEC4": 4, "MAT4": 16}[acc.type]
        a = np.frombuffer(self.blob, dtype, acc.count * n, view.byteOffset + (acc.byteOffset or 0)).astype(np.float64)
        if acc.type == "MAT4":
            return a.reshape(-1, 4, 4).transpose(0, 2, 1)  # stored column-major
        return a if n == 1 else a.reshape(-1, n)

    def node_index(self, name: str) -> int:
        return next(i for i, n in enumerate(self.gltf.nodes) if n.name == name)

    def channels(self) -> dict[tuple, np.ndarray]:
        """Every channel's keyframe values, keyed (node, path) or ("pointer", json pointer)."""
        anim = self.gltf.animations[0]
        out = {}
        for ch in anim.channels:
            values = self.read(anim.samplers[ch.sampler].output)
            if ch.target.path == "pointer":
                out["pointer", ch.target.extensions["KHR_animation_pointer"]["pointer"]] = values
            else:
                out[ch.target.node, ch.target.path] = values
        return out

    def world_matrices(self, t: int) -> dict[int, np.ndarray]:
        """Every node's world matrix at keyframe ``t`` (glTF world, Y up)."""
        channels = self.channels()
        local = {}
        for i, node in enumerate(self.gltf.nodes):
            trs = {"translation": node.translation or [0, 0, 0], "rotation": node.rotation or [0, 0, 0, 1],
                   "scale": node.scale or [1, 1, 1]}  # fmt: skip
            trs.update({path: channels[i, path][t] for path in trs if (i, path) in channels})
            assert node.matrix is None
            M = np.eye(4)
            # T R S; quaternions (x, y, z, w) in glTF and scipy alike
            M[:3, :3] = Rotation.from_quat(trs["rotation"]).as_matrix() * np.asarray(trs["scale"])
            M[:3, 3] = trs["translation"]
            local[i] = M
        world = {}

        def visit(i: int, parent: np.ndarray) -> None:
            world[i] = parent @ local[i]
            for c in self.gltf.nodes[i].children:
                visit(c, world[i])

        for root in self.gltf.scenes[self.gltf.scene].nodes:
            visit(root, np.eye(4))
        return world

    def skinned_vertices(self, mesh_node: int, t: int) -> np.ndarray:
        """(V, 3) the mesh of ``mesh_node`` skinned at keyframe ``t`` (linear blend skinning), glTF world."""
        node = self.gltf.nodes[mesh_node]
        skin, prim = self.gltf.skins[node.skin], self.gltf.meshes[node.mesh].primitives[0]
        world = self.world_matrices(t)
        joint_mats = np.stack([world[j] for j in skin.joints]) @ self.read(skin.inverseBindMatrices)
        joints = self.read(prim.attributes.JOINTS_0).astype(int)
        weights = self.read(prim.attributes.WEIGHTS_0)
        p = np.concatenate([self.read(prim.attributes.POSITION), np.ones((len(joints), 1))], 1)
        blended = np.einsum("vk,vkij->vij", weights, joint_mats[joints])
        return np.einsum("vij,vj->vi", blended, p)[:, :3]


def gltf_to_zup(points: np.ndarray) -> np.ndarray:
    return points @ C  # the inverse of p -> C p, on row vectors
