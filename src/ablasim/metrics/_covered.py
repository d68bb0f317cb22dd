"""Numba kernels: the covered regime of the exact path, ``min over zone-boundary points q of sd_T(q)``.

Coarse-to-fine search (branch and bound) over the icosphere hierarchy of every zone surface: a face of level ``l``
maps to a surface patch each of whose points lies within ``r_l = a_max cover_l`` of one of its vertices, and the
distance to the tumour is 1-Lipschitz, so ``min(vertex values) - r_l`` bounds the patch from below (cheap
ellipsoidal-radius bounds stand in for exact distances where they suffice). A face is dropped when that bound
exceeds the best boundary value found plus the window, or when every vertex lies deeper than ``r_l`` inside
another zone ellipsoid (the patch is covered). Children of the remaining faces are searched at the next level;
the finest level is the one whose covering radius meets ``resolution_mm``. Every point whose value lies within
the window of the minimum is therefore sampled exactly as densely as a full sampling at that level would.

On the remaining finest faces: discrete local minima of exposed vertices (patches) and of crease samples along the
crease (samples are linked to their neighbours along it). Candidates inside the window are refined
(:mod:`._refine`, :mod:`._refine_curve`); a crease search that reaches the end of an exposed crease arc stops at
the triple point there.

numba's compile time grows faster than linearly with a function's size, so the search is cut into small kernels;
only :func:`covered_search` is called from Python (one compiled entry point, one cache entry to load).
"""

from __future__ import annotations

import numpy as np

from .._jit import kernel
from ..geometry._kernels.ellipsoid import signed_distance, signed_distance_warm
from ._covered_levels import _evaluate, _exact, _prune, _windows
from ._features import children, crease_graph, minus_ones, pick
from ._refine import OBJ_DIST, SIDE_EXPOSED, refine_patch, side_ok
from ._refine_curve import CURVE_CREASE, STATUS_ENDPOINT, STATUS_FAILED, refine_curve

REFINE_ITERS = 60
MAX_CANDIDATES = 12  # refined candidates per kind; more (after merging near-duplicates) leave the bound sampled
FEATURE_SURFACE = 0
FEATURE_CREASE = 1
FEATURE_TRIPLE = 2


@kernel
def _patch_minima(act_z, act_f, nact, faces, base, nbr_ptr, nbr_idx, st, pos, val, expo, win, kv, kx, ky, kz, kg, ki):
    """Exposed finest vertices in the window that are no larger than any exposed neighbour; returns the count."""
    nk = 0
    for q in range(nact):
        k = act_z[q]
        for c in range(3):
            v = faces[base + act_f[q], c]
            if st[k, v] != 2 or not expo[k, v] or val[k, v] > win:
                continue
            st[k, v] = 3  # listed once
            is_min = True
            for p in range(nbr_ptr[v], nbr_ptr[v + 1]):
                w = nbr_idx[p]
                if st[k, w] != 0 and expo[k, w] and val[k, w] < val[k, v]:
                    is_min = False
                    break
            if is_min:
                kv[nk] = val[k, v]
                kx[nk], ky[nk], kz[nk] = pos[k, v, 0], pos[k, v, 1], pos[k, v, 2]
                kg[nk] = k
                ki[nk] = v
                nk += 1
    return nk


@kernel
def _crease_values(cpts, ccov, ncs, tc, tr, te, cval, best, bx, by, bz, u_warm):
    """Exact distances at the exposed crease samples (inf elsewhere); updates the best sample."""
    found = False
    for s in range(ncs):
        cval[s] = np.inf
        if ccov[s] == -1:
            sd, _, _, _, _, _, _, u_warm = signed_distance_warm(cpts[s, 0], cpts[s, 1], cpts[s, 2], tc, tr, te, u_warm)
            cval[s] = sd
            if sd < best:
                best, bx, by, bz = sd, cpts[s, 0], cpts[s, 1], cpts[s, 2]
                found = True
    return best, bx, by, bz, found


@kernel
def _crease_minima(cpts, cpair, cnb, ccov, cval, ncs, n, win, kv, kx, ky, kz, kg, ki):
    """Exposed crease samples in the window no larger than their exposed neighbours along the crease. Returns
    (count, whether any exposed crease sample is in the window)."""
    nk = 0
    any_in = False
    for s in range(ncs):
        if ccov[s] != -1 or cval[s] > win:
            continue
        any_in = True
        is_min = True
        for side in range(2):
            o = cnb[s, side]
            if o >= 0 and ccov[o] == -1 and cval[o] < cval[s]:
                is_min = False
        if is_min:
            kv[nk] = cval[s]
            kx[nk], ky[nk], kz[nk] = cpts[s, 0], cpts[s, 1], cpts[s, 2]
            kg[nk] = cpair[s, 0] * n + cpair[s, 1]
            ki[nk] = s
            nk += 1
    return nk, any_in


