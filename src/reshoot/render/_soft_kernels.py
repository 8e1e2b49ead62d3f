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
def _nearest(px, py, tri, contour, inside):  # noqa: ANN001, ANN202
    """The nearest edge that counts (inside: contour edges only): (d2, edge, t, dx, dy)."""
    best, edge, bt, bdx, bdy = np.inf, -1, 0.0, 0.0, 0.0
    for e in range(3):
        if inside and not contour[e]:
            continue
        i, j = e, (e + 1) % 3
        d2, t, dx, dy = _segment(px, py, tri[i, 0], tri[i, 1], tri[j, 0], tri[j, 1])
        if d2 < best:
            best, edge, bt, bdx, bdy = d2, e, t, dx, dy
    return best, edge, bt, bdx, bdy


@nb.njit(cache=True, parallel=True)
def forward(tri, drawn, contour, sigma, reach, width, height):  # noqa: ANN001, ANN201
    """``tri`` (N, F, 3, 2) pixels, ``drawn`` (N, F), ``contour`` (N, F, 3) -> coverage A,
    covered (hard) and L, each (N, H, W).

    Two passes a frame: the triangles without a contour edge mark the pixels they cover;
    then the contour triangles are evaluated softly, only at pixels not marked (a marked
    pixel's coverage is 1 whatever else covers it, and the backward pass skips it): most
    of a contour triangle's box lies inside the body."""
    N, F = drawn.shape
    covered = np.zeros((N, height, width), np.bool_)
    log_uncovered = np.zeros((N, height, width), tri.dtype)
    coverage = np.zeros((N, height, width), tri.dtype)
    for n in nb.prange(N):
        for soft_pass in (False, True):
            for f in range(F):
                if not drawn[n, f]:
                    continue
                t = tri[n, f]
                c = contour[n, f]
                if (c[0] or c[1] or c[2]) != soft_pass:
                    continue
                margin = reach if soft_pass else 0.0
                x0, x1 = _box(min(t[0, 0], t[1, 0], t[2, 0]), max(t[0, 0], t[1, 0], t[2, 0]), margin, width)
                y0, y1 = _box(min(t[0, 1], t[1, 1], t[2, 1]), max(t[0, 1], t[1, 1], t[2, 1]), margin, height)
                for y in range(y0, y1 + 1):
                    py = y + 0.5
                    for x in range(x0, x1 + 1):
                        if covered[n, y, x]:
                            continue
                        px = x + 0.5
                        inside = _inside(px, py, t[0, 0], t[0, 1], t[1, 0], t[1, 1], t[2, 0], t[2, 1])
                        if not soft_pass:
                            if inside:
                                covered[n, y, x] = True
                            continue
                        d2 = _nearest(px, py, t, c, inside)[0]
                        D = 1.0 / (1.0 + math.exp(-d2 / sigma)) if inside else 1.0 / (1.0 + math.exp(d2 / sigma))
                        log_uncovered[n, y, x] += math.log1p(-min(D, CLAMP))
        for y in range(height):
            for x in range(width):
                L = log_uncovered[n, y, x]
                if covered[n, y, x]:
                    coverage[n, y, x] = 1.0
                elif L != 0.0:
                    coverage[n, y, x] = -math.expm1(L)
    return coverage, covered, log_uncovered


@nb.njit(cache=True, parallel=True)
def backward(tri, drawn, contour, sigma, reach, covered, log_uncovered, grad_out):  # noqa: ANN001, ANN201
    """d(loss)/d(tri) (N, F, 3, 2) from d(loss)/dA ``grad_out`` (N, H, W)."""
    N, F = drawn.shape
    height, width = covered.shape[1:]
    grad = np.zeros_like(tri)
    for n in nb.prange(N):
        for f in range(F):
            c = contour[n, f]
            if not drawn[n, f] or not (c[0] or c[1] or c[2]):
                continue
            t = tri[n, f]
            x0, x1 = _box(min(t[0, 0], t[1, 0], t[2, 0]), max(t[0, 0], t[1, 0], t[2, 0]), reach, width)
            y0, y1 = _box(min(t[0, 1], t[1, 1], t[2, 1]), max(t[0, 1], t[1, 1], t[2, 1]), reach, height)
            for y in range(y0, y1 + 1):
                py = y + 0.5
                for x in range(x0, x1 + 1):
                    g = grad_out[n, y, x]
                    if covered[n, y, x] or g == 0.0:
                        continue
                    px = x + 0.5
                    inside = _inside(px, py, t[0, 0], t[0, 1], t[1, 0], t[1, 1], t[2, 0], t[2, 1])
                    d2, e, s, dx, dy = _nearest(px, py, t, c, inside)
                    sign = 1.0 if inside else -1.0
                    D = 1.0 / (1.0 + math.exp(-sign * d2 / sigma))
                    if D > CLAMP:
                        continue
                    g_D = g * math.exp(log_uncovered[n, y, x]) / (1.0 - D)
                    g_d2 = g_D * D * (1.0 - D) * sign / sigma
                    i, j = e, (e + 1) % 3
                    grad[n, f, i, 0] -= 2.0 * g_d2 * dx * (1.0 - s)
                    grad[n, f, i, 1] -= 2.0 * g_d2 * dy * (1.0 - s)
                    grad[n, f, j, 0] -= 2.0 * g_d2 * dx * s
                    grad[n, f, j, 1] -= 2.0 * g_d2 * dy * s
    return grad
