"""The minimum margin over the part of the tumour surface that capsule exclusion leaves in (exact path).

When the unconstrained optimum's tumour point is included, it is the constrained optimum too (nothing changes,
the error bound included). Otherwise the constrained minimum of the margin function ``m(p)`` (signed distance from
a tumour-surface point to the zone boundary) lies

* at a local minimum of ``m`` inside the included region: seeded by the discrete local minima of the margin map
  among included vertices, refined by Newton on the tumour surface; near such a point ``m(p) = -sd_k(p)`` for the
  zone ``k`` whose distance formula gives the map value there;
* or on the **edge** of the excluded region, the curve ``C = {p on the tumour surface : sd_O(p) = +-D}`` (organ
  ``O``, exclusion distance ``D``): sampled where map edges cross it (bisection along the edge's arc), refined by
  the 1-D search along ``C`` of :func:`~ablasim.metrics._refine_curve.refine_curve`.

Every refined point's value is the exact margin function there (recomputed, so the reported value is attained);
a refinement counts as converged when its Newton decrement vanished and its local formula ``-sd_k`` still equals
the exact value. With a mask organ the edge is known only on the voxel grid: the map's vertices stand for it, with
their Lipschitz bound.
"""

from __future__ import annotations

import numpy as np

from ..geometry.shapes import Ellipsoid
from ._refine import CONVERGED_BOUND_MM, OBJ_NEG_DIST, SIDE_NONE, refine_patch
from ._refine_curve import CURVE_LEVEL, STATUS_FAILED, project, refine_curve

MAX_CANDIDATES = 12


def _pick(values, points, spacing, limit=MAX_CANDIDATES):
    """Indices of the best candidates by value, skipping near-duplicates; (indices, truncated)."""
    chosen: list[int] = []
    for i in np.argsort(values, kind="stable"):
        if any(np.sum((points[j] - points[i]) ** 2) < spacing**2 for j in chosen):
            continue
        if len(chosen) >= limit:
            return chosen, True
        chosen.append(int(i))
    return chosen, False


def _edge_points(tumor, organ, dist, mesh, included):
    """Points of C on the map edges whose ends differ in inclusion (bisection along the arc, 60 halvings), and for
    each its neighbours along C (the other crossing edge of each face it bounds; -1: none)."""
    edges = mesh.edges
    crossing = included[edges[:, 0]] != included[edges[:, 1]]
    cross = edges[crossing]
    if len(cross) == 0:
        return np.zeros((0, 3)), np.zeros((0, 2), dtype=np.int64)
    ua, ub = mesh.vertices[cross[:, 0]], mesh.vertices[cross[:, 1]]
    inc_a = included[cross[:, 0]]
    lo, hi = np.zeros(len(cross)), np.ones(len(cross))

    def at(t):
        u = (1 - t)[:, None] * ua + t[:, None] * ub
        u /= np.linalg.norm(u, axis=1)[:, None]
        return tumor.center_mm + u @ tumor.linear_map.T

    for _ in range(60):
        mid = 0.5 * (lo + hi)
        inc = np.abs(organ.signed_distance(at(mid))) > dist
        same = inc == inc_a
        lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
    # neighbours: a face crossed by C has two crossing edges (edge ids via their sorted vertex keys)
    nv = len(mesh.vertices)
    sample_of = -np.ones(len(edges), dtype=np.int64)
    sample_of[np.flatnonzero(crossing)] = np.arange(len(cross))
    keys = edges[:, 0] * nv + edges[:, 1]
    f = mesh.faces
    fe = np.stack([np.sort(f[:, [a, b]], axis=1) for a, b in ((0, 1), (1, 2), (2, 0))], axis=1)
    face_samples = sample_of[np.searchsorted(keys, fe[:, :, 0] * nv + fe[:, :, 1])]
    nbs = -np.ones((len(cross), 2), dtype=np.int64)
    for row in face_samples[(face_samples >= 0).sum(axis=1) == 2]:
        s, o = row[row >= 0]
        nbs[s, int(nbs[s, 0] >= 0)] = o
        nbs[o, int(nbs[o, 0] >= 0)] = s
    return at(0.5 * (lo + hi)), nbs


