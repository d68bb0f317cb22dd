"""Shared planning fixtures: the test catalog with spherical zones and small search budgets."""

from pathlib import Path

import pytest

from ablasim import ProbeCatalog
from ablasim.planning import SearchOptions

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def sphere_catalog():
    return ProbeCatalog.from_toml(HERE / "sphere_probes.toml")


def small_search(**changes) -> SearchOptions:
    """A search small enough for the test suite (every option still exercised)."""
    base = {"n_samples": 20, "search_samples": 10, "polish_evals": 120, "robust_polish_evals": 0}
    return SearchOptions(**{**base, **changes})
