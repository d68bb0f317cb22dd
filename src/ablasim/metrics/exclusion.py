"""Capsule / organ-surface exclusion.

Margin-confirmation tools leave out the part of a subcapsular tumour's surface that lies against the organ
capsule: no tissue beyond it can be ablated, so a thin margin there is not a treatment failure. Tumour-surface
points closer than ``distance_mm`` to the organ boundary are excluded from the margin statistics (the minimum,
percentiles and surface fractions); coverage is unaffected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_float
from ..errors import ValidationError
from ..geometry.mask import Mask
from ..geometry.shapes import Ellipsoid

__all__ = ["CapsuleExclusion"]


@dataclass(frozen=True, eq=False)
class CapsuleExclusion:
    """Leave out tumour-surface points within ``distance_mm`` of the boundary of ``organ`` (Ellipsoid or Mask)."""

    organ: object
    distance_mm: float

    def __init__(self, organ, distance_mm: float):
        if not isinstance(organ, (Ellipsoid, Mask)):
            raise ValidationError("exclude.organ", organ, "expected an Ellipsoid or a Mask")
        if isinstance(organ, Mask) and organ.is_empty():
            raise ValidationError("exclude.organ", organ, "the organ mask is empty")
        object.__setattr__(self, "organ", organ)
        object.__setattr__(self, "distance_mm", as_float(distance_mm, "exclude.distance_mm", nonnegative=True))
        object.__setattr__(self, "_field", None)

    def boundary_distance(self, points_mm) -> np.ndarray:
        """Unsigned distance (mm) of each point to the organ boundary.

        Exact for an Ellipsoid. For a Mask: the distance from each voxel centre to the nearest centre of the other
        label (``edt``), less half the smallest spacing (the boundary lies between two such centres), interpolated
        trilinearly; its error is about one voxel (docs/methods.md).
        """
        pts = np.asarray(points_mm, dtype=float).reshape(-1, 3)
        if isinstance(self.organ, Ellipsoid):
            return np.abs(self.organ.signed_distance(pts))
        return self._mask_distance(pts)

    def excluded(self, points_mm) -> np.ndarray:
        """Boolean array: which points are left out."""
        return self.boundary_distance(points_mm) <= self.distance_mm

    def _mask_distance(self, pts: np.ndarray) -> np.ndarray:
        from scipy.ndimage import map_coordinates

        organ = self.organ
        assert isinstance(organ, Mask)
        field = self.__dict__.get("_field")
        if field is None:
            import edt

            grid = organ.grid
            grid.check_fits(9, "the organ boundary-distance field", field="exclude.organ.grid.shape")
            arr = np.require(organ.array, requirements=["C", "W"])  # edt needs a writable C array
            inside = edt.edt(arr, anisotropy=tuple(grid.spacing_mm), black_border=False)
            outside = edt.edt(~arr, anisotropy=tuple(grid.spacing_mm), black_border=False)
            # The boundary lies half-way between a voxel centre and its neighbour of the other label.
            field = np.where(arr, inside, outside).astype(np.float64) - 0.5 * float(grid.spacing_mm.min())
            field = np.maximum(field, 0.0)
            field[~np.isfinite(field)] = 1e9
            object.__setattr__(self, "_field", field)
        idx = organ.grid.world_to_index(pts)
        return map_coordinates(field, idx.T, order=1, mode="nearest")
