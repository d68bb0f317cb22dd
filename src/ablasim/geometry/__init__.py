"""Geometry: grids with scanner geometry, ellipsoids with exact distances, binary masks."""

from .grid import Grid
from .mask import Mask
from .shapes import Ellipsoid, rotation_from_euler_deg, rotation_with_z_axis

__all__ = ["Ellipsoid", "Grid", "Mask", "rotation_from_euler_deg", "rotation_with_z_axis"]
