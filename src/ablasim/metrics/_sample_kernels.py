"""Numba kernels: sample the zone boundary and the tumour surface for the exact path.

The zone is a union of ellipsoids ``Z = E_0 u ... u E_{n-1}``. Its boundary is made of the *exposed* parts of
each ellipsoid surface (points not strictly inside another ellipsoid) and of *creases*, curves where two surfaces
meet. Every ellipsoid surface is sampled through the same unit-sphere mesh; creases are found on mesh edges whose
end points lie on either side of another ellipsoid, by bisection along the edge's great-circle arc.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import kernel
from ..geometry._kernels.ellipsoid import implicit, signed_distance


@kernel
def _arc_point(c, r, e, ua, ub, t, u, x):
    """Point at fraction t of the great-circle arc ua -> ub (on the unit sphere), mapped onto the ellipsoid."""
    for k in range(3):
        u[k] = (1.0 - t) * ua[k] + t * ub[k]
    nn = math.sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2])
    u /= nn
    for k in range(3):
        x[k] = c[k] + r[k, 0] * e[0] * u[0] + r[k, 1] * e[1] * u[1] + r[k, 2] * e[2] * u[2]


@kernel
def _tumour_bounds(x0, x1, x2, tc, tr, te, temin, temax):
    """Cheap bounds (lo, hi) on the signed distance to the tumour from its ellipsoidal radius rho: the surfaces
    rho = 1 and rho = r are between |r - 1| e_min and |r - 1| e_max apart."""
    rho = math.sqrt(implicit(x0, x1, x2, tc, tr, te) + 1.0)
    if rho >= 1.0:
        return (rho - 1.0) * temin, (rho - 1.0) * temax
    return (rho - 1.0) * temax, (rho - 1.0) * temin


@kernel
def zone_samples(verts, zc, zr, ze, tc, tr, te, slack, out_pts, out_imp, out_val, out_exposed):
    """Map the mesh onto every zone ellipsoid; record every other zone's implicit value there; flag exposed
    samples; value = signed distance to the tumour.

    Exact distances are computed only where the cheap lower bound is within ``slack`` of the smallest cheap upper
    bound; elsewhere the value is that lower bound, which already exceeds every candidate for the minimum.
    """
    n = zc.shape[0]
    nv = verts.shape[0]
    temin = min(te[0], min(te[1], te[2]))
    temax = max(te[0], max(te[1], te[2]))
    best_hi = np.inf
    for i in range(n):
        for v in range(nv):
            for k in range(3):
                out_pts[i, v, k] = (
                    zc[i, k]
                    + zr[i, k, 0] * ze[i, 0] * verts[v, 0]
                    + zr[i, k, 1] * ze[i, 1] * verts[v, 1]
                    + zr[i, k, 2] * ze[i, 2] * verts[v, 2]
                )
            x0, x1, x2 = out_pts[i, v, 0], out_pts[i, v, 1], out_pts[i, v, 2]
            exposed = True
            for j in range(n):
                if j == i:
                    out_imp[i, j, v] = 0.0
                    continue
                f = implicit(x0, x1, x2, zc[j], zr[j], ze[j])
                out_imp[i, j, v] = f
                if f < 0.0:
                    exposed = False
            out_exposed[i, v] = exposed
            if exposed:
                lo, hi = _tumour_bounds(x0, x1, x2, tc, tr, te, temin, temax)
                out_val[i, v] = lo
                if hi < best_hi:
                    best_hi = hi
            else:
                out_val[i, v] = np.inf
    for i in range(n):
        for v in range(nv):
            if out_exposed[i, v] and out_val[i, v] <= best_hi + slack:
                out_val[i, v] = signed_distance(out_pts[i, v, 0], out_pts[i, v, 1], out_pts[i, v, 2], tc, tr, te)[0]


@kernel
def local_minima(val, ptr, idx, out):
    """out[v] = True where val[v] is finite and <= every neighbour's value (ties count as minima)."""
    for v in range(val.shape[0]):
        if not np.isfinite(val[v]):
            out[v] = False
            continue
        ok = True
        for p in range(ptr[v], ptr[v + 1]):
            if val[idx[p]] < val[v]:
                ok = False
                break
        out[v] = ok


