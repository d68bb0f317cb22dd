"""Isosurface path: zones given as fields on a grid (temperature maps) and their margins."""

import numpy as np
import pytest

from ablasim import Ellipsoid, Grid, ValidationError, measure_margin
from ablasim.zones import GridFieldZone


def _field(grid, fn):
    idx = np.indices(grid.shape).reshape(3, -1).T
    return fn(grid.index_to_world(idx)).reshape(grid.shape)


GRID = Grid.covering([-20] * 3, [20] * 3, 0.5)


def test_grid_field_sphere_matches_the_exact_margin_within_a_voxel():
    # "temperature" = distance from the origin minus 12: the zone {f <= 0} is the sphere of radius 12
    zone = GridFieldZone(_field(GRID, lambda p: np.linalg.norm(p, axis=1) - 12.0), GRID, 0.0)
    for center, r in [([0, 0, 0], 8.0), ([2.0, -1.0, 0.5], 7.0), ([6.0, 0, 0], 8.0)]:
        tumor = Ellipsoid.sphere(center, r)
        exact = measure_margin(tumor, Ellipsoid.sphere([0, 0, 0], 12.0))
        iso = measure_margin(tumor, zone)
        assert iso.method == "isosurface"
        assert iso.error_bound_mm >= GRID.voxel_diagonal_mm
        assert abs(iso.min_margin_mm - exact.min_margin_mm) <= iso.error_bound_mm
        assert abs(iso.min_margin_mm - exact.min_margin_mm) <= 0.05  # what it actually achieves on this field


def test_a_warm_core_inside_the_tumour_is_a_negative_margin():
    # zone: the sphere of radius 14 minus a hole of radius 2 around (1, 0, 0), which lies inside the tumour
    fn = lambda p: np.maximum(np.linalg.norm(p, axis=1) - 14.0, 2.0 - np.linalg.norm(p - [1.0, 0, 0], axis=1))
    zone = GridFieldZone(_field(GRID, fn), GRID, 0.0)
    res = measure_margin(Ellipsoid.sphere([0, 0, 0], 6.0), zone)
    # the hole's centre is 2 mm from the zone: margin -2. The surface alone would read positive: its nearest zone
    # boundary is the hole's, |(6, 0, 0) - (1, 0, 0)| - 2 = 3 mm away at the closest surface point.
    assert res.min_margin_mm == pytest.approx(-2.0, abs=0.05)
    assert res.margin_map.margins_mm.min() == pytest.approx(3.0, abs=0.05)
    # coverage: the hole takes (2/6)^3 of the tumour's volume
    assert res.coverage == pytest.approx(1 - (2 / 6) ** 3, abs=2e-3)


def test_grid_field_checks_its_input():
    with pytest.raises(ValidationError):
        GridFieldZone(np.zeros((3, 3, 3)), GRID, 0.0)
    bad = np.zeros(GRID.shape)
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValidationError):
        GridFieldZone(bad, GRID, 0.0)


def test_mask_tumour_with_a_field_zone_goes_through_the_mesh_path():
    # the field is rasterised on the tumour's grid; a tumour mask is measured by the mesh method (and by the voxel
    # path on request). Exact: 12 - 8 = 4 mm; the voxel path overestimates (the unsafe side) within its bound
    zone = GridFieldZone(_field(GRID, lambda p: np.linalg.norm(p, axis=1) - 12.0), GRID, 0.0)
    tumor = Ellipsoid.sphere([0, 0, 0], 8.0).to_mask(GRID)
    res = measure_margin(tumor, zone)
    assert res.method == "mesh"
    assert abs(res.min_margin_mm - 4.0) <= res.error_bound_mm
    vox = measure_margin(tumor, zone, method="voxel")
    assert vox.method == "voxel-edt"
    assert 0.0 <= vox.min_margin_mm - 4.0 <= vox.error_bound_mm
