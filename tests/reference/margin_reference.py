"""Slow, obviously-correct reference for the minimum margin of an ellipsoid tumour against a union of ellipsoids.

Independent of ablasim's kernels (numpy and scipy only):

* point-to-ellipsoid distance by plain bisection of the Lagrange equation (monotone on ``t > -e_min^2``), checked
  in tests against a dense parametric grid minimised with Nelder-Mead;
* the zone boundary sampled densely on a (theta, phi) grid, creases by bisection along grid lines, tumour
  surface likewise;
* the best samples polished with Nelder-Mead in surface coordinates (penalising points that leave the
  exposed boundary).

Ellipsoids are passed as tuples ``(center (3,), rotation (3, 3) columns = axes, semi_axes (3,))``.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize


def to_local(points, ell):
    c, r, _e = ell
    return (np.atleast_2d(points) - c) @ r


def inside(points, ell):
    _c, _r, e = ell
    y = to_local(points, ell) / e
    return (y**2).sum(axis=1) <= 1.0


def distance(points, ell, iters=200):
    """Signed distance (> 0 outside) by bisection on F(t) = sum (e y / (e^2 + t))^2 - 1 over t > -e_min^2."""
    _c, _r, e = ell
    y = np.abs(to_local(points, ell))
    emin2 = e.min() ** 2
    lo = np.full(len(y), -emin2 * (1 - 1e-15))
    hi = np.full(len(y), np.linalg.norm(y, axis=1).max() * e.max() + e.max() ** 2 + 1.0)
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        f = ((e * y / (e**2 + mid[:, None])) ** 2).sum(axis=1) - 1.0
        big = f > 0
        lo = np.where(big, mid, lo)
        hi = np.where(big, hi, mid)
    t = 0.5 * (lo + hi)
    x = e**2 * y / (e**2 + t[:, None])
    d = np.linalg.norm(x - y, axis=1)
    return np.where(inside(points, ell), -d, d)


def distance_by_grid(point, ell, n=400):
    """Unsigned distance to the surface by a dense (theta, phi) grid polished with Nelder-Mead."""
    _c, _r, _e = ell
    th, ph = np.meshgrid(np.linspace(0, np.pi, n), np.linspace(0, 2 * np.pi, 2 * n))
    d = np.linalg.norm(surface(th.ravel(), ph.ravel(), ell) - point, axis=1)
    i = int(np.argmin(d))
    f = lambda a: np.linalg.norm(surface(np.array([a[0]]), np.array([a[1]]), ell)[0] - point)
    res = minimize(
        f, [th.ravel()[i], ph.ravel()[i]], method="Nelder-Mead", options=dict(xatol=1e-12, fatol=1e-14, maxiter=4000)
    )
    return min(res.fun, d[i])


def surface(theta, phi, ell):
    c, r, e = ell
    u = np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)], axis=-1)
    return c + (u * e) @ r.T


def _grid(ell, spacing):
    _c, _r, e = ell
    n_th = int(np.ceil(np.pi * e.max() / spacing)) + 1
    n_ph = 2 * n_th
    th, ph = np.meshgrid(np.linspace(0, np.pi, n_th), np.linspace(0, 2 * np.pi, n_ph, endpoint=False), indexing="ij")
    return th, ph


def _exposed(points, zones, skip):
    ok = np.ones(len(points), dtype=bool)
    for k, z in enumerate(zones):
        if k not in skip:
            _c, _r, e = z
            y = to_local(points, z) / e
            ok &= (y**2).sum(axis=1) >= 1.0
    return ok


def zone_boundary_samples(zones, spacing):
    """Dense samples of the exposed zone boundary, crease points included. Returns (points, zone index)."""
    pts, owner = [], []
    for i, z in enumerate(zones):
        th, ph = _grid(z, spacing)
        p = surface(th.ravel(), ph.ravel(), z)
        keep = _exposed(p, zones, {i})
        pts.append(p[keep])
        owner.append(np.full(keep.sum(), i))
        # creases: bisection along theta-lines and phi-lines of this surface's grid
        for j, zj in enumerate(zones):
            if j == i:
                continue
            for axis in (0, 1):
                a_th, b_th = (th[:-1], th[1:]) if axis == 0 else (th, np.roll(th, -1, axis=1))
                a_ph, b_ph = (ph[:-1], ph[1:]) if axis == 0 else (ph, np.roll(ph, -1, axis=1))
                a_th, b_th, a_ph, b_ph = (v.ravel() for v in (a_th, b_th, a_ph, b_ph))
                b_ph = np.where(b_ph < a_ph - np.pi, b_ph + 2 * np.pi, b_ph)
                fa = inside(surface(a_th, a_ph, z), zj)
                fb = inside(surface(b_th, b_ph, z), zj)
                sel = fa != fb
                lo, hi = np.zeros(sel.sum()), np.ones(sel.sum())
                ath, bth, aph, bph, fas = a_th[sel], b_th[sel], a_ph[sel], b_ph[sel], fa[sel]
                for _ in range(60):
                    mid = 0.5 * (lo + hi)
                    fm = inside(surface(ath + mid * (bth - ath), aph + mid * (bph - aph), z), zj)
                    same = fm == fas
                    lo = np.where(same, mid, lo)
                    hi = np.where(same, hi, mid)
                mid = 0.5 * (lo + hi)
                cp = surface(ath + mid * (bth - ath), aph + mid * (bph - aph), z)
                keep = _exposed(cp, zones, {i, j})
                pts.append(cp[keep])
                owner.append(np.full(keep.sum(), i))
    return np.concatenate(pts), np.concatenate(owner)


def reference_margin(tumor, zones, spacing=0.1, polish=8):
    """Minimum margin (mm): positive = distance between tumour and zone boundary (tumour covered);
    negative = -max over the tumour of the distance to the zone (the protrusion)."""
    zb, owner = zone_boundary_samples(zones, spacing)
    dist_to_t = distance(zb, tumor)
    center_in = any(inside(tumor[0][None, :], z)[0] for z in zones)
    if dist_to_t.min() > 0 and center_in:
        best = float(dist_to_t.min())
        for idx in np.argsort(dist_to_t)[:polish]:
            z = zones[owner[idx]]
            yl = to_local(zb[idx], z)[0] / z[2]
            th0, ph0 = np.arccos(np.clip(yl[2], -1, 1)), np.arctan2(yl[1], yl[0])

            def f(a, z=z, i=owner[idx]):
                p = surface(np.array([a[0]]), np.array([a[1]]), z)
                pen = 0.0 if _exposed(p, zones, {i})[0] else 1e3
                return distance(p, tumor)[0] + pen

            res = minimize(f, [th0, ph0], method="Nelder-Mead", options=dict(xatol=1e-10, fatol=1e-12))
            best = min(best, float(res.fun))
        return best
    # uncovered: protrusion, from tumour-surface samples and interior samples
    th, ph = _grid(tumor, spacing)
    tp = surface(th.ravel(), ph.ravel(), tumor)
    f = np.min([distance(tp, z) for z in zones], axis=0)
    best = float(f.max())
    for idx in np.argsort(-f)[:polish]:
        yl = to_local(tp[idx], tumor)[0] / tumor[2]
        x0 = [np.arccos(np.clip(yl[2], -1, 1)), np.arctan2(yl[1], yl[0])]
        g = lambda a: -min(distance(surface(np.array([a[0]]), np.array([a[1]]), tumor), z)[0] for z in zones)
        res = minimize(g, x0, method="Nelder-Mead", options=dict(xatol=1e-10, fatol=1e-12))
        best = max(best, -float(res.fun))
    return -best