@kernel
def _refine_patches(chosen, m, kg, ki, verts, nbr_ptr, nbr_idx, st, expo, zc, zr, ze, tc, tr, te, best):
    """Riemannian Newton from each chosen vertex. Returns (best value, point, all certified)."""
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
            zc[k],
            zr[k],
            ze[k],
            np.int64(OBJ_DIST),
            tc,
            tr,
            te,
            0.0,
            0.0,
            0.0,
            np.int64(REFINE_ITERS),
        )
        if side_ok(np.int64(SIDE_EXPOSED), x0, x1, x2, zc, zr, ze, k, np.int64(-1), 1e-12):
            conv_all = conv_all and conv
            if rv < best:
                best, bx, by, bz, improved = rv, x0, x1, x2, True
        else:
            # Left the exposed patch: fine if the sample borders a covered vertex (the basin continues to a crease,
            # which is searched on its own); otherwise this basin is not certified.
            borders = False
            for q in range(nbr_ptr[v], nbr_ptr[v + 1]):
                w = nbr_idx[q]
                if st[k, w] != 0 and not expo[k, w]:
                    borders = True
            conv_all = conv_all and borders
    return best, bx, by, bz, improved, conv_all


@kernel
def _refine_creases(chosen, m, ki, cpts, cpair, zc, zr, ze, tc, tr, te, best):
    """1-D search along the crease from each chosen sample. Returns (best value, point, feature or -1, certified)."""
    conv_all = True
    bx = by = bz = 0.0
    feature = -1
    for p in range(m):
        s = ki[chosen[p]]
        a, b = cpair[s, 0], cpair[s, 1]
        rv, x0, x1, x2, status, conv = refine_curve(
            cpts[s, 0],
            cpts[s, 1],
            cpts[s, 2],
            np.int64(CURVE_CREASE),
            zc[a],
            zr[a],
            ze[a],
            zc[b],
            zr[b],
            ze[b],
            tc,
            tr,
            te,
            0.0,
            np.int64(OBJ_DIST),
            tc,
            tr,
            te,
            zc,
            zr,
            ze,
            a,
            b,
            np.int64(SIDE_EXPOSED),
            np.int64(REFINE_ITERS),
        )
        if status == STATUS_FAILED:
            conv_all = False
            continue
        conv_all = conv_all and conv
        if rv < best:
            best, bx, by, bz = rv, x0, x1, x2
            feature = FEATURE_TRIPLE if status == STATUS_ENDPOINT else FEATURE_CREASE
    return best, bx, by, bz, feature, conv_all


