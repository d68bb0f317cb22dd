"""From a mask to the exact world: ellipsoids fitted to a segmented tumour, with how far the mask deviates.

* ``method="moments"``: the ellipsoid with the mask's volume centroid and second moments (a solid ellipsoid with
  semi-axes a_k has variance a_k^2 / 5 along each axis; each voxel adds its own spacing^2 / 12);
* ``method="mvee"``: the minimum-volume enclosing ellipsoid of the mask's smoothed surface (Khachiyan's algorithm
  on the vertices of the surface's convex hull, to a relative tolerance of 1e-5): every surface point is inside.

The deviation report gives the exact signed distances (> 0 outside the ellipsoid) of the mask's smoothed surface
vertices to the fitted ellipsoid, area-weighted: so a user sees whether an exact computation on the fitted
ellipsoid stands for the segmented tumour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ValidationError
from .mask import Mask
from .shapes import Ellipsoid
from .surfaces import surface_from_mask

__all__ = ["EllipsoidFit", "fit_ellipsoid"]


@dataclass(frozen=True, eq=False)
class EllipsoidFit:
    """A fitted ellipsoid and the deviation of the mask's surface from it (mm; > 0: the mask lies outside)."""

    ellipsoid: Ellipsoid
    method: str
    mean_abs_deviation_mm: float
    rms_deviation_mm: float
    max_outside_mm: float
    max_inside_mm: float
    p95_abs_deviation_mm: float
    mask_volume_mm3: float

    def summary(self) -> dict:
        e = self.ellipsoid
        return {
            "method": self.method,
            "center_mm": [float(v) for v in e.center_mm],
            "semi_axes_mm": [float(v) for v in e.semi_axes_mm],
            "rotation": e.rotation.tolist(),
            "ellipsoid_volume_mm3": float(e.volume_mm3),
            "mask_volume_mm3": self.mask_volume_mm3,
            "mean_abs_deviation_mm": self.mean_abs_deviation_mm,
            "rms_deviation_mm": self.rms_deviation_mm,
            "max_outside_mm": self.max_outside_mm,
            "max_inside_mm": self.max_inside_mm,
            "p95_abs_deviation_mm": self.p95_abs_deviation_mm,
        }


def fit_ellipsoid(mask: Mask, method: str = "moments") -> EllipsoidFit:
    """Fit an ellipsoid to ``mask`` (``"moments"`` or ``"mvee"``; module docstring) and report the deviation."""
    if not isinstance(mask, Mask):
        raise ValidationError("mask", mask, "expected an ablasim.Mask")
    if method not in ("moments", "mvee"):
        raise ValidationError("method", method, "expected 'moments' or 'mvee'")
    if mask.count < 4:
        raise ValidationError("mask", mask, "needs at least 4 voxels to fit an ellipsoid")
    surf = surface_from_mask(mask, name="mask")
    if method == "moments":
        pts = mask.grid.index_to_world(np.argwhere(mask.array))
        center = pts.mean(axis=0)
        cov = np.cov((pts - center).T, bias=True)
        g = mask.grid
        cov += g.direction @ np.diag(g.spacing_mm**2 / 12.0) @ g.direction.T
        evals, evecs = np.linalg.eigh(cov)
        axes = np.sqrt(5.0 * np.maximum(evals, 1e-12))
    else:
        center, shape_matrix = _mvee(surf.vertices_mm)
        evals, evecs = np.linalg.eigh(shape_matrix)
        axes = 1.0 / np.sqrt(evals)
    if np.linalg.det(evecs) < 0:
        evecs[:, 0] = -evecs[:, 0]
    ell = Ellipsoid(center, axes, evecs)
    dev = ell.signed_distance(surf.vertices_mm)
    w = surf.vertex_areas_mm2()
    w = w / w.sum()
    order = np.argsort(np.abs(dev))
    cw = np.cumsum(w[order])
    p95 = float(np.abs(dev)[order][min(np.searchsorted(cw, 0.95), len(cw) - 1)])
    return EllipsoidFit(
        ell,
        method,
        float((np.abs(dev) * w).sum()),
        float(np.sqrt((dev**2 * w).sum())),
        float(max(dev.max(), 0.0)),
        float(max(-dev.min(), 0.0)),
        p95,
        float(mask.volume_mm3),
    )


def _mvee(points: np.ndarray, tol: float = 1e-5, max_iter: int = 5000):
    """Minimum-volume enclosing ellipsoid ``{x: (x - c)^T A (x - c) <= 1}`` (Khachiyan 1996)."""
    from scipy.spatial import ConvexHull

    pts = points[ConvexHull(points).vertices]
    n, d = pts.shape
    q = np.vstack([pts.T, np.ones(n)])
    u = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        x = q @ (u[:, None] * q.T)
        m = np.einsum("ij,ji->i", q.T, np.linalg.solve(x, q))
        j = int(np.argmax(m))
        step = (m[j] - d - 1.0) / ((d + 1.0) * (m[j] - 1.0))
        new = (1.0 - step) * u
        new[j] += step
        if np.linalg.norm(new - u) < tol:
            u = new
            break
        u = new
    c = pts.T @ u
    a = np.linalg.inv(pts.T @ (u[:, None] * pts) - np.outer(c, c)) / d
    # scale so every hull point lies inside (Khachiyan's ellipsoid is within (1 + tol) of enclosing)
    r = np.einsum("ij,jk,ik->i", pts - c, a, pts - c).max()
    return c, a / r
