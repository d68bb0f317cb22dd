"""Exact margin of an ellipsoid tumour against a union of zone ellipsoids.

Definition: ``margin = min over tumour points p of sd_Z(p)``, ``sd_Z`` the signed distance to the zone boundary
(positive inside the zone). Two regimes:

* **covered** (tumour inside the zone): the margin is the distance between the tumour and the zone boundary,
  ``min over zone-boundary points q of dist(q, T)``. ``dist(q, T)`` is exact and cheap (``T`` is convex), so we
  sample the zone boundary (exposed surface parts and creases), then refine the best samples: Riemannian Newton
  on surface patches, a 1-D search along creases, stopping at triple points (see ``_refine*.py``).
* **uncovered**: the margin is ``-max over tumour points p of dist(p, Z)`` (how far the tumour protrudes), with
  ``dist(p, Z) = min_k dist(p, E_k)``. We sample the tumour surface, refine its local maxima and the ridges where
  two zone ellipsoids are equally far, and, with four or more zone ellipsoids (the only case in which the
  maximum can lie inside the tumour), interior samples as well.

The regime is decided from the zone side: the zone boundary reaches into the tumour exactly when the tumour is not
covered (unless tumour and zone are disjoint, which the tumour centre tells).

Every value we report is attained by a real pair of points, so the reported margin is never below the true one;
``error_bound_mm`` bounds how far above it can be (docs/methods.md).
"""

from __future__ import annotations

import numpy as np

from ..errors import ValidationError
from ..geometry._kernels.ellipsoid import signed_distance
from ..geometry._sphere_mesh import icosphere, level_for_cover
from . import _refine as rf
from ._map_kernels import margin_map
from ._refine_curve import STATUS_ENDPOINT, STATUS_FAILED, refine_curve
from ._sample_kernels import (
    count_crossings,
    crease_samples,
    local_maxima,
    local_minima,
    ridge_samples,
    triple_points,
    tumour_samples,
    zone_samples,
)
from .coverage import ray_coverage
from .result import MarginMap, MarginResult

__all__ = ["exact_margin"]

MAX_CANDIDATES = 12  # refined candidates per kind
COARSE_LEVEL = 3  # sphere-mesh level searched for non-global nearest points in the margin map
REFINE_ITERS = 60


class _Pack:
    """Contiguous arrays for the kernels."""

    def __init__(self, tumor, zones):
        self.tc = np.ascontiguousarray(tumor.center_mm, dtype=np.float64)
        self.tr = np.ascontiguousarray(tumor.rotation, dtype=np.float64)
        self.te = np.ascontiguousarray(tumor.semi_axes_mm, dtype=np.float64)
        self.zc = np.ascontiguousarray([z.center_mm for z in zones], dtype=np.float64)
        self.zr = np.ascontiguousarray([z.rotation for z in zones], dtype=np.float64)
        self.ze = np.ascontiguousarray([z.semi_axes_mm for z in zones], dtype=np.float64)
        self.n = len(zones)


def _pick(values, points, spacing, limit, groups=None):
    """Indices of the best ``limit`` candidates by value, skipping near-duplicates of the same group."""
    order = np.argsort(values, kind="stable")
    chosen = []
    for idx in order:
        if chosen:
            near = np.sum((points[chosen] - points[idx]) ** 2, axis=1) < spacing * spacing
            if groups is not None:
                near &= (
                    np.all(groups[chosen] == groups[idx], axis=-1) if groups.ndim > 1 else groups[chosen] == groups[idx]
                )
            if near.any():
                continue
        chosen.append(idx)
        if len(chosen) >= limit:
            break
    return chosen


