"""Numba kernels: the uncovered regime of the exact path, ``-max over tumour points p of F(p)``, where
``F(p) = min_k sd_k(p)`` is the distance from p to the zone when p lies outside it.

The tumour surface is searched coarse to fine over the icosphere hierarchy as in :mod:`._covered` (F is
1-Lipschitz: ``max(vertex values) + r_l`` bounds a face's patch from above; faces that cannot reach the window of
the maximum are dropped). On the finest faces: discrete local maxima of F (refined on the surface by Newton), and
**ridges**, where two zone ellipsoids are equally far (samples on mesh edges where the nearest zone changes,
linked along the ridge, refined by a 1-D search that stops where a third zone becomes nearer). With four or more
zone ellipsoids the farthest point can lie inside the tumour (enclosed by zones on all sides; with three or
fewer the distance functions' convexity rules this out): :mod:`._interior` searches the interior.
"""

from __future__ import annotations

import numpy as np

from .._jit import kernel
from ..geometry._kernels.ellipsoid import signed_distance_warm
from ._covered import MAX_CANDIDATES, REFINE_ITERS
from ._features import children, minus_ones, pick, radius_bounds, surface_point
from ._refine import OBJ_NEG_DIST, SIDE_NEAREST, refine_patch, side_ok
from ._ridges import _refine_ridges, _ridge_maxima, _ridges

FEATURE_PROTRUSION = 3
FEATURE_RIDGE = 4


@kernel
def zone_distance(x0, x1, x2, zc, zr, ze, emin, emax, uw):
    """F(x) = min_k sd_k(x), its argmin and foot; zones whose cheap lower bound reaches the current minimum are
    skipped (their distance cannot be the minimum). ``uw``: per-zone warm starts (updated; -1: none).
    Returns (F, argmin, f0, f1, f2)."""
    n = zc.shape[0]
    best = np.inf
    arg = -1
    f0 = f1 = f2 = np.nan
    for k in range(n):
        lo, _ = radius_bounds(x0, x1, x2, zc[k], zr[k], ze[k], emin[k], emax[k])
        if lo >= best:
            continue
        sd, a0, a1, a2, _, _, _, uw[k] = signed_distance_warm(x0, x1, x2, zc[k], zr[k], ze[k], uw[k])
        if sd < best:
            best, arg, f0, f1, f2 = sd, k, a0, a1, a2
    return best, arg, f0, f1, f2


@kernel
def _t_evaluate(act_f, nact, faces, base, verts, zc, zr, ze, tc, tr, te, emin, emax, st, pos, val, arg, new):
    """Tumour-surface vertices of the active faces not seen before: cheap upper bound on F (``val``) and the zone
    giving it. Returns (count, largest cheap lower bound on F)."""
    n = zc.shape[0]
    best_lo = -np.inf
    nnew = 0
    for q in range(nact):
        for c in range(3):
            v = faces[base + act_f[q], c]
            if st[v] != 0:
                continue
            x0, x1, x2 = surface_point(tc, tr, te, verts[v, 0], verts[v, 1], verts[v, 2])
            pos[v, 0] = x0
            pos[v, 1] = x1
            pos[v, 2] = x2
            flo = np.inf
            fhi = np.inf
            a = 0
            for k in range(n):
                lo, hi = radius_bounds(x0, x1, x2, zc[k], zr[k], ze[k], emin[k], emax[k])
                flo = min(flo, lo)
                if hi < fhi:
                    fhi, a = hi, k
            val[v] = fhi
            arg[v] = a
            best_lo = max(best_lo, flo)
            st[v] = 1
            new[nnew] = v
            nnew += 1
    return nnew, best_lo


@kernel
def _t_exact(new, nnew, thr, zc, zr, ze, emin, emax, st, pos, val, arg, foot, best, bv):
    """Exact F at the new vertices whose cheap upper bound reaches ``thr``. Returns the best (value, vertex)."""
    uw = np.empty(zc.shape[0])
    for k in range(zc.shape[0]):
        uw[k] = -1.0
    for q in range(nnew):
        v = new[q]
        if val[v] < thr:
            continue
        f, a, f0, f1, f2 = zone_distance(pos[v, 0], pos[v, 1], pos[v, 2], zc, zr, ze, emin, emax, uw)
        val[v] = f
        arg[v] = a
        foot[v, 0], foot[v, 1], foot[v, 2] = f0, f1, f2
        st[v] = 2
        if f > best:
            best, bv = f, v
    return best, bv


