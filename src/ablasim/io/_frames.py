"""Anatomical frames: ablasim's world frame is LPS, stated once here and converted at every image boundary.

ablasim places every image in the patient frame of the scanner as DICOM defines it, **LPS**: x grows to the
patient's left, y to the posterior, z to the superior, in mm. DICOM, NRRD with ``space: left-posterior-superior``
and 3D Slicer's files (segmentations, markups, models since Slicer 4.11) are LPS already. NIfTI's world is **RAS**
(x to the right, y to the anterior): ``lps = diag(-1, -1, 1) @ ras``, applied to the affine when reading and
writing NIfTI and to NRRD files that declare a RAS space.
"""

from __future__ import annotations

import numpy as np

from ..errors import ValidationError
from ..geometry.grid import Grid

__all__ = ["LPS_FROM_RAS", "grid_from_affine", "grid_from_axes"]

LPS_FROM_RAS = np.diag([-1.0, -1.0, 1.0])  # its own inverse: also RAS from LPS


def grid_from_axes(shape, axes_mm, origin_mm, *, source: str, field: str) -> Grid:
    """Grid from the world vectors of one voxel step along each array axis (rows of ``axes_mm``, LPS).

    Raises ValidationError naming ``source`` (the file) and ``field`` (the header field) when the axes are not
    orthogonal (a sheared grid such as a tilted CT gantry) or a step has zero length."""
    axes = np.asarray(axes_mm, dtype=np.float64)
    org = np.asarray(origin_mm, dtype=np.float64)
    label = f"{source} [{field}]"
    if axes.shape != (3, 3) or not np.all(np.isfinite(axes)) or org.shape != (3,) or not np.all(np.isfinite(org)):
        raise ValidationError(label, axes.tolist(), "expected three finite 3-vectors and a finite origin")
    spacing = np.linalg.norm(axes, axis=1)
    if np.any(spacing <= 0):
        raise ValidationError(label, axes.tolist(), "a voxel step has zero length")
    direction = (axes / spacing[:, None]).T  # columns: world directions of the i, j, k axes
    gram = direction.T @ direction
    if not np.allclose(gram, np.eye(3), atol=1e-4):
        worst = float(np.degrees(np.arcsin(min(1.0, np.abs(gram - np.eye(3)).max()))))
        raise ValidationError(
            label,
            axes.tolist(),
            f"the voxel axes are not orthogonal (off by {worst:.3g} degrees): a sheared grid (e.g. a tilted gantry) "
            "must be resampled before ablasim can use it",
        )
    try:
        return Grid(tuple(int(n) for n in shape), spacing, org, direction)
    except ValidationError as exc:
        raise ValidationError(label, exc.value, exc.expected) from None


def grid_from_affine(shape, affine_lps, *, source: str, field: str) -> Grid:
    """Grid from a 4x4 voxel-to-world (LPS) matrix."""
    aff = np.asarray(affine_lps, dtype=np.float64)
    return grid_from_axes(shape, aff[:3, :3].T, aff[:3, 3], source=source, field=field)
