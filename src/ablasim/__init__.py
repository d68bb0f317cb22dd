"""ablasim: ablation-zone margins and ice-ball coverage for interventional oncology.

Units: lengths in mm, time in s, temperature in degrees C, power in W. Margin sign: positive = the ablation zone
extends that far beyond the tumour surface; negative = the tumour protrudes that far outside the zone. Coverage =
tumour volume inside the zone / tumour volume. See docs/conventions.md.

>>> import ablasim
>>> tumor = ablasim.Ellipsoid([0, 0, 0], [10, 10, 10])
>>> zone = ablasim.Probe([0, 0, 5], [0, 0, 1], "IceRod").zone()       # the catalog's 0 degC ice ball
>>> round(ablasim.measure_margin(tumor, zone).min_margin_mm, 6)
2.5
>>> res = ablasim.run_scenario(ablasim.load_scenario("examples/renal_metastasis.toml"))
>>> res.passed() in (True, False)
True

The layers, bottom up: geometry (:class:`Grid`, :class:`Ellipsoid`, :class:`Mask`); devices (:class:`Probe`, the
probe catalog) and zones (:func:`compose`); metrics (:func:`measure_margin`) and physics (:func:`simulate`); rules;
planning (:func:`plan`); scenarios (:class:`Scenario`, :func:`load_scenario`); workflows (:func:`run_scenario`,
:func:`sample_scenario`, :func:`cycles_to_rule`, :func:`run_cohort`, :func:`plan_file`); the ``ablasim`` command
line and :mod:`ablasim.render` on top.
"""

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

# Every public name is imported on first use (PEP 562): ``import ablasim`` stays cheap (a command line or a
# process compiling kernels in the background imports only what it needs); ``from ablasim import X`` and
# ``ablasim.X`` work as if everything had been imported up front.
_WHERE = {
    "ProbeCatalog": "catalog",
    "ProbeModel": "catalog",
    "ZoneSpec": "catalog",
    "default_catalog": "catalog",
    "measured_isotherm": "catalog",
    "AblasimError": "errors",
    "DisplayUnavailableError": "errors",
    "GridTooLargeError": "errors",
    "PlanningError": "errors",
    "ScenarioError": "errors",
    "SimulationError": "errors",
    "UnknownNameError": "errors",
    "ValidationError": "errors",
    "Ellipsoid": "geometry",
    "Grid": "geometry",
    "Mask": "geometry",
    "rotation_from_euler_deg": "geometry",
    "rotation_with_z_axis": "geometry",
    "CapsuleExclusion": "metrics.exclusion",
    "measure_margin": "metrics.measure",
    "MarginMap": "metrics.result",
    "MarginResult": "metrics.result",
    "BioheatResult": "physics",
    "Cryoprobe": "physics",
    "Protocol": "physics",
    "Tissue": "physics",
    "simulate": "physics",
    "PlacementWarning": "placement",
    "check_placement": "placement",
    "parallel_array": "placement",
    "Plan": "planning",
    "PlanProblem": "planning",
    "plan": "planning",
    "Probe": "probes",
    "Rule": "rules",
    "RuleCheck": "rules",
    "RuleSet": "rules",
    "check_rule": "rules",
    "default_rules": "rules",
    "SampleResult": "sampling",
    "sample_margins": "sampling",
    "DeviceSettings": "scenario",
    "ExplicitZone": "scenario",
    "GridSpec": "scenario",
    "MeasureOptions": "scenario",
    "ProbeSpec": "scenario",
    "Scenario": "scenario",
    "TumorSpec": "scenario",
    "ZoneModel": "scenario",
    "load_plan_problem": "scenario",
    "load_scenario": "scenario",
    "parse_scenario": "scenario",
    "Uncertainty": "uncertainty",
    "CohortResult": "workflows.cohorts",
    "CohortSpec": "workflows.cohorts",
    "load_cohort_spec": "workflows.cohorts",
    "parse_cohort_spec": "workflows.cohorts",
    "run_cohort": "workflows.cohorts",
    "CyclesAnswer": "workflows.freezing",
    "FreezingCurve": "workflows.freezing",
    "cycles_to_rule": "workflows.freezing",
    "margin_during_protocol": "workflows.freezing",
    "PlanOutcome": "workflows.plan",
    "plan_file": "workflows.plan",
    "ScenarioResult": "workflows.run",
    "TumorOutcome": "workflows.run",
    "run_scenario": "workflows.run",
    "SampledCheck": "workflows.sample",
    "check_sampling": "workflows.sample",
    "sample_scenario": "workflows.sample",
    "SynergyZone": "zones",
    "compose": "zones",
}