@kernel
def _t_prune(act_f, nact, faces, base, r, val, thr):
    nkeep = 0
    for q in range(nact):
        f = act_f[q]
        a, b, c = faces[base + f, 0], faces[base + f, 1], faces[base + f, 2]
        if max(val[a], max(val[b], val[c])) + r < thr:
            continue
        act_f[nkeep] = f
        nkeep += 1
    return nkeep


@kernel
def _t_maxima(act_f, nact, faces, base, nbr_ptr, nbr_idx, st, pos, val, arg, win, kv, kx, ky, kz, kg, ki):
    """Exact vertices with F > 0 in the window, no smaller than any neighbour. Returns the count."""
    nk = 0
    for q in range(nact):
        for c in range(3):
            v = faces[base + act_f[q], c]
            if st[v] != 2 or not val[v] > 0.0 or val[v] < win:
                continue
            st[v] = 3
            is_max = True
            for p in range(nbr_ptr[v], nbr_ptr[v + 1]):
                w = nbr_idx[p]
                if st[w] != 0 and val[w] > val[v]:
                    is_max = False
                    break
            if is_max:
                kv[nk] = -val[v]
                kx[nk], ky[nk], kz[nk] = pos[v, 0], pos[v, 1], pos[v, 2]
                kg[nk] = arg[v]
                ki[nk] = v
                nk += 1
    return nk


@kernel
def _refine_protrusions(chosen, m, kg, ki, verts, tc, tr, te, zc, zr, ze, best):
    """Newton on the tumour surface from each chosen vertex (maximising the distance to its nearest zone).
    Returns (best F, point, improved, all certified)."""
    conv_all = True
    bx = by = bz = 0.0
    improved = False
    for p in range(m):
        c = chosen[p]
        k, v = kg[c], ki[c]
        rv, x0, x1, x2, _, _, _, conv = refine_patch(
            verts[v, 0],
            verts[v, 1],
            verts[v, 2],
            tc,
            tr,
            te,
            np.int64(OBJ_NEG_DIST),
            zc[k],
            zr[k],
            ze[k],
            0.0,
            0.0,
            0.0,
            np.int64(REFINE_ITERS),
        )
        if side_ok(np.int64(SIDE_NEAREST), x0, x1, x2, zc, zr, ze, k, np.int64(-1), 1e-12):
            conv_all = conv_all and conv
            if -rv > best:
                best, bx, by, bz, improved = -rv, x0, x1, x2, True
        # otherwise the basin continues across a ridge, which is searched on its own
    return best, bx, by, bz, improved, conv_all


