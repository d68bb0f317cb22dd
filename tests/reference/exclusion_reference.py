"""Slow, obviously-correct reference for the minimum margin over the part of the tumour surface that capsule
exclusion leaves in (organ an ellipsoid).

Independent of ablasim's kernels (numpy and scipy only, distances from :mod:`reference.margin_reference`):

* the margin function m(p) of a tumour-surface point: outside the zone, minus the exact distance to the nearest
  zone ellipsoid; inside, the distance to the nearest of dense samples of the zone's exposed boundary (creases
  included), which exceeds the true distance by the sampling error only (second order at a smooth nearest point);
* the tumour surface sampled on a dense (theta, phi) grid, excluded points (within ``dist`` of the organ's
  boundary) dropped, and the best included samples polished with Nelder-Mead in surface coordinates, excluded
  points penalised.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.spatial import cKDTree

from reference.margin_reference import _grid, distance, inside, surface, zone_boundary_samples


def constrained_margin(tumor, zones, organ, dist, spacing=0.2, boundary_spacing=0.12, polish=4):
    """Minimum of m(p) over tumour-surface points p with |sd_organ(p)| > dist. Ellipsoids as
    (center, rotation, semi_axes) tuples."""
    # (an unbalanced tree: the (theta, phi) grids repeat their pole points, which a balanced one searches slowly)
    tree = cKDTree(zone_boundary_samples(zones, boundary_spacing)[0], balanced_tree=False, compact_nodes=False)

    def m(points):
        points = np.atleast_2d(points)
        inner = np.any([inside(points, z) for z in zones], axis=0)
        vals = np.empty(len(points))
        if inner.any():
            vals[inner] = tree.query(points[inner])[0]
        if not inner.all():
            vals[~inner] = -np.min([distance(points[~inner], z) for z in zones], axis=0)
        return vals

    def excluded(points):
        return np.abs(distance(np.atleast_2d(points), organ)) <= dist

    th, ph = _grid(tumor, spacing)
    pts = surface(th.ravel(), ph.ravel(), tumor)
    keep = ~excluded(pts)
    pts, th, ph = pts[keep], th.ravel()[keep], ph.ravel()[keep]
    vals = m(pts)
    best = float(vals.min())
    for i in np.argsort(vals)[:polish]:

        def f(a):
            p = surface(np.array([a[0]]), np.array([a[1]]), tumor)
            return float(m(p)[0]) + (1e3 if excluded(p)[0] else 0.0)

        res = minimize(f, [th[i], ph[i]], method="Nelder-Mead", options=dict(xatol=1e-8, fatol=1e-10, maxiter=1000))
        best = min(best, float(res.fun))
    return best
