"""Margin of a merged ice ball (four IceRods, 15 mm apart, around a 22 x 18 x 16 mm tumour): the isosurface method of
measure_margin (baseline) against the normal-ray method the virtual series use (ablasim.outcomes.zones.ray_margin).
Both report the same margin (tests/outcomes/test_zones.py checks the agreement); the ratio is what lets the full
validation run in minutes."""

import pytest

from ablasim import Ellipsoid, measure_margin, rotation_with_z_axis
from ablasim.outcomes.zones import ray_margin
from ablasim.placement import parallel_array
from ablasim.zones import compose
from benchmarks.conftest import record

GROUP = "merged ice ball margin, 4 IceRods"
TUMOR = Ellipsoid([0, 0, 0], [11, 9, 8], rotation_with_z_axis([0.2, 0.1, 0.97]))
ZONE = compose(parallel_array(TUMOR, 4, "IceRod", spacing_mm=15.0), composition="synergy")


@pytest.fixture(scope="module", autouse=True)
def warm():
    measure_margin(TUMOR, ZONE, resolution_mm=1.0, map_resolution_mm=4.0)
    ray_margin(TUMOR, ZONE)


def test_isosurface(benchmark):
    res = benchmark.pedantic(
        measure_margin, args=(TUMOR, ZONE), kwargs={"resolution_mm": 1.0, "map_resolution_mm": 4.0}, rounds=5
    )
    record(benchmark, GROUP, "isosurface (measure_margin, 1 mm)", baseline=True, margin_mm=res.min_margin_mm)


def test_normal_rays(benchmark):
    res = benchmark.pedantic(ray_margin, args=(TUMOR, ZONE), rounds=10)
    record(benchmark, GROUP, "normal rays (ray_margin)", margin_mm=res.min_margin_mm)
    assert res.min_margin_mm > 0
