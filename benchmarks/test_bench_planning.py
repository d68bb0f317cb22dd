"""Planning: ablasim's planner against the baselines on three cases of the fixed benchmark set.

The full table (32 tumours) is ``python -m benchmarks.planning_table`` (docs/planning.md); this file times three
cases per method (a 10 mm tumour beside an organ, a 13 mm one, a 17 mm one that needs four probes), each contender
beside the fixed-table baseline, and records P(margin >= 5 mm) on the benchmark's fresh deliveries. With
``--benchmark-disable`` (CI) each runs once, untimed: the smoke version. No time is asserted. Asserted: ablasim's
plans break no hard constraint (by construction) and meet the robust target on these three cases (measured: P =
96.5, 99.0 and 100 % on the 400 fresh deliveries; a change that loses that is a regression to look at).
"""

import pytest

from benchmarks.conftest import record
from benchmarks.planning_baselines import cryomc, fixed_table, greedy_cover
from benchmarks.planning_cases import benchmark_cases, evaluate
from benchmarks.planning_table import ablasim_planner

CASES = (0, 1, 4)
METHODS = {
    "fixed table": fixed_table,
    "greedy cover (MITK-like)": greedy_cover,
    "Nelder-Mead P(coverage) (CryoMC-like)": cryomc,
    "ablasim planner": ablasim_planner,
}


@pytest.fixture(scope="module")
def cases():
    every = benchmark_cases()
    return {i: every[i] for i in CASES}


@pytest.mark.parametrize("index", CASES)
@pytest.mark.parametrize("method", list(METHODS))
def test_planning(benchmark, cases, method, index):
    case = cases[index]
    probes = benchmark.pedantic(METHODS[method], args=(case,), rounds=1, iterations=1)
    ev = evaluate(case, probes)
    if benchmark.stats:
        record(
            benchmark,
            f"planning, case {index} ({case.diameter_mm:.1f} mm{', organ' if case.organs else ''})",
            method,
            baseline=method == "fixed table",
            probes=len(probes),
            p_margin_5mm=ev["probability"],
            violations=len(ev["violations"]),
        )
    if method == "ablasim planner":
        assert not ev["violations"] and ev["met"]
