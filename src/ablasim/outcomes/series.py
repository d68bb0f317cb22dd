"""Virtual series, one per source document (``ablasim/data/outcomes/series/*.toml``; format in docs/validation.md).

A :class:`SeriesSpec` says how the series' tumours are drawn (sizes and shapes as the literature record gives them,
or stated assumptions), which arms treat them (probe models, probe budget, margin target, what the operator may do
when the visible margin is short), the delivery errors, the reading error of the visible margin, the critical
structures that cap the margin, and the endpoints to predict. Every field is checked before any case runs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path

from .._validation import as_float, as_zone_scale
from ..catalog import default_catalog
from ..distributions import Distribution, parse_distribution
from ..errors import ScenarioError, ValidationError
from ..literature import load_records
from ..placement import MAX_ARRAY_PROBES
from ..uncertainty import Uncertainty
from .data import read_toml
from .lethal import lethal_offset_mm
from .zones import COMPOSITIONS

__all__ = ["Action", "Arm", "Endpoint", "SeriesSpec", "default_series", "load_series", "parse_series"]

ACTIONS = ("extend_freeze", "extra_cycle", "add_probe")
KINDS = ("control", "progression", "technical_success", "relative_risk", "cycles")
_TOP = {
    "schema_version",
    "id",
    "record",
    "title",
    "seed",
    "n_cases",
    "n_cases_quick",
    "tissue",
    "composition",
    "tumor",
    "arms",
    "delivery",
    "monitoring",
    "structures",
    "endpoints",
}
_ARM = {"name", "weight", "models", "settings", "probe_budget", "spacings_mm", "target_margin_mm", "actions"}
_ENDPOINT = {
    "id",
    "kind",
    "outcome",
    "measure",
    "factor",
    "group",
    "at_years",
    "at_years_record",
    "denominator_assumed",
    "threshold_mm",
    "arms",
}


@dataclass(frozen=True)
class Action:
    action: str  # extend_freeze | extra_cycle | add_probe
    gain_mm: float  # ice-ball growth (extend_freeze, extra_cycle); 0 for add_probe
    max: int


@dataclass(frozen=True)
class Arm:
    """One way the series treats its tumours (e.g. cryoablation with IceRod probes), chosen with ``weight``."""

    name: str
    weight: float
    modality: str
    models: tuple
    settings: dict
    probe_budget: int
    spacings_mm: tuple
    target_margin_mm: float
    target_assumed: bool  # the record states no target: varied by the sensitivity analysis
    actions: tuple


@dataclass(frozen=True)
class Endpoint:
    id: str
    kind: str
    outcome: str | None = None  # the record's outcome (or measure / factor) it is compared with
    measure: str | None = None
    factor: str | None = None
    group: str | None = None
    at_years: float | None = None  # when the model reads local control
    at_years_record: float | None = None  # which of the record's time points (when it has several)
    denominator_assumed: int | None = None
    threshold_mm: float | None = None
    arms: tuple | None = None
    notes: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class SeriesSpec:
    id: str
    record: str
    title: str
    seed: int
    n_cases: int
    n_cases_quick: int
    tissue: str
    diameter: Distribution
    elongation: Distribution
    arms: tuple
    delivery: Uncertainty
    visible_margin_sd_mm: float
    p_near: float
    cap_max_mm: float
    endpoints: tuple
    composition: str = "synergy"
    chunk_size: int = 10
    size_scale: float = 1.0
    delivery_scale: float = 1.0
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def n_chunks(self) -> int:
        return -(-self.n_cases // self.chunk_size)

    def chunk_range(self, k: int) -> tuple[int, int]:
        return k * self.chunk_size, min((k + 1) * self.chunk_size, self.n_cases)

    def digest(self) -> str:
        """Hash of everything that decides the cases' results (not their number or chunking)."""
        core = {k: v for k, v in self.raw.items() if k not in ("n_cases", "n_cases_quick", "title", "endpoints")}
        core["_scales"] = (self.size_scale, self.delivery_scale)
        return hashlib.sha256(json.dumps(core, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def with_cases(self, n_cases: int) -> SeriesSpec:
        if isinstance(n_cases, bool) or not isinstance(n_cases, int) or n_cases < 1:
            raise ValidationError("n_cases", n_cases, "expected a positive integer")
        return replace(self, n_cases=n_cases)

    def scaled(self, *, size_scale: float = 1.0, delivery_scale: float = 1.0) -> SeriesSpec:
        """The same series with tumour sizes and delivery errors multiplied (sensitivity analysis)."""
        s = as_float(size_scale, "size_scale", positive=True)
        d = as_float(delivery_scale, "delivery_scale", nonnegative=True)
        u = self.delivery
        unc = Uncertainty(
            u.tip_lateral_sd_mm * d, u.tip_axial_sd_mm * d, u.angle_sd_deg * d, tuple(v * d for v in u.zone_scale_sd)
        )
        return replace(self, size_scale=self.size_scale * s, delivery_scale=self.delivery_scale * d, delivery=unc)

    def endpoint(self, endpoint_id: str) -> Endpoint:
        for e in self.endpoints:
            if e.id == endpoint_id:
                return e
        raise ValidationError("endpoint", endpoint_id, f"not an endpoint of series {self.id}")


def _keys(table, allowed, where):
    if not isinstance(table, dict):
        raise ValidationError(where, table, "must be a table")
    extra = sorted(k for k in set(table) - allowed if not (k == "source" or k.endswith("_source")))
    if extra:
        raise ValidationError(where, extra, f"unknown key(s); valid keys: {sorted(allowed)} and source notes")


def _int(value, name, lo=1):
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise ValidationError(name, value, f"expected an integer >= {lo}")
    return value


def _arm(a: dict, i: int) -> Arm:
    where = f"arms[{i}]"
    _keys(a, _ARM, where)
    cat = default_catalog()
    models = a.get("models")
    if not isinstance(models, list) or not models:
        raise ValidationError(f"{where}.models", models, "give at least one probe model")
    modalities = {cat[m].modality for m in models}  # unknown model: error listing the choices
    if len(modalities) != 1:
        raise ValidationError(f"{where}.models", models, "one modality per arm")
    modality = modalities.pop()
    settings = dict(a.get("settings", {}))
    _keys(settings, {"protocol", "power_w", "duration_s", "zone_scale"}, f"{where}.settings")
    if "zone_scale" in settings:
        settings["zone_scale"] = as_zone_scale(settings["zone_scale"], f"{where}.settings.zone_scale")
    for m in models:  # every model resolves to a zone now, not in the middle of a run
        try:
            cat[m].zone_spec(**{k: v for k, v in settings.items() if k != "zone_scale"})
        except ValidationError as exc:
            raise ValidationError(f"{where} ({exc.field})", exc.value, exc.expected) from None
    budget = _int(a.get("probe_budget", 1), f"{where}.probe_budget")
    if budget >= MAX_ARRAY_PROBES:
        raise ValidationError(f"{where}.probe_budget", budget, f"below {MAX_ARRAY_PROBES} (one probe may be added)")
    spacings = tuple(as_float(s, f"{where}.spacings_mm", positive=True) for s in a.get("spacings_mm", [10.0]))
    actions = []
    for j, act in enumerate(a.get("actions", [])):
        aw = f"{where}.actions[{j}]"
        _keys(act, {"action", "gain_mm", "max"}, aw)
        if act.get("action") not in ACTIONS:
            raise ValidationError(f"{aw}.action", act.get("action"), f"expected one of {', '.join(ACTIONS)}")
        if act["action"] != "add_probe" and modality != "cryo":
            raise ValidationError(f"{aw}.action", act["action"], "extending a freeze applies to cryoprobes only")
        gain = 0.0 if act["action"] == "add_probe" else as_float(act.get("gain_mm"), f"{aw}.gain_mm", nonnegative=True)
        actions.append(Action(act["action"], gain, _int(act.get("max", 1), f"{aw}.max", lo=0)))
    target_src = str(a.get("target_source", ""))
    return Arm(
        str(a.get("name", f"arm{i}")),
        as_float(a.get("weight", 1.0), f"{where}.weight", positive=True),
        modality,
        tuple(str(m) for m in models),
        settings,
        budget,
        spacings,
        as_float(a.get("target_margin_mm", 0.0), f"{where}.target_margin_mm", nonnegative=True),
        target_src.startswith("assumption"),
        tuple(actions),
    )


def _endpoint(e: dict, i: int, arms: tuple, record) -> Endpoint:
    where = f"endpoints[{i}]"
    _keys(e, _ENDPOINT | {"interpretation"}, where)
    kind = e.get("kind")
    if kind not in KINDS:
        raise ValidationError(f"{where}.kind", kind, f"expected one of {', '.join(KINDS)}")
    if "id" not in e:
        raise ValidationError(f"{where}.id", None, "required")
    at = e.get("at_years")
    if kind in ("control", "progression", "relative_risk"):
        at = as_float(at, f"{where}.at_years", nonnegative=True)
    names = {a.name for a in arms}
    sel = e.get("arms")
    if sel is not None and (not isinstance(sel, list) or set(sel) - names):
        raise ValidationError(f"{where}.arms", sel, f"expected a list of arm names among {sorted(names)}")
    ep = Endpoint(
        str(e["id"]),
        kind,
        e.get("outcome"),
        e.get("measure"),
        e.get("factor"),
        e.get("group"),
        None if at is None else float(at),
        None if "at_years_record" not in e else as_float(e["at_years_record"], f"{where}.at_years_record"),
        None if "denominator_assumed" not in e else _int(e["denominator_assumed"], f"{where}.denominator_assumed"),
        None if "threshold_mm" not in e else as_float(e["threshold_mm"], f"{where}.threshold_mm"),
        None if sel is None else tuple(sel),
        {k: str(v) for k, v in e.items() if k.endswith("_source") or k == "interpretation"},
    )
    try:  # the reported number must exist in the record
        if ep.outcome is not None:
            record.outcome(ep.outcome, ep.group, at_years=ep.at_years_record)
        elif ep.measure is not None:
            record.measure(ep.measure, ep.group)
        elif ep.factor is not None:
            if not any(f.factor == ep.factor for f in record.factors):
                raise ValidationError(f"{where}.factor", ep.factor, f"not a factor of record {record.id}")
        else:
            raise ValidationError(where, e, "name the record's outcome, measure or factor it is compared with")
    except ValidationError as exc:
        raise ValidationError(f"{where} ({exc.field})", exc.value, exc.expected) from None
    return ep


def parse_series(doc: dict, source: str = "<series>") -> SeriesSpec:
    try:
        return _parse(doc)
    except ValidationError as exc:
        raise ScenarioError(str(exc), source) from None


def _parse(doc: dict) -> SeriesSpec:
    _keys(doc, _TOP, "the series")
    for key in ("id", "record", "seed", "n_cases", "tissue", "tumor", "arms", "endpoints"):
        if key not in doc:
            raise ValidationError(key, None, "required")
    records = load_records()
    if doc["record"] not in records:
        raise ValidationError("record", doc["record"], f"expected one of {sorted(records)}")
    record = records[doc["record"]]
    t = doc["tumor"]
    _keys(t, {"diameter_mm", "elongation"}, "tumor")
    diameter = parse_distribution(t.get("diameter_mm"), "tumor.diameter_mm", positive=True)
    elong = parse_distribution(t.get("elongation", 1.0), "tumor.elongation", positive=True)
    if elong.sample(0.0) < 1.0:
        raise ValidationError("tumor.elongation", t.get("elongation"), "the long/short axis ratio must be >= 1")
    if not isinstance(doc["arms"], list) or not doc["arms"]:
        raise ValidationError("arms", doc["arms"], "give at least one [[arms]] table")
    arms = tuple(_arm(a, i) for i, a in enumerate(doc["arms"]))
    tissue = str(doc["tissue"])
    for a in arms:
        lethal_offset_mm(tissue, a.modality)  # an unknown tissue fails here
    d = dict(doc.get("delivery", {}))
    _keys(d, {"tip_lateral_sd_mm", "tip_axial_sd_mm", "angle_sd_deg", "zone_scale_sd"}, "delivery")
    delivery = Uncertainty.from_dict({k: v for k, v in d.items() if k != "source"}, "delivery")
    m = dict(doc.get("monitoring", {}))
    _keys(m, {"visible_margin_sd_mm"}, "monitoring")
    s = dict(doc.get("structures", {}))
    _keys(s, {"p_near", "cap_max_mm"}, "structures")
    p_near = as_float(s.get("p_near", 0.0), "structures.p_near", nonnegative=True, maximum=1.0)
    composition = doc.get("composition", "synergy")
    if composition not in COMPOSITIONS:
        raise ValidationError("composition", composition, f"expected one of {', '.join(COMPOSITIONS)}")
    endpoints = tuple(_endpoint(e, i, arms, record) for i, e in enumerate(doc["endpoints"]))
    ids = [e.id for e in endpoints]
    if len(set(ids)) != len(ids):
        raise ValidationError("endpoints", ids, "endpoint ids must be unique")
    return SeriesSpec(
        str(doc["id"]),
        str(doc["record"]),
        str(doc.get("title", doc["id"])),
        _int(doc["seed"], "seed", lo=0),
        _int(doc["n_cases"], "n_cases"),
        _int(doc.get("n_cases_quick", min(doc["n_cases"], 20)), "n_cases_quick"),
        tissue,
        diameter,
        elong,
        arms,
        delivery,
        as_float(m.get("visible_margin_sd_mm", 0.0), "monitoring.visible_margin_sd_mm", nonnegative=True),
        p_near,
        as_float(s.get("cap_max_mm", 0.0), "structures.cap_max_mm", nonnegative=True),
        endpoints,
        composition,
        raw=doc,
    )


def load_series(path) -> SeriesSpec:
    doc, where = read_toml("", path)
    return parse_series(doc, where)


@lru_cache(maxsize=1)
def default_series() -> tuple:
    """The series shipped with ablasim, one per source document, in file-name order."""
    folder = resources.files("ablasim").joinpath("data/outcomes/series")
    out = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".toml"):
            doc, where = read_toml(f"series/{entry.name}")
            out.append(parse_series(doc, where))
    return tuple(out)


def series_dir() -> Path:
    return Path(str(resources.files("ablasim").joinpath("data/outcomes/series")))
