"""Capsule exclusion: a subcapsular tumour whose thin margin lies against the organ boundary."""

import numpy as np
import pytest

from ablasim import CapsuleExclusion, Ellipsoid, Grid, measure_margin


def test_subcapsular_tumour_thin_side_is_excluded():
    # Organ: a large sphere whose boundary near the tumour is the nearly flat surface through x = 30. The tumour
    # (r = 8, spanning x in [13, 29]) lies 1 mm under it; the zone (r = 12, centred at x = 18, spanning [6, 30])
    # stops at the capsule: 30 - 29 = 1 mm beyond the tumour on the capsule side, 13 - 6 = 7 mm opposite.
    organ = Ellipsoid.sphere([-70, 0, 0], 100.0)
    tumor = Ellipsoid.sphere([21, 0, 0], 8.0)
    zone = Ellipsoid.sphere([18, 0, 0], 12.0)
    full = measure_margin(tumor, zone)
    assert full.min_margin_mm == pytest.approx(1.0, abs=1e-6)
    assert full.thinnest_point_mm[0] == pytest.approx(29.0, abs=1e-6)
    excl = measure_margin(tumor, zone, exclude=CapsuleExclusion(organ, 3.0))
    # Without the capsule side, the thinnest included point is where the excluded cap ends; it is > 1 mm.
    assert excl.min_margin_mm > full.min_margin_mm + 0.5
    assert np.abs(organ.signed_distance(excl.thinnest_point_mm))[0] > 3.0 - 1e-9
    assert 0 < excl.excluded_area_fraction < 0.2
    # the excluded points are those within 3 mm of the capsule
    mm = excl.margin_map
    d = np.abs(organ.signed_distance(mm.points_mm))
    assert np.array_equal(~mm.included, d <= 3.0)
    assert excl.coverage == full.coverage


def test_mask_organ_boundary_distance_is_within_a_voxel():
    organ = Ellipsoid.sphere([0, 0, 0], 20.0)
    g = Grid.covering([-24] * 3, [24] * 3, 1.0)
    excl = CapsuleExclusion(organ.to_mask(g), 2.0)
    pts = np.random.default_rng(0).uniform(-18, 18, (500, 3))
    exact = np.abs(organ.signed_distance(pts))
    assert np.all(np.abs(excl.boundary_distance(pts) - exact) <= g.voxel_diagonal_mm)
