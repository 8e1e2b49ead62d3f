"""The glTF export against known answers: the Khronos validator, and a re-load that
re-evaluates the file by hand (animation, hierarchy, skinning, camera) and compares it with
anny and with the shot's own camera and lens."""

from __future__ import annotations

import numpy as np
import pytest
import roma
import torch
from gltf_check import C, Glb, assert_valid, gltf_to_zup
from scipy.spatial.transform import Rotation

from reshoot import __version__
from reshoot.bodymodel import load_anny, model_id, pose_body, stature_m
from reshoot.errors import InputError, ReshootError
from reshoot.export.gltf import GltfExport, write_gltf
from reshoot.frames import quat_xyzw_to_wxyz
from reshoot.geometry import look_at, world_to_pixels
from reshoot.shot import Actor, BodyParams, Camera, Lens, Shot, Video
from reshoot.synth.motion import BONES

W, H = 320, 180


# ---------------------------------------------------------------------------- shots


def random_body(rng: np.random.Generator, T: int, x0_m: float, turns: float) -> BodyParams:
    """Every bone turned by a random ~0.2 rad on every frame; the root walks and spins
    ``turns`` full turns about Z over the shot (past 180 degrees: quaternion signs flip)."""
    rotvec = rng.normal(0.0, 0.2 / np.sqrt(3), (T, len(BONES), 3))
    quats = quat_xyzw_to_wxyz(roma.rotvec_to_unitquat(torch.from_numpy(rotvec))).numpy()
    yaw = np.linspace(0.0, 2 * np.pi * turns, T)
    T_world_root = np.repeat(np.eye(4)[None], T, 0)
    T_world_root[:, :3, :3] = Rotation.from_euler("z", yaw[:, None]).as_matrix()
    T_world_root[:, :3, 3] = np.stack([x0_m + 0.1 * np.arange(T), 0.05 * np.arange(T), 0.9 + 0.02 * np.sin(np.arange(T))], -1)
    return BodyParams(model=model_id("fit"), phenotype={"height": 0.5, "gender": 0.3, "weight": 0.6}, bone_names=list(BONES),
                      bone_quats_wxyz=quats, T_world_root=T_world_root)  # fmt: skip


def make_shot(T: int = 8, num_actors: int = 2, fy_px: tuple[float, float] = (300.0, 300.0), cx_px: float = W / 2,
              timestamps_s: np.ndarray | None = None) -> Shot:  # fmt: skip
    """A 320x180 shot: a camera on an arc 4 m around the origin looking at (0, 0, 0.9),
    focal length ramping between ``fy_px``, and ``num_actors`` randomly posed bodies."""
    rng = np.random.default_rng(1)
    theta = np.linspace(-0.3, 0.3, T)
    eye = torch.from_numpy(np.stack([4 * np.sin(theta), -4 * np.cos(theta), np.full(T, 1.5)], -1))
    T_world_cam = look_at(eye, torch.tensor([0.0, 0.0, 0.9], dtype=torch.float64).expand(T, 3)).numpy()
    fy = np.linspace(*fy_px, T)
    lens = Lens(fx=fy.copy(), fy=fy, cx=np.full(T, cx_px), cy=np.full(T, H / 2), zooms=fy_px[0] != fy_px[1])
    present = np.ones(T, bool)
    present[:2] = False  # the second actor enters on frame 2
    actors = [Actor(track_id=k + 1, present=np.ones(T, bool) if k == 0 else present, body=random_body(rng, T, x0, turns))
              for k, (x0, turns) in enumerate([(-0.5, 0.9), (0.6, -0.2)][:num_actors])]  # fmt: skip
    return Shot(video=Video(fps=24.0, num_frames=T, width=W, height=H, source="test.mp4", timestamps_s=timestamps_s),
                lens=lens, camera=Camera(T_world_cam=T_world_cam, metric=True), actors=actors)  # fmt: skip


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def shot() -> Shot:
    return make_shot()


@pytest.fixture(scope="module")
def exported(shot, tmp_path_factory) -> GltfExport:
    return write_gltf(shot, tmp_path_factory.mktemp("gltf") / "shot.glb")


