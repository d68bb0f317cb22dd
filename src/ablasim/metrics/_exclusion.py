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
from ._refine_curve import CURVE_LEVEL, STATUS_FAILED, refine_curve

MAX_CANDIDATES = 12


def _pick(values, points, spacing, limit=MAX_CANDIDATES):
    """Indices of the best candidates by value, skipping near-duplicates; (indices, truncated)."""
    chosen = []
    for i in np.argsort(values, kind="stable"):
        if any(np.sum((points[j] - points[i]) ** 2) < spacing**2 for j in chosen):
            continue
        if len(chosen) >= limit:
            return chosen, True
        chosen.append(int(i))
    return chosen, False


def _edge_points(tumor, organ, dist, verts, edges, included):
    """Points of C on the map edges whose ends differ in inclusion (bisection along the arc, 60 halvings)."""
    cross = edges[included[edges[:, 0]] != included[edges[:, 1]]]
    if len(cross) == 0:
        return np.zeros((0, 3))
    ua, ub = verts[cross[:, 0]], verts[cross[:, 1]]
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
    return at(0.5 * (lo + hi))


def constrained_minimum(tumor, pk, exclusion, mesh_map, tpts, mvals, mzone, included, evaluate, best):
    """The best included candidate (``best`` is the unconstrained result; see the module docstring).
    ``evaluate(points) -> (values, zones)`` is the exact margin function."""
    if not exclusion.excluded(best.tumor_pt.reshape(1, 3))[0]:
        return best
    tmax = float(pk.te.max())
    rho_m = tmax * mesh_map.max_cover_angle
    out = _Candidate()
    converged = True
    # (1) local minima of the map among included vertices, refined on the tumour surface
    inc = np.flatnonzero(included)
    lower = np.zeros(len(tpts), dtype=bool)
    for a, b in ((0, 1), (1, 0)):
        e = mesh_map.edges
        mask = included[e[:, a]] & included[e[:, b]] & (mvals[e[:, b]] < mvals[e[:, a]])
        lower[e[mask, a]] = True
    seeds = inc[~lower[inc]]
    base = float(mvals[inc].min())
    seeds = seeds[mvals[seeds] <= base + 2.0 * rho_m]
    chosen, truncated = _pick(mvals[seeds], tpts[seeds], rho_m)
    converged &= not truncated
    for i in seeds[chosen]:
        out.offer(float(mvals[i]), tpts[i], int(mzone[i]), 0)
        k = int(mzone[i])
        if k < 0:
            converged = False
            continue
        u = mesh_map.vertices[i]
        _, x0, x1, x2, _, _, _, conv = refine_patch(
            u[0], u[1], u[2], pk.tc, pk.tr, pk.te, OBJ_NEG_DIST, pk.zc[k], pk.zr[k], pk.ze[k], 0.0, 0.0, 0.0, 60
        )
        x = np.array([x0, x1, x2])
        if exclusion.excluded(x.reshape(1, 3))[0]:
            continue  # the basin runs into the excluded region: its minimum is on the edge, searched below
        converged &= out.offer_exact(x, k, conv, evaluate, pk)
    # (2) the edge of the excluded region
    organ = exclusion.organ
    if isinstance(organ, Ellipsoid):
        cpts = _edge_points(tumor, organ, exclusion.distance_mm, mesh_map.vertices, mesh_map.edges, included)
        if len(cpts):
            cvals, czone = evaluate(cpts)
            rho_e = tmax * mesh_map.max_edge_angle
            sel = np.flatnonzero(cvals <= min(base, float(cvals.min())) + 2.0 * rho_e)
            chosen, truncated = _pick(cvals[sel], cpts[sel], rho_e)
            converged &= not truncated
            oc = np.array(organ.center_mm, dtype=np.float64)
            orr = np.array(organ.rotation, dtype=np.float64)
            oe = np.array(organ.semi_axes_mm, dtype=np.float64)
            for j in sel[chosen]:
                out.offer(float(cvals[j]), cpts[j], int(czone[j]), 0)
                k = int(czone[j])
                if k < 0:
                    converged = False
                    continue
                side = float(np.sign(organ.signed_distance(cpts[j].reshape(1, 3))[0]))
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
    if out.value is None:
        return best
    best.value, best.tumor_pt, best.feature = out.value, out.point, 0 if out.value >= 0 else 3
    best.zone_pt = out.point.copy() if out.zone < 0 else pk.zone_distance(out.zone, out.point)[1]
    best.bound = CONVERGED_BOUND_MM if converged else max(rho_m, CONVERGED_BOUND_MM)
    return best


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
