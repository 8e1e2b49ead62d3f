"""The soft rasteriser's inner loops, compiled (numba): every (pixel, triangle) pair near
a triangle, forward and backward, without the temporaries that the same arithmetic costs
in torch (5-10x faster on the refine stage's shots). :mod:`reshoot.render.soft` wraps
them in an autograd function; its reference implementation, in plain torch, is what the
tests hold them to.

Per pixel p and drawn triangle (a, b, c), as ``soft._coverage``:
``D = sigmoid(s d2 / sigma)``, d2 the squared distance to the nearest edge (inside: the
nearest contour edge, s = +1; outside: any edge, s = -1). A pixel's coverage is
``A = 1 - exp(L)`` with ``L = sum_j log(1 - D_j)``, or 1 where a triangle without a
contour edge covers its centre (drawn hard). The backward pass uses
``dA/dD_j = exp(L) / (1 - D_j)`` and, the nearest point on a segment being where the
distance is stationary, ``d d2 / da = -2 (p - q)(1 - t)``, ``d d2 / db = -2 (p - q) t``
for the nearest point ``q = a + t (b - a)``.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

CLAMP = 1.0 - 1e-7
"""a triangle covers a pixel at most this much (log(1 - D) stays finite)"""
DEEP = math.log(CLAMP / (1.0 - CLAMP))
"""d2 / sigma beyond which a triangle covers a pixel inside it more than ``CLAMP``"""


@nb.njit(cache=True, inline="always")
def _segment(px, py, ax, ay, bx, by):  # noqa: ANN001, ANN202
    """Squared distance from p to segment a-b, the parameter t of the nearest point and p minus it."""
    abx, aby = bx - ax, by - ay
    t = ((px - ax) * abx + (py - ay) * aby) / max(abx * abx + aby * aby, 1e-12)
    t = min(max(t, 0.0), 1.0)
    dx, dy = px - (ax + t * abx), py - (ay + t * aby)
    return dx * dx + dy * dy, t, dx, dy


@nb.njit(cache=True, inline="always")
def _inside(px, py, ax, ay, bx, by, cx, cy):  # noqa: ANN001, ANN202
    e0 = (bx - ax) * (py - ay) - (by - ay) * (px - ax)
    e1 = (cx - bx) * (py - by) - (cy - by) * (px - bx)
    e2 = (ax - cx) * (py - cy) - (ay - cy) * (px - cx)
    return (e0 >= 0 and e1 >= 0 and e2 >= 0) or (e0 <= 0 and e1 <= 0 and e2 <= 0)


@nb.njit(cache=True, inline="always")
def _box(lo, hi, margin, size):  # noqa: ANN001, ANN202
    """First and last pixel whose centre lies within ``margin`` of [lo, hi]."""
    return max(int(math.ceil(lo - margin - 0.5)), 0), min(int(math.floor(hi + margin - 0.5)), size - 1)


@nb.njit(cache=True, inline="always")
def _corners(tri, n, f):  # noqa: ANN001, ANN202
    """Triangle f of frame n as six numbers (read once: an array view per triangle costs
    more than the pixels of a small one)."""
    return (float(tri[n, f, 0, 0]), float(tri[n, f, 0, 1]), float(tri[n, f, 1, 0]), float(tri[n, f, 1, 1]),
            float(tri[n, f, 2, 0]), float(tri[n, f, 2, 1]))  # fmt: skip


@nb.njit(cache=True, inline="always")
def _nearest(px, py, ax, ay, bx, by, cx, cy, c0, c1, c2, inside):  # noqa: ANN001, ANN202
    """The nearest edge (ab, bc, ca) that counts (inside: contour edges ``c0, c1, c2``
    only): (d2, edge, t, dx, dy)."""
    best, edge, bt, bdx, bdy = np.inf, -1, 0.0, 0.0, 0.0
    if c0 or not inside:
        best, bt, bdx, bdy = _segment(px, py, ax, ay, bx, by)
        edge = 0
    if c1 or not inside:
        d2, t, dx, dy = _segment(px, py, bx, by, cx, cy)
        if d2 < best:
            best, edge, bt, bdx, bdy = d2, 1, t, dx, dy
    if c2 or not inside:
        d2, t, dx, dy = _segment(px, py, cx, cy, ax, ay)
        if d2 < best:
            best, edge, bt, bdx, bdy = d2, 2, t, dx, dy
    return best, edge, bt, bdx, bdy


@nb.njit(cache=True, inline="always")
def _line(ax, ay, bx, by, side):  # noqa: ANN001, ANN202
    """The line through a and b as (nx, ny, c): ``nx px + ny py + c`` is a pixel's signed
    distance to it, positive on the triangle's ``side`` (+1: left of a->b)."""
    length = math.sqrt((bx - ax) ** 2 + (by - ay) ** 2)
    nx, ny = -(by - ay) * side / length, (bx - ax) * side / length
    return nx, ny, -(nx * ax + ny * ay)


