"""The public entry point: :func:`measure_margin`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from .._validation import as_float
from ..errors import ValidationError
from ..geometry._sphere_mesh import icosphere
from ..geometry.grid import Grid
from ..geometry.mask import Mask
from ..geometry.shapes import Ellipsoid
from ..zones.implicit import ImplicitZone
from ..zones.synergy import SynergyZone
from .exact import exact_margin
from .exclusion import CapsuleExclusion
from .isosurface import isosurface_margin
from .level_set import level_set_margin
from .mesh import mesh_margin
from .result import MarginResult
from .voxel import voxel_margin

__all__ = ["METHODS", "measure_margin"]

METHODS = ("auto", "exact", "voxel", "mesh")


def measure_margin(
    tumor,
    zone,
    *,
    grid: Grid | None = None,
    exclude: CapsuleExclusion | None = None,
    method: str = "auto",
    resolution_mm: float = 0.5,
    map_resolution_mm: float = 1.0,
    crop_padding_mm: float = 10.0,
) -> MarginResult:
    """Signed minimum margin and coverage of ``tumor`` by the ablation ``zone``.

    Parameters
    ----------
    tumor : Ellipsoid or Mask
    zone : Ellipsoid, a sequence of Ellipsoids (their union), Mask, or an implicit zone ``{field <= level}``
        (:class:`ablasim.zones.ImplicitZone`: a temperature field on a grid, the cold-synergy model)
    grid : Grid for the voxel method when both shapes are analytic (masks carry their own grid)
    exclude : CapsuleExclusion; tumour-surface points that close to an organ boundary are left out of the
        margin statistics (not of coverage)
    method : ``"auto"`` (exact for ellipsoids, isosurface for an ellipsoid in an implicit zone, mesh for a tumour
        mask, voxel for an ellipsoid in a zone mask), ``"exact"``, ``"mesh"`` (tumour masks: reconstructed
        surfaces and exact point-to-triangle distances, sub-voxel; the zone and organ may be masks on other grids;
        docs/images.md) or ``"voxel"`` (edt: the fast screening method, biased by up to a voxel diagonal)
    resolution_mm : exact method: every point of the surfaces searched lies within this distance of a sample
        (the samples seed exact local refinement; see docs/methods.md for the error bound)
    map_resolution_mm : sample spacing of the tumour-surface margin map; None: no map (exact method only; faster)
    crop_padding_mm : voxel method: distance kept around the tumour when cropping the distance transform
        (enlarged automatically when the margin is not certified inside the crop); mesh method: the zone mask is
        meshed within this distance of the tumour first (the whole zone when a tumour point lies farther from it)

    Returns
    -------
    MarginResult. Sign: ``min_margin_mm > 0``: the zone extends that far beyond the tumour surface at the thinnest
    point; ``< 0``: the tumour protrudes that far outside the zone. ``coverage`` = tumour volume inside the zone /
    tumour volume.
    """
    if not isinstance(tumor, (Ellipsoid, Mask)):
        raise ValidationError("tumor", tumor, "expected an Ellipsoid or a Mask")
    zones, zone_mask = _zone(zone)
    if grid is not None and not isinstance(grid, Grid):
        raise ValidationError("grid", grid, "expected an ablasim.Grid or None")
    if exclude is not None and not isinstance(exclude, CapsuleExclusion):
        raise ValidationError("exclude", exclude, "expected a CapsuleExclusion(organ, distance_mm) or None")
    if method not in METHODS:
        raise ValidationError("method", method, f"expected one of {', '.join(METHODS)}")
    res = as_float(resolution_mm, "resolution_mm", positive=True, maximum=10.0)
    map_res = (
        None
        if map_resolution_mm is None
        else as_float(map_resolution_mm, "map_resolution_mm", positive=True, maximum=20.0)
    )
    pad = as_float(crop_padding_mm, "crop_padding_mm", positive=True)
    if isinstance(tumor, Mask) and tumor.is_empty():
        raise ValidationError("tumor", tumor, "the tumour mask is empty")

    result = _measure(tumor, zone, zones, zone_mask, grid, exclude, method, res, map_res, pad)
    notes = _exclusion_warnings(tumor, exclude)
    return replace(result, warnings=tuple(result.warnings) + notes) if notes else result


def _measure(tumor, zone, zones, zone_mask, grid, exclude, method, res, map_res, pad) -> MarginResult:
    if isinstance(zone, ImplicitZone):
        if method == "exact":
            raise ValidationError("method", method, "an implicit zone is measured on its isosurface; use auto")
        if method == "auto" and isinstance(tumor, Ellipsoid):
            if isinstance(zone, SynergyZone) and exclude is None:
                fast = level_set_margin(tumor, zone, resolution_mm=res, map_resolution_mm=map_res)
                if fast is not None:  # a covered tumour; otherwise the isosurface search below
                    return fast
            return isosurface_margin(
                tumor, zone, resolution_mm=res, map_resolution_mm=1.0 if map_res is None else map_res, exclusion=exclude
            )
        vgrid = tumor.grid if isinstance(tumor, Mask) else _voxel_grid(tumor, None, grid)
        zone_mask = _rasterise_implicit(zone, tumor, vgrid, pad)
        zones = []
    analytic = isinstance(tumor, Ellipsoid) and zone_mask is None
    if method == "mesh" and not isinstance(tumor, Mask):
        raise ValidationError("method", method, "the mesh method measures a tumour Mask; use exact for ellipsoids")
    if method == "mesh" or (method == "auto" and isinstance(tumor, Mask)):
        return mesh_margin(tumor, zones, zone_mask, exclusion=exclude, crop_padding_mm=pad)
    if method == "exact" and not analytic:
        raise ValidationError("method", method, "the exact method needs an Ellipsoid tumour and Ellipsoid zones")
    if map_res is None and not (method in ("auto", "exact") and analytic):
        map_res = 1.0  # the isosurface and voxel methods always build their map
    if method == "exact" or (method == "auto" and analytic):
        return exact_margin(tumor, zones, resolution_mm=res, map_resolution_mm=map_res, exclusion=exclude)

    vgrid = _voxel_grid(tumor, zone_mask, grid)
    return voxel_margin(
        tumor, zones, zone_mask, grid=vgrid, exclusion=exclude, crop_padding_mm=pad, map_resolution_mm=map_res
    )


def _exclusion_warnings(tumor, exclude) -> tuple[str, ...]:
    """Capsule exclusion assumes a tumour inside the organ: say so when it is not (checked on tumour-surface
    samples: every vertex of a level-3 sphere mesh for an ellipsoid, the mask's voxels for a mask)."""
    if exclude is None:
        return ()
    if isinstance(tumor, Ellipsoid):
        pts = tumor.center_mm + icosphere(3).vertices @ tumor.linear_map.T
    else:
        lo, hi = tumor.index_bounds()
        pts = tumor.grid.index_to_world(np.argwhere(tumor.array[tuple(slice(a, b) for a, b in zip(lo, hi))]) + lo)
    inside = _organ_contains(exclude.organ, pts)
    if not inside.any():
        return (
            "the tumour lies entirely outside the organ given for capsule exclusion: check the organ (exclude.organ)"
            "; nothing beyond a capsule it does not touch should be excluded",
        )
    if not inside.all():
        return (
            f"{100 * (1 - inside.mean()):.0f} % of the tumour lies outside the organ given for capsule "
            "exclusion (exclude.organ)",
        )
    return ()


def _organ_contains(organ, pts) -> np.ndarray:
    if isinstance(organ, Ellipsoid):
        return organ.contains(pts)
    idx = np.rint(organ.grid.world_to_index(pts)).astype(np.int64)
    ok = np.all((idx >= 0) & (idx < np.asarray(organ.grid.shape)), axis=1)
    out = np.zeros(len(pts), dtype=bool)
    out[ok] = organ.array[tuple(idx[ok].T)]
    return out


def _rasterise_implicit(zone, tumor, grid, pad_mm):
    """Mask of voxel centres inside an implicit zone, evaluated on the crop around the tumour that the voxel path
    can use (tumour box plus three times the padding); the rest of the grid is left outside the zone."""
    if isinstance(tumor, Mask):
        lo, hi = tumor.index_bounds()
        p = np.ceil(3 * pad_mm / grid.spacing_mm).astype(np.int64)
        lo, hi = np.maximum(lo - p, 0), np.minimum(hi + p, grid.shape)
    else:
        lo, hi = grid.index_box(*tumor.bounding_box(), padding_mm=3 * pad_mm)
    sub = grid.subgrid(lo, hi)
    grid.check_fits(1, "the rasterised implicit zone")
    out = np.zeros(grid.shape, dtype=np.bool_)
    idx = np.indices(sub.shape).reshape(3, -1).T
    out[tuple(slice(a, b) for a, b in zip(lo, hi))] = zone.contains(sub.index_to_world(idx)).reshape(sub.shape)
    return Mask(out, grid)


def _zone(zone):
    if isinstance(zone, ImplicitZone):
        return [], None
    if isinstance(zone, Mask):
        if zone.is_empty():
            raise ValidationError("zone", zone, "the zone mask is empty")
        return [], zone
    if isinstance(zone, Ellipsoid):
        return [zone], None
    if isinstance(zone, Sequence) and not isinstance(zone, (str, bytes)):
        items = list(zone)
        if not items:
            raise ValidationError("zone", zone, "is an empty sequence; give at least one Ellipsoid")
        for i, z in enumerate(items):
            if not isinstance(z, Ellipsoid):
                raise ValidationError(f"zone[{i}]", z, "expected an Ellipsoid")
        return items, None
    raise ValidationError("zone", zone, "expected an Ellipsoid, a sequence of Ellipsoids, a Mask or an ImplicitZone")


def _voxel_grid(tumor, zone_mask, grid):
    grids = [m.grid for m in (tumor, zone_mask) if isinstance(m, Mask)]
    if grids:
        g = grids[0]
        if any(not g.same_as(other) for other in grids[1:]):
            raise ValidationError("zone.grid", grids[1], "the tumour and zone masks must lie on the same grid")
        if grid is not None and not grid.same_as(g):
            raise ValidationError("grid", grid, "differs from the masks' grid; omit it or pass the masks' grid")
        return g
    if grid is None:
        raise ValidationError("grid", None, "the voxel method on analytic shapes needs a grid")
    return grid