def constrained_minimum(tumor, pk, exclusion, mesh_map, tpts, mvals, mzone, included, evaluate, best):
    """The best included candidate (``best`` is the unconstrained result; see the module docstring).
    ``evaluate(points) -> (values, zones)`` is the exact margin function."""
    if not exclusion.excluded(best.tumor_pt.reshape(1, 3))[0]:
        return best
    tmax = float(pk.te.max())
    rho_m = tmax * mesh_map.max_cover_angle
    out = _Candidate()
    converged = True
    base = float(mvals[included].min())  # the best included map vertex
    # (1) the edge of the excluded region
    organ = exclusion.organ
    if isinstance(organ, Ellipsoid):
        cpts, nbs = _edge_points(tumor, organ, exclusion.distance_mm, mesh_map, included)
        if len(cpts):
            cvals, czone = evaluate(cpts)
            rho_e = tmax * mesh_map.max_edge_angle
            # local minima along C, within the Lipschitz window of the best (samples at most rho_e apart along C)
            nb_vals = np.where(nbs >= 0, cvals[np.maximum(nbs, 0)], np.inf)
            local = cvals <= nb_vals.min(axis=1)
            sel = np.flatnonzero(local & (cvals <= min(base, float(cvals.min())) + 2.0 * rho_e))
            chosen, truncated = _pick(cvals[sel], cpts[sel], rho_e)
            converged &= not truncated
            oc = np.array(organ.center_mm, dtype=np.float64)
            orr = np.array(organ.rotation, dtype=np.float64)
            oe = np.array(organ.semi_axes_mm, dtype=np.float64)
            for j in sel[chosen]:
                out.offer(float(cvals[j]), cpts[j], int(czone[j]), 0)
                k = int(czone[j])
                side = float(np.sign(organ.signed_distance(cpts[j].reshape(1, 3))[0]))
                if k < 0:  # the nearest zone feature is a crease or a triple point: search along C by value
                    converged &= _along_edge(
                        cpts, nbs, j, (oc, orr, oe), side * exclusion.distance_mm, pk, evaluate, out
                    )
                    continue
                _, x0, x1, x2, status, conv = refine_curve(
                    cpts[j, 0],
                    cpts[j, 1],
                    cpts[j, 2],
                    CURVE_LEVEL,
                    oc,
                    orr,
                    oe,
                    oc,
                    orr,
                    oe,
                    pk.tc,
                    pk.tr,
                    pk.te,
                    side * exclusion.distance_mm,
                    OBJ_NEG_DIST,
                    pk.zc[k],
                    pk.zr[k],
                    pk.ze[k],
                    pk.zc,
                    pk.zr,
                    pk.ze,
                    k,
                    -1,
                    SIDE_NONE,
                    60,
                )
                if status == STATUS_FAILED:
                    converged = False
                    continue
                converged &= out.offer_exact(np.array([x0, x1, x2]), k, conv, evaluate, pk)
    else:
        converged = False  # a mask organ: the edge is only sampled
    # (2) local minima of the map among included vertices, refined on the tumour surface
    inc = np.flatnonzero(included)
    lower = np.zeros(len(tpts), dtype=bool)
    for a, b in ((0, 1), (1, 0)):
        e = mesh_map.edges
        mask = included[e[:, a]] & included[e[:, b]] & (mvals[e[:, b]] < mvals[e[:, a]])
        lower[e[mask, a]] = True
    # a minimum next to the excluded region is the edge's business (below): only interior minima are seeds
    touches = np.zeros(len(tpts), dtype=bool)
    e = mesh_map.edges
    for a, b in ((0, 1), (1, 0)):
        touches[e[~included[e[:, b]], a]] = True
    seeds = inc[~lower[inc] & ~touches[inc]]
    # samples more than rho_m above the best value found are not next to anything better (1-Lipschitz)
    best_so_far = min(base, out.value) if out.value is not None else base
    seeds = seeds[mvals[seeds] <= best_so_far + rho_m]
    chosen, truncated = _pick(mvals[seeds], tpts[seeds], rho_m)
    converged &= not truncated
    for i in seeds[chosen]:
        out.offer(float(mvals[i]), tpts[i], int(mzone[i]), 0)
        k = int(mzone[i])
        u = mesh_map.vertices[i]
        if k < 0:  # the nearest zone feature is a crease or a triple point: search around the vertex by value
            converged &= _around_vertex(tumor, u, exclusion, evaluate, out)
            continue
        _, x0, x1, x2, _, _, _, conv = refine_patch(
            u[0], u[1], u[2], pk.tc, pk.tr, pk.te, OBJ_NEG_DIST, pk.zc[k], pk.zr[k], pk.ze[k], 0.0, 0.0, 0.0, 60
        )
        x = np.array([x0, x1, x2])
        if exclusion.excluded(x.reshape(1, 3))[0]:
            continue  # the basin runs into the excluded region: its minimum is on the edge, searched below
        converged &= out.offer_exact(x, k, conv, evaluate, pk)
    if out.value is None or out.point is None:
        return best
    best.value, best.tumor_pt, best.feature = out.value, out.point, 0 if out.value >= 0 else 3
    best.zone_pt = out.point.copy() if out.zone < 0 else pk.zone_distance(out.zone, out.point)[1]
    best.bound = CONVERGED_BOUND_MM if converged else max(rho_m, CONVERGED_BOUND_MM)
    return best