def exact_margin(
    tumor, zones, *, resolution_mm: float, map_resolution_mm: float | None, exclusion=None, coverage_polar: int = 192
) -> MarginResult:
    """``map_resolution_mm=None`` skips the surface map (the margin and coverage are unchanged; cohorts use it);
    capsule exclusion needs the map and computes it at 1 mm then. ``coverage_polar`` sets the ray grid of the
    coverage integral (``coverage_polar x 2 coverage_polar`` directions)."""
    if map_resolution_mm is None and exclusion is not None:
        map_resolution_mm = 1.0
    pk = _Pack(tumor, zones)
    cand_val, cand_tp, cand_zp, cand_kind = [], [], [], []

    def add(value, tumor_pt, zone_pt, kind):
        """A candidate value attained by the pair (tumour point, zone point); tumor_pt None: the tumour point
        nearest to zone_pt (resolved in one batch below)."""
        cand_val.append(float(value))
        cand_tp.append(np.full(3, np.nan) if tumor_pt is None else np.asarray(tumor_pt, dtype=float))
        cand_zp.append(np.asarray(zone_pt, dtype=float))
        cand_kind.append(kind)

    # ---- zone boundary samples ------------------------------------------------------------------------------------
    zmax = float(pk.ze.max())
    zlevel = level_for_cover(zmax, resolution_mm)
    zmesh = icosphere(zlevel)
    nv = len(zmesh.vertices)
    rho_z = zmax * zmesh.max_cover_angle
    kappa_t = tumor.max_curvature_per_mm
    kappa_z = max(z.max_curvature_per_mm for z in zones)
    bound_a = 0.5 * (kappa_z + kappa_t) * rho_z**2
    edge_z = zmax * zmesh.max_edge_angle
    zpts = np.empty((pk.n, nv, 3))
    zimp = np.empty((pk.n, pk.n, nv))
    zval = np.empty((pk.n, nv))
    zexp = np.empty((pk.n, nv), dtype=np.bool_)
    zone_samples(zmesh.vertices, pk.zc, pk.zr, pk.ze, pk.tc, pk.tr, pk.te, 4.0 * bound_a + 1e-6, zpts, zimp, zval, zexp)
    ncross = count_crossings(zmesh.edges, zimp) if pk.n > 1 else 0
    cpts = np.empty((ncross, 3))
    cpair = np.empty((ncross, 2), dtype=np.int64)
    cval = np.empty(ncross)
    nc = (
        crease_samples(zmesh.vertices, zmesh.edges, zimp, pk.zc, pk.zr, pk.ze, pk.tc, pk.tr, pk.te, cpts, cpair, cval)
        if ncross
        else 0
    )
    cpts, cpair, cval = cpts[:nc], cpair[:nc], cval[:nc]
    tri = np.empty((max(16, 2 * pk.n**3), 3))
    tri_abc = np.empty((len(tri), 3), dtype=np.int64)
    nt = triple_points(cpts, cpair, pk.zc, pk.zr, pk.ze, 2.0 * edge_z, tri, tri_abc) if pk.n > 2 and nc else 0
    tri = np.ascontiguousarray(tri[:nt])

    raw_a = min(float(zval.min()), float(cval.min()) if nc else np.inf)
    center_inside = any(z.contains(tumor.center_mm)[0] for z in zones)
    covered = False
    if raw_a > 0.0 and center_inside:
        _refine_zone_side(pk, zmesh, zpts, zval, cpts, cpair, cval, raw_a, bound_a, rho_z, tumor, add)
        if nt:
            for t, v in zip(tri, tumor.signed_distance(tri)):
                add(v, None, t, "triple-point")
        covered = min(cand_val) > 0.0

    # ---- tumour surface samples (margin map; protrusion when uncovered) ---------------------------------------
    tmax = float(pk.te.max())
    tmesh = icosphere(level_for_cover(tmax, resolution_mm))
    rho_t = tmax * tmesh.max_cover_angle
    bound_b = 0.5 * kappa_t * rho_t**2
    if not covered:  # the zone-side candidates measured the wrong thing: start over from the tumour side
        for lst in (cand_val, cand_tp, cand_zp, cand_kind):
            lst.clear()
        fine_pts = np.ascontiguousarray(tumor.center_mm + tmesh.vertices @ tumor.linear_map.T)
        _refine_tumour_side(pk, tmesh, fine_pts, rho_t, bound_b, tumor, add)
    if not covered and not cand_val:
        # The zone boundary reaches into the tumour, yet no tumour sample lies outside the zone: the protrusion is
        # thinner than the sampling resolves. Record it at the deepest zone-boundary sample (value 0, see _result).
        i, j = np.unravel_index(int(np.argmin(zval)), zval.shape)
        add(0.0, None, zpts[i, j], "protrusion")
    if map_resolution_mm is None:
        return _result(
            tumor,
            zones,
            cand_val,
            cand_tp,
            cand_zp,
            cand_kind,
            covered,
            bound_a if covered else bound_b,
            None,
            0.0,
            pk,
            cpts,
            zpts[zexp],
            coverage_polar,
        )
    mesh_map = icosphere(level_for_cover(tmax, map_resolution_mm))
    tpts = np.ascontiguousarray(tumor.center_mm + mesh_map.vertices @ tumor.linear_map.T)

    # ---- margin map -------------------------------------------------------------------------------------------
    mvals = np.empty(len(tpts))
    cmesh = icosphere(min(COARSE_LEVEL, zlevel))
    ncv = len(cmesh.vertices)  # subdivision appends vertices: a coarse mesh's vertices come first in a finer one
    chunks = _crease_chunks(cpts, cpair)
    margin_map(
        tpts,
        pk.zc,
        pk.zr,
        pk.ze,
        *chunks,
        edge_z,
        max(kappa_z, 1e-9) * 4.0,
        tri,
        cmesh.vertices,
        np.ascontiguousarray(zpts[:, :ncv]),
        np.ascontiguousarray(zexp[:, :ncv]),
        zmax * cmesh.max_cover_angle,
        mvals,
    )
    areas = _vertex_areas(tpts, mesh_map.faces)
    included = np.ones(len(tpts), dtype=bool)
    bound = bound_a if covered else bound_b
    keep_map = np.ones(len(tpts), dtype=bool)
    keep_cand = np.ones(len(cand_val), dtype=bool)
    excluded_fraction = 0.0
    if exclusion is not None:
        included = ~exclusion.excluded(tpts)
        excluded_fraction = float(areas[~included].sum() / areas.sum())
        keep_map = included
        keep_cand = ~exclusion.excluded(_resolve_tumour_points(tumor, cand_tp, cand_zp))
        # The constrained optimum may sit on the exclusion boundary, which only the map's vertices sample:
        # Lipschitz bound with their covering radius.
        bound = max(bound, tmax * mesh_map.max_cover_angle)
        if not keep_map.any() and not keep_cand.any():
            raise ValidationError(
                "exclude.distance_mm",
                exclusion.distance_mm,
                "excludes the whole tumour surface; nothing is left to measure",
            )
    # Every map vertex is a candidate too: its value is attained by a real pair of points.
    cand_val = [v for v, k in zip(cand_val, keep_cand) if k] + list(mvals[keep_map])
    cand_tp = [t for t, k in zip(cand_tp, keep_cand) if k] + list(tpts[keep_map])
    cand_zp = [z for z, k in zip(cand_zp, keep_cand) if k] + [np.full(3, np.nan)] * int(keep_map.sum())
    cand_kind = [c for c, k in zip(cand_kind, keep_cand) if k] + ["surface" if covered else "protrusion"] * int(
        keep_map.sum()
    )
    mmap = MarginMap(tpts, mvals, areas, included, mesh_map.faces)
    return _result(
        tumor,
        zones,
        cand_val,
        cand_tp,
        cand_zp,
        cand_kind,
        covered,
        bound,
        mmap,
        excluded_fraction,
        pk,
        cpts,
        zpts[zexp],
        coverage_polar,
        allow_positive_uncovered=exclusion is not None,
    )


