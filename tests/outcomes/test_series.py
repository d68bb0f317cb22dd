"""Series files: validation before any case runs, and cases that are pure functions of (series, index)."""

import copy

import numpy as np
import pytest

from ablasim.errors import ScenarioError
from ablasim.outcomes.cases import make_case, run_series_chunk
from ablasim.outcomes.data import load_fit_predict
from ablasim.outcomes.plan import plan_case
from ablasim.outcomes.series import default_series, parse_series


@pytest.fixture(scope="module")
def renal_doc():
    return copy.deepcopy(next(s for s in default_series() if s.id == "renal").raw)


def test_every_shipped_series_parses_and_the_split_covers_its_endpoints():
    series = default_series()
    assert {s.record for s in series} == {
        "liver_cryo_glazer2017",
        "renal_metastases_ir2022",
        "sarcoma_cryo_sheth",
        "adrenal_frenk2017",
        "bone_cryo_review_page",
    }
    load_fit_predict().check([e.id for s in series for e in s.endpoints])


@pytest.mark.parametrize(
    "path,value,field",
    [
        (("arms", 0, "models"), ["NoSuchProbe"], "NoSuchProbe"),
        (("arms", 0, "actions"), [{"action": "pray", "max": 1}], "action"),
        (("arms", 1, "actions"), [{"action": "extra_cycle", "gain_mm": 1.0, "max": 1}], "cryoprobes only"),
        (("endpoints", 0, "outcome"), "no such outcome", "outcome"),
        (("tumor", "diameter_mm"), {"distribution": "normal", "mean": 17.0, "sd": -1.0}, "sd"),
        (("structures", "p_near"), 1.5, "p_near"),
        (("composition",), "blend", "composition"),
        (("typo_key",), 1, "typo_key"),
    ],
)
def test_bad_fields_are_refused_naming_the_field(renal_doc, path, value, field):
    doc = copy.deepcopy(renal_doc)
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ScenarioError, match=field):
        parse_series(doc, "test.toml")


@pytest.fixture(scope="module")
def small():
    doc = copy.deepcopy(next(s for s in default_series() if s.id == "renal").raw)
    doc["composition"] = "union"  # exact and fast; the merged ice ball is tested in test_zones.py
    return parse_series(doc).with_cases(6)


def test_cases_do_not_depend_on_chunking(small):
    whole = run_series_chunk(small, 0, 6)
    parts = [run_series_chunk(small, 0, 2), run_series_chunk(small, 2, 6)]
    for k, v in whole.items():
        np.testing.assert_array_equal(v, np.concatenate([p[k] for p in parts]))


def test_the_plan_is_the_smallest_array_reaching_the_target(small):
    vc = make_case(small, 3)
    plan = plan_case(vc.tumor, vc.arm, vc.direction, composition="union")
    if plan.meets_target and plan.n_probes > 1:
        smaller = plan_case(
            vc.tumor,
            type(vc.arm)(**{**vc.arm.__dict__, "probe_budget": plan.n_probes - 1}),
            vc.direction,
            composition="union",
        )
        assert not smaller.meets_target
    assert plan.n_probes <= vc.arm.probe_budget
    again = plan_case(vc.tumor, vc.arm, vc.direction, composition="union")
    assert again.nominal_margin_mm == plan.nominal_margin_mm and again.n_probes == plan.n_probes


def test_scaled_series_change_the_digest_and_the_sizes(small):
    big = small.scaled(size_scale=1.25)
    assert big.digest() != small.digest()
    assert make_case(big, 0).diameter_mm == pytest.approx(1.25 * make_case(small, 0).diameter_mm)
