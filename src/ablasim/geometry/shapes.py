"""Analytic shapes: the ellipsoid, with exact volume, area and signed distance.

An :class:`Ellipsoid` is ``{x : |diag(1/semi_axes) R^T (x - center)| <= 1}`` where the columns of ``R``
(``rotation``) are the ellipsoid's local axes in world coordinates: ``semi_axes_mm[k]`` is measured along
``rotation[:, k]``. Signed distances are Euclidean, in mm, positive outside.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validation import as_float, as_positive_vector3, as_rotation, as_unit_vector, as_vector3
from ..errors import ValidationError
from ._kernels import ellipsoid as _k
from .mask import Mask

__all__ = ["Ellipsoid", "rotation_from_euler_deg", "rotation_with_z_axis"]


def rotation_from_euler_deg(angles_deg, order: str = "xyz") -> np.ndarray:
    """Rotation matrix from Euler angles in degrees (scipy's convention: lower-case ``order`` = extrinsic axes,
    rotations about the fixed world axes applied in the order given; upper-case = intrinsic, about the rotating
    axes). Computed here rather than with scipy.spatial, whose import costs ~0.1 s of every command's start."""
    angles = as_vector3(angles_deg, "euler_deg")
    if not isinstance(order, str) or len(order) != 3 or order.lower() not in _EULER_ORDERS:
        raise ValidationError("euler_order", order, "expected three letters such as 'xyz' or 'ZYX'")
    if order.islower() == order.isupper():
        raise ValidationError("euler_order", order, "all lower-case (extrinsic) or all upper-case (intrinsic)")
    mats = [_elementary(axis, np.deg2rad(a)) for axis, a in zip(order.lower(), angles)]
    if order.islower():  # extrinsic: the first rotation acts first, i.e. rightmost
        return mats[2] @ mats[1] @ mats[0]
    return mats[0] @ mats[1] @ mats[2]


def _elementary(axis: str, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    if axis == "x":
        return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])
    if axis == "y":
        return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


_EULER_ORDERS = {a + b + c for a in "xyz" for b in "xyz" for c in "xyz" if a != b and b != c}


def rotation_with_z_axis(axis) -> np.ndarray:
    """A rotation whose third column is the unit vector ``axis`` (the first two complete a right-handed frame).

    Used to align an ellipsoid's third semi-axis with a probe shaft. The choice of the first two columns is
    deterministic: the first is the world axis least aligned with ``axis``, made perpendicular to it.
    """
    return _frame(as_unit_vector(axis, "axis"))


def _frame(z: np.ndarray) -> np.ndarray:
    """rotation_with_z_axis for an already validated unit vector (internal, no checks)."""
    helper = np.zeros(3)
    helper[int(np.argmin(np.abs(z)))] = 1.0
    x = helper - z * float(helper @ z)
    x /= np.sqrt(x @ x)
    y = np.array([z[1] * x[2] - z[2] * x[1], z[2] * x[0] - z[0] * x[2], z[0] * x[1] - z[1] * x[0]])
    return np.column_stack([x, y, z])


