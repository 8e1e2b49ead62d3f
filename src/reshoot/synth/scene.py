r"""A synthetic film set: a walled courtyard with a textured ground, facades and props.

The actors' surroundings in the synthetic shots, and the ground truth of structure from
motion. Every surface carries non-repeating detail at several scales (noise, aggregate,
stones, cracks, paint, bricks, windows, posters, graffiti, wood grain), so that feature
detectors and trackers find dense, distinctive corners wherever the camera looks.

World frame: Z up, metres, the ground is z = 0. Seen from above, with c = ``centre_xy``
and h = ``half_size_m``::

    +-------------------- facades --------------------+  y = c_y + h
    | props along the facades                          |
    |            .--------------------.                |
    |           /                      \               |
    |          |    c: actors within    |              |
    |          |    ~4 m, the camera    |              |
    |          |    at ~5 m             |              |
    |           \   no props inside    /               |
    |            '-- clear_radius_m --'                |
    |                                                  |
    +--------------------------------------------------+  y = c_y - h

Facades enclose the courtyard on all four sides (3.2 to 6.5 m high, some set back), so a
camera inside sees set detail behind the actors from every heading; above them is the
plain ``sky_rgb`` background. All meshes are static, label 0 (background in the label
images). Everything is drawn from the generator given to :func:`build_set`; textures are
memoised by seed, so building the same set again is quick.

Render with the set's lights, which stay put in the world as the camera moves::

    raster.render(film_set.meshes + actors, T_world_cam, K, background=film_set.sky_rgb,
                  key_light_world=film_set.key_light_world, fill_light_world=film_set.fill_light_world)

A ``Rasterizer(W, H, anisotropy=8)`` keeps the distant ground sharp (about twice the
corners there) for about twice the frame time.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from reshoot.errors import InputError
from reshoot.render.raster import Mesh

#: Height of the top of a :func:`chair`'s seat above the ground (metres).
SEAT_HEIGHT_M = 0.45

_GROUND_PX = 4096
"""side of the ground texture: over a 25 m courtyard, 6 mm a texel (about a pixel at
5 m with an 800 px focal length)"""
_FACADE_TEXEL_M = 0.012
"""facade texel size: a facade is seen from 8 m and more (a pixel is 1 cm there)"""
_PROP_TEXEL_M = 0.004
"""texel size of the props' textures"""
_PROP_PX = 512
"""side of a prop's texture: 2 m at ``_PROP_TEXEL_M``"""
_TAPE_COLOURS = ((230, 40, 40), (250, 210, 30), (40, 120, 230), (240, 240, 240), (40, 200, 90), (240, 120, 20))
"""RGB colours of the gaffer-tape marks on the ground"""


@dataclass
class FilmSet:
    """A courtyard set: its meshes and the facts a shot generator needs about it."""

    meshes: list[Mesh]
    """static, label 0 meshes: the ground, the facades, the props"""
    centre_xy: np.ndarray
    """(2,) world position of the set's centre (metres), the middle of the acting area"""
    half_size_m: float
    """the facades stand at most this far from the centre along x and y (some are set
    back a little further)"""
    clear_radius_m: float
    """no prop stands within this distance of the centre (the acting area and the camera)"""
    obstacles_xyr: np.ndarray
    """(N, 3) each prop's footprint as a circle: world x, y and radius (metres)"""
    sky_rgb: tuple[float, float, float]
    """background colour to render with (above the facades), RGB in [0, 1]"""
    key_light_world: tuple[float, float, float]
    """direction towards the key light (a high sun), world frame"""
    fill_light_world: tuple[float, float, float]
    """direction towards the fill light (the sky opposite the sun), world frame"""


def build_set(
    rng: np.random.Generator,
    centre_xy: tuple[float, float] = (0.0, 0.0),
    half_size_m: float = 12.0,
    clear_radius_m: float = 7.0,
) -> FilmSet:
    """Build a courtyard set around ``centre_xy`` (world metres), deterministic in ``rng``.

    The facades stand ``half_size_m`` from the centre (the courtyard is about twice that
    across); props stand along the facades, none nearer the centre than ``clear_radius_m``.
    The ground texture is 4096 texels across whatever the size: 6 mm a texel at the
    default size. Takes about a second the first time a seed is seen, much less after
    (textures are memoised by seed).
    """
    if not 4.0 <= clear_radius_m <= half_size_m - 2.5:
        raise InputError(
            f"build_set: clear_radius_m must be in [4, half_size_m - 2.5] = [4, {half_size_m - 2.5}] "
            f"(props need 2.5 m along the walls), received {clear_radius_m}"
        )
    centre = np.asarray(centre_xy, dtype=np.float64)
    meshes = [_ground(int(rng.integers(2**63)), half_size_m + 0.6, centre)]
    meshes += _facades(rng, half_size_m, centre)
    props, obstacles_xyr = _props(rng, half_size_m, clear_radius_m, centre)
    return FilmSet(
        meshes=meshes + props,
        centre_xy=centre,
        half_size_m=half_size_m,
        clear_radius_m=clear_radius_m,
        obstacles_xyr=obstacles_xyr,
        sky_rgb=(0.74, 0.83, 0.93),
        key_light_world=(0.35, -0.45, 0.82),
        fill_light_world=(-0.5, 0.6, 0.4),
    )


def chair(position_xy: tuple[float, float], yaw_rad: float, seed: int = 0) -> Mesh:
    """A wooden chair (static, label 0), the top of its seat :data:`SEAT_HEIGHT_M` above
    the ground, its backrest 0.86 m high.

    ``position_xy`` is the world position of the seat's centre; someone seated on it
    faces the world direction (cos yaw, sin yaw, 0), the backrest behind them. ``seed``
    picks the wood's texture.
    """
    seat, leg, back_h = 0.44, 0.035, 0.45
    parts = [_box((seat, seat, 0.04), (0.0, 0.0, SEAT_HEIGHT_M - 0.04))]
    for sx in (-1, 1):
        for sy in (-1, 1):
            top = SEAT_HEIGHT_M - 0.04 + (back_h if sx < 0 else 0.0)  # the rear legs hold the backrest
            parts.append(_box((leg, leg, top), (sx * (seat - leg) / 2, sy * (seat - leg) / 2, 0.0)))
    parts.append(_box((0.025, seat - 2 * leg, 0.22), (-(seat - leg) / 2, 0.0, SEAT_HEIGHT_M + 0.18)))
    return _prop(parts, _wood_texture(seed, 2), _PROP_TEXEL_M, np.asarray(position_xy, dtype=np.float64), yaw_rad)


# ---------------------------------------------------------------------------------------
# geometry


@dataclass
class _Part:
    """Mesh pieces in a prop's own frame, before texturing: uv in metres on each face."""

    vertices: np.ndarray
    """(V, 3) metres"""
    faces: np.ndarray
    """(F, 3)"""
    uv_m: np.ndarray
    """(V, 2) metres along the face: u horizontal, v downwards"""


@dataclass
class _PropModel:
    """A prop in its own frame, its front along +x, before it is placed."""

    parts: list[_Part]
    texture: np.ndarray
    """(h, w, 3) uint8"""
    texel_m: float
    """metres a texel of ``texture`` covers on the faces"""
    radius_m: float
    """radius of its footprint about its origin"""


def _box(size: tuple[float, float, float], base: tuple[float, float, float], yaw_rad: float = 0.0) -> _Part:
    """A box of ``size`` (x, y, z) whose bottom face is centred on ``base``, turned by
    ``yaw_rad`` about z; five faces (no bottom), each with its own corners (flat shading)
    and its own region of the texture."""
    hx, hy, hz = size[0] / 2, size[1] / 2, size[2]
    # the corners of each face, counter-clockwise seen from outside, and its width
    quads = [
        ([[hx, -hy, 0], [hx, hy, 0], [hx, hy, hz], [hx, -hy, hz]], 2 * hy),  # +x
        ([[-hx, hy, 0], [-hx, -hy, 0], [-hx, -hy, hz], [-hx, hy, hz]], 2 * hy),  # -x
        ([[hx, hy, 0], [-hx, hy, 0], [-hx, hy, hz], [hx, hy, hz]], 2 * hx),  # +y
        ([[-hx, -hy, 0], [hx, -hy, 0], [hx, -hy, hz], [-hx, -hy, hz]], 2 * hx),  # -y
        ([[-hx, -hy, hz], [hx, -hy, hz], [hx, hy, hz], [-hx, hy, hz]], 2 * hx),  # top
    ]
    vertices, uv, faces = [], [], []
    for k, (corners, width) in enumerate(quads):
        height = 2 * hy if k == 4 else hz
        offset = np.array([0.618, 0.382]) * (k + 1)  # metres: each face shows another part of the texture
        uv += [offset + [0, height], offset + [width, height], offset + [width, 0], offset + [0, 0]]
        vertices += corners
        faces += [[4 * k, 4 * k + 1, 4 * k + 2], [4 * k, 4 * k + 2, 4 * k + 3]]
    v = np.array(vertices, dtype=np.float64)
    return _Part(_yawed(v, yaw_rad) + base, np.array(faces), np.array(uv))


