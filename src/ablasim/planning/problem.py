"""The planning problem: the tumour, the devices allowed, the target and how sure it must be met, the approach
(geometry constraints) and the organs at risk.

A :class:`PlanProblem` is validated when it is built: every error names the field. Whether a plan can exist at all
is a separate question, answered by :func:`ablasim.planning.feasibility.impossibility` before any search.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._validation import as_float, as_unit_vector, as_zone_scale
from ..catalog import ProbeCatalog, ZoneSpec, default_catalog, measured_isotherm
from ..errors import PlanningError, ValidationError
from ..geometry.shapes import Ellipsoid
from ..placement import MAX_ARRAY_PROBES
from ..rules import Rule
from ..stats import wilson
from ..uncertainty import Uncertainty
from ..zones import COMPOSITIONS, DEFAULT_TAIL_MM

__all__ = ["Approach", "Device", "OrganAtRisk", "PlanProblem", "SearchOptions", "devices_for", "required_successes"]


def required_successes(n_samples: int, probability: float, confidence: float | None = None) -> int:
    """How many of ``n_samples`` deliveries must meet the target: ``k = ceil(p N)`` (the estimate reaches ``p``);
    with ``confidence``, the smallest ``k`` whose Wilson interval's lower end reaches ``p`` (``N + 1`` when none
    does: then no plan can be confirmed with that many deliveries)."""
    k = max(1, math.ceil(probability * n_samples - 1e-9))
    if confidence is None:
        return k
    while k <= n_samples and wilson(k, n_samples, confidence)[1] < probability - 1e-12:
        k += 1
    return k


def _count(value, name: str, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo or (hi and value > hi):
        raise ValidationError(name, value, f"expected an integer from {lo}" + (f" to {hi}" if hi else " up"))
    return int(value)


@dataclass(frozen=True)
class Device:
    """An allowed probe model with its settings: a cryo ``protocol`` (None: the model's first), or RF / MW
    ``power_w`` and ``duration_s`` (a point of the catalog table, or inside it)."""

    model: str
    protocol: str | None = None
    power_w: float | None = None
    duration_s: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model:
            raise ValidationError("device.model", self.model, "expected a catalog model name")
        if self.protocol is not None and not isinstance(self.protocol, str):
            raise ValidationError("device.protocol", self.protocol, "expected a protocol name")
        for key in ("power_w", "duration_s"):
            if getattr(self, key) is not None:
                object.__setattr__(self, key, as_float(getattr(self, key), f"device.{key}", positive=True))

    def settings(self) -> dict:
        """The non-empty settings as keywords of :meth:`ablasim.catalog.ProbeModel.zone_spec`."""
        return {
            k: v
            for k, v in (("protocol", self.protocol), ("power_w", self.power_w), ("duration_s", self.duration_s))
            if v is not None
        }

    @property
    def label(self) -> str:
        parts = [self.protocol] if self.protocol else []
        if self.power_w is not None:
            parts.append(f"{self.power_w:g} W")
        if self.duration_s is not None:
            parts.append(f"{self.duration_s:g} s")
        return self.model + (f" ({', '.join(parts)})" if parts else "")


def devices_for(models, catalog: ProbeCatalog) -> tuple[Device, ...]:
    """Every setting the catalog holds for ``models``: each protocol of a cryoprobe, each power x time point of an
    RF / MW table."""
    out: list[Device] = []
    for name in models:
        model = catalog[str(name)]
        if model.table:
            out += [Device(model.name, power_w=r.power_w, duration_s=r.duration_s) for r in model.table]
        else:
            out += [Device(model.name, protocol=p) for p in model.protocols]
    return tuple(out)


@dataclass(frozen=True)
class OrganAtRisk:
    """An organ the zone must stay ``min_distance_mm`` away from, measured on ``isotherm_c`` (cryo; None: the
    zone's outer edge, the visible 0 degC ice edge for cryoprobes, the ablation zone for RF / MW)."""

    name: str
    shape: Ellipsoid
    min_distance_mm: float = 0.0
    isotherm_c: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.shape, Ellipsoid):
            raise ValidationError(f"organs_at_risk.{self.name}.shape", self.shape, "expected an Ellipsoid")
        object.__setattr__(
            self,
            "min_distance_mm",
            as_float(self.min_distance_mm, f"organs_at_risk.{self.name}.min_distance_mm", nonnegative=True),
        )
        if self.isotherm_c is not None:
            object.__setattr__(
                self, "isotherm_c", as_float(self.isotherm_c, f"organs_at_risk.{self.name}.isotherm_c", maximum=0.0)
            )


@dataclass(frozen=True)
class Approach:
    """Where probes may go. ``direction``: the entry direction (skin -> tip); every probe lies within
    ``max_angle_deg`` of it (0: exactly along it); ``parallel``: all probes share one direction. Working segments
    (the part of a shaft its zone spans, as in :func:`ablasim.check_placement`) at least ``min_spacing_mm`` apart,
    each probe's nearest neighbour at most ``max_spacing_mm`` away. ``max_tip_beyond_tumor_mm``: how far a tip may
    pass the tumour's far side along its shaft (None: no limit)."""

    direction: tuple[float, float, float] = (0.0, 0.0, 1.0)
    max_angle_deg: float = 0.0
    parallel: bool = True
    min_spacing_mm: float = 5.0
    max_spacing_mm: float = 20.0
    max_tip_beyond_tumor_mm: float | None = None

    def __post_init__(self) -> None:
        d = as_unit_vector(self.direction, "approach.direction")
        object.__setattr__(self, "direction", (float(d[0]), float(d[1]), float(d[2])))
        object.__setattr__(
            self, "max_angle_deg", as_float(self.max_angle_deg, "approach.max_angle_deg", minimum=0.0, maximum=90.0)
        )
        if not isinstance(self.parallel, bool):
            raise ValidationError("approach.parallel", self.parallel, "expected true or false")
        lo = as_float(self.min_spacing_mm, "approach.min_spacing_mm", nonnegative=True)
        hi = as_float(self.max_spacing_mm, "approach.max_spacing_mm", positive=True)
        if lo > hi:
            raise PlanningError(
                f"no feasible placement: approach.min_spacing_mm={lo:g} exceeds approach.max_spacing_mm={hi:g}, "
                "so no two probes can be placed"
            )
        object.__setattr__(self, "min_spacing_mm", lo)
        object.__setattr__(self, "max_spacing_mm", hi)
        if self.max_tip_beyond_tumor_mm is not None:
            object.__setattr__(
                self,
                "max_tip_beyond_tumor_mm",
                as_float(self.max_tip_beyond_tumor_mm, "approach.max_tip_beyond_tumor_mm"),
            )

    @property
    def unit_direction(self) -> np.ndarray:
        return np.asarray(self.direction, dtype=float)


@dataclass(frozen=True)
class SearchOptions:
    """How hard the optimiser works. ``n_samples`` deliveries decide whether the target is met and give P with
    its ``confidence`` interval; ``search_samples`` (the first of them) drive the robust polish. Margins are
    measured at ``resolution_mm`` during the search and ``final_resolution_mm`` for the plan reported.
    ``polish_evals`` caps the nominal local search (margin evaluations); ``robust_polish_evals`` (0: off) the
    robust polish, which costs ``search_samples`` margins per evaluation (docs/planning.md: on three benchmark cases
    it gained 0.16, 0 and 0 mm of robust margin for 3-5 times the time, hence off by default)."""

    n_samples: int = 100
    search_samples: int = 32
    resolution_mm: float = 1.0
    final_resolution_mm: float = 0.5
    polish_evals: int = 300
    robust_polish_evals: int = 0
    confidence: float = 0.95

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_samples", _count(self.n_samples, "search.n_samples", 1, 100_000))
        object.__setattr__(self, "search_samples", _count(self.search_samples, "search.search_samples", 1, 100_000))
        object.__setattr__(self, "search_samples", min(self.search_samples, self.n_samples))
        for key in ("resolution_mm", "final_resolution_mm"):
            object.__setattr__(self, key, as_float(getattr(self, key), f"search.{key}", positive=True, maximum=5.0))
        object.__setattr__(self, "polish_evals", _count(self.polish_evals, "search.polish_evals", 0))
        object.__setattr__(
            self, "robust_polish_evals", _count(self.robust_polish_evals, "search.robust_polish_evals", 0)
        )
        c = as_float(self.confidence, "search.confidence", positive=True)
        if not c < 1.0:
            raise ValidationError("search.confidence", self.confidence, "must lie between 0 and 1")
        object.__setattr__(self, "confidence", c)


@dataclass(frozen=True)
class PlanProblem:
    """What to plan.

    ``target``: the rule every delivery should meet (its margin, on its isotherm; None: ``isotherm_c``, else the
    ice edge, for cryoprobes). ``probability``: the required P(delivered margin >= target) under ``uncertainty``.
    ``devices``: the allowed probe models and settings (one device for all probes of a plan). ``max_probes``: the
    probe budget. ``composition``: "union" (one catalog zone per probe) or "synergy" (the merged ice ball).
    ``confident``: the target counts as met only when the lower end of P's confidence interval reaches
    ``probability`` (default: when the estimate does).
    """

    tumor: Ellipsoid
    devices: tuple[Device, ...]
    target: Rule
    probability: float = 0.9
    max_probes: int = 6
    uncertainty: Uncertainty = field(default_factory=Uncertainty)
    composition: str = "union"
    zone_scale: tuple[float, float] = (1.0, 1.0)
    tail_mm: float = DEFAULT_TAIL_MM
    isotherm_c: float | None = None
    extrapolate: bool = False
    approach: Approach = field(default_factory=Approach)
    organs: tuple[OrganAtRisk, ...] = ()
    search: SearchOptions = field(default_factory=SearchOptions)
    catalog: ProbeCatalog = field(default_factory=default_catalog)
    tumor_name: str = "tumour"
    confident: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.tumor, Ellipsoid):
            raise ValidationError("tumor", self.tumor, "expected an Ellipsoid (planning takes one tumour)")
        if not isinstance(self.target, Rule):
            raise ValidationError("target", self.target, "expected an ablasim Rule")
        p = as_float(self.probability, "probability", positive=True, maximum=1.0)
        object.__setattr__(self, "probability", p)
        object.__setattr__(self, "max_probes", _count(self.max_probes, "max_probes", 1, MAX_ARRAY_PROBES))
        if not isinstance(self.uncertainty, Uncertainty):
            raise ValidationError("uncertainty", self.uncertainty, "expected an ablasim Uncertainty")
        if self.composition not in COMPOSITIONS:
            raise ValidationError("composition", self.composition, f"expected one of {', '.join(COMPOSITIONS)}")
        object.__setattr__(self, "zone_scale", as_zone_scale(self.zone_scale, "zone_scale"))
        object.__setattr__(self, "tail_mm", as_float(self.tail_mm, "tail_mm", positive=True))
        if self.isotherm_c is not None:
            object.__setattr__(self, "isotherm_c", as_float(self.isotherm_c, "isotherm_c", maximum=0.0))
        for name, kind in (("approach", Approach), ("search", SearchOptions)):
            if not isinstance(getattr(self, name), kind):
                raise ValidationError(name, getattr(self, name), f"expected an ablasim.planning.{kind.__name__}")
        if not isinstance(self.confident, bool):
            raise ValidationError("confident", self.confident, "expected true or false")
        if self.confident and self.required_successes(self.search.n_samples) > self.search.n_samples:
            raise ValidationError(
                "confident",
                True,
                f"{self.search.n_samples} deliveries cannot confirm P >= {self.probability:g} at "
                f"{100 * self.search.confidence:g} % confidence even if all meet the target: raise search.n_samples",
            )
        object.__setattr__(self, "organs", tuple(self.organs))
        for i, o in enumerate(self.organs):
            if not isinstance(o, OrganAtRisk):
                raise ValidationError(f"organs_at_risk[{i}]", o, "expected an OrganAtRisk")
        object.__setattr__(self, "devices", tuple(self.devices))
        if not self.devices:
            raise ValidationError("devices", self.devices, "give at least one allowed device (probe model)")
        for i, d in enumerate(self.devices):
            if not isinstance(d, Device):
                raise ValidationError(f"devices[{i}]", d, "expected a Device(model, ...)")
            model = self.catalog[d.model]  # an unknown model: the error lists the catalog's names
            if self.composition == "synergy" and model.modality != "cryo":
                raise ValidationError(f"devices[{i}].model", d.model, "the synergy zone model is for cryoprobes only")
            if self.target.modality not in ("any", model.modality):
                raise PlanningError(
                    f"the target rule {self.target.name} is for {self.target.modality} ablation; "
                    f"device {d.label} is {model.modality}"
                )
        self._check_zones()

    # ---- the decision ------------------------------------------------------------------------------------------
    def required_successes(self, n_samples: int) -> int:
        """Deliveries (of ``n_samples``) that must meet the target for the plan to count as meeting it."""
        return required_successes(n_samples, self.probability, self.search.confidence if self.confident else None)

    def quantile_index(self, n_samples: int) -> int:
        """Index of the robust objective ``Q`` in the ascending sort of ``n_samples`` delivered margins."""
        return max(0, n_samples - self.required_successes(n_samples))

    # ---- zones of a device ---------------------------------------------------------------------------------------
    def modality(self, device: Device) -> str:
        return self.catalog[device.model].modality

    def target_isotherm(self, device: Device) -> float | None:
        """The isotherm the target is measured on with ``device`` (the one decision of
        :func:`ablasim.catalog.measured_isotherm`: the rule's, else the problem's, else the ice edge; None for RF
        / MW)."""
        return measured_isotherm(self.modality(device), self.target.isotherm_c, self.isotherm_c)

    def organ_isotherm(self, device: Device, organ: OrganAtRisk) -> float | None:
        return measured_isotherm(self.modality(device), organ.isotherm_c)

    def zone_spec(self, device: Device, isotherm_c: float | None) -> ZoneSpec:
        """The catalog zone of ``device`` at ``isotherm_c``, scaled by ``zone_scale``."""
        try:
            spec = self.catalog[device.model].zone_spec(
                isotherm_c=isotherm_c, extrapolate=self.extrapolate, **device.settings()
            )
        except ValidationError as exc:
            raise ValidationError(f"device {device.label} ({exc.field})", exc.value, exc.expected) from None
        return spec.scaled(self.zone_scale)

    def levels(self, device: Device) -> list[float]:
        """The catalog isotherms of a cryo device's protocol, warmest first (the merged ice ball's input)."""
        model = self.catalog[device.model]
        return model.isotherms(device.protocol or model.zones[0].protocol)

    def _check_zones(self) -> None:
        """Every device resolves to a zone at the target's isotherm and at every organ's, now: a target or organ
        isotherm no device has is a clear error before any search."""
        for d in self.devices:
            iso = self.target_isotherm(d)
            try:
                self.zone_spec(d, iso)
            except ValidationError as exc:
                what = "its zone" if iso is None else f"its {iso:g} degC isotherm"
                raise PlanningError(
                    f"the target ({self.target.name}: {self.target.min_margin_mm:g} mm) is measured on {what}, "
                    f"which device {d.label} does not have: {exc}"
                ) from None
            if self.composition == "synergy" and iso is not None and iso < self.levels(d)[-1] - 1e-9:
                raise PlanningError(
                    f"the target is measured on the {iso:g} degC isotherm; the merged ice ball of {d.label} can be "
                    f"predicted down to {self.levels(d)[-1]:g} degC only"
                )
            for o in self.organs:
                try:
                    self.zone_spec(d, self.organ_isotherm(d, o))
                except ValidationError as exc:
                    raise PlanningError(f"organ at risk {o.name}: {exc}") from None
