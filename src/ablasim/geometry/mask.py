"""Masks: a boolean voxel array on a :class:`~ablasim.geometry.grid.Grid` (segmentations, rasterised shapes)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ValidationError
from .grid import Grid

__all__ = ["Mask"]


@dataclass(frozen=True, eq=False)
class Mask:
    """A boolean array ``array[i, j, k]`` whose voxel centres are placed in the world by ``grid``."""

    array: np.ndarray
    grid: Grid

    def __init__(self, array, grid: Grid):
        if not isinstance(grid, Grid):
            raise ValidationError("grid", grid, "expected an ablasim.Grid")
        arr = np.asarray(array)
        if arr.shape != grid.shape:
            raise ValidationError(
                "mask.array", f"array of shape {arr.shape}", f"must have the grid's shape {grid.shape}"
            )
        if arr.dtype != np.bool_:
            if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
                raise ValidationError(
                    "mask.array", f"array of dtype {arr.dtype}", "expected a boolean or numeric array"
                )
            if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
                raise ValidationError("mask.array", "array with NaN", "contains NaN or infinite values")
            arr = arr != 0
        arr = np.ascontiguousarray(arr)
        arr.setflags(write=False)
        object.__setattr__(self, "array", arr)
        object.__setattr__(self, "grid", grid)

    @property
    def count(self) -> int:
        return int(np.count_nonzero(self.array))

    @property
    def volume_mm3(self) -> float:
        """Voxel-count volume."""
        return self.count * self.grid.voxel_volume_mm3

    def is_empty(self) -> bool:
        return self.count == 0

    def index_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Inclusive-exclusive index box ``[lo, hi)`` of the set voxels (raises on an empty mask)."""
        idx = np.flatnonzero(self.array)  # C order: the first and last give the range along the first axis
        if len(idx) == 0:
            raise ValidationError("mask", "empty mask", "has no voxels set")
        _, ny, nz = self.array.shape
        rest = idx % (ny * nz)
        j, k = rest // nz, rest % nz
        lo = np.array([idx[0] // (ny * nz), j.min(), k.min()])
        hi = np.array([idx[-1] // (ny * nz) + 1, j.max() + 1, k.max() + 1])
        return lo, hi

    def world_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """World box containing the centres of all set voxels."""
        lo, hi = self.index_bounds()
        corners = np.array(
            [[i, j, k] for i in (lo[0], hi[0] - 1) for j in (lo[1], hi[1] - 1) for k in (lo[2], hi[2] - 1)], dtype=float
        )
        w = self.grid.index_to_world(corners)
        return w.min(axis=0), w.max(axis=0)

    def __repr__(self) -> str:
        return f"Mask({self.count} voxels, {self.volume_mm3:.1f} mm3, {self.grid!r})"
