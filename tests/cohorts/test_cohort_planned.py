"""Cohorts with a planned strategy: each case is planned, then delivered; results depend only on (spec, case)."""

import numpy as np
import pytest

from ablasim import ScenarioError
from ablasim.workflows.cohorts import parse_cohort_spec, run_chunk, run_cohort
from cohorts.conftest import DOC, assert_identical

PLANNED = {
    **DOC,
    "name": "planned-cohort",
    "n_cases": 6,
    "chunk_size": 4,
    "tumor": {**DOC["tumor"], "diameter_mm": {"distribution": "uniform", "min": 10.0, "max": 24.0}},
    "strategy": [
        {
            "kind": "planned",
            "models": ["IceRod"],
            "max_probes": 4,
            "probability": 0.8,
            "n_samples": 12,
            "polish_evals": 30,
        }
    ],
    "outcome": {"success_margin_mm": 2.0, "thresholds_mm": [0.0, 2.0]},
}


def test_planned_cases_are_deterministic_whatever_the_chunking():
    spec = parse_cohort_spec(PLANNED)
    whole = run_cohort(spec).table
    assert_identical(whole, run_cohort(parse_cohort_spec({**PLANNED, "chunk_size": 1})).table)
    parts = [run_chunk(spec, a, b) for a, b in ((0, 2), (2, 6))]
    assert_identical(whole, {k: np.concatenate([p[k] for p in parts]) for k in whole})
    assert np.all(whole["n_probes"] >= 1) and np.all(whole["n_probes"] <= 4)
    assert np.all(np.isfinite(whole["min_margin_mm"]))


def test_a_case_with_no_possible_plan_is_delivered_with_no_probe():
    # 60 mm tumours, 10 mm margin, at most one IceSeed (10 x 10 x 12.5 mm ball): the volume bound rules every
    # plan out, so nothing is delivered
    doc = {
        **PLANNED,
        "n_cases": 2,
        "tumor": {"diameter_mm": 60.0},
        "strategy": [{"kind": "planned", "models": ["IceSeed"], "max_probes": 1}],
        "outcome": {"success_margin_mm": 10.0},
    }
    table = run_cohort(parse_cohort_spec(doc)).table
    assert np.all(table["n_probes"] == 0) and np.all(table["min_margin_mm"] == -np.inf)
    assert not table["success"].any() and np.all(table["feature"] == -1)


@pytest.mark.parametrize(
    "change, words",
    [
        ({"kind": "planned", "models": ["IceRodd"]}, "IceRodd"),
        ({"kind": "planned", "models": ["IceRod"], "max_probes": 40}, "strategy[0].max_probes"),
        ({"kind": "planned", "models": ["IceRod"], "n_probes": 3}, "n_probes"),
        ({"kind": "planned", "models": ["IceRod"], "min_spacing_mm": 30.0}, "no feasible placement"),
        ({"kind": "plannned", "models": ["IceRod"]}, "strategy[0].kind"),
    ],
)
def test_planned_strategy_errors_name_the_field(change, words):
    with pytest.raises(ScenarioError) as err:
        parse_cohort_spec({**PLANNED, "strategy": [change]})
    assert words in str(err.value)