@kernel
def count_crossings(edges, imp):
    """Number of (zone i, mesh edge, other zone j) triples whose edge crosses the surface of j."""
    n = imp.shape[0]
    total = 0
    for i in range(n):
        for j in range(n):
            if j == i:
                continue
            for ed in range(edges.shape[0]):
                if (imp[i, j, edges[ed, 0]] < 0.0) != (imp[i, j, edges[ed, 1]] < 0.0):
                    total += 1
    return total


@kernel
def crease_samples(verts, edges, imp, zc, zr, ze, tc, tr, te, out_pts, out_pair, out_val):
    """Points where the zone surfaces meet, one per crossing mesh edge, kept if exposed to every other zone.

    Root of implicit_j along the edge's arc on surface i by the Illinois (modified regula falsi) method. Returns
    how many were written; ``out_pair[m] = (i, j)``: the point lies on surface i (mesh) and surface j.
    """
    n = zc.shape[0]
    m = 0
    x = np.empty(3)
    u = np.empty(3)
    ua = np.empty(3)
    ub = np.empty(3)
    for i in range(n):
        for j in range(n):
            if j == i:
                continue
            for ed in range(edges.shape[0]):
                fa = imp[i, j, edges[ed, 0]]
                fb = imp[i, j, edges[ed, 1]]
                if (fa < 0.0) == (fb < 0.0):
                    continue
                ua[:] = verts[edges[ed, 0]]
                ub[:] = verts[edges[ed, 1]]
                ta, tb = 0.0, 1.0
                side = 0
                tm = 0.5
                for _ in range(100):
                    tm = (ta * fb - tb * fa) / (fb - fa)
                    _arc_point(zc[i], zr[i], ze[i], ua, ub, tm, u, x)
                    fm = implicit(x[0], x[1], x[2], zc[j], zr[j], ze[j])
                    if fm == 0.0 or tb - ta < 1e-13:
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
                    if abs(fm) < 1e-15:
                        break
                exposed = True
                for k in range(n):
                    if k != i and k != j and implicit(x[0], x[1], x[2], zc[k], zr[k], ze[k]) < 0.0:
                        exposed = False
                        break
                if not exposed:
                    continue
                out_pts[m] = x
                out_pair[m, 0] = i
                out_pair[m, 1] = j
                out_val[m] = signed_distance(x[0], x[1], x[2], tc, tr, te)[0]
                m += 1
    return m


@kernel
def _zone_bounds(x0, x1, x2, c, r, e):
    """Cheap bounds (lo, hi) on the signed distance to an ellipsoid from its ellipsoidal radius."""
    rho = math.sqrt(implicit(x0, x1, x2, c, r, e) + 1.0)
    emin = min(e[0], min(e[1], e[2]))
    emax = max(e[0], max(e[1], e[2]))
    if rho >= 1.0:
        return (rho - 1.0) * emin, (rho - 1.0) * emax
    return (rho - 1.0) * emax, (rho - 1.0) * emin


@kernel
def tumour_samples(points, zc, zr, ze, slack, out_f, out_arg, out_foot):
    """F(p) = min_k signed distance of p to zone ellipsoid k (= distance to the union when p is outside it), the
    argmin and the nearest point on that ellipsoid.

    With ``slack`` finite, F is computed exactly only where its cheap upper bound reaches within ``slack`` of the
    largest cheap lower bound (the neighbourhood of the maximum); elsewhere out_f holds the upper bound, below
    every candidate for the maximum, and out_arg the zone with the smallest upper bound.
    """
    n = zc.shape[0]
    npt = points.shape[0]
    best_lo = -np.inf
    for v in range(npt):
        flo = np.inf
        fhi = np.inf
        arg = 0
        for k in range(n):
            lo, hi = _zone_bounds(points[v, 0], points[v, 1], points[v, 2], zc[k], zr[k], ze[k])
            flo = min(flo, lo)
            if hi < fhi:
                fhi = hi
                arg = k
        out_f[v] = fhi
        out_arg[v] = arg
        if flo > best_lo:
            best_lo = flo
    for v in range(npt):
        if out_f[v] < best_lo - slack:
            out_foot[v, 0] = out_foot[v, 1] = out_foot[v, 2] = np.nan
            continue
        best = np.inf
        arg = -1
        for k in range(n):
            sd, fx, fy, fz, _, _, _ = signed_distance(points[v, 0], points[v, 1], points[v, 2], zc[k], zr[k], ze[k])
            if sd < best:
                best = sd
                arg = k
                out_foot[v, 0] = fx
                out_foot[v, 1] = fy
                out_foot[v, 2] = fz
        out_f[v] = best
        out_arg[v] = arg


