"""Sub-voxel margins for masks: reconstructed surfaces and exact signed point-to-triangle distances.

The tumour mask's surface (:func:`~ablasim.geometry.surfaces.surface_from_mask`) is measured against the zone:

* a zone mask: its own reconstructed surface; signed distances from tumour points to it are exact for that mesh.
  Only the part of the zone within ``crop_padding_mm`` of the tumour is meshed first (the cut is closed by faces
  farther than that from every tumour point); if any tumour vertex lies that far from the zone, the whole zone is
  meshed (unless the crop already held all of it), so every value of the margin map is exact for the meshes;
* zone ellipsoids: exact point-to-ellipsoid distances. Outside every ellipsoid the distance to the union is the
  smallest of them (exact); inside, the deepest single-ellipsoid depth is a lower bound of the depth in the union
  (safe side) that is exact wherever the nearest boundary point is exposed.

Candidates for the minimum margin: every vertex of the tumour surface; the tumour voxel centres outside the zone
and deeper than a voxel diagonal inside the tumour surface (a hole in the zone inside the tumour, or a deep
protrusion, counts as in the other methods); and, with a capsule exclusion, the points where tumour-surface edges
cross the exclusion distance, found by bisection (the constrained minimum often lies on that edge). Organ masks are
meshed the same way, around the tumour, and their distance is exact for the mesh.

Error: the surfaces carry the reconstruction error of the masks, not of the distances. ``error_bound_mm`` is half
the voxel diagonal of the coarsest grid involved: how far the surface of a smooth shape consistent with a mask may
lie from the reconstructed one where the mask gives least information. Measured errors against analytic shapes
are smaller (docs/images.md).
"""

from __future__ import annotations

import numpy as np

from ..errors import ValidationError
from ..geometry._kernels.distance import distance_to_false
from ..geometry.mask import Mask
from ..geometry.shapes import Ellipsoid
from ..geometry.surfaces import SurfaceMesh, crop_bounds, cut_faces, mesh_mask, smoothing_mm
from .result import MarginMap, MarginResult

__all__ = ["mesh_margin"]

_CLOSING = 3.0  # a cropped surface follows the mask from this many smoothing widths and a voxel inside the crop on


