"""A QAM-style margin pipeline, written from its published description, as a baseline for the exact path.

QAM (quantitative ablation margin) measures a margin from segmentations: it takes the ablation zone's border voxels,
computes the Euclidean distance transform from them, and reads it at the tumour's border voxels, on a crop around
the tumour; the distance is signed negative where the tumour's border lies outside the zone. Here both shapes are
first rasterised (voxel centres inside) on the grid, which is what such a pipeline receives from a segmentation.
The result is the minimum over tumour border voxels; its error is about a voxel (docs/methods.md, voxel method).
"""

from __future__ import annotations

import edt
import numpy as np
from scipy import ndimage


def _mask(ell, grid, lo, hi):
    """Voxel centres inside the ellipsoid, on the index box [lo, hi)."""
    idx = np.stack(np.meshgrid(*[np.arange(a, b) for a, b in zip(lo, hi)], indexing="ij"), -1).reshape(-1, 3)
    y = (grid.index_to_world(idx) - ell.center_mm) @ ell.rotation / ell.semi_axes_mm
    return (np.einsum("ij,ij->i", y, y) <= 1.0).reshape(tuple(hi - lo))


def qam_margin(tumor, zones, grid, crop_padding_mm: float = 15.0) -> float:
    """Minimum signed margin (mm) at the tumour's border voxels, on the tumour's box grown by the padding."""
    lo, hi = grid.index_box(*tumor.bounding_box(), padding_mm=crop_padding_mm)
    t = _mask(tumor, grid, lo, hi)
    z = np.zeros_like(t)
    for e in zones:
        z |= _mask(e, grid, lo, hi)
    border_t = t & ~ndimage.binary_erosion(t)
    border_z = z & ~ndimage.binary_erosion(z)
    # distance from every voxel centre to the nearest zone border voxel centre
    d = edt.edt(np.ascontiguousarray(~border_z), anisotropy=tuple(grid.spacing_mm), black_border=False)
    signed = np.where(z, d, -d)
    return float(signed[border_t].min())
