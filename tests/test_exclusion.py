"""Capsule exclusion: a subcapsular tumour whose thin margin lies against the organ boundary."""

import math

import numpy as np
import pytest

from ablasim import CapsuleExclusion, Ellipsoid, Grid, measure_margin, rotation_from_euler_deg


def test_subcapsular_tumour_thin_side_is_excluded():
    # Organ: a large sphere whose boundary near the tumour is the nearly flat surface through x = 30. The tumour
    # (r = 8, spanning x in [13, 29]) lies 1 mm under it; the zone (r = 12, centred at x = 18, spanning [6, 30])
    # stops at the capsule: 30 - 29 = 1 mm beyond the tumour on the capsule side, 13 - 6 = 7 mm opposite.
    organ = Ellipsoid.sphere([-70, 0, 0], 100.0)
    tumor = Ellipsoid.sphere([21, 0, 0], 8.0)
    zone = Ellipsoid.sphere([18, 0, 0], 12.0)
    full = measure_margin(tumor, zone)
    assert full.min_margin_mm == pytest.approx(1.0, abs=1e-12)
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


def _subcapsular():
    organ = Ellipsoid.sphere([-70, 0, 0], 100.0)
    return organ, Ellipsoid.sphere([21, 0, 0], 8.0), Ellipsoid.sphere([18, 0, 0], 12.0)


def test_constrained_optimum_on_the_edge_of_the_excluded_region_is_exact():
    # Closed form. A tumour point at angle theta from +x (tumour centre (21, 0, 0), r = 8) is 100 - sqrt(8345 +
    # 1456 cos theta) deep in the organ (centre (-70, 0, 0), R = 100; 91^2 + 8^2 = 8345, 2 * 91 * 8 = 1456): excluded
    # (within 3 mm of the capsule) where cos theta >= c* = (97^2 - 8345) / 1456. Its margin, the depth in the zone
    # sphere (centre (18, 0, 0), R = 12), 12 - sqrt(73 + 48 cos theta), falls as cos theta grows: the included
    # minimum lies on the edge, 12 - sqrt(73 + 48 c*) = 1.6038 mm. (The sampled edge of the old map gave ~+0.4 mm.)
    organ, tumor, zone = _subcapsular()
    c_star = (97.0**2 - 8345.0) / 1456.0
    expected = 12.0 - math.sqrt(73.0 + 48.0 * c_star)
    res = measure_margin(tumor, zone, exclude=CapsuleExclusion(organ, 3.0))
    # Every point of the edge (a circle about the x axis) is a minimum: no strict minimum to certify, so the error
    # bound stays the sampled one; the value is exact all the same (1e-9: the edge is found by bisection).
    assert abs(res.min_margin_mm - expected) <= 1e-9
    assert np.abs(organ.signed_distance(res.thinnest_point_mm))[0] == pytest.approx(3.0, abs=1e-9)


def test_an_exclusion_that_leaves_the_optimum_in_changes_nothing():
    # The capsule is 80 mm away: nothing is excluded; then 3 mm from the opposite side of the tumour from its
    # thinnest point: something is excluded, but not near the optimum. Either way the result (and its error bound,
    # 0.95 mm before) is the unconstrained one.
    _, tumor, zone = _subcapsular()
    full = measure_margin(tumor, zone)
    far = measure_margin(tumor, zone, exclude=CapsuleExclusion(Ellipsoid.sphere([-200, 0, 0], 100.0), 3.0))
    assert far.excluded_area_fraction == 0.0
    opposite = measure_margin(tumor, zone, exclude=CapsuleExclusion(Ellipsoid.sphere([110, 0, 0], 100.0), 3.0))
    assert opposite.excluded_area_fraction > 0.0
    for res in (far, opposite):
        assert res.min_margin_mm == full.min_margin_mm
        assert res.error_bound_mm == full.error_bound_mm <= 1e-8


def test_exclusion_on_a_union_matches_the_brute_force_reference():
    # Two overlapping zone ellipsoids around a rotated lesion; the organ capsule passes gap_mm outside the lesion's
    # thinnest point (along the lesion's normal there), so the unconstrained optimum is excluded.
    from ablasim.geometry.shapes import rotation_with_z_axis
    from reference.exclusion_reference import constrained_margin

    zones = [
        Ellipsoid([16, 3, 0], [12, 10, 13]),
        Ellipsoid([22, -4, 1], [11, 12, 10], rotation_from_euler_deg([0, 20, 10])),
    ]
    tumor = Ellipsoid([21, 0, 0], [8, 7, 6.5], rotation_from_euler_deg([15, -10, 30]))
    full = measure_margin(tumor, zones)
    p = full.thinnest_point_mm
    n = tumor.rotation @ (tumor.rotation.T @ (p - tumor.center_mm) / tumor.semi_axes_mm**2)
    n /= np.linalg.norm(n)
    gap_mm, dist, axes = 0.5, 4.0, (80, 85, 92)
    organ = Ellipsoid(p + (gap_mm - axes[2]) * n, axes, rotation_with_z_axis(n))
    res = measure_margin(tumor, zones, exclude=CapsuleExclusion(organ, dist))
    assert 0.0 < res.excluded_area_fraction < 0.5
    assert res.min_margin_mm > full.min_margin_mm  # the optimum was excluded
    assert res.error_bound_mm <= 1e-8  # the constrained optimum is a converged refinement
    tup = lambda e: (e.center_mm, e.rotation, e.semi_axes_mm)
    ref = constrained_margin(tup(tumor), [tup(z) for z in zones], tup(organ), dist)
    # acceptance (issue 14): within 0.02 mm of the brute-force reference (which lies above the truth by its
    # sampling error, about 1e-3 mm here: the exact value is attained, so it may only be lower)
    assert abs(res.min_margin_mm - ref) <= 0.02