@nb.njit(cache=True, inline="always")
def _lines(ax, ay, bx, by, cx, cy):  # noqa: ANN001, ANN202
    """Whether a triangle has area, and the lines of its edges ab, bc, ca (``_line``; all
    zero without area: then nothing is ruled out by them)."""
    area2 = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
    if abs(area2) < 1e-9:
        zero = (0.0, 0.0, 0.0)
        return False, (zero, zero, zero)
    side = 1.0 if area2 > 0 else -1.0
    return True, (_line(ax, ay, bx, by, side), _line(bx, by, cx, cy, side), _line(cx, cy, ax, ay, side))


@nb.njit(cache=True, inline="always")
def _settled(px, py, lines, c0, c1, c2, reach2, deep):  # noqa: ANN001, ANN202
    """What the edges' lines alone say of a pixel for a contour triangle: 1 outside it
    farther than ``reach`` (beyond one edge's line by more, so no nearer the triangle),
    2 inside it farther than ``sqrt(deep)`` from every contour edge's line (so from the
    edges: it covers the pixel beyond ``CLAMP``); else 0 (the segments decide)."""
    area, (l0, l1, l2) = lines
    if not area:
        return 0
    d0 = l0[0] * px + l0[1] * py + l0[2]
    d1 = l1[0] * px + l1[1] * py + l1[2]
    d2 = l2[0] * px + l2[1] * py + l2[2]
    low = min(d0, d1, d2)
    if low < 0.0:
        return 1 if low * low > reach2 else 0
    if (c0 and d0 * d0 <= deep) or (c1 and d1 * d1 <= deep) or (c2 and d2 * d2 <= deep):
        return 0
    return 2