@kernel
def local_maxima(val, ptr, idx, out):
    """out[v] = True where val[v] > 0 and >= every neighbour's value."""
    for v in range(val.shape[0]):
        if not val[v] > 0.0:
            out[v] = False
            continue
        ok = True
        for p in range(ptr[v], ptr[v + 1]):
            if val[idx[p]] > val[v]:
                ok = False
                break
        out[v] = ok


@kernel
def ridge_samples(verts, edges, arg, fval, min_value, edge_len, tc, tr, te, zc, zr, ze, out_pts, out_pair, out_val):
    """On tumour-mesh edges where the nearest zone ellipsoid changes (i -> j) outside the zone, the point where
    both are equally far (bisection on sd_i - sd_j along the arc), kept if no third ellipsoid is nearer.

    F is 1-Lipschitz along an edge no longer than ``edge_len``, so an edge whose end values stay below
    ``min_value - edge_len`` cannot carry a ridge point worth ``min_value``: it is skipped.
    """
    n = zc.shape[0]
    m = 0
    x = np.empty(3)
    u = np.empty(3)
    ua = np.empty(3)
    ub = np.empty(3)
    for ed in range(edges.shape[0]):
        va, vb = edges[ed, 0], edges[ed, 1]
        i, j = arg[va], arg[vb]
        if i == j or not (fval[va] > 0.0 or fval[vb] > 0.0) or max(fval[va], fval[vb]) + edge_len < min_value:
            continue
        ua[:] = verts[va]
        ub[:] = verts[vb]
        # root of h = sd_i - sd_j along the arc (h <= 0 at a, > 0 at b), Illinois method
        _arc_point(tc, tr, te, ua, ub, 0.0, u, x)
        ha = (
            signed_distance(x[0], x[1], x[2], zc[i], zr[i], ze[i])[0]
            - signed_distance(x[0], x[1], x[2], zc[j], zr[j], ze[j])[0]
        )
        _arc_point(tc, tr, te, ua, ub, 1.0, u, x)
        hb = (
            signed_distance(x[0], x[1], x[2], zc[i], zr[i], ze[i])[0]
            - signed_distance(x[0], x[1], x[2], zc[j], zr[j], ze[j])[0]
        )
        if ha > 0.0 or hb <= 0.0:
            continue  # the end values came from cheap bounds: no sign change of the exact difference
        ta, tb = 0.0, 1.0
        side = 0
        for _ in range(100):
            tm = (ta * hb - tb * ha) / (hb - ha)
            _arc_point(tc, tr, te, ua, ub, tm, u, x)
            hm = (
                signed_distance(x[0], x[1], x[2], zc[i], zr[i], ze[i])[0]
                - signed_distance(x[0], x[1], x[2], zc[j], zr[j], ze[j])[0]
            )
            if abs(hm) < 1e-12 or tb - ta < 1e-13:
                break
            if hm <= 0.0:
                ta, ha = tm, hm
                if side == -1:
                    hb *= 0.5
                side = -1
            else:
                tb, hb = tm, hm
                if side == 1:
                    ha *= 0.5
                side = 1
        di = signed_distance(x[0], x[1], x[2], zc[i], zr[i], ze[i])[0]
        ok = di > 0.0
        for k in range(n):
            if k != i and k != j and signed_distance(x[0], x[1], x[2], zc[k], zr[k], ze[k])[0] < di:
                ok = False
                break
        if not ok:
            continue
        out_pts[m] = x
        out_pair[m, 0] = i
        out_pair[m, 1] = j
        out_val[m] = di
        m += 1
    return m


