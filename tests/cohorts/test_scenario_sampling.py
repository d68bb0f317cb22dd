"""Uncertainty sampling of a scenario file."""

import dataclasses
import tomllib

import pytest

from ablasim import ScenarioError
from ablasim.scenario.parse import load_scenario, parse_scenario
from ablasim.workflows.run import sample_scenario
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
    assert row["rule"] == "renal-6mm" and row["required_margin_mm"] == 6.0 and row["isotherm_c"] == 0.0
    # planned 5.93 mm: the errors can only be compensated by chance, so P(>= 6 mm) is small but not zero
    assert 0.0 < row["probability"] < 0.2
    assert row["ci_low"] <= row["probability"] <= row["ci_high"]
    assert row["margin_percentiles_mm"]["5"] < row["margin_percentiles_mm"]["50"] < 5.93
    again = sample_scenario(_renal(), 300, seed=1)
    assert again[0]["probability"] == row["probability"]  # same seed, same deliveries


def test_without_uncertainty_the_probability_is_the_deterministic_answer():
    (row,) = sample_scenario(load_scenario(EXAMPLES / "renal_metastasis.toml"), 20, seed=0)
    assert row["probability"] == 0.0  # 5.93 mm < 6 mm, every time


def test_bad_uncertainty_tables_are_refused():
    text = (EXAMPLES / "renal_metastasis.toml").read_text()
    with pytest.raises(ScenarioError, match="uncertainty.tip_axial_sd_mm"):
        parse_scenario(tomllib.loads(text + UNC.replace("tip_axial_sd_mm = 2.0", "tip_axial_sd_mm = -2.0")))
    with pytest.raises(ScenarioError, match="unknown key"):
        parse_scenario(tomllib.loads(text + UNC + "tip_sd = 1\n"))


def test_explicit_zones_are_not_sampled():
    sc = load_scenario(EXAMPLES / "single_probe_sphere.toml")
    with_zones = dataclasses.replace(sc, zones=tuple(sc.zone()))
    with pytest.raises(ScenarioError, match="catalog probes only"):
        sample_scenario(with_zones, 5)