def _cylinder(radius: float, height: float, base: tuple[float, float, float], segments: int = 24,
              top_radius: float | None = None) -> _Part:  # fmt: skip
    """A (truncated) cone or cylinder standing on ``base``, with a top cap."""
    top_radius = radius if top_radius is None else top_radius
    a = np.linspace(0.0, 2 * np.pi, segments + 1)  # the seam vertex twice: u wraps
    ring = np.stack([np.cos(a), np.sin(a), np.zeros_like(a)], -1)
    bottom, top = ring * radius, ring * top_radius + [0, 0, height]
    side_v = np.concatenate([bottom, top])
    n = segments + 1
    u = a * radius
    side_uv = np.concatenate([np.stack([u, np.full(n, height)], -1), np.stack([u, np.zeros(n)], -1)])
    k = np.arange(segments)
    side_f = np.concatenate([np.stack([k, k + 1, n + k + 1], -1), np.stack([k, n + k + 1, n + k], -1)])
    cap_v = np.concatenate([[[0.0, 0.0, height]], top[:-1]])
    cap_uv = cap_v[:, :2] + 3.0
    cap_f = 2 * n + np.stack([np.zeros(segments, int), 1 + k, 1 + (k + 1) % segments], -1)
    return _Part(np.concatenate([side_v, cap_v]) + base, np.concatenate([side_f, cap_f]),
                 np.concatenate([side_uv, cap_uv]))  # fmt: skip


def _yawed(v: np.ndarray, yaw_rad: float) -> np.ndarray:
    """Points (N, 3) turned by ``yaw_rad`` about the z axis (counter-clockwise from above)."""
    c, s = np.cos(yaw_rad), np.sin(yaw_rad)
    return v @ np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])


def _prop(parts: list[_Part], texture: np.ndarray, texel_m: float, position_xy: np.ndarray, yaw_rad: float) -> Mesh:
    """One static mesh of ``parts`` (in the prop's frame), turned by ``yaw_rad`` and set
    down at ``position_xy``, its faces textured at ``texel_m`` metres a texel."""
    offsets = np.cumsum([0] + [len(p.vertices) for p in parts])
    vertices = np.concatenate([p.vertices for p in parts])
    faces = np.concatenate([p.faces + o for p, o in zip(parts, offsets)])
    uv = np.concatenate([p.uv_m for p in parts]) / (texel_m * np.array([texture.shape[1], texture.shape[0]]))
    world = _yawed(vertices, yaw_rad) + [position_xy[0], position_xy[1], 0.0]
    return Mesh(world, faces, uv=uv, texture=texture, static=True)


# ---------------------------------------------------------------------------------------
# the ground


def _ground(seed: int, half_m: float, centre: np.ndarray) -> Mesh:
    """One square of side ``2 half_m`` at z = 0 around ``centre``, texture north up."""
    x0, x1, y0, y1 = centre[0] - half_m, centre[0] + half_m, centre[1] - half_m, centre[1] + half_m
    vertices = np.array([[x0, y1, 0.0], [x1, y1, 0.0], [x1, y0, 0.0], [x0, y0, 0.0]])
    uv = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])  # image top = +y
    texture = _ground_texture(seed, _GROUND_PX, 2 * half_m / _GROUND_PX)
    return Mesh(vertices, [[0, 1, 2], [0, 2, 3]], uv=uv, texture=texture, static=True)


@functools.lru_cache(maxsize=2)
def _ground_texture(seed: int, n: int, texel_m: float) -> np.ndarray:
    """(n, n, 3) uint8 courtyard ground: asphalt with paved and concrete zones, patches,
    stones, cracks, stains, drains, painted marks, tape marks and weeds. Read-only."""
    rng = np.random.default_rng(seed)
    px = 1.0 / texel_m  # texels per metre
    # asphalt: brightness at 4 m, 1 m, 25 cm, 12 cm and 6 cm, and a per-texel aggregate
    octaves = [(4.0 * px, 0.05), (1.0 * px, 0.04), (0.25 * px, 0.04), (0.12 * px, 0.04), (0.06 * px, 0.02)]
    lum = _fbm(rng, n, n, octaves)
    grain = cv2.GaussianBlur(rng.random((n, n), dtype=np.float32), (0, 0), 0.6)  # mean 0.5, std about 0.12
    lum = cv2.addWeighted(lum, 1.0, grain, 0.7, 0.30 - 0.35)
    light_chips = cv2.threshold(grain, 0.76, 0.18, cv2.THRESH_BINARY)[1]
    dark_chips = cv2.threshold(grain, 0.26, 0.12, cv2.THRESH_BINARY_INV)[1]
    lum = cv2.subtract(cv2.add(lum, light_chips), dark_chips)
    tint = cv2.multiply(lum, _fbm(rng, n, n, [(3.0 * px, 0.04)]))  # warmer here, cooler there
    img = cv2.merge([_to_u8(cv2.add(lum, tint)), _to_u8(lum), _to_u8(cv2.subtract(lum, tint))])

    _paved_zone(rng, img, px, "pavers")  # each along a side
    _paved_zone(rng, img, px, "slabs")
    for _ in range(int(rng.integers(8, 14))):  # repaired patches: darker or lighter asphalt
        _patch(rng, img, px)
    _stones(rng, img, px, count=int(n * n / 1500))
    for _ in range(int(rng.integers(120, 180))):
        _crack(rng, img, px)
    for _ in range(int(rng.integers(18, 30))):  # oil and water stains
        _stain(rng, img, px)
    for _ in range(int(rng.integers(2, 5))):
        _drain(rng, img, px)
    _road_paint(rng, img, px)
    _tape_marks(rng, img, px)
    _weeds_and_leaves(rng, img, px)
    img.flags.writeable = False
    return img


def _paved_zone(rng: np.random.Generator, img: np.ndarray, px: float, kind: str) -> None:
    """A band along one side of the ground laid with small pavers (running bond) or big
    concrete slabs, each unit its own tone."""
    n = img.shape[0]
    depth, start = int(rng.uniform(2.0, 4.5) * px), int(rng.uniform(0, 0.4) * n)
    length = int(rng.uniform(0.3, 0.55) * n)
    side = int(rng.integers(4))
    h, w = (depth, length) if side < 2 else (length, depth)
    y0 = {0: 0, 1: n - depth}.get(side, start)
    x0 = {2: 0, 3: n - depth}.get(side, start)
    h, w = min(h, n - y0), min(w, n - x0)
    unit_w, unit_h, joint = (0.2 * px, 0.1 * px, 0.008 * px) if kind == "pavers" else (1.5 * px, 1.5 * px, 0.012 * px)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    row = (yy / unit_h).astype(np.int32)
    xs = xx + (row % 2) * unit_w / 2
    col = (xs / unit_w).astype(np.int32)
    tones = rng.uniform(0.8, 1.2, (row.max() + 1, col.max() + 1)).astype(np.float32)
    base = np.array([[150, 110, 95], [140, 140, 135], [120, 95, 80]][int(rng.integers(3))] if kind == "pavers"
                    else [175, 172, 165], np.float32)  # fmt: skip
    in_joint = ((yy % unit_h) < max(joint, 1.2)) | ((xs % unit_w) < max(joint, 1.2))
    shade = tones[row, col] * np.where(in_joint, 0.45, 1.0).astype(np.float32)
    detail = img[y0 : y0 + h, x0 : x0 + w].astype(np.float32) / 80.0  # keeps the aggregate and its noise
    zone = base * (shade * (0.55 + 0.45 * detail.mean(-1)))[..., None]
    img[y0 : y0 + h, x0 : x0 + w] = np.clip(zone, 0, 255).astype(np.uint8)


