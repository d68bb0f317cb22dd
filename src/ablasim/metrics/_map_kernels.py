"""Numba kernel: signed distance from tumour-surface points to the boundary of a union of ellipsoids (margin map).

Outside the union the distance is exact: ``min_k`` of the exact distances to each ellipsoid (zones whose cheap
lower bound cannot beat the current minimum are skipped). Inside, a point at depth ``d`` in ellipsoid ``k`` is at
least ``d`` from the union's boundary (every boundary point lies outside the open ellipsoid ``k``), and at most
``d`` when the nearest point of surface ``k`` is exposed: if the deepest containing ellipsoid's nearest point is
exposed, the distance is that depth (the common case, one or two exact distances per point, warm-started from the
previous point). Otherwise the nearest boundary point lies (a) on an exposed part of some surface k, where it is a
local nearest point of that surface, or (b) on a crease, or (c) at a triple point (a crease's end). We take (a)
from the exact global nearest point of every surface when it is exposed; (b) by Newton on the optimality
conditions from the nearest crease sample of every pair of surfaces whose crease could beat the current best;
(c) from the triple points computed once; and when the global nearest point of surface k is covered by another
ellipsoid while ``|sd_k(p)|`` (a lower bound for every point of surface k) is below the best value, a non-global
local nearest point of k may be the answer: those are computed exactly (``secondary_feet_local``; a point on a
symmetry plane of k, a degenerate case, is first moved 1e-7 mm off it). Every
candidate is a true boundary point, so inside values are never below the exact distance.

Creases: a crease of surfaces a and b is at least ``max(|sd_a(p)|, |sd_b(p)|)`` from p (pruned when that cannot
beat the best value). Its samples lie on the crease no more than ``gap`` apart along it and are linked to their
neighbours along it. Newton starts from every sample nearer to p than its neighbours (the distance along a crease
can have several local minima of almost equal depth, so the nearest sample alone is not enough), unless even the
lower bound from the sampling cannot beat the best value: if a sample is at distance ``d`` and a crease point
within half a gap of it is at distance ``D``, then ``d^2 <= D^2 + (gap/2)^2 (1 + D kappa)``, with ``kappa``
bounding the crease curvature (we use twice that slack).
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import kernel
from ..geometry._kernels.ellipsoid import implicit, secondary_feet_local, signed_distance_warm
from ._features import crease_graph, minus_ones, triple_points
from ._refine import SIDE_EXPOSED, side_ok
from ._refine_curve import crease_nearest, implicit_hessians

CHUNK = 8  # crease samples per bounding sphere


@kernel
def _order(cpts, cpair, cnb, ccov, ncs, n, ptr, pts, nbs):
    """Exposed samples grouped by pair and ordered along the crease (each arc walked from an end, closed loops from
    any sample), neighbours remapped."""
    for q in range(n * n + 1):
        ptr[q] = 0
    for s in range(ncs):
        if ccov[s] == -1:
            ptr[cpair[s, 0] * n + cpair[s, 1] + 1] += 1
    for q in range(n * n):
        ptr[q + 1] += ptr[q]
    fill = minus_ones(n * n)
    for q in range(n * n):
        fill[q] = ptr[q]
    where = minus_ones(max(ncs, 1))
    for sweep in range(2):
        for s in range(ncs):
            if ccov[s] != -1 or where[s] >= 0:
                continue
            a, b = cnb[s, 0], cnb[s, 1]
            if sweep == 0 and (a >= 0 and ccov[a] == -1) and (b >= 0 and ccov[b] == -1):
                continue  # first the arcs, from their ends
            prev = -1
            cur = s
            while cur >= 0 and ccov[cur] == -1 and where[cur] < 0:
                q = cpair[cur, 0] * n + cpair[cur, 1]
                where[cur] = fill[q]
                for c in range(3):
                    pts[fill[q], c] = cpts[cur, c]
                fill[q] += 1
                nxt = cnb[cur, 0] if cnb[cur, 0] != prev else cnb[cur, 1]
                prev = cur
                cur = nxt
    for s in range(ncs):
        if where[s] >= 0:
            for side in range(2):
                o = cnb[s, side]
                nbs[where[s], side] = where[o] if o >= 0 and ccov[o] == -1 else -1


@kernel
def _chunks(pts, ptr, n, chunks):
    """Bounding spheres of runs of CHUNK consecutive samples of each pair: chunk ``(ptr[q] + j) // CHUNK`` ... in
    global numbering ``c = first chunk of q + j // CHUNK``; ``chunks[c] = (x, y, z, radius)``. Chunk c of pair q
    covers samples ``ptr[q] + (c - cptr(q)) * CHUNK`` onwards, where ``cptr(q) = sum over earlier pairs of
    ceil(count / CHUNK)`` (recomputed by the caller in the same way)."""
    c = 0
    for q in range(n * n):
        for start in range(ptr[q], ptr[q + 1], CHUNK):
            stop = min(start + CHUNK, ptr[q + 1])
            x0 = x1 = x2 = 0.0
            for m in range(start, stop):
                x0 += pts[m, 0]
                x1 += pts[m, 1]
                x2 += pts[m, 2]
            x0 /= stop - start
            x1 /= stop - start
            x2 /= stop - start
            r = 0.0
            for m in range(start, stop):
                r = max(r, (pts[m, 0] - x0) ** 2 + (pts[m, 1] - x1) ** 2 + (pts[m, 2] - x2) ** 2)
            chunks[c, 0] = x0
            chunks[c, 1] = x1
            chunks[c, 2] = x2
            chunks[c, 3] = math.sqrt(r)
            c += 1


@kernel
def _prep(verts, face_edges, edges, zc, zr, ze, gap, pts, nbs, ptr, chunks, tri, abc):
    """Exposed crease samples of the whole boundary grouped by pair (``pts[ptr[a * n + b]:ptr[a * n + b + 1]]``),
    in order along the crease, with their exposed neighbours along it (``nbs``, -1: none) and bounding spheres of
    runs of ``CHUNK`` of them (``chunks[c] = (centre, radius)``, chunk c starting at sample ``c * CHUNK`` of its
    pair's run: see :func:`_chunks`) and the triple points. Returns (crease samples, triple points)."""
    n = zc.shape[0]
    nf = face_edges.shape[0]
    fzone = np.empty(n * nf, dtype=np.int64)
    fidx = np.empty(n * nf, dtype=np.int64)
    for q in range(n * nf):
        fzone[q] = q // nf
        fidx[q] = q - (q // nf) * nf
    cap = pts.shape[0]
    cpts = np.empty((cap, 3))
    cpair = np.empty((cap, 2), dtype=np.int64)
    cnb = np.empty((cap, 2), dtype=np.int64)
    ccov = np.empty(cap, dtype=np.int64)
    slot = minus_ones(edges.shape[0])
    ncs = crease_graph(fzone, fidx, n * nf, face_edges, edges, verts, zc, zr, ze, slot, cpts, cpair, cnb, ccov)
    if ncs < 0:
        ncs = cap
    nt = triple_points(cpts, cpair, cnb, ccov, ncs, zc, zr, ze, tri, abc) if n > 2 else 0
    # exposed samples, counting sort by pair
    for q in range(n * n + 1):
        ptr[q] = 0
    for s in range(ncs):
        if ccov[s] == -1:
            ptr[cpair[s, 0] * n + cpair[s, 1] + 1] += 1
    for q in range(n * n):
        ptr[q + 1] += ptr[q]
    _order(cpts, cpair, cnb, ccov, ncs, n, ptr, pts, nbs)
    _chunks(pts, ptr, n, chunks)
    # abc[t, 3 + e]: whether the crease (abc[t, e], abc[t, (e + 1) % 3]) has no exposed sample within 1.5 gaps of
    # the triple point t (an arc too short to be sampled: Newton must start from its end)
    for t in range(nt):
        for e in range(3):
            a, b = abc[t, e], abc[t, (e + 1) % 3]
            q = min(a, b) * n + max(a, b)
            bare = 1
            for m in range(ptr[q], ptr[q + 1]):
                if (pts[m, 0] - tri[t, 0]) ** 2 + (pts[m, 1] - tri[t, 1]) ** 2 + (pts[m, 2] - tri[t, 2]) ** 2 < (
                    1.5 * gap
                ) ** 2:
                    bare = 0
                    break
            abc[t, 3 + e] = bare
    return ncs, nt


@kernel
def _secondary(p0, p1, p2, k, zc, zr, ze, best):
    """The nearest exposed non-global local nearest point of surface k to p, if nearer than ``best`` (exact, closed
    form). On a symmetry plane of k (a degenerate position) p is first moved 1e-7 mm off it: the points found are
    then real surface points within ~1e-7 mm of the degenerate ones, so the distance stays attained."""
    w0, w1, w2 = p0 - zc[k, 0], p1 - zc[k, 1], p2 - zc[k, 2]
    y0 = zr[k, 0, 0] * w0 + zr[k, 1, 0] * w1 + zr[k, 2, 0] * w2
    y1 = zr[k, 0, 1] * w0 + zr[k, 1, 1] * w1 + zr[k, 2, 1] * w2
    y2 = zr[k, 0, 2] * w0 + zr[k, 1, 2] * w1 + zr[k, 2, 2] * w2
    cnt, a0, a1, a2, b0, b1, b2 = secondary_feet_local(y0, y1, y2, ze[k, 0], ze[k, 1], ze[k, 2])
    if cnt == -1:
        y0 = y0 if abs(y0) >= 1e-7 else 1e-7
        y1 = y1 if abs(y1) >= 1e-7 else 1e-7
        y2 = y2 if abs(y2) >= 1e-7 else 1e-7
        cnt, a0, a1, a2, b0, b1, b2 = secondary_feet_local(y0, y1, y2, ze[k, 0], ze[k, 1], ze[k, 2])
    if cnt != 2:
        return best
    for side in range(2):
        l0, l1, l2 = (a0, a1, a2) if side == 0 else (b0, b1, b2)
        x0 = zc[k, 0] + zr[k, 0, 0] * l0 + zr[k, 0, 1] * l1 + zr[k, 0, 2] * l2
        x1 = zc[k, 1] + zr[k, 1, 0] * l0 + zr[k, 1, 1] * l1 + zr[k, 1, 2] * l2
        x2 = zc[k, 2] + zr[k, 2, 0] * l0 + zr[k, 2, 1] * l1 + zr[k, 2, 2] * l2
        d = math.sqrt((x0 - p0) ** 2 + (x1 - p1) ** 2 + (x2 - p2) ** 2)
        if d < best and side_ok(np.int64(SIDE_EXPOSED), x0, x1, x2, zc, zr, ze, k, np.int64(-1), 1e-12):
            best = d
    return best


@kernel
def _fast(p0, p1, p2, zc, zr, ze, emin, sdk, foot_ok, uw):
    """The common cases. Outside the union: the minimum of the distances (zones whose cheap lower bound cannot win
    are skipped). Inside: every distance and whether each nearest point is exposed (``sdk``, ``foot_ok``), and the
    answer when the deepest containing ellipsoid's nearest point is exposed. Returns (done, value, zone whose
    distance formula gives the value)."""
    n = zc.shape[0]
    inside = False
    for k in range(n):
        sdk[k] = implicit(p0, p1, p2, zc[k], zr[k], ze[k])
        inside = inside or sdk[k] < 0.0
    if not inside:
        best = np.inf
        arg = -1
        for k in range(n):
            if (math.sqrt(sdk[k] + 1.0) - 1.0) * emin[k] >= best:
                continue
            sd, _, _, _, _, _, _, uw[k] = signed_distance_warm(p0, p1, p2, zc[k], zr[k], ze[k], uw[k])
            if sd < best:
                best, arg = sd, k
        return True, -best, arg
    depth = 0.0
    arg = -1
    for k in range(n):
        sd, f0, f1, f2, _, _, _, uw[k] = signed_distance_warm(p0, p1, p2, zc[k], zr[k], ze[k], uw[k])
        sdk[k] = sd
        foot_ok[k] = 1 if side_ok(np.int64(SIDE_EXPOSED), f0, f1, f2, zc, zr, ze, k, np.int64(-1), 1e-12) else 0
        if -sd > depth:
            depth, arg = -sd, k
    if arg >= 0 and foot_ok[arg]:
        return True, depth, arg
    return False, 0.0, -1


@kernel
def _d2(pts, m, p0, p1, p2):
    return (pts[m, 0] - p0) ** 2 + (pts[m, 1] - p1) ** 2 + (pts[m, 2] - p2) ** 2


@kernel
def _crease_try(y0, y1, y2, p0, p1, p2, zc, zr, ze, hz, a, b, best):
    """Newton for the nearest point of the crease (a, b) from y; the better of it (if exposed) and ``best``. If
    Newton lands on a covered part of the crease, the nearest exposed crease point is an arc end: a triple point,
    counted on its own."""
    val, x0, x1, x2 = crease_nearest(y0, y1, y2, p0, p1, p2, zc[a], zr[a], ze[a], hz[a], zc[b], zr[b], ze[b], hz[b])
    if val < best and side_ok(np.int64(SIDE_EXPOSED), x0, x1, x2, zc, zr, ze, a, b, 1e-12):
        return val
    return best


@kernel
def _full(p0, p1, p2, zc, zr, ze, feat, gap, kappa, nt, sdk, foot_ok, cand, cand_m, cand_q):
    """Inside the union, when the deepest ellipsoid's nearest point is covered (see the module docstring); ``sdk``
    and ``foot_ok`` from :func:`_fast`.
    ``feat`` = (crease samples, their neighbours, pair offsets, triple points, their surfaces, implicit Hessians,
    ).
    Returns (value, zone whose formula gives it or -1)."""
    cpts, nbs, ptr, chunks, tri, abc, hz = feat
    n = zc.shape[0]
    best = np.inf
    arg = -1
    for k in range(n):
        if foot_ok[k] and abs(sdk[k]) < best:
            best, arg = abs(sdk[k]), k
    for t in range(nt):  # crease ends (exact points where three surfaces meet)
        d = math.sqrt((tri[t, 0] - p0) ** 2 + (tri[t, 1] - p1) ** 2 + (tri[t, 2] - p2) ** 2)
        if d < best:
            best, arg = d, -1
        if d - gap < best:
            # an exposed crease arc too short to hold a sample: Newton from its end
            for e in range(3):
                a, b = abc[t, e], abc[t, (e + 1) % 3]
                if abc[t, 3 + e] == 1 and max(abs(sdk[a]), abs(sdk[b])) < best:
                    nb = _crease_try(tri[t, 0], tri[t, 1], tri[t, 2], p0, p1, p2, zc, zr, ze, hz, a, b, best)
                    if nb < best:
                        best, arg = nb, -1
    cnext = 0
    nc = 0
    for a in range(n):
        for b in range(n):
            if b <= a:  # chunks are numbered over all n * n pair slots; only a < b hold samples
                q = a * n + b
                cnext += (ptr[q + 1] - ptr[q] + CHUNK - 1) // CHUNK
                continue
            # every crease point lies on both surfaces: it is at least max(|sd_a|, |sd_b|) away
            q = a * n + b
            cfirst = cnext
            cnext += (ptr[q + 1] - ptr[q] + CHUNK - 1) // CHUNK
            if ptr[q + 1] == ptr[q] or max(abs(sdk[a]), abs(sdk[b])) >= best:
                continue
            c = cfirst
            for start in range(ptr[q], ptr[q + 1], CHUNK):
                stop = min(start + CHUNK, ptr[q + 1])
                lb = math.sqrt((chunks[c, 0] - p0) ** 2 + (chunks[c, 1] - p1) ** 2 + (chunks[c, 2] - p2) ** 2)
                lb -= chunks[c, 3]
                c += 1
                if lb - gap >= best:
                    continue  # no sample here can be nearer, nor seed a nearer crease point (slack <= gap)
                for m in range(start, stop):
                    d2 = _d2(cpts, m, p0, p1, p2)
                    # Newton from every sample nearer than its neighbours along the crease and near enough (see
                    # the module docstring) to have the crease's nearest point within its half-gap
                    if (nbs[m, 0] >= 0 and _d2(cpts, nbs[m, 0], p0, p1, p2) < d2) or (
                        nbs[m, 1] >= 0 and _d2(cpts, nbs[m, 1], p0, p1, p2) < d2
                    ):
                        continue
                    d = math.sqrt(d2)
                    if d < best:
                        best, arg = d, -1  # the sample itself is a boundary point
                    slack = gap if d < 2.0 * gap else 2.0 * (0.25 * gap * gap * (1.0 + d * kappa)) / (2.0 * (d - gap))
                    if d - slack < best and nc < cand.shape[0]:
                        cand[nc] = d - slack
                        cand_m[nc] = m
                        cand_q[nc] = q
                        nc += 1
    # Newton from the candidates, most promising first (the best value then prunes the others)
    for _ in range(nc):
        i = -1
        for j in range(nc):
            if cand_m[j] >= 0 and (i < 0 or cand[j] < cand[i]):
                i = j
        if cand[i] >= best:
            break
        m = cand_m[i]
        cand_m[i] = -1
        a = cand_q[i] // n
        b = cand_q[i] - a * n
        nb = _crease_try(cpts[m, 0], cpts[m, 1], cpts[m, 2], p0, p1, p2, zc, zr, ze, hz, a, b, best)
        if nb < best:
            best, arg = nb, -1
    for k in range(n):  # non-global nearest points of surfaces whose global one is covered
        if not foot_ok[k] and abs(sdk[k]) < best:
            d = _secondary(p0, p1, p2, k, zc, zr, ze, best)
            if d < best:
                best, arg = d, -1
    return best, arg


@kernel(entry=True)
def margin_map(points, zc, zr, ze, verts, face_edges, edges, gap, kappa, out_val, out_zone):
    """Signed distance (> 0 inside the zone) from each point to the union's boundary, and the zone k whose
    formula ``-sd_k`` gives it (-1: a crease, triple point or non-global nearest point).

    ``verts``, ``face_edges`` and ``edges`` are a sphere mesh on which every surface's creases are sampled (no more
    than ``gap`` apart).
    """
    n = zc.shape[0]
    emin = np.empty(n)
    uw = np.empty(n)
    for k in range(n):
        emin[k] = min(ze[k, 0], min(ze[k, 1], ze[k, 2]))
        uw[k] = -1.0
    cap = (edges.shape[0] * n * (n - 1)) // 2 + 16
    cpts = np.empty((cap, 3))
    nbs = np.empty((cap, 2), dtype=np.int64)
    ptr = np.empty(n * n + 1, dtype=np.int64)
    tri = np.empty((2 * n * n * n + 16, 3))
    abc = np.empty((2 * n * n * n + 16, 6), dtype=np.int64)
    hz = np.empty((n, 3, 3))
    implicit_hessians(zc, zr, ze, hz)
    prepared = False
    nt = 0
    chunks = np.empty((cap // CHUNK + n * n + 1, 4))
    feat = (cpts, nbs, ptr, chunks, tri, abc, hz)
    sdk = np.empty(n)
    foot_ok = np.empty(n, dtype=np.int64)
    cand = np.empty(64)  # Newton candidates of one point: (lower bound, sample, pair)
    cand_m = np.empty(64, dtype=np.int64)
    cand_q = np.empty(64, dtype=np.int64)
    for v in range(points.shape[0]):
        p0, p1, p2 = points[v, 0], points[v, 1], points[v, 2]
        done, value, arg = _fast(p0, p1, p2, zc, zr, ze, emin, sdk, foot_ok, uw)
        if not done:
            if not prepared:
                _, nt = _prep(
                    verts,
                    face_edges,
                    edges,
                    zc,
                    zr,
                    ze,
                    gap,
                    cpts,
                    nbs,
                    ptr,
                    chunks,
                    tri,
                    abc,
                )
                prepared = True
            value, arg = _full(p0, p1, p2, zc, zr, ze, feat, gap, kappa, nt, sdk, foot_ok, cand, cand_m, cand_q)
        out_val[v] = value
        out_zone[v] = arg
