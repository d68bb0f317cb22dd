"""Cohort specifications (TOML, docs/cohorts.md): every field is checked before any case runs."""

from __future__ import annotations

import hashlib
import itertools
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..._validation import as_float, as_unit_vector, as_zone_scale
from ...catalog import default_catalog, measured_isotherm
from ...errors import ScenarioError, UnknownNameError, ValidationError
from ...literature import load_records
from ...placement import MAX_ARRAY_PROBES
from ...rules import default_rules
from ...stats import efficacy_by_bin
from ...uncertainty import Uncertainty
from .distributions import Distribution, parse_distribution

__all__ = ["CohortSpec", "Strategy", "load_cohort_spec", "parse_cohort_spec"]

_TOP = {
    "name",
    "description",
    "seed",
    "n_cases",
    "chunk_size",
    "tumor",
    "strategy",
    "uncertainty",
    "outcome",
    "measure",
}
_TUMOR = {"organ", "diameter_mm", "elongation", "orientation"}
_STRATEGY = {
    "max_diameter_mm",
    "model",
    "n_probes",
    "spacing_mm",
    "protocol",
    "power_w",
    "duration_s",
    "zone_scale",
    "direction",
}
_OUTCOME = {"success_margin_mm", "isotherm_c", "rule", "thresholds_mm", "size_bins_mm", "compare"}
_MEASURE = {"resolution_mm", "coverage_polar"}


@dataclass(frozen=True)
class Strategy:
    """Probes for tumours whose largest diameter is below ``max_diameter_mm`` (the first matching entry wins)."""

    max_diameter_mm: float
    model: str
    n_probes: int
    spacing_mm: float
    settings: dict  # protocol / power_w / duration_s / zone_scale
    direction: tuple | None  # None: random (isotropic), else a fixed unit vector


@dataclass(frozen=True)
class CohortSpec:
    name: str
    seed: int
    n_cases: int
    chunk_size: int
    organ: str
    diameter: Distribution
    elongation: Distribution
    random_orientation: bool
    strategies: tuple
    uncertainty: Uncertainty
    success_margin_mm: float
    isotherm_c: float | None
    thresholds_mm: tuple
    size_bins_mm: tuple
    resolution_mm: float = 1.0
    coverage_polar: int = 64
    description: str = ""
    compare: tuple = ()  # (bin label, rate, source) from a literature record, for side-by-side reporting
    raw: dict = field(default_factory=dict, compare=False)

    @property
    def n_chunks(self) -> int:
        return -(-self.n_cases // self.chunk_size)

    def chunk_range(self, k: int) -> tuple[int, int]:
        return k * self.chunk_size, min((k + 1) * self.chunk_size, self.n_cases)

    def strategy_for(self, diameter_mm: float) -> Strategy:
        for s in self.strategies:
            if diameter_mm < s.max_diameter_mm:
                return s
        return self.strategies[-1]

    def digest(self) -> str:
        """Hash of everything that determines the results (not the chunking): guards checkpoint resumption."""
        core = {k: v for k, v in self.raw.items() if k not in ("chunk_size", "name", "description")}
        return hashlib.sha256(json.dumps(core, sort_keys=True, default=str).encode()).hexdigest()[:16]


def load_cohort_spec(path) -> CohortSpec:
    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"cannot read the cohort spec ({exc.strerror})", p) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"not valid TOML: {exc}", p) from None
    return parse_cohort_spec(doc, source=str(p))


def _keys(table, allowed, where):
    if not isinstance(table, dict):
        raise ValidationError(where, table, "must be a table")
    extra = sorted(set(table) - allowed)
    if extra:
        raise ValidationError(where, extra, f"unknown key(s); valid keys: {sorted(allowed)}")


def _int(value, name, lo=1):
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise ValidationError(name, value, f"expected an integer >= {lo}")
    return value


def parse_cohort_spec(doc: dict, source: str = "<cohort>") -> CohortSpec:
    try:
        return _parse(doc)
    except ValidationError as exc:
        raise ScenarioError(str(exc), source) from None


