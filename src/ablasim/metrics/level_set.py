"""Margin of an ellipsoid tumour covered by the cold-synergy zone, by rays and refinement on the level set.

The fast route of the isosurface method for :class:`~ablasim.zones.SynergyZone` (analytic field and gradient,
:mod:`._level_set`): no grid, no marching cubes. It answers only for a covered tumour (every tumour-surface sample
and interior sample inside the zone); otherwise it returns None and the caller measures on the marching-cubes
isosurface (:mod:`.isosurface`), whose search handles protrusions.
"""

from __future__ import annotations

import numpy as np

from ..geometry._sphere_mesh import icosphere, level_for_cover
from ._covered import MAX_CANDIDATES
from ._level_set import ray_map, refine_on_level_set
from ._refine import CONVERGED_BOUND_MM
from .result import MarginMap, MarginResult

__all__ = ["level_set_margin"]


def _field(zone):
    return (
        zone._c,
        zone._r,
        zone._e,
        zone._levels,
        zone._n_iso,
        zone._r0,
        float(zone.tail_mm),
        float(zone.body_temperature_c),
        float(zone.probe_temperature_c),
    )


def level_set_margin(tumor, zone, *, resolution_mm: float, map_resolution_mm: float | None) -> MarginResult | None:
    """The margin, map and coverage of a tumour inside ``zone`` (a SynergyZone); None if it is not covered."""
    fp = _field(zone)
    balls = zone.ice_balls if zone.level == 0.0 else []  # the merged 0 degC zone contains the single ice balls
    zc = np.array([b.center_mm for b in balls], dtype=np.float64).reshape(-1, 3)
    zr = np.array([b.rotation for b in balls], dtype=np.float64).reshape(-1, 3, 3)
    ze = np.array([b.semi_axes_mm for b in balls], dtype=np.float64).reshape(-1, 3)
    tmax = float(tumor.semi_axes_mm.max())
    spacing = resolution_mm if map_resolution_mm is None else map_resolution_mm
    mesh = icosphere(level_for_cover(tmax, spacing))
    u = mesh.vertices
    pts = np.ascontiguousarray(tumor.center_mm + u @ tumor.linear_map.T)
    nrm = (u / tumor.semi_axes_mm) @ tumor.rotation.T
    nrm = np.ascontiguousarray(nrm / np.linalg.norm(nrm, axis=1)[:, None])
    lo, hi = zone.bounds()
    t_max = float(np.linalg.norm(hi - lo)) + 1.0
    nv = len(pts)
    t, q, d = np.empty(nv), np.empty((nv, 3)), np.empty(nv)
    ok = np.empty(nv, dtype=np.int64)
    ray_map(pts, nrm, mesh.nbr_ptr, mesh.nbr_idx, zc, zr, ze, fp, float(zone.level), t_max, t, q, d, ok)
    if not ok.all() or not _interior_inside(tumor, zone):
        return None
    # candidates: local minima of the map within its Lipschitz window, near-duplicates merged
    rho = tmax * mesh.max_cover_angle
    nb_min = np.minimum.reduceat(d[mesh.nbr_idx], mesh.nbr_ptr[:-1])
    cand = np.flatnonzero((d <= nb_min) & (d <= d.min() + 2.0 * rho))
    cand = cand[np.argsort(d[cand], kind="stable")]
    chosen: list[int] = []
    for ci in cand:
        if all(np.sum((pts[ci] - pts[j]) ** 2) >= rho * rho for j in chosen):
            chosen.append(int(ci))
    converged = len(chosen) <= MAX_CANDIDATES
    i0 = int(np.argmin(d))
    best, best_q = float(d[i0]), _nearest_exit(pts[i0], q, mesh, i0, ok)
    tc, tr, te = (np.array(a, dtype=np.float64) for a in (tumor.center_mm, tumor.rotation, tumor.semi_axes_mm))
    for i in chosen[:MAX_CANDIDATES]:
        val, x0, x1, x2, conv = refine_on_level_set(q[i, 0], q[i, 1], q[i, 2], tc, tr, te, fp, float(zone.level), 200)
        converged &= bool(conv)
        if val < best:
            best, best_q = float(val), np.array([x0, x1, x2])
    foot = tumor.nearest_surface_point(best_q)[0]
    faces = mesh.faces
    a, b, c = (pts[faces[:, k]] for k in range(3))
    tri = 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)
    areas = np.bincount(faces.ravel(), weights=np.repeat(tri / 3.0, 3), minlength=nv)
    tvol = tumor.volume_mm3
    return MarginResult(
        min_margin_mm=best,
        coverage=1.0,
        coverage_error=0.0,
        uncovered_volume_mm3=0.0,
        tumor_volume_mm3=tvol,
        thinnest_point_mm=foot,
        zone_point_mm=best_q,
        method="isosurface",
        # converged: the refinement's tolerance (every candidate basin refined); else the samples' Lipschitz bound
        # (each lies within rho of the surface's every point) plus the same again for the exit points' spacing
        error_bound_mm=CONVERGED_BOUND_MM if converged else 2.0 * rho,
        feature="isosurface",
        margin_map=MarginMap(pts, d, areas, np.ones(nv, dtype=bool), faces),
    )


def _nearest_exit(p, q, mesh, i, ok):
    """The exit point (of vertex i and the vertices within two edges) nearest to p: the point its map value is."""
    ring = {i}
    for _ in range(2):
        ring |= {int(w) for v in ring for w in mesh.nbr_idx[mesh.nbr_ptr[v] : mesh.nbr_ptr[v + 1]]}
    idx = np.array([v for v in sorted(ring) if ok[v]])
    return q[idx[int(np.argmin(np.linalg.norm(q[idx] - p, axis=1)))]].copy()


def _interior_inside(tumor, zone) -> bool:
    """Whether the centre and interior shells (0.2 to 0.8 of the way out) all lie inside the zone: a warm core
    inside a tumour whose surface is frozen is not covered."""
    shell = icosphere(2).vertices
    pts = [tumor.center_mm[None, :]] + [tumor.center_mm + r * shell @ tumor.linear_map.T for r in (0.2, 0.4, 0.6, 0.8)]
    return bool(np.all(zone.values(np.concatenate(pts)) <= zone.level))