def mesh_margin(
    tumor: Mask,
    zones,
    zone_mask: Mask | None,
    *,
    exclusion=None,
    smoothing_voxels: float = 1.5,
    crop_padding_mm: float = 10.0,
) -> MarginResult:
    """Margin of a tumour mask against ``zone_mask`` (Mask) or the union of ``zones`` (Ellipsoids)."""
    t_lo, t_hi = tumor.index_bounds()
    t_surf = mesh_mask(tumor, t_lo, t_hi, smoothing_voxels, True, "tumor")
    verts = t_surf.vertices_mm
    grids = [tumor.grid]
    organ_dist = organ_cross = None
    included = np.ones(len(verts), dtype=bool)
    if exclusion is not None:
        organ_dist, organ_cross, organ_grid, included = _organ_distance(exclusion, smoothing_voxels, t_surf)
        if organ_grid is not None:
            grids.append(organ_grid)
        if not included.any():
            raise ValidationError(
                "exclude.distance_mm", exclusion.distance_mm, "excludes the whole tumour; nothing is left to measure"
            )
    if zone_mask is not None:
        _check_overlap(tumor, zone_mask, "zone")
        grids.append(zone_mask.grid)

        def inside(points):
            return _lookup(zone_mask, points)

        z_surf, sd, closest = _zone_mesh(t_surf, zone_mask, smoothing_voxels, crop_padding_mm)

        def zone_sd(points):
            return z_surf.signed_distance(points)
    else:

        def zone_sd(points):
            return _union_sd(zones, points)

        def inside(points):
            pts = np.asarray(points, dtype=float).reshape(-1, 3)
            out = np.zeros(len(pts), dtype=bool)
            for z in zones:
                out |= z.contains(pts)
            return out

        sd, closest = zone_sd(verts)
    margins = -sd
    cand_pts, cand_m, cand_zone = [verts[included]], [margins[included]], [closest[included]]
    cand_feat = [np.zeros(int(included.sum()), dtype=np.int8)]

    # tumour voxel centres outside the zone (interior holes and deep protrusions)
    lo, hi = t_lo, t_hi
    crop = tumor.array[tuple(slice(x, y) for x, y in zip(lo, hi))]
    centres = tumor.grid.index_to_world(np.argwhere(crop) + lo)
    # a zone mask on the tumour's grid is read directly on the tumour's box (and one voxel around it), not through
    # world coordinates: the same values, without rounding a coordinate per voxel
    zbox = _zone_box(zone_mask, lo, hi) if zone_mask is not None and zone_mask.grid.same_as(tumor.grid) else None
    cov = inside(centres) if zbox is None else zbox[1:-1, 1:-1, 1:-1][crop]
    if not cov.all():
        zone_in = None if zbox is None else zbox[1:-1, 1:-1, 1:-1]
        keep, est = _interior_candidates(tumor, lo, crop, cov, inside, zone_in)
        if organ_dist is not None and keep.any():
            keep[keep] = organ_dist(centres[keep]) > exclusion.distance_mm
        if keep.any() and est is not None:  # screen by the estimate (within a voxel diagonal of the distance)
            slack = max(g.voxel_diagonal_mm for g in grids)
            top = float(est[keep].max())
            keep &= (est + slack >= -float(margins[included].min())) & (est + slack >= top - slack)
        out_pts = centres[keep]
        if len(out_pts):
            s, c = zone_sd(out_pts)
            cand_pts.append(out_pts)
            cand_m.append(-s)
            cand_zone.append(c)
            cand_feat.append(np.ones(len(out_pts), dtype=np.int8))
    if organ_dist is not None and not included.all():
        edge_pts = _exclusion_edge_points(t_surf, included, organ_cross, exclusion.distance_mm)
        if len(edge_pts):
            s, c = zone_sd(edge_pts)
            cand_pts.append(edge_pts)
            cand_m.append(-s)
            cand_zone.append(c)
            cand_feat.append(np.full(len(edge_pts), 2, dtype=np.int8))

    all_m = np.concatenate(cand_m)
    best = int(np.argmin(all_m))
    feature = ("surface", "interior", "exclusion-edge")[int(np.concatenate(cand_feat)[best])]

    coverage = float(np.count_nonzero(cov)) / len(centres)
    diag = max(float(np.linalg.norm(g.spacing_mm)) for g in grids)
    # coverage error: tumour voxels whose zone label could flip (a neighbour along a grid axis has the other label)
    if zbox is None:
        near = np.zeros(len(centres), dtype=bool)
        axes = tumor.grid.direction * tumor.grid.spacing_mm[None, :]
        for k in range(3):
            for sign in (-1.0, 1.0):
                near |= inside(centres + sign * axes[:, k]) != cov
    else:  # the six neighbours of each voxel of the box, read from the box one voxel larger
        flip = np.zeros(crop.shape, dtype=bool)
        for k in range(3):
            for first in (0, 2):
                sel = tuple(slice(first, first + n) if a == k else slice(1, 1 + n) for a, n in enumerate(crop.shape))
                flip |= zbox[sel] != zbox[1:-1, 1:-1, 1:-1]
        near = flip[crop]
    tvol = len(centres) * tumor.grid.voxel_volume_mm3
    areas = t_surf.vertex_areas_mm2()
    mmap = MarginMap(verts, margins, areas, included, t_surf.faces)
    return MarginResult(
        min_margin_mm=float(all_m[best]),
        coverage=coverage,
        coverage_error=float(np.count_nonzero(near) / len(centres)),
        uncovered_volume_mm3=(1.0 - coverage) * tvol,
        tumor_volume_mm3=tvol,
        thinnest_point_mm=np.concatenate(cand_pts)[best],
        zone_point_mm=np.concatenate(cand_zone)[best],
        method="mesh",
        error_bound_mm=0.5 * diag,
        feature=feature,
        margin_map=mmap,
        excluded_area_fraction=float(areas[~included].sum() / areas.sum()),
    )


def _zone_box(zone: Mask, lo, hi) -> np.ndarray:
    """The zone mask on the index box ``[lo - 1, hi + 1)`` of its grid (False beyond the grid)."""
    lo1, hi1 = np.asarray(lo) - 1, np.asarray(hi) + 1
    a, b = np.maximum(lo1, 0), np.minimum(hi1, zone.grid.shape)
    out = np.zeros(tuple(hi1 - lo1), dtype=bool)
    out[tuple(slice(x - y, z - y) for x, y, z in zip(a, lo1, b))] = zone.array[tuple(slice(x, z) for x, z in zip(a, b))]
    return out


