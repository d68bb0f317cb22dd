"""Input checks shared by the public API. Each helper takes ``name=`` so its error names the field."""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

from .errors import ValidationError

__all__ = [
    "as_float",
    "as_positive_vector3",
    "as_rotation",
    "as_shape3",
    "as_spacing",
    "as_unit_vector",
    "as_vector3",
]


def as_float(
    value,
    name: str,
    *,
    positive: bool = False,
    nonnegative: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float:
    """Return ``value`` as a finite float, checking the requested bounds."""
    if isinstance(value, bool) or not isinstance(value, (Real, np.floating, np.integer)):
        raise ValidationError(name, value, "expected a real number")
    x = float(value)
    if not math.isfinite(x):
        raise ValidationError(name, value, "expected a finite number")
    if positive and not x > 0:
        raise ValidationError(name, value, "must be > 0")
    if nonnegative and not x >= 0:
        raise ValidationError(name, value, "must be >= 0")
    if minimum is not None and x < minimum:
        raise ValidationError(name, value, f"must be >= {minimum}")
    if maximum is not None and x > maximum:
        raise ValidationError(name, value, f"must be <= {maximum}")
    return x


def _as_array(value, name: str, shape: tuple) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValidationError(name, value, f"expected numbers in an array of shape {shape}") from None
    if arr.shape != shape:
        raise ValidationError(name, value, f"expected shape {shape}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValidationError(name, value, "contains NaN or infinite values")
    return arr


def as_vector3(value, name: str) -> np.ndarray:
    """A finite 3-vector as a new float64 array."""
    return _as_array(value, name, (3,)).copy()


def as_positive_vector3(value, name: str) -> np.ndarray:
    """A finite 3-vector whose entries are all > 0."""
    arr = as_vector3(value, name)
    if np.any(arr <= 0):
        raise ValidationError(name, value, "every entry must be > 0")
    return arr


def as_spacing(value, name: str) -> np.ndarray:
    """Voxel spacing: three positive numbers, or one for isotropic spacing."""
    if np.ndim(value) == 0:
        value = (value, value, value)
    return as_positive_vector3(value, name)


def as_unit_vector(value, name: str) -> np.ndarray:
    """A finite, non-zero 3-vector, normalised to unit length."""
    arr = as_vector3(value, name)
    norm = float(np.linalg.norm(arr))
    if not norm > 1e-12:
        raise ValidationError(name, value, "must be a non-zero direction")
    return arr / norm


def as_rotation(value, name: str, *, proper: bool = True) -> np.ndarray:
    """A 3x3 orthonormal matrix (columns: local axes in world coordinates).

    Accepts ``None`` (identity), a 3x3 array-like or a ``scipy.spatial.transform.Rotation``. With ``proper`` the
    determinant must be +1 (a rotation); otherwise reflections (det -1) are allowed too.
    """
    if value is None:
        return np.eye(3)
    if hasattr(value, "as_matrix") and callable(value.as_matrix):
        value = value.as_matrix()
    mat = _as_array(value, name, (3, 3))
    if not np.allclose(mat.T @ mat, np.eye(3), atol=1e-6):
        raise ValidationError(name, value, "must be orthonormal (columns of unit length, mutually perpendicular)")
    det = float(np.linalg.det(mat))
    if proper and det < 0:
        raise ValidationError(name, value, "must be a proper rotation (determinant +1), got a reflection")
    # Re-orthonormalise so tiny input errors do not propagate into exact-distance kernels.
    u, _, vt = np.linalg.svd(mat)
    return u @ vt


def as_shape3(value, name: str) -> tuple[int, int, int]:
    """Three positive integers."""
    try:
        items = tuple(value)
    except TypeError:
        raise ValidationError(name, value, "expected three positive integers") from None
    if len(items) != 3:
        raise ValidationError(name, value, "expected three positive integers")
    out = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, np.integer)) or int(item) <= 0:
            raise ValidationError(name, value, "expected three positive integers")
        out.append(int(item))
    return (out[0], out[1], out[2])


def as_zone_scale(value, name: str) -> tuple[float, float]:
    """A zone scale as ``(radial, axial)`` factors, both > 0; one number scales both."""
    if isinstance(value, (str, bytes)) or (np.ndim(value) not in (0, 1)):
        raise ValidationError(name, value, "expected a positive factor or [radial, axial] factors")
    items = [value] if np.ndim(value) == 0 else list(value)
    if len(items) not in (1, 2):
        raise ValidationError(name, value, "expected a positive factor or [radial, axial] factors")
    vals = [as_float(v, name, positive=True) for v in items]
    return (vals[0], vals[0]) if len(vals) == 1 else (vals[0], vals[1])
