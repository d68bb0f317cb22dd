"""Zones given by a scalar field: ``Z = {x : field(x) <= level}`` (isotherm zones).

Two kinds:

* :class:`GridFieldZone`: values on a :class:`~ablasim.geometry.grid.Grid` (a temperature field from the bioheat solver,
  a lethal-temperature map), interpolated trilinearly; outside the grid the field takes ``outside_value``.
* analytic fields (the cold-synergy model, :mod:`ablasim.zones.synergy`) subclass :class:`ImplicitZone` and
  implement :meth:`ImplicitZone.values`.

``measure_margin`` measures them through the isosurface path (docs/methods.md).
"""

from __future__ import annotations

import numpy as np

from .._validation import as_float
from ..errors import ValidationError
from ..geometry.grid import Grid
from ..geometry.mask import Mask

__all__ = ["GridFieldZone", "ImplicitZone"]


class ImplicitZone:
    """Base class: the zone ``{x : values(x) <= level}`` within the world box ``bounds()``.

    Subclasses implement ``values(points_mm) -> (N,) array``, ``bounds() -> (lower_mm, upper_mm)`` (a box
    outside of which no point belongs to the zone), and set ``level`` and ``sampling_mm`` (the finest spacing at
    which sampling the field is meaningful: a grid field's spacing, or 0 for analytic fields).
    """

    level: float = 0.0
    sampling_mm: float = 0.0
    description: str = "implicit zone"

    def values(self, points_mm) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - interface
        raise NotImplementedError

    def contains(self, points_mm) -> np.ndarray:
        return self.values(points_mm) <= self.level

    def gradient(self, points_mm, step_mm: float = 1e-4) -> np.ndarray:
        """Central-difference gradient of the field, shape (N, 3)."""
        pts = np.asarray(points_mm, dtype=float).reshape(-1, 3)
        out = np.empty_like(pts)
        for k in range(3):
            dx = np.zeros(3)
            dx[k] = step_mm
            out[:, k] = (self.values(pts + dx) - self.values(pts - dx)) / (2 * step_mm)
        return out


class GridFieldZone(ImplicitZone):
    """``{x : field(x) <= level}`` for a field sampled on ``grid`` (trilinear interpolation between voxel
    centres; ``outside_value`` beyond the grid, by default the field's maximum, i.e. outside the zone)."""

    def __init__(
        self, values, grid: Grid, level: float, *, outside_value: float | None = None, description: str = "field zone"
    ):
        if not isinstance(grid, Grid):
            raise ValidationError("grid", grid, "expected an ablasim.Grid")
        arr = np.asarray(values, dtype=np.float64)
        if arr.shape != grid.shape:
            raise ValidationError("field", f"array of shape {arr.shape}", f"must have the grid's shape {grid.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValidationError("field", "array with NaN or inf", "the field must be finite everywhere")
        self.field = np.ascontiguousarray(arr)
        self.field.setflags(write=False)
        self.grid = grid
        self.level = as_float(level, "level")
        self.outside_value = float(arr.max()) if outside_value is None else as_float(outside_value, "outside_value")
        self.sampling_mm = float(grid.spacing_mm.min())
        self.description = description

    def values(self, points_mm) -> np.ndarray:
        from scipy.ndimage import map_coordinates

        pts = np.asarray(points_mm, dtype=float).reshape(-1, 3)
        idx = self.grid.world_to_index(pts)
        vals = map_coordinates(self.field, idx.T, order=1, mode="nearest")
        outside = np.any((idx < -0.5) | (idx > np.asarray(self.grid.shape) - 0.5), axis=1)
        vals[outside] = self.outside_value
        return vals

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        inside = self.field <= self.level
        if not inside.any():
            lo, hi = self.grid.world_bounds()
            return lo, lo  # empty zone

        lo, hi = Mask(inside, self.grid).world_bounds()
        pad = self.grid.voxel_diagonal_mm
        return lo - pad, hi + pad