@dataclass(frozen=True, eq=False)
class Ellipsoid:
    """Ellipsoid with centre ``center_mm``, semi-axes ``semi_axes_mm`` and orientation ``rotation``."""

    center_mm: np.ndarray
    semi_axes_mm: np.ndarray
    rotation: np.ndarray

    def __init__(self, center_mm, semi_axes_mm, rotation=None):
        object.__setattr__(self, "center_mm", _frozen(as_vector3(center_mm, "center_mm")))
        object.__setattr__(self, "semi_axes_mm", _frozen(as_positive_vector3(semi_axes_mm, "semi_axes_mm")))
        object.__setattr__(self, "rotation", _frozen(as_rotation(rotation, "rotation")))

    @classmethod
    def _unchecked(cls, center_mm, semi_axes_mm, rotation) -> Ellipsoid:
        """Internal: build from values that are already valid (finite, positive axes, orthonormal rotation)."""
        obj = object.__new__(cls)
        object.__setattr__(obj, "center_mm", _frozen(center_mm))
        object.__setattr__(obj, "semi_axes_mm", _frozen(semi_axes_mm))
        object.__setattr__(obj, "rotation", _frozen(rotation))
        return obj

    # -- constructors -------------------------------------------------------------------------------------------
    @classmethod
    def sphere(cls, center_mm, radius_mm: float) -> Ellipsoid:
        r = as_float(radius_mm, "radius_mm", positive=True)
        return cls(center_mm, (r, r, r))

    @classmethod
    def from_diameters(cls, center_mm, diameters_mm, rotation=None) -> Ellipsoid:
        d = as_positive_vector3(diameters_mm, "diameters_mm")
        return cls(center_mm, d / 2.0, rotation)

    @classmethod
    def along_axis(cls, center_mm, axis, radial_mm: float, axial_mm: float) -> Ellipsoid:
        """Spheroid with semi-axis ``axial_mm`` along ``axis`` and ``radial_mm`` perpendicular to it."""
        rad = as_float(radial_mm, "radial_mm", positive=True)
        ax = as_float(axial_mm, "axial_mm", positive=True)
        return cls(center_mm, (rad, rad, ax), rotation_with_z_axis(axis))

    # -- exact geometry -----------------------------------------------------------------------------------------
    @property
    def volume_mm3(self) -> float:
        a, b, c = self.semi_axes_mm
        return 4.0 / 3.0 * math.pi * a * b * c

    @property
    def surface_area_mm2(self) -> float:
        """Exact surface area (Legendre's formula with incomplete elliptic integrals)."""
        from scipy.special import ellipeinc, ellipkinc

        a, b, c = sorted(self.semi_axes_mm, reverse=True)
        if math.isclose(a, c, rel_tol=1e-12):
            return 4.0 * math.pi * a * a
        phi = math.acos(c / a)
        m = (a * a * (b * b - c * c)) / (b * b * (a * a - c * c))
        s = math.sin(phi)
        return 2.0 * math.pi * c * c + 2.0 * math.pi * a * b / s * (
            ellipeinc(phi, m) * s * s + ellipkinc(phi, m) * (c * c) / (a * a)
        )

    @property
    def max_curvature_per_mm(self) -> float:
        """Largest principal curvature of the surface, ``a_max / a_min^2``."""
        return float(self.semi_axes_mm.max() / self.semi_axes_mm.min() ** 2)

    @property
    def linear_map(self) -> np.ndarray:
        """3x3 matrix ``M`` with ``x = center + M u`` mapping the unit ball onto the ellipsoid."""
        return self.rotation * self.semi_axes_mm[None, :]

    def bounding_box(self) -> tuple[np.ndarray, np.ndarray]:
        """Exact world-axis-aligned bounding box ``(lower, upper)``."""
        half = np.sqrt(((self.rotation * self.semi_axes_mm[None, :]) ** 2).sum(axis=1))
        return self.center_mm - half, self.center_mm + half

    def signed_distance(self, points_mm) -> np.ndarray:
        """Exact Euclidean signed distance (mm, > 0 outside) of each point, shape (N,) for (N, 3) input."""
        pts = _points(points_mm)
        sd = np.empty(len(pts))
        foot = np.empty((len(pts), 3))
        _k.signed_distance_many(pts, self.center_mm, self.rotation, self.semi_axes_mm, sd, foot)
        return sd

    def nearest_surface_point(self, points_mm) -> np.ndarray:
        """Exact nearest surface point of each point, shape (N, 3)."""
        pts = _points(points_mm)
        sd = np.empty(len(pts))
        foot = np.empty((len(pts), 3))
        _k.signed_distance_many(pts, self.center_mm, self.rotation, self.semi_axes_mm, sd, foot)
        return foot

    def contains(self, points_mm) -> np.ndarray:
        """Boolean array: which points lie inside or on the surface."""
        pts = _points(points_mm)
        local = (pts - self.center_mm) @ self.rotation / self.semi_axes_mm
        return np.einsum("ij,ij->i", local, local) <= 1.0

    # -- transforms ---------------------------------------------------------------------------------------------
    def moved(self, rotation=None, translation_mm=(0.0, 0.0, 0.0)) -> Ellipsoid:
        """Image under the rigid motion ``x -> rotation @ x + translation_mm``."""
        rot = as_rotation(rotation, "rotation")
        t = as_vector3(translation_mm, "translation_mm")
        return Ellipsoid(rot @ self.center_mm + t, self.semi_axes_mm, rot @ self.rotation)

    def scaled(self, factor) -> Ellipsoid:
        """Same centre and orientation, semi-axes multiplied by ``factor`` (a scalar or one factor per axis)."""
        f = np.broadcast_to(np.asarray(factor, dtype=float), (3,))
        return Ellipsoid(self.center_mm, self.semi_axes_mm * as_positive_vector3(f, "factor"), self.rotation)

    def grown(self, distance_mm: float) -> Ellipsoid:
        """Semi-axes lengthened by ``distance_mm`` (not an offset surface unless the ellipsoid is a sphere)."""
        d = as_float(distance_mm, "distance_mm")
        return Ellipsoid(self.center_mm, self.semi_axes_mm + d, self.rotation)

    # -- rasterisation --------------------------------------------------------------------------------------------
    def to_mask(self, grid):
        """Boolean :class:`~ablasim.geometry.mask.Mask` of voxels whose centre lies inside (work limited to the
        bounding box)."""

        grid.check_fits(1, "a boolean mask")
        out = np.zeros(grid.shape, dtype=np.bool_)
        self._rasterize(grid, out, 1)
        return Mask(out, grid)

    def volume_fractions(self, grid, subsamples: int = 4) -> np.ndarray:
        """float32 array: fraction of each voxel inside, from ``subsamples**3`` points in boundary voxels."""
        if isinstance(subsamples, bool) or not isinstance(subsamples, (int, np.integer)) or not 2 <= subsamples <= 16:
            raise ValidationError("subsamples", subsamples, "expected an integer from 2 to 16")
        grid.check_fits(4, "a float32 volume-fraction array")
        out = np.zeros(grid.shape, dtype=np.float32)
        self._rasterize(grid, out, int(subsamples))
        return out

    def _rasterize(self, grid, out, subsamples: int) -> None:
        lo_w, hi_w = self.bounding_box()
        corners = np.array(
            [[x, y, z] for x in (lo_w[0], hi_w[0]) for y in (lo_w[1], hi_w[1]) for z in (lo_w[2], hi_w[2])]
        )
        idx = grid.world_to_index(corners)
        lo = np.clip(np.floor(idx.min(axis=0)).astype(np.int64) - 1, 0, np.asarray(grid.shape))
        hi = np.clip(np.ceil(idx.max(axis=0)).astype(np.int64) + 2, 0, np.asarray(grid.shape))
        if np.any(hi <= lo):
            return
        inv_axes = (1.0 / self.semi_axes_mm)[:, None]
        lin = inv_axes * (self.rotation.T @ (grid.direction * grid.spacing_mm[None, :]))
        off = (inv_axes[:, 0]) * (self.rotation.T @ (grid.origin_mm - self.center_mm))
        half_diag = 0.5 * grid.voxel_diagonal_mm
        _k.rasterize(np.ascontiguousarray(lin), off, lo, hi, float(self.semi_axes_mm.min()), half_diag, subsamples, out)

    def __repr__(self) -> str:
        c = ", ".join(f"{v:g}" for v in self.center_mm)
        a = ", ".join(f"{v:g}" for v in self.semi_axes_mm)
        rot = "" if np.allclose(self.rotation, np.eye(3)) else ", rotated"
        return f"Ellipsoid(center_mm=({c}), semi_axes_mm=({a}){rot})"


def _points(points_mm) -> np.ndarray:
    pts = np.asarray(points_mm, dtype=np.float64)
    if pts.ndim == 1:
        pts = pts[None, :]
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise ValidationError("points_mm", points_mm, f"expected an array of shape (N, 3), got {pts.shape}")
    if not np.all(np.isfinite(pts)):
        raise ValidationError("points_mm", points_mm, "contains NaN or infinite values")
    return np.ascontiguousarray(pts)


def _frozen(arr: np.ndarray) -> np.ndarray:
    arr = np.array(arr, dtype=np.float64)
    arr.setflags(write=False)
    return arr