def _resolve_tumour_points(tumor, cand_tp, cand_zp):
    """Candidates recorded with a zone point only get the tumour point nearest to it."""
    tp = np.asarray(cand_tp, dtype=float).reshape(-1, 3).copy()
    unresolved = np.isnan(tp[:, 0])
    if unresolved.any():
        tp[unresolved] = tumor.nearest_surface_point(np.asarray(cand_zp, dtype=float).reshape(-1, 3)[unresolved])
    return tp


def _result(
    tumor,
    zones,
    cand_val,
    cand_tp,
    cand_zp,
    cand_kind,
    covered,
    bound,
    mmap,
    excluded_fraction,
    pk,
    cpts,
    exposed,
    coverage_polar,
    allow_positive_uncovered=False,
) -> MarginResult:
    vals = np.asarray(cand_val, dtype=float)
    best = int(np.argmin(vals))
    margin = float(vals[best])
    tumor_pt = _resolve_tumour_points(tumor, [cand_tp[best]], [cand_zp[best]])[0]
    zone_pt = np.asarray(cand_zp[best], dtype=float)
    if np.isnan(zone_pt).any():
        zone_pt = _nearest_zone_point(tumor_pt, margin, pk, cpts, exposed)
    if not covered and margin > 0.0 and not allow_positive_uncovered:
        # The zone boundary reaches into the tumour but no sample found tumour outside the zone: whatever
        # protrudes is thinner than the sampling can resolve (within error_bound_mm of 0).
        margin = 0.0
    coverage, coverage_error = (1.0, 0.0) if covered else ray_coverage(tumor, zones, coverage_polar)
    tvol = tumor.volume_mm3
    return MarginResult(
        min_margin_mm=margin,
        coverage=coverage,
        coverage_error=coverage_error,
        uncovered_volume_mm3=(1.0 - coverage) * tvol,
        tumor_volume_mm3=tvol,
        thinnest_point_mm=tumor_pt,
        zone_point_mm=zone_pt,
        method="exact",
        error_bound_mm=float(bound),
        feature=cand_kind[best],
        margin_map=mmap,
        excluded_area_fraction=excluded_fraction,
    )


