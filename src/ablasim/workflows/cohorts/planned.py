"""A planned cohort strategy: each virtual case is planned (:func:`ablasim.planning.plan`) with a probe budget and
the series' probe models, then delivered under the cohort's uncertainty like any other strategy.

A plan depends only on (spec, case): the planner's deliveries are seeded from ``SeedSequence(spec.seed,
spawn_key=(case, 7))`` (its own stream, apart from the case's draws), so a cohort with planned strategies keeps its
bit-identical guarantees (chunking, scheduling, resume). Its target is the cohort's outcome (success margin on the
outcome's isotherm) at the strategy's ``probability``. A case for which no plan can exist (too few probes for the
tumour whatever their placement) is delivered with no probe: margin ``-inf``, not a success.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..._validation import as_float, as_unit_vector
from ...catalog import default_catalog
from ...errors import PlanningError, ValidationError
from ...geometry.shapes import Ellipsoid
from ...placement import MAX_ARRAY_PROBES
from ...planning import Approach, PlanProblem, SearchOptions, plan
from ...planning.problem import devices_for
from ...rules import Rule

__all__ = ["PLANNED_KEYS", "PlannedStrategy", "check_planned", "parse_planned_strategy", "planned_probes"]

PLANNED_KEYS = {
    "kind",
    "max_diameter_mm",
    "models",
    "max_probes",
    "probability",
    "direction",
    "max_angle_deg",
    "parallel",
    "min_spacing_mm",
    "max_spacing_mm",
    "n_samples",
    "polish_evals",
}
_SEED_KEY = 7  # spawn-key suffix of a case's planning stream


@dataclass(frozen=True)
class PlannedStrategy:
    """Plan each case: ``models`` allowed, at most ``max_probes``, the outcome's target met with ``probability``;
    the approach along ``direction`` (None: the case's random direction) within ``max_angle_deg``."""

    max_diameter_mm: float
    models: tuple[str, ...]
    max_probes: int
    probability: float
    direction: tuple | None
    max_angle_deg: float
    parallel: bool
    min_spacing_mm: float
    max_spacing_mm: float
    n_samples: int
    polish_evals: int


def parse_planned_strategy(s: dict, where: str, max_diameter_mm: float) -> PlannedStrategy:
    """A ``kind = "planned"`` strategy table (keys checked by the caller against :data:`PLANNED_KEYS`)."""
    models = s.get("models")
    if isinstance(models, str):
        models = [models]
    if not isinstance(models, list) or not models:
        raise ValidationError(f"{where}.models", models, 'give the series\' probe models, e.g. ["IceRod"]')
    cat = default_catalog()
    for m in models:
        cat[str(m)]  # an unknown model: the error lists the catalog's names
    n = s.get("max_probes", 6)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_ARRAY_PROBES:
        raise ValidationError(f"{where}.max_probes", n, f"expected an integer from 1 to {MAX_ARRAY_PROBES}")
    direction = s.get("direction", "random")
    if direction != "random":
        direction = tuple(float(v) for v in as_unit_vector(direction, f"{where}.direction"))
    out = PlannedStrategy(
        max_diameter_mm,
        tuple(str(m) for m in models),
        n,
        as_float(s.get("probability", 0.9), f"{where}.probability", positive=True, maximum=1.0),
        None if direction == "random" else direction,
        as_float(s.get("max_angle_deg", 0.0), f"{where}.max_angle_deg", minimum=0.0, maximum=90.0),
        bool(s.get("parallel", True)),
        as_float(s.get("min_spacing_mm", 5.0), f"{where}.min_spacing_mm", nonnegative=True),
        as_float(s.get("max_spacing_mm", 20.0), f"{where}.max_spacing_mm", positive=True),
        _int(s.get("n_samples", 32), f"{where}.n_samples"),
        _int(s.get("polish_evals", 60), f"{where}.polish_evals", lo=0),
    )
    try:  # spacing limits and angles checked now, not in the middle of a run
        _approach(out, (0.0, 0.0, 1.0))
    except PlanningError as exc:
        raise ValidationError(where, "approach", str(exc)) from None
    return out


def _int(value, name: str, lo: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise ValidationError(name, value, f"expected an integer >= {lo}")
    return value


def _approach(s: PlannedStrategy, direction) -> Approach:
    return Approach(
        direction=tuple(direction),
        max_angle_deg=s.max_angle_deg,
        parallel=s.parallel,
        min_spacing_mm=s.min_spacing_mm,
        max_spacing_mm=s.max_spacing_mm,
    )


def _problem(s: PlannedStrategy, tumor: Ellipsoid, direction, success_mm, isotherm_c, uncertainty, resolution_mm):
    cat = default_catalog()
    devices = devices_for(s.models, cat)
    return PlanProblem(
        tumor=tumor,
        devices=devices,
        target=Rule("cohort success", success_mm, isotherm_c),
        probability=s.probability,
        max_probes=s.max_probes,
        uncertainty=uncertainty,
        approach=_approach(s, direction),
        search=SearchOptions(
            n_samples=s.n_samples,
            search_samples=min(16, s.n_samples),
            resolution_mm=resolution_mm,
            final_resolution_mm=resolution_mm,
            polish_evals=s.polish_evals,
            robust_polish_evals=0,
        ),
        catalog=cat,
    )


def check_planned(s: PlannedStrategy, success_mm: float, isotherm_c, uncertainty, where: str) -> None:
    """Everything a case's plan will need resolves now (devices at the outcome's isotherm), not mid-run."""
    try:
        _problem(s, Ellipsoid([0.0, 0.0, 0.0], [10.0] * 3), (0.0, 0.0, 1.0), success_mm, isotherm_c, uncertainty, 1.0)
    except (ValidationError, PlanningError) as exc:
        raise ValidationError(where, s.models, str(exc)) from None


def planned_probes(spec, s: PlannedStrategy, tumor: Ellipsoid, direction: np.ndarray, index: int):
    """``(probes, device)`` of case ``index``'s plan (``([], None)`` when no plan can exist)."""
    problem = _problem(
        s, tumor, direction, spec.success_margin_mm, spec.isotherm_c, spec.uncertainty, spec.resolution_mm
    )
    seed = int(np.random.SeedSequence(spec.seed, spawn_key=(int(index), _SEED_KEY)).generate_state(1)[0])
    try:
        result = plan(problem, seed=seed)
    except PlanningError:
        return [], None
    return list(result.probes), result.device
