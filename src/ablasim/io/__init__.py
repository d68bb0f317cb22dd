"""Medical images in and out: NIfTI, NRRD and 3D Slicer ``.seg.nrrd``, DICOM-SEG; exports for 3D Slicer.

ablasim's world frame is LPS (io/_frames.py, docs/images.md); every reader and writer converts explicitly. Heavy
dependencies (nibabel, pynrrd, pydicom) are imported inside the one module that needs them: install the ``images``
extra (``pip install ablasim[images]``).
"""

from __future__ import annotations

import numpy as np

from ..errors import ValidationError
from ..geometry.grid import Grid
from ..geometry.mask import Mask
from .dicom_seg import read_dicom_seg
from .nifti import read_nifti
from .nrrd import read_nrrd
from .nrrd import read_segments as nrrd_segments
from .resample import resample_mask

__all__ = ["read_image", "read_mask", "read_segments", "resample_mask"]


def _kind(path) -> str:
    name = str(path).lower()
    if name.endswith((".nii", ".nii.gz")):
        return "nifti"
    if name.endswith((".nrrd", ".nhdr")):
        return "nrrd"
    if name.endswith(".dcm"):
        return "dicom"
    raise ValidationError(
        str(path), "extension", "unknown image format: expected .nii, .nii.gz, .nrrd, .seg.nrrd or .dcm"
    )


def read_image(path) -> tuple[np.ndarray, Grid]:
    """Voxel values of a 3D NIfTI or NRRD image and their grid (LPS)."""
    kind = _kind(path)
    if kind == "nifti":
        return read_nifti(path)
    if kind == "nrrd":
        return read_nrrd(path)
    raise ValidationError(str(path), "DICOM", "read DICOM-SEG files with read_segments or read_mask")


def read_segments(path, names=None) -> dict[str, Mask]:
    """Named masks of a segmentation: a ``.seg.nrrd`` (segments) or a DICOM-SEG (segment labels)."""
    kind = _kind(path)
    if kind == "dicom":
        return read_dicom_seg(path, names)
    if kind == "nrrd":
        return nrrd_segments(path, names)
    raise ValidationError(str(path), "NIfTI", "has no named segments; use read_mask(path, label=...)")


def read_mask(path, *, segment: str | None = None, label: int | None = None, level: float = 0.5) -> Mask:
    """One mask from an image file.

    * segmentations (``.seg.nrrd``, DICOM-SEG): the segment named ``segment`` (required when there are several);
    * label maps (integer NIfTI/NRRD): voxels equal to ``label``, or all non-zero voxels when ``label`` is None;
    * probability or partial-volume maps (floating point): voxels ``>= level``.

    Raises ValidationError naming the file and field for an empty result, an unknown segment, and malformed files.
    """
    src = str(path)
    kind = _kind(path)
    name = src
    if kind == "dicom" or (kind == "nrrd" and src.lower().endswith(".seg.nrrd")) or segment is not None:
        segs = read_segments(path, None if segment is None else [segment])
        if segment is None and len(segs) > 1:
            raise ValidationError(
                f"{src} [segment]", None, f"the file has {len(segs)} segments: name one of {list(segs)}"
            )
        ((name, mask),) = segs.items()
        name = f"{src} [segment {name}]"
    else:
        values, grid = read_image(path)
        if np.issubdtype(values.dtype, np.floating):
            if label is not None:
                raise ValidationError(
                    f"{src} [label]", label, "a floating-point image is a probability map: give level"
                )
            mask = Mask(values >= level, grid)
        elif label is None:
            mask = Mask(values != 0, grid)
        else:
            mask = Mask(values == label, grid)
            name = f"{src} [label {label}]"
    if mask.is_empty():
        raise ValidationError(name, "empty mask", "has no voxel set")
    return mask