def _parse(doc: dict) -> CohortSpec:
    _keys(doc, _TOP, "the cohort spec")
    for key in ("seed", "n_cases", "tumor", "strategy"):
        if key not in doc:
            raise ValidationError(key, None, "required")
    seed = _int(doc["seed"], "seed", lo=0)
    n_cases = _int(doc["n_cases"], "n_cases")
    chunk = _int(doc.get("chunk_size", 100), "chunk_size")
    t = doc["tumor"]
    _keys(t, _TUMOR, "tumor")
    if "diameter_mm" not in t:
        raise ValidationError("tumor.diameter_mm", None, "required (a number or a distribution table)")
    diameter = parse_distribution(t["diameter_mm"], "tumor.diameter_mm", positive=True)
    elong = parse_distribution(t.get("elongation", 1.0), "tumor.elongation", positive=True)
    if elong.sample(0.0) < 1.0:
        raise ValidationError("tumor.elongation", t.get("elongation"), "the long/short axis ratio must be >= 1")
    orient = t.get("orientation", "random")
    if orient not in ("random", "aligned"):
        raise ValidationError("tumor.orientation", orient, "expected random or aligned")
    strategies = _strategies(doc["strategy"])
    unc = Uncertainty.from_dict(doc.get("uncertainty", {}))
    o = doc.get("outcome", {})
    _keys(o, _OUTCOME, "outcome")
    if "rule" in o and "success_margin_mm" in o:
        raise ValidationError("outcome", sorted(o), "give rule or success_margin_mm, not both")
    if "rule" in o:
        rule = default_rules()[o["rule"]]
        success, iso = rule.min_margin_mm, rule.isotherm_c
    else:
        success = as_float(o.get("success_margin_mm", 0.0), "outcome.success_margin_mm")
        iso = as_float(o["isotherm_c"], "outcome.isotherm_c", maximum=0.0) if "isotherm_c" in o else None
    thresholds = tuple(as_float(v, "outcome.thresholds_mm") for v in o.get("thresholds_mm", [0.0, 5.0]))
    bins = tuple(as_float(v, "outcome.size_bins_mm", nonnegative=True) for v in o.get("size_bins_mm", [0.0, 40.0, 1e9]))
    if len(bins) < 2 or any(b >= c for b, c in itertools.pairwise(bins)):
        raise ValidationError("outcome.size_bins_mm", o.get("size_bins_mm"), "expected increasing bin edges")
    compare = _compare(o.get("compare"), bins)
    m = doc.get("measure", {})
    _keys(m, _MEASURE, "measure")
    res = as_float(m.get("resolution_mm", 1.0), "measure.resolution_mm", positive=True, maximum=5.0)
    polar = _int(m.get("coverage_polar", 64), "measure.coverage_polar", lo=8)
    cat = default_catalog()
    for i, s in enumerate(strategies):  # every strategy resolves to a zone now, not in the middle of a run
        model = cat[s.model]
        if iso is not None and model.modality != "cryo":
            raise ValidationError(f"strategy[{i}].model", s.model, "outcome.isotherm_c applies to cryoprobes only")
        try:
            model.zone_spec(
                isotherm_c=measured_isotherm(model.modality, iso),
                **{k: v for k, v in s.settings.items() if k != "zone_scale"},
            )
        except ValidationError as exc:
            raise ValidationError(f"strategy[{i}] ({exc.field})", exc.value, exc.expected) from None
    return CohortSpec(
        str(doc.get("name", "cohort")),
        seed,
        n_cases,
        chunk,
        str(t.get("organ", "")),
        diameter,
        elong,
        orient == "random",
        strategies,
        unc,
        success,
        iso,
        thresholds,
        bins,
        res,
        polar,
        str(doc.get("description", "")),
        compare,
        raw=doc,
    )


def _compare(table, bins) -> tuple:
    """Literature rates per size bin: ``{record = "...", outcome = "..."}`` names a seed record and an outcome whose
    groups are size-bin labels; each bin of the cohort whose label matches gets the reported rate."""
    if table is None:
        return ()
    _keys(table, {"record", "outcome"}, "outcome.compare")
    if "record" not in table or "outcome" not in table:
        raise ValidationError("outcome.compare", table, "needs record and outcome")

    records = load_records()
    if table["record"] not in records:
        raise UnknownNameError("outcome.compare.record", table["record"], records)
    rec = records[table["record"]]
    labels = [r["bin"] for r in efficacy_by_bin([], [], bins)]
    out = []
    for label in labels:
        try:
            o = rec.outcome(table["outcome"], label)
        except ValidationError:
            continue
        cite = rec.citation
        who = f"{cite.authors[0].split()[0]} {cite.year}" if cite.authors and cite.year else table["record"]
        out.append((label, o.fraction, f"{who}: {table['outcome']}"))
    if not out:
        raise ValidationError(
            "outcome.compare.outcome",
            table["outcome"],
            f"no group of record {table['record']} matches the size bins {labels}",
        )
    return tuple(out)


def _strategies(entries) -> tuple:
    if not isinstance(entries, list) or not entries:
        raise ValidationError("strategy", entries, "give at least one [[strategy]] table")
    out = []
    last = 0.0
    cat = default_catalog()
    for i, s in enumerate(entries):
        where = f"strategy[{i}]"
        _keys(s, _STRATEGY, where)
        if "model" not in s:
            raise ValidationError(f"{where}.model", None, "required")
        cat[s["model"]]  # unknown model: error listing the choices
        top = as_float(s.get("max_diameter_mm", 1e9), f"{where}.max_diameter_mm", positive=True)
        if top <= last:
            raise ValidationError(f"{where}.max_diameter_mm", top, "strategies must be listed by increasing size")
        last = top
        n = _int(s.get("n_probes", 1), f"{where}.n_probes")
        if n > MAX_ARRAY_PROBES:
            raise ValidationError(f"{where}.n_probes", n, f"the parallel arrays go up to {MAX_ARRAY_PROBES} probes")
        spacing = as_float(s.get("spacing_mm", 10.0), f"{where}.spacing_mm", positive=True)
        direction = s.get("direction", "random")
        if direction != "random":
            direction = tuple(as_unit_vector(direction, f"{where}.direction"))
        settings = {k: s[k] for k in ("protocol", "power_w", "duration_s") if k in s}
        if "zone_scale" in s:
            settings["zone_scale"] = as_zone_scale(s["zone_scale"], f"{where}.zone_scale")
        out.append(Strategy(top, str(s["model"]), n, spacing, settings, None if direction == "random" else direction))
    return tuple(out)
