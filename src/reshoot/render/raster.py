"""Headless CPU rasteriser (moderngl on EGL + Mesa llvmpipe) for pictures and label images.

Draws triangle meshes given in world coordinates through an OpenCV pinhole camera
(``T_world_cam``, ``K`` in pixels, image corner at (0, 0)) and reads back, per pixel:
a shaded colour, the camera depth (metres, ``inf`` on background) and the label of the
nearest mesh (0 on background). Not differentiable: the refine stage has its own
renderer; this one makes ground truth, overlays and the label images of ``reshoot eval``.

The projection maps camera points exactly like :func:`reshoot.geometry.project`:
window x = fx X / Z + cx, and rows are flipped on read-back so that row 0 is the top.

A mesh may carry a texture (an RGB image) and per-vertex texture coordinates ``uv``:
``u`` runs along the image's columns (left to right) and ``v`` along its rows (top to
bottom), both in units of the image's width and height. (0, 0) is the image's top-left
corner, (1, 1) its bottom-right one, the texel in row i, column j has its centre at
((j + 0.5) / w, (i + 0.5) / h) (the pixel-centre convention of the images), and outside
[0, 1] the texture repeats. Sampling is trilinear over mipmaps, free of aliasing, and
optionally anisotropic (``Rasterizer(anisotropy=8)``): sharper on a ground seen at a
grazing angle, at about three times the cost of a textured frame on llvmpipe.

The GPU copies of textures, and the vertex buffers of meshes marked ``static``, are made
on first use and kept while their source object lives: a set drawn for many frames is
uploaded once. Do not modify such arrays in place afterwards (make new ones instead).
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from reshoot.errors import ReshootError, ShapeError

_VERTEX = """
#version 330
uniform mat3 R_cam_world;
uniform vec3 t_cam_world;
uniform vec4 intr;      // fx, fy, cx, cy (pixels)
uniform vec2 size;      // W, H (pixels)
uniform vec2 clip;      // near, far (metres)
in vec3 in_pos;         // world
in vec3 in_normal;      // world
in vec3 in_color;
in vec2 in_uv;          // texture coordinates (textured meshes only)
out vec3 v_normal_cam;
out vec3 v_color;
out vec2 v_uv;
out float v_depth;
void main() {
    vec3 p = R_cam_world * in_pos + t_cam_world;          // OpenCV camera frame
    float u = intr.x * p.x / p.z + intr.z;                 // pixels, corner at 0
    float v = intr.y * p.y / p.z + intr.w;
    float n = clip.x, f = clip.y;
    // clip coordinates with w = z: perspective-correct interpolation, image row 0 at NDC y = +1
    gl_Position = vec4((2.0 * u / size.x - 1.0) * p.z,
                       (1.0 - 2.0 * v / size.y) * p.z,
                       ((f + n) * p.z - 2.0 * f * n) / (f - n),
                       p.z);
    v_normal_cam = R_cam_world * in_normal;
    v_color = in_color;
    v_uv = in_uv;
    v_depth = p.z;
}
"""

_FRAGMENT = """
#version 330
uniform uint label;
uniform vec3 key_dir;   // camera frame, towards the light
uniform vec3 fill_dir;
uniform float ambient;
uniform bool textured;
uniform sampler2D tex;  // RGB, row 0 (the image's top) at v = 0
in vec3 v_normal_cam;
in vec3 v_color;
in vec2 v_uv;
in float v_depth;
layout(location = 0) out vec4 out_color;
layout(location = 1) out float out_depth;
layout(location = 2) out uint out_label;
void main() {
    vec3 n = normalize(v_normal_cam);
    if (!gl_FrontFacing) n = -n;
    float shade = ambient + 0.75 * max(dot(n, key_dir), 0.0) + 0.3 * max(dot(n, fill_dir), 0.0);
    vec3 albedo = textured ? v_color * texture(tex, v_uv).rgb : v_color;
    out_color = vec4(clamp(albedo * shade, 0.0, 1.0), 1.0);
    out_depth = v_depth;
    out_label = label;
}
"""


@dataclass
class Mesh:
    """A triangle mesh in world coordinates (metres) with per-vertex or flat colour, and
    optionally a texture (see the module docstring for the ``uv`` convention)."""

    vertices_world: np.ndarray
    """(V, 3) float"""
    faces: np.ndarray
    """(F, 3) int vertex indices"""
    color: np.ndarray | None = None
    """(3,) or (V, 3) RGB in [0, 1], multiplying the texture on a textured mesh;
    default: grey 0.7, or white (the texture as it is) on a textured mesh"""
    label: int = 0
    """written to the label image where this mesh is nearest (0..255; 0 = background)"""
    uv: np.ndarray | None = None
    """(V, 2) float texture coordinates; required with ``texture``"""
    texture: np.ndarray | None = None
    """(h, w, 3) uint8 RGB image, row 0 at the top; its GPU copy is kept while the array lives"""
    static: bool = False
    """the arrays will not change: the rasteriser keeps this mesh's vertex buffers while it lives"""

    def __post_init__(self) -> None:
        self.vertices_world = np.asarray(self.vertices_world, dtype=np.float64)
        self.faces = np.asarray(self.faces, dtype=np.int64)
        if self.color is None:
            self.color = np.full(3, 1.0 if self.texture is not None else 0.7)
        self.color = np.asarray(self.color, dtype=np.float64)
        if self.vertices_world.ndim != 2 or self.vertices_world.shape[1] != 3:
            raise ShapeError(f"Mesh.vertices_world: expected shape (V, 3), received {self.vertices_world.shape}")
        if self.faces.ndim != 2 or self.faces.shape[1] != 3:
            raise ShapeError(f"Mesh.faces: expected shape (F, 3), received {self.faces.shape}")
        if self.color.shape not in ((3,), self.vertices_world.shape):
            raise ShapeError(f"Mesh.color: expected shape (3,) or {self.vertices_world.shape}, received {self.color.shape}")
        if not 0 <= self.label <= 255:
            raise ValueError(f"Mesh.label must be in 0..255, received {self.label}")
        if (self.uv is None) != (self.texture is None):
            raise ValueError("Mesh: give both uv and texture, or neither")
        if self.texture is not None:
            self.uv = np.asarray(self.uv, dtype=np.float64)
            self.texture = np.asarray(self.texture)  # not copied: the GPU cache is keyed on this array
            if self.uv.shape != (len(self.vertices_world), 2):
                raise ShapeError(f"Mesh.uv: expected shape ({len(self.vertices_world)}, 2), received {self.uv.shape}")
            if self.texture.ndim != 3 or self.texture.shape[2] != 3 or self.texture.dtype != np.uint8:
                received = f"{self.texture.shape} {self.texture.dtype}"
                raise ShapeError(f"Mesh.texture: expected an (h, w, 3) uint8 image, received {received}")


