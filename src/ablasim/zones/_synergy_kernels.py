"""Numba kernel of the cold-synergy model (see :mod:`ablasim.zones.synergy` for the model and its assumptions)."""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from .._jit import kernel
from ..geometry._kernels.ellipsoid import signed_distance, signed_distance_warm


@kernel
def _single_probe(x0, x1, x2, p, iso_c, iso_r, iso_e, levels, n_iso, r0, tail, t_body, t_probe, grad):
    """Temperature-like field of probe p alone at x (equal to level L exactly on its isotherm-L ellipsoid);
    its gradient is written into grad (the gradient of an exact signed distance is the unit normal there)."""
    d0, _, _, _, ax, ay, az = signed_distance(x0, x1, x2, iso_c[p, 0], iso_r[p, 0], iso_e[p, 0])
    if d0 >= 0.0:
        g = (r0[p] / (r0[p] + d0)) * math.exp(-d0 / tail)
        dg = t_body * g * (1.0 / (r0[p] + d0) + 1.0 / tail)
        grad[0], grad[1], grad[2] = dg * ax, dg * ay, dg * az
        return t_body - t_body * g
    m = n_iso[p]
    if m == 1:
        # one isotherm: continue inside with the outside slope at the ice edge (C1); only the 0 degC level of
        # the merged field is meaningful for such models.
        slope = t_body * (1.0 / r0[p] + 1.0 / tail)
        if slope * d0 <= t_probe:
            grad[:] = 0.0
            return t_probe
        grad[0], grad[1], grad[2] = slope * ax, slope * ay, slope * az
        return slope * d0
    da = d0
    for k in range(1, m):
        db, _, _, _, bx, by, bz = signed_distance(x0, x1, x2, iso_c[p, k], iso_r[p, k], iso_e[p, k])
        if db >= 0.0 or k == m - 1:
            # between isotherm k-1 (inside, da < 0) and k (outside, db >= 0); inside the coldest one the same
            # two-surface formula extrapolates linearly (fraction > 1)
            span = levels[p, k] - levels[p, k - 1]
            den = db - da
            if den <= 0.0:
                grad[:] = 0.0
                return max(levels[p, k], t_probe)
            t = levels[p, k - 1] + span * (-da / den)
            if t <= t_probe:
                grad[:] = 0.0
                return t_probe
            c = span / (den * den)
            grad[0] = c * (-db * ax + da * bx)
            grad[1] = c * (-db * ay + da * by)
            grad[2] = c * (-db * az + da * bz)
            return t
        da, ax, ay, az = db, bx, by, bz
    grad[:] = 0.0
    return t_probe


@kernel
def _point(i, points, iso_c, iso_r, iso_e, levels, n_iso, r0, tail, t_body, t_probe, out, out_grad, g):
    total = t_body
    out_grad[i, 0] = out_grad[i, 1] = out_grad[i, 2] = 0.0
    for p in range(iso_c.shape[0]):
        total += (
            _single_probe(
                points[i, 0],
                points[i, 1],
                points[i, 2],
                p,
                iso_c,
                iso_r,
                iso_e,
                levels,
                n_iso,
                r0,
                tail,
                t_body,
                t_probe,
                g,
            )
            - t_body
        )
        out_grad[i, 0] += g[0]
        out_grad[i, 1] += g[1]
        out_grad[i, 2] += g[2]
    if total <= t_probe:
        out[i] = t_probe
        out_grad[i, 0] = out_grad[i, 1] = out_grad[i, 2] = 0.0
    else:
        out[i] = total


@kernel(entry=True)
def synergy_field(points, iso_c, iso_r, iso_e, levels, n_iso, r0, tail, t_body, t_probe, out, out_grad):
    """T(x) = t_body + sum over probes of (T_p(x) - t_body), never below t_probe; and its gradient."""
    g = np.empty(3)
    for i in range(points.shape[0]):
        _point(i, points, iso_c, iso_r, iso_e, levels, n_iso, r0, tail, t_body, t_probe, out, out_grad, g)


@kernel(entry=True, parallel=True)
def synergy_field_parallel(points, iso_c, iso_r, iso_e, levels, n_iso, r0, tail, t_body, t_probe, out, out_grad):
    """:func:`synergy_field` over threads (worth it for large batches only)."""
    for i in prange(points.shape[0]):
        g = np.empty(3)
        _point(i, points, iso_c, iso_r, iso_e, levels, n_iso, r0, tail, t_body, t_probe, out, out_grad, g)


@kernel
def _probe_warm(x0, x1, x2, p, iso_c, iso_r, iso_e, levels, n_iso, r0, tail, t_body, t_probe, uw):
    """:func:`_single_probe` returning (value, gradient) as scalars, its distances warm-started from ``uw[p, k]``
    (updated): the same formulas, for point-by-point searches."""
    d0, _, _, _, ax, ay, az, uw[p, 0] = signed_distance_warm(
        x0, x1, x2, iso_c[p, 0], iso_r[p, 0], iso_e[p, 0], uw[p, 0]
    )
    if d0 >= 0.0:
        g = (r0[p] / (r0[p] + d0)) * math.exp(-d0 / tail)
        dg = t_body * g * (1.0 / (r0[p] + d0) + 1.0 / tail)
        return t_body - t_body * g, dg * ax, dg * ay, dg * az
    m = n_iso[p]
    if m == 1:
        slope = t_body * (1.0 / r0[p] + 1.0 / tail)
        if slope * d0 <= t_probe:
            return t_probe, 0.0, 0.0, 0.0
        return slope * d0, slope * ax, slope * ay, slope * az
    da = d0
    for k in range(1, m):
        db, _, _, _, bx, by, bz, uw[p, k] = signed_distance_warm(
            x0, x1, x2, iso_c[p, k], iso_r[p, k], iso_e[p, k], uw[p, k]
        )
        if db >= 0.0 or k == m - 1:
            span = levels[p, k] - levels[p, k - 1]
            den = db - da
            if den <= 0.0:
                return max(levels[p, k], t_probe), 0.0, 0.0, 0.0
            t = levels[p, k - 1] + span * (-da / den)
            if t <= t_probe:
                return t_probe, 0.0, 0.0, 0.0
            c = span / (den * den)
            return t, c * (-db * ax + da * bx), c * (-db * ay + da * by), c * (-db * az + da * bz)
        da, ax, ay, az = db, bx, by, bz
    return t_probe, 0.0, 0.0, 0.0


@kernel
def field_warm(x0, x1, x2, fp, uw):
    """The merged field and its gradient at x: (T, g0, g1, g2). ``fp`` = (iso_c, iso_r, iso_e, levels, n_iso, r0,
    tail, t_body, t_probe) as in :func:`synergy_field`; ``uw`` (probes x isotherms) warm starts, -1: none."""
    iso_c, iso_r, iso_e, levels, n_iso, r0, tail, t_body, t_probe = fp
    total = t_body
    g0 = g1 = g2 = 0.0
    for p in range(iso_c.shape[0]):
        t, a0, a1, a2 = _probe_warm(x0, x1, x2, p, iso_c, iso_r, iso_e, levels, n_iso, r0, tail, t_body, t_probe, uw)
        total += t - t_body
        g0 += a0
        g1 += a1
        g2 += a2
    if total <= t_probe:
        return t_probe, 0.0, 0.0, 0.0
    return total, g0, g1, g2