@nb.njit(cache=True, inline="always")
def _soft(tri, drawn, contour, n, f, reach, width, height):  # noqa: ANN001, ANN202
    """Triangle f of frame n as the soft passes see it: whether it is drawn softly (drawn,
    an edge on the contour), its corners, which edges are on the contour, the box of
    pixels within ``reach`` of it (x0, x1, y0, y1) and its edges' lines (``_lines``)."""
    c0, c1, c2 = contour[n, f, 0], contour[n, f, 1], contour[n, f, 2]
    if not drawn[n, f] or not (c0 or c1 or c2):  # placeholders of the same types: numba wants one return type
        nothing = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        return False, nothing, (c0, c1, c2), (0, -1, 0, -1), _lines(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    ax, ay, bx, by, cx, cy = _corners(tri, n, f)
    x0, x1 = _box(min(ax, bx, cx), max(ax, bx, cx), reach, width)
    y0, y1 = _box(min(ay, by, cy), max(ay, by, cy), reach, height)
    return True, (ax, ay, bx, by, cx, cy), (c0, c1, c2), (x0, x1, y0, y1), _lines(ax, ay, bx, by, cx, cy)


@nb.njit(cache=True, parallel=True)
def _forward(tri, drawn, contour, sigma, reach, coverage, covered, log_uncovered):  # noqa: ANN001, ANN202
    """:func:`forward` into zeroed images."""
    N, F = drawn.shape
    height, width = coverage.shape[1:]
    reach2, deep = reach * reach, sigma * DEEP
    for n in nb.prange(N):
        hard, L = covered[n], log_uncovered[n]
        for f in range(F):  # the triangles without a contour edge: hard
            if not drawn[n, f] or contour[n, f, 0] or contour[n, f, 1] or contour[n, f, 2]:
                continue
            ax, ay, bx, by, cx, cy = _corners(tri, n, f)
            x0, x1 = _box(min(ax, bx, cx), max(ax, bx, cx), 0.0, width)
            y0, y1 = _box(min(ay, by, cy), max(ay, by, cy), 0.0, height)
            for y in range(y0, y1 + 1):
                py = y + 0.5
                for x in range(x0, x1 + 1):
                    if not hard[y, x] and _inside(x + 0.5, py, ax, ay, bx, by, cx, cy):
                        hard[y, x] = True
        for f in range(F):  # the contour triangles: soft, where not covered
            soft, (ax, ay, bx, by, cx, cy), (c0, c1, c2), (x0, x1, y0, y1), lines = _soft(tri, drawn, contour, n, f, reach,
                                                                                          width, height)  # fmt: skip
            if not soft:
                continue
            for y in range(y0, y1 + 1):
                py = y + 0.5
                for x in range(x0, x1 + 1):
                    if hard[y, x]:
                        continue
                    px = x + 0.5
                    settled = _settled(px, py, lines, c0, c1, c2, reach2, deep)
                    if settled == 2:
                        hard[y, x] = True
                    if settled != 0:
                        continue
                    inside = _inside(px, py, ax, ay, bx, by, cx, cy)
                    d2 = _nearest(px, py, ax, ay, bx, by, cx, cy, c0, c1, c2, inside)[0]
                    if inside:
                        L[y, x] += math.log1p(-min(1.0 / (1.0 + math.exp(-d2 / sigma)), CLAMP))
                    elif d2 <= reach2:
                        L[y, x] += math.log1p(-1.0 / (1.0 + math.exp(d2 / sigma)))
        A = coverage[n]
        for y in range(height):
            for x in range(width):
                if hard[y, x]:
                    A[y, x] = 1.0
                elif L[y, x] != 0.0:
                    A[y, x] = -math.expm1(L[y, x])


def forward(tri, drawn, contour, sigma, reach, width, height):  # noqa: ANN001, ANN201
    """``tri`` (N, F, 3, 2) pixels, ``drawn`` (N, F), ``contour`` (N, F, 3) -> coverage A,
    covered (hard) and L, each (N, H, W).

    Two passes a frame: the triangles without a contour edge mark the pixels they cover;
    then the contour triangles are evaluated softly, only at pixels not marked (a marked
    pixel's coverage is 1 whatever else covers it, and the backward pass skips it): most
    of a contour triangle's box lies inside the body. There a pixel farther than
    ``reach`` outside the triangle is left out, as beyond its box, and one inside it so
    far from its contour edges that it covers the pixel beyond ``CLAMP`` is marked as the
    hard ones do (its coverage is 1 within 1e-7 either way, and the others' gradient
    there 0): the edges' lines settle most pixels of a box before the distances to the
    segments are taken. The images are numpy's (numba's own zeroed arrays cost ten times
    more: three of 120 x 160 x 160, 17 ms against 1.5)."""
    N = len(drawn)
    coverage = np.zeros((N, height, width), tri.dtype)
    covered = np.zeros((N, height, width), np.bool_)
    log_uncovered = np.zeros((N, height, width), tri.dtype)
    _forward(tri, drawn, contour, sigma, reach, coverage, covered, log_uncovered)
    return coverage, covered, log_uncovered


@nb.njit(cache=True, parallel=True)
def backward(tri, drawn, contour, sigma, reach, covered, log_uncovered, grad_out):  # noqa: ANN001, ANN201
    """d(loss)/d(tri) (N, F, 3, 2) from d(loss)/dA ``grad_out`` (N, H, W)."""
    N, F = drawn.shape
    height, width = covered.shape[1:]
    grad = np.zeros(tri.shape, tri.dtype)
    reach2, deep = reach * reach, sigma * DEEP
    for n in nb.prange(N):
        hard, L, G = covered[n], log_uncovered[n], grad_out[n]
        for f in range(F):
            soft, (ax, ay, bx, by, cx, cy), (c0, c1, c2), (x0, x1, y0, y1), lines = _soft(tri, drawn, contour, n, f, reach,
                                                                                          width, height)  # fmt: skip
            if not soft:
                continue
            for y in range(y0, y1 + 1):
                py = y + 0.5
                for x in range(x0, x1 + 1):
                    g = G[y, x]
                    px = x + 0.5
                    if hard[y, x] or g == 0.0 or _settled(px, py, lines, c0, c1, c2, reach2, deep) != 0:
                        continue
                    inside = _inside(px, py, ax, ay, bx, by, cx, cy)
                    d2, e, s, dx, dy = _nearest(px, py, ax, ay, bx, by, cx, cy, c0, c1, c2, inside)
                    if not inside and d2 > reach2:
                        continue  # left out by the forward pass
                    sign = 1.0 if inside else -1.0
                    D = 1.0 / (1.0 + math.exp(-sign * d2 / sigma))
                    if D > CLAMP:
                        continue
                    g_d2 = g * math.exp(L[y, x]) * D * sign / sigma  # dA/dD = exp(L) / (1 - D), dD/dd2 = D (1 - D) s / sigma
                    i, j = e, (e + 1) % 3
                    grad[n, f, i, 0] -= 2.0 * g_d2 * dx * (1.0 - s)
                    grad[n, f, i, 1] -= 2.0 * g_d2 * dy * (1.0 - s)
                    grad[n, f, j, 0] -= 2.0 * g_d2 * dx * s
                    grad[n, f, j, 1] -= 2.0 * g_d2 * dy * s
    return grad
