"""Check that a run's ``scene.glb`` films the plate the way the shot does, read by other glTF
implementations than ours: Blender's own importer (``--viewer blender``, Debian's
``blender`` package, 3.4) or three.js's GLTFLoader in headless Chromium (``--viewer three``).

For each requested frame the viewer imports the file, poses it at the frame's time, and
renders every actor's mesh in a flat pure colour through the file's own camera at the
clip's size and frame rate (from the scene's extras): ``scripts/gltf_blender/render.py``
in Blender (Workbench, no antialiasing), ``scripts/gltf_browser/`` in the browser
(an AnimationMixer at ``t / fps``, aspect = width / height). Each actor's silhouette is
then compared with :func:`reshoot.render.labels.render_labels` of the shot (through the
shot's camera and lens, anny's exact "render" mesh, the one the glTF carries, with all
its skinning influences; the glTF keeps four, so expect tiny differences): IoU and
centroid offset per frame and actor, and the viewer's camera position against the shot's.
Writes ``frame_TTT.png`` per frame to ``--out``: left, the plate with the viewer's
silhouettes outlined in their colours; right, the viewer's rendering with ours outlined
in white.

Needs ``blender`` (apt) or ``chromium`` (apt) and three.js in ``.cache/node``
(``npm install --prefix .cache/node three``); nothing is fetched from the internet. Exits 0
when every IoU >= 0.95, else 1. A manual check, not part of the test suite::

    python scripts/check_gltf.py runs/demo/run --viewer blender --frames 0 36 71
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import http.server
import io
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.ndimage import binary_dilation, binary_erosion

from reshoot.bodymodel import model_id
from reshoot.frames import R_GLTF_WORLD
from reshoot.render.labels import render_labels
from reshoot.shot import Shot

ROOT = Path(__file__).resolve().parents[1]
PAGE = Path(__file__).with_name("gltf_browser")
BLENDER_SCRIPT = Path(__file__).with_name("gltf_blender") / "render.py"
THREE = ROOT / ".cache" / "node" / "node_modules" / "three"
#: Actor k's colour in the viewers' renderings (COLOURS in gltf_browser/render.js and gltf_blender/render.py).
COLOURS = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [255, 0, 255], [0, 255, 255]], np.uint8)
MIN_IOU = 0.95


def render_in_browser(glb: Path, frames: list[int], timeout_s: float = 180.0) -> tuple[dict, dict[int, np.ndarray]]:
    """Render ``frames`` of ``glb`` in headless Chromium: the page's info and {t: (H, W, 3) uint8}."""
    posts: dict[str, list] = {}
    finished = threading.Event()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            posts.setdefault(self.path, []).append(body)
            self.send_response(204)
            self.end_headers()
            if self.path in ("/done", "/error"):
                finished.set()

        def log_message(self, *args) -> None:
            pass

    with tempfile.TemporaryDirectory(prefix="gltf_browser_") as tmp:
        site = Path(tmp) / "site"
        shutil.copytree(PAGE, site)
        shutil.copy(glb, site / "scene.glb")
        (site / "three").symlink_to(THREE)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: Handler(*a, directory=str(site)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}/index.html?frames={','.join(map(str, frames))}"
        browser = subprocess.Popen(
            [shutil.which("chromium") or "chromium", "--headless=new", "--no-sandbox", "--no-first-run",
             "--use-angle=swiftshader", "--enable-unsafe-swiftshader", f"--user-data-dir={tmp}/profile", url],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            if not finished.wait(timeout_s):
                sys.exit(f"the page did not finish in {timeout_s:.0f} s (posts so far: {sorted(posts)})")
        finally:
            browser.terminate()
            browser.wait()
            server.shutdown()
    if "/error" in posts:
        sys.exit("the page failed:\n" + posts["/error"][0])
    images = {}
    for body in posts.get("/frame", []):
        frame = json.loads(body)
        png = base64.b64decode(frame.pop("png").split(",", 1)[1])
        images[frame["t"]] = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
        posts.setdefault("frames", []).append(frame)
    info = json.loads(posts["/info"][0])
    info["frames"] = posts["frames"]
    return info, images


def render_in_blender(glb: Path, frames: list[int], timeout_s: float = 600.0) -> tuple[dict, dict[int, np.ndarray]]:
    """Render ``frames`` of ``glb`` with Blender's glTF importer: its info and {t: (H, W, 3) uint8}."""
    with tempfile.TemporaryDirectory(prefix="gltf_blender_") as tmp:
        run = subprocess.run(
            [shutil.which("blender") or "blender", "-b", "--factory-startup", "--python", str(BLENDER_SCRIPT), "--",
             str(glb), tmp, ",".join(map(str, frames))],
            capture_output=True, text=True, timeout=timeout_s,
        )  # fmt: skip
        if not (Path(tmp) / "info.json").is_file():
            sys.exit(f"blender failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
        info = json.loads((Path(tmp) / "info.json").read_text())
        images = {t: np.asarray(Image.open(Path(tmp) / f"frame_{t:03d}.png").convert("RGB")) for t in frames}
    return info, images


def plate_frames(shot: Shot, frames: list[int]) -> dict[int, np.ndarray]:
    """The video's frames (RGB at the shot's size), black where the video cannot be read."""
    import av

    W, H = shot.video.width, shot.video.height
    out = {t: np.zeros((H, W, 3), np.uint8) for t in frames}
    try:
        with av.open(shot.video.source) as container:
            for t, frame in enumerate(container.decode(video=0)):
                if t in out:
                    out[t] = frame.to_ndarray(format="rgb24", width=W, height=H)
                if t >= max(frames):
                    break
    except (OSError, av.FFmpegError) as exc:
        print(f"(no plate: {exc})")
    return out


def outline(rgb: np.ndarray, mask: np.ndarray, colour) -> None:
    edge = mask & ~binary_erosion(mask)
    rgb[binary_dilation(edge)] = colour


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="a run folder (scene.glb, shot/)")
    parser.add_argument("--viewer", choices=("blender", "three"), default="blender")
    parser.add_argument("--frames", type=int, nargs="+", default=[0, 36, 71])
    parser.add_argument("--out", type=Path, default=None, help="pictures (default: /tmp/gltf_check_VIEWER)")
    args = parser.parse_args()
    args.out = args.out or Path(f"/tmp/gltf_check_{args.viewer}")
    shot = Shot.load(args.run / "shot")
    frames = sorted(set(args.frames))

    start = time.perf_counter()
    render = render_in_blender if args.viewer == "blender" else render_in_browser
    info, images = render(args.run / "scene.glb", frames)
    viewer_s = time.perf_counter() - start
    # ours: the same mesh as the glTF's (anny's "render" topology), all skinning influences
    render_model = model_id("render")
    actors = [dataclasses.replace(a, body=dataclasses.replace(a.body, model=render_model)) if a.body else a for a in shot.actors]
    labels = render_labels(dataclasses.replace(shot, actors=actors))
    total_s = time.perf_counter() - start

    if args.viewer == "blender":
        print(f"Blender {info['blender']}, {len(images)} frames in {viewer_s:.1f} s ({total_s:.1f} s with ours); the "
              f"file's first key on frame {info['first_key_frame']}, {info['camera_keys']} camera keys")  # fmt: skip
    else:
        print(f"three.js r{info['three']}, {len(images)} frames in the browser in {viewer_s:.1f} s ({total_s:.1f} s with ours)")
        pointer = "KHR_animation_pointer"
        print(f"extensions used by the file: {info['extensionsUsed']}; {pointer} among GLTFLoader's plugins: "
              f"{pointer in info['extensionsLoaded']} (channels it cannot read are skipped)")  # fmt: skip
        print(f"camera {info['camera']}; animation {info['animation']}")
    expected_centres = shot.camera.T_world_cam[:, :3, 3] @ R_GLTF_WORLD.T
    for frame in info["frames"]:
        error_m = np.linalg.norm(np.array(frame["cameraWorldPosition"]) - expected_centres[frame["t"]])
        print(f"  frame {frame['t']}: camera at {np.round(frame['cameraWorldPosition'], 3)} ({1000 * error_m:.2f} mm "
              f"from the shot's), fov {frame['fov']:.3f} deg")  # fmt: skip

    track_ids = [a.track_id for a in shot.actors]
    mesh_actor = [track_ids.index(int(name.split("_")[1])) for name in info["actors"]]  # "actor_{track_id}_body"
    plates = plate_frames(shot, frames)
    args.out.mkdir(parents=True, exist_ok=True)
    ok = True
    print(f"\n{'frame':>5} {'actor':>5} {'IoU':>7} {'dx px':>7} {'dy px':>7} {'|d| px':>7} {'px them':>9} {'px ours':>8}")
    for t in frames:
        image, ours = images[t], labels[t]
        left, right = plates[t].copy(), image.copy()
        for i, k in enumerate(mesh_actor):
            theirs_mask = np.all(image == COLOURS[i % len(COLOURS)], axis=-1)
            ours_mask = ours == k + 1
            outline(left, theirs_mask, COLOURS[i % len(COLOURS)])
            outline(right, ours_mask, 255)
            if not shot.actors[k].present[t]:  # the glTF hides it (its armature scaled to nothing)
                hidden = not theirs_mask.any()
                ok &= hidden
                print(f"{t:>5} {track_ids[k]:>5}  not in the shot: " + ("hidden" if hidden else "DRAWN"))
                continue
            iou = (theirs_mask & ours_mask).sum() / max((theirs_mask | ours_mask).sum(), 1)
            d = np.array([np.argwhere(m)[:, ::-1].mean(0) if m.any() else [np.nan] * 2 for m in (theirs_mask, ours_mask)])
            dx, dy = d[0] - d[1]
            ok &= bool(iou >= MIN_IOU)
            print(f"{t:>5} {track_ids[k]:>5} {iou:7.4f} {dx:7.2f} {dy:7.2f} {np.hypot(dx, dy):7.2f} "
                  f"{theirs_mask.sum():>9} {ours_mask.sum():>8}")  # fmt: skip
        Image.fromarray(np.concatenate([left, right], axis=1)).save(args.out / f"frame_{t:03d}.png")
    print(f"\nOK: every IoU >= {MIN_IOU}" if ok else f"\nFAIL: some IoU < {MIN_IOU}")
    print(f"pictures in {args.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