@pytest.fixture(scope="module")
def glb(exported) -> Glb:
    return Glb.load(exported.path)


@pytest.fixture(scope="module")
def posed(shot):
    """anny's exact answer for each actor: the full mesh and the bone heads, Z up."""
    return [pose_body(model_id("render"), a.body.phenotype, a.body.bone_quats_wxyz, a.body.T_world_root) for a in shot.actors]


# ---------------------------------------------------------------------------- tests


def test_the_khronos_validator_finds_no_errors_and_no_warnings(exported):
    assert exported.warnings == []
    assert_valid(exported.path)


def test_file_layout(glb, shot):
    g = glb.gltf
    assert [n.name for n in g.nodes if n.camera is not None] == ["camera"] and len(g.cameras) == 1
    assert len(g.skins) == len(g.meshes) == 2 and len(g.animations) == 1 and g.animations[0].name == "shot"
    for k in (1, 2):
        armature = g.nodes[glb.node_index(f"actor_{k}")]
        assert armature.translation is None and armature.rotation is None  # identity
        assert [g.nodes[j].name for j in g.skins[k - 1].joints] == list(BONES)
        assert glb.node_index(f"actor_{k}_body") in g.scenes[0].nodes  # the skinned mesh at the scene root
    prim = g.meshes[0].primitives[0]
    assert g.accessors[prim.attributes.POSITION].count == 13718 and g.accessors[prim.indices].count == 3 * 27420
    # the actors share topology and skinning; positions (phenotype) are their own
    other = g.meshes[1].primitives[0]
    assert prim.indices == other.indices and prim.attributes.JOINTS_0 == other.attributes.JOINTS_0
    assert prim.attributes.POSITION != other.attributes.POSITION
    positions, normals = glb.read(prim.attributes.POSITION), glb.read(prim.attributes.NORMAL)
    assert np.allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-6)
    assert normals[positions[:, 1].argmax()][1] > 0.95  # the crown of the head faces up (glTF: Y up)
    faces = glb.read(prim.indices).astype(int).reshape(-1, 3)
    a, b, c = (positions[faces[:, i]] for i in range(3))
    face_normals = np.cross(b - a, c - a)
    volume_m3 = np.einsum("fi,fi->f", a, face_normals).sum() / 6
    agree = np.einsum("fki,fi->fk", normals[faces], face_normals) > 0
    assert 0.03 < volume_m3 < 0.1  # measured 0.055 m3: positive, so the triangles wind counter-clockwise seen from outside
    assert agree.mean() > 0.999  # each vertex normal agrees with its faces' (measured: all but 0.02% of corners)
    weights = glb.read(prim.attributes.WEIGHTS_0)
    assert np.all(weights >= 0) and np.abs(weights.sum(1) - 1).max() < 1e-6
    # colours in PALETTE order, sRGB (230, 60, 60) and (60, 140, 240) as linear
    colours = [g.materials[m.primitives[0].material].pbrMetallicRoughness.baseColorFactor for m in g.meshes]
    assert colours[0] == pytest.approx([0.7913, 0.0452, 0.0452, 1.0], abs=1e-4)
    assert colours[1] == pytest.approx([0.0452, 0.2623, 0.8714, 1.0], abs=1e-4)
    # the animation: rotations for every bone, translation for the root only (anny's offsets are constant)
    keys = glb.channels()
    for k in (1, 2):
        joints = g.skins[k - 1].joints
        assert all((j, "rotation") in keys for j in joints)
        assert [j for j in joints if (j, "translation") in keys] == [joints[0]]
    # camera translation + rotation, per actor 38 rotations + 1 root translation, the second actor's visibility
    assert len(keys) == 2 + 2 * (38 + 1) + 1