@dataclass
class Render:
    """What one call of :meth:`Rasterizer.render` reads back."""

    rgb: np.ndarray
    """(H, W, 3) uint8"""
    depth_m: np.ndarray
    """(H, W) float32 camera z of the nearest surface, ``inf`` on background"""
    labels: np.ndarray
    """(H, W) uint8 label of the nearest mesh, 0 on background"""


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted vertex normals (V, 3), unit length (zero for unused vertices)."""
    tri = vertices[faces]
    fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    vn = np.zeros_like(vertices)
    for k in range(3):
        np.add.at(vn, faces[:, k], fn)
    norm = np.linalg.norm(vn, axis=-1, keepdims=True)
    return np.divide(vn, norm, out=np.zeros_like(vn), where=norm > 0)


class _GpuCache:
    """GPU objects made from Python objects (a texture array, a static mesh), each kept
    while its source lives.

    Entries are keyed by ``id(source)``. A weak reference drops an entry as its source is
    collected, before that id can be reused, and queues the entry's GPU objects for
    :meth:`release_dropped`.
    """

    def __init__(self) -> None:
        self._entries: dict[int, tuple[weakref.ref, tuple[Any, ...]]] = {}
        self._dropped: list[tuple[Any, ...]] = []

    def get(self, source: object, make: Callable[[], tuple[Any, ...]]) -> tuple[Any, ...]:
        """The GPU objects of ``source``, made by ``make`` on first use."""
        key = id(source)
        if key not in self._entries:
            self._entries[key] = (weakref.ref(source, functools.partial(self._drop, key)), make())
        return self._entries[key][1]

    def _drop(self, key: int, _ref: weakref.ref) -> None:
        self._dropped.append(self._entries.pop(key)[1])

    def release_dropped(self) -> None:
        """Release the GPU objects of the sources collected since the last call."""
        for objects in self._dropped:
            for obj in objects:
                obj.release()
        self._dropped.clear()

    def clear(self) -> None:
        """Forget every entry (their GPU objects go with the context)."""
        self._entries.clear()
        self._dropped.clear()


class Rasterizer:
    """One offscreen EGL context and framebuffer of a fixed size; reuse it across frames.

    ``anisotropy`` is the anisotropic filtering of textures: 1 is off (trilinear only),
    up to 16. At 8, a 960x540 view across a textured ground keeps about a third more
    corners in the distance, but takes about 65 ms instead of 20 on two llvmpipe cores.
    """

    def __init__(
        self, width: int, height: int, near_m: float = 0.05, far_m: float = 1000.0, anisotropy: float = 1.0
    ) -> None:
        try:
            import moderngl
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ReshootError(f"moderngl is not installed ({exc}); run `make install`") from exc
        try:
            self.ctx = moderngl.create_context(standalone=True, backend="egl")
        except Exception as exc:  # moderngl raises plain Exceptions for EGL failures
            raise ReshootError(
                f"cannot create a headless OpenGL context ({exc}); install libegl1 libegl-mesa0 libgl1-mesa-dri "
                "(`bash scripts/system-deps.sh`)"
            ) from exc
        self.width, self.height, self.near_m, self.far_m = width, height, near_m, far_m
        self.anisotropy = anisotropy
        size = (width, height)
        self._color = self.ctx.texture(size, 4, dtype="f1")
        self._depth = self.ctx.texture(size, 1, dtype="f4")
        self._label = self.ctx.texture(size, 1, dtype="u1")
        self._zbuf = self.ctx.depth_renderbuffer(size)
        self.fbo = self.ctx.framebuffer([self._color, self._depth, self._label], self._zbuf)
        self.prog = self.ctx.program(vertex_shader=_VERTEX, fragment_shader=_FRAGMENT)
        self.prog["tex"].value = 0  # texture unit 0
        self._textures = _GpuCache()  # texture array -> (texture,)
        self._static = _GpuCache()  # static mesh -> (vertex array, vertex buffer, index buffer)
        # the float depth and integer label attachments are reset by upload, not glClear
        self._clear_depth = np.full(width * height, np.inf, dtype="f4").tobytes()
        self._clear_label = bytes(width * height)

    def close(self) -> None:
        self._textures.clear()
        self._static.clear()
        self.ctx.release()

    def __enter__(self) -> Rasterizer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def render(
        self,
        meshes: list[Mesh],
        T_world_cam: np.ndarray,
        K: np.ndarray,
        background: tuple[float, float, float] = (1.0, 1.0, 1.0),
        key_light_cam: tuple[float, float, float] = (-0.4, -0.8, -0.45),
        fill_light_cam: tuple[float, float, float] = (0.6, -0.2, -0.75),
        ambient: float = 0.35,
        key_light_world: tuple[float, float, float] | None = None,
        fill_light_world: tuple[float, float, float] | None = None,
    ) -> Render:
        """Render ``meshes`` seen by the camera ``T_world_cam`` (4, 4) with intrinsics ``K`` (3, 3).

        Light directions point towards the light. ``key_light_cam`` and ``fill_light_cam``
        are in the camera frame (the defaults: a key from the upper left, a fill from the
        right); ``key_light_world`` and ``fill_light_world``, when given, replace them with
        directions in the world frame: lighting that stays put as the camera moves.
        """
        if T_world_cam.shape != (4, 4) or K.shape != (3, 3):
            raise ShapeError(f"render: expected T_world_cam (4, 4) and K (3, 3), received {T_world_cam.shape} and {K.shape}")
        R_cam_world = T_world_cam[:3, :3].T
        t_cam_world = -R_cam_world @ T_world_cam[:3, 3]
        p = self.prog
        # GLSL mat3 uniforms are column-major: pass the transpose's row-major bytes
        p["R_cam_world"].write(np.ascontiguousarray(R_cam_world.T, dtype="f4").tobytes())
        p["t_cam_world"].value = tuple(float(x) for x in t_cam_world)
        p["intr"].value = (float(K[0, 0]), float(K[1, 1]), float(K[0, 2]), float(K[1, 2]))
        p["size"].value = (float(self.width), float(self.height))
        p["clip"].value = (self.near_m, self.far_m)
        lights = (("key_dir", key_light_cam, key_light_world), ("fill_dir", fill_light_cam, fill_light_world))
        for name, d_cam, d_world in lights:
            d = np.asarray(d_cam, np.float64) if d_world is None else R_cam_world @ np.asarray(d_world, np.float64)
            p[name].value = tuple(float(x) for x in d / np.linalg.norm(d))
        p["ambient"].value = ambient

        self.fbo.use()
        self.ctx.viewport = (0, 0, self.width, self.height)
        self.ctx.enable(self.ctx.DEPTH_TEST)
        self.ctx.disable(self.ctx.CULL_FACE)
        self.fbo.clear(*background, 1.0, depth=1.0)
        self._depth.write(self._clear_depth)
        self._label.write(self._clear_label)
        self._textures.release_dropped()
        self._static.release_dropped()
        for mesh in meshes:
            self._draw(mesh)
        return Render(rgb=self._read(0, 3, "f1"), depth_m=self._read(1, 1, "f4"), labels=self._read(2, 1, "u1"))

    def _read(self, attachment: int, components: int, dtype: str) -> np.ndarray:
        """One attachment as an image, row 0 at the top (GL's row 0 is the bottom)."""
        data = np.frombuffer(self.fbo.read(components=components, attachment=attachment, dtype=dtype),
                             {"f1": np.uint8, "f4": np.float32, "u1": np.uint8}[dtype])
        shape = (self.height, self.width, components) if components > 1 else (self.height, self.width)
        return np.ascontiguousarray(data.reshape(shape)[::-1])

    def _draw(self, mesh: Mesh) -> None:
        if mesh.static:
            vao = self._static.get(mesh, functools.partial(self._upload, mesh))[0]
        else:
            objects = self._upload(mesh)
            vao = objects[0]
        if mesh.texture is not None:
            self._textures.get(mesh.texture, functools.partial(self._upload_texture, mesh.texture))[0].use(0)
        self.prog["textured"].value = mesh.texture is not None
        self.prog["label"].value = mesh.label
        vao.render()
        if not mesh.static:
            for obj in objects:
                obj.release()

    def _upload(self, mesh: Mesh) -> tuple[Any, ...]:
        """(vertex array, vertex buffer, index buffer) of a mesh."""
        v = mesh.vertices_world
        columns = [v, vertex_normals(v, mesh.faces), np.broadcast_to(mesh.color, v.shape)]
        layout, names = "3f 3f 3f", ("in_pos", "in_normal", "in_color")
        if mesh.uv is not None:
            columns.append(mesh.uv)
            layout, names = layout + " 2f", names + ("in_uv",)
        vbo = self.ctx.buffer(np.concatenate(columns, axis=1).astype("f4").tobytes())
        ibo = self.ctx.buffer(mesh.faces.astype("i4").tobytes())
        return self.ctx.vertex_array(self.prog, [(vbo, layout, *names)], ibo), vbo, ibo

    def _upload_texture(self, image: np.ndarray) -> tuple[Any, ...]:
        """(texture,): ``image`` row 0 first, so that v = 0 is its top; mipmapped, repeating."""
        import moderngl

        texture = self.ctx.texture((image.shape[1], image.shape[0]), 3, np.ascontiguousarray(image).tobytes())
        texture.build_mipmaps()
        texture.filter = (moderngl.LINEAR_MIPMAP_LINEAR, moderngl.LINEAR)
        texture.anisotropy = self.anisotropy
        return (texture,)
