"""Sub-voxel margins for masks: smoothed surfaces and exact signed point-to-triangle distances.

The tumour mask's surface (:func:`~ablasim.geometry.surfaces.surface_from_mask`) is measured against the zone:

* a zone mask: its own smoothed surface; signed distances from tumour points to it are exact for that mesh;
* zone ellipsoids: exact point-to-ellipsoid distances. Outside every ellipsoid the distance to the union is the
  smallest of them (exact); inside, the deepest single-ellipsoid depth is a lower bound of the depth in the union
  (safe side) that is exact wherever the nearest boundary point is exposed.

Candidates for the minimum margin: every vertex of the tumour surface; the tumour voxel centres outside the zone (a
hole in the zone inside the tumour, or a deep protrusion, counts as in the other methods); and, with a capsule
exclusion, the points where tumour-surface edges cross the exclusion distance, found by bisection (the constrained
minimum often lies on that edge). Organ masks are meshed the same way and their distance is exact for the mesh.

Error: the surfaces carry the reconstruction error of the masks, not of the distances. ``error_bound_mm`` is half
the voxel diagonal of the coarsest grid involved: how far the surface of a smooth shape consistent with a mask may
lie from the reconstructed one where the mask gives least information (a grid-aligned pole of a sphere). Measured
errors against analytic shapes are smaller (docs/images.md).
"""

from __future__ import annotations

import numpy as np

from ..errors import ValidationError
from ..geometry.mask import Mask
from ..geometry.shapes import Ellipsoid
from ..geometry.surfaces import SurfaceMesh, surface_from_mask
from .result import MarginMap, MarginResult

__all__ = ["mesh_margin"]


def mesh_margin(tumor: Mask, zones, zone_mask: Mask | None, *, exclusion=None, smoothing_voxels: float = 1.5):
    """Margin of a tumour mask against ``zone_mask`` (Mask) or the union of ``zones`` (Ellipsoids)."""
    t_surf = surface_from_mask(tumor, smoothing_voxels=smoothing_voxels, name="tumor")
    grids = [tumor.grid]
    if zone_mask is not None:
        _check_overlap(tumor, zone_mask, "zone")
        z_surf = surface_from_mask(zone_mask, smoothing_voxels=smoothing_voxels, name="zone")
        grids.append(zone_mask.grid)

        def zone_sd(points):
            return z_surf.signed_distance(points)

        def inside(points):
            return _lookup(zone_mask, points)
    else:

        def zone_sd(points):
            return _union_sd(zones, points)

        def inside(points):
            pts = np.asarray(points, dtype=float).reshape(-1, 3)
            out = np.zeros(len(pts), dtype=bool)
            for z in zones:
                out |= z.contains(pts)
            return out

    organ_dist = None
    if exclusion is not None:
        organ_dist, organ_grid = _organ_distance(exclusion, smoothing_voxels, tumor)
        if organ_grid is not None:
            grids.append(organ_grid)

    verts = t_surf.vertices_mm
    sd, closest = zone_sd(verts)
    margins = -sd
    included = np.ones(len(verts), dtype=bool)
    if organ_dist is not None:
        included = organ_dist(verts) > exclusion.distance_mm
        if not included.any():
            raise ValidationError(
                "exclude.distance_mm", exclusion.distance_mm, "excludes the whole tumour; nothing is left to measure"
            )
    cand_pts = [verts[included]]
    cand_m = [margins[included]]
    cand_zone = [closest[included]]
    cand_feat = [np.zeros(int(included.sum()), dtype=np.int8)]

    # tumour voxel centres outside the zone (interior holes and deep protrusions)
    idx = np.argwhere(tumor.array)
    centres = tumor.grid.index_to_world(idx)
    cov = inside(centres)
    if not cov.all():
        out_pts = centres[~cov]
        # only centres deeper than a voxel diagonal inside the tumour surface: nearer ones are represented by the
        # surface vertices, whose reconstruction matches the zone's (a voxel centre on the true surface does not)
        keep = t_surf.signed_distance(out_pts)[0] < -tumor.grid.voxel_diagonal_mm
        if organ_dist is not None:
            keep &= organ_dist(out_pts) > exclusion.distance_mm
        out_pts = out_pts[keep]
        if len(out_pts):
            s, c = zone_sd(out_pts)
            cand_pts.append(out_pts)
            cand_m.append(-s)
            cand_zone.append(c)
            cand_feat.append(np.ones(len(out_pts), dtype=np.int8))
    if organ_dist is not None and not included.all():
        edge_pts = _exclusion_edge_points(t_surf, included, organ_dist, exclusion.distance_mm)
        if len(edge_pts):
            s, c = zone_sd(edge_pts)
            cand_pts.append(edge_pts)
            cand_m.append(-s)
            cand_zone.append(c)
            cand_feat.append(np.full(len(edge_pts), 2, dtype=np.int8))

    all_m = np.concatenate(cand_m)
    best = int(np.argmin(all_m))
    feature = ("surface", "interior", "exclusion-edge")[int(np.concatenate(cand_feat)[best])]

    covered = float(np.count_nonzero(cov))
    coverage = covered / len(centres)
    diag = max(float(np.linalg.norm(g.spacing_mm)) for g in grids)
    # coverage error: tumour voxels whose zone label could flip (a neighbour along a grid axis has the other label)
    near = np.zeros(len(centres), dtype=bool)
    axes = tumor.grid.direction * tumor.grid.spacing_mm[None, :]
    for k in range(3):
        for sign in (-1.0, 1.0):
            near |= inside(centres + sign * axes[:, k]) != cov
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


