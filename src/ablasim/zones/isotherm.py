"""Zones from the bioheat solver's fields: the ice ball (``T <= 0 degC``), an isotherm, or the lethal zone (the
lowest temperature each voxel reached at or below a threshold, e.g. -40 degC)."""

from __future__ import annotations

import numpy as np

from .._validation import as_float
from ..errors import ValidationError
from .implicit import GridFieldZone

__all__ = ["isotherm_zone", "lethal_zone"]


def isotherm_zone(temperature_c, grid, isotherm_c: float = 0.0) -> GridFieldZone | None:
    """``{T <= isotherm_c}`` of a temperature field on ``grid``; None when no voxel is that cold yet."""
    iso = as_float(isotherm_c, "isotherm_c")
    t = np.asarray(temperature_c, dtype=np.float64)
    if t.shape != tuple(grid.shape):
        raise ValidationError("temperature_c", f"array of shape {t.shape}", f"must have the grid's shape {grid.shape}")
    if not (t <= iso).any():
        return None
    return GridFieldZone(t, grid, iso, description=f"{iso:g} degC isotherm")


def lethal_zone(result, threshold_c: float = -40.0) -> GridFieldZone | None:
    """Tissue whose lowest temperature during the run reached ``threshold_c`` (a BioheatResult's lethal map)."""
    thr = as_float(threshold_c, "threshold_c")
    zone = isotherm_zone(result.min_temperature_c, result.grid, thr)
    if zone is not None:
        zone.description = f"lethal zone (reached {thr:g} degC)"
    return zone