@kernel
def triple_points(cpts, cpair, zc, zr, ze, seed_dist, out_pts, out_abc):
    """Exposed points where three zone surfaces meet (the ends of exposed crease arcs).

    Seeds: crease samples of surfaces (a, b) within ``seed_dist`` of a third surface c. Newton on
    ``f_a = f_b = f_c = 0`` (implicit functions, 3x3 Jacobian of their gradients); converged points are kept if no
    other ellipsoid covers them and they are not duplicates. Returns how many were written.
    """
    n = zc.shape[0]
    m = 0
    x = np.empty(3)
    jac = np.empty((3, 3))
    f = np.empty(3)
    for s in range(cpts.shape[0]):
        a, b = cpair[s, 0], cpair[s, 1]
        for c in range(n):
            if c in (a, b):
                continue
            if abs(signed_distance(cpts[s, 0], cpts[s, 1], cpts[s, 2], zc[c], zr[c], ze[c])[0]) > seed_dist:
                continue
            x[:] = cpts[s]
            ok = False
            for _ in range(40):
                for row in range(3):
                    k = a if row == 0 else (b if row == 1 else c)
                    w0, w1, w2 = x[0] - zc[k, 0], x[1] - zc[k, 1], x[2] - zc[k, 2]
                    y0 = (zr[k, 0, 0] * w0 + zr[k, 1, 0] * w1 + zr[k, 2, 0] * w2) / (ze[k, 0] * ze[k, 0])
                    y1 = (zr[k, 0, 1] * w0 + zr[k, 1, 1] * w1 + zr[k, 2, 1] * w2) / (ze[k, 1] * ze[k, 1])
                    y2 = (zr[k, 0, 2] * w0 + zr[k, 1, 2] * w1 + zr[k, 2, 2] * w2) / (ze[k, 2] * ze[k, 2])
                    for col in range(3):
                        jac[row, col] = 2.0 * (zr[k, col, 0] * y0 + zr[k, col, 1] * y1 + zr[k, col, 2] * y2)
                    f[row] = implicit(x[0], x[1], x[2], zc[k], zr[k], ze[k])
                det = (
                    jac[0, 0] * (jac[1, 1] * jac[2, 2] - jac[1, 2] * jac[2, 1])
                    - jac[0, 1] * (jac[1, 0] * jac[2, 2] - jac[1, 2] * jac[2, 0])
                    + jac[0, 2] * (jac[1, 0] * jac[2, 1] - jac[1, 1] * jac[2, 0])
                )
                if abs(det) < 1e-300:
                    break
                # Cramer's rule for jac dx = -f
                d0 = (
                    -f[0] * (jac[1, 1] * jac[2, 2] - jac[1, 2] * jac[2, 1])
                    - jac[0, 1] * (-f[1] * jac[2, 2] + jac[1, 2] * f[2])
                    + jac[0, 2] * (-f[1] * jac[2, 1] + jac[1, 1] * f[2])
                ) / det
                d1 = (
                    jac[0, 0] * (-f[1] * jac[2, 2] + jac[1, 2] * f[2])
                    + f[0] * (jac[1, 0] * jac[2, 2] - jac[1, 2] * jac[2, 0])
                    + jac[0, 2] * (-jac[1, 0] * f[2] + f[1] * jac[2, 0])
                ) / det
                d2 = (
                    jac[0, 0] * (-jac[1, 1] * f[2] + f[1] * jac[2, 1])
                    - jac[0, 1] * (-jac[1, 0] * f[2] + f[1] * jac[2, 0])
                    - f[0] * (jac[1, 0] * jac[2, 1] - jac[1, 1] * jac[2, 0])
                ) / det
                x[0] += d0
                x[1] += d1
                x[2] += d2
                if d0 * d0 + d1 * d1 + d2 * d2 < 1e-26:
                    ok = True
                    break
            if not ok:
                continue
            exposed = True
            for k in range(n):
                if k != a and k != b and k != c and implicit(x[0], x[1], x[2], zc[k], zr[k], ze[k]) < 0.0:
                    exposed = False
                    break
            if not exposed:
                continue
            dup = False
            for q in range(m):
                if (out_pts[q, 0] - x[0]) ** 2 + (out_pts[q, 1] - x[1]) ** 2 + (out_pts[q, 2] - x[2]) ** 2 < 1e-12:
                    dup = True
                    break
            if dup or m >= out_pts.shape[0]:
                continue
            out_pts[m] = x
            out_abc[m, 0] = a
            out_abc[m, 1] = b
            out_abc[m, 2] = c
            m += 1
    return m
