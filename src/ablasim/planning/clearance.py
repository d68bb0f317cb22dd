"""Clearance between a zone and an organ at risk: how far the zone stays from the organ (mm; <= 0: they meet).

* A union of ellipsoids: ``min over organ points x, zone ellipsoids E_k of sd_k(x)`` (exact signed distance,
  > 0 outside ``E_k``). Sampled on the organ surface, then the best samples are refined by alternating
  projections between the organ and ``E_k``, which converge to the closest pair of two disjoint convex bodies: the
  clearance is exact when positive. When the zone reaches into the organ the value is negative (minus the depth of
  the deepest sampled organ-surface point inside one zone ellipsoid).
* An implicit zone (the merged ice ball): the nearest zone point to a convex organ is reached along the organ's
  outward normal from its foot point, so the clearance is the minimum over organ-surface points of the first
  distance along the normal at which the field reaches the zone's level. Rays start at organ-surface samples and
  at the organ point nearest to each single-probe ice ball (the merged zone contains them, so a hit is certain
  within that distance); the first hit is bracketed on steps of ``step_mm`` and bisected. The best ray is then
  polished over the organ surface (compass search on the foot point's angles).
"""

from __future__ import annotations

import numpy as np

from ..geometry._sphere_mesh import icosphere
from ..geometry.shapes import Ellipsoid
from ..zones.implicit import ImplicitZone

__all__ = ["OrganSurface", "clearance"]

_REFINE_ITERS = 60


class OrganSurface:
    """Samples of an organ's surface (level-3 sphere mesh mapped onto the ellipsoid) and their outward normals."""

    def __init__(self, organ: Ellipsoid, level: int = 3):
        self.organ = organ
        self.unit = icosphere(level).vertices
        self.points = organ.center_mm + self.unit @ organ.linear_map.T
        self.normals = self.normal_at(self.unit)

    def normal_at(self, unit: np.ndarray) -> np.ndarray:
        """Outward unit normals at the surface points ``center + L u`` (``u`` on the unit sphere)."""
        o = self.organ
        nrm = (unit / o.semi_axes_mm) @ o.rotation.T
        return nrm / np.linalg.norm(nrm, axis=1, keepdims=True)

    def point_at(self, unit: np.ndarray) -> np.ndarray:
        return self.organ.center_mm + unit @ self.organ.linear_map.T


def clearance(surface: OrganSurface, zone, *, refine_below: float = np.inf) -> float:
    """Clearance (mm) between the organ of ``surface`` and ``zone`` (a list of Ellipsoids, or an implicit zone).

    ``refine_below``: refine only when the sampled clearance is below this (the search asks whether a constraint
    holds: far above it the sampled value, which can only overestimate, is enough)."""
    if isinstance(zone, ImplicitZone):
        return _implicit(surface, zone, refine_below)
    return _union_pair(surface, list(zone), refine_below)[0]


def _union_pair(
    surface: OrganSurface, zones: list[Ellipsoid], refine_below: float = np.inf
) -> tuple[float, np.ndarray]:
    """``(clearance, organ point of the closest pair)``."""
    sd = np.array([z.signed_distance(surface.points) for z in zones])  # (zones, samples)
    k0, i0 = np.unravel_index(int(np.argmin(sd)), sd.shape)
    best, where = float(sd[k0, i0]), surface.points[i0]
    if best <= 0.0 or best >= refine_below:
        return best, where
    for k, zone in enumerate(zones):
        row = sd[k]
        if row.min() > best + 2.0 * _sample_spacing(surface):
            continue  # this zone's nearest sample is far from the best: its refined distance cannot win
        d, p = _project(surface.organ, zone, surface.points[int(np.argmin(row))])
        if d < best:
            best, where = d, p
    return best, where


def _sample_spacing(surface: OrganSurface) -> float:
    return float(surface.organ.semi_axes_mm.max()) * 0.1


