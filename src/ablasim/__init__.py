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
scenarios (:class:`Scenario`, :func:`load_scenario`); workflows (:func:`run_scenario`, :func:`sample_scenario`,
:func:`cycles_to_rule`, :func:`run_cohort`); the ``ablasim`` command line and :mod:`ablasim.render` on top.
"""

from ._version import __version__
from .catalog import ProbeCatalog, ProbeModel, ZoneSpec, default_catalog, measured_isotherm
from .errors import (
    AblasimError,
    DisplayUnavailableError,
    GridTooLargeError,
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
    load_scenario,
    parse_scenario,
)
from .uncertainty import Uncertainty
from .workflows.cohorts import CohortResult, CohortSpec, load_cohort_spec, parse_cohort_spec, run_cohort
from .workflows.freezing import CyclesAnswer, FreezingCurve, cycles_to_rule, margin_during_protocol
from .workflows.run import ScenarioResult, TumorOutcome, run_scenario
from .workflows.sample import SampledCheck, check_sampling, sample_scenario
from .zones import SynergyZone, compose

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
    "load_scenario",
    "margin_during_protocol",
    "measure_margin",
    "measured_isotherm",
    "parallel_array",
    "parse_cohort_spec",
    "parse_scenario",
    "rotation_from_euler_deg",
    "rotation_with_z_axis",
    "run_cohort",
    "run_scenario",
    "sample_margins",
    "sample_scenario",
    "simulate",
]
