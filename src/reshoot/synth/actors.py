"""Synthetic actors: anny bodies with a look (skin, hair, clothes, a face), a scripted
motion with planted feet, and the 33 mediapipe landmarks on their surface.

Everything here is ground truth: the body parameters written to the shot are exactly the
ones the pictures were rendered from (anny's full mesh, ``bodymodel.VARIANTS['render']``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from reshoot.bodymodel import height_for_stature, load_anny, model_id
from reshoot.errors import ReshootError
from reshoot.keypoints import MEDIAPIPE33
from reshoot.shot import BodyParams
from reshoot.synth.motion import (
    BONE,
    BONES,
    Planted,
    Segment,
    Style,
    evaluate_script,
    flat_feet,
    plant,
    rot_xyz,
    stance_feet,
    step_yaws,
)

SKIN_TONES = np.array([
    [0.96, 0.80, 0.69], [0.92, 0.73, 0.60], [0.84, 0.62, 0.48], [0.71, 0.50, 0.36],
    [0.56, 0.38, 0.26], [0.42, 0.27, 0.18], [0.30, 0.19, 0.13],
])  # fmt: skip
HAIR = np.array([[0.06, 0.05, 0.04], [0.18, 0.11, 0.06], [0.35, 0.22, 0.12], [0.72, 0.58, 0.35], [0.55, 0.55, 0.55]])
CLOTHES = {
    "red": (0.70, 0.12, 0.12), "blue": (0.12, 0.25, 0.55), "green": (0.15, 0.45, 0.25), "yellow": (0.85, 0.75, 0.20),
    "white": (0.90, 0.90, 0.88), "black": (0.15, 0.15, 0.17), "purple": (0.45, 0.30, 0.55), "orange": (0.85, 0.45, 0.15),
    "light blue": (0.35, 0.55, 0.70), "brown": (0.55, 0.45, 0.35), "pink": (0.80, 0.55, 0.60), "olive": (0.30, 0.32, 0.22),
}  # fmt: skip
TROUSERS = np.array([[0.10, 0.14, 0.28], [0.12, 0.12, 0.13], [0.35, 0.30, 0.22], [0.25, 0.35, 0.50], [0.45, 0.42, 0.38]])


@dataclass
class Look:
    """How an actor is dressed; colours are RGB in [0, 1], as lit white they show in the frame."""

    skin: np.ndarray
    hair: np.ndarray
    shirt_colour: str
    """a key of :data:`CLOTHES`"""
    trousers: np.ndarray
    shoes: np.ndarray
    short_sleeves: bool
    shorts: bool

    @property
    def shirt(self) -> np.ndarray:
        return np.array(CLOTHES[self.shirt_colour])

    @staticmethod
    def sample(rng: np.random.Generator, min_contrast: float = 0.25) -> Look:
        """A random look; clothes differ from the skin by at least ``min_contrast`` (RGB
        distance), so that nobody seems to wear nothing."""
        skin = SKIN_TONES[rng.integers(len(SKIN_TONES))] * rng.uniform(0.95, 1.05)

        def unlike_skin(colours: np.ndarray) -> np.ndarray:
            return np.flatnonzero(np.linalg.norm(colours - skin, axis=1) >= min_contrast)

        shirts = unlike_skin(np.array(list(CLOTHES.values())))
        return Look(
            skin=skin, hair=HAIR[rng.integers(len(HAIR))], shirt_colour=list(CLOTHES)[rng.choice(shirts)],
            trousers=TROUSERS[rng.choice(unlike_skin(TROUSERS))], shoes=np.array([0.08, 0.07, 0.07]) * rng.uniform(0.7, 3.0),
            short_sleeves=bool(rng.random() < 0.4), shorts=bool(rng.random() < 0.2),
        )  # fmt: skip

    def describe(self) -> str:
        """E.g. 'red t-shirt, trousers': the actor's label in the shot."""
        return f"{self.shirt_colour} {'t-shirt' if self.short_sleeves else 'shirt'}, {'shorts' if self.shorts else 'trousers'}"