def _project(organ: Ellipsoid, zone: Ellipsoid, p: np.ndarray) -> tuple[float, np.ndarray]:
    """Alternating projections from the organ point ``p``: the distance of the closest pair (organ outside zone)
    and its organ point."""
    dist = np.inf
    for _ in range(_REFINE_ITERS):
        q = zone.nearest_surface_point(p)[0]
        p_new = organ.nearest_surface_point(q)[0]
        d = float(np.linalg.norm(p_new - q))
        converged = abs(dist - d) < 1e-9
        dist, p = d, p_new
        if converged:
            break
    return dist, p


def _implicit(surface: OrganSurface, zone: ImplicitZone, refine_below: float = np.inf, step_mm: float = 0.5) -> float:
    level = zone.level
    inside = zone.values(surface.points) <= level
    if inside.any():
        return -_depth(surface, zone, inside, step_mm)
    pairs = [_union_pair(surface, [b]) for b in getattr(zone, "ice_balls", [])]
    units = surface.unit
    if pairs:
        reach = min(d for d, _ in pairs)
        if reach <= 0.0:
            return reach  # a single-probe ice ball already reaches into the organ between the samples
        local = ((np.array([p for _, p in pairs]) - surface.organ.center_mm) @ surface.organ.rotation) / (
            surface.organ.semi_axes_mm
        )
        units = np.vstack([units, local / np.linalg.norm(local, axis=1, keepdims=True)])
    else:
        lo, hi = zone.bounds()
        reach = float(np.linalg.norm(hi - lo)) + float(surface.organ.semi_axes_mm.max())
    hits = _first_hits(surface, zone, units, reach + step_mm, step_mm)
    i = int(np.argmin(hits))
    best, u = float(hits[i]), units[i]
    if best >= refine_below:
        return best
    # compass search over the foot point's position on the organ surface
    step = 0.05
    while step > 1e-4:
        improved = False
        for axis in np.eye(3):
            for sign in (1.0, -1.0):
                cand = u + sign * step * axis
                cand /= np.linalg.norm(cand)
                h = float(_first_hits(surface, zone, cand[None, :], best + step_mm, step_mm)[0])
                if h < best - 1e-9:
                    best, u, improved = h, cand, True
        if not improved:
            step *= 0.5
    return best


def _first_hits(surface: OrganSurface, zone: ImplicitZone, units: np.ndarray, reach: float, step: float):
    """First distance along each outward normal at which the field reaches the level (``inf`` if none within
    ``reach``)."""
    pts = surface.point_at(units)
    nrm = surface.normal_at(units)
    s = np.arange(0.0, reach + step, step)
    vals = zone.values((pts[:, None, :] + s[None, :, None] * nrm[:, None, :]).reshape(-1, 3)).reshape(len(pts), -1)
    hit = vals <= zone.level
    out = np.full(len(pts), np.inf)
    rows = np.flatnonzero(hit.any(axis=1))
    if len(rows) == 0:
        return out
    first = hit[rows].argmax(axis=1)
    lo = s[np.maximum(first - 1, 0)]
    hi = s[first]
    for _ in range(30):  # bisection: lo outside, hi inside
        mid = 0.5 * (lo + hi)
        inside = zone.values(pts[rows] + mid[:, None] * nrm[rows]) <= zone.level
        hi = np.where(inside, mid, hi)
        lo = np.where(inside, lo, mid)
    out[rows] = hi
    return out


def _depth(surface: OrganSurface, zone: ImplicitZone, inside: np.ndarray, step: float) -> float:
    """How deep (along the inward normal) the deepest sampled organ-surface point lies inside the zone."""
    pts = surface.points[inside]
    nrm = -surface.normals[inside]
    depth = np.zeros(len(pts))
    s = step
    still = np.ones(len(pts), dtype=bool)
    limit = 2.0 * float(surface.organ.semi_axes_mm.max())
    while still.any() and s <= limit:
        inside_now = zone.values(pts[still] + s * nrm[still]) <= zone.level
        idx = np.flatnonzero(still)
        depth[idx[inside_now]] = s
        still[idx[~inside_now]] = False
        s += step
    return float(depth.max())
