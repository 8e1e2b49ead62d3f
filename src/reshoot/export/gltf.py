"""Binary glTF 2.0 (``.glb``) of a shot: the animated camera that matches the plate and
every actor as a skinned anny mesh with its motion, to re-stage the shot in Blender.

Conventions (reshoot inside, glTF outside)
------------------------------------------
- **World.** reshoot: right-handed, Z up, metres. glTF: right-handed, Y up, metres. Points
  map by ``C`` = :data:`reshoot.frames.R_GLTF_WORLD` ((x, y, z) -> (x, z, -y), a proper
  rotation); rigid transforms are conjugated, ``Cx M Cx^-1`` (``Cx`` the 4x4 of ``C``), so
  that bones' local axes are glTF's axes too.
- **Camera.** reshoot cameras are OpenCV (x right, y down, z forward); glTF cameras look
  down -Z with +Y up, so the camera node's world rotation is ``C R_world_cam diag(1, -1, -1)``
  and its translation ``C t_world_cam``. ``yfov = 2 atan(H / (2 fy))`` and
  ``aspectRatio = (W / fx) / (H / fy)``: the full image, the lens's principal point at its centre.
- **Time.** One animation, ``"shot"``, holds every channel; keyframes are the frames, in
  seconds from the first (the video's timestamps when it has them, else ``t / fps``),
  interpolated LINEARly (quaternions kept sign-continuous, so slerp takes the short way).
- **Bodies.** The full anny mesh (:mod:`reshoot.bodymodel` variant ``"render"``, whose rig
  every variant shares), bound in anny's rest pose for the actor's phenotype. One joint
  node per bone under one armature node per actor; every bone's rotation is animated, the
  root's translation too (a bone's offset from its parent is constant in anny, and is
  animated only where it is not). The skinned mesh node sits at the scene root. An actor
  is shown on the frames it is in the shot only: elsewhere its armature's scale is 0 (a
  STEP channel; its pose there is held from the nearest frame it was seen, not seen).

What a glTF cannot carry
------------------------
- **The principal point.** glTF cameras have none, and Blender's importer cannot shift the
  lens: when it lies off centre by more than 1% of the image, :func:`write_gltf` warns. The
  image size and the median fx, fy, cx, cy are kept in the camera node's ``extras``.
- **Lens distortion.** glTF cameras are pinholes (a warning when the shot has any).
- **Skinning influences beyond four per vertex.** anny blends up to nine bones per vertex;
  each vertex keeps its four largest weights, renormalised (what every glTF client
  supports). Measured against anny's exact vertices, on :mod:`reshoot.synth` actors walking,
  waving, running and sitting (120 frames each): 0.06 to 0.11 mm on average, 99% of vertices
  within 1.6 to 2.8 mm, 16 to 22 mm at worst, where five or more bones blend (the base of the
  neck under a raised arm, the lower back when seated); on random poses with every bone
  turned ~0.2 rad: 0.08 mm on average, 10 mm at worst (``tests/test_export_gltf.py``).
- **A zoom**, in viewers without ``KHR_animation_pointer`` (declared used, not required):
  they show the first frame's field of view throughout.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pygltflib as gl
import roma
import torch

from reshoot import __version__
from reshoot._files import atomic_path
from reshoot.bodymodel import load_anny, pose_parameters, stature_m, variant_of
from reshoot.errors import InputError, ReshootError
from reshoot.frames import R_GL_CV, R_GLTF_WORLD
from reshoot.render.overlay import PALETTE
from reshoot.shot import Actor, BodyParams, Shot, Video

log = logging.getLogger(__name__)

#: Skinning influences kept per vertex (JOINTS_0 / WEIGHTS_0, what every glTF client reads).
MAX_INFLUENCES = 4
#: The camera's clipping planes, metres.
ZNEAR_M = 0.05
ZFAR_M = 1000.0
#: A principal point further from the image centre than this fraction of the image size gets a warning.
PRINCIPAL_POINT_TOL = 0.01
#: A bone's offset from its parent is animated when it varies by more than this, metres.
TRANSLATION_TOL_M = 1e-6
#: Frames per batch when evaluating the body model.
BATCH_FRAMES = 64
#: The animation pointer of the shot's one camera's vertical field of view.
YFOV_POINTER = "/cameras/0/perspective/yfov"
ANIMATION_POINTER = "KHR_animation_pointer"

#: ``Cx``: the 4x4 that maps reshoot (Z up) world points to glTF (Y up) ones.
_CX = np.eye(4)
_CX[:3, :3] = R_GLTF_WORLD


@dataclass
class GltfExport:
    """What :func:`write_gltf` wrote."""

    path: Path
    """the ``.glb`` file"""
    warnings: list[str]
    """what of the shot the file cannot carry, one line each (each also logged)"""


def write_gltf(shot: Shot, path: str | os.PathLike) -> GltfExport:
    """Write ``shot`` as a binary glTF 2.0 file at ``path`` (a ``.glb``), atomically.

    The file holds the shot's camera (a node with a perspective camera, animated per frame)
    and, for every actor with a body, a skinned anny mesh (full resolution) driven by an
    animated skeleton. See the module docstring for the conventions and what is lost.
    A shot with a camera but no bodies gives a file with the camera alone.

    Raises :class:`~reshoot.errors.ReshootError` when the shot has no camera or no lens.
    """
    path = Path(path)
    if path.suffix.lower() != ".glb":
        raise InputError(f"glTF export path {path} should end in .glb (binary glTF)")
    missing = [name for name in ("camera", "lens") if getattr(shot, name) is None]
    if missing:
        raise ReshootError(f"cannot export a glTF of a shot without a {' or '.join(missing)}: run the camera_init stage first")
    shot.validate()

    doc = _Document(_keyframe_times_s(shot.video))
    warnings = _add_camera(doc, shot)
    for k, actor in enumerate(shot.actors):
        if actor.body is None:
            warnings.append(f"actor {actor.track_id} has no body (run the bodies stage): left out of the glTF")
            continue
        _add_actor(doc, actor, PALETTE[k % len(PALETTE)])
    video = shot.video
    doc.gltf.scenes[0].extras = {
        "reshoot_version": __version__, "fps": video.fps, "num_frames": video.num_frames,
        "width": video.width, "height": video.height, "source": video.source,
    }  # fmt: skip
    for warning in warnings:
        log.warning("%s: %s", path.name, warning)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_bytes(doc.to_bytes())
    log.info("wrote %s (%d actors, %d frames)", path, len(doc.gltf.skins), video.num_frames)
    return GltfExport(path, warnings)


# ---------------------------------------------------------------------------- the camera


def _add_camera(doc: _Document, shot: Shot) -> list[str]:
    """Add the shot's camera (node 0, camera 0) and its animation; return the warnings."""
    lens, video = shot.lens, shot.video
    W, H = video.width, video.height
    R_world_cam = shot.camera.T_world_cam[:, :3, :3]
    R_gltf_cam = R_GLTF_WORLD @ R_world_cam @ R_GL_CV  # glTF camera axes: x right, y up, looking down -z
    t_gltf_cam = shot.camera.T_world_cam[:, :3, 3] @ R_GLTF_WORLD.T
    yfov_rad = 2.0 * np.arctan(H / (2.0 * lens.fy))
    aspect = float(np.median((W / lens.fx) / (H / lens.fy)))

    doc.gltf.cameras.append(gl.Camera(type="perspective", perspective=gl.Perspective(
        yfov=float(yfov_rad[0]), aspectRatio=aspect, znear=ZNEAR_M, zfar=ZFAR_M)))  # fmt: skip
    quats = _unit_quats_xyzw(R_gltf_cam)
    node = doc.add_node(gl.Node(
        name="camera", camera=0, translation=_floats(t_gltf_cam[0]), rotation=_floats(quats[0]),
        extras={"width": W, "height": H, **{f"{k}_px": float(np.median(getattr(lens, k))) for k in ("fx", "fy", "cx", "cy")}},
    ))  # fmt: skip
    doc.scene_nodes.append(node)
    doc.animate(node, "translation", t_gltf_cam)
    doc.animate(node, "rotation", quats)
    if lens.zooms or np.ptp(lens.fy) > 0:
        doc.animate_pointer(YFOV_POINTER, yfov_rad)

    warnings = []
    off_x, off_y = np.abs(lens.cx - W / 2).max() / W, np.abs(lens.cy - H / 2).max() / H
    if max(off_x, off_y) > PRINCIPAL_POINT_TOL:
        warnings.append(
            f"the principal point is off the image centre by up to {100 * off_x:.1f}% of the width and "
            f"{100 * off_y:.1f}% of the height; glTF cameras (and Blender's importer) cannot shift the lens, so the "
            f"camera frames the plate off by that much (cx, cy are in the camera node's extras)"
        )
    if lens.distortion is not None and np.any(lens.distortion != 0):
        warnings.append("the lens has distortion, which glTF cameras cannot carry: the glTF camera is a pinhole")
    if not shot.camera.metric:
        warnings.append("the camera path is not metric (its scale is unresolved): the glTF's units are not metres")
    return warnings