def test_an_actor_is_shown_only_on_the_frames_it_is_in(glb, shot):
    """The second actor enters on frame 2: before, its armature is scaled to nothing
    (a STEP channel: no shrinking in between), its mesh collapsed to a point."""
    armature = glb.node_index("actor_2")
    anim = glb.gltf.animations[0]
    (sampler,) = [anim.samplers[c.sampler] for c in anim.channels if (c.target.node, c.target.path) == (armature, "scale")]
    assert sampler.interpolation == "STEP"
    assert glb.channels()[armature, "scale"][:, 0].tolist() == shot.actors[1].present.astype(float).tolist()
    assert not any((glb.node_index("actor_1"), path) in glb.channels() for path in ("scale", "translation", "rotation"))
    mesh = glb.node_index("actor_2_body")
    assert np.ptp(glb.skinned_vertices(mesh, 0), axis=0).max() == 0
    assert np.ptp(glb.skinned_vertices(mesh, 2), axis=0).max() > 1.0  # a whole body


def test_keyframe_times_are_the_frames_in_seconds(glb, shot):
    (times,) = {s.input for s in glb.gltf.animations[0].samplers}  # every channel shares the frames' times
    assert glb.read(times) == pytest.approx(np.arange(shot.num_frames) / 24.0, abs=1e-7)
    assert glb.gltf.accessors[times].min == [0.0] and glb.gltf.accessors[times].max[0] == pytest.approx(7 / 24.0)


def test_rotation_keys_are_sign_continuous(glb):
    rotations = {key: q for key, q in glb.channels().items() if key[1] == "rotation"}
    root = glb.gltf.skins[0].joints[0]
    # the first actor's root spins 0.9 turns: its canonical (w >= 0) quaternions would flip sign past 180 degrees
    assert rotations[root, "rotation"][:, 3].min() < -0.5
    for key, q in rotations.items():
        assert np.all(np.einsum("ti,ti->t", q[1:], q[:-1]) > 0), key


def test_joint_nodes_sit_on_anny_bone_heads(glb, shot, posed):
    for t in range(shot.num_frames):
        world = glb.world_matrices(t)
        for k, skin in enumerate(glb.gltf.skins):
            if not shot.actors[k].present[t]:
                continue  # hidden (test_an_actor_is_shown_only_on_the_frames_it_is_in)
            heads = gltf_to_zup(np.stack([world[j][:3, 3] for j in skin.joints]))
            assert np.abs(heads - posed[k].bone_heads_world[t]).max() < 1e-4, (t, k)


def test_skinned_meshes_match_anny_up_to_the_four_influence_truncation(glb, shot, posed):
    """The file, skinned by hand, against (a) the same truncation done independently in
    float64 on anny's own transforms: only float32 rounding apart; (b) anny's exact
    vertices: apart by what dropping the 5th to 9th influences costs."""
    model = load_anny("render", "float64")
    weights, bones = model.vertex_bone_weights.numpy(), model.vertex_bone_indices.numpy()
    order = np.argsort(-weights, axis=1)[:, :4]
    w4 = np.take_along_axis(weights, order, 1)
    w4 /= w4.sum(1, keepdims=True)
    b4 = np.take_along_axis(bones, order, 1)
    errors_mm = []
    for k, actor in enumerate(shot.actors):
        body = actor.body
        T, B = body.bone_quats_wxyz.shape[:2]
        pose = torch.eye(4, dtype=torch.float64).repeat(T, B, 1, 1)
        pose[:, :, :3, :3] = torch.from_numpy(Rotation.from_quat(body.bone_quats_wxyz[..., [1, 2, 3, 0]].reshape(-1, 4))
                                              .as_matrix().reshape(T, B, 3, 3))  # fmt: skip
        pose[:, 0] = torch.from_numpy(body.T_world_root)
        pheno = {name: torch.full((T,), v, dtype=torch.float64) for name, v in body.phenotype.items()}
        with torch.no_grad():
            out = {name: v.numpy() for name, v in model(pose_parameters=pose, phenotype_kwargs=pheno).items()}
        assert np.abs(out["vertices"] - posed[k].vertices_world).max() < 1e-12  # the same evaluation as pose_body
        skinning = out["bone_poses"] @ np.linalg.inv(out["rest_bone_poses"])  # (T, B, 4, 4)
        rest = np.concatenate([out["rest_vertices"][0], np.ones((len(w4), 1))], 1)
        mesh_node = glb.node_index(f"actor_{actor.track_id}_body")
        for t in np.flatnonzero(actor.present):
            from_file = gltf_to_zup(glb.skinned_vertices(mesh_node, t))
            truncated = np.einsum("vk,vkij,vj->vi", w4, skinning[t][b4], rest)[:, :3]
            assert np.abs(from_file - truncated).max() < 2e-5, (k, t)  # float32 storage of ~1 m coordinates
            errors_mm.append(1000 * np.linalg.norm(from_file - posed[k].vertices_world[t], axis=1))
    errors_mm = np.concatenate(errors_mm)
    # measured on this shot (every bone turned ~0.2 rad at random): max 10.4 mm, mean 0.08 mm, at shoulders and hips
    assert errors_mm.max() < 15.0 and errors_mm.mean() < 0.15, (errors_mm.max(), errors_mm.mean())


