"""Four cryoprobes around a 26 x 22 x 24 mm lesion: building the zone and checking sarcoma-5mm, union vs synergy.

The union (exact method) is the baseline; the ratio column shows what the cold-synergy model costs relative to it,
by the level-set route (rays along the tumour normals, refinement on the level set: the covered case) and by the
previous marching-cubes isosurface search (kept in the package for tumours the zone does not cover). All three runs
end in the same rule check; the synergy margins of the two routes are compared within the previous route's error
bound.
"""

import pytest

from ablasim import Ellipsoid, measure_margin
from ablasim.metrics.isosurface import isosurface_margin
from ablasim.placement import parallel_array
from ablasim.rules import check_rule, default_rules
from ablasim.zones import compose
from benchmarks.conftest import record

GROUP = "four IceRod probes: zone + sarcoma-5mm check"
TUMOR = Ellipsoid([0, 0, 0], [13, 11, 12])
RULE = default_rules()["sarcoma-5mm"]


def plan(composition, previous=False):
    probes = parallel_array(TUMOR, 4, "IceRod", spacing_mm=12.0)
    zone = compose(probes, composition=composition)
    if previous:  # the marching-cubes isosurface route, as measure_margin took it before
        res = isosurface_margin(TUMOR, zone, resolution_mm=0.5, map_resolution_mm=1.0)
    else:
        res = measure_margin(TUMOR, zone)
    return check_rule(RULE, res, TUMOR), res


@pytest.fixture(scope="module", autouse=True)
def warm():
    plan("union")
    plan("synergy")
    plan("synergy", previous=True)


def test_union(benchmark):
    check, _ = benchmark.pedantic(plan, args=("union",), rounds=20, iterations=1)
    record(benchmark, GROUP, "union (exact)", baseline=True, margin_mm=check.min_margin_mm)
    assert check.min_margin_mm > 0


def test_synergy(benchmark):
    check, res = benchmark.pedantic(plan, args=("synergy",), rounds=20, iterations=1)
    record(benchmark, GROUP, "cold synergy (level set)", margin_mm=check.min_margin_mm)
    assert check.min_margin_mm > plan("union")[0].min_margin_mm
    _, previous = plan("synergy", previous=True)
    assert abs(res.min_margin_mm - previous.min_margin_mm) <= previous.error_bound_mm


def test_synergy_previous(benchmark):
    check, _ = benchmark.pedantic(plan, args=("synergy", True), rounds=3, iterations=1)
    record(benchmark, GROUP, "cold synergy (previous: isosurface)", margin_mm=check.min_margin_mm)
    assert check.min_margin_mm > plan("union")[0].min_margin_mm
