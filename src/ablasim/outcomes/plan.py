"""The plan of a virtual case: the ONE function the virtual series take their probes from.

:func:`plan_case` is a small deterministic array search, not the planner of :mod:`ablasim.planning`. The planner
spends a median 11 s per case on the 32-tumour planning benchmark (docs/planning.md); the series plan 200 cases each
(several thousand plans per full run, and again in every sensitivity rerun), which the ~10-minute full run
cannot afford. Changing the plan is also a change of the outcome model, so it would need a new prediction-log entry
(docs/validation.md), never a silent swap. Strategy: parallel arrays
(:func:`ablasim.placement.parallel_array`) along the case's approach direction, with 1, 2, ... up to the arm's
probe budget probes, each of the arm's probe models and spacings in the order listed; the first array whose nominal
zone (catalog, no error; :func:`ablasim.outcomes.zones.series_zone`) covers the tumour with the arm's target margin
wins. When no array within the budget reaches the target, the array with the largest nominal margin is used (fewest
probes on ties). No optimisation of positions, angles or settings (which the planner does).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..catalog import ProbeCatalog, default_catalog
from ..geometry.shapes import Ellipsoid
from ..placement import parallel_array
from .zones import measure_series_zone, series_zone

__all__ = ["Plan", "nominal_margin_mm", "plan_case"]


@dataclass(frozen=True)
class Plan:
    model: str
    model_index: int
    n_probes: int
    spacing_mm: float
    direction: np.ndarray
    probes: tuple
    settings: dict  # zone settings of the arm (protocol / power_w / duration_s / zone_scale)
    nominal_margin_mm: float
    meets_target: bool

    def with_probes(self, n_probes: int, tumor: Ellipsoid, catalog: ProbeCatalog | None = None) -> tuple:
        """The same array (model, spacing, direction) with ``n_probes`` probes: an added probe during monitoring."""
        cat = catalog if catalog is not None else default_catalog()
        kw = {k: v for k, v in self.settings.items() if k != "zone_scale"}
        return tuple(
            parallel_array(
                tumor, n_probes, self.model, spacing_mm=self.spacing_mm, direction=self.direction, catalog=cat, **kw
            )
        )


def nominal_margin_mm(tumor: Ellipsoid, probes, settings: dict, composition: str) -> float:
    """Margin of ``tumor`` against the probes' nominal zone (visible ice edge for cryoprobes), reported up to 15 mm
    (merged ice balls: :func:`ablasim.outcomes.zones.measure_series_zone`)."""
    return float(measure_series_zone(tumor, series_zone(probes, settings, composition), max_mm=15.0).min_margin_mm)


def plan_case(
    tumor: Ellipsoid,
    arm,
    direction,
    *,
    composition: str = "synergy",
    catalog: ProbeCatalog | None = None,
) -> Plan:
    """Probes for ``tumor`` treated by ``arm`` (an :class:`ablasim.outcomes.series.Arm`) along ``direction``.

    The array search of the module docstring; deterministic (the same tumour, arm and direction always give the
    same plan).
    """
    cat = catalog if catalog is not None else default_catalog()
    d = np.asarray(direction, dtype=float)
    kw = {k: v for k, v in arm.settings.items() if k != "zone_scale"}
    best = None
    for n in range(1, arm.probe_budget + 1):
        for mi, model in enumerate(arm.models):
            for spacing in arm.spacings_mm if n > 1 else arm.spacings_mm[:1]:
                probes = tuple(parallel_array(tumor, n, model, spacing_mm=spacing, direction=d, catalog=cat, **kw))
                m = nominal_margin_mm(tumor, probes, arm.settings, composition)
                if m >= arm.target_margin_mm:
                    return Plan(model, mi, n, spacing, d, probes, dict(arm.settings), m, True)
                if best is None or m > best[0] + 1e-9:
                    best = (m, spacing, probes, model, mi, n)
    assert best is not None  # the budget is at least one probe
    m, spacing, probes, model, mi, n = best
    return Plan(model, mi, n, spacing, d, probes, dict(arm.settings), m, False)