def _along_edge(cpts, nbs, j, organ, level, pk, evaluate, out) -> bool:
    """Minimise the exact margin function along C near sample j, parametrised by the tangent at j and projected
    back onto C (Brent's bounded search between the neighbouring samples). Returns whether the minimum is
    strictly inside that bracket (then it is a local minimum along C to the search tolerance)."""
    from scipy.optimize import minimize_scalar

    oc, orr, oe = organ
    args = (oc, orr, oe, oc, orr, oe, pk.tc, pk.tr, pk.te, level)
    ok, x0, x1, x2, t0, t1, t2 = project(np.int64(CURVE_LEVEL), *cpts[j], *args)
    if not ok:
        return False
    c0, tau = np.array([x0, x1, x2]), np.array([t0, t1, t2])
    ends = [float(np.dot(cpts[o] - c0, tau)) for o in nbs[j] if o >= 0]
    lo = min([e for e in ends if e < 0], default=-np.linalg.norm(cpts[nbs[j, 0]] - c0) if nbs[j, 0] >= 0 else -0.5)
    hi = max([e for e in ends if e > 0], default=np.linalg.norm(cpts[nbs[j, 1]] - c0) if nbs[j, 1] >= 0 else 0.5)

    def point(s):
        ok, y0, y1, y2, _, _, _ = project(np.int64(CURVE_LEVEL), *(c0 + s * tau), *args)
        return np.array([y0, y1, y2]) if ok else None

    def f(s):
        y = point(s)
        return np.inf if y is None else float(evaluate(y.reshape(1, 3))[0][0])

    res = minimize_scalar(f, bounds=(lo, hi), method="bounded", options={"xatol": 1e-10})
    y = point(res.x)
    if y is None:
        return False
    v, z = evaluate(y.reshape(1, 3))
    out.offer(float(v[0]), y, int(z[0]), 0)
    return bool(res.success) and lo + 1e-8 < res.x < hi - 1e-8


def _around_vertex(tumor, u, exclusion, evaluate, out) -> bool:
    """Minimise the exact margin function over the included tumour surface near the map vertex u (unit sphere),
    by Nelder-Mead in the tangent-plane chart of u (excluded points penalised). Returns whether it converged to a
    point well inside the chart (a local minimum, to the search tolerance)."""
    from scipy.optimize import minimize

    t1 = np.cross(u, [1.0, 0.0, 0.0] if abs(u[0]) < 0.9 else [0.0, 1.0, 0.0])
    t1 /= np.linalg.norm(t1)
    t2 = np.cross(u, t1)

    def point(a):
        v = u + a[0] * t1 + a[1] * t2
        return tumor.center_mm + (v / np.linalg.norm(v)) @ tumor.linear_map.T

    def f(a):
        x = point(a).reshape(1, 3)
        return float(evaluate(x)[0][0]) + (1e3 if exclusion.excluded(x)[0] else 0.0)

    res = minimize(f, [0.0, 0.0], method="Nelder-Mead", options=dict(xatol=1e-10, fatol=1e-12, maxiter=2000))
    x = point(res.x)
    if exclusion.excluded(x.reshape(1, 3))[0]:
        return True  # the basin runs into the excluded region: its minimum is on the edge, searched above
    v, z = evaluate(x.reshape(1, 3))
    out.offer(float(v[0]), x, int(z[0]), 0)
    return bool(res.success) and float(np.hypot(*res.x)) < 1.0  # converged, well inside the chart


class _Candidate:
    """The best included point so far (its value is the exact margin function there)."""

    def __init__(self):
        self.value = None
        self.point = None
        self.zone = -1

    def offer(self, value, point, zone, _):
        if self.value is None or value < self.value:
            self.value, self.point, self.zone = value, np.array(point, dtype=float), zone

    def offer_exact(self, x, k, conv, evaluate, pk) -> bool:
        """Offer the refined point x at its exact value; returns whether it is certified."""
        v, z = evaluate(x.reshape(1, 3))
        local = -pk.zone_distance(k, x)[0]
        self.offer(float(v[0]), x, int(z[0]), 0)
        return bool(conv) and abs(float(v[0]) - local) <= 1e-9
