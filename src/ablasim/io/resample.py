"""Masks from different images on one grid: resampling by partial volume."""

from __future__ import annotations

import numpy as np

from ..errors import ValidationError
from ..geometry.grid import Grid
from ..geometry.mask import Mask

__all__ = ["resample_mask"]


def resample_mask(mask: Mask, grid: Grid, *, name: str = "mask") -> Mask:
    """``mask`` on ``grid``: a voxel of ``grid`` is set when the trilinear interpolation of the 0/1 source volume at
    its centre is >= 0.5 (the 0.5 level of the partial-volume map; voxels outside the source grid are unset).

    Raises ValidationError naming ``name`` when the two grids do not overlap or nothing of the mask lands on
    ``grid``."""
    from scipy.ndimage import map_coordinates

    if not isinstance(mask, Mask) or not isinstance(grid, Grid):
        raise ValidationError(name, mask, "expected a Mask and a Grid")
    if mask.grid.same_as(grid):
        return mask
    lo_a, hi_a = mask.grid.world_bounds()
    lo_b, hi_b = grid.world_bounds()
    gap = np.maximum(lo_b - hi_a, lo_a - hi_b)
    if np.any(gap > 0):
        raise ValidationError(
            f"{name}.grid", mask.grid, f"does not overlap the target grid (separated by {float(gap.max()):.1f} mm)"
        )
    grid.check_fits(1 + 8, f"the resampled {name}")
    out = np.zeros(grid.shape, dtype=np.bool_)
    src = mask.array.astype(np.float32)
    if not mask.is_empty():
        lo, hi = grid.index_box(*mask.world_bounds(), padding_mm=float(mask.grid.voxel_diagonal_mm))
        if np.all(hi > lo):
            sub = grid.subgrid(lo, hi)
            idx = np.indices(sub.shape).reshape(3, -1).T
            coords = mask.grid.world_to_index(sub.index_to_world(idx)).T
            vals = map_coordinates(src, coords, order=1, mode="constant", cval=0.0)
            out[tuple(slice(a, b) for a, b in zip(lo, hi))] = (vals >= 0.5).reshape(sub.shape)
    if not out.any():
        raise ValidationError(name, mask, "no voxel of the mask lands on the target grid")
    return Mask(out, grid)
