"""Numba kernel: signed distance from tumour-surface points to the boundary of a union of ellipsoids.

Outside the union the distance is exact: ``min_k`` of the exact distances to each ellipsoid. Inside, the nearest
boundary point lies (a) on an exposed part of some surface k, where it is a local nearest point of that surface,
or (b) on a crease, or (c) at a triple point (a crease's end). We take (a) from the exact global nearest point of
every surface when it is exposed; (b) by Newton on the optimality conditions from the nearest crease sample of
every pair of surfaces whose crease could beat the current best, (c) from the triple points computed once; and when
the global nearest point of surface k is covered by another
ellipsoid while ``|sd_k(p)|`` (a lower bound for every point of surface k) is below the best value, a non-global
local nearest point of k may be the answer: those are computed exactly (:func:`secondary_feet_local`); only for
points on a symmetry plane of k (a degenerate case) we refine the nearest exposed sample of a coarse mesh of k. Every
candidate is a true boundary point, so inside values are never below the exact
distance.

Crease pruning: a crease of surfaces a and b is at least ``max(|sd_a(p)|, |sd_b(p)|)`` from p. Its samples lie on the
crease no more than ``gap`` apart along it. If the nearest sample is at
distance ``d`` and the crease is at distance ``D`` from p, then ``d^2 <= D^2 + (gap/2)^2 (1 + D kappa)``, with
``kappa`` bounding the crease curvature; the refinement is skipped when even that lower bound on ``D`` cannot beat
the best value found so far (we use twice that slack).
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import kernel
from ..geometry._kernels.ellipsoid import implicit, secondary_feet_local, signed_distance
from ._refine import OBJ_POINT, SIDE_EXPOSED, refine_patch, side_ok
from ._refine_curve import crease_nearest, implicit_hessians


@kernel
def _coarse_search(p, k, best, zc, zr, ze, coarse_u, coarse_pts, coarse_exposed, coarse_gap, u, xo):
    """Degenerate positions only (p on a symmetry plane of surface k): nearest exposed coarse sample of k,
    refined by Newton on the surface."""
    near = np.inf
    near_i = -1
    for c in range(coarse_pts.shape[1]):
        if coarse_exposed[k, c]:
            d = math.sqrt(
                (coarse_pts[k, c, 0] - p[0]) ** 2
                + (coarse_pts[k, c, 1] - p[1]) ** 2
                + (coarse_pts[k, c, 2] - p[2]) ** 2
            )
            if d < near:
                near = d
                near_i = c
    if near_i < 0 or near - coarse_gap >= best:
        return best
    best = min(best, near)
    u[:] = coarse_u[near_i]
    dummy = np.zeros(3)
    val = refine_patch(u, zc[k], zr[k], ze[k], OBJ_POINT, dummy, np.eye(3), np.ones(3), p, 50, xo)
    if val < best and side_ok(SIDE_EXPOSED, xo, zc, zr, ze, k, -1, 1e-12):
        best = val
    return best


@kernel
def margin_map(
    points,
    zc,
    zr,
    ze,
    crease_pts,
    chunk_ptr,
    chunk_center,
    chunk_radius,
    pair_chunk_ptr,
    pair_ab,
    gap,
    kappa,
    triple_pts,
    coarse_u,
    coarse_pts,
    coarse_exposed,
    coarse_gap,
    out_val,
):
    """``crease_pts`` are grouped by unordered pair of surfaces (``pair_ab``), ordered along the crease and cut
    into chunks (``chunk_ptr`` into the points, ``pair_chunk_ptr`` into the chunks) with bounding spheres, so the
    nearest sample is found by skipping chunks that cannot contain it."""
    n = zc.shape[0]
    npair = pair_ab.shape[0]
    xo = np.empty(3)
    p = np.empty(3)
    np.zeros(3)
    np.eye(3)
    np.ones(3)
    sdk = np.empty(n)
    foot_ok = np.empty(n, dtype=np.bool_)
    u = np.empty(3)
    hz = np.empty((n, 3, 3))
    implicit_hessians(zc, zr, ze, hz)
    a5 = np.empty((5, 5))
    b5 = np.empty(5)
    g1 = np.empty(3)
    g2 = np.empty(3)
    xw = np.empty(3)
    for v in range(points.shape[0]):
        p[:] = points[v]
        f = np.inf
        best = np.inf
        for k in range(n):
            sd, fx, fy, fz, _, _, _ = signed_distance(p[0], p[1], p[2], zc[k], zr[k], ze[k])
            sdk[k] = sd
            if sd < f:
                f = sd
            ok = True
            for j in range(n):
                if j != k and implicit(fx, fy, fz, zc[j], zr[j], ze[j]) < -1e-12:
                    ok = False
                    break
            foot_ok[k] = ok
            if ok and abs(sd) < best:
                best = abs(sd)
        if f > 0.0:
            out_val[v] = -f
            continue
        # crease ends (exact points where three surfaces meet)
        for t in range(triple_pts.shape[0]):
            d = math.sqrt(
                (triple_pts[t, 0] - p[0]) ** 2 + (triple_pts[t, 1] - p[1]) ** 2 + (triple_pts[t, 2] - p[2]) ** 2
            )
            if d < best:
                best = d
        # creases
        for q in range(npair):
            # every crease point lies on both surfaces: it is at least max(|sd_a|, |sd_b|) away
            if max(abs(sdk[pair_ab[q, 0]]), abs(sdk[pair_ab[q, 1]])) >= best:
                continue
            near = np.inf
            near_m = -1
            for ch in range(pair_chunk_ptr[q], pair_chunk_ptr[q + 1]):
                lb = (
                    math.sqrt(
                        (chunk_center[ch, 0] - p[0]) ** 2
                        + (chunk_center[ch, 1] - p[1]) ** 2
                        + (chunk_center[ch, 2] - p[2]) ** 2
                    )
                    - chunk_radius[ch]
                )
                if lb >= near or lb - gap >= best:
                    continue
                for m in range(chunk_ptr[ch], chunk_ptr[ch + 1]):
                    d = math.sqrt(
                        (crease_pts[m, 0] - p[0]) ** 2 + (crease_pts[m, 1] - p[1]) ** 2 + (crease_pts[m, 2] - p[2]) ** 2
                    )
                    if d < near:
                        near = d
                        near_m = m
            if near_m < 0:
                continue
            if near < best:
                best = near  # the sample itself is a boundary point
            slack = gap if near < 2.0 * gap else 2.0 * (0.25 * gap * gap * (1.0 + near * kappa)) / (2.0 * (near - gap))
            if near - slack < best:
                a, b = pair_ab[q, 0], pair_ab[q, 1]
                # Newton on the optimality conditions from the nearest sample. If it lands on a covered part of
                # the crease, the nearest exposed crease point is an arc end: a triple point, already counted.
                val = crease_nearest(
                    crease_pts[near_m],
                    p,
                    zc[a],
                    zr[a],
                    ze[a],
                    hz[a],
                    zc[b],
                    zr[b],
                    ze[b],
                    hz[b],
                    a5,
                    b5,
                    g1,
                    g2,
                    xw,
                    xo,
                )
                if val < best and side_ok(SIDE_EXPOSED, xo, zc, zr, ze, a, b, 1e-12):
                    best = val
        # non-global nearest points of surfaces whose global one is covered
        for k in range(n):
            if foot_ok[k] or abs(sdk[k]) >= best:
                continue
            w0, w1, w2 = p[0] - zc[k, 0], p[1] - zc[k, 1], p[2] - zc[k, 2]
            y0 = zr[k, 0, 0] * w0 + zr[k, 1, 0] * w1 + zr[k, 2, 0] * w2
            y1 = zr[k, 0, 1] * w0 + zr[k, 1, 1] * w1 + zr[k, 2, 1] * w2
            y2 = zr[k, 0, 2] * w0 + zr[k, 1, 2] * w1 + zr[k, 2, 2] * w2
            cnt, a0, a1, a2, b0, b1, b2 = secondary_feet_local(y0, y1, y2, ze[k, 0], ze[k, 1], ze[k, 2])
            if cnt == 2:
                for side in range(2):
                    l0, l1, l2 = (a0, a1, a2) if side == 0 else (b0, b1, b2)
                    for q in range(3):
                        xo[q] = zc[k, q] + zr[k, q, 0] * l0 + zr[k, q, 1] * l1 + zr[k, q, 2] * l2
                    d = math.sqrt((xo[0] - p[0]) ** 2 + (xo[1] - p[1]) ** 2 + (xo[2] - p[2]) ** 2)
                    if d < best and side_ok(SIDE_EXPOSED, xo, zc, zr, ze, k, -1, 1e-12):
                        best = d
            elif cnt == -1:
                best = _coarse_search(p, k, best, zc, zr, ze, coarse_u, coarse_pts, coarse_exposed, coarse_gap, u, xo)
        out_val[v] = best