def _patch(rng: np.random.Generator, img: np.ndarray, px: float) -> None:
    """A repaired polygon of asphalt, a little darker or lighter, with a sharp edge."""
    n = img.shape[0]
    centre = rng.uniform(0, n, 2)
    size = rng.uniform(0.6, 3.0) * px
    corners = centre + rng.uniform(-size, size, (int(rng.integers(4, 7)), 2)) * [1, 0.6]
    hull = cv2.convexHull(corners.astype(np.int32))
    x, y, w, h = cv2.boundingRect(hull)
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, n), min(y + h, n)
    if x1 <= x0 or y1 <= y0:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [hull - [x0, y0]], 255, cv2.LINE_AA)
    roi = img[y0:y1, x0:x1]
    factor = rng.choice([0.7, 0.8, 1.2, 1.3])
    changed = cv2.convertScaleAbs(roi, alpha=factor)
    cv2.polylines(changed, [hull - [x0, y0]], True, (30, 30, 30), max(1, int(0.01 * px)), cv2.LINE_AA)
    roi[:] = np.where(mask[..., None] > 127, changed, roi)


def _stones(rng: np.random.Generator, img: np.ndarray, px: float, count: int) -> None:
    """Pebbles and chips, 1 to 8 cm across (more small than big), denser where a 3 m
    noise is high."""
    n = img.shape[0]
    xy = rng.uniform(0, n, (count, 2))
    density = _noise(rng, 64, 64, 8.0)
    xy = xy[density[(xy[:, 1] * 64 / n).astype(int), (xy[:, 0] * 64 / n).astype(int)] > rng.uniform(-1.0, 1.0, count)]
    k = len(xy)
    radii = np.exp(rng.uniform(np.log(0.005), np.log(0.04), k)) * px
    greys, warms = rng.uniform(40, 200, k), rng.uniform(-20, 20, k)
    for (x, y), r, grey, warm, ang in zip(xy, radii, greys, warms, rng.uniform(0, 180, k)):
        colour = (grey + warm, grey, grey - warm)
        axes = (max(1, int(r)), max(1, int(r * 0.65)))
        cv2.ellipse(img, (int(x), int(y)), axes, float(ang), 0, 360, colour, -1, cv2.LINE_AA)


def _crack(rng: np.random.Generator, img: np.ndarray, px: float) -> None:
    """A wandering dark crack, 0.5 to 4 m, sometimes branching, sometimes sealed with a
    band of tar."""
    n = img.shape[0]
    point = rng.uniform(0, n, 2)
    heading = rng.uniform(0, 2 * np.pi)
    step = 0.04 * px
    for _branch in range(int(rng.integers(1, 4))):
        steps = int(rng.uniform(0.5, 4.0) * px / step)
        heading_k = heading + np.cumsum(rng.normal(0, 0.35, steps))
        path = point + np.cumsum(np.stack([np.cos(heading_k), np.sin(heading_k)], -1) * step, 0)
        if rng.random() < 0.4:
            cv2.polylines(img, [path.astype(np.int32)], False, (16, 16, 18), int(rng.uniform(0.03, 0.06) * px), cv2.LINE_AA)
        thick = max(1, int(rng.uniform(0.003, 0.012) * px))
        cv2.polylines(img, [path.astype(np.int32)], False, (22, 22, 24), thick, cv2.LINE_AA)
        point, heading = path[len(path) // 2], heading_k[len(path) // 2] + rng.choice([-1, 1]) * 0.8


def _stain(rng: np.random.Generator, img: np.ndarray, px: float) -> None:
    """A soft dark blob (oil) or a faint light one (dried water)."""
    n = img.shape[0]
    r = rng.uniform(0.15, 0.9) * px
    x, y = rng.uniform(r, n - r, 2)
    x0, y0, x1, y1 = int(x - 1.5 * r), int(y - 1.5 * r), int(x + 1.5 * r), int(y + 1.5 * r)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, n), min(y1, n)
    mask = np.zeros((y1 - y0, x1 - x0), np.float32)
    for _ in range(int(rng.integers(2, 6))):
        cx, cy = x - x0 + rng.normal(0, r / 3), y - y0 + rng.normal(0, r / 3)
        axes = (int(r * rng.uniform(0.3, 0.8)), int(r * rng.uniform(0.2, 0.6)))
        cv2.ellipse(mask, (int(cx), int(cy)), axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), r / 6) * np.float32(rng.uniform(0.3, 0.6))
    sign = -1.0 if rng.random() < 0.75 else 0.5
    roi = img[y0:y1, x0:x1]
    roi[:] = np.clip(roi * (1 + sign * mask)[..., None], 0, 255).astype(np.uint8)


