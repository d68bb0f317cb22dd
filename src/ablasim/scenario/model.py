"""The typed scenario model: frozen dataclasses with the catalog and rule set resolved once.

A :class:`Scenario` is what a scenario file (or a Python script) describes: tumours, zones (explicit ellipsoids and
probes whose zone comes from the catalog), the zone model, rules, measurement options, an optional grid, capsule
exclusion and uncertainty. It answers the questions every workflow asks (which isotherm does a rule measure, what
is the zone at that isotherm, which checks apply), so running, sampling, reporting and cohorts ask it rather than
deciding again.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from .._validation import as_float, as_rotation, as_shape3, as_spacing, as_vector3, as_zone_scale
from ..catalog import ProbeCatalog, ZoneSpec, default_catalog, measured_isotherm
from ..errors import ScenarioError, ValidationError
from ..geometry.grid import Grid
from ..geometry.shapes import Ellipsoid
from ..metrics.exclusion import CapsuleExclusion
from ..metrics.measure import METHODS
from ..probes import Probe
from ..rules import Rule
from ..uncertainty import Uncertainty
from ..zones import DEFAULT_TAIL_MM, SynergyZone, compose

__all__ = [
    "METHODS",
    "DeviceSettings",
    "ExplicitZone",
    "GridSpec",
    "MeasureOptions",
    "ProbeSpec",
    "Scenario",
    "TumorSpec",
    "ZoneModel",
]

Composition = Literal["union", "synergy"]


@dataclass(frozen=True)
class TumorSpec:
    """A named tumour."""

    name: str
    shape: Ellipsoid


@dataclass(frozen=True)
class DeviceSettings:
    """How a catalog probe is run: a cryo ``protocol``, or RF / MW ``power_w`` and ``duration_s``."""

    protocol: str | None = None
    power_w: float | None = None
    duration_s: float | None = None

    def as_dict(self) -> dict:
        return {
            k: v
            for k, v in (("protocol", self.protocol), ("power_w", self.power_w), ("duration_s", self.duration_s))
            if v is not None
        }


@dataclass(frozen=True)
class ExplicitZone:
    """A probe's zone given in the scenario instead of the catalog: semi-axes ``(radial, radial, axial)``, centred
    ``center_offset_mm`` proximal to the tip."""

    semi_axes_mm: tuple[float, float, float]
    center_offset_mm: float = 0.0


@dataclass(frozen=True)
class ProbeSpec:
    """A probe of the scenario: where it is, its model, and where its zone comes from (the catalog with
    ``settings``, or ``explicit``)."""

    name: str
    probe: Probe
    settings: DeviceSettings = field(default_factory=DeviceSettings)
    explicit: ExplicitZone | None = None

    @property
    def from_catalog(self) -> bool:
        return self.explicit is None


@dataclass(frozen=True)
class ZoneModel:
    """How probe zones combine: ``composition`` "union" (one catalog ellipsoid per probe) or "synergy" (the merged
    ice ball of cryoprobes); ``isotherm_c`` measured when a rule names none (cryo; None: the ice edge);
    ``zone_scale`` (radial, axial) factors on every catalog zone; ``tail_mm`` (synergy); ``extrapolate`` (RF / MW
    tables)."""

    composition: Composition = "union"
    isotherm_c: float | None = None
    zone_scale: tuple[float, float] = (1.0, 1.0)
    tail_mm: float = DEFAULT_TAIL_MM
    extrapolate: bool = False

    def __post_init__(self) -> None:
        if self.composition not in ("union", "synergy"):
            raise ValidationError("zone_model.composition", self.composition, "expected union or synergy")
        if self.isotherm_c is not None:
            object.__setattr__(self, "isotherm_c", as_float(self.isotherm_c, "zone_model.isotherm_c", maximum=0.0))
        object.__setattr__(self, "zone_scale", as_zone_scale(self.zone_scale, "zone_model.zone_scale"))
        object.__setattr__(self, "tail_mm", as_float(self.tail_mm, "zone_model.tail_mm", positive=True))
        if not isinstance(self.extrapolate, bool):
            raise ValidationError("zone_model.extrapolate", self.extrapolate, "expected true or false")

    @property
    def scaled(self) -> bool:
        return self.zone_scale != (1.0, 1.0)


@dataclass(frozen=True)
class MeasureOptions:
    """Options of :func:`ablasim.measure_margin` (see its docstring)."""

    method: str = "auto"
    resolution_mm: float = 0.5
    map_resolution_mm: float | None = 1.0
    crop_padding_mm: float = 10.0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValidationError("measure.method", self.method, f"expected one of {', '.join(METHODS)}")
        object.__setattr__(self, "resolution_mm", as_float(self.resolution_mm, "measure.resolution_mm", positive=True))
        if self.map_resolution_mm is not None:
            object.__setattr__(
                self, "map_resolution_mm", as_float(self.map_resolution_mm, "measure.map_resolution_mm", positive=True)
            )
        object.__setattr__(
            self, "crop_padding_mm", as_float(self.crop_padding_mm, "measure.crop_padding_mm", positive=True)
        )

    def kwargs(self) -> dict:
        return {
            "method": self.method,
            "resolution_mm": self.resolution_mm,
            "map_resolution_mm": self.map_resolution_mm,
            "crop_padding_mm": self.crop_padding_mm,
        }


@dataclass(frozen=True)
class GridSpec:
    """A voxel grid: an explicit ``shape`` (and ``origin_mm``), or one covering the scene plus ``padding_mm``."""

    spacing_mm: tuple[float, float, float]
    padding_mm: float = 5.0
    shape: tuple[int, int, int] | None = None
    origin_mm: tuple[float, float, float] = (0.0, 0.0, 0.0)
    direction: tuple[tuple[float, ...], ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "spacing_mm", tuple(float(v) for v in as_spacing(self.spacing_mm, "grid.spacing_mm")))
        object.__setattr__(self, "padding_mm", as_float(self.padding_mm, "grid.padding_mm", nonnegative=True))
        if self.shape is not None:
            object.__setattr__(self, "shape", as_shape3(self.shape, "grid.shape"))
        object.__setattr__(self, "origin_mm", tuple(float(v) for v in as_vector3(self.origin_mm, "grid.origin_mm")))
        if self.direction is not None:
            rot = as_rotation(self.direction, "grid.direction", proper=False)
            object.__setattr__(self, "direction", tuple(tuple(float(v) for v in row) for row in rot))


@dataclass(frozen=True)
class Scenario:
    """A validated scenario. Build one with :func:`ablasim.load_scenario` / :func:`ablasim.parse_scenario`, or
    directly in Python.

    >>> import ablasim
    >>> sc = ablasim.Scenario(
    ...     name="demo",
    ...     tumors=(ablasim.TumorSpec("lesion", ablasim.Ellipsoid([0, 0, 0], [10, 10, 10])),),
    ...     probes=(ablasim.ProbeSpec("A", ablasim.Probe([0, 0, 5], [0, 0, 1], "IceRod")),),
    ...     rules=(ablasim.default_rules()["renal-6mm"],),
    ... )
    >>> sc.isotherm_for(sc.rules[0])
    0.0
    >>> sc.zone()[0].semi_axes_mm.tolist()
    [12.5, 12.5, 17.5]
    """

    name: str
    tumors: tuple[TumorSpec, ...]
    description: str = ""
    zones: tuple[Ellipsoid, ...] = ()
    probes: tuple[ProbeSpec, ...] = ()
    zone_model: ZoneModel = field(default_factory=ZoneModel)
    rules: tuple[Rule, ...] = ()
    required_margin_mm: float | None = None
    measure: MeasureOptions = field(default_factory=MeasureOptions)
    grid: GridSpec | None = None
    exclude: CapsuleExclusion | None = None
    source: str = "<scenario>"
    catalog: ProbeCatalog = field(default_factory=default_catalog)
    uncertainty: Uncertainty | None = None

    def __post_init__(self) -> None:
        if not self.tumors:
            raise ValidationError("tumors", self.tumors, "give at least one tumour")
        for i, t in enumerate(self.tumors):
            if not isinstance(t, TumorSpec):
                raise ValidationError(f"tumors[{i}]", t, "expected a TumorSpec(name, Ellipsoid)")
        for i, z in enumerate(self.zones):
            if not isinstance(z, Ellipsoid):
                raise ValidationError(f"zones[{i}]", z, "expected an Ellipsoid")
        for i, p in enumerate(self.probes):
            if not isinstance(p, ProbeSpec):
                raise ValidationError(f"probes[{i}]", p, "expected a ProbeSpec(name, Probe, ...)")
            if p.from_catalog:
                self.catalog[p.probe.model]  # an unknown model: the error lists the catalog's names
        if not self.zones and not self.probes:
            raise ValidationError("zones/probes", None, "give at least one explicit zone or probe")
        for i, r in enumerate(self.rules):
            if not isinstance(r, Rule):
                raise ValidationError(f"rules[{i}]", r, "expected an ablasim Rule")
        if self.required_margin_mm is not None:
            object.__setattr__(self, "required_margin_mm", as_float(self.required_margin_mm, "required_margin_mm"))
        if self.zone_model.composition == "synergy":
            if self.zones or any(not p.from_catalog for p in self.probes):
                raise ValidationError(
                    "zone_model.composition",
                    "synergy",
                    "the synergy zone model takes catalog cryoprobes only (no [[zones]] or explicit probe zones)",
                )
            if self.modalities - {"cryo"}:
                raise ValidationError(
                    "zone_model.composition", "synergy", "the synergy zone model is for cryoprobes only"
                )
        if self.uncertainty is not None and not isinstance(self.uncertainty, Uncertainty):
            raise ValidationError("uncertainty", self.uncertainty, "expected an ablasim Uncertainty")
        if self.exclude is not None and not isinstance(self.exclude, CapsuleExclusion):
            raise ValidationError("exclude", self.exclude, "expected a CapsuleExclusion")
        if self.measure.method == "voxel" and self.grid is None:
            raise ValidationError(
                "measure.method",
                "voxel",
                "the voxel method rasterises the tumour and zones on a "
                "grid: add a [grid] table (e.g. spacing_mm = 0.5)",
            )
        self.zone()  # every probe resolves to a zone now (errors name the probe), not in the middle of a run
        self.check_modalities()
        for rule in self.checks():  # and so does the zone of every check
            iso = self.isotherm_for(rule)
            try:
                self.zone(iso)
            except ValidationError as exc:
                what = "the zone" if iso is None else f"the {iso:g} degC isotherm"
                raise ValidationError(
                    f"rules.{rule.name}", rule.name, f"is measured on {what}, which cannot be built: {exc}"
                ) from None

    # ---- what the scenario is made of ---------------------------------------------------------------------------
    @property
    def catalog_probes(self) -> tuple[ProbeSpec, ...]:
        return tuple(p for p in self.probes if p.from_catalog)

    @property
    def modalities(self) -> frozenset[str]:
        """Modalities of the catalog probes ("cryo", "radiofrequency", "microwave")."""
        return frozenset(self.catalog[p.probe.model].modality for p in self.catalog_probes)

    @property
    def cryo(self) -> bool:
        """Whether any probe is a catalog cryoprobe: its zone then depends on the isotherm measured."""
        return "cryo" in self.modalities

    # ---- the one decision: which isotherm a check measures ----------------------------------------------------------
    def isotherm_for(self, rule: Rule | None = None) -> float | None:
        """The isotherm ``rule`` is measured on (None: the scenario's default): the rule's own isotherm, else the
        zone model's, else the visible ice edge (0 degC), for cryoprobes; None when no catalog cryoprobe is in the
        scenario (RF / MW zones and explicit zones have no isotherm)."""
        return measured_isotherm(
            "cryo" if self.cryo else None, None if rule is None else rule.isotherm_c, self.zone_model.isotherm_c
        )

    def zone_label(self, isotherm_c: float | None) -> str:
        """How reports name the zone measured at ``isotherm_c``."""
        if isotherm_c is None:
            return "ablation zone"
        return f"{isotherm_c:g} degC isotherm" + (" (ice-ball edge)" if isotherm_c == 0 else "")

    def checks(self) -> tuple[Rule, ...]:
        """The rules checked: the scenario's rules, then ``required_margin_mm`` as a rule on the default isotherm."""
        extra: tuple[Rule, ...] = ()
        if self.required_margin_mm is not None:
            extra = (
                Rule(
                    "required-margin", self.required_margin_mm, None, description="required_margin_mm of the scenario"
                ),
            )
        return tuple(self.rules) + extra

    def check_modalities(self) -> None:
        """Refuse a rule written for another modality than the scenario's probes."""
        mods = self.modalities
        for rule in self.rules:
            if rule.modality != "any" and mods and mods != {rule.modality}:
                raise ScenarioError(
                    f"rule {rule.name} is for {rule.modality} ablation; this scenario's probes are "
                    f"{', '.join(sorted(mods))}",
                    self.source,
                )

    # ---- zones -----------------------------------------------------------------------------------------------------
    def zone_spec(self, probe: ProbeSpec, isotherm_c: float | None = None) -> ZoneSpec:
        """The catalog zone of a catalog probe at ``isotherm_c`` (cryo), scaled by the zone model."""
        model = self.catalog[probe.probe.model]
        iso = measured_isotherm(model.modality, isotherm_c)
        try:
            return probe.probe.zone_spec(
                self.catalog,
                isotherm_c=iso,
                zone_scale=self.zone_model.zone_scale,
                extrapolate=self.zone_model.extrapolate,
                **probe.settings.as_dict(),
            )
        except ValidationError as exc:
            raise ValidationError(f"{probe.name} ({exc.field})", exc.value, exc.expected) from None

    def zone(self, isotherm_c: float | None = None) -> list[Ellipsoid] | SynergyZone:
        """The zone measured at ``isotherm_c`` (None: :meth:`isotherm_for` with no rule): a list of Ellipsoids (their
        union: explicit zones, explicit probe zones, catalog probe zones) or the merged ice ball."""
        iso = self.isotherm_for() if isotherm_c is None else isotherm_c
        zm = self.zone_model
        if zm.composition == "synergy":
            settings = {p.settings for p in self.probes}
            if len(settings) > 1:
                raise ScenarioError("the synergy zone model needs the same protocol for every probe", self.source)
            return compose(
                [p.probe for p in self.probes],
                composition="synergy",
                isotherm_c=iso,
                catalog=self.catalog,
                protocol=self.probes[0].settings.protocol,
                zone_scale=zm.zone_scale,
                tail_mm=zm.tail_mm,
            )
        out = list(self.zones)
        for p in self.probes:
            if p.explicit is not None:
                out.append(p.probe.zone_from(p.explicit.semi_axes_mm, p.explicit.center_offset_mm))
            else:
                spec = self.zone_spec(p, iso)
                out.append(p.probe.zone_from(spec.semi_axes_mm, spec.center_offset_mm))
        return out

    def shell_isotherms(self) -> list[float]:
        """Isotherms every probe's catalog model tabulates (warmest first), when all probes are catalog
        cryoprobes: the shells a render can draw. Empty otherwise."""
        if not self.cryo or self.zones or len(self.catalog_probes) != len(self.probes):
            return []
        shared: set[float] | None = None
        for p in self.probes:
            model = self.catalog[p.probe.model]
            if model.modality != "cryo":
                return []
            levels = set(model.isotherms(p.settings.protocol or model.zones[0].protocol))
            shared = levels if shared is None else shared & levels
        return sorted(shared or [], reverse=True)

    def build_grid(self) -> Grid | None:
        """The grid described by [grid]: explicit shape/origin, or covering the scene with ``padding_mm``."""
        g = self.grid
        if g is None:
            return None
        if g.shape is not None:
            return Grid(g.shape, g.spacing_mm, g.origin_mm, g.direction)
        zone = self.zone()
        boxes = [t.shape.bounding_box() for t in self.tumors]
        boxes += [z.bounding_box() for z in zone] if isinstance(zone, list) else [zone.bounds()]
        lo = np.min([b[0] for b in boxes], axis=0)
        hi = np.max([b[1] for b in boxes], axis=0)
        return Grid.covering(lo, hi, g.spacing_mm, padding_mm=g.padding_mm, direction=g.direction)

    def with_measure(self, **changes) -> Scenario:
        """A copy with measurement options changed (validated like the file's [measure] table)."""
        try:
            return replace(self, measure=replace(self.measure, **changes))
        except ValidationError as exc:
            raise ScenarioError(str(exc), self.source) from None

    def __repr__(self) -> str:
        probes = ", ".join(f"{p.probe.model}" for p in self.probes)
        return (
            f"Scenario({self.name!r}: {len(self.tumors)} tumour(s), {len(self.zones)} explicit zone(s), "
            f"probes [{probes}], {self.zone_model.composition}, rules "
            f"[{', '.join(r.name for r in self.checks())}])"
        )
