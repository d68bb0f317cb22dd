"""A small, fast cohort used by the cohort tests: 60 cases of 1-3 IceRod probes with every uncertainty source on."""

import pytest

from ablasim.workflows.cohorts import parse_cohort_spec

DOC = {
    "name": "test-cohort",
    "seed": 20261121,
    "n_cases": 60,
    "chunk_size": 7,
    "tumor": {
        "organ": "liver",
        "diameter_mm": {"distribution": "lognormal", "mean": 25.0, "median": 22.0, "min": 6.0, "max": 50.0},
        "elongation": {"distribution": "uniform", "min": 1.0, "max": 1.4},
    },
    "strategy": [
        {"max_diameter_mm": 18.0, "model": "IceRod", "n_probes": 1},
        {"max_diameter_mm": 32.0, "model": "IceRod", "n_probes": 2, "spacing_mm": 12.0},
        {"model": "IceRod", "n_probes": 3, "spacing_mm": 14.0},
    ],
    "uncertainty": {
        "tip_lateral_sd_mm": 1.5,
        "tip_axial_sd_mm": 2.0,
        "angle_sd_deg": 2.0,
        "zone_scale_sd": 0.1,
        "registration_shift_sd_mm": 0.94,
        "registration_rotation_sd_deg": 1.0,
    },
    "outcome": {"success_margin_mm": 0.0, "thresholds_mm": [0.0, 2.0, 5.0]},
}


@pytest.fixture(scope="session")
def spec():
    return parse_cohort_spec(DOC)


@pytest.fixture(scope="session")
def reference(spec):
    """The in-process result every other way of running must reproduce bit for bit."""
    from ablasim.workflows.cohorts import run_cohort

    return run_cohort(spec).table


def assert_identical(a: dict, b: dict):
    assert set(a) == set(b)
    for name in a:
        assert a[name].dtype == b[name].dtype, name
        assert a[name].tobytes() == b[name].tobytes(), f"column {name} differs"
