"""Numba kernels: margins against the cold-synergy zone ``{T <= level}`` by rays and refinement on the level set.

For a convex tumour T inside the zone, every zone-boundary point q lies on the outward normal ray of its nearest
tumour point, at distance ``sd_T(q)`` along it; so the margin (the distance from T to the zone boundary) is the
minimum over tumour-surface points p of ``t(p)``, the distance along p's outward normal to where the ray first
leaves the zone. Each ray starts where it leaves the union of the single-probe isotherm ellipsoids (the merged zone
contains that union) and steps outward by Newton steps on the field (at most ``MAX_STEP`` long) until Newton
converges from inside or a step leaves the zone, whose crossing is then refined by Newton safeguarded by the
bracket. The exit points are points of the level set (to 1e-10 mm); the margin
map takes, at each tumour vertex, the nearest of its own exit point and those of the vertices around it (every
value is attained by a level-set point: never below the true distance). The best candidates are refined by
projected gradient descent on the level set.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import kernel
from ..geometry._kernels.ellipsoid import signed_distance
from ..zones._synergy_kernels import field_warm

MAX_STEP = 2.0  # mm: the longest step along a ray (a warm gap thinner than this can be stepped over)
STALL_GRADIENT = 1e-7  # a refinement stalled at rounding with a smaller tangential gradient has converged


@kernel
def _union_exit(p0, p1, p2, n0, n1, n2, zc, zr, ze):
    """Where the ray p + t n (t >= 0) first leaves the union of the ellipsoids (0 if p is in none of them)."""
    t = 0.0
    moved = True
    while moved:
        moved = False
        for k in range(zc.shape[0]):
            # |B (p + t n - c)|^2 <= 1 with B = diag(1/e) R^T: alpha t^2 + 2 beta t + gamma <= 0
            alpha = 0.0
            beta = 0.0
            gamma = -1.0
            for i in range(3):
                bp = (
                    zr[k, 0, i] * (p0 - zc[k, 0]) + zr[k, 1, i] * (p1 - zc[k, 1]) + zr[k, 2, i] * (p2 - zc[k, 2])
                ) / ze[k, i]
                bn = (zr[k, 0, i] * n0 + zr[k, 1, i] * n1 + zr[k, 2, i] * n2) / ze[k, i]
                alpha += bn * bn
                beta += bn * bp
                gamma += bp * bp
            disc = beta * beta - alpha * gamma
            if disc <= 0.0:
                continue
            sq = math.sqrt(disc)
            lo = (-beta - sq) / alpha
            hi = (-beta + sq) / alpha
            if lo <= t < hi:
                t = hi
                moved = True
    return t


@kernel
def _exit(p0, p1, p2, n0, n1, n2, t0, fp, level, uw, t_max):
    """First t >= t0 where the field along p + t n rises above ``level`` (p + t0 n inside), refined to the
    crossing. Returns (t, ok); ok is False when the start is outside or no exit is found before t_max."""
    t = t0
    g, a0, a1, a2 = field_warm(p0 + t * n0, p1 + t * n1, p2 + t * n2, fp, uw)
    g -= level
    if g > 0.0:
        return t, False
    dg = a0 * n0 + a1 * n1 + a2 * n2
    prev = np.inf
    while t < t_max:
        step = MAX_STEP if dg <= 0.0 else min(-g / dg, MAX_STEP)  # Newton, capped
        if step < 1e-11:
            return t, True  # Newton converged from inside: the crossing, to the last step
        if step < 1e-3 and step < prev and step * step * step < 1e-11 * prev * prev:
            # converging quadratically (error after a step ~ C step^2, C ~ step / prev^2): after this step the
            # crossing is predicted within step^3 / prev^2 < 1e-11 mm, as the evaluation it saves would confirm
            return t + step, True
        prev = step
        tn = t + step
        gn, a0, a1, a2 = field_warm(p0 + tn * n0, p1 + tn * n1, p2 + tn * n2, fp, uw)
        gn -= level
        if gn > 0.0:  # bracketed: safeguarded Newton between t (inside) and tn (outside)
            ta, tb = t, tn
            x = tn
            gx, dx = gn, a0 * n0 + a1 * n1 + a2 * n2
            for _ in range(100):
                xn = x - gx / dx if dx > 0.0 else 0.5 * (ta + tb)
                if not ta < xn < tb:
                    xn = 0.5 * (ta + tb)
                gx, a0, a1, a2 = field_warm(p0 + xn * n0, p1 + xn * n1, p2 + xn * n2, fp, uw)
                gx -= level
                dx = a0 * n0 + a1 * n1 + a2 * n2
                step = abs(xn - x)
                x = xn
                if gx <= 0.0:
                    ta = x
                else:
                    tb = x
                if step < 1e-11 or tb - ta < 1e-11 or gx == 0.0:
                    break
            return ta, True  # the inside end of the final bracket: on the level set to the last step
        t, g = tn, gn
        dg = a0 * n0 + a1 * n1 + a2 * n2
    return t, False


@kernel(entry=True)
def ray_map(points, normals, nbr_ptr, nbr_idx, zc, zr, ze, fp, level, t_max, out_t, out_q, out_d, out_ok):
    """Exit distance ``out_t`` and point ``out_q`` along each vertex's outward normal, and the map value ``out_d``:
    the distance to the nearest exit point of the vertex and of the vertices within two mesh edges. ``out_ok``: 0
    where the vertex lies outside the zone or its ray finds no exit."""
    nv = points.shape[0]
    uw = np.empty(fp[0].shape[:2])
    for i in range(uw.shape[0]):
        for j in range(uw.shape[1]):
            uw[i, j] = -1.0
    for v in range(nv):
        p0, p1, p2 = points[v, 0], points[v, 1], points[v, 2]
        n0, n1, n2 = normals[v, 0], normals[v, 1], normals[v, 2]
        t0 = _union_exit(p0, p1, p2, n0, n1, n2, zc, zr, ze) if zc.shape[0] > 0 else 0.0
        t, ok = _exit(p0, p1, p2, n0, n1, n2, t0, fp, level, uw, t_max)
        if not ok and t0 > 0.0:
            t, ok = _exit(p0, p1, p2, n0, n1, n2, 0.0, fp, level, uw, t_max)
        out_t[v] = t
        out_q[v, 0], out_q[v, 1], out_q[v, 2] = p0 + t * n0, p1 + t * n1, p2 + t * n2
        out_ok[v] = 1 if ok else 0
    for v in range(nv):
        best = out_t[v]
        for a in range(nbr_ptr[v], nbr_ptr[v + 1]):
            w = nbr_idx[a]
            for b in range(nbr_ptr[w] - 1, nbr_ptr[w + 1]):
                u = w if b < nbr_ptr[w] else nbr_idx[b]
                if out_ok[u] == 1:
                    d = math.sqrt(
                        (out_q[u, 0] - points[v, 0]) ** 2
                        + (out_q[u, 1] - points[v, 1]) ** 2
                        + (out_q[u, 2] - points[v, 2]) ** 2
                    )
                    best = min(best, d)
        out_d[v] = best


@kernel
def _project(x0, x1, x2, fp, level, uw):
    """Newton along the gradient onto {T = level}. Returns (ok, point, unit normal there)."""
    for _ in range(30):
        t, g0, g1, g2 = field_warm(x0, x1, x2, fp, uw)
        gg = g0 * g0 + g1 * g1 + g2 * g2
        if gg < 1e-30:
            return False, x0, x1, x2, 0.0, 0.0, 0.0
        s = (t - level) / gg
        x0, x1, x2 = x0 - s * g0, x1 - s * g1, x2 - s * g2
        if abs(s) * math.sqrt(gg) < 1e-12:
            gn = math.sqrt(gg)
            return True, x0, x1, x2, g0 / gn, g1 / gn, g2 / gn
    return False, x0, x1, x2, 0.0, 0.0, 0.0


@kernel(entry=True)
def refine_on_level_set(q0, q1, q2, tc, tr, te, fp, level, max_iter):
    """Minimise the tumour's signed distance over the level set from q (projected gradient descent with an adaptive
    step). Returns (value, point, converged): converged when the gradient's component along the level set fell
    below 1e-9 (the value is then within ~1e-18 mm of a stationary point's), or below ``STALL_GRADIENT`` where no
    step lowers the value any more (within ~1e-14 mm)."""
    uw = np.empty(fp[0].shape[:2])
    for i in range(uw.shape[0]):
        for j in range(uw.shape[1]):
            uw[i, j] = -1.0
    ok, x0, x1, x2, m0, m1, m2 = _project(q0, q1, q2, fp, level, uw)
    if not ok:
        return np.inf, q0, q1, q2, False
    val, _, _, _, a0, a1, a2 = signed_distance(x0, x1, x2, tc, tr, te)
    step = 0.5
    for _ in range(max_iter):
        # the objective's gradient (the tumour's normal at the foot) less its component along the level set normal
        dot = a0 * m0 + a1 * m1 + a2 * m2
        s0, s1, s2 = a0 - dot * m0, a1 - dot * m1, a2 - dot * m2
        gt = math.sqrt(s0 * s0 + s1 * s1 + s2 * s2)
        if gt < 1e-9:
            return val, x0, x1, x2, True
        while step > 1e-12:
            ok, y0, y1, y2, k0, k1, k2 = _project(x0 - step * s0, x1 - step * s1, x2 - step * s2, fp, level, uw)
            if ok:
                v2, _, _, _, b0, b1, b2 = signed_distance(y0, y1, y2, tc, tr, te)
                if v2 < val:
                    x0, x1, x2, m0, m1, m2, val, a0, a1, a2 = y0, y1, y2, k0, k1, k2, v2, b0, b1, b2
                    step *= 1.5
                    break
            step *= 0.3
        if step <= 1e-12:
            # no step down to 1e-12 mm lowers the value: the descent stalled at rounding. With a quadratic model of
            # curvature c (1/mm) the best remaining gain is gt^2 / (2 c), below the value's rounding (~2e-15 mm at
            # 10 mm) once gt < ~6e-8 for c ~ 1: such a stall is a stationary point as the gt < 1e-9 test above
            # accepts one (the same assumption on c)
            return val, x0, x1, x2, gt < STALL_GRADIENT
    return val, x0, x1, x2, False
