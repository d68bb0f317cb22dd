"""Four cryoprobes around a 26 x 22 x 24 mm lesion: building the zone and checking sarcoma-5mm, union vs synergy.

The union (exact method) is the baseline; the ratio column shows how much the cold-synergy model (isosurface
method) costs relative to it. Both runs end in the same rule check.
"""

import pytest

from ablasim import Ellipsoid, measure_margin
from ablasim.placement import parallel_array
from ablasim.rules import check_rule, default_rules
from ablasim.zones import compose
from benchmarks.conftest import record

GROUP = "four IceRod probes: zone + sarcoma-5mm check"
TUMOR = Ellipsoid([0, 0, 0], [13, 11, 12])
RULE = default_rules()["sarcoma-5mm"]


def plan(composition):
    probes = parallel_array(TUMOR, 4, "IceRod", spacing_mm=12.0)
    zone = compose(probes, composition=composition)
    return check_rule(RULE, measure_margin(TUMOR, zone), TUMOR)


@pytest.fixture(scope="module", autouse=True)
def warm():
    plan("union")
    plan("synergy")


def test_union(benchmark):
    check = benchmark.pedantic(plan, args=("union",), rounds=20, iterations=1)
    record(benchmark, GROUP, "union (exact)", baseline=True, margin_mm=check.min_margin_mm)
    assert check.min_margin_mm > 0


def test_synergy(benchmark):
    check = benchmark.pedantic(plan, args=("synergy",), rounds=5, iterations=1)
    record(benchmark, GROUP, "cold synergy (isosurface)", margin_mm=check.min_margin_mm)
    assert check.min_margin_mm > plan("union").min_margin_mm
