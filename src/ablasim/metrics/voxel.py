"""Voxel margin for mask-defined shapes, with the ``edt`` package.

The zone mask's signed distance field is ``edt(zone)`` inside (distance from a voxel centre to the nearest centre
outside the zone) and ``-edt(~zone)`` outside, computed with the grid's anisotropic spacing on a crop around the
tumour. The minimum margin is the minimum of that field over the tumour's voxels (interior voxels included, so a
hole in the zone inside the tumour counts). This is the method of most open tools and carries their bias:

* inside the zone the true boundary lies between a voxel centre and its outside neighbour, so the field
  overestimates the distance to it; and the tumour is sampled at voxel centres only, so its true thinnest point
  may lie up to half a voxel diagonal from any sample. For a covered tumour both errors make the reported margin
  too large (the unsafe direction), by up to about one voxel diagonal;
* outside the zone the field measures to the nearest zone voxel centre, which is farther than the continuous
  zone, so a protrusion reads deeper, while the centre sampling of the tumour works the other way.

``error_bound_mm`` is the voxel diagonal. The crop keeps ``crop_padding_mm`` around the tumour; if the minimum is
not certified inside the crop (``|margin|`` close to the padding, or no zone voxel in the crop), the full grid is
used.
"""

from __future__ import annotations

import numpy as np

from ..errors import ValidationError
from ..mask import Mask
from .._sphere_mesh import icosphere, level_for_cover
from .result import MarginMap, MarginResult

__all__ = ["voxel_margin"]


def _union_mask(zones, grid) -> np.ndarray:
    out = np.zeros(grid.shape, dtype=np.bool_)
    for z in zones:
        out |= z.to_mask(grid).array
    return out


def voxel_margin(tumor, zones, zone_mask, *, grid, exclusion=None, crop_padding_mm: float = 30.0,
                 map_resolution_mm: float = 1.0) -> MarginResult:
    """``tumor``: Ellipsoid or Mask; the zone is ``zone_mask`` (Mask) or the union of ``zones`` rasterised."""
    from ..shapes import Ellipsoid

    grid.check_fits(1 + 1 + 8 + 4, "the voxel margin (tumour and zone masks, distance fields)")
    tmask = tumor.array if isinstance(tumor, Mask) else tumor.to_mask(grid).array
    if not tmask.any():
        raise ValidationError("tumor", tumor, "has no voxel centre inside the grid; use a finer or larger grid")
    zmask = zone_mask.array if zone_mask is not None else _union_mask(zones, grid)

    diag = grid.voxel_diagonal_mm
    pad = max(float(crop_padding_mm), 2.0 * diag)
    lo_t, hi_t = Mask(tmask, grid).index_bounds()
    sd, origin_idx = None, None
    for full in (False, True):
        if full:
            lo, hi = np.zeros(3, dtype=np.int64), np.asarray(grid.shape)
        else:
            p = np.ceil(pad / grid.spacing_mm).astype(np.int64)
            lo, hi = np.maximum(lo_t - p, 0), np.minimum(hi_t + p, grid.shape)
        sl = tuple(slice(a, b) for a, b in zip(lo, hi))
        sd = _signed_field(zmask[sl], grid.spacing_mm)
        origin_idx = lo
        tm = tmask[sl]
        vals = sd[tm]
        m = float(vals.min())
        if full or (np.isfinite(m) and abs(m) < pad - diag):
            break
    if not np.isfinite(sd[tm]).all():
        raise ValidationError("zone", "zone mask", "has no voxel in the grid (or covers all of it); the margin is undefined")

    idx = np.argwhere(tm)
    world = grid.index_to_world(idx + origin_idx)
    values = sd[tm]
    keep = np.ones(len(values), dtype=bool)
    if exclusion is not None:
        keep = ~exclusion.excluded(world)
        if not keep.any():
            raise ValidationError("exclude.distance_mm", exclusion.distance_mm,
                                  "excludes the whole tumour; nothing is left to measure")
    best = int(np.flatnonzero(keep)[np.argmin(values[keep])])
    margin = float(values[best])
    thinnest = world[best]
    zone_pt = _nearest_other_label(zmask, grid, idx[best] + origin_idx, margin)

    # coverage: voxel counts (partial volumes for an analytic tumour)
    if isinstance(tumor, Ellipsoid):
        frac = tumor.volume_fractions(grid)
        total = float(frac.sum())
        covered = float(frac[zmask].sum())
        tvol = tumor.volume_mm3
    else:
        total = float(tmask.sum())
        covered = float(np.count_nonzero(tmask & zmask))
        tvol = total * grid.voxel_volume_mm3
    coverage = covered / total if total > 0 else 0.0
    ambiguous = np.count_nonzero(np.abs(values) <= diag) / len(values)
    mmap = _voxel_map(tumor, tm, sd, origin_idx, grid, exclusion, map_resolution_mm)
    return MarginResult(
        min_margin_mm=margin, coverage=coverage, coverage_error=float(ambiguous),
        uncovered_volume_mm3=(1.0 - coverage) * tvol, tumor_volume_mm3=tvol, thinnest_point_mm=thinnest,
        zone_point_mm=zone_pt, method="voxel-edt", error_bound_mm=diag, feature="voxel", margin_map=mmap,
        excluded_area_fraction=float(mmap.area_mm2[~mmap.included].sum() / mmap.area_mm2.sum()))