def _refine_zone_side(pk, zmesh, zpts, zval, cpts, cpair, cval, raw, bound, rho, tumor, add):
    """Covered regime: refine local minima of dist(q, T) on exposed patches and along creases."""
    slack = 2.0 * bound + 1e-9
    x = np.empty(3)
    dummy = np.zeros(3)
    for i in range(pk.n):
        flags = np.empty(zval.shape[1], dtype=np.bool_)
        local_minima(zval[i], zmesh.nbr_ptr, zmesh.nbr_idx, flags)
        idx = np.flatnonzero(flags & (zval[i] <= raw + slack))
        for j in (idx[c] for c in _pick(zval[i][idx], zpts[i][idx], rho, MAX_CANDIDATES)):
            add(zval[i, j], None, zpts[i, j], "surface")
            u = zmesh.vertices[j].copy()
            val = rf.refine_patch(
                u, pk.zc[i], pk.zr[i], pk.ze[i], rf.OBJ_DIST, pk.tc, pk.tr, pk.te, dummy, REFINE_ITERS, x
            )
            if rf.side_ok(rf.SIDE_EXPOSED, x, pk.zc, pk.zr, pk.ze, i, -1, 1e-12):
                add(val, None, x.copy(), "surface")
    if len(cval):
        idx = np.flatnonzero(cval <= raw + slack)
        for m in (idx[c] for c in _pick(cval[idx], cpts[idx], rho, MAX_CANDIDATES, cpair[idx])):
            add(cval[m], None, cpts[m], "crease")
            val, status = refine_curve(
                cpts[m],
                0,
                pk.zc,
                pk.zr,
                pk.ze,
                cpair[m, 0],
                cpair[m, 1],
                pk.tc,
                pk.tr,
                pk.te,
                rf.OBJ_DIST,
                pk.tc,
                pk.tr,
                pk.te,
                dummy,
                rf.SIDE_EXPOSED,
                REFINE_ITERS,
                x,
            )
            if status != STATUS_FAILED:
                kind = "triple-point" if status == STATUS_ENDPOINT else "crease"
                add(val, None, x.copy(), kind)