def _interior_candidates(tumor: Mask, lo, crop, cov, inside, zone_in=None):
    """Tumour voxel centres (``crop`` of the tumour mask at index ``lo``, in ``np.argwhere`` order; ``cov``: inside
    the zone) outside the zone and deeper than a voxel diagonal inside the tumour (the distance to the nearest voxel
    outside it, less half a voxel); and for each centre the distance to the nearest zone voxel centre on the same
    crop, which lies within a voxel diagonal of the distance to the zone's surface (None when the crop holds no
    zone voxel). ``zone_in``: the zone on the crop when already known."""
    grid = tumor.grid
    sp = tuple(float(x) for x in grid.spacing_mm)
    padded = np.pad(crop, 1)
    depth = np.empty(padded.shape)
    distance_to_false(padded, *sp, depth)
    depth = depth[1:-1, 1:-1, 1:-1] - 0.5 * min(sp)
    keep = ~cov & (depth[crop] >= grid.voxel_diagonal_mm)
    if not keep.any():
        return keep, None
    if zone_in is None:
        zone_in = inside(grid.index_to_world(np.indices(crop.shape).reshape(3, -1).T + lo)).reshape(crop.shape)
    if not zone_in.any():
        return keep, None
    near = np.empty(crop.shape)
    distance_to_false(np.ascontiguousarray(~zone_in), *sp, near)
    return keep, near[crop]


def _zone_mesh(t_surf: SurfaceMesh, zone: Mask, smoothing_voxels: float, reach_mm: float):
    """The zone surface near the tumour, and the signed distances of the tumour vertices to it (module docstring:
    the part within ``reach_mm`` first, the whole zone when a vertex lies farther than that from it)."""
    verts = t_surf.vertices_mm
    lo, hi = verts.min(axis=0), verts.max(axis=0)
    closing = _CLOSING * smoothing_mm(zone.grid.spacing_mm, smoothing_voxels) + zone.grid.voxel_diagonal_mm
    crop = crop_bounds(zone.array, *zone.grid.index_box(lo - reach_mm - closing, hi + reach_mm + closing))
    if crop is not None and not _surely_beyond(verts, zone, crop, reach_mm):
        surf = mesh_mask(zone, *crop, smoothing_voxels, True, "zone")
        sd, closest = surf.signed_distance(verts)
        if float(np.abs(sd).max()) < reach_mm:
            return surf, sd, closest
        cut = any(c.any() for c in cut_faces(zone.array, *crop))
        # uncut, the crop holds every part of the zone that a tumour point inside it can see, and every other part
        # lies farther than reach + closing from the tumour; holding every zone voxel, it is the whole zone's mesh
        if not cut and (
            float(sd.max()) < reach_mm + closing
            or np.count_nonzero(zone.array[tuple(slice(a, b) for a, b in zip(*crop))]) == zone.count
        ):
            return surf, sd, closest
    # a tumour vertex farther than reach_mm from the zone (or no zone near): the whole zone
    surf = mesh_mask(zone, *zone.index_bounds(), smoothing_voxels, True, "zone")
    sd, closest = surf.signed_distance(verts)
    return surf, sd, closest


def _surely_beyond(verts, zone: Mask, crop, reach_mm: float) -> bool:
    """Whether a tumour vertex lies farther than ``reach_mm`` and a voxel diagonal from the box of the zone voxel
    centres in the index box ``crop`` (a lower bound of its distance to every one of them): its distance to the
    zone's surface, which stays within a voxel of those centres, then exceeds ``reach_mm``, and a mesh of the
    cropped zone would be made only to be replaced by the whole zone's. Only a shortcut: either way every value of
    the margin map is exact for the meshes."""
    lo, hi = crop
    idx = zone.grid.world_to_index(verts)
    gap = np.maximum(np.maximum(lo - idx, idx - (hi - 1)), 0.0) * zone.grid.spacing_mm
    return bool(np.sqrt((gap * gap).sum(axis=1)).max() > reach_mm + zone.grid.voxel_diagonal_mm)


