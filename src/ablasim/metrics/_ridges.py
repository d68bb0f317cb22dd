"""Numba kernels: ridges of the uncovered regime's search, where two zone ellipsoids are equally far from the
tumour surface (see :mod:`._uncovered`): samples on mesh edges, their neighbours along the ridge, local maxima,
and the 1-D refinement along the ridge."""

from __future__ import annotations

import numpy as np

from .._jit import kernel
from ..geometry._kernels.ellipsoid import signed_distance
from ._covered import REFINE_ITERS
from ._features import _link, arc_point
from ._refine import OBJ_NEG_DIST, SIDE_NEAREST, side_ok
from ._refine_curve import CURVE_RIDGE, STATUS_FAILED, refine_curve


@kernel
def _ridge_root(tc, tr, te, ua0, ua1, ua2, ub0, ub1, ub2, ci, ri, ei, cj, rj, ej):
    """Root of h = sd_i - sd_j along the tumour arc a -> b (h <= 0 at a, > 0 at b; Illinois). Returns the point
    and whether the end values bracket a root."""
    _, _, _, x0, x1, x2 = arc_point(tc, tr, te, ua0, ua1, ua2, ub0, ub1, ub2, 0.0)
    ha = signed_distance(x0, x1, x2, ci, ri, ei)[0] - signed_distance(x0, x1, x2, cj, rj, ej)[0]
    _, _, _, x0, x1, x2 = arc_point(tc, tr, te, ua0, ua1, ua2, ub0, ub1, ub2, 1.0)
    hb = signed_distance(x0, x1, x2, ci, ri, ei)[0] - signed_distance(x0, x1, x2, cj, rj, ej)[0]
    if ha > 0.0 or hb <= 0.0:
        return False, x0, x1, x2
    ta, tb = 0.0, 1.0
    side = 0
    for _ in range(100):
        tm = (ta * hb - tb * ha) / (hb - ha)
        _, _, _, x0, x1, x2 = arc_point(tc, tr, te, ua0, ua1, ua2, ub0, ub1, ub2, tm)
        hm = signed_distance(x0, x1, x2, ci, ri, ei)[0] - signed_distance(x0, x1, x2, cj, rj, ej)[0]
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
    return True, x0, x1, x2


@kernel
def _ridges(
    min_value, act_f, nact, face_edges, edges, verts, st, val, arg, tc, tr, te, zc, zr, ze, slot, rpts, rpair, rval, rnb
):
    """Ridge samples on the edges of the finest active faces whose ends have different nearest zones, linked to
    their neighbours along the ridge (the other such edge of the same pair in each face). Edges whose larger end
    value is below ``min_value`` are skipped (a ridge point on them is within the edge of an end, F is 1-Lipschitz:
    ``min_value`` is the window less the edge length). Returns the count."""
    m = 0
    for q in range(nact):
        f = act_f[q]
        sa = np.int64(-1)
        sb = np.int64(-1)
        for c in range(3):
            ed = face_edges[f, c]
            if slot[ed] == -1:
                slot[ed] = -2
                va, vb = edges[ed, 0], edges[ed, 1]
                if st[va] >= 2 and st[vb] >= 2 and arg[va] != arg[vb] and max(val[va], val[vb]) > max(min_value, 0.0):
                    if val[va] > val[vb]:
                        va, vb = vb, va
                    i, j = arg[va], arg[vb]  # h = sd_i - sd_j <= 0 at va, > 0 at vb
                    ok, x0, x1, x2 = _ridge_root(
                        tc,
                        tr,
                        te,
                        verts[va, 0],
                        verts[va, 1],
                        verts[va, 2],
                        verts[vb, 0],
                        verts[vb, 1],
                        verts[vb, 2],
                        zc[i],
                        zr[i],
                        ze[i],
                        zc[j],
                        zr[j],
                        ze[j],
                    )
                    di = signed_distance(x0, x1, x2, zc[i], zr[i], ze[i])[0]
                    if ok and di > 0.0 and side_ok(np.int64(SIDE_NEAREST), x0, x1, x2, zc, zr, ze, i, j, 0.0):
                        rpts[m, 0], rpts[m, 1], rpts[m, 2] = x0, x1, x2
                        rpair[m, 0], rpair[m, 1] = min(i, j), max(i, j)
                        rval[m] = di
                        rnb[m, 0] = rnb[m, 1] = -1
                        slot[ed] = m
                        m += 1
            s = slot[ed]
            if s >= 0:
                if sa < 0:
                    sa = s
                elif sb < 0 and rpair[s, 0] == rpair[sa, 0] and rpair[s, 1] == rpair[sa, 1]:
                    sb = s
        if sa >= 0 and sb >= 0:
            _link(rnb, sa, sb)
            _link(rnb, sb, sa)
    return m


@kernel
def _ridge_maxima(rpts, rpair, rval, rnb, nr, n, win, kv, kx, ky, kz, kg, ki):
    nk = 0
    any_in = False
    for s in range(nr):
        if rval[s] < win:
            continue
        any_in = True
        if (rnb[s, 0] < 0 or rval[rnb[s, 0]] <= rval[s]) and (rnb[s, 1] < 0 or rval[rnb[s, 1]] <= rval[s]):
            kv[nk] = -rval[s]
            kx[nk], ky[nk], kz[nk] = rpts[s, 0], rpts[s, 1], rpts[s, 2]
            kg[nk] = rpair[s, 0] * n + rpair[s, 1]
            ki[nk] = s
            nk += 1
    return nk, any_in


@kernel
def _refine_ridges(chosen, m, ki, rpts, rpair, tc, tr, te, zc, zr, ze, best):
    conv_all = True
    bx = by = bz = 0.0
    improved = False
    for p in range(m):
        s = ki[chosen[p]]
        i, j = rpair[s, 0], rpair[s, 1]
        rv, x0, x1, x2, status, conv = refine_curve(
            rpts[s, 0],
            rpts[s, 1],
            rpts[s, 2],
            np.int64(CURVE_RIDGE),
            zc[i],
            zr[i],
            ze[i],
            zc[j],
            zr[j],
            ze[j],
            tc,
            tr,
            te,
            0.0,
            np.int64(OBJ_NEG_DIST),
            zc[i],
            zr[i],
            ze[i],
            zc,
            zr,
            ze,
            i,
            j,
            np.int64(SIDE_NEAREST),
            np.int64(REFINE_ITERS),
        )
        if status == STATUS_FAILED:
            conv_all = False
            continue
        conv_all = conv_all and conv
        if -rv > best:
            best, bx, by, bz, improved = -rv, x0, x1, x2, True
    return best, bx, by, bz, improved, conv_all