def _refine_tumour_side(pk, tmesh, tpts, rho, bound, tumor, add):
    """Uncovered regime: maximise F(p) = dist(p, Z) over the tumour; we store -F as the candidate value."""
    nv = len(tpts)
    fval = np.empty(nv)
    arg = np.empty(nv, dtype=np.int64)
    foot = np.empty((nv, 3))
    slack = 2.0 * bound + 1e-9
    tumour_samples(tpts, pk.zc, pk.zr, pk.ze, slack + 2.0 * rho, fval, arg, foot)
    raw = float(fval.max())
    if raw <= 0.0:
        return
    top = int(np.argmax(fval))
    add(-fval[top], tpts[top], foot[top], "protrusion")  # the best raw sample: exact value of a real tumour point
    x = np.empty(3)
    dummy = np.zeros(3)
    flags = np.empty(nv, dtype=np.bool_)
    local_maxima(fval, tmesh.nbr_ptr, tmesh.nbr_idx, flags)
    idx = np.flatnonzero(flags & (fval >= raw - slack))
    for v in (idx[c] for c in _pick(-fval[idx], tpts[idx], rho, MAX_CANDIDATES, arg[idx])):
        k = arg[v]
        u = tmesh.vertices[v].copy()
        val = rf.refine_patch(
            u, pk.tc, pk.tr, pk.te, rf.OBJ_NEG_DIST, pk.zc[k], pk.zr[k], pk.ze[k], dummy, REFINE_ITERS, x
        )
        if rf.side_ok(rf.SIDE_NEAREST, x, pk.zc, pk.zr, pk.ze, k, -1, 1e-12):
            add(val, x.copy(), _foot(x, pk, k), "protrusion")
    if pk.n > 1:
        rpts = np.empty((len(tmesh.edges), 3))
        rpair = np.empty((len(tmesh.edges), 2), dtype=np.int64)
        rval = np.empty(len(tmesh.edges))
        edge_len = float(pk.te.max()) * tmesh.max_edge_angle
        nr = ridge_samples(
            tmesh.vertices,
            tmesh.edges,
            arg,
            fval,
            raw - slack,
            edge_len,
            pk.tc,
            pk.tr,
            pk.te,
            pk.zc,
            pk.zr,
            pk.ze,
            rpts,
            rpair,
            rval,
        )
        rpts, rpair, rval = rpts[:nr], rpair[:nr], rval[:nr]
        idx = np.flatnonzero(rval >= raw - slack)
        for m in (idx[c] for c in _pick(-rval[idx], rpts[idx], rho, MAX_CANDIDATES, rpair[idx])):
            i, j = rpair[m]
            add(-rval[m], rpts[m], _foot(rpts[m], pk, i), "ridge")
            val, status = refine_curve(
                rpts[m],
                1,
                pk.zc,
                pk.zr,
                pk.ze,
                i,
                j,
                pk.tc,
                pk.tr,
                pk.te,
                rf.OBJ_NEG_DIST,
                pk.zc[i],
                pk.zr[i],
                pk.ze[i],
                dummy,
                rf.SIDE_NEAREST,
                REFINE_ITERS,
                x,
            )
            if status != STATUS_FAILED:
                add(val, x.copy(), _foot(x, pk, i), "ridge")
    if pk.n >= 4:
        _interior_search(pk, tumor, rho, add)


def _interior_search(pk, tumor, rho, add):
    """With >= 4 zone ellipsoids the farthest tumour point from the zone may be interior (a point enclosed by
    zones on all sides). Sample the interior on shells and polish the best sample by compass search."""
    shell = icosphere(3).vertices
    pts = [tumor.center_mm[None, :]]
    for r in (0.2, 0.4, 0.6, 0.8):
        pts.append(tumor.center_mm + r * shell @ tumor.linear_map.T)
    pts = np.ascontiguousarray(np.concatenate(pts))
    f, _, _ = _tumour_f(pts, pk)
    best = int(np.argmax(f))
    if f[best] <= 0.0:
        return
    x, fx = pts[best].copy(), float(f[best])
    step = float(pk.te.max()) * 0.1
    dirs = np.concatenate([np.eye(3), -np.eye(3)])
    while step > 1e-10:
        trial = np.ascontiguousarray(x + step * dirs)
        inside = tumor.contains(trial)
        ft, _, _ = _tumour_f(trial, pk)
        ft[~inside] = -np.inf
        k = int(np.argmax(ft))
        if ft[k] > fx:
            x, fx = trial[k].copy(), float(ft[k])
        else:
            step *= 0.5
    _, _arg, foot = _tumour_f(x[None, :].copy(), pk)
    add(-fx, x, foot[0], "interior")


