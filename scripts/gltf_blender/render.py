"""Run inside Blender (``blender -b --factory-startup --python render.py -- GLB OUT_DIR 0,36,71``):
import GLB with Blender's own glTF importer, look through the file's camera at the clip's
size and frame rate (from the scene's extras), and render each listed frame with every
actor's mesh in a flat pure colour on black (Workbench, no antialiasing, standard view
transform, so that each pixel names its actor). Writes OUT_DIR/frame_TTT.png and
OUT_DIR/info.json (Blender's version, the frame each shot frame maps to, the camera's
world position in glTF axes, its vertical field of view, the actors' mesh names in colour
order)."""

import json
import math
import struct
import sys

import bpy
import numpy

# Debian bookworm's Blender 3.4 glTF importer still says np.bool, which its numpy (1.24) removed
if not hasattr(numpy, "bool"):
    numpy.bool = bool

COLOURS = [(1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (1, 0, 1), (0, 1, 1)]  # as scripts/check_gltf.py


def scene_extras(glb: str) -> dict:
    """The glTF scene's extras, read from the .glb's JSON chunk."""
    with open(glb, "rb") as fh:
        fh.read(12)  # magic, version, length
        length, _ = struct.unpack("<II", fh.read(8))
        return json.loads(fh.read(length))["scenes"][0]["extras"]


def main() -> None:
    glb, out_dir, frames = sys.argv[sys.argv.index("--") + 1 :][:3]
    frames = [int(t) for t in frames.split(",")]
    extras = scene_extras(glb)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    # the frame rate first: the importer turns the file's seconds into frames at the scene's rate
    fps = float(extras["fps"])
    scene.render.fps, scene.render.fps_base = round(fps), round(fps) / fps
    bpy.ops.import_scene.gltf(filepath=glb)
    scene.render.resolution_x, scene.render.resolution_y = int(extras["width"]), int(extras["height"])
    scene.render.resolution_percentage = 100
    camera = next(o for o in scene.objects if o.type == "CAMERA")
    scene.camera = camera
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.display.shading.light = "FLAT"
    scene.display.shading.color_type = "OBJECT"
    scene.display.render_aa = "OFF"
    scene.view_settings.view_transform = "Standard"
    scene.render.dither_intensity = 0.0  # else the flat colours come out noisy
    scene.world = bpy.data.worlds.new("black")
    scene.world.color = (0.0, 0.0, 0.0)
    actors = sorted(o.name for o in scene.objects if o.type == "MESH")
    for i, name in enumerate(actors):
        scene.objects[name].color = (*COLOURS[i % len(COLOURS)], 1.0)
    # the frame the importer put the file's first key (time 0) on: shot frame t is t frames later
    keys = [k.co[0] for fc in camera.animation_data.action.fcurves for k in fc.keyframe_points]
    first = round(min(keys))
    info = {"blender": bpy.app.version_string, "actors": actors, "first_key_frame": first,
            "camera_keys": len(keys), "frames": []}
    for t in frames:
        frame = first + t
        scene.frame_set(frame)
        scene.render.filepath = f"{out_dir}/frame_{t:03d}.png"
        bpy.ops.render.render(write_still=True)
        x, y, z = camera.matrix_world.translation
        info["frames"].append({"t": t, "blender_frame": frame, "cameraWorldPosition": [x, z, -y],  # glTF axes
                               "fov": math.degrees(camera.data.angle_y)})
    with open(f"{out_dir}/info.json", "w") as fh:
        json.dump(info, fh)


main()