def _union_sd(zones, points):
    """Signed distance to a union of ellipsoids (> 0 outside) and the nearest boundary point (module docstring)."""
    pts = np.ascontiguousarray(np.asarray(points, dtype=float).reshape(-1, 3))
    sds = np.stack([z.signed_distance(pts) for z in zones])
    feet = np.stack([z.nearest_surface_point(pts) for z in zones]) if len(pts) else np.zeros((len(zones), 0, 3))
    inside = sds < 0
    outside_pick = np.argmin(sds, axis=0)
    inside_pick = np.argmin(np.where(inside, sds, np.inf), axis=0)  # most negative = deepest
    pick = np.where(inside.any(axis=0), inside_pick, outside_pick)
    cols = np.arange(len(pts))
    return sds[pick, cols], feet[pick, cols]


def _lookup(mask: Mask, points) -> np.ndarray:
    """Mask value at the voxel nearest each world point (False outside the grid)."""
    idx = np.rint(mask.grid.world_to_index(np.asarray(points, dtype=float).reshape(-1, 3))).astype(np.int64)
    ok = np.all((idx >= 0) & (idx < np.asarray(mask.grid.shape)), axis=1)
    out = np.zeros(len(idx), dtype=bool)
    out[ok] = mask.array[tuple(idx[ok].T)]
    return out


def _check_overlap(tumor: Mask, other: Mask, field: str) -> None:
    lo_a, hi_a = tumor.grid.world_bounds()
    lo_b, hi_b = other.grid.world_bounds()
    gap = np.maximum(lo_b - hi_a, lo_a - hi_b)
    if np.any(gap > 0):
        raise ValidationError(
            f"{field}.grid",
            other.grid,
            f"does not overlap the tumour's grid (separated by {float(gap.max()):.1f} mm): "
            "are both images in the same patient frame?",
        )


def _organ_distance(exclusion, smoothing_voxels, t_surf: SurfaceMesh):
    """Unsigned distance to the organ boundary, crossings of the exclusion distance along segments, the organ's
    grid, and which tumour vertices lie farther than the exclusion distance. An organ mask is meshed only in a box
    around the tumour surface wider than the exclusion distance by a voxel diagonal plus the reach of the crop's
    edge (``_CLOSING``), so the part of the mesh that is not the organ's lies farther than the exclusion distance
    from every tumour point and never decides an exclusion."""

    organ, limit = exclusion.organ, exclusion.distance_mm
    verts = t_surf.vertices_mm
    if isinstance(organ, Ellipsoid):

        def dist(pts):
            return np.abs(organ.signed_distance(pts))

        def cross(a, b, level, iterations):
            for _ in range(iterations):
                mid = 0.5 * (a + b)
                inc = dist(mid) > level
                a = np.where(inc[:, None], mid, a)
                b = np.where(inc[:, None], b, mid)
            return a

        return dist, cross, None, dist(verts) > limit
    lo, hi = verts.min(axis=0), verts.max(axis=0)
    grid = organ.grid
    lo_o, hi_o = grid.world_bounds()
    gap = np.maximum(lo_o - hi, lo - hi_o)
    if np.any(gap > 0):
        raise ValidationError(
            "exclude.organ.grid",
            grid,
            f"does not overlap the tumour (separated by {float(gap.max()):.1f} mm): "
            "are both images in the same patient frame?",
        )
    reach = limit + _CLOSING * smoothing_mm(grid.spacing_mm, smoothing_voxels) + grid.voxel_diagonal_mm
    crop = crop_bounds(organ.array, *grid.index_box(lo - reach, hi + reach))
    if crop is None:  # no organ voxel near the tumour: its boundary is farther than the exclusion distance
        return (lambda pts: np.full(len(np.asarray(pts).reshape(-1, 3)), np.inf)), None, grid, np.ones(len(verts), bool)
    surf = mesh_mask(organ, *crop, smoothing_voxels, True, "exclude.organ")
    return surf.distance, surf.level_crossings, grid, surf.distance(verts) > limit


def _exclusion_edge_points(surf: SurfaceMesh, included, cross, limit_mm, iterations: int = 30):
    """Points on tumour-surface edges where the organ distance crosses ``limit_mm`` (bisection by ``cross``)."""
    e = surf.edges()
    edges = e[included[e[:, 0]] != included[e[:, 1]]]
    if len(edges) == 0:
        return np.zeros((0, 3))
    v = surf.vertices_mm
    first_in = included[edges[:, 0]][:, None]
    a = np.where(first_in, v[edges[:, 0]], v[edges[:, 1]])  # included end
    b = np.where(first_in, v[edges[:, 1]], v[edges[:, 0]])  # excluded end
    return cross(a, b, limit_mm, iterations)