#: Adult standing height, metres: mean for a man (anny gender 0) and a woman (gender 1),
#: and the spread within each (adults of Europe and North America, NCD-RisC 2016: men
#: 1.75-1.81 m, women 1.62-1.68 m; standard deviation about 7 cm).
ADULT_STATURE_M = {"male": 1.77, "female": 1.64, "sd": 0.07}


def sample_phenotype(rng: np.random.Generator, child: bool = False) -> dict[str, float]:
    """An adult of varied gender, age and build, whose standing height is drawn from the
    adult distribution for that gender (within 2.5 standard deviations); or a child of
    about eight (anny's own height for the age)."""
    pheno = {
        "gender": float(rng.uniform(0, 1)), "age": float(rng.uniform(0.62, 0.95)),
        "muscle": float(rng.uniform(0.3, 0.7)), "weight": float(rng.uniform(0.25, 0.75)),
        "height": 0.5, "proportions": 0.5,
    }  # fmt: skip
    if child:
        return {**pheno, "age": float(rng.uniform(0.27, 0.33))}
    s = ADULT_STATURE_M
    mean = s["male"] + pheno["gender"] * (s["female"] - s["male"])
    target = mean + s["sd"] * float(np.clip(rng.standard_normal(), -2.5, 2.5))
    pheno["height"] = height_for_stature(pheno, target)
    return pheno


# --------------------------------------------------------------- the mesh's parts


@dataclass(frozen=True)
class BodyParts:
    """Fixed facts of the render mesh's topology (any phenotype): regions and landmarks."""

    bone: np.ndarray
    """(V,) index of each vertex's dominant bone"""
    rest: np.ndarray
    """(V, 3) rest vertices of the template"""
    faces: np.ndarray
    """(F, 3)"""
    eye: np.ndarray
    """(V,) bool: the visible eyeball (iris and white)"""
    lips: np.ndarray
    """(V,) bool"""
    hair: np.ndarray
    """(V,) bool: scalp"""
    brows: np.ndarray
    """(V,) bool"""
    soles: tuple[np.ndarray, np.ndarray]
    """left and right: vertices moved by the foot bone alone (rigid with it, unlike the
    ankle's blended skin), the part of a foot that is planted on the ground"""
    landmarks: tuple[tuple[str, int], ...]
    """per mediapipe landmark: ("vertex", index) or ("bone", index), in MEDIAPIPE33 order"""


def _uv_mask_per_vertex(model, mask: np.ndarray) -> np.ndarray:
    """(V,) bool: vertices whose texture coordinate falls in ``mask`` (h, w) of anny's UV space."""
    uv = model.texture_coordinates.numpy()[model.face_texture_coordinate_indices.numpy()]  # (F, 3, 2)
    faces = model.faces.numpy()
    h, w = mask.shape
    col = np.clip((uv[..., 0] * w).astype(int), 0, w - 1)
    row = np.clip(((1 - uv[..., 1]) * h).astype(int), 0, h - 1)
    hit = mask[row, col]
    out = np.zeros(len(model.template_vertices), bool)
    out[faces[hit]] = True
    return out


