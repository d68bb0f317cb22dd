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
not certified inside the crop (``|margin|`` within a voxel of the padding, or no zone voxel in the crop: the nearest
voxel of the other label may lie outside it), the padding is tripled, then the full grid is used.
"""

from __future__ import annotations

import numpy as np

from ..errors import ValidationError
from ..geometry._sphere_mesh import icosphere, level_for_cover
from ..geometry.mask import Mask
from ..geometry.shapes import Ellipsoid
from .result import MarginMap, MarginResult

__all__ = ["voxel_margin"]


def voxel_margin(
    tumor, zones, zone_mask, *, grid, exclusion=None, crop_padding_mm: float = 10.0, map_resolution_mm: float = 1.0
) -> MarginResult:
    """``tumor``: Ellipsoid or Mask; the zone is ``zone_mask`` (Mask) or the union of ``zones``, rasterised on the
    crop only (voxel centres inside)."""

    diag = grid.voxel_diagonal_mm
    pad = max(float(crop_padding_mm), 2.0 * diag)
    if isinstance(tumor, Mask):
        lo_t, hi_t = tumor.index_bounds()
    else:
        lo_t, hi_t = grid.index_box(*tumor.bounding_box())
    if np.any(hi_t <= lo_t):
        raise ValidationError("tumor", tumor, "lies outside the grid")
    for _attempt, pad_mm in enumerate((pad, 3.0 * pad, None)):
        if pad_mm is None:
            lo, hi = np.zeros(3, dtype=np.int64), np.asarray(grid.shape, dtype=np.int64)
        else:
            p = np.ceil(pad_mm / grid.spacing_mm).astype(np.int64)
            lo, hi = np.maximum(lo_t - p, 0), np.minimum(hi_t + p, grid.shape)
        full = bool(np.all(lo == 0) and np.all(hi == grid.shape))
        sub = grid.subgrid(lo, hi)
        sub.check_fits(
            1 + 1 + 4 + 4 + 8 + 4,
            "the voxel margin (masks, distance fields, partial volumes) on the grid cropped around the tumour",
        )
        sl = tuple(slice(a, b) for a, b in zip(lo, hi))
        tm = tumor.array[sl] if isinstance(tumor, Mask) else tumor.to_mask(sub).array
        if not tm.any():
            raise ValidationError("tumor", tumor, "has no voxel centre inside the grid; use a finer or larger grid")
        if zone_mask is not None:
            zm = zone_mask.array[sl]
        else:
            zm = np.zeros(sub.shape, dtype=np.bool_)
            for z in zones:
                zm |= z.to_mask(sub).array
        sd = _signed_field(zm, grid.spacing_mm)
        m = float(sd[tm].min())
        if full or (np.isfinite(m) and abs(m) < pad_mm - diag):
            break
    values = sd[tm]
    if not np.isfinite(values).all():
        raise ValidationError(
            "zone", "zone mask", "has no voxel in the grid (or covers all of it); the margin is undefined"
        )

    idx = np.argwhere(tm)
    world = sub.index_to_world(idx)
    keep = np.ones(len(values), dtype=bool)
    if exclusion is not None:
        keep = ~exclusion.excluded(world)
        if not keep.any():
            raise ValidationError(
                "exclude.distance_mm", exclusion.distance_mm, "excludes the whole tumour; nothing is left to measure"
            )
    best = int(np.flatnonzero(keep)[np.argmin(values[keep])])
    margin = float(values[best])
    zone_pt = _nearest_other_label(zm, sub, idx[best], margin)

    # coverage: voxel counts (partial volumes for an analytic tumour; the crop holds all of its grid voxels)
    if isinstance(tumor, Ellipsoid):
        frac = tumor.volume_fractions(sub)
        total = float(frac.sum())
        covered = float(frac[zm].sum())
        tvol = tumor.volume_mm3
    else:
        total = float(tm.sum())
        covered = float(np.count_nonzero(tm & zm))
        tvol = total * grid.voxel_volume_mm3
    coverage = covered / total if total > 0 else 0.0
    ambiguous = np.count_nonzero(np.abs(values) <= diag) / len(values)
    mmap = _voxel_map(tumor, tm, sd, sub, exclusion, map_resolution_mm)
    return MarginResult(
        min_margin_mm=margin,
        coverage=coverage,
        coverage_error=float(ambiguous),
        uncovered_volume_mm3=(1.0 - coverage) * tvol,
        tumor_volume_mm3=tvol,
        thinnest_point_mm=world[best],
        zone_point_mm=zone_pt,
        method="voxel-edt",
        error_bound_mm=diag,
        feature="voxel",
        margin_map=mmap,
        excluded_area_fraction=float(mmap.area_mm2[~mmap.included].sum() / mmap.area_mm2.sum()),
    )


def _signed_field(zcrop: np.ndarray, spacing) -> np.ndarray:
    import edt

    aniso = tuple(float(s) for s in spacing)
    labels = np.require(zcrop, dtype=np.bool_, requirements=["C", "W"])  # edt needs a writable C array
    inside = edt.edt(labels, anisotropy=aniso, black_border=False)
    outside = edt.edt(~labels, anisotropy=aniso, black_border=False)
    return np.where(zcrop, inside, -outside).astype(np.float64)


def _nearest_other_label(zmask, grid, ijk, margin):  # grid: the grid zmask lies on
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


def _voxel_map(tumor, tm, sd, grid, exclusion, map_resolution_mm):  # grid: the grid tm and sd lie on
    """Tumour surface (analytic mesh or marching cubes) with the field interpolated trilinearly at its vertices."""
    from scipy.ndimage import map_coordinates

    if isinstance(tumor, Ellipsoid):
        mesh = icosphere(level_for_cover(float(tumor.semi_axes_mm.max()), map_resolution_mm))
        pts = tumor.center_mm + mesh.vertices @ tumor.linear_map.T
        faces = mesh.faces
    else:
        from skimage.measure import marching_cubes

        vol = np.pad(tm.astype(np.float32), 1)
        verts, faces, _, _ = marching_cubes(vol, level=0.5)
        pts = grid.index_to_world(verts - 1)
    local = grid.world_to_index(pts)
    finite = np.where(np.isfinite(sd), sd, 0.0)
    vals = map_coordinates(finite, local.T, order=1, mode="nearest")
    a, b, c = pts[faces[:, 0]], pts[faces[:, 1]], pts[faces[:, 2]]
    tri = 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)
    areas = np.zeros(len(pts))
    for k in range(3):
        np.add.at(areas, faces[:, k], tri / 3.0)
    included = np.ones(len(pts), dtype=bool) if exclusion is None else ~exclusion.excluded(pts)
    return MarginMap(pts, vals, areas, included, faces)
