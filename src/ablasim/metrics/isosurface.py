"""Margin of an ellipsoid tumour against an implicit zone ``{f <= level}`` (isotherm zones, cold synergy).

* The zone boundary near the tumour is extracted by marching cubes on ``f`` sampled around the tumour (a grid
  field: on its own grid; an analytic field: in a narrow band, see ``_sample_box``). For analytic fields every
  point whose distance is reported is first moved onto the exact level set (Newton along the gradient). The box
  grows until the result is certified: every boundary point closer to the tumour than the box padding is inside.
* Covered tumour: ``min`` over boundary vertices of the exact distance to the tumour ellipsoid, then projected
  gradient descent on the level set from the best vertices.
* Uncovered: ``-max`` over tumour samples (surface and interior, as a warm core may hide inside) outside the zone
  of their distance to the boundary mesh, polished by compass search.
* Coverage: along rays from the tumour centre, sign changes of ``f - level`` bracketed on 64 samples and refined
  by bisection, integrated over an equal-area direction grid (two resolutions give the error estimate).
* Margin map: signed distance from tumour-surface vertices to the boundary mesh.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ValidationError
from ..geometry._sphere_mesh import icosphere, level_for_cover
from ..zones.implicit import GridFieldZone
from ._mesh_kernels import points_to_mesh
from .result import MarginMap, MarginResult

__all__ = ["isosurface_margin"]

MAX_SAMPLES = 260**3


class _Boundary:
    """The zone boundary as a triangle mesh with vertex adjacency (for nearest-point queries)."""

    def __init__(self, verts, faces):
        self.verts = np.ascontiguousarray(verts)
        self.faces = np.ascontiguousarray(faces, dtype=np.int64)
        nv = len(self.verts)
        order = np.argsort(self.faces.ravel(), kind="stable")
        self.vf_idx = (order // 3).astype(np.int64)
        self.vf_ptr = np.concatenate([[0], np.cumsum(np.bincount(self.faces.ravel(), minlength=nv))]).astype(np.int64)
        pairs = np.sort(self.faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
        key = np.unique(pairs[:, 0] * nv + pairs[:, 1])  # 1-D keys: far faster than unique rows
        e = np.stack([key // nv, key % nv], axis=1)
        both = np.concatenate([e, e[:, ::-1]])
        both = both[np.argsort(both[:, 0], kind="stable")]
        self.vv_idx = np.ascontiguousarray(both[:, 1], dtype=np.int64)
        self.vv_ptr = np.concatenate([[0], np.cumsum(np.bincount(both[:, 0], minlength=nv))]).astype(np.int64)
        self.coarse = np.arange(0, nv, max(1, nv // 2000), dtype=np.int64)
        edges = self.verts[e[:, 0]] - self.verts[e[:, 1]]
        self.max_edge = float(np.linalg.norm(edges, axis=1).max()) if len(e) else 0.0

    def distance(self, points):
        pts = np.ascontiguousarray(np.asarray(points, dtype=float).reshape(-1, 3))
        dist = np.empty(len(pts))
        closest = np.empty((len(pts), 3))
        points_to_mesh(
            pts, self.verts, self.faces, self.vf_ptr, self.vf_idx, self.vv_ptr, self.vv_idx, self.coarse, dist, closest
        )
        return dist, closest

    def curvature_estimate(self, zone, near) -> float:
        """Largest turning of the unit normal per unit length along mesh edges between ``near`` vertices: a
        discrete estimate of the boundary's largest normal curvature there (normals from the field's gradient)."""
        e = self.faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
        e = e[near[e[:, 0]] & near[e[:, 1]]]
        if len(e) == 0:
            return 0.0
        used = np.unique(e)
        n = np.zeros_like(self.verts)
        g = zone.gradient(self.verts[used])
        n[used] = g / np.maximum(np.linalg.norm(g, axis=1), 1e-12)[:, None]
        length = np.linalg.norm(self.verts[e[:, 0]] - self.verts[e[:, 1]], axis=1)
        ok = length > 1e-9
        turn = np.linalg.norm(n[e[ok, 0]] - n[e[ok, 1]], axis=1) / length[ok]
        return float(turn.max()) if len(turn) else 0.0


def _sample_box(zone, lo, hi, spacing):
    """Field values on a regular world-aligned grid over [lo, hi] (or the field's own grid crop).

    Analytic fields use a narrow band: exact values on a grid twice as coarse; exact fine values only within one
    coarse cell of a coarse cell whose corners straddle the level; elsewhere the fine values are interpolated from
    the coarse ones, which keeps their side of the level (marching cubes places vertices only where the sign
    changes, and analytic vertices are projected onto the exact level set afterwards). A feature thinner than
    a coarse cell (2 x the sampling) whose corners all lie on one side is not seen.
    """
    from scipy.ndimage import binary_dilation

    if isinstance(zone, GridFieldZone):
        g = zone.grid
        ilo, ihi = g.index_box(lo, hi)
        if np.any(ihi - ilo < 2):
            return None
        sub = zone.field[tuple(slice(a, b) for a, b in zip(ilo, ihi))]
        return sub, (lambda v: g.index_to_world(v + ilo))
    hc = 2.0 * spacing
    nc = np.maximum(np.ceil((hi - lo) / hc).astype(int) + 1, 2)
    if np.prod(nc.astype(float)) * 8 > MAX_SAMPLES:
        hc = float(np.max((hi - lo) / ((MAX_SAMPLES / 8) ** (1 / 3) - 1)))
        nc = np.maximum(np.ceil((hi - lo) / hc).astype(int) + 1, 2)
    h = hc / 2.0
    axes = [lo[k] + hc * np.arange(nc[k]) for k in range(3)]
    coarse = zone.values(np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)).reshape(tuple(nc))
    corners = [
        coarse[a : a + nc[0] - 1, b : b + nc[1] - 1, c : c + nc[2] - 1] for a in (0, 1) for b in (0, 1) for c in (0, 1)
    ]
    cmin, cmax = np.minimum.reduce(corners), np.maximum.reduce(corners)
    band_cells = binary_dilation((cmin <= zone.level) & (cmax > zone.level), np.ones((3, 3, 3), bool))
    nf = 2 * (nc - 1) + 1
    fine = np.empty(tuple(nf))
    fine[::2, ::2, ::2] = coarse
    fine[1::2, ::2, ::2] = 0.5 * (fine[:-1:2, ::2, ::2] + fine[2::2, ::2, ::2])
    fine[:, 1::2, ::2] = 0.5 * (fine[:, :-1:2, ::2] + fine[:, 2::2, ::2])
    fine[:, :, 1::2] = 0.5 * (fine[:, :, :-1:2] + fine[:, :, 2::2])
    idx = [np.minimum(np.arange(nf[k]) // 2, nc[k] - 2) for k in range(3)]
    band = band_cells[np.ix_(*idx)]
    if band.any():
        nodes = np.argwhere(band)
        fine[band] = zone.values(lo + nodes * h)
    return fine, (lambda v: lo + v * h)


def _boundary(zone, lo, hi, spacing):
    from skimage.measure import marching_cubes

    sampled = _sample_box(zone, lo, hi, spacing)
    if sampled is None:
        return None
    vals, to_world = sampled
    if not (vals.min() <= zone.level <= vals.max()) or vals.min() == vals.max():
        return None
    verts, faces, _, _ = marching_cubes(vals, level=zone.level)
    # Vertices stay where marching cubes put them (within the chord error of the level set); every point used for a
    # value is projected onto the exact level set first (_refine_covered, _nearest_on_level_set).
    return _Boundary(to_world(verts), faces)


def _project(zone, pts, iters=4):
    """Newton steps along the gradient onto {f = level} (analytic fields)."""
    x = np.array(pts, dtype=float).reshape(-1, 3)
    for _ in range(iters):
        g = zone.gradient(x)
        g2 = np.einsum("ij,ij->i", g, g)
        ok = g2 > 1e-18
        step = (zone.values(x) - zone.level)[ok] / g2[ok]
        x[ok] -= step[:, None] * g[ok]
    return x


def _nearest_on_level_set(zone, p, q, iters=6):
    """Refine q (near the level set) towards the point of {f = level} nearest to p: project p's offset onto the
    normal line at q, then back onto the level set (analytic fields; a grid field keeps the mesh point). Returns
    the points and their distances to p: each is a real level-set point, so the distance is never below p's."""

    q = np.array(q, dtype=float).reshape(-1, 3)
    p = np.asarray(p, dtype=float).reshape(-1, 3)
    if not isinstance(zone, GridFieldZone):
        q = _project(zone, q)
        for _ in range(iters):
            n = zone.gradient(q)
            nn = np.linalg.norm(n, axis=1)
            ok = nn > 1e-12
            n[ok] /= nn[ok, None]
            t = np.einsum("ij,ij->i", q - p, n)
            trial = _project(zone, p + t[:, None] * n)
            better = np.linalg.norm(trial - p, axis=1) < np.linalg.norm(q - p, axis=1)
            q[better] = trial[better]
    return q, np.linalg.norm(q - p, axis=1)


def _refine_covered(zone, tumor, x0, iters=60):
    """Minimise the tumour distance over {f = level} by projected gradient descent from x0 (projected first)."""
    x = _project(zone, x0)[0]
    val = float(tumor.signed_distance(x)[0])
    step = 0.5
    for _ in range(iters):
        foot = tumor.nearest_surface_point(x)[0]
        gd = (x - foot) / max(np.linalg.norm(x - foot), 1e-12)
        n = zone.gradient(x)[0]
        n /= max(np.linalg.norm(n), 1e-12)
        tang = gd - (gd @ n) * n
        if np.linalg.norm(tang) < 1e-10:
            break
        trial = _project(zone, x - step * tang)[0]
        tv = float(tumor.signed_distance(trial)[0])
        if tv < val:
            x, val, step = trial, tv, step * 1.5
        else:
            step *= 0.3
            if step < 1e-9:
                break
    return x, val


def _tumour_points(tumor, spacing):
    mesh = icosphere(level_for_cover(float(tumor.semi_axes_mm.max()), spacing))
    surf = tumor.center_mm + mesh.vertices @ tumor.linear_map.T
    shell = icosphere(max(level_for_cover(float(tumor.semi_axes_mm.max()), 2 * spacing) - 1, 2)).vertices
    inner = [tumor.center_mm[None, :]] + [
        tumor.center_mm + r * shell @ tumor.linear_map.T for r in (0.2, 0.4, 0.6, 0.8)
    ]
    return surf, np.concatenate(inner), float(tumor.semi_axes_mm.max()) * mesh.max_cover_angle


def _ray_coverage(zone, tumor, n_polar, n_samples=64):
    nz, nphi = n_polar, 2 * n_polar
    z = -1 + (np.arange(nz) + 0.5) * 2 / nz
    phi = (np.arange(nphi) + 0.5) * 2 * np.pi / nphi
    zz, pp = np.meshgrid(z, phi, indexing="ij")
    s = np.sqrt(1 - zz**2)
    w = np.stack([s * np.cos(pp), s * np.sin(pp), zz], -1).reshape(-1, 3)
    rho = np.linspace(0.0, 1.0, n_samples)
    dirs = w @ tumor.linear_map.T
    pts = tumor.center_mm + rho[None, :, None] * dirs[:, None, :]
    inside = (zone.values(pts.reshape(-1, 3)) <= zone.level).reshape(len(w), n_samples)
    # covered length-cubed along each ray, with crossings refined by bisection
    acc = np.where(inside[:, :-1] & inside[:, 1:], rho[1:] ** 3 - rho[:-1] ** 3, 0.0).sum(axis=1)
    ray, seg = np.nonzero(inside[:, :-1] != inside[:, 1:])
    if len(ray):
        lo, hi = rho[seg].copy(), rho[seg + 1].copy()
        in_lo = inside[ray, seg]
        for _ in range(30):
            mid = 0.5 * (lo + hi)
            m_in = zone.values(tumor.center_mm + mid[:, None] * dirs[ray]) <= zone.level
            same = m_in == in_lo
            lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
        cross = 0.5 * (lo + hi)
        part = np.where(in_lo, cross**3 - rho[seg] ** 3, rho[seg + 1] ** 3 - cross**3)
        np.add.at(acc, ray, part)
    return float(acc.mean())


def isosurface_margin(tumor, zone, *, resolution_mm: float, map_resolution_mm: float, exclusion=None):
    tlo, thi = tumor.bounding_box()
    zlo, zhi = zone.bounds()
    spacing = max(resolution_mm * 2 / math.sqrt(3), zone.sampling_mm)
    full_lo, full_hi = np.minimum(tlo, zlo) - 2 * spacing, np.maximum(thi, zhi) + 2 * spacing
    pad = 10.0
    while True:
        lo, hi = np.maximum(tlo - pad, full_lo), np.minimum(thi + pad, full_hi)
        bnd = _boundary(zone, lo, hi, spacing)
        whole = np.all(lo <= full_lo) and np.all(hi >= full_hi)
        if bnd is not None:
            dz = tumor.signed_distance(bnd.verts)
            if whole or dz.min() < pad - 2 * spacing:
                break
        elif whole:
            break
        pad *= 1.6
    tsurf, tinner, rho_t = _tumour_points(tumor, resolution_mm)
    center_in = bool(zone.contains(tumor.center_mm[None, :])[0])
    if bnd is None:
        if not center_in:  # zone misses the tumour entirely (or is empty)
            raise ValidationError(
                "zone",
                zone.description,
                "has no boundary near the tumour and does not contain it; the margin is undefined (is the zone empty?)",
            )
        raise ValidationError(
            "zone", zone.description, "contains the whole sampled region; give a field whose zone ends inside its grid"
        )
    near = dz <= dz.min() + pad
    kappa = tumor.max_curvature_per_mm + bnd.curvature_estimate(zone, near)
    analytic = zone.sampling_mm == 0
    # margin map: signed distance from tumour-surface vertices to the level set
    mesh = icosphere(level_for_cover(float(tumor.semi_axes_mm.max()), map_resolution_mm))
    mpts = tumor.center_mm + mesh.vertices @ tumor.linear_map.T
    _, mcl = bnd.distance(mpts)
    mcl, md = _nearest_on_level_set(zone, mpts, mcl)
    m_in = zone.contains(mpts)
    mvals = np.where(m_in, md, -md)
    a, b, c = (mpts[mesh.faces[:, i]] for i in range(3))
    tri = 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)
    areas = np.zeros(len(mpts))
    for i in range(3):
        np.add.at(areas, mesh.faces[:, i], tri / 3)

    cand = []  # (value, tumour point, zone point, feature): every value is attained by that pair of points
    covered = dz.min() > 0 and center_in
    if covered:
        for i in np.argsort(dz)[:6]:
            x, v = _refine_covered(zone, tumor, bnd.verts[i]) if analytic else (bnd.verts[i], dz[i])
            cand.append((v, tumor.nearest_surface_point(x)[0], x, "isosurface"))
        # every point of a triangle lies within (longest edge) / sqrt(3) of one of its vertices
        bound = 0.5 * kappa * (bnd.max_edge / math.sqrt(3.0)) ** 2
    else:
        pts = np.concatenate([tsurf, tinner])
        outside = ~zone.contains(pts)
        if outside.any():
            po = pts[outside]
            _, cl = bnd.distance(po)
            cl, d = _nearest_on_level_set(zone, po, cl)
            for i in np.argsort(-d)[:3]:
                x, v, q = _compass(zone, tumor, bnd, po[i], d[i], cl[i], rho_t)
                cand.append((-v, x, q, "protrusion"))
        bound = 0.5 * tumor.max_curvature_per_mm * rho_t**2 + (0.0 if analytic else bnd.max_edge)
    included = np.ones(len(mpts), dtype=bool)
    if exclusion is not None or not cand:
        # the map's vertices join the candidates (with exclusion the optimum may sit on the excluded edge)
        cand += [(mvals[i], mpts[i], mcl[i], "isosurface" if covered else "protrusion") for i in range(len(mpts))]
    vals = np.array([c_[0] for c_ in cand])
    tps = np.array([c_[1] for c_ in cand])
    keep = np.ones(len(cand), dtype=bool)
    if exclusion is not None:
        included = ~exclusion.excluded(mpts)
        keep = ~exclusion.excluded(tps)
        if not keep.any():
            raise ValidationError("exclude.distance_mm", exclusion.distance_mm, "excludes the whole tumour surface")
        bound = max(bound, float(tumor.semi_axes_mm.max()) * mesh.max_cover_angle)
    best = int(np.flatnonzero(keep)[np.argmin(vals[keep])])
    margin = float(vals[best])
    if not covered and margin > 0 and exclusion is None:
        margin = 0.0  # the boundary enters the tumour, but what protrudes is below the sampling resolution
    if covered:
        coverage, cov_err = 1.0, 0.0
    else:
        coverage = _ray_coverage(zone, tumor, 64)
        cov_err = abs(coverage - _ray_coverage(zone, tumor, 32))
    tvol = tumor.volume_mm3

    if isinstance(zone, GridFieldZone):  # relative to the interpolated field: at least a voxel
        bound = max(bound, zone.grid.voxel_diagonal_mm)
    return MarginResult(
        min_margin_mm=margin,
        coverage=coverage,
        coverage_error=cov_err,
        uncovered_volume_mm3=(1 - coverage) * tvol,
        tumor_volume_mm3=tvol,
        thinnest_point_mm=cand[best][1],
        zone_point_mm=cand[best][2],
        method="isosurface",
        error_bound_mm=float(bound),
        feature=cand[best][3],
        margin_map=MarginMap(mpts, mvals, areas, included, mesh.faces),
        excluded_area_fraction=float(areas[~included].sum() / areas.sum()),
    )


def _compass(zone, tumor, bnd, x0, d0, c0, step0):
    """Maximise the distance to the zone boundary over tumour points outside the zone (compass search)."""
    x, d, c = x0.copy(), float(d0), c0.copy()
    dirs = np.concatenate([np.eye(3), -np.eye(3)])
    step = step0
    while step > 1e-6:
        trial = x + step * dirs
        ok = tumor.contains(trial) & ~zone.contains(trial)
        if ok.any():
            _, tc = bnd.distance(trial[ok])
            tc, td = _nearest_on_level_set(zone, trial[ok], tc)
            k = int(np.argmax(td))
            if td[k] > d:
                x, d, c = trial[ok][k], float(td[k]), tc[k]
                continue
        step *= 0.5
    return x, d, c
