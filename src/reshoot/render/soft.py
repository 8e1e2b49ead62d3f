"""A differentiable soft rasteriser (after SoftRas, Liu et al. 2019) for the refine stage:
the actors' posed meshes through a camera, as soft silhouettes whose gradients reach the
vertices, and through them the camera and the bodies.

Each triangle j covers pixel p with probability

    D_j(p) = sigmoid(s_j(p) d_j(p)^2 / sigma)

where d_j(p) is the distance in pixels from the pixel's centre to the triangle and
s_j = -1 outside it; inside (s_j = +1) it is the distance to the triangle's edges on the
mesh's contour only (between a triangle facing the camera and one facing away): with
the distance to every edge, as SoftRas has it, each pixel near an edge between two of
the body's own triangles would be half covered by each, 0.75 in all, a seam inside the
silhouette. ``sigma`` (px^2) sets how far the edge blurs. A mesh covers the pixel with
A(p) = 1 - prod_j (1 - D_j(p)). That union blurs outward (the triangle facing the camera
and the one facing away share each contour edge and both blur across it): a cube's soft
silhouette at sigma 0.5 is 5 % larger than its hard one, an actor's in the refine
stage's outline window (sigma 0.25) 12 %, so the outline fits shrink the bodies a
little. The largest of the triangles' coverages instead (a sigmoid of the signed
distance to the edge) keeps the area (0.4 %, 4.8 %) but fitted the standard suite's
bodies worse (README, "what caps person IoU"). A triangle
with no edge on the contour covers its inside fully and is drawn hard (the pixels near
its edges are inside its neighbours). Far from a triangle D_j vanishes, so only the
pixels within ``reach`` of each contour triangle's box are evaluated (``cull_below``:
the coverage a triangle may leave out, 1e-4 by default); the reference implementation
(:func:`soft_silhouette_reference`) evaluates every pixel against every triangle and the
tests hold the two to each other, values and gradients. The pairs are evaluated in
compiled loops (numba, ``_soft_kernels``): 120 frames of one low-poly body (734
triangles) about 70 px tall at 240x135, sigma 0.5 and cull 1e-3, forward and backward on
two cores: 0.045 s, of it the forward pass 0.026 s (0.048 s before it left the pixels
that hard triangles cover out of the soft ones' loops; the same arithmetic in torch
tensors: 0.33 s; at the defaults, sigma 1 and cull 1e-4: 1.0 s). The refine stage's
outline fit (an actor in a window 160 px square, 120 frames, sigma 0.25, 317 of the 734
triangles on the contour): forward 27 -> 23 ms, backward 19 -> 14 ms (medians on two
cores) since the edges' lines settle most pixels of a contour triangle's box before the
distances to its segments are taken.

Several actors: :func:`composite` layers their silhouettes nearest first (each actor's
depth is its mean over the frame: actors do not interpenetrate), each in its own flat
colour on white, as the paper's composition loss wants.

Conventions as :mod:`reshoot.geometry`: OpenCV camera (z forward), pixel centres at
+0.5, image row 0 at the top.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from reshoot.errors import ShapeError

NEAR_M = 0.05
"""triangles with a vertex nearer the camera than this are not drawn"""


@dataclass(frozen=True)
class SoftRaster:
    """Settings of the soft rasteriser: image size and edge blur."""

    width: int
    height: int
    sigma: float = 1.0
    """edge blur, px^2: a pixel 1 px outside an edge is covered with sigmoid(-1 / sigma)"""
    cull_below: float = 1e-4
    """a triangle's coverage below this is left out (pixels farther than ``reach``)"""

    @property
    def reach(self) -> float:
        """Pixels farther than this from a triangle get less than ``cull_below`` of it."""
        return math.sqrt(self.sigma * math.log(1.0 / self.cull_below - 1.0))