@functools.lru_cache(maxsize=1)
def body_parts() -> BodyParts:
    """Regions and landmarks of the render mesh, from its template and anny's UV masks."""
    import cv2
    from anny.paths import get_anny_root_dir

    model = load_anny("render", "float64")
    if tuple(model.bone_labels) != BONES:
        raise ReshootError(f"anny's rig has bones {model.bone_labels}, reshoot expects {BONES}")
    rest = model.template_vertices.numpy()
    bone = model.dense_vertex_bone_weights.numpy().argmax(1)
    heads = model.template_bone_heads.numpy()
    data = get_anny_root_dir() / "data"
    seg = cv2.cvtColor(cv2.imread(str(data / "segmentation/body_parts_segmentation.png")), cv2.COLOR_BGR2RGB)
    eye = np.zeros(len(rest), bool)
    for rgb in ([16, 231, 186], [16, 115, 231]):  # eye_front.L, eye_front.R (body_parts_segmentation.yaml)
        eye |= _uv_mask_per_vertex(model, np.all(seg == rgb, -1))
    lips = _uv_mask_per_vertex(model, cv2.imread(str(data / "mpfb2/textures/mpfb_lips.jpg"), 0) > 128)
    head = np.isin(bone, [BONE["head"], BONE["eye.L"], BONE["eye.R"]])
    eye_c = heads[[BONE["eye.L"], BONE["eye.R"]]]
    eye_z, eye_y = float(eye_c[:, 2].mean()), float(eye_c[:, 1].mean())
    x, y, z = rest.T
    hair = head & ~eye & ((z > eye_z + 0.045) | ((y > eye_y + 0.075) & (z > eye_z - 0.07)))
    above_eyes = (z > eye_z + 0.012) & (z < eye_z + 0.026) & (y < eye_y + 0.01)
    brows = head & ~eye & above_eyes & (np.abs(np.abs(x) - np.abs(eye_c[0, 0])) < 0.022)

    def nearest(mask: np.ndarray, point) -> int:
        idx = np.flatnonzero(mask)
        return int(idx[np.argmin(np.linalg.norm(rest[idx] - np.asarray(point), axis=1))])

    face_front = head & ~eye & (y < eye_y)
    lm: dict[str, tuple[str, int]] = {}
    midline = np.flatnonzero(head & (np.abs(x) < 0.01) & (z < eye_z) & (z > eye_z - 0.07))
    lm["nose"] = ("vertex", int(midline[np.argmin(y[midline])]))  # the tip: the front-most point
    for side, sx in (("left", 1.0), ("right", -1.0)):
        c = eye_c[0 if side == "left" else 1]
        front = eye & (np.sign(x) == sx)
        lm[f"{side}_eye"] = ("vertex", nearest(front, c + [0, -0.03, 0]))
        lm[f"{side}_eye_inner"] = ("vertex", nearest(face_front, c + [-sx * 0.016, -0.012, 0]))
        lm[f"{side}_eye_outer"] = ("vertex", nearest(face_front, c + [sx * 0.018, -0.005, 0]))
        ear = head & (np.abs(z - (eye_z - 0.015)) < 0.012)
        lm[f"{side}_ear"] = ("vertex", int(np.flatnonzero(ear)[np.argmax(sx * x[ear])]))
        lm[f"mouth_{side}"] = ("vertex", int(np.flatnonzero(lips)[np.argmax(sx * x[lips])]))
        s = side[0].upper()
        lm[f"{side}_shoulder"] = ("bone", BONE[f"upperarm01.{s}"])
        lm[f"{side}_elbow"] = ("bone", BONE[f"lowerarm01.{s}"])
        lm[f"{side}_wrist"] = ("bone", BONE[f"wrist.{s}"])
        # BlazePose's hand points are knuckles, not tips: index and pinky at the base of
        # their fingers (the palm's far edge, about 45 % of the hand's length from the
        # wrist), thumb at its middle knuckle (the A-pose hand hangs with the thumb forward)
        hand = np.flatnonzero(bone == BONE[f"wrist.{s}"])
        reach = _along_hand(rest[hand], heads[BONE[f"wrist.{s}"]])
        knuckles = hand[np.abs(reach - 0.45) < 0.05]
        lm[f"{side}_index"] = ("vertex", int(knuckles[np.argmin(y[knuckles])]))
        lm[f"{side}_pinky"] = ("vertex", int(knuckles[np.argmax(y[knuckles])]))
        thumb = hand[np.abs(reach - 0.55) < 0.05]
        lm[f"{side}_thumb"] = ("vertex", int(thumb[np.argmin(y[thumb])]))
        lm[f"{side}_hip"] = ("bone", BONE[f"upperleg01.{s}"])
        lm[f"{side}_knee"] = ("bone", BONE[f"lowerleg01.{s}"])
        lm[f"{side}_ankle"] = ("bone", BONE[f"foot.{s}"])
        foot = np.flatnonzero(bone == BONE[f"foot.{s}"])
        sole = foot[z[foot] < z[foot].min() + 0.03]
        lm[f"{side}_heel"] = ("vertex", int(sole[np.argmax(y[sole])]))
        toe_tip = np.isin(np.arange(len(rest)), foot) & (y < y[foot].min() + 0.01)  # front of the toes, half way up
        lm[f"{side}_foot_index"] = ("vertex", nearest(toe_tip, [np.median(x[toe_tip]), y[foot].min(), z[toe_tip].mean()]))
    weights = model.dense_vertex_bone_weights.numpy()
    soles = tuple(np.flatnonzero(weights[:, BONE[f"foot.{s}"]] > 0.999) for s in "LR")
    return BodyParts(bone=bone, rest=rest, faces=model.get_triangular_faces().numpy(), eye=eye, lips=lips,
                     hair=hair, brows=brows, soles=soles, landmarks=tuple(lm[n] for n in MEDIAPIPE33))  # fmt: skip