@kernel(entry=True)
def uncovered_search(
    verts,
    faces,
    face_off,
    cover,
    edge_ang,
    face_edges,
    edges,
    nbr_ptr,
    nbr_idx,
    level,
    zc,
    zr,
    ze,
    tc,
    tr,
    te,
    kappa_t,
    kappa_z,
    out,
):
    """Largest distance F from the tumour surface to the zone (see the module docstring).

    ``out`` (float64, 13): status (1: a tumour point outside the zone was found, 0: none), -F, tumour point (3),
    zone point (3), feature, sampling bound of the surface, ridge Lipschitz radius (0 if no ridge sample is in the
    window), all candidates refined and converged (0/1), number of candidates refined.
    """
    n = zc.shape[0]
    nv = verts.shape[0]
    emin = np.empty(n)
    emax = np.empty(n)
    for k in range(n):
        emin[k] = min(ze[k, 0], min(ze[k, 1], ze[k, 2]))
        emax[k] = max(ze[k, 0], max(ze[k, 1], ze[k, 2]))
    amax = max(te[0], max(te[1], te[2]))
    rho_t = amax * cover[level]
    rho_r = amax * edge_ang[level]
    # a sample within rho of a smooth maximum on the surface is at most kappa_t rho^2 / 2 below it (F's second
    # derivative along the surface is >= -kappa_t: the distances to convex zones are convex); along a ridge the
    # samples are up to rho_r apart and F bends there no more than the surface and the zones do (taken as
    # kappa_t + kappa_z; a ridge that turns faster is covered by the Lipschitz bound only). Never more than rho.
    b_t = min(rho_t, 0.5 * kappa_t * rho_t * rho_t)
    b_r = min(rho_r, 0.5 * (kappa_t + kappa_z) * rho_r * rho_r)
    slack = 2.0 * max(b_t, b_r) + 1e-9  # faces kept: those that may reach the candidate windows
    st = np.empty(nv, dtype=np.int64)
    for v in range(nv):
        st[v] = 0
    pos = np.empty((nv, 3))
    val = np.empty(nv)
    arg = np.empty(nv, dtype=np.int64)
    foot = np.empty((nv, 3))
    best = -np.inf
    bv = -1
    best_lo = -np.inf
    l0 = min(2, level)
    nact = face_off[l0 + 1] - face_off[l0]
    act_f = np.empty(nact, dtype=np.int64)
    for q in range(nact):
        act_f[q] = q
    act_z = np.empty(nact, dtype=np.int64)
    for q in range(nact):
        act_z[q] = 0
    for lv in range(l0, level + 1):
        base = face_off[lv]
        new = np.empty(3 * nact, dtype=np.int64)
        nnew, lo = _t_evaluate(
            act_f, nact, faces, base, verts, zc, zr, ze, tc, tr, te, emin, emax, st, pos, val, arg, new
        )
        best_lo = max(best_lo, lo)
        best, bv = _t_exact(
            new, nnew, max(best, best_lo) - slack, zc, zr, ze, emin, emax, st, pos, val, arg, foot, best, bv
        )
        nact = _t_prune(act_f, nact, faces, base, amax * cover[lv], val, max(best, best_lo) - slack)
        if lv < level:
            act_z, act_f = children(act_z, act_f, nact, face_off[lv + 1] - base)
            nact = 4 * nact
    out[0] = 0.0
    if not best > 0.0:
        return
    base = face_off[level]
    bx, by, bz = pos[bv, 0], pos[bv, 1], pos[bv, 2]
    feature = FEATURE_PROTRUSION
    size = 3 * nact + 1
    kv = np.empty(size)
    kx = np.empty(size)
    ky = np.empty(size)
    kz = np.empty(size)
    kg = np.empty(size, dtype=np.int64)
    ki = np.empty(size, dtype=np.int64)
    chosen = np.empty(size, dtype=np.int64)
    nk = _t_maxima(
        act_f, nact, faces, base, nbr_ptr, nbr_idx, st, pos, val, arg, best - 2.0 * b_t - 1e-9, kv, kx, ky, kz, kg, ki
    )
    m, trunc = pick(kv, kx, ky, kz, kg, nk, rho_t, MAX_CANDIDATES, chosen)
    nref = m
    rv, x0, x1, x2, improved, conv_all = _refine_protrusions(chosen, m, kg, ki, verts, tc, tr, te, zc, zr, ze, best)
    if improved:
        best, bx, by, bz = rv, x0, x1, x2
    conv_all = conv_all and not trunc
    ridge_in = False
    if n > 1:
        slot = minus_ones(edges.shape[0])
        cap = 3 * nact + 1
        rpts = np.empty((cap, 3))
        rpair = np.empty((cap, 2), dtype=np.int64)
        rval = np.empty(cap)
        rnb = np.empty((cap, 2), dtype=np.int64)
        nr = _ridges(
            best - 2.0 * b_r - rho_r,
            act_f,
            nact,
            face_edges,
            edges,
            verts,
            st,
            val,
            arg,
            tc,
            tr,
            te,
            zc,
            zr,
            ze,
            slot,
            rpts,
            rpair,
            rval,
            rnb,
        )
        for s in range(nr):
            if rval[s] > best:
                best, bx, by, bz, feature = rval[s], rpts[s, 0], rpts[s, 1], rpts[s, 2], FEATURE_RIDGE
        nk, ridge_in = _ridge_maxima(rpts, rpair, rval, rnb, nr, n, best - 2.0 * b_r - 1e-9, kv, kx, ky, kz, kg, ki)
        m, trunc = pick(kv, kx, ky, kz, kg, nk, rho_r, MAX_CANDIDATES, chosen)
        nref += m
        rv, x0, x1, x2, improved, conv_r = _refine_ridges(chosen, m, ki, rpts, rpair, tc, tr, te, zc, zr, ze, best)
        if improved:
            best, bx, by, bz, feature = rv, x0, x1, x2, FEATURE_RIDGE
        conv_all = conv_all and conv_r and not trunc
    f, _, f0, f1, f2 = zone_distance(bx, by, bz, zc, zr, ze, emin, emax, emin * 0.0 - 1.0)
    out[0] = 1.0
    out[1] = -f
    out[2], out[3], out[4] = bx, by, bz
    out[5], out[6], out[7] = f0, f1, f2
    out[8] = feature
    out[9] = b_t
    out[10] = b_r if ridge_in else 0.0
    out[11] = 1.0 if conv_all else 0.0
    out[12] = nref