def project_vertices(verts_cam: torch.Tensor, K: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``verts_cam`` (N, V, 3) camera coordinates, ``K`` (N, 3, 3) -> pixels (N, V, 2), depth (N, V)."""
    z = verts_cam[..., 2]
    xy = verts_cam[..., :2] / z.clamp(min=NEAR_M)[..., None]
    uv = torch.einsum("nij,nvj->nvi", K[:, :2, :2], xy) + K[:, None, :2, 2]
    return uv, z


def _edge_distance2(p: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Squared distance from points ``p`` to segments ``a``-``b`` (all (..., 2))."""
    ab = b - a
    t = (((p - a) * ab).sum(-1) / (ab * ab).sum(-1).clamp(min=1e-12)).clamp(0.0, 1.0)
    closest = a + t[..., None] * ab
    return ((p - closest) ** 2).sum(-1)


def _inside(p: torch.Tensor, tri: torch.Tensor) -> torch.Tensor:
    """Whether points ``p`` (..., 2) lie in triangles ``tri`` (..., 3, 2), either winding."""
    a, b, c = tri[..., 0, :], tri[..., 1, :], tri[..., 2, :]

    def cross(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:  # edge function of p against u->v
        return (v[..., 0] - u[..., 0]) * (p[..., 1] - u[..., 1]) - (v[..., 1] - u[..., 1]) * (p[..., 0] - u[..., 0])

    e0, e1, e2 = cross(a, b), cross(b, c), cross(c, a)
    return ((e0 >= 0) & (e1 >= 0) & (e2 >= 0)) | ((e0 <= 0) & (e1 <= 0) & (e2 <= 0))


def _coverage(p: torch.Tensor, tri: torch.Tensor, contour: torch.Tensor, sigma: float) -> torch.Tensor:
    """D for points ``p`` (..., 2) and triangles ``tri`` (..., 3, 2) whose edges ab, bc, ca
    are on the silhouette's contour where ``contour`` (..., 3). Outside a triangle the
    distance is to the triangle; inside, to its contour edges only (a pixel inside the
    body near an edge between two of its triangles is not near the body's edge)."""
    a, b, c = tri[..., 0, :], tri[..., 1, :], tri[..., 2, :]
    d2 = torch.stack([_edge_distance2(p, a, b), _edge_distance2(p, b, c), _edge_distance2(p, c, a)], -1)
    outside_d2 = d2.amin(-1)
    inside_d2 = torch.where(contour, d2, torch.full_like(d2, torch.inf)).amin(-1)
    return torch.where(_inside(p, tri), torch.sigmoid(inside_d2 / sigma), torch.sigmoid(-outside_d2 / sigma))


_NEIGHBOURS: dict[tuple, torch.Tensor] = {}
"""``_neighbours`` of the meshes seen so far, by their faces' content (a body's faces are
the same from call to call)"""


def _neighbours(faces: torch.Tensor) -> torch.Tensor:
    """(F, 3) the face across each edge (ab, bc, ca) of each face; -1 on an open border."""
    key = (tuple(faces.shape), faces.detach().cpu().numpy().tobytes())
    if key not in _NEIGHBOURS:
        if len(_NEIGHBOURS) > 16:
            _NEIGHBOURS.clear()
        _NEIGHBOURS[key] = _edge_neighbours(faces)
    return _NEIGHBOURS[key]


def _edge_neighbours(faces: torch.Tensor) -> torch.Tensor:
    """:func:`_neighbours`, computed."""
    F = len(faces)
    edges = torch.stack([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]], 1).reshape(-1, 2)  # (3F, 2)
    key = edges.sort(1).values
    key = key[:, 0] * (int(faces.max()) + 1) + key[:, 1]
    order = torch.argsort(key)
    nb = torch.full((3 * F,), -1, dtype=torch.long)
    same = key[order[1:]] == key[order[:-1]]  # an edge shared by two faces: consecutive once sorted
    first, second = order[:-1][same], order[1:][same]
    nb[first], nb[second] = second // 3, first // 3
    return nb.view(F, 3)


def _triangles(verts_cam: torch.Tensor, faces: torch.Tensor, K: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # fmt: skip
    """Triangles in pixels (N, F, 3, 2), which are drawn (N, F: in front of the camera) and
    which of their edges lie on the contour (N, F, 3: the border between a triangle facing
    the camera and one facing away, or an open border)."""
    if verts_cam.ndim != 3 or verts_cam.shape[-1] != 3 or K.shape != (len(verts_cam), 3, 3):
        raise ShapeError(f"soft raster: expected vertices (N, V, 3) and K (N, 3, 3), received "
                         f"{tuple(verts_cam.shape)} and {tuple(K.shape)}")  # fmt: skip
    uv, z = project_vertices(verts_cam, K)
    tri = uv[:, faces]
    with torch.no_grad():
        ab, ac = tri[..., 1, :] - tri[..., 0, :], tri[..., 2, :] - tri[..., 0, :]
        facing = ab[..., 0] * ac[..., 1] - ab[..., 1] * ac[..., 0] > 0  # (N, F)
        nb = _neighbours(faces)
        across = facing[:, nb.clamp(min=0)]  # (N, F, 3)
        contour = (nb < 0) | (across != facing[..., None])
    return tri, (z[:, faces] > NEAR_M).all(-1), contour


class _SoftCoverage(torch.autograd.Function):
    """Coverage (N, H, W) of triangles in pixels, differentiable in their corners: the
    compiled loops of :mod:`reshoot.render._soft_kernels`."""

    @staticmethod
    def forward(ctx, tri, drawn, contour, raster):  # noqa: ANN001, ANN205
        from reshoot.render import _soft_kernels as kernels

        args = (tri.detach().contiguous().numpy(), drawn.contiguous().numpy(), contour.contiguous().numpy(),
                float(raster.sigma), float(raster.reach))  # fmt: skip
        coverage, covered, log_uncovered = kernels.forward(*args, raster.width, raster.height)
        ctx.args, ctx.covered, ctx.log_uncovered = args, covered, log_uncovered
        return torch.from_numpy(coverage)

    @staticmethod
    def backward(ctx, grad_out):  # noqa: ANN001, ANN205
        from reshoot.render import _soft_kernels as kernels

        grad = kernels.backward(*ctx.args, ctx.covered, ctx.log_uncovered, grad_out.contiguous().numpy())
        return torch.from_numpy(grad), None, None, None


def soft_silhouette(raster: SoftRaster, verts_cam: torch.Tensor, faces: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Soft silhouettes (N, H, W) in [0, 1] of a mesh: ``verts_cam`` (N, V, 3) in each
    frame's camera coordinates, ``faces`` (F, 3), intrinsics ``K`` (N, 3, 3) at the
    raster's size. Differentiable in ``verts_cam`` and ``K``.

    A triangle without a contour edge covers what it covers, 0 or 1 (the pixels near its
    edges are inside its neighbours): it is drawn hard, without gradient, and only the
    triangles on the contour are evaluated softly, within ``reach`` of their boxes (in
    compiled loops: :mod:`reshoot.render._soft_kernels`)."""
    tri, drawn, contour = _triangles(verts_cam, faces, K)
    return _SoftCoverage.apply(tri, drawn, contour, raster)


def soft_silhouette_reference(raster: SoftRaster, verts_cam: torch.Tensor, faces: torch.Tensor,
                              K: torch.Tensor) -> torch.Tensor:  # fmt: skip
    """:func:`soft_silhouette` the slow, obvious way: every pixel against every triangle,
    nothing left out (a triangle off the contour covers its inside, 1, and nothing else).
    For tests on small images."""
    N, H, W = len(verts_cam), raster.height, raster.width
    tri, drawn, contour = _triangles(verts_cam, faces, K)
    ys, xs = torch.meshgrid(torch.arange(H, dtype=verts_cam.dtype), torch.arange(W, dtype=verts_cam.dtype), indexing="ij")
    pixels = torch.stack([xs, ys], -1) + 0.5  # (H, W, 2)
    out = []
    for n in range(N):
        uncovered = torch.ones(H, W, dtype=verts_cam.dtype)
        for f in range(len(faces)):
            if not drawn[n, f]:
                continue
            corners = tri[n, f].expand(H, W, 3, 2)
            if contour[n, f].any():
                D = _coverage(pixels, corners, contour[n, f].expand(H, W, 3), raster.sigma)
            else:
                D = _inside(pixels, corners).to(verts_cam.dtype)
            uncovered = uncovered * (1.0 - D)
        out.append(1.0 - uncovered)
    return torch.stack(out)


def composite(silhouettes: list[torch.Tensor], depths: torch.Tensor,
              colours: torch.Tensor) -> torch.Tensor:  # fmt: skip
    """Layer actors' soft silhouettes (each (N, H, W)), nearest first by ``depths`` (N, P:
    each actor's depth per frame), each in its flat RGB colour ``colours`` (P, 3) on white.
    Returns (N, H, W, 3)."""
    N, H, W = silhouettes[0].shape
    stack = torch.stack(silhouettes, 1)  # (N, P, H, W)
    order = torch.argsort(depths, dim=1)  # nearest first
    stack = torch.gather(stack, 1, order[:, :, None, None].expand(-1, -1, H, W))
    cols = colours[order]  # (N, P, 3)
    seen = torch.ones(N, H, W, dtype=stack.dtype)  # light still passing the actors in front
    image = torch.zeros(N, H, W, 3, dtype=stack.dtype)
    for k in range(stack.shape[1]):
        weight = seen * stack[:, k]
        image = image + weight[..., None] * cols[:, k, None, None, :]
        seen = seen * (1.0 - stack[:, k])
    return image + seen[..., None]  # white behind everyone
