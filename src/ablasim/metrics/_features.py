"""Numba kernels shared by the exact path's searches: cheap distance bounds, points along mesh arcs, creases of a
union of ellipsoids (with their neighbours along the crease) and triple points.

The zone is a union of ellipsoids ``Z = E_0 u ... u E_{n-1}``. Its boundary is made of the *exposed* parts of each
ellipsoid surface (points not strictly inside another ellipsoid), of *creases*, curves where two surfaces meet, and
of *triple points* where three do. Surfaces are sampled through unit-sphere meshes (``x = c + R (e * u)``); creases
are found on mesh edges whose end points lie on either side of another surface (root along the edge's arc).
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import kernel
from ..geometry._kernels.ellipsoid import implicit
from ._refine import implicit_grad, surface_point


@kernel
def radius_bounds(x0, x1, x2, c, r, e, emin, emax):
    """Cheap bounds (lo, hi) on the signed distance to an ellipsoid from its ellipsoidal radius ``rho``: the
    surfaces ``rho = 1`` and ``rho = s`` are between ``|s - 1| e_min`` and ``|s - 1| e_max`` apart."""
    rho = math.sqrt(max(implicit(x0, x1, x2, c, r, e) + 1.0, 0.0))
    if rho >= 1.0:
        return (rho - 1.0) * emin, (rho - 1.0) * emax
    return (rho - 1.0) * emax, (rho - 1.0) * emin


@kernel
def arc_point(c, r, e, a0, a1, a2, b0, b1, b2, t):
    """Point at fraction t of the arc from unit vector a to b, on the ellipsoid (c, r, e): (u0, u1, u2, x0, x1, x2)."""
    u0 = (1.0 - t) * a0 + t * b0
    u1 = (1.0 - t) * a1 + t * b1
    u2 = (1.0 - t) * a2 + t * b2
    nn = math.sqrt(u0 * u0 + u1 * u1 + u2 * u2)
    u0, u1, u2 = u0 / nn, u1 / nn, u2 / nn
    s0, s1, s2 = e[0] * u0, e[1] * u1, e[2] * u2
    return (
        u0,
        u1,
        u2,
        c[0] + r[0, 0] * s0 + r[0, 1] * s1 + r[0, 2] * s2,
        c[1] + r[1, 0] * s0 + r[1, 1] * s1 + r[1, 2] * s2,
        c[2] + r[2, 0] * s0 + r[2, 1] * s1 + r[2, 2] * s2,
    )


@kernel
def crease_root(ci, ri, ei, a0, a1, a2, b0, b1, b2, fa, fb, cj, rj, ej):
    """Where surface j crosses the arc a -> b of surface i (``fa``, ``fb``: implicit_j at the ends, opposite
    signs): Illinois (modified regula falsi) on implicit_j along the arc. Returns the point."""
    ta, tb = 0.0, 1.0
    side = 0
    x0 = x1 = x2 = 0.0
    for _ in range(100):
        tm = (ta * fb - tb * fa) / (fb - fa)
        _, _, _, x0, x1, x2 = arc_point(ci, ri, ei, a0, a1, a2, b0, b1, b2, tm)
        fm = implicit(x0, x1, x2, cj, rj, ej)
        if fm == 0.0 or tb - ta < 1e-13 or abs(fm) < 1e-15:
            break
        if (fm < 0.0) == (fa < 0.0):
            ta, fa = tm, fm
            if side == -1:
                fb *= 0.5
            side = -1
        else:
            tb, fb = tm, fm
            if side == 1:
                fa *= 0.5
            side = 1
    return x0, x1, x2


@kernel
def _link(nb, s, o):
    if nb[s, 0] == -1:
        nb[s, 0] = o
    elif nb[s, 0] != o and nb[s, 1] == -1:
        nb[s, 1] = o


@kernel
def crease_graph(fzone, fidx, nface, face_edges, edges, verts, zc, zr, ze, slot, out_pts, out_pair, out_nb, out_cover):
    """Crease samples on the edges of the given faces (zone ``fzone[m]``, face ``fidx[m]`` of the finest level,
    whose edges are ``face_edges[fidx[m]]``), for each pair (i, j), i < j, sampled on surface i; linked to their
    neighbours along the crease (the other crossing edge of each face they bound). ``out_cover[s]``: the first
    other zone covering the sample (-1: exposed, on the union's boundary). ``slot`` (one int64 per edge, all -1)
    is work space, left all -1. Returns the number of samples (at most ``len(out_pts)``; more are dropped and -1
    is returned).
    """
    n = zc.shape[0]
    m = 0
    overflow = False
    for i in range(n):
        for j in range(i + 1, n):
            for q in range(nface):
                if fzone[q] != i:
                    continue
                f = fidx[q]
                s_a = np.int64(-1)
                s_b = np.int64(-1)
                for k in range(3):
                    ed = face_edges[f, k]
                    if slot[ed] == -1:
                        slot[ed] = -2
                        va, vb = edges[ed, 0], edges[ed, 1]
                        xa0, xa1, xa2 = surface_point(zc[i], zr[i], ze[i], verts[va, 0], verts[va, 1], verts[va, 2])
                        xb0, xb1, xb2 = surface_point(zc[i], zr[i], ze[i], verts[vb, 0], verts[vb, 1], verts[vb, 2])
                        fa = implicit(xa0, xa1, xa2, zc[j], zr[j], ze[j])
                        fb = implicit(xb0, xb1, xb2, zc[j], zr[j], ze[j])
                        if (fa < 0.0) != (fb < 0.0):
                            if m >= out_pts.shape[0]:
                                overflow = True
                                continue
                            x0, x1, x2 = crease_root(
                                zc[i],
                                zr[i],
                                ze[i],
                                verts[va, 0],
                                verts[va, 1],
                                verts[va, 2],
                                verts[vb, 0],
                                verts[vb, 1],
                                verts[vb, 2],
                                fa,
                                fb,
                                zc[j],
                                zr[j],
                                ze[j],
                            )
                            out_pts[m, 0] = x0
                            out_pts[m, 1] = x1
                            out_pts[m, 2] = x2
                            out_pair[m, 0] = i
                            out_pair[m, 1] = j
                            out_nb[m, 0] = -1
                            out_nb[m, 1] = -1
                            cov = -1
                            for o in range(n):
                                if o not in (i, j) and implicit(x0, x1, x2, zc[o], zr[o], ze[o]) < 0.0:
                                    cov = o
                                    break
                            out_cover[m] = cov
                            slot[ed] = m
                            m += 1
                    s = slot[ed]
                    if s >= 0:
                        if s_a < 0:
                            s_a = s
                        elif s_b < 0 and s != s_a:
                            s_b = s
                if s_a >= 0 and s_b >= 0:
                    _link(out_nb, s_a, s_b)
                    _link(out_nb, s_b, s_a)
            for q in range(nface):  # reset the slots this pair used
                if fzone[q] == i:
                    for k in range(3):
                        slot[face_edges[fidx[q], k]] = -1
    return -1 if overflow else m


@kernel
def triple_point(y0, y1, y2, zc, zr, ze, a, b, c):
    """Newton on ``f_a = f_b = f_c = 0`` (implicit functions) from y. Returns (ok, x0, x1, x2)."""
    x0, x1, x2 = y0, y1, y2
    for _ in range(40):
        fa, a0, a1, a2 = implicit_grad(x0, x1, x2, zc[a], zr[a], ze[a])
        fb, b0, b1, b2 = implicit_grad(x0, x1, x2, zc[b], zr[b], ze[b])
        fc, c0, c1, c2 = implicit_grad(x0, x1, x2, zc[c], zr[c], ze[c])
        det = a0 * (b1 * c2 - b2 * c1) - a1 * (b0 * c2 - b2 * c0) + a2 * (b0 * c1 - b1 * c0)
        if abs(det) < 1e-300:
            return False, x0, x1, x2
        # Cramer's rule for J d = -f (rows: gradients of a, b, c)
        d0 = (-fa * (b1 * c2 - b2 * c1) - a1 * (-fb * c2 + b2 * fc) + a2 * (-fb * c1 + b1 * fc)) / det
        d1 = (a0 * (-fb * c2 + b2 * fc) + fa * (b0 * c2 - b2 * c0) + a2 * (-b0 * fc + fb * c0)) / det
        d2 = (a0 * (-b1 * fc + fb * c1) - a1 * (-b0 * fc + fb * c0) - fa * (b0 * c1 - b1 * c0)) / det
        x0 += d0
        x1 += d1
        x2 += d2
        if d0 * d0 + d1 * d1 + d2 * d2 < 1e-26:
            return True, x0, x1, x2
    return False, x0, x1, x2


@kernel
def triple_points(pts, pair, nb, cover, ns, zc, zr, ze, out_pts, out_abc):
    """Exposed triple points at the ends of exposed crease arcs: Newton from every exposed crease sample whose
    neighbour along the crease is covered by a third surface. Returns how many were written (duplicates merged)."""
    n = zc.shape[0]
    m = 0
    for s in range(ns):
        if cover[s] != -1:
            continue
        for q in range(2 * n):
            o = nb[s, q // n]
            c = q - (q // n) * n
            a, b = pair[s, 0], pair[s, 1]
            if (
                o < 0
                or cover[o] < 0
                or c in (a, b)
                or implicit(pts[o, 0], pts[o, 1], pts[o, 2], zc[c], zr[c], ze[c]) >= 0.0
            ):
                continue  # every third surface that covers the neighbour cuts the crease between the two samples
            ok, x0, x1, x2 = triple_point(pts[s, 0], pts[s, 1], pts[s, 2], zc, zr, ze, a, b, c)
            if not ok:
                continue
            exposed = True
            for k in range(n):
                if k != a and k != b and k != c and implicit(x0, x1, x2, zc[k], zr[k], ze[k]) < 0.0:
                    exposed = False
                    break
            if not exposed:
                continue
            dup = False
            for q in range(m):
                if (out_pts[q, 0] - x0) ** 2 + (out_pts[q, 1] - x1) ** 2 + (out_pts[q, 2] - x2) ** 2 < 1e-12:
                    dup = True
                    break
            if dup or m >= out_pts.shape[0]:
                continue
            out_pts[m, 0] = x0
            out_pts[m, 1] = x1
            out_pts[m, 2] = x2
            out_abc[m, 0] = a
            out_abc[m, 1] = b
            out_abc[m, 2] = c
            m += 1
    return m


def new_crease_buffers(cap: int):
    """Output arrays for :func:`crease_graph` with room for ``cap`` samples."""
    return (
        np.empty((cap, 3)),
        np.empty((cap, 2), dtype=np.int64),
        np.empty((cap, 2), dtype=np.int64),
        np.empty(cap, dtype=np.int64),
    )


@kernel
def pick(vals, px, py, pz, group, count, spacing, limit, chosen):
    """The best candidates by value (indices into the first ``count`` entries, written to ``chosen``), skipping
    any within ``spacing`` of a chosen one of the same group, at most ``limit``. Returns (number, truncated)."""
    used = np.empty(count, dtype=np.int64)
    for q in range(count):
        used[q] = 0
    m = 0
    for _ in range(count):
        c = -1
        for q in range(count):
            if not used[q] and (c < 0 or vals[q] < vals[c]):
                c = q
        if c < 0:
            break
        used[c] = 1
        near = False
        for p in range(m):
            o = chosen[p]
            if group[o] == group[c] and (px[o] - px[c]) ** 2 + (py[o] - py[c]) ** 2 + (pz[o] - pz[c]) ** 2 < spacing**2:
                near = True
                break
        if near:
            continue
        if m >= limit:
            return m, True
        chosen[m] = c
        m += 1
    return m, False


@kernel
def children(act_z, act_f, nact, nfl):
    """The four children of each active face (child j of face i is face j * nfl + i of the next level)."""
    cz = np.empty(4 * nact, dtype=np.int64)
    cf = np.empty(4 * nact, dtype=np.int64)
    for q in range(nact):
        for j in range(4):
            cz[4 * q + j] = act_z[q]
            cf[4 * q + j] = j * nfl + act_f[q]
    return cz, cf


@kernel
def minus_ones(n):
    """An int64 array of n times -1."""
    out = np.empty(n, dtype=np.int64)
    for q in range(n):
        out[q] = -1
    return out