def _tumour_f(pts, pk):
    f = np.empty(len(pts))
    arg = np.empty(len(pts), dtype=np.int64)
    foot = np.empty((len(pts), 3))
    tumour_samples(pts, pk.zc, pk.zr, pk.ze, np.inf, f, arg, foot)
    return f, arg, foot


def _foot(x, pk, k):

    _, fx, fy, fz, _, _, _ = signed_distance(x[0], x[1], x[2], pk.zc[k], pk.zr[k], pk.ze[k])
    return np.array([fx, fy, fz])


def _nearest_zone_point(p, margin, pk, cpts, exposed):
    """A zone-boundary point at distance |margin| from p (for reporting; map vertices do not store one)."""
    if margin < 0:
        _f, _arg, foot = _tumour_f(np.ascontiguousarray(p[None, :]), pk)
        return foot[0]
    cands = np.concatenate([exposed, cpts]) if len(cpts) else exposed
    return cands[int(np.argmin(np.linalg.norm(cands - p, axis=1)))]


def _crease_chunks(cpts, cpair, size=16):
    """Group crease samples by unordered pair of surfaces, order them by angle around the crease's best-fit axis
    and cut them into chunks with bounding spheres (for the map kernel's nearest-sample search)."""
    upair = np.sort(cpair, axis=1)  # samples of (i, j) and (j, i) lie on the same curve
    pts_out, sizes, pair_nchunks, pairs = [], [], [], []
    for ab in np.unique(upair, axis=0) if len(upair) else []:
        sel = cpts[np.all(upair == ab, axis=1)]
        c = sel.mean(axis=0)
        axis = np.linalg.svd(sel - c, full_matrices=False)[2][-1] if len(sel) > 2 else np.array([0.0, 0.0, 1.0])
        e1 = np.cross(axis, [1.0, 0.0, 0.0] if abs(axis[0]) < 0.9 else [0.0, 1.0, 0.0])
        e1 /= np.linalg.norm(e1)
        e2 = np.cross(axis, e1)
        pts_out.append(sel[np.argsort(np.arctan2((sel - c) @ e2, (sel - c) @ e1), kind="stable")])
        n_chunks = -(-len(sel) // size)
        sizes.extend(min(size, len(sel) - k * size) for k in range(n_chunks))
        pair_nchunks.append(n_chunks)
        pairs.append(ab)
    pts = np.ascontiguousarray(np.concatenate(pts_out)) if pts_out else np.zeros((0, 3))
    chunk_ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    owner = np.repeat(np.arange(len(sizes)), sizes)
    counts = np.maximum(np.asarray(sizes, dtype=float), 1.0)[:, None]
    centers = np.zeros((len(sizes), 3))
    np.add.at(centers, owner, pts)
    centers /= counts
    radii = np.zeros(len(sizes))
    np.maximum.at(radii, owner, np.linalg.norm(pts - centers[owner], axis=1))
    pair_chunk_ptr = np.concatenate([[0], np.cumsum(pair_nchunks)]).astype(np.int64)
    return (
        pts,
        chunk_ptr,
        np.ascontiguousarray(centers),
        radii,
        pair_chunk_ptr,
        np.ascontiguousarray(np.reshape(pairs, (-1, 2)), dtype=np.int64),
    )


def _vertex_areas(points, faces):
    a, b, c = points[faces[:, 0]], points[faces[:, 1]], points[faces[:, 2]]
    tri = 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)
    out = np.zeros(len(points))
    for k in range(3):
        np.add.at(out, faces[:, k], tri / 3.0)
    return out
