"""The public entry point: :func:`measure_margin`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validation import as_float
from ..errors import ValidationError
from ..geometry.grid import Grid
from ..geometry.mask import Mask
from ..geometry.shapes import Ellipsoid
from .exclusion import CapsuleExclusion
from .result import MarginResult

__all__ = ["measure_margin"]

_METHODS = ("auto", "exact", "voxel")


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
    method : ``"auto"`` (exact for ellipsoids, isosurface for implicit zones, voxel for masks), ``"exact"`` or
        ``"voxel"``
    resolution_mm : exact method: every point of the surfaces searched lies within this distance of a sample
        (the samples seed exact local refinement; see docs/methods.md for the error bound)
    map_resolution_mm : sample spacing of the tumour-surface margin map; None: no map (exact method only; faster)
    crop_padding_mm : voxel method: distance kept around the tumour when cropping the distance transform
        (enlarged automatically when the margin is not certified inside the crop)

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
    if method not in _METHODS:
        raise ValidationError("method", method, f"expected one of {', '.join(_METHODS)}")
    res = as_float(resolution_mm, "resolution_mm", positive=True, maximum=10.0)
    map_res = (
        None
        if map_resolution_mm is None
        else as_float(map_resolution_mm, "map_resolution_mm", positive=True, maximum=20.0)
    )
    pad = as_float(crop_padding_mm, "crop_padding_mm", positive=True)
    if isinstance(tumor, Mask) and tumor.is_empty():
        raise ValidationError("tumor", tumor, "the tumour mask is empty")

    from ..zones.implicit import ImplicitZone

    if isinstance(zone, ImplicitZone):
        if method == "exact":
            raise ValidationError("method", method, "an implicit zone is measured on its isosurface; use auto")
        if method == "auto" and isinstance(tumor, Ellipsoid):
            from ..zones.synergy import SynergyZone
            from .isosurface import isosurface_margin

            if isinstance(zone, SynergyZone) and exclude is None:
                from .level_set import level_set_margin

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
    if method == "exact" and not analytic:
        raise ValidationError("method", method, "the exact method needs an Ellipsoid tumour and Ellipsoid zones")
    if map_res is None and not (method in ("auto", "exact") and analytic):
        map_res = 1.0  # the isosurface and voxel methods always build their map
    if method == "exact" or (method == "auto" and analytic):
        from .exact import exact_margin

        return exact_margin(tumor, zones, resolution_mm=res, map_resolution_mm=map_res, exclusion=exclude)

    vgrid = _voxel_grid(tumor, zone_mask, grid)
    from .voxel import voxel_margin

    return voxel_margin(
        tumor, zones, zone_mask, grid=vgrid, exclusion=exclude, crop_padding_mm=pad, map_resolution_mm=map_res
    )


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
    from ..zones.implicit import ImplicitZone

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
