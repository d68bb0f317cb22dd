"""The normal-ray margin of merged ice balls against the project's exact and isosurface methods."""

import numpy as np
import pytest

from ablasim import Ellipsoid, compose, measure_margin, rotation_with_z_axis
from ablasim.outcomes.zones import measure_series_zone, ray_margin, series_zone
from ablasim.placement import parallel_array
from ablasim.probes import Probe
from ablasim.zones import SynergyZone


def test_single_probe_merged_zone_equals_the_exact_ellipsoid_margin():
    # a one-probe SynergyZone is exactly the catalog ellipsoid (docs/zones.md), so both methods measure one surface
    tumor = Ellipsoid([1.0, -2.0, 0.5], [7.0, 6.0, 5.0], rotation_with_z_axis([0.3, 0.4, 0.87]))
    p = Probe([1.0, -2.0, 5.5], [0.0, 0.0, 1.0], "IceRod")
    zone = compose([p], composition="synergy")
    exact = measure_margin(tumor, p.zone(), resolution_mm=0.5, map_resolution_mm=None)
    rm = ray_margin(tumor, zone)
    assert rm.min_margin_mm == pytest.approx(exact.min_margin_mm, abs=0.01)


@pytest.mark.parametrize("n,spacing", [(3, 10.0), (4, 15.0)])
def test_merged_zone_margin_agrees_with_the_isosurface_method(n, spacing):
    tumor = Ellipsoid([0.0, 0.0, 0.0], [11.0, 9.0, 8.0], rotation_with_z_axis([0.2, 0.1, 0.97]))
    zone = compose(parallel_array(tumor, n, "IceRod", spacing_mm=spacing), composition="synergy")
    iso = measure_margin(tumor, zone, resolution_mm=1.0, map_resolution_mm=4.0)
    rm = ray_margin(tumor, zone)
    # both report margins attained by real point pairs; they agree within the isosurface method's error bound
    assert rm.min_margin_mm == pytest.approx(iso.min_margin_mm, abs=iso.error_bound_mm + 0.02)


def test_uncovered_tumour_gives_none_or_a_negative_estimate():
    tumor = Ellipsoid([0.0, 0.0, 0.0], [20.0, 18.0, 16.0])
    zone = compose(parallel_array(tumor, 2, "IceSeed", spacing_mm=10.0), composition="synergy")
    assert ray_margin(tumor, zone) is None
    est = ray_margin(tumor, zone, estimate_uncovered=True)
    iso = measure_margin(tumor, zone, resolution_mm=1.0, map_resolution_mm=4.0)
    assert est.min_margin_mm < 0 and iso.min_margin_mm < 0
    # an estimate: same sign and order of magnitude as the isosurface method's depth
    assert abs(est.min_margin_mm - iso.min_margin_mm) < 0.5 * abs(iso.min_margin_mm) + 1.0


def test_series_zone_uses_the_union_for_one_probe_and_heat_zones():
    tumor = Ellipsoid([0.0, 0.0, 0.0], [8.0, 8.0, 8.0])
    one = series_zone(parallel_array(tumor, 1, "IceRod", spacing_mm=10.0), {})
    many = series_zone(parallel_array(tumor, 3, "IceRod", spacing_mm=10.0), {})
    rf = series_zone(parallel_array(tumor, 2, "Cool-tip", spacing_mm=15.0, duration_s=720.0), {"duration_s": 720.0})
    union = series_zone(parallel_array(tumor, 3, "IceRod", spacing_mm=10.0), {}, "union")
    assert isinstance(one, list) and isinstance(many, SynergyZone) and isinstance(rf, list)
    assert isinstance(union, list)
    # the merged ice ball contains the union: its margin is at least the union's
    assert measure_series_zone(tumor, many).min_margin_mm >= measure_series_zone(tumor, union).min_margin_mm
    assert np.isfinite(measure_series_zone(tumor, rf).min_margin_mm)
