"""Running a scenario: the margin of every tumour at each check's isotherm, rule checks and placement checks."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ValidationError
from ..geometry.shapes import Ellipsoid
from ..metrics.measure import measure_margin
from ..metrics.result import MarginResult
from ..placement import PlacementWarning, check_placement
from ..rules import RuleCheck, check_rule
from ..scenario.model import Scenario
from ._json import scenario_result_dict

__all__ = ["ScenarioResult", "TumorOutcome", "run_scenario"]


@dataclass(frozen=True, eq=False)
class TumorOutcome:
    """One tumour of a run: its margin result at the scenario's default isotherm, the rule checks (each measured at
    its own isotherm), placement warnings and measurement warnings."""

    name: str
    tumor: Ellipsoid
    result: MarginResult
    checks: tuple[RuleCheck, ...]
    placement: tuple[PlacementWarning, ...]
    isotherm_c: float | None = None  # of ``result``

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(self.result.warnings)

    def __repr__(self) -> str:
        verdict = "" if not self.checks else (" PASS" if all(c.passed for c in self.checks) else " FAIL")
        return (
            f"TumorOutcome({self.name!r}: min margin {self.result.min_margin_mm:+.2f} mm, coverage "
            f"{100 * self.result.coverage:.2f} %{verdict})"
        )


@dataclass(frozen=True, eq=False)
class ScenarioResult:
    """What :func:`run_scenario` found: the scenario and one :class:`TumorOutcome` per tumour. ``print()`` shows a
    compact summary; :meth:`to_dict` gives everything as JSON-ready data."""

    scenario: Scenario
    outcomes: tuple[TumorOutcome, ...]

    @property
    def results(self) -> tuple[tuple[str, MarginResult], ...]:
        """``((tumour name, MarginResult), ...)``."""
        return tuple((o.name, o.result) for o in self.outcomes)

    def passed(self) -> bool | None:
        """Every check of every tumour passes (None when the scenario has no rule and no required margin)."""
        checks = [c for o in self.outcomes for c in o.checks]
        return None if not checks else all(c.passed for c in checks)

    def to_dict(self) -> dict:
        """Everything, JSON-ready (the ``--json`` output)."""
        return scenario_result_dict(self)

    def __repr__(self) -> str:
        verdict = {None: "no checks", True: "all checks pass", False: "a check fails"}[self.passed()]
        lines = [f"ScenarioResult({self.scenario.name!r}, {verdict}):"]
        lines += [f"  {o!r}" for o in self.outcomes]
        return "\n".join(lines)


def run_scenario(scenario: Scenario) -> ScenarioResult:
    """Measure every tumour against the scenario's zone, check its rules (each at its own isotherm) and the
    probe placement.

    >>> import ablasim
    >>> res = ablasim.run_scenario(ablasim.load_scenario("examples/single_probe_sphere.toml"))
    >>> print(res)  # doctest: +ELLIPSIS
    ScenarioResult('single-probe-sphere', ...):
      TumorOutcome('lesion': min margin +5.50 mm, coverage 100.00 %...)
    """
    if not isinstance(scenario, Scenario):
        raise ValidationError("scenario", scenario, "expected an ablasim Scenario (ablasim.load_scenario)")
    grid = scenario.build_grid()
    opts = scenario.measure.kwargs()
    default_iso = scenario.isotherm_for()
    zones = {}  # isotherm -> zone, shared by the tumours

    def zone_at(iso):
        if iso not in zones:
            zones[iso] = scenario.zone(iso)
        return zones[iso]

    outcomes = []
    for spec in scenario.tumors:
        measured: dict = {}
        for iso in [default_iso] + [scenario.isotherm_for(r) for r in scenario.checks()]:
            if iso not in measured:
                measured[iso] = measure_margin(spec.shape, zone_at(iso), grid=grid, exclude=scenario.exclude, **opts)
        checks = []
        for rule in scenario.checks():
            iso = scenario.isotherm_for(rule)
            checks.append(
                check_rule(rule, measured[iso], spec.shape, zone_label=scenario.zone_label(iso), isotherm_c=iso)
            )
        outcomes.append(
            TumorOutcome(
                spec.name,
                spec.shape,
                measured[default_iso],
                tuple(checks),
                _placement(scenario, spec.shape),
                default_iso,
            )
        )
    return ScenarioResult(scenario, tuple(outcomes))


def _placement(scenario: Scenario, tumor: Ellipsoid) -> tuple[PlacementWarning, ...]:
    """Placement checks of the catalog probes (when they share their settings: the checks use one zone spec)."""
    probes = scenario.catalog_probes
    if not probes or len({p.settings for p in probes}) > 1:
        return ()
    s = probes[0].settings
    return tuple(
        check_placement(
            [p.probe for p in probes],
            tumor,
            catalog=scenario.catalog,
            extrapolate=scenario.zone_model.extrapolate,
            **s.as_dict(),
        )
    )
