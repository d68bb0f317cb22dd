"""Ellipsoid fits to masks: moments recover a rasterised ellipsoid; the MVEE encloses the mask's surface."""

import numpy as np
import pytest

from ablasim import Ellipsoid, Grid, ValidationError, rotation_from_euler_deg
from ablasim.geometry.fit import fit_ellipsoid
from ablasim.geometry.surfaces import surface_from_mask

GRID = Grid((60, 60, 60), 0.7, (-21, -21, -21))
TRUE = Ellipsoid((0.2, 0.1, -0.3), (12, 9, 7), rotation_from_euler_deg([20, 10, 30]))


def test_moments_recover_axes_and_centre():
    fit = fit_ellipsoid(TRUE.to_mask(GRID), "moments")
    # voxelisation error: a fraction of the 0.7 mm spacing
    np.testing.assert_allclose(np.sort(fit.ellipsoid.semi_axes_mm), [7, 9, 12], atol=0.15)
    np.testing.assert_allclose(fit.ellipsoid.center_mm, TRUE.center_mm, atol=0.05)
    assert fit.mean_abs_deviation_mm < 0.15


def test_mvee_encloses_the_surface():
    mask = TRUE.to_mask(GRID)
    fit = fit_ellipsoid(mask, "mvee")
    verts = surface_from_mask(mask).vertices_mm
    assert fit.ellipsoid.signed_distance(verts).max() <= 1e-6
    np.testing.assert_allclose(np.sort(fit.ellipsoid.semi_axes_mm), [7, 9, 12], atol=0.5)


def test_rejects_tiny_masks():
    arr = np.zeros(GRID.shape, bool)
    arr[5, 5, 5] = True
    from ablasim import Mask

    with pytest.raises(ValidationError, match="mask"):
        fit_ellipsoid(Mask(arr, GRID))