@kernel(entry=True)
def covered_search(
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
    kappa_z,
    kappa_t,
    out,
):
    """Minimum of the tumour's signed distance over the zone boundary (see the module docstring).

    ``out`` (float64, 13): status (1: covered result; 0: the zone boundary reaches into the tumour), value,
    tumour point (3), zone point (3), feature, sampling bound of the patches, crease Lipschitz radius (0 if no
    crease sample is in the window), all candidates refined and converged (0/1), number of candidates refined.
    """
    n = zc.shape[0]
    nv = verts.shape[0]
    amax = np.empty(n)
    emin = np.empty(n)
    for k in range(n):
        amax[k] = max(ze[k, 0], max(ze[k, 1], ze[k, 2]))
        emin[k] = min(ze[k, 0], min(ze[k, 1], ze[k, 2]))
    amax_all = 0.0
    for k in range(n):
        amax_all = max(amax_all, amax[k])
    rho_p = amax_all * cover[level]
    rho_c = amax_all * edge_ang[level]
    st = np.empty((n, nv), dtype=np.int64)  # 0: not evaluated, 1: cheap bounds, 2: exact, 3: listed candidate
    for k in range(n):
        for v in range(nv):
            st[k, v] = 0
    pos = np.empty((n, nv, 3))
    val = np.empty((n, nv))
    expo = np.empty((n, nv), dtype=np.int64)  # 1: not inside another zone ellipsoid
    cdep = np.empty((n, nv))
    best = np.inf  # best exact exposed value, attained at (bx, by, bz)
    bx = by = bz = 0.0
    best_hi = np.inf  # cheap upper bound on the minimum
    u_warm = -1.0
    l0 = min(2, level)
    nf0 = face_off[l0 + 1] - face_off[l0]
    act_z = np.empty(n * nf0, dtype=np.int64)
    act_f = np.empty(n * nf0, dtype=np.int64)
    for q in range(n * nf0):
        act_z[q] = q // nf0
        act_f[q] = q - (q // nf0) * nf0
    nact = n * nf0
    for lv in range(l0, level + 1):
        # keep every face that may hold a value within the candidate window of the minimum (see below)
        slack = 2.0 * max(_windows(best, rho_p, rho_c, kappa_z, kappa_t)) + 1e-9
        base = face_off[lv]
        new = np.empty(3 * nact, dtype=np.int64)
        nnew, hi = _evaluate(
            act_z, act_f, nact, faces, base, verts, zc, zr, ze, tc, tr, te, emin, st, pos, val, expo, cdep, new
        )
        best_hi = min(best_hi, hi)
        best, bx, by, bz, u_warm = _exact(
            new, nnew, nv, min(best, best_hi) + slack, tc, tr, te, st, pos, val, expo, best, bx, by, bz, u_warm
        )
        if best < 0.0:  # the zone boundary reaches into the tumour: not covered
            out[0] = 0.0
            out[1] = best
            out[5], out[6], out[7] = bx, by, bz
            return
        nact = _prune(act_z, act_f, nact, faces, base, amax, cover[lv], cdep, val, min(best, best_hi) + slack)
        if lv < level:
            act_z, act_f = children(act_z, act_f, nact, face_off[lv + 1] - base)
            nact = 4 * nact
    # ---- finest level: samples and candidates ---------------------------------------------------------------------
    base = face_off[level]
    feature = FEATURE_SURFACE
    cap = 2 * nact * max(n - 1, 1) + 16
    cpts = np.empty((cap, 3))
    cpair = np.empty((cap, 2), dtype=np.int64)
    cnb = np.empty((cap, 2), dtype=np.int64)
    ccov = np.empty(cap, dtype=np.int64)
    cval = np.empty(cap)
    ncs = nact - nact
    if n > 1:
        slot = minus_ones(edges.shape[0])
        ncs = crease_graph(act_z, act_f, nact, face_edges, edges, verts, zc, zr, ze, slot, cpts, cpair, cnb, ccov)
        if ncs < 0:
            ncs = cap
        best, bx, by, bz, found = _crease_values(cpts, ccov, ncs, tc, tr, te, cval, best, bx, by, bz, u_warm)
        if found:
            feature = FEATURE_CREASE
    b_p, b_c = _windows(best, rho_p, rho_c, kappa_z, kappa_t)
    size = 3 * nact + ncs + 1
    kv = np.empty(size)
    kx = np.empty(size)
    ky = np.empty(size)
    kz = np.empty(size)
    kg = np.empty(size, dtype=np.int64)
    ki = np.empty(size, dtype=np.int64)
    chosen = np.empty(size, dtype=np.int64)
    nk = _patch_minima(
        act_z,
        act_f,
        nact,
        faces,
        base,
        nbr_ptr,
        nbr_idx,
        st,
        pos,
        val,
        expo,
        best + 2.0 * b_p + 1e-9,
        kv,
        kx,
        ky,
        kz,
        kg,
        ki,
    )
    m, trunc_p = pick(kv, kx, ky, kz, kg, nk, rho_p, MAX_CANDIDATES, chosen)
    nref = m
    rv, x0, x1, x2, improved, conv_p = _refine_patches(
        chosen, m, kg, ki, verts, nbr_ptr, nbr_idx, st, expo, zc, zr, ze, tc, tr, te, best
    )
    if improved:
        best, bx, by, bz, feature = rv, x0, x1, x2, FEATURE_SURFACE
    conv_all = conv_p and not trunc_p
    crease_in_window = False
    if ncs > 0:
        nk, crease_in_window = _crease_minima(
            cpts, cpair, cnb, ccov, cval, ncs, n, best + 2.0 * b_c + 1e-9, kv, kx, ky, kz, kg, ki
        )
        m, trunc_c = pick(kv, kx, ky, kz, kg, nk, rho_c, MAX_CANDIDATES, chosen)
        nref += m
        rv, x0, x1, x2, feat, conv_c = _refine_creases(chosen, m, ki, cpts, cpair, zc, zr, ze, tc, tr, te, best)
        if feat >= 0:
            best, bx, by, bz, feature = rv, x0, x1, x2, feat
        conv_all = conv_all and conv_c and not trunc_c
    _, f0, f1, f2, _, _, _ = signed_distance(bx, by, bz, tc, tr, te)
    out[0] = 1.0 if best > 0.0 else 0.0
    out[1] = best
    out[2], out[3], out[4] = f0, f1, f2
    out[5], out[6], out[7] = bx, by, bz
    out[8] = feature
    out[9] = b_p
    out[10] = b_c if crease_in_window else 0.0
    out[11] = 1.0 if conv_all else 0.0
    out[12] = nref
