"""Voxel grids: array index <-> world millimetres.

Conventions (see docs/conventions.md): an array ``a`` on a grid is indexed ``a[i, j, k]``; voxel centres sit at
``world = origin_mm + direction @ (spacing_mm * [i, j, k])``. ``direction`` is an orthonormal 3x3 matrix whose
columns are the world directions of the i, j and k axes (ITK's convention); reflections are allowed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .._validation import as_float, as_rotation, as_shape3, as_spacing, as_vector3
from ..errors import GridTooLargeError

__all__ = ["Grid", "available_memory_bytes"]


def available_memory_bytes() -> int:
    """Memory the operating system reports as available (``MemAvailable``), in bytes.

    ``ABLASIM_MEMORY_LIMIT_BYTES`` in the environment caps it (useful on shared machines and in tests).
    """
    limit = os.environ.get("ABLASIM_MEMORY_LIMIT_BYTES")
    avail = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            avail = 2**34
    if limit:
        avail = min(avail, int(float(limit)))
    return int(avail)


@dataclass(frozen=True, eq=False)
class Grid:
    """A regular voxel grid in world millimetres.

    Parameters
    ----------
    shape : three positive ints
    spacing_mm : three positive floats (anisotropic spacing is fine), or one for isotropic spacing
    origin_mm : world position of the centre of voxel (0, 0, 0)
    direction : 3x3 orthonormal matrix, columns = world directions of the array axes (default identity)
    """

    shape: tuple
    spacing_mm: np.ndarray
    origin_mm: np.ndarray
    direction: np.ndarray

    def __init__(self, shape, spacing_mm=(1.0, 1.0, 1.0), origin_mm=(0.0, 0.0, 0.0), direction=None):
        object.__setattr__(self, "shape", as_shape3(shape, "grid.shape"))
        object.__setattr__(self, "spacing_mm", _frozen(as_spacing(spacing_mm, "grid.spacing_mm")))
        object.__setattr__(self, "origin_mm", _frozen(as_vector3(origin_mm, "grid.origin_mm")))
        object.__setattr__(self, "direction", _frozen(as_rotation(direction, "grid.direction", proper=False)))

    # -- construction -------------------------------------------------------------------------------------------
    @classmethod
    def covering(cls, lower_mm, upper_mm, spacing_mm, *, padding_mm: float = 0.0, direction=None) -> Grid:
        """The smallest grid with the given spacing (and direction) whose voxel centres span the world box
        ``[lower_mm, upper_mm]`` grown by ``padding_mm`` on every side."""
        lo = as_vector3(lower_mm, "lower_mm")
        hi = as_vector3(upper_mm, "upper_mm")
        pad = as_float(padding_mm, "padding_mm", nonnegative=True)
        spacing = as_spacing(spacing_mm, "grid.spacing_mm")
        rot = as_rotation(direction, "grid.direction", proper=False)
        lo, hi = lo - pad, hi + pad
        # Corners of the box in the grid's own axes.
        corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
        local = corners @ rot  # rows: rot.T @ corner
        lo_l, hi_l = local.min(axis=0), local.max(axis=0)
        counts = np.floor((hi_l - lo_l) / spacing + 1e-9).astype(np.int64) + 2
        origin = rot @ lo_l
        return cls(tuple(int(c) for c in counts), spacing, origin, rot)

    def subgrid(self, lo, hi) -> Grid:
        """The grid of voxels ``[lo, hi)`` (index ranges) of this one, at the same world positions."""
        lo = np.asarray(lo, dtype=np.int64)
        hi = np.asarray(hi, dtype=np.int64)
        return Grid(tuple(int(v) for v in hi - lo), self.spacing_mm, self.index_to_world(lo), self.direction)

    def index_box(self, lower_mm, upper_mm, padding_mm: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Index range ``[lo, hi)`` (clipped to the grid) of the voxels whose centres may lie in the world box
        ``[lower_mm, upper_mm]`` grown by ``padding_mm``."""
        lo_w = np.asarray(lower_mm, dtype=float) - padding_mm
        hi_w = np.asarray(upper_mm, dtype=float) + padding_mm
        corners = np.array(
            [[x, y, z] for x in (lo_w[0], hi_w[0]) for y in (lo_w[1], hi_w[1]) for z in (lo_w[2], hi_w[2])]
        )
        idx = self.world_to_index(corners)
        shape = np.asarray(self.shape)
        lo = np.clip(np.floor(idx.min(axis=0)).astype(np.int64), 0, shape)
        hi = np.clip(np.ceil(idx.max(axis=0)).astype(np.int64) + 1, 0, shape)
        return lo, hi

    # -- geometry -----------------------------------------------------------------------------------------------
    @property
    def size(self) -> int:
        """Number of voxels."""
        return int(np.prod(np.asarray(self.shape, dtype=np.float64)))

    @property
    def voxel_volume_mm3(self) -> float:
        return float(np.prod(self.spacing_mm))

    @property
    def voxel_diagonal_mm(self) -> float:
        """Length of a voxel's diagonal: the scale of every voxel-method error bound."""
        return float(np.linalg.norm(self.spacing_mm))

    @property
    def affine(self) -> np.ndarray:
        """4x4 matrix mapping homogeneous voxel indices to world millimetres."""
        out = np.eye(4)
        out[:3, :3] = self.direction * self.spacing_mm[None, :]
        out[:3, 3] = self.origin_mm
        return out

    def index_to_world(self, index) -> np.ndarray:
        """World coordinates (mm) of (fractional) voxel indices, shape (..., 3)."""
        idx = np.asarray(index, dtype=np.float64)
        return self.origin_mm + (idx * self.spacing_mm) @ self.direction.T

    def world_to_index(self, points_mm) -> np.ndarray:
        """Fractional voxel indices of world points, shape (..., 3)."""
        pts = np.asarray(points_mm, dtype=np.float64)
        return ((pts - self.origin_mm) @ self.direction) / self.spacing_mm

    def world_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned world box containing all voxel centres."""
        n = np.asarray(self.shape) - 1
        corners = np.array([[i, j, k] for i in (0, n[0]) for j in (0, n[1]) for k in (0, n[2])], dtype=float)
        w = self.index_to_world(corners)
        return w.min(axis=0), w.max(axis=0)

    # -- memory -------------------------------------------------------------------------------------------------
    def nbytes(self, bytes_per_voxel: float) -> int:
        """Bytes needed for arrays on this grid using ``bytes_per_voxel`` in total."""
        return int(float(np.prod(np.asarray(self.shape, dtype=np.float64))) * bytes_per_voxel)

    def check_fits(self, bytes_per_voxel: float, what: str, *, field: str = "grid.shape") -> None:
        """Raise :class:`GridTooLargeError` unless the arrays fit in available memory (before allocating)."""
        needed = self.nbytes(bytes_per_voxel)
        available = available_memory_bytes()
        if needed > available:
            raise GridTooLargeError(field, self.shape, needed, available, what)

    def __repr__(self) -> str:
        sp = ", ".join(f"{s:g}" for s in self.spacing_mm)
        org = ", ".join(f"{s:g}" for s in self.origin_mm)
        rot = "" if np.allclose(self.direction, np.eye(3)) else ", rotated"
        return f"Grid(shape={self.shape}, spacing_mm=({sp}), origin_mm=({org}){rot})"

    def same_as(self, other: Grid, tol: float = 1e-9) -> bool:
        """True when both grids put every voxel at the same world position."""
        return (
            self.shape == other.shape
            and np.allclose(self.spacing_mm, other.spacing_mm, atol=tol)
            and np.allclose(self.origin_mm, other.origin_mm, atol=tol)
            and np.allclose(self.direction, other.direction, atol=tol)
        )


def _frozen(arr: np.ndarray) -> np.ndarray:
    arr = np.array(arr, dtype=np.float64)
    arr.setflags(write=False)
    return arr