# ---------------------------------------------------------------------------- the actors


def _add_actor(doc: _Document, actor: Actor, colour_rgb: np.ndarray) -> None:
    """Add one actor: an armature node with a joint node per bone, their animation, and
    the skinned full-resolution anny mesh bound to them."""
    body = actor.body
    model = load_anny("render", "float64")
    variant_of(body.model)  # a model reshoot knows: every variant shares the render model's rig
    if list(body.bone_names) != list(model.bone_labels):
        raise ReshootError(
            f"actor {actor.track_id}: body bones {body.bone_names[:3]}... (B={len(body.bone_names)}) do not match "
            f"the anny rig {model.bone_labels[:3]}... (B={model.bone_count})"
        )
    rest_vertices, rest_bone_poses, bone_poses = _evaluate_rig(model, body)
    # glTF axes (conjugated rigid transforms): joint world matrices and their bind pose
    J_gltf = _CX @ bone_poses @ _CX.T  # (T, B, 4, 4)
    inverse_bind = np.linalg.inv(_CX @ rest_bone_poses @ _CX.T)  # (B, 4, 4)
    parents = list(model.bone_parents)

    first = len(doc.gltf.nodes)
    joints = list(range(first + 1, first + 1 + model.bone_count))
    present, drawn = np.flatnonzero(actor.present), actor.drawn()
    doc.add_node(gl.Node(name=f"actor_{actor.track_id}", children=[joints[0]],
                         scale=None if drawn[0] else [0.0, 0.0, 0.0], extras={
        "track_id": actor.track_id, "label": actor.label, "model": body.model, "phenotype": dict(body.phenotype),
        "stature_m": stature_m(body.phenotype), "frames_present": int(present.size),
        "first_frame": int(present[0]) if present.size else None, "last_frame": int(present[-1]) if present.size else None,
    }))  # fmt: skip
    doc.scene_nodes.append(first)
    if not drawn.all():  # shown on the frames it is in the shot only (a moment hidden behind someone included)
        doc.animate(first, "scale", np.repeat(drawn.astype(np.float64)[:, None], 3, 1), gl.ANIM_STEP)
    for b, name in enumerate(model.bone_labels):
        local = J_gltf[:, b] if parents[b] < 0 else np.linalg.inv(J_gltf[:, parents[b]]) @ J_gltf[:, b]
        translation, quats = local[:, :3, 3], _unit_quats_xyzw(local[:, :3, :3])
        node = doc.add_node(gl.Node(
            name=name, translation=_floats(translation[0]), rotation=_floats(quats[0]),
            children=[joints[c] for c, p in enumerate(parents) if p == b],
        ))  # fmt: skip
        doc.animate(node, "rotation", quats)
        if parents[b] < 0 or np.abs(translation - translation[0]).max() > TRANSLATION_TOL_M:
            doc.animate(node, "translation", translation)

    skin = len(doc.gltf.skins)
    doc.gltf.skins.append(gl.Skin(
        name=f"actor_{actor.track_id}", joints=joints, skeleton=joints[0],
        inverseBindMatrices=doc.add_accessor(np.swapaxes(inverse_bind, 1, 2).astype(np.float32), gl.MAT4),  # column-major
    ))  # fmt: skip
    doc.gltf.materials.append(gl.Material(
        name=f"actor_{actor.track_id}", pbrMetallicRoughness=gl.PbrMetallicRoughness(
            baseColorFactor=[*_srgb_to_linear(colour_rgb / 255.0), 1.0], metallicFactor=0.0, roughnessFactor=0.7),
    ))  # fmt: skip
    positions = (rest_vertices @ R_GLTF_WORLD.T).astype(np.float32)
    shared = doc.rig_accessors(model)
    attributes = gl.Attributes(
        POSITION=doc.add_accessor(positions, gl.VEC3, target=gl.ARRAY_BUFFER, bounds=True),
        NORMAL=doc.add_accessor(_vertex_normals(positions, shared.faces), gl.VEC3, target=gl.ARRAY_BUFFER),
        JOINTS_0=shared.joints, WEIGHTS_0=shared.weights,
    )  # fmt: skip
    mesh = len(doc.gltf.meshes)
    doc.gltf.meshes.append(gl.Mesh(name=f"actor_{actor.track_id}", primitives=[
        gl.Primitive(attributes=attributes, indices=shared.indices, material=len(doc.gltf.materials) - 1)]))  # fmt: skip
    doc.scene_nodes.append(doc.add_node(gl.Node(name=f"actor_{actor.track_id}_body", mesh=mesh, skin=skin)))