def test_the_camera_films_what_the_shot_camera_films(glb, shot, posed):
    assert_projections_match(glb, shot, posed)


def assert_projections_match(glb: Glb, shot: Shot, posed: list) -> None:
    """Bone heads through the file's camera (pose, yfov, aspect, image size from the extras)
    land where the shot's camera and lens put them, to 0.01 px."""
    cam_node = glb.node_index("camera")
    extras = glb.gltf.nodes[cam_node].extras
    persp = glb.gltf.cameras[glb.gltf.nodes[cam_node].camera].perspective
    yfov = glb.channels().get(("pointer", "/cameras/0/perspective/yfov"), np.full(shot.num_frames, persp.yfov))
    points_world = np.concatenate([p.bone_heads_world for p in posed], 1)  # (T, N, 3)
    expected, _ = world_to_pixels(torch.from_numpy(points_world), torch.from_numpy(shot.camera.T_world_cam),
                                  torch.from_numpy(shot.lens.K()))  # fmt: skip
    for t in range(shot.num_frames):
        T_gltf_cam = glb.world_matrices(t)[cam_node]
        p_cam = (np.linalg.inv(T_gltf_cam) @ np.concatenate([points_world[t] @ C.T, np.ones((len(points_world[t]), 1))], 1).T).T
        x, y, depth = p_cam[:, 0], p_cam[:, 1], -p_cam[:, 2]  # glTF cameras look down -z, y up
        assert np.all(depth > persp.znear)
        tan_half = np.tan(yfov[t] / 2)
        u = extras["width"] / 2 * (1 + x / depth / (persp.aspectRatio * tan_half))
        v = extras["height"] / 2 * (1 - y / depth / tan_half)
        assert np.abs(np.stack([u, v], 1) - expected[t].numpy()).max() < 0.01, t


def test_extras_carry_what_gltf_cannot(glb, shot):
    g = glb.gltf
    assert g.scenes[0].extras == {"reshoot_version": __version__, "fps": 24.0, "num_frames": 8, "width": W, "height": H,
                                  "source": "test.mp4"}  # fmt: skip
    assert g.nodes[glb.node_index("camera")].extras == {"width": W, "height": H, "fx_px": 300.0, "fy_px": 300.0,
                                                       "cx_px": 160.0, "cy_px": 90.0}  # fmt: skip
    second = g.nodes[glb.node_index("actor_2")].extras
    assert (second["track_id"], second["first_frame"], second["last_frame"], second["frames_present"]) == (2, 2, 7, 6)
    assert second["stature_m"] == pytest.approx(stature_m(shot.actors[1].body.phenotype))
    assert second["phenotype"] == shot.actors[1].body.phenotype and second["model"] == model_id("fit")


