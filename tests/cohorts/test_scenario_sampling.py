"""Uncertainty sampling of a scenario file."""

import dataclasses
import tomllib

import pytest

from ablasim import ScenarioError, load_scenario, parse_scenario, run_scenario, sample_scenario
from conftest import EXAMPLES

UNC = """
[uncertainty]
tip_lateral_sd_mm = 1.5
tip_axial_sd_mm = 2.0
angle_sd_deg = 2.0
zone_scale_sd = 0.1
registration_shift_sd_mm = 1.0
"""


def _renal(extra=""):
    return parse_scenario(tomllib.loads((EXAMPLES / "renal_metastasis.toml").read_text() + UNC + extra))


def test_probability_of_meeting_the_rule():
    (row,) = sample_scenario(_renal(), 300, seed=1)
    assert row.rule == "renal-6mm" and row.required_margin_mm == 6.0 and row.isotherm_c == 0.0
    # planned 5.93 mm: the errors can only be compensated by chance, so P(>= 6 mm) is small but not zero
    assert 0.0 < row.probability < 0.2
    assert row.ci_low <= row.probability <= row.ci_high
    assert row.margin_percentiles_mm["5"] < row.margin_percentiles_mm["50"] < 5.93
    again = sample_scenario(_renal(), 300, seed=1)
    assert again[0].probability == row.probability  # same seed, same deliveries


def test_vanishing_uncertainty_reproduces_the_deterministic_run():
    # every error 1e-9 of its usual size: each sampled delivery is the plan to within ~1e-8 mm, so the sampled
    # margins equal the deterministic one (exact to ~1e-13 mm) and the probability is its pass/fail
    tiny = UNC.replace("1.5", "1.5e-9").replace("2.0", "2.0e-9").replace("0.1", "0.1e-9").replace("1.0", "1.0e-9")
    sc = parse_scenario(tomllib.loads((EXAMPLES / "renal_metastasis.toml").read_text() + tiny))
    (outcome,) = run_scenario(sc).outcomes
    (row,) = sample_scenario(sc, 20, seed=0)
    for q in ("5", "50", "95"):
        assert abs(row.margin_percentiles_mm[q] - outcome.result.min_margin_mm) < 1e-6
    assert row.probability == float(outcome.checks[0].passed) == 0.0  # 5.93 mm < 6 mm, every time


def test_a_scenario_without_uncertainty_is_refused_not_sampled():
    # before: 20 identical deliveries of the plan were "sampled" silently
    with pytest.raises(ScenarioError, match=r"\[uncertainty\] table"):
        sample_scenario(load_scenario(EXAMPLES / "renal_metastasis.toml"), 20, seed=0)


def test_bad_uncertainty_tables_are_refused():
    text = (EXAMPLES / "renal_metastasis.toml").read_text()
    with pytest.raises(ScenarioError, match="uncertainty.tip_axial_sd_mm"):
        parse_scenario(tomllib.loads(text + UNC.replace("tip_axial_sd_mm = 2.0", "tip_axial_sd_mm = -2.0")))
    with pytest.raises(ScenarioError, match="unknown key"):
        parse_scenario(tomllib.loads(text + UNC + "tip_sd = 1\n"))


def test_explicit_zones_are_not_sampled():
    sc = parse_scenario(tomllib.loads((EXAMPLES / "single_probe_sphere.toml").read_text() + UNC))
    with_zones = dataclasses.replace(sc, zones=tuple(sc.zone()))
    with pytest.raises(ScenarioError, match="catalog probes only"):
        sample_scenario(with_zones, 5)