def _drain(rng: np.random.Generator, img: np.ndarray, px: float) -> None:
    """A round manhole cover with a chequered relief, or a slotted rectangular grate."""
    n = img.shape[0]
    x, y = (int(v) for v in rng.uniform(0.1 * n, 0.9 * n, 2))
    if rng.random() < 0.5:
        r = int(0.32 * px)
        cv2.circle(img, (x, y), r + int(0.03 * px), (90, 88, 85), -1, cv2.LINE_AA)
        cv2.circle(img, (x, y), r, (45, 45, 48), -1, cv2.LINE_AA)
        cell = max(2, int(0.04 * px))
        for gx in range(x - r, x + r, cell):
            for gy in range(y - r, y + r, cell):
                if (gx - x) ** 2 + (gy - y) ** 2 < (r - cell) ** 2 and ((gx - x) // cell + (gy - y) // cell) % 2:
                    cv2.rectangle(img, (gx, gy), (gx + cell // 2, gy + cell // 2), (75, 72, 70), -1)
        _text(rng, img, (x - r // 2, y + r // 6), r // 3, (70, 70, 72))
    else:
        w, h = int(0.6 * px), int(0.3 * px)
        cv2.rectangle(img, (x, y), (x + w, y + h), (60, 60, 62), -1)
        for gx in range(x + 3, x + w - 3, max(3, int(0.03 * px))):
            cv2.line(img, (gx, y + 3), (gx, y + h - 3), (12, 12, 14), max(1, int(0.012 * px)))


def _road_paint(rng: np.random.Generator, img: np.ndarray, px: float) -> None:
    """Worn painted markings: numbered parking bays, hatched boxes, arrows and words."""
    n = img.shape[0]
    paints = [(235, 235, 225), (240, 200, 40), (230, 230, 230)]
    line = int(0.1 * px)

    def bays(canvas: np.ndarray, value: int, x: float, y: float, horizontal: bool, count: int) -> None:
        bay, length = rng.uniform(2.3, 2.8) * px, rng.uniform(4.0, 5.0) * px
        for k in range(count):
            a = (x + k * bay, y) if horizontal else (x, y + k * bay)
            b = (a[0], a[1] + length) if horizontal else (a[0] + length, a[1])
            cv2.line(canvas, _pt(a), _pt(b), value, line, cv2.LINE_AA)
            if k < count - 1:
                at = (a[0] + 0.4 * bay, a[1] + 0.7 * length) if horizontal else (a[0] + 0.3 * length, a[1] + 0.7 * bay)
                _text(rng, canvas, _pt(at), int(0.5 * px), value, str(int(rng.integers(1, 99))))

    def hatch(canvas: np.ndarray, value: int, x: float, y: float, w: float, h: float) -> None:
        cv2.rectangle(canvas, _pt((x, y)), _pt((x + w, y + h)), value, line, cv2.LINE_AA)
        for s in np.arange(0.0, w + h, 0.45 * px):
            cv2.line(canvas, _pt((x + min(s, w), y + max(0.0, s - w))), _pt((x + max(0.0, s - h), y + min(s, h))),
                     value, int(0.6 * line), cv2.LINE_AA)  # fmt: skip

    def arrow(canvas: np.ndarray, value: int, x: float, y: float, d: np.ndarray) -> None:
        tip = _pt(np.array([x, y]) + d * 1.8 * px)
        cv2.arrowedLine(canvas, _pt((x, y)), tip, value, int(1.5 * line), cv2.LINE_AA, 0, 0.3)

    def word(canvas: np.ndarray, value: int, x: float, y: float, text: str) -> None:
        _text(rng, canvas, _pt((x, y)), int(0.5 * px), value, text)

    words = ["SLOW", "STOP", "LOADING", "NO PARKING", "KEEP CLEAR", "BAY", "UNIT 7", "EXIT", "STAGE"]
    for _ in range(int(rng.integers(3, 6))):
        x, y = rng.uniform(0.05 * n, 0.7 * n, 2)
        row = functools.partial(bays, x=x, y=y, horizontal=bool(rng.random() < 0.5), count=int(rng.integers(3, 7)))
        _worn(rng, img, paints[int(rng.integers(3))], row)
    for _ in range(int(rng.integers(2, 4))):
        x, y = rng.uniform(0.05 * n, 0.8 * n, 2)
        w, h = rng.uniform(1.5, 3.5, 2) * px
        _worn(rng, img, paints[int(rng.integers(3))], functools.partial(hatch, x=x, y=y, w=w, h=h))
    for _ in range(int(rng.integers(3, 7))):
        x, y = rng.uniform(0.05 * n, 0.85 * n, 2)
        if rng.random() < 0.5:
            d = rng.choice([-1, 1]) * np.array([1.0, 0.0] if rng.random() < 0.5 else [0.0, 1.0])
            _worn(rng, img, paints[int(rng.integers(3))], functools.partial(arrow, x=x, y=y, d=d))
        else:
            text = str(rng.choice(words))
            _worn(rng, img, paints[int(rng.integers(3))], functools.partial(word, x=x, y=y, text=text))


def _tape_marks(rng: np.random.Generator, img: np.ndarray, px: float) -> None:
    """Gaffer-tape T and X marks, as actors' marks on a film set, mostly near the centre."""
    n = img.shape[0]
    width = max(2, int(0.05 * px))
    for _ in range(int(rng.integers(25, 40))):
        x, y = n / 2 + rng.normal(0, 3.0 * px, 2)
        colour = _TAPE_COLOURS[int(rng.integers(len(_TAPE_COLOURS)))]
        half = rng.uniform(0.1, 0.2) * px
        ang = rng.uniform(0, np.pi)
        d = np.array([np.cos(ang), np.sin(ang)]) * half
        e = np.array([-d[1], d[0]])
        p = np.array([x, y])
        if rng.random() < 0.5:  # a T
            segments = [(p - d, p + d), (p, p + 1.5 * e)]
        else:  # an X
            segments = [(p - d - e, p + d + e), (p - d + e, p + d - e)]
        for a, b in segments:
            cv2.line(img, _pt(a), _pt(b), colour, width, cv2.LINE_AA)


def _weeds_and_leaves(rng: np.random.Generator, img: np.ndarray, px: float) -> None:
    """Green weeds and dry leaves, denser along the edges (the foot of the walls)."""
    n = img.shape[0]
    count = int(n * n / 3000)
    xy = rng.uniform(0, n, (count, 2))
    edge = np.minimum(xy, n - xy).min(-1) / px  # metres from the nearest edge
    xy = xy[rng.random(count) < np.exp(-edge / 1.2) + 0.03]
    for (x, y), weed in zip(xy, rng.random(len(xy)) < 0.6):
        r = rng.uniform(0.01, 0.03) * px
        colour = (rng.uniform(40, 90), rng.uniform(90, 150), rng.uniform(20, 50)) if weed else \
            (rng.uniform(120, 190), rng.uniform(70, 130), rng.uniform(20, 50))  # fmt: skip
        axes = (max(1, int(r)), max(1, int(r * rng.uniform(0.3, 0.8))))
        cv2.ellipse(img, (int(x), int(y)), axes, float(rng.uniform(0, 180)), 0, 360, colour, -1, cv2.LINE_AA)


# ---------------------------------------------------------------------------------------
# the facades


def _facades(rng: np.random.Generator, half_m: float, centre: np.ndarray) -> list[Mesh]:
    """Segments of building front along the four sides, each a box whose front face
    carries its own facade texture; some set back, of varied heights."""
    meshes = []
    length = 2 * half_m + 2.0  # each side runs past the corners: no gaps there
    for side in range(4):
        yaw = side * np.pi / 2  # the side at +x turned about the centre
        s = -length / 2
        while s < length / 2 - 0.5:
            seg = min(rng.uniform(3.0, 8.0), length / 2 - s)
            height, setback = rng.uniform(3.2, 6.5), rng.choice([0.0, 0.0, rng.uniform(0.2, 0.8)])
            kind = str(rng.choice(["brick", "plaster", "concrete", "metal"]))
            w, h = int(seg / _FACADE_TEXEL_M), int(height / _FACADE_TEXEL_M)
            texture = _facade_texture(int(rng.integers(2**63)), kind, w, h)
            depth = 1.0 + setback
            # in the frame of the side at +x: the box's -x face is the front, seen from the centre
            box = _box((depth, seg, height), (half_m + setback + depth / 2, s + seg / 2, 0.0))
            tex_w, tex_h = texture.shape[1] * _FACADE_TEXEL_M, texture.shape[0] * _FACADE_TEXEL_M
            box.uv_m[4:8] = [[0.0, tex_h], [tex_w, tex_h], [tex_w, 0.0], [0.0, 0.0]]  # exactly the whole texture
            meshes.append(_prop([box], texture, _FACADE_TEXEL_M, centre, yaw))
            s += seg
    return meshes


@functools.lru_cache(maxsize=256)
def _facade_texture(seed: int, kind: str, w: int, h: int) -> np.ndarray:
    """(h, w, 3) uint8 building front of ``kind``, row 0 at the top of the wall: the wall
    itself, then windows, a door, posters, graffiti, signs, a pipe and grime. Read-only."""
    rng = np.random.default_rng(seed)
    px = 1.0 / _FACADE_TEXEL_M
    img = {"brick": _brick, "plaster": _plaster, "concrete": _concrete, "metal": _cladding}[kind](rng, h, w, px)
    floor = 3.0 * px
    levels = int(h / floor)
    for level in range(levels):  # windows on every floor but, sometimes, the ground floor
        if level == 0 and rng.random() < 0.5:
            continue
        spacing = rng.uniform(1.8, 3.2) * px
        win_w, win_h = rng.uniform(0.8, 1.4) * px, rng.uniform(1.1, 1.7) * px
        style = _window_style(rng)
        for x in np.arange(rng.uniform(0.2, 1.0) * px, w - win_w, spacing):
            if rng.random() < 0.85:
                top = h - level * floor - 0.9 * px - win_h
                _window(rng, img, int(x), int(top), int(win_w), int(win_h), px, style)
    if rng.random() < 0.8:
        _door(rng, img, px)
    for _ in range(int(rng.integers(0, 3))):
        _posters(rng, img, px)
    for _ in range(int(rng.integers(0, 3))):
        _graffiti(rng, img, px)
    for _ in range(int(rng.integers(0, 3))):
        _sign(rng, img, px)
    if rng.random() < 0.6:
        _pipe(rng, img, px)
    _grime(rng, img, px)
    img.flags.writeable = False
    return img


def _brick(rng: np.random.Generator, h: int, w: int, px: float) -> np.ndarray:
    """Running-bond brickwork, every brick its own tone, in lime mortar."""
    course, length, joint = 0.075 * px, 0.225 * px, 0.012 * px
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    row = (yy / course).astype(np.int32)
    xs = xx + (row % 2) * length / 2 + rng.uniform(0, length)
    col = (xs / length).astype(np.int32)
    palette = np.array([[150, 70, 50], [120, 55, 40], [170, 95, 70], [105, 65, 55], [140, 110, 85]], np.float32)
    pick = rng.choice(len(palette), (row.max() + 1, col.max() + 1), p=[0.35, 0.25, 0.2, 0.1, 0.1])
    tones = palette[pick] * rng.uniform(0.8, 1.15, pick.shape + (1,)).astype(np.float32)
    mortar = (yy % course < joint) | (xs % length < joint)
    img = np.where(mortar[..., None], np.float32([150, 145, 135]), tones[row, col])
    return _u8(img * _dirt(rng, h, w, px)[..., None])


def _plaster(rng: np.random.Generator, h: int, w: int, px: float) -> np.ndarray:
    """Painted render with stains and cracks, fallen off in places to show the bricks."""
    colours = [[225, 215, 190], [205, 170, 120], [170, 190, 200], [215, 175, 170], [190, 190, 185], [235, 235, 228]]
    base = np.float32(colours[int(rng.integers(len(colours)))])
    img = _u8(base * _dirt(rng, h, w, px)[..., None])
    fallen = _noise(rng, h, w, 0.8 * px) + 0.4 * _noise(rng, h, w, 0.08 * px) > 1.8
    if fallen.any():
        bricks = _brick(rng, h, w, px)
        img[fallen] = bricks[fallen]
        edge = cv2.morphologyEx(fallen.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
        img[edge] = (img[edge] * 0.6).astype(np.uint8)
    for _ in range(int(rng.integers(2, 8))):
        _wall_crack(rng, img, px)
    return img


def _concrete(rng: np.random.Generator, h: int, w: int, px: float) -> np.ndarray:
    """Cast concrete: panels with joints, rows of form-tie holes, water streaks."""
    grey = rng.uniform(140, 185)
    img = _u8(np.float32([grey, grey * 0.98, grey * 0.95]) * _dirt(rng, h, w, px)[..., None])
    panel_w, panel_h = rng.uniform(1.2, 2.4) * px, rng.uniform(1.0, 1.6) * px
    for x in np.arange(panel_w, w, panel_w):
        cv2.line(img, (int(x), 0), (int(x), h), (80, 80, 80), 2, cv2.LINE_AA)
    for y in np.arange(panel_h, h, panel_h):
        cv2.line(img, (0, int(y)), (w, int(y)), (80, 80, 80), 2, cv2.LINE_AA)
    for x in np.arange(panel_w / 4, w, panel_w / 2):
        for y in np.arange(panel_h / 4, h, panel_h / 2):
            cv2.circle(img, (int(x + rng.normal(0, 2)), int(y + rng.normal(0, 2))), 2, (55, 55, 58), -1, cv2.LINE_AA)
    return img


def _cladding(rng: np.random.Generator, h: int, w: int, px: float) -> np.ndarray:
    """Painted corrugated metal sheets, overlapping every few metres, with rust."""
    colours = [[120, 125, 130], [60, 90, 120], [70, 110, 80], [150, 60, 50], [200, 200, 195], [190, 150, 70]]
    base = np.float32(colours[int(rng.integers(len(colours)))])
    period = 0.076 * px
    xx = np.arange(w, dtype=np.float32)
    ribs = 1.0 + 0.18 * np.sin(2 * np.pi * xx / period) ** 3
    img = base * (ribs[None, :] * _dirt(rng, h, w, px))[..., None]
    rust = np.clip(_noise(rng, h, w, 0.3 * px) + _noise(rng, h, w, 0.05 * px) * 0.5 - 1.0, 0, 1)[..., None]
    img = img * (1 - rust) + np.float32([130, 70, 35]) * rust
    out = _u8(img)
    for y in np.arange(rng.uniform(1.0, 3.0) * px, h, rng.uniform(1.5, 3.0) * px):
        cv2.line(out, (0, int(y)), (w, int(y)), (40, 40, 40), 2, cv2.LINE_AA)
    return out


@dataclass
class _WindowStyle:
    """The look shared by the windows of a floor."""

    frame: tuple[int, int, int]
    """RGB"""
    glass: tuple[int, int, int]
    """RGB"""
    mullions: int
    """0 none, 1 a cross, 2 a grid"""


def _window_style(rng: np.random.Generator) -> _WindowStyle:
    frames = [(240, 240, 235), (40, 40, 40), (110, 70, 40), (60, 90, 70)]
    glass = [(40, 55, 70), (60, 75, 85), (30, 40, 45), (80, 95, 110)]
    frame, pane = frames[int(rng.integers(len(frames)))], glass[int(rng.integers(len(glass)))]
    return _WindowStyle(frame, pane, int(rng.integers(3)))


def _window(rng: np.random.Generator, img: np.ndarray, x: int, y: int, w: int, h: int, px: float,
            style: _WindowStyle) -> None:  # fmt: skip
    """A window with frame, sill and glass: a sky-to-dark gradient, reflections, maybe
    blinds, a curtain or boards."""
    if y < 0 or x < 0 or y + h > img.shape[0] or x + w > img.shape[1]:
        return
    frame, glass, mullions = style.frame, style.glass, style.mullions
    f = max(2, int(0.06 * px))
    cv2.rectangle(img, (x - f, y - f), (x + w + f, y + h + f), frame, -1)
    cv2.rectangle(img, (x - 2 * f, y + h + f), (x + w + 2 * f, y + h + 2 * f), (170, 170, 165), -1)  # sill
    inner = img[y + f : y + h - f, x + f : x + w - f]
    ih, iw = inner.shape[:2]
    gradient = np.linspace(1.5, 0.7, ih, dtype=np.float32)[:, None, None]
    pane = np.float32(glass) * gradient * (1 + 0.25 * _noise(rng, ih, iw, 0.3 * px))[..., None]
    look = rng.random()
    if look < 0.25:  # blinds
        pane *= (1 + 0.4 * (np.arange(ih) % max(3, int(0.05 * px)) < 2))[:, None, None]
    elif look < 0.45:  # a curtain
        cw = int(iw * rng.uniform(0.2, 0.5))
        pane[:, :cw] = np.float32(_random_colour(rng)) * (0.8 + 0.2 * np.sin(np.arange(cw) / 2.0))[None, :, None]
    elif look < 0.52:  # boarded up
        pane[:] = np.float32([150, 115, 80]) * (0.8 + 0.4 * rng.random((ih // 8 + 1, 1, 1)))[np.arange(ih) // 8]
    inner[:] = _u8(pane)
    for _ in range(int(rng.integers(1, 3))):  # a reflection streak
        x0 = int(rng.uniform(0, iw))
        cv2.line(inner, (x0, ih), (x0 + ih // 2, 0), (200, 210, 220), max(1, iw // 12), cv2.LINE_AA)
    if mullions >= 1:
        cv2.line(img, (x + w // 2, y), (x + w // 2, y + h), frame, f)
        cv2.line(img, (x, y + h // 3), (x + w, y + h // 3), frame, f)
    if mullions == 2:
        for k in (1, 3):
            cv2.line(img, (x + k * w // 4, y), (x + k * w // 4, y + h), frame, max(1, f // 2))


def _door(rng: np.random.Generator, img: np.ndarray, px: float) -> None:
    """A panelled door, or a roller shutter, standing on the ground (the bottom row)."""
    h, w = img.shape[:2]
    shutter = rng.random() < 0.35
    dw, dh = (rng.uniform(2.5, 3.5) if shutter else rng.uniform(0.9, 1.3)) * px, rng.uniform(2.1, 2.8) * px
    if dw > w - 10 or dh > h - 10:
        return
    x, y = int(rng.uniform(5, w - dw - 5)), int(h - dh)
    colour = _random_colour(rng)
    cv2.rectangle(img, (x - 6, y - 6), (int(x + dw) + 6, h), (60, 60, 60), -1)
    door = img[y:h, x : int(x + dw)]
    dh_i, dw_i = door.shape[:2]
    shade = 1 + 0.15 * _noise(rng, dh_i, dw_i, 0.2 * px)
    if shutter:
        shade *= 1 + 0.25 * ((np.arange(dh_i) % max(4, int(0.08 * px))) < 2)[:, None]
    door[:] = _u8(np.float32(colour) * shade[..., None])
    if not shutter:
        for k in range(2):  # two panels and a handle
            py = int(dh_i * (0.08 + 0.48 * k))
            cv2.rectangle(door, (int(dw_i * 0.15), py), (int(dw_i * 0.85), py + int(dh_i * 0.38)), (30, 30, 30), 2)
        cv2.circle(door, (int(dw_i * 0.85), dh_i // 2), max(2, int(0.03 * px)), (200, 190, 120), -1, cv2.LINE_AA)


def _posters(rng: np.random.Generator, img: np.ndarray, px: float) -> None:
    """A cluster of bill posters at eye height: colour fields, shapes, words, torn corners."""
    h, w = img.shape[:2]
    x = rng.uniform(0, max(1.0, w - 2.5 * px))
    for _ in range(int(rng.integers(2, 6))):
        pw, ph = rng.uniform(0.45, 0.8) * px, rng.uniform(0.6, 1.1) * px
        top = h - rng.uniform(1.4, 2.6) * px
        x0, y0, x1, y1 = int(x), int(top), int(x + pw), int(top + ph)
        x += pw + rng.uniform(-0.1, 0.15) * px
        if x1 >= w or y0 < 0 or y1 >= h:
            continue
        poster = img[y0:y1, x0:x1]
        poster[:] = _random_colour(rng)
        ph_i, pw_i = poster.shape[:2]
        for _ in range(int(rng.integers(1, 4))):
            c = (int(rng.uniform(0, pw_i)), int(rng.uniform(0, ph_i)))
            if rng.random() < 0.5:
                cv2.circle(poster, c, int(rng.uniform(0.1, 0.4) * pw_i), _random_colour(rng), -1, cv2.LINE_AA)
            else:
                d = (int(c[0] + rng.uniform(0.2, 0.6) * pw_i), int(c[1] + rng.uniform(0.1, 0.3) * ph_i))
                cv2.rectangle(poster, c, d, _random_colour(rng), -1)
        for k in range(int(rng.integers(1, 4))):
            _text(rng, poster, (int(0.05 * pw_i), int(ph_i * (0.2 + 0.25 * k))), int(ph_i * rng.uniform(0.06, 0.12)),
                  _random_colour(rng))  # fmt: skip
        if rng.random() < 0.5:  # a torn corner shows the wall again
            t = int(rng.uniform(0.2, 0.5) * pw_i)
            cv2.fillPoly(poster, [np.array([[pw_i, ph_i], [pw_i - t, ph_i], [pw_i, ph_i - t]])], (150, 145, 140))


def _graffiti(rng: np.random.Generator, img: np.ndarray, px: float) -> None:
    """A spray-painted tag: a few thick, smooth strokes with a dark outline."""
    h, w = img.shape[:2]
    width = rng.uniform(1.0, 2.5) * px
    x0, y0 = rng.uniform(0, max(1.0, w - width)), h - rng.uniform(0.4, 2.0) * px
    colour, thick = _random_colour(rng), max(3, int(rng.uniform(0.04, 0.09) * px))
    strokes = []
    for _ in range(int(rng.integers(3, 7))):
        ctrl = np.array([x0, y0]) + rng.uniform([0, -0.8 * px], [width, 0.0], (4, 2))
        t = np.linspace(0, 1, 30)[:, None]
        weights = np.concatenate([(1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3], axis=1)
        bezier = weights @ ctrl
        strokes.append(bezier.astype(np.int32))
    cv2.polylines(img, strokes, False, (20, 20, 20), thick + 4, cv2.LINE_AA)
    cv2.polylines(img, strokes, False, colour, thick, cv2.LINE_AA)


def _sign(rng: np.random.Generator, img: np.ndarray, px: float) -> None:
    """A small sign: a coloured plate with a light border and a word."""
    h, w = img.shape[:2]
    sw, sh = rng.uniform(0.4, 1.2) * px, rng.uniform(0.2, 0.45) * px
    x, y = int(rng.uniform(0, max(1.0, w - sw))), int(h - rng.uniform(1.8, 3.0) * px)
    if y < 0:
        return
    plate = [(30, 70, 160), (170, 30, 30), (20, 110, 60), (235, 235, 235), (240, 200, 30)][int(rng.integers(5))]
    cv2.rectangle(img, (x, y), (int(x + sw), int(y + sh)), plate, -1)
    cv2.rectangle(img, (x + 3, y + 3), (int(x + sw) - 3, int(y + sh) - 3), (245, 245, 245), 2)
    ink = (20, 20, 20) if sum(plate) > 500 else (245, 245, 245)
    word = str(rng.choice(["EXIT", "NO ENTRY", "OFFICE", "DELIVERIES", "PRIVATE", "FIRE", "STAGE 4", "CAFE"]))
    _text(rng, img, (x + int(0.08 * sw), y + int(0.7 * sh)), int(sh * 0.45), ink, word)


def _pipe(rng: np.random.Generator, img: np.ndarray, px: float) -> None:
    """A drainpipe from the roof to the ground, with brackets."""
    h, w = img.shape[:2]
    x, r = int(rng.uniform(0.05, 0.95) * w), max(2, int(0.05 * px))
    cv2.rectangle(img, (x - r, 0), (x + r, h), (70, 72, 75), -1)
    cv2.line(img, (x - r // 2, 0), (x - r // 2, h), (130, 135, 140), max(1, r // 3))
    for y in np.arange(rng.uniform(0.5, 1.5) * px, h, rng.uniform(1.2, 2.0) * px):
        cv2.rectangle(img, (x - r - 2, int(y)), (x + r + 2, int(y + 0.04 * px)), (40, 40, 40), -1)


def _grime(rng: np.random.Generator, img: np.ndarray, px: float) -> None:
    """Rising damp at the foot of the wall and streaks running down from the top."""
    h, w = img.shape[:2]
    height_m = (h - np.arange(h, dtype=np.float32)) / px
    damp = np.clip(0.45 - height_m[:, None] + 0.15 * _noise(rng, h, w, 0.15 * px), 0, 0.45)
    streaks = 0.12 * np.clip(cv2.resize(rng.random((2, w // 4 + 1), dtype=np.float32), (w, h)) - 0.6, 0, 1)
    img[:] = _u8(img * (1 - damp - streaks)[..., None])


def _wall_crack(rng: np.random.Generator, img: np.ndarray, px: float) -> None:
    """A thin wandering crack in the render, about a metre long."""
    h, w = img.shape[:2]
    start = rng.uniform([0, 0], [w, h])
    heading = rng.uniform(0, 2 * np.pi, 1) + np.cumsum(rng.normal(0, 0.4, 25))
    path = start + np.cumsum(np.stack([np.cos(heading), np.sin(heading)], -1) * 0.04 * px, 0)
    cv2.polylines(img, [path.astype(np.int32)], False, (60, 55, 50), 1, cv2.LINE_AA)


# ---------------------------------------------------------------------------------------
# props


def _props(
    rng: np.random.Generator, half_m: float, clear_m: float, centre: np.ndarray
) -> tuple[list[Mesh], np.ndarray]:
    """Props along the facades, facing the centre, none within ``clear_m`` of the centre
    nor overlapping another: their meshes, and their footprints (N, 3) as x, y, radius."""
    makers: list[Callable[[np.random.Generator], _PropModel]] = [
        _crates, _crates, _cardboard, _barrels, _barrels, _bench, _pillar, _pillar, _dumpster, _cones, _pallets,
        _lamp_post, _light_stand, _light_stand,
    ]  # fmt: skip
    meshes, placed = [], []
    for k in range(int(rng.integers(24, 32))):
        model = makers[k % len(makers)](rng)
        radius = model.radius_m
        for _attempt in range(30):
            side = int(rng.integers(4))
            along = rng.uniform(-half_m + radius, half_m - radius)
            inward = rng.uniform(radius + 0.15, 2.5)
            yaw = side * np.pi / 2
            local = np.array([half_m - inward, along])
            xy = centre + _yawed(np.array([[local[0], local[1], 0.0]]), yaw)[0, :2]
            clear = np.hypot(*(xy - centre)) - radius >= clear_m
            free = all(np.hypot(*(xy - p[:2])) > radius + p[2] + 0.2 for p in placed)
            if clear and free:
                facing = yaw + np.pi + rng.normal(0, 0.3)  # the prop's +x towards the centre, roughly
                meshes.append(_prop(model.parts, model.texture, model.texel_m, xy, facing))
                placed.append(np.array([xy[0], xy[1], radius]))
                break
    return meshes, np.array(placed).reshape(-1, 3)


def _crates(rng: np.random.Generator) -> _PropModel:
    """One to three wooden crates, side by side or stacked."""
    parts, x = [], 0.0
    for _ in range(int(rng.integers(1, 4))):
        s = rng.uniform(0.5, 1.0)
        if parts and rng.random() < 0.4:  # stack on the previous one
            below = parts[-1].vertices
            on_top = (0.0, float(below[:, 1].mean()), float(below[:, 2].max()))
            parts.append(_box((s * 0.9,) * 3, on_top, rng.normal(0, 0.2)))
        else:
            parts.append(_box((s, s, s), (0.0, x + s / 2, 0.0), rng.normal(0, 0.1)))
            x += s + 0.05
    for p in parts:
        p.vertices[:, 1] -= x / 2
    return _PropModel(parts, _wood_texture(int(rng.integers(2**63)), 0), _PROP_TEXEL_M, x / 2 + 0.3)


def _cardboard(rng: np.random.Generator) -> _PropModel:
    """A pile of cardboard boxes."""
    parts = []
    for _ in range(int(rng.integers(3, 7))):
        size = tuple(rng.uniform(0.3, 0.6, 3))
        base = (rng.uniform(-0.4, 0.4), rng.uniform(-0.4, 0.4), 0.0)
        below = [p for p in parts if np.hypot(*(p.vertices[:, :2].mean(0) - base[:2])) < 0.4]
        top = max((float(p.vertices[:, 2].max()) for p in below), default=0.0)
        parts.append(_box(size, (base[0], base[1], top), rng.uniform(0, np.pi)))
    return _PropModel(parts, _cardboard_texture(int(rng.integers(2**63))), _PROP_TEXEL_M, 1.0)


def _barrels(rng: np.random.Generator) -> _PropModel:
    """One to three steel drums."""
    count = int(rng.integers(1, 4))
    parts = [_cylinder(0.29, 0.88, (0.0, 0.62 * k - 0.31 * (count - 1), 0.0)) for k in range(count)]
    texture = _metal_texture(int(rng.integers(2**63)), _random_colour(rng))
    return _PropModel(parts, texture, _PROP_TEXEL_M, 0.31 * count + 0.1)


def _bench(rng: np.random.Generator) -> _PropModel:
    """A slatted park bench, 1.6 to 2 m long."""
    length = rng.uniform(1.6, 2.0)
    parts = [_box((0.09, length, 0.03), (x, 0.0, 0.42)) for x in (-0.15, -0.05, 0.05, 0.15)]
    parts += [_box((0.03, length, 0.09), (-0.22, 0.0, 0.55 + 0.1 * k)) for k in range(3)]  # backrest
    for y in (-length / 2 + 0.15, length / 2 - 0.15):
        parts += [_box((0.4, 0.05, 0.42), (0.0, y, 0.0)), _box((0.05, 0.05, 0.85), (-0.22, y, 0.0))]
    return _PropModel(parts, _wood_texture(int(rng.integers(2**63)), 1), _PROP_TEXEL_M, length / 2 + 0.1)


def _pillar(rng: np.random.Generator) -> _PropModel:
    """A concrete column, 0.4 to 0.6 m square, 3.5 to 5 m high."""
    s = rng.uniform(0.4, 0.6)
    column = _box((s, s, rng.uniform(3.5, 5.0)), (0.0, 0.0, 0.0))
    return _PropModel([column], _concrete_texture(int(rng.integers(2**63))), 0.01, s)  # 5 m of texture


def _dumpster(rng: np.random.Generator) -> _PropModel:
    """A steel skip with a lid a little larger than its body."""
    body = _box((1.0, 1.8, 1.1), (0.0, 0.0, 0.12))
    lid = _box((1.1, 1.9, 0.08), (0.0, 0.0, 1.22), rng.normal(0, 0.02))
    wheels = [_box((0.12, 0.12, 0.12), (x, y, 0.0)) for x in (-0.4, 0.4) for y in (-0.8, 0.8)]
    paint = [(40, 100, 60), (40, 60, 120), (60, 60, 60)][int(rng.integers(3))]
    texture = _metal_texture(int(rng.integers(2**63)), paint)
    return _PropModel([body, lid, *wheels], texture, _PROP_TEXEL_M, 1.15)


def _cones(rng: np.random.Generator) -> _PropModel:
    """Two to four traffic cones on square feet."""
    parts = []
    for k in range(int(rng.integers(2, 5))):
        base = (rng.uniform(-0.5, 0.5), 0.45 * k - 0.6, 0.0)
        parts += [_box((0.38, 0.38, 0.03), base), _cylinder(0.15, 0.7, (base[0], base[1], 0.03), 16, 0.025)]
    return _PropModel(parts, _cone_texture(), _PROP_TEXEL_M, 1.2)


def _pallets(rng: np.random.Generator) -> _PropModel:
    """A stack of wooden pallets: deck boards on blocks, with the gaps between them."""
    parts, z = [], 0.0
    for _ in range(int(rng.integers(2, 7))):
        yaw = rng.normal(0, 0.05)
        parts += [_box((1.2, 0.1, 0.1), (0.0, y, z), yaw) for y in (-0.35, 0.0, 0.35)]  # blocks as runners
        parts += [_box((0.12, 0.8, 0.02), (x, 0.0, z + 0.1), yaw) for x in np.linspace(-0.54, 0.54, 6)]
        z += 0.12
    return _PropModel(parts, _wood_texture(int(rng.integers(2**63)), 1), _PROP_TEXEL_M, 0.75)


def _lamp_post(rng: np.random.Generator) -> _PropModel:
    """A street lamp: a slim pole with an arm and a lamp head."""
    height = rng.uniform(3.5, 4.5)
    parts = [
        _cylinder(0.08, 0.4, (0.0, 0.0, 0.0), 12),
        _cylinder(0.05, height, (0.0, 0.0, 0.0), 12),
        _box((0.8, 0.06, 0.06), (0.4, 0.0, height - 0.1)),
        _box((0.45, 0.25, 0.12), (0.8, 0.0, height - 0.2)),
    ]
    return _PropModel(parts, _metal_texture(int(rng.integers(2**63)), (50, 55, 50)), _PROP_TEXEL_M, 1.05)  # the arm


def _light_stand(rng: np.random.Generator) -> _PropModel:
    """A film light on a stand: three splayed legs, a pole and a lamp box."""
    height = rng.uniform(1.8, 2.6)
    parts = [_cylinder(0.02, height, (0.0, 0.0, 0.0), 8)]
    for k in range(3):
        a = 2 * np.pi * k / 3
        leg = _cylinder(0.015, 0.75, (0.0, 0.0, 0.0), 6)
        tilt = np.array([[1, 0, 0.55 * np.cos(a)], [0, 1, 0.55 * np.sin(a)], [0, 0, 1]])  # shear: a splayed leg
        leg.vertices = leg.vertices @ tilt.T * [1, 1, -1] + [0, 0, 0.75]
        parts.append(leg)
    parts.append(_box((0.35, 0.45, 0.35), (0.05, 0.0, height)))
    return _PropModel(parts, _metal_texture(int(rng.integers(2**63)), (35, 35, 38)), _PROP_TEXEL_M, 0.55)


# ---------------------------------------------------------------------------------------
# prop textures (each (_PROP_PX, _PROP_PX, 3) uint8, read-only, memoised by seed)


@functools.lru_cache(maxsize=256)
def _wood_texture(seed: int, tone: int) -> np.ndarray:
    """Planks with grain, knots, nails and a stencilled word; ``tone``: 0 pale pine,
    1 weathered grey, 2 varnished brown."""
    rng = np.random.default_rng(seed)
    n, px = _PROP_PX, 1.0 / _PROP_TEXEL_M
    base = np.float32([[200, 160, 110], [150, 140, 125], [120, 75, 45]][tone])
    grain = cv2.resize(rng.standard_normal((n // 2, 8), dtype=np.float32), (n, n), interpolation=cv2.INTER_CUBIC)
    plank_h = rng.uniform(0.08, 0.16) * px
    row = (np.arange(n) / plank_h).astype(int)
    tones = rng.uniform(0.8, 1.15, row.max() + 1).astype(np.float32)[row][:, None]
    seams = ((np.arange(n) % plank_h) < 2)[:, None]
    img = base * (tones * (1 + 0.12 * grain + 0.1 * _noise(rng, n, n, 24.0)) * np.where(seams, 0.4, 1.0))[..., None]
    out = _u8(img)
    for _ in range(int(rng.integers(3, 8))):
        c = (int(rng.uniform(0, n)), int(rng.uniform(0, n)))
        cv2.ellipse(out, c, (int(rng.uniform(4, 10)), int(rng.uniform(2, 5))), 0, 0, 360, (80, 50, 30), -1, cv2.LINE_AA)
    for y in np.arange(plank_h / 2, n, plank_h):
        for x in (int(rng.uniform(10, 40)), int(n - rng.uniform(10, 40))):
            cv2.circle(out, (x, int(y)), 2, (50, 50, 55), -1, cv2.LINE_AA)
    _text(rng, out, (int(rng.uniform(20, 120)), int(rng.uniform(120, 400))), int(rng.uniform(30, 70)), (40, 35, 30))
    out.flags.writeable = False
    return out


@functools.lru_cache(maxsize=256)
def _cardboard_texture(seed: int) -> np.ndarray:
    """Brown corrugated board with tape, print, arrows and handling symbols."""
    rng = np.random.default_rng(seed)
    n = _PROP_PX
    shade = 1 + 0.08 * _noise(rng, n, n, 40.0) + 0.05 * _noise(rng, n, n, 4.0)
    img = _u8(np.float32([175, 130, 85]) * shade[..., None])
    y = int(rng.uniform(0.3, 0.7) * n)
    cv2.rectangle(img, (0, y), (n, y + int(0.05 * n)), (200, 180, 140), -1)
    for _ in range(int(rng.integers(2, 5))):
        at = (int(rng.uniform(10, n / 2)), int(rng.uniform(40, n - 10)))
        _text(rng, img, at, int(rng.uniform(20, 50)), (40, 30, 25))
    for _ in range(int(rng.integers(1, 3))):
        p = (int(rng.uniform(40, n - 40)), int(rng.uniform(60, n - 10)))
        cv2.arrowedLine(img, p, (p[0], p[1] - 50), (40, 30, 25), 5, cv2.LINE_AA, 0, 0.4)
    img.flags.writeable = False
    return img


@functools.lru_cache(maxsize=256)
def _metal_texture(seed: int, colour: tuple[int, int, int]) -> np.ndarray:
    """Painted steel in ``colour`` (RGB) with bands, scratches, rust and a label."""
    rng = np.random.default_rng(seed)
    n = _PROP_PX
    img = np.float32(colour) * (1 + 0.1 * _noise(rng, n, n, 64.0))[..., None]
    for y in rng.uniform(0, n, int(rng.integers(1, 4))):  # raised bands
        img[int(y) : int(y) + 10] *= 0.6
    rust = np.clip(_noise(rng, n, n, 30.0) + 0.6 * _noise(rng, n, n, 6.0) - 1.1, 0, 1)[..., None]
    out = _u8(img * (1 - rust) + np.float32([120, 65, 35]) * rust)
    for _ in range(int(rng.integers(20, 60))):
        p = rng.uniform(0, n, 2)
        q = p + rng.normal(0, 15, 2)
        cv2.line(out, _pt(p), _pt(q), (200, 200, 195), 1, cv2.LINE_AA)
    x, y = int(rng.uniform(20, n - 200)), int(rng.uniform(60, n - 120))
    cv2.rectangle(out, (x, y), (x + 160, y + 90), (235, 230, 220), -1)
    _text(rng, out, (x + 10, y + 55), 30, (30, 30, 30))
    out.flags.writeable = False
    return out


@functools.lru_cache(maxsize=256)
def _concrete_texture(seed: int) -> np.ndarray:
    """Grey cast concrete with pits, stains and a stencilled number."""
    rng = np.random.default_rng(seed)
    n = _PROP_PX
    grey = rng.uniform(130, 180)
    shade = 1 + 0.12 * _noise(rng, n, n, 60.0) + 0.06 * _noise(rng, n, n, 6.0)
    img = _u8(np.float32([grey, grey, grey * 0.96]) * shade[..., None])
    for x, y, r in zip(rng.uniform(0, n, 300), rng.uniform(0, n, 300), rng.uniform(1, 3, 300)):
        cv2.circle(img, (int(x), int(y)), int(r), (70, 70, 70), -1, cv2.LINE_AA)
    _text(rng, img, (int(rng.uniform(20, 200)), int(rng.uniform(100, 400))), 50, (30, 30, 30),
          str(int(rng.integers(1, 40))))  # fmt: skip
    img.flags.writeable = False
    return img


@functools.lru_cache(maxsize=1)
def _cone_texture() -> np.ndarray:
    """Orange with a white reflective band (the cones' tops are at v about 0)."""
    rng = np.random.default_rng(0)
    n = _PROP_PX
    img = _u8(np.float32([240, 100, 20]) * (1 + 0.08 * _noise(rng, n, n, 20.0))[..., None])
    img[int(0.12 / _PROP_TEXEL_M) : int(0.25 / _PROP_TEXEL_M)] = (235, 235, 230)
    for x, y in rng.uniform(0, n, (40, 2)):
        cv2.circle(img, (int(x), int(y)), 2, (60, 50, 40), -1)
    img.flags.writeable = False
    return img


# ---------------------------------------------------------------------------------------
# image helpers


def _noise(rng: np.random.Generator, h: int, w: int, cell: float) -> np.ndarray:
    """(h, w) float32 smooth value noise, about unit variance, features about ``cell`` texels."""
    cell = max(cell, 1.0)
    gh, gw = int(h / cell) + 3, int(w / cell) + 3
    grid = rng.standard_normal((gh, gw), dtype=np.float32)
    return cv2.resize(grid, (int(gw * cell), int(gh * cell)), interpolation=cv2.INTER_CUBIC)[:h, :w]


def _fbm(rng: np.random.Generator, h: int, w: int, octaves: list[tuple[float, float]]) -> np.ndarray:
    """Sum of noises: ``octaves`` is [(cell in texels, amplitude)]. The octaves of cells
    over 32 texels are summed at a quarter of the resolution, then upsampled once."""
    coarse = np.zeros((-(-h // 4), -(-w // 4)), np.float32)
    out = np.zeros((h, w), np.float32)
    for cell, amplitude in octaves:
        if cell > 32:
            cv2.scaleAdd(_noise(rng, *coarse.shape, cell / 4), amplitude, coarse, coarse)
        else:
            cv2.scaleAdd(_noise(rng, h, w, cell), amplitude, out, out)
    return out + cv2.resize(coarse, (coarse.shape[1] * 4, coarse.shape[0] * 4), interpolation=cv2.INTER_LINEAR)[:h, :w]


def _dirt(rng: np.random.Generator, h: int, w: int, px: float) -> np.ndarray:
    """(h, w) float32 brightness factor about 1: weathering at 2 m, 40 cm and 5 cm."""
    return 1.0 + _fbm(rng, h, w, [(2.0 * px, 0.07), (0.4 * px, 0.05), (0.05 * px, 0.04)]) + \
        0.05 * (rng.random((h, w), dtype=np.float32) - 0.5)  # fmt: skip


def _to_u8(x: np.ndarray) -> np.ndarray:
    """float in [0, 1] to uint8, saturating."""
    return cv2.convertScaleAbs(x, alpha=255.0)


def _u8(x: np.ndarray) -> np.ndarray:
    """float in [0, 255] to uint8, saturating, C-contiguous (as cv2 drawing wants)."""
    return np.ascontiguousarray(np.clip(x, 0, 255), dtype=np.uint8)


def _pt(p: np.ndarray | tuple[float, float]) -> tuple[int, int]:
    """A point as cv2 drawing wants it."""
    return int(p[0]), int(p[1])


def _random_colour(rng: np.random.Generator) -> tuple[int, int, int]:
    """A saturated or pale RGB colour, as ints for cv2."""
    hue = int(rng.integers(180))
    sat, val = int(rng.choice([60, 160, 230])), int(rng.uniform(120, 245))
    rgb = cv2.cvtColor(np.uint8([[[hue, sat, val]]]), cv2.COLOR_HSV2RGB)[0, 0]
    return int(rgb[0]), int(rgb[1]), int(rgb[2])


def _text(rng: np.random.Generator, img: np.ndarray, origin: tuple[int, int], height_px: int,
          colour: tuple, word: str | None = None) -> None:  # fmt: skip
    """``word`` (default: random capitals and digits) written with its baseline at
    ``origin``, letters about ``height_px`` high."""
    if word is None:
        alphabet = string.ascii_uppercase + string.digits
        word = "".join(rng.choice(list(alphabet), int(rng.integers(2, 9))))
    scale = max(height_px, 4) / 22.0
    cv2.putText(img, word, origin, int(rng.choice([cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX])), scale, colour,
                max(1, int(height_px / 7)), cv2.LINE_AA)  # fmt: skip


def _worn(rng: np.random.Generator, img: np.ndarray, colour: tuple[int, int, int],
          draw: Callable[[np.ndarray, int], None]) -> None:  # fmt: skip
    """Paint ``colour`` on ``img`` where ``draw(canvas, 255)`` draws on a blank grey canvas,
    worn: where a blotchy noise is low, the surface below shows through."""
    canvas = np.zeros(img.shape[:2], np.uint8)
    draw(canvas, 255)
    x, y, w, h = cv2.boundingRect(canvas)
    if w == 0 or h == 0:
        return
    wear = np.clip(_noise(rng, h, w, 12.0) + 0.6 * _noise(rng, h, w, 3.0) + 1.2, 0, 1)
    alpha = (canvas[y : y + h, x : x + w] * (wear / 255.0 * 0.9))[..., None]
    roi = img[y : y + h, x : x + w]
    roi[:] = _u8(roi * (1 - alpha) + np.float32(colour) * alpha)