def test_a_zoom_is_animated_through_khr_animation_pointer(tmp_path):
    timestamps_s = 10.0 + np.cumsum([0.0, 0.04, 0.045, 0.04, 0.035, 0.042])  # variable frame rate, starting at 10 s
    zoom = make_shot(T=6, num_actors=1, fy_px=(250.0, 400.0), timestamps_s=timestamps_s)
    out = write_gltf(zoom, tmp_path / "zoom.glb")
    assert out.warnings == []
    assert_valid(out.path)
    glb = Glb.load(out.path)
    assert glb.gltf.extensionsUsed == ["KHR_animation_pointer"] and not glb.gltf.extensionsRequired
    yfov = glb.channels()["pointer", "/cameras/0/perspective/yfov"]
    assert yfov == pytest.approx(2 * np.arctan(H / (2 * zoom.lens.fy)), abs=1e-6)
    assert glb.gltf.cameras[0].perspective.yfov == pytest.approx(yfov[0])  # without the extension: the first frame
    assert glb.read(glb.gltf.animations[0].samplers[0].input) == pytest.approx(timestamps_s - 10.0, abs=1e-6)
    posed = [pose_body(model_id("render"), a.body.phenotype, a.body.bone_quats_wxyz, a.body.T_world_root) for a in zoom.actors]
    assert_projections_match(glb, zoom, posed)


def test_a_constant_lens_has_no_yfov_channel(glb):
    assert not any(key[0] == "pointer" for key in glb.channels()) and not glb.gltf.extensionsUsed


def test_what_gltf_cannot_carry_is_warned_about(tmp_path):
    out = write_gltf(make_shot(T=3, num_actors=0, cx_px=W / 2 + 8), tmp_path / "off.glb")  # 8 px = 2.5% of the width
    assert len(out.warnings) == 1 and "principal point" in out.warnings[0] and "2.5% of the width" in out.warnings[0]
    assert Glb.load(out.path).gltf.nodes[0].extras["cx_px"] == 168.0
    assert write_gltf(make_shot(T=3, num_actors=0, cx_px=W / 2 + 3), tmp_path / "near.glb").warnings == []  # 0.9%
    shot = make_shot(T=3, num_actors=0)
    shot.lens.distortion = np.tile([0.1, 0.0, 0.0, 0.0], (3, 1))
    shot.camera.metric = False
    warnings = write_gltf(shot, tmp_path / "more.glb").warnings
    assert len(warnings) == 2 and "distortion" in warnings[0] and "not metric" in warnings[1]


def test_a_shot_without_camera_or_lens_is_refused(tmp_path):
    for missing in ("camera", "lens"):
        shot = make_shot(T=3, num_actors=0)
        setattr(shot, missing, None)
        with pytest.raises(ReshootError, match=f"without a {missing}"):
            write_gltf(shot, tmp_path / "x.glb")
    with pytest.raises(InputError, match=r"\.glb"):
        write_gltf(make_shot(T=3, num_actors=0), tmp_path / "x.gltf")
    assert not list(tmp_path.iterdir())


def test_a_shot_without_bodies_exports_the_camera_alone(tmp_path):
    shot = make_shot(T=5, num_actors=0)
    out = write_gltf(shot, tmp_path / "camera.glb")
    assert_valid(out.path)
    g = Glb.load(out.path).gltf
    assert [n.name for n in g.nodes] == ["camera"] and not g.meshes and not g.skins
    assert {ch.target.path for ch in g.animations[0].channels} == {"translation", "rotation"}
    assert [p.name for p in tmp_path.iterdir()] == ["camera.glb"]  # no temporary file left behind


def test_an_actor_without_a_body_is_left_out_with_a_warning(tmp_path):
    shot = make_shot(T=3, num_actors=2)
    shot.actors[0].body = None
    out = write_gltf(shot, tmp_path / "one.glb")
    assert out.warnings == ["actor 1 has no body (run the bodies stage): left out of the glTF"]
    assert [n.name for n in Glb.load(out.path).gltf.nodes if n.skin is not None] == ["actor_2_body"]


def test_an_actor_lost_a_moment_in_view_stays_in_the_scene(tmp_path):
    """Frames where the tracker lost an actor a moment in view (``BodyParams.shown``
    beyond ``present``: hidden behind someone) keep their body in the scene."""
    shot = make_shot()
    second = shot.actors[1]
    second.present[4:6] = False
    second.body.shown = second.present.copy()
    second.body.shown[4:6] = True
    glb = Glb.load(write_gltf(shot, tmp_path / "lost.glb").path)
    scale = glb.channels()[glb.node_index("actor_2"), "scale"][:, 0]
    assert scale.tolist() == [0, 0, 1, 1, 1, 1, 1, 1]