if TYPE_CHECKING:  # the same names, for type checkers and editors
    from .catalog import ProbeCatalog, ProbeModel, ZoneSpec, default_catalog, measured_isotherm
    from .errors import (
        AblasimError,
        DisplayUnavailableError,
        GridTooLargeError,
        PlanningError,
        ScenarioError,
        SimulationError,
        UnknownNameError,
        ValidationError,
    )
    from .geometry import Ellipsoid, Grid, Mask, rotation_from_euler_deg, rotation_with_z_axis
    from .metrics.exclusion import CapsuleExclusion
    from .metrics.measure import measure_margin
    from .metrics.result import MarginMap, MarginResult
    from .physics import BioheatResult, Cryoprobe, Protocol, Tissue, simulate
    from .placement import PlacementWarning, check_placement, parallel_array
    from .planning import Plan, PlanProblem, plan
    from .probes import Probe
    from .rules import Rule, RuleCheck, RuleSet, check_rule, default_rules
    from .sampling import SampleResult, sample_margins
    from .scenario import (
        DeviceSettings,
        ExplicitZone,
        GridSpec,
        MeasureOptions,
        ProbeSpec,
        Scenario,
        TumorSpec,
        ZoneModel,
        load_plan_problem,
        load_scenario,
        parse_scenario,
    )
    from .uncertainty import Uncertainty
    from .workflows.cohorts import CohortResult, CohortSpec, load_cohort_spec, parse_cohort_spec, run_cohort
    from .workflows.freezing import CyclesAnswer, FreezingCurve, cycles_to_rule, margin_during_protocol
    from .workflows.plan import PlanOutcome, plan_file
    from .workflows.run import ScenarioResult, TumorOutcome, run_scenario
    from .workflows.sample import SampledCheck, check_sampling, sample_scenario
    from .zones import SynergyZone, compose


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'ablasim' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{where}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


__all__ = [
    "AblasimError",
    "BioheatResult",
    "CapsuleExclusion",
    "CohortResult",
    "CohortSpec",
    "Cryoprobe",
    "CyclesAnswer",
    "DeviceSettings",
    "DisplayUnavailableError",
    "Ellipsoid",
    "ExplicitZone",
    "FreezingCurve",
    "Grid",
    "GridSpec",
    "GridTooLargeError",
    "MarginMap",
    "MarginResult",
    "Mask",
    "MeasureOptions",
    "PlacementWarning",
    "Plan",
    "PlanOutcome",
    "PlanProblem",
    "PlanningError",
    "Probe",
    "ProbeCatalog",
    "ProbeModel",
    "ProbeSpec",
    "Protocol",
    "Rule",
    "RuleCheck",
    "RuleSet",
    "SampleResult",
    "SampledCheck",
    "Scenario",
    "ScenarioError",
    "ScenarioResult",
    "SimulationError",
    "SynergyZone",
    "Tissue",
    "TumorOutcome",
    "TumorSpec",
    "Uncertainty",
    "UnknownNameError",
    "ValidationError",
    "ZoneModel",
    "ZoneSpec",
    "__version__",
    "check_placement",
    "check_rule",
    "check_sampling",
    "compose",
    "cycles_to_rule",
    "default_catalog",
    "default_rules",
    "load_cohort_spec",
    "load_plan_problem",
    "load_scenario",
    "margin_during_protocol",
    "measure_margin",
    "measured_isotherm",
    "parallel_array",
    "parse_cohort_spec",
    "parse_scenario",
    "plan",
    "plan_file",
    "rotation_from_euler_deg",
    "rotation_with_z_axis",
    "run_cohort",
    "run_scenario",
    "sample_margins",
    "sample_scenario",
    "simulate",
]
