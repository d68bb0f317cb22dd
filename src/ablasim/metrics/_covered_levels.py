"""Numba kernels: the per-level steps of the covered regime's coarse-to-fine search (see :mod:`._covered`)."""

from __future__ import annotations

import math

import numpy as np

from .._jit import kernel
from ..geometry._kernels.ellipsoid import implicit, signed_distance_warm
from ._features import radius_bounds, surface_point


@kernel
def _windows(best, rho_p, rho_c, kappa_z, kappa_t):
    """Sampling bounds (patches, creases): how far above a smooth minimum its nearest sample can lie. A sample within
    rho of a minimum on a patch is at most ``(kappa_z + kappa_eff) rho^2 / 2`` above it (the tumour's parallel
    surface at distance s bends at most ``kappa_eff = kappa_t / (1 + kappa_t s)``; s >= best - 2 rho by the
    Lipschitz bound); never more than rho. Along a crease the samples are up to rho_c apart and the crease bends up to
    ``(kappa_a + kappa_b) / sin(angle)``, taken here as ``2 kappa_z`` (surfaces that meet at a shallow angle bend it
    more: then only the Lipschitz bound rho_c holds)."""
    s_min = max(best - 2.0 * rho_p, 0.0)
    k_eff = kappa_t / (1.0 + kappa_t * s_min)
    return (
        min(rho_p, 0.5 * (kappa_z + k_eff) * rho_p * rho_p),
        min(rho_c, 0.5 * (2.0 * kappa_z + k_eff) * rho_c * rho_c),
    )


@kernel
def _evaluate(act_z, act_f, nact, faces, base, verts, zc, zr, ze, tc, tr, te, emin, st, pos, val, expo, cdep, new):
    """Cheap bounds, exposure and covered depth at the vertices of the active faces not seen before (listed in
    ``new`` as zone * nv + vertex). Returns (count, smallest cheap upper bound of an exposed vertex)."""
    n = zc.shape[0]
    nv = verts.shape[0]
    temin = min(te[0], min(te[1], te[2]))
    temax = max(te[0], max(te[1], te[2]))
    best_hi = np.inf
    nnew = 0
    for q in range(nact):
        k = act_z[q]
        for c in range(3):
            v = faces[base + act_f[q], c]
            if st[k, v] != 0:
                continue
            x0, x1, x2 = surface_point(zc[k], zr[k], ze[k], verts[v, 0], verts[v, 1], verts[v, 2])
            pos[k, v, 0] = x0
            pos[k, v, 1] = x1
            pos[k, v, 2] = x2
            exposed = True
            dep = 0.0
            for j in range(n):
                if j != k:
                    fj = implicit(x0, x1, x2, zc[j], zr[j], ze[j])
                    if fj < 0.0:
                        exposed = False
                        dep = max(dep, (1.0 - math.sqrt(max(fj + 1.0, 0.0))) * emin[j])
            expo[k, v] = 1 if exposed else 0
            cdep[k, v] = dep
            lo, hi = radius_bounds(x0, x1, x2, tc, tr, te, temin, temax)
            val[k, v] = lo
            if exposed:
                best_hi = min(best_hi, hi)
            st[k, v] = 1
            new[nnew] = k * nv + v
            nnew += 1
    return nnew, best_hi


@kernel
def _exact(new, nnew, nv, thr, tc, tr, te, st, pos, val, expo, best, bx, by, bz, u_warm):
    """Exact distances at the new exposed vertices whose cheap lower bound is at most ``thr``; returns the
    updated best (value, point) and the warm start."""
    for q in range(nnew):
        k = new[q] // nv
        v = new[q] - k * nv
        if expo[k, v] and val[k, v] <= thr:
            sd, _, _, _, _, _, _, u_warm = signed_distance_warm(
                pos[k, v, 0], pos[k, v, 1], pos[k, v, 2], tc, tr, te, u_warm
            )
            val[k, v] = sd
            st[k, v] = 2
            if sd < best:
                best, bx, by, bz = sd, pos[k, v, 0], pos[k, v, 1], pos[k, v, 2]
    return best, bx, by, bz, u_warm


@kernel
def _prune(act_z, act_f, nact, faces, base, amax, cover_l, cdep, val, thr):
    """Keep (in place) the faces that may hold a value up to ``thr`` and are not certainly covered."""
    nkeep = 0
    for q in range(nact):
        k, f = act_z[q], act_f[q]
        r = amax[k] * cover_l
        a, b, c = faces[base + f, 0], faces[base + f, 1], faces[base + f, 2]
        if min(cdep[k, a], min(cdep[k, b], cdep[k, c])) > r:
            continue  # every point of the patch lies inside another zone ellipsoid
        if min(val[k, a], min(val[k, b], val[k, c])) - r > thr:
            continue
        act_z[nkeep] = k
        act_f[nkeep] = f
        nkeep += 1
    return nkeep