def _along_hand(points: np.ndarray, wrist: np.ndarray) -> np.ndarray:
    """(N,) how far along the hand each point lies: 0 at the wrist, 1 at the fingertips
    (the hand's farthest point from the wrist gives the direction and the length)."""
    offsets = points - wrist
    tip = offsets[np.argmax(np.linalg.norm(offsets, axis=1))]
    return offsets @ tip / (tip @ tip)


def vertex_colors(look: Look, parts: BodyParts, rng: np.random.Generator) -> np.ndarray:
    """(V, 3) per-vertex colours: skin, hair, clothes, shoes, eyes, brows and lips, with a
    little low-frequency shading variation so surfaces are not flat."""
    b = parts.bone
    z = parts.rest[:, 2]

    def bones(*prefixes: str) -> np.ndarray:
        return np.isin(b, [k for k, n in enumerate(BONES) if n.startswith(prefixes)])

    col = np.broadcast_to(look.skin, parts.rest.shape).copy()
    torso = bones("spine", "clavicle", "shoulder", "upperarm") | (bones("lowerarm") & (not look.short_sleeves))
    col[torso] = look.shirt
    legs = bones("root", "pelvis", "upperleg") | (bones("lowerleg") & (not look.shorts))
    col[legs | (bones("spine05") & (z < 0.03))] = look.trousers
    col[bones("foot")] = look.shoes
    col[parts.hair] = look.hair
    col[parts.brows] = look.hair * 0.8
    col[parts.lips] = look.skin * np.array([0.85, 0.55, 0.55])
    eye_white = np.array([0.92, 0.9, 0.88])
    iris_dark = np.array([0.12, 0.08, 0.05])
    col[parts.eye] = eye_white
    # the iris: the front-most part of each eyeball
    for sx in (1.0, -1.0):
        eyeball = parts.eye & (np.sign(parts.rest[:, 0]) == sx)
        if eyeball.any():
            y = parts.rest[:, 1]
            col[eyeball & (y < y[eyeball].min() + 0.004)] = iris_dark
    # low-frequency variation: folds and shading on cloth and skin
    phase = rng.uniform(0, 2 * np.pi, 3)
    vary = 1 + 0.06 * np.sin(parts.rest @ np.array([23.0, 17.0, 31.0]) + phase[0]) * np.sin(parts.rest[:, 2] * 41 + phase[1])
    return np.clip(col * vary[:, None], 0, 1)


# ------------------------------------------------------------------- the actor


@dataclass
class SynthActor:
    """One generated actor: its ground-truth body and everything needed to film it."""

    body: BodyParams
    look: Look
    colors: np.ndarray
    """(V, 3) per-vertex colours of the render mesh"""
    vertices_world: np.ndarray
    """(T, V, 3) metres"""
    joints_world: np.ndarray
    """(T, B, 3) bone heads"""
    landmarks_world: np.ndarray
    """(T, 33, 3) the mediapipe landmarks on the body"""
    stance: np.ndarray
    """(T,) 0: left foot carries the weight, 1: right"""
    sitting: np.ndarray
    """(T,) bool"""
    script: list[Segment]


