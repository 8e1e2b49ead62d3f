"""Headless CPU rasteriser (moderngl on EGL + Mesa llvmpipe) for pictures and label images.

Draws triangle meshes given in world coordinates through an OpenCV pinhole camera
(``T_world_cam``, ``K`` in pixels, image corner at (0, 0)) and reads back, per pixel:
a shaded colour, the camera depth (metres, ``inf`` on background) and the label of the
nearest mesh (0 on background). Not differentiable: the refine stage has its own
renderer; this one makes ground truth, overlays and the label images of ``reshoot eval``.

The projection maps camera points exactly like :func:`reshoot.geometry.project`:
window x = fx X / Z + cx, and rows are flipped on read-back so that row 0 is the top.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
out vec3 v_normal_cam;
out vec3 v_color;
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
    v_depth = p.z;
}
"""

_FRAGMENT = """
#version 330
uniform uint label;
uniform vec3 key_dir;   // camera frame, towards the light
uniform vec3 fill_dir;
uniform float ambient;
in vec3 v_normal_cam;
in vec3 v_color;
in float v_depth;
layout(location = 0) out vec4 out_color;
layout(location = 1) out float out_depth;
layout(location = 2) out uint out_label;
void main() {
    vec3 n = normalize(v_normal_cam);
    if (!gl_FrontFacing) n = -n;
    float shade = ambient + 0.75 * max(dot(n, key_dir), 0.0) + 0.3 * max(dot(n, fill_dir), 0.0);
    out_color = vec4(clamp(v_color * shade, 0.0, 1.0), 1.0);
    out_depth = v_depth;
    out_label = label;
}
"""


@dataclass
class Mesh:
    """A triangle mesh in world coordinates (metres) with per-vertex or flat colour."""

    vertices_world: np.ndarray
    """(V, 3) float"""
    faces: np.ndarray
    """(F, 3) int vertex indices"""
    color: np.ndarray = field(default_factory=lambda: np.array([0.7, 0.7, 0.7]))
    """(3,) or (V, 3) RGB in [0, 1]"""
    label: int = 0
    """written to the label image where this mesh is nearest (0..255; 0 = background)"""

    def __post_init__(self) -> None:
        self.vertices_world = np.asarray(self.vertices_world, dtype=np.float64)
        self.faces = np.asarray(self.faces, dtype=np.int64)
        self.color = np.asarray(self.color, dtype=np.float64)
        if self.vertices_world.ndim != 2 or self.vertices_world.shape[1] != 3:
            raise ShapeError(f"Mesh.vertices_world: expected shape (V, 3), received {self.vertices_world.shape}")
        if self.faces.ndim != 2 or self.faces.shape[1] != 3:
            raise ShapeError(f"Mesh.faces: expected shape (F, 3), received {self.faces.shape}")
        if self.color.shape not in ((3,), self.vertices_world.shape):
            raise ShapeError(f"Mesh.color: expected shape (3,) or {self.vertices_world.shape}, received {self.color.shape}")
        if not 0 <= self.label <= 255:
            raise ValueError(f"Mesh.label must be in 0..255, received {self.label}")


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


class Rasterizer:
    """One offscreen EGL context and framebuffer of a fixed size; reuse it across frames."""

    def __init__(self, width: int, height: int, near_m: float = 0.05, far_m: float = 1000.0) -> None:
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
        size = (width, height)
        self._color = self.ctx.texture(size, 4, dtype="f1")
        self._depth = self.ctx.texture(size, 1, dtype="f4")
        self._label = self.ctx.texture(size, 1, dtype="u1")
        self._zbuf = self.ctx.depth_renderbuffer(size)
        self.fbo = self.ctx.framebuffer([self._color, self._depth, self._label], self._zbuf)
        self.prog = self.ctx.program(vertex_shader=_VERTEX, fragment_shader=_FRAGMENT)
        # the float depth and integer label attachments are reset by upload, not glClear
        self._clear_depth = np.full(width * height, np.inf, dtype="f4").tobytes()
        self._clear_label = bytes(width * height)

    def close(self) -> None:
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
    ) -> Render:
        """Render ``meshes`` seen by the camera ``T_world_cam`` (4, 4) with intrinsics ``K`` (3, 3).

        Light directions are in the camera frame and point towards the light (the
        defaults: a key from the upper left, a fill from the right).
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
        for name, d in (("key_dir", key_light_cam), ("fill_dir", fill_light_cam)):
            d = np.asarray(d, dtype=np.float64)
            p[name].value = tuple(float(x) for x in d / np.linalg.norm(d))
        p["ambient"].value = ambient

        self.fbo.use()
        self.ctx.viewport = (0, 0, self.width, self.height)
        self.ctx.enable(self.ctx.DEPTH_TEST)
        self.ctx.disable(self.ctx.CULL_FACE)
        self.fbo.clear(*background, 1.0, depth=1.0)
        self._depth.write(self._clear_depth)
        self._label.write(self._clear_label)
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
        v = mesh.vertices_world
        n = vertex_normals(v, mesh.faces)
        c = np.broadcast_to(mesh.color, v.shape)
        data = np.concatenate([v, n, c], axis=1).astype("f4")
        vbo = self.ctx.buffer(data.tobytes())
        ibo = self.ctx.buffer(mesh.faces.astype("i4").tobytes())
        vao = self.ctx.vertex_array(self.prog, [(vbo, "3f 3f 3f", "in_pos", "in_normal", "in_color")], ibo)
        self.prog["label"].value = mesh.label
        vao.render()
        vao.release()
        vbo.release()
        ibo.release()
