"""Numba kernel: the largest distance to the zone over the tumour's interior (exact path, four or more zones).

With four or more zone ellipsoids the point of the tumour farthest from the zone can lie inside the tumour, enclosed
by zones on all sides. ``F(p) = min_k sd_k(p)`` is 1-Lipschitz; an interior local maximum of F is equally far from
at least four zones (with three or fewer there is always a direction in which all of them grow, the distance to a
convex set being convex). The interior is searched coarse to fine over cubes of the tumour's unit-ball coordinates;
the best cube centre is refined by Newton on the equations of every four near zones (their common point is a
certified local maximum when the four gradients positively span space), else by compass search.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import kernel
from ..geometry._kernels.ellipsoid import implicit, signed_distance, signed_distance_warm
from ._features import radius_bounds, surface_point
from ._uncovered import zone_distance


@kernel
def _cube_eval(tc, tr, te, w0, w1, w2, zc, zr, ze, emin, emax, r, floor, uw):
    """F at the cube centre w (or an upper bound on it when the cube cannot reach ``floor``: exact = False), how many
    zones are within 2 r of it there (an interior local maximum of F has at least four equally far zones: with three
    or fewer there is always a direction in which all of them grow). Cheap ellipsoidal-radius bounds first; exact
    distances only for the zones that may be among the nearest."""
    x0, x1, x2 = surface_point(tc, tr, te, w0, w1, w2)
    n = zc.shape[0]
    lo = np.empty(n)
    f_hi = np.inf
    for k in range(n):
        a, b = radius_bounds(x0, x1, x2, zc[k], zr[k], ze[k], emin[k], emax[k])
        lo[k] = a
        f_hi = min(f_hi, b)
    near = 0
    for k in range(n):
        if lo[k] <= f_hi + 2.0 * r:
            near += 1
    if near < 4 or f_hi + r < floor:
        return f_hi, near, False  # no interior maximum above floor here: the upper bound is enough
    f = np.inf
    for k in range(n):
        if lo[k] <= f_hi:
            sd, _, _, _, _, _, _, uw[k] = signed_distance_warm(x0, x1, x2, zc[k], zr[k], ze[k], uw[k])
            lo[k] = sd  # exact now
            f = min(f, sd)
    near = 0
    for k in range(n):
        if lo[k] <= f + 2.0 * r:
            near += 1
    return f, near, True


@kernel
def _equidistant(x0, x1, x2, zc, zr, ze, a, b, c, d):
    """Newton on sd_a = sd_b = sd_c = sd_d (three equations, gradients = unit normals). Returns (ok, point)."""
    for _ in range(40):
        sa, _, _, _, a0, a1, a2 = signed_distance(x0, x1, x2, zc[a], zr[a], ze[a])
        sb, _, _, _, b0, b1, b2 = signed_distance(x0, x1, x2, zc[b], zr[b], ze[b])
        sc, _, _, _, c0, c1, c2 = signed_distance(x0, x1, x2, zc[c], zr[c], ze[c])
        s4, _, _, _, e0, e1, e2 = signed_distance(x0, x1, x2, zc[d], zr[d], ze[d])
        # rows: grad(sd_a - sd_k) for k = b, c, d; right-hand side -(sd_a - sd_k)
        j00, j01, j02, f0 = a0 - b0, a1 - b1, a2 - b2, sa - sb
        j10, j11, j12, f1 = a0 - c0, a1 - c1, a2 - c2, sa - sc
        j20, j21, j22, f2 = a0 - e0, a1 - e1, a2 - e2, sa - s4
        det = j00 * (j11 * j22 - j12 * j21) - j01 * (j10 * j22 - j12 * j20) + j02 * (j10 * j21 - j11 * j20)
        if abs(det) < 1e-12:
            return False, x0, x1, x2
        d0 = (-f0 * (j11 * j22 - j12 * j21) - j01 * (-f1 * j22 + j12 * f2) + j02 * (-f1 * j21 + j11 * f2)) / det
        d1 = (j00 * (-f1 * j22 + j12 * f2) + f0 * (j10 * j22 - j12 * j20) + j02 * (-j10 * f2 + f1 * j20)) / det
        d2 = (j00 * (-j11 * f2 + f1 * j21) - j01 * (-j10 * f2 + f1 * j20) - f0 * (j10 * j21 - j11 * j20)) / det
        x0 += d0
        x1 += d1
        x2 += d2
        if d0 * d0 + d1 * d1 + d2 * d2 < 1e-26:
            return True, x0, x1, x2
    return False, x0, x1, x2


@kernel
def _is_local_max(x0, x1, x2, zc, zr, ze, a, b, c, d):
    """Whether F has a strict local maximum at x, where zones a, b, c, d are equally far: their gradients g must
    positively span space, ``g_d = -(l_a g_a + l_b g_b + l_c g_c)`` with every l > 0 (then no direction increases
    all four distances)."""
    _, _, _, _, a0, a1, a2 = signed_distance(x0, x1, x2, zc[a], zr[a], ze[a])
    _, _, _, _, b0, b1, b2 = signed_distance(x0, x1, x2, zc[b], zr[b], ze[b])
    _, _, _, _, c0, c1, c2 = signed_distance(x0, x1, x2, zc[c], zr[c], ze[c])
    _, _, _, _, e0, e1, e2 = signed_distance(x0, x1, x2, zc[d], zr[d], ze[d])
    det = a0 * (b1 * c2 - b2 * c1) - b0 * (a1 * c2 - a2 * c1) + c0 * (a1 * b2 - a2 * b1)
    if abs(det) < 1e-12:
        return False
    # columns g_a, g_b, g_c; solve for l with sum l g = -g_d (Cramer)
    la = (-e0 * (b1 * c2 - b2 * c1) - b0 * (-e1 * c2 + c1 * e2) + c0 * (-e1 * b2 + b1 * e2)) / det
    lb = (a0 * (-e1 * c2 + c1 * e2) + e0 * (a1 * c2 - a2 * c1) + c0 * (-a1 * e2 + e1 * a2)) / det
    lc = (a0 * (-b1 * e2 + e1 * b2) - b0 * (-a1 * e2 + e1 * a2) - e0 * (a1 * b2 - a2 * b1)) / det
    return la > 0.0 and lb > 0.0 and lc > 0.0


@kernel(entry=True)
def interior_search(tc, tr, te, zc, zr, ze, emin, emax, resolution, floor, out):
    """Largest F over the tumour's interior where it exceeds ``floor`` (the surface's maximum).

    Cubes of the unit-ball coordinates w (x = c + M w, every point of a cube of half-size h within
    ``r = a_max h sqrt(3)`` of its centre) are kept while they reach into the ball, their Lipschitz upper bound
    ``F(centre) + r`` reaches the best value, and at least four zones are within ``2 r`` of the nearest at the
    centre (else the cube holds no interior maximum); they are halved until ``r`` meets the resolution. The best
    centre inside the tumour is polished by compass search. ``out``: F, point (3), the largest upper bound of a
    kept cube (-inf: no interior point can beat ``floor``), whether the point is a certified local maximum."""
    amax = max(te[0], max(te[1], te[2]))
    uw = np.empty(zc.shape[0])
    for k in range(zc.shape[0]):
        uw[k] = -1.0
    h = 0.25
    nc = 64
    cw = np.empty((nc, 3))
    for q in range(nc):
        cw[q, 0] = -0.75 + 0.5 * (q % 4)
        cw[q, 1] = -0.75 + 0.5 * ((q // 4) % 4)
        cw[q, 2] = -0.75 + 0.5 * (q // 16)
    best = -np.inf
    bw0 = bw1 = bw2 = 0.0
    ub_all = -np.inf
    while True:
        r = amax * h * math.sqrt(3.0)
        fv = np.empty(nc)
        keep = np.empty(nc, dtype=np.int64)
        for q in range(nc):
            f, near, exact = _cube_eval(tc, tr, te, cw[q, 0], cw[q, 1], cw[q, 2], zc, zr, ze, emin, emax, r, floor, uw)
            fv[q] = f
            wn = math.sqrt(cw[q, 0] ** 2 + cw[q, 1] ** 2 + cw[q, 2] ** 2)
            if exact and f > best and wn <= 1.0:
                best, bw0, bw1, bw2 = f, cw[q, 0], cw[q, 1], cw[q, 2]
            keep[q] = 1 if near >= 4 and wn - h * math.sqrt(3.0) <= 1.0 else 0
        nk = 0
        ub_all = -np.inf
        for q in range(nc):
            keep[q] = 1 if keep[q] == 1 and fv[q] + r >= max(best, floor) else 0
            if keep[q]:
                nk += 1
                ub_all = max(ub_all, fv[q] + r)
        if r <= resolution or nk == 0 or nk * 8 > 200000:
            break
        nxt = np.empty((8 * nk, 3))
        m = 0
        for q in range(nc):
            if keep[q]:
                for j in range(8):
                    nxt[m, 0] = cw[q, 0] + (0.5 if j & 1 else -0.5) * h
                    nxt[m, 1] = cw[q, 1] + (0.5 if j & 2 else -0.5) * h
                    nxt[m, 2] = cw[q, 2] + (0.5 if j & 4 else -0.5) * h
                    m += 1
        cw = nxt
        nc = m
        h *= 0.5
    x0, x1, x2 = surface_point(tc, tr, te, bw0, bw1, bw2)
    # an interior maximum is equally far from (at least) four zones: Newton on the equations of every four of the
    # zones near the best centre
    n = zc.shape[0]
    r = amax * h * math.sqrt(3.0)
    certified = False
    if best > floor:
        sd = np.empty(n)
        for k in range(n):
            sd[k] = signed_distance(x0, x1, x2, zc[k], zr[k], ze[k])[0]
        for q in range(n**4):
            a, b, c, d = q % n, (q // n) % n, (q // n**2) % n, q // n**3
            if not (a < b < c < d) or max(sd[a], max(sd[b], max(sd[c], sd[d]))) > best + 2.0 * r:
                continue
            ok, y0, y1, y2 = _equidistant(x0, x1, x2, zc, zr, ze, a, b, c, d)
            if not ok or implicit(y0, y1, y2, tc, tr, te) > 0.0:
                continue
            fy = zone_distance(y0, y1, y2, zc, zr, ze, emin, emax, uw)[0]
            if fy >= best:
                best, x0, x1, x2 = fy, y0, y1, y2
                certified = _is_local_max(y0, y1, y2, zc, zr, ze, a, b, c, d)
        # one basin only: every kept cube lies next to the point found
        for q in range(nc):
            if keep[q]:
                c0, c1, c2 = surface_point(tc, tr, te, cw[q, 0], cw[q, 1], cw[q, 2])
                if (c0 - x0) ** 2 + (c1 - x1) ** 2 + (c2 - x2) ** 2 > (4.0 * r) ** 2:
                    certified = False
    # else compass search in world coordinates, staying inside the tumour
    step = 0.0 if certified else amax * h
    while step > 1e-10 and best > floor:
        moved = False
        for d in range(6):
            s = step if d < 3 else -step
            y0 = x0 + (s if d % 3 == 0 else 0.0)
            y1 = x1 + (s if d % 3 == 1 else 0.0)
            y2 = x2 + (s if d % 3 == 2 else 0.0)
            if implicit(y0, y1, y2, tc, tr, te) > 0.0:
                continue
            fy = zone_distance(y0, y1, y2, zc, zr, ze, emin, emax, uw)[0]
            if fy > best:
                best, x0, x1, x2, moved = fy, y0, y1, y2, True
                break
        if not moved:
            step *= 0.5
    out[0] = best
    out[1], out[2], out[3] = x0, x1, x2
    out[4] = ub_all
    out[5] = 1.0 if certified else 0.0
