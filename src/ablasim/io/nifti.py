"""NIfTI-1/2 images (nibabel): masks, label maps and probability maps; RAS on disk, LPS in ablasim."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from .._io import atomic_write_bytes
from ..errors import ValidationError
from ..geometry.grid import Grid
from ..geometry.mask import Mask
from ._frames import LPS_FROM_RAS, grid_from_affine

__all__ = ["read_nifti", "write_nifti"]


def read_nifti(path) -> tuple[np.ndarray, Grid]:
    """Voxel values (scaled by the header's slope/intercept) and their grid in LPS.

    The affine is the sform when its code is set, else the qform (nibabel's choice); it maps voxel indices to RAS
    and is converted to LPS here."""
    import nibabel as nib

    src = str(path)
    if not Path(src).is_file():
        raise ValidationError(src, "missing", "no such file")
    try:
        img = nib.load(src)
        data = np.asanyarray(img.dataobj)
    except Exception as exc:  # nibabel raises many types for truncated or malformed files
        raise ValidationError(f"{src} [data]", type(exc).__name__, f"could not be read as NIfTI: {exc}") from None
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise ValidationError(f"{src} [dim]", data.shape, "expected a 3D image")
    affine = LPS_FROM_RAS_4 @ np.asarray(img.affine, dtype=np.float64)
    grid = grid_from_affine(data.shape, affine, source=src, field="sform/qform")
    return np.asarray(data), grid


def write_nifti(path, values, grid: Grid | None = None) -> Path:
    """Write ``values`` (a Mask, or an array on ``grid``) as NIfTI (``.nii`` or ``.nii.gz``), atomically.

    The affine (LPS converted to RAS) is stored as sform and qform with code 1 (scanner anatomical)."""
    import nibabel as nib

    if isinstance(values, Mask):
        grid, arr = values.grid, values.array.astype(np.uint8)
    else:
        arr = np.asarray(values)
        if arr.dtype == np.bool_:
            arr = arr.astype(np.uint8)
    if not isinstance(grid, Grid) or arr.shape != grid.shape:
        raise ValidationError("values", getattr(arr, "shape", None), "must be a Mask or an array of the grid's shape")
    affine = LPS_FROM_RAS_4 @ grid.affine
    img = nib.Nifti1Image(arr, affine)
    img.set_sform(affine, code=1)
    img.set_qform(affine, code=1)
    img.header.set_xyzt_units("mm", "sec")
    data = img.to_bytes()
    if str(path).endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    return atomic_write_bytes(path, data)


LPS_FROM_RAS_4 = np.eye(4)
LPS_FROM_RAS_4[:3, :3] = LPS_FROM_RAS