def _quats_wxyz(R: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotations -> (..., 4) unit quaternions (w, x, y, z)."""
    import roma
    import torch

    from reshoot.frames import quat_xyzw_to_wxyz

    return quat_xyzw_to_wxyz(roma.rotmat_to_unitquat(torch.from_numpy(R))).numpy()


def _pose_root_frame(phenotype: dict[str, float], R_bones: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (T, V, 3) and bone heads (T, B, 3) with the root at the origin, heading 0."""
    from reshoot.bodymodel import pose_body

    eye = np.repeat(np.eye(4)[None], len(R_bones), 0)
    posed = pose_body(model_id("render"), phenotype, _quats_wxyz(R_bones), eye)
    return posed.vertices_world, posed.bone_heads_world


def make_actor(script: list[Segment], times_s: np.ndarray, start_xy: np.ndarray, heading_rad: float,
               rng: np.random.Generator, phenotype: dict[str, float] | None = None) -> SynthActor:  # fmt: skip
    """Build an actor who performs ``script`` from ``start_xy`` (root position at frame 0),
    facing ``heading_rad`` (0 faces -Y). Random look, build and style from ``rng``."""
    phenotype = phenotype or sample_phenotype(rng)
    look, style = Look.sample(rng), Style.sample(rng)
    parts = body_parts()
    colors = vertex_colors(look, parts, rng)
    motion = evaluate_script(script, times_s, style, heading0_rad=heading_rad)
    R_bones = rot_xyz(motion.angles)
    R_bones[:, 0] = np.eye(3)
    feet = parts.soles

    def solve(R: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        verts, heads = _pose_root_frame(phenotype, R)
        sole_z = np.stack([verts[:, f, 2].min(1) for f in feet], 1)
        foot_xy = heads[:, [BONE["foot.L"], BONE["foot.R"]], :2]  # the ankles: the feet turn about them
        return verts, heads, sole_z, foot_xy

    R_flat = flat_feet(R_bones, {s: np.zeros(len(times_s)) for s in "LR"})
    verts, heads, sole_z, foot_xy = solve(R_flat)
    stance = stance_feet(sole_z)
    yaws = step_yaws(stance, sole_z, motion.heading_rad)
    if any(np.any(y != 0) for y in yaws.values()):  # the body turns: feet keep the heading they landed with
        R_flat = flat_feet(R_bones, yaws)
        verts, heads, sole_z, foot_xy = solve(R_flat)  # the same soles and stance: yaws keep feet flat
    frame_s = float(np.median(np.diff(times_s))) if len(times_s) > 1 else 1.0
    planted: Planted = plant(sole_z, foot_xy, stance, motion.heading_rad, motion.lift_m, np.asarray(start_xy, float),
                             frame_s)  # fmt: skip
    R, t = planted.T_world_root[:, :3, :3], planted.T_world_root[:, :3, 3]

    def to_world(p: np.ndarray) -> np.ndarray:
        return np.einsum("tij,tnj->tni", R, p) + t[:, None, :]

    verts_w, heads_w = to_world(verts), to_world(heads)
    lm = np.stack([verts_w[:, i] if kind == "vertex" else heads_w[:, i] for kind, i in parts.landmarks], 1)
    body = BodyParams(model=model_id("render"), phenotype=phenotype, bone_names=list(BONES),
                      bone_quats_wxyz=_quats_wxyz(R_flat), T_world_root=planted.T_world_root)  # fmt: skip
    return SynthActor(body=body, look=look, colors=colors, vertices_world=verts_w, joints_world=heads_w,
                      landmarks_world=lm, stance=planted.stance, sitting=motion.sitting, script=script)  # fmt: skip