def _organ_distance(exclusion, smoothing_voxels, tumor):
    """Unsigned distance to the organ boundary. An organ mask is meshed only in a box around the tumour that is
    wider than the exclusion distance by three voxel diagonals plus the smoothing, so the faces closing the cropped
    surface lie farther than the exclusion distance from every tumour point and never decide an exclusion."""

    organ = exclusion.organ
    if isinstance(organ, Ellipsoid):
        return (lambda pts: np.abs(organ.signed_distance(pts))), None
    _check_overlap(tumor, organ, "exclude.organ")
    diag = max(organ.grid.voxel_diagonal_mm, tumor.grid.voxel_diagonal_mm)
    reach = exclusion.distance_mm + (3.0 + 3.0 * smoothing_voxels) * diag
    lo, hi = tumor.world_bounds()
    try:
        surf = surface_from_mask(
            organ, smoothing_voxels=smoothing_voxels, name="exclude.organ", within_mm=(lo - reach, hi + reach)
        )
    except ValidationError:  # no organ voxel near the tumour: its boundary is farther than the exclusion distance
        return (lambda pts: np.full(len(np.asarray(pts).reshape(-1, 3)), np.inf)), organ.grid
    return (lambda pts: np.abs(surf.signed_distance(pts)[0])), organ.grid


def _exclusion_edge_points(surf: SurfaceMesh, included, organ_dist, limit_mm, iterations: int = 30):
    """Points on tumour-surface edges where the organ distance crosses ``limit_mm`` (bisection along each edge)."""
    e = surf.edges()
    cross = e[included[e[:, 0]] != included[e[:, 1]]]
    if len(cross) == 0:
        return np.zeros((0, 3))
    v = surf.vertices_mm
    a = np.where(included[cross[:, 0]][:, None], v[cross[:, 0]], v[cross[:, 1]])  # included end
    b = np.where(included[cross[:, 0]][:, None], v[cross[:, 1]], v[cross[:, 0]])  # excluded end
    for _ in range(iterations):
        mid = 0.5 * (a + b)
        inc = organ_dist(mid) > limit_mm
        a = np.where(inc[:, None], mid, a)
        b = np.where(inc[:, None], b, mid)
    return a