def _signed_field(zcrop: np.ndarray, spacing) -> np.ndarray:
    import edt

    aniso = tuple(float(s) for s in spacing)
    labels = np.require(zcrop, dtype=np.bool_, requirements=["C", "W"])  # edt needs a writable C array
    inside = edt.edt(labels, anisotropy=aniso, black_border=False)
    outside = edt.edt(~labels, anisotropy=aniso, black_border=False)
    return np.where(zcrop, inside, -outside).astype(np.float64)


def _nearest_other_label(zmask, grid, ijk, margin):
    """Centre of the nearest voxel of the other label (a zone-boundary point at voxel resolution)."""
    r = np.ceil((abs(margin) + grid.voxel_diagonal_mm) / grid.spacing_mm).astype(np.int64)
    lo = np.maximum(ijk - r, 0)
    hi = np.minimum(ijk + r + 1, grid.shape)
    window = zmask[tuple(slice(a, b) for a, b in zip(lo, hi))]
    inside = bool(zmask[tuple(ijk)])
    cand = np.argwhere(window != inside) + lo
    if len(cand) == 0:
        return grid.index_to_world(ijk)
    d = np.linalg.norm((cand - ijk) * grid.spacing_mm, axis=1)
    return grid.index_to_world(cand[int(np.argmin(d))])


def _voxel_map(tumor, tm, sd, origin_idx, grid, exclusion, map_resolution_mm):
    """Tumour surface (analytic mesh or marching cubes) with the field interpolated trilinearly at its vertices."""
    from scipy.ndimage import map_coordinates

    from ..shapes import Ellipsoid

    if isinstance(tumor, Ellipsoid):
        mesh = icosphere(level_for_cover(float(tumor.semi_axes_mm.max()), map_resolution_mm))
        pts = tumor.center_mm + mesh.vertices @ tumor.linear_map.T
        faces = mesh.faces
    else:
        from skimage.measure import marching_cubes

        vol = np.pad(tm.astype(np.float32), 1)
        verts, faces, _, _ = marching_cubes(vol, level=0.5)
        pts = grid.index_to_world(verts - 1 + origin_idx)
    local = grid.world_to_index(pts) - origin_idx
    finite = np.where(np.isfinite(sd), sd, 0.0)
    vals = map_coordinates(finite, local.T, order=1, mode="nearest")
    a, b, c = pts[faces[:, 0]], pts[faces[:, 1]], pts[faces[:, 2]]
    tri = 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)
    areas = np.zeros(len(pts))
    for k in range(3):
        np.add.at(areas, faces[:, k], tri / 3.0)
    included = np.ones(len(pts), dtype=bool) if exclusion is None else ~exclusion.excluded(pts)
    return MarginMap(pts, vals, areas, included, faces)