def _evaluate_rig(model: torch.nn.Module, body: BodyParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """anny for a body, as :func:`reshoot.bodymodel.pose_body` poses it, in the Z-up world:
    the rest vertices (V, 3) and rest bone poses (B, 4, 4) of its phenotype, and the bone
    poses (T, B, 4, 4) of every frame, metres."""
    T = len(body.bone_quats_wxyz)
    pose = pose_parameters(body.bone_quats_wxyz, body.T_world_root)
    phenotype = {k: torch.full((1,), float(v), dtype=torch.float64) for k, v in body.phenotype.items()}
    bone_poses = []
    with torch.no_grad():
        for s in range(0, T, BATCH_FRAMES):
            chunk = pose[s : s + BATCH_FRAMES]
            out = model(pose_parameters=chunk, phenotype_kwargs={k: v.expand(len(chunk)) for k, v in phenotype.items()})
            bone_poses.append(out["bone_poses"].numpy())
    return out["rest_vertices"][0].numpy(), out["rest_bone_poses"][0].numpy(), np.concatenate(bone_poses)


def _top_influences(joints: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each vertex's :data:`MAX_INFLUENCES` largest skinning weights, renormalised to sum 1
    (to float32 rounding, 1.2e-7), (V, 4) float32, and their bone indices (V, 4) (0 where the weight is 0)."""
    order = np.argsort(-weights, axis=1, kind="stable")[:, :MAX_INFLUENCES]
    top = np.take_along_axis(weights, order, 1)
    top = (top / top.sum(1, keepdims=True)).astype(np.float32)
    return np.where(top > 0, np.take_along_axis(joints, order, 1), 0), top


def _vertex_normals(positions: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals (V, 3) float32 of a triangle mesh."""
    p = positions.astype(np.float64)
    face_normals = np.cross(p[faces[:, 1]] - p[faces[:, 0]], p[faces[:, 2]] - p[faces[:, 0]])  # length: twice the area
    normals = np.zeros_like(p)
    for corner in range(3):
        np.add.at(normals, faces[:, corner], face_normals)
    return (normals / np.linalg.norm(normals, axis=1, keepdims=True)).astype(np.float32)


def _srgb_to_linear(c: np.ndarray) -> list[float]:
    """sRGB colour components in [0, 1] -> linear ones (glTF colour factors are linear)."""
    return [float(v) for v in np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)]


# ---------------------------------------------------------------------------- the document


@dataclass
class _RigAccessors:
    """Accessors every actor's mesh shares (one topology, one skinning)."""

    faces: np.ndarray
    """(F, 3) triangle vertex indices"""
    indices: int
    joints: int
    weights: int


class _Document:
    """A glTF document under construction: its binary chunk, its one scene and its one animation."""

    def __init__(self, times_s: np.ndarray) -> None:
        self.gltf = gl.GLTF2(asset=gl.Asset(generator=f"reshoot {__version__}"), scene=0, scenes=[gl.Scene(name="shot")])
        self.scene_nodes: list[int] = self.gltf.scenes[0].nodes
        self.data = bytearray()
        self.animation = gl.Animation(name="shot")
        self.num_frames = len(times_s)
        self.times = self.add_accessor(times_s.astype(np.float32), gl.SCALAR, bounds=True)
        self._rig: _RigAccessors | None = None

    def add_accessor(self, array: np.ndarray, kind: str, *, target: int | None = None, bounds: bool = False) -> int:
        """Append ``array`` (first axis: the elements) in its own buffer view; return its accessor."""
        component = {np.dtype(np.float32): gl.FLOAT, np.dtype(np.uint8): gl.UNSIGNED_BYTE,
                     np.dtype(np.uint16): gl.UNSIGNED_SHORT, np.dtype(np.uint32): gl.UNSIGNED_INT}[array.dtype]  # fmt: skip
        self.data.extend(b"\0" * (-len(self.data) % 4))
        self.gltf.bufferViews.append(gl.BufferView(buffer=0, byteOffset=len(self.data), byteLength=array.nbytes, target=target))
        self.data.extend(np.ascontiguousarray(array).tobytes())
        flat = array.reshape(len(array), -1)
        self.gltf.accessors.append(gl.Accessor(
            bufferView=len(self.gltf.bufferViews) - 1, componentType=component, count=len(array), type=kind,
            min=[float(v) for v in flat.min(0)] if bounds else None, max=[float(v) for v in flat.max(0)] if bounds else None,
        ))  # fmt: skip
        return len(self.gltf.accessors) - 1

    def add_node(self, node: gl.Node) -> int:
        self.gltf.nodes.append(node)
        return len(self.gltf.nodes) - 1

    def rig_accessors(self, model: torch.nn.Module) -> _RigAccessors:
        """The triangle indices and the (truncated) skinning of anny's render mesh, added once."""
        if self._rig is None:
            faces = model.get_triangular_faces().numpy()
            joints, weights = _top_influences(model.vertex_bone_indices.numpy(), model.vertex_bone_weights.numpy())
            index_type = np.uint16 if faces.max() < 65535 else np.uint32
            joint_type = np.uint8 if model.bone_count <= 256 else np.uint16
            self._rig = _RigAccessors(
                faces=faces,
                indices=self.add_accessor(faces.reshape(-1).astype(index_type), gl.SCALAR, target=gl.ELEMENT_ARRAY_BUFFER),
                joints=self.add_accessor(joints.astype(joint_type), gl.VEC4, target=gl.ARRAY_BUFFER),
                weights=self.add_accessor(weights, gl.VEC4, target=gl.ARRAY_BUFFER),
            )
        return self._rig

    def animate(self, node: int, path: str, values: np.ndarray, interpolation: str = gl.ANIM_LINEAR) -> None:
        """A channel of ``node``'s ``path`` ("translation", "rotation" or "scale"), one value per frame."""
        kind = gl.VEC4 if path == "rotation" else gl.VEC3
        self._channel(gl.AnimationChannelTarget(node=node, path=path), values.astype(np.float32), kind, interpolation)

    def animate_pointer(self, pointer: str, values: np.ndarray) -> None:
        """A LINEAR channel of a scalar property named by a JSON pointer (``KHR_animation_pointer``)."""
        target = gl.AnimationChannelTarget(path="pointer", extensions={ANIMATION_POINTER: {"pointer": pointer}})
        self._channel(target, values.astype(np.float32), gl.SCALAR, gl.ANIM_LINEAR)
        if ANIMATION_POINTER not in self.gltf.extensionsUsed:
            self.gltf.extensionsUsed.append(ANIMATION_POINTER)  # used, not required: other viewers still load the file

    def _channel(self, target: gl.AnimationChannelTarget, values: np.ndarray, kind: str, interpolation: str) -> None:
        output = self.add_accessor(values, kind)
        self.animation.samplers.append(gl.AnimationSampler(input=self.times, output=output, interpolation=interpolation))
        self.animation.channels.append(gl.AnimationChannel(sampler=len(self.animation.samplers) - 1, target=target))

    def to_bytes(self) -> bytes:
        """The finished ``.glb`` file."""
        self.gltf.animations = [self.animation]
        self.gltf.buffers = [gl.Buffer(byteLength=len(self.data))]
        self.gltf.set_binary_blob(bytes(self.data))
        return b"".join(self.gltf.save_to_bytes())


# ---------------------------------------------------------------------------- helpers


def _keyframe_times_s(video: Video) -> np.ndarray:
    """(T,) the frames' times in seconds from the first frame."""
    if video.timestamps_s is not None:
        return video.timestamps_s - video.timestamps_s[0]
    return np.arange(video.num_frames) / video.fps


def _unit_quats_xyzw(R: np.ndarray) -> np.ndarray:
    """(T, 3, 3) rotations over frames -> (T, 4) unit quaternions (x, y, z, w) (glTF's order),
    signs chosen so that consecutive ones are in the same hemisphere."""
    q = roma.rotmat_to_unitquat(torch.from_numpy(np.ascontiguousarray(R))).numpy()
    same_side = np.sign(np.einsum("ti,ti->t", q[1:], q[:-1]))
    flips = np.cumprod(np.concatenate([[1.0], np.where(same_side == 0, 1.0, same_side)]))
    return q * flips[:, None]


def _floats(v: np.ndarray) -> list[float]:
    """A vector as the float32 values the file stores (so a node's TRS is its channel's first key)."""
    return [float(x) for x in v.astype(np.float32)]
