"""Rule sets as data: the margin a plan must reach, with sources, and the check against a margin result.

Rules ship in ``ablasim/data/rules.toml`` (sarcoma-5mm, renal-6mm, liver-cryo-size, clm-5mm); users add or replace
rules with their own TOML files (same format, documented at the top of that file and in docs/rules.md) or build a
:class:`Rule` in Python.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np

from ._named import NamedSet
from ._validation import as_float
from .errors import ScenarioError, ValidationError

__all__ = ["Rule", "RuleCheck", "RuleSet", "SizeBin", "check_rule", "default_rules"]

_RULE_KEYS = {"description", "modality", "isotherm_c", "min_margin_mm", "organ", "source", "seed", "note", "size_bins"}
_BIN_KEYS = {"label", "min_diameter_mm", "max_diameter_mm", "outcome", "numerator", "denominator"}
_MODALITIES = ("cryo", "radiofrequency", "microwave", "any")


@dataclass(frozen=True)
class SizeBin:
    label: str
    min_diameter_mm: float  # inclusive
    max_diameter_mm: float  # exclusive
    outcome: str
    numerator: int
    denominator: int

    @property
    def rate(self) -> float:
        return self.numerator / self.denominator


@dataclass(frozen=True)
class Rule:
    """A margin requirement: ``min_margin_mm`` everywhere, measured at ``isotherm_c`` (cryo) or on the zone."""

    name: str
    min_margin_mm: float
    isotherm_c: float | None = None
    modality: str = "any"
    description: str = ""
    organ: str = ""
    source: str = ""
    seed: str = ""
    note: str = ""
    size_bins: tuple = field(default_factory=tuple)

    def size_bin(self, diameter_mm: float) -> SizeBin | None:
        for b in self.size_bins:
            if b.min_diameter_mm <= diameter_mm < b.max_diameter_mm:
                return b
        return None


ROUNDING_FLOOR_MM = 1e-9
"""Tolerance of a threshold comparison for floating-point rounding: measured margins are attained by real pairs of
points, so they are never below the true margin by more than rounding (docs/rules.md)."""


@dataclass(frozen=True)
class RuleCheck:
    """Outcome of checking one rule: pass/fail, where it is thinnest, how much surface fails, and why.

    ``passed``: the measured minimum margin reaches the requirement (compared with ``tolerance_mm``, the rounding
    floor). ``within_error_bound``: the requirement lies within the measurement's error bound below the measured
    margin, so the true margin may be up to ``error_bound_mm`` smaller than reported and short of the requirement;
    the reason says so. ``failing_surface_fraction`` is None when the result has no margin map.
    """

    rule: str
    passed: bool
    min_margin_mm: float
    required_margin_mm: float
    thinnest_point_mm: tuple
    failing_surface_fraction: float | None
    reason: str
    size_bin: str | None = None
    observed_rate: float | None = None
    source: str = ""
    isotherm_c: float | None = None
    error_bound_mm: float = 0.0
    tolerance_mm: float = ROUNDING_FLOOR_MM
    within_error_bound: bool = False

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def check_rule(
    rule: Rule, result, tumor=None, *, zone_label: str | None = None, isotherm_c: float | None = None
) -> RuleCheck:
    """Check ``result`` (a MarginResult measured on the rule's zone) against ``rule``.

    ``tumor`` (an Ellipsoid) gives the largest diameter for size bins. ``isotherm_c`` is the isotherm the result
    was measured on (recorded with the check; cryo). The failing fraction is the area fraction of the (included)
    tumour surface whose margin is below the requirement.

    >>> from ablasim import Ellipsoid, measure_margin
    >>> res = measure_margin(Ellipsoid([0, 0, 0], [10, 10, 10]), Ellipsoid([0, 0, 0], [15, 15, 15]))
    >>> check_rule(Rule("five", 5.0), res).passed   # exactly at the threshold: met
    True
    """
    if not isinstance(rule, Rule):
        raise ValidationError("rule", rule, "expected an ablasim Rule")
    req = rule.min_margin_mm
    m = float(result.min_margin_mm)
    bound = float(result.error_bound_mm)
    tol = ROUNDING_FLOOR_MM * max(1.0, abs(req))
    passed = m >= req - tol
    borderline = passed and m - bound < req - tol
    mmap = getattr(result, "margin_map", None)
    failing = None if mmap is None else float(mmap.fraction_below(req))
    p = tuple(round(float(v), 1) for v in result.thinnest_point_mm)
    if zone_label is None:
        iso = rule.isotherm_c if isotherm_c is None else isotherm_c
        zone_label = f"{iso:g} degC isotherm" if iso is not None else "ablation zone"
    where = f"at ({p[0]}, {p[1]}, {p[2]}) mm"
    if m < 0:
        state = f"the tumour protrudes {-m:.2f} mm beyond the {zone_label} {where}"
    else:
        state = f"the {zone_label} extends {m:.2f} mm beyond the tumour at its thinnest point {where}"
    if passed:
        reason = f"PASS ({rule.name}): {state}; required >= {req:g} mm everywhere."
        if borderline:
            reason += (
                f" Within the error bound: the true margin may be up to {bound:.3g} mm smaller than measured "
                f"({result.method} method), i.e. short of {req:g} mm."
            )
    else:
        short = "" if failing is None else f", {100 * failing:.0f} % of the tumour surface has less"
        reason = f"FAIL ({rule.name}): {state}; required >= {req:g} mm everywhere{short}."
    sb = rate = None
    if rule.size_bins and tumor is not None:
        diameter = 2.0 * float(np.max(tumor.semi_axes_mm))
        b = rule.size_bin(diameter)
        if b is not None:
            sb, rate = b.label, b.rate
            reason += (
                f" Tumour diameter {diameter:.0f} mm ({b.label}): observed {b.outcome} "
                f"{100 * b.rate:.1f} % ({b.numerator}/{b.denominator})."
            )
    return RuleCheck(
        rule.name,
        passed,
        m,
        req,
        p,
        failing,
        reason,
        sb,
        rate,
        rule.source,
        isotherm_c if isotherm_c is not None else rule.isotherm_c,
        bound,
        tol,
        borderline,
    )


class RuleSet(NamedSet):
    """Rules by name; ``RuleSet.from_toml(*files)`` adds rules or replaces same-named ones."""

    kind = "rule"

    @classmethod
    def _parse(cls, data, where):
        return parse_rules(data, where)

    @classmethod
    def default(cls):
        return default_rules()


@lru_cache(maxsize=1)
def default_rules() -> RuleSet:
    data = resources.files("ablasim").joinpath("data/rules.toml").read_bytes()
    return RuleSet(parse_rules(data, "ablasim/data/rules.toml"))


def parse_rules(data, where: str, prefix: str = "rules") -> dict[str, Rule]:
    """Rules from TOML bytes (a ``[rules.NAME]`` document) or from an already parsed ``{name: table}`` dict
    (``prefix`` names its table in errors, e.g. "custom_rules")."""
    if isinstance(data, (bytes, bytearray)):
        try:
            doc = tomllib.loads(data.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ScenarioError(f"not valid TOML: {exc}", where) from None
        if set(doc) - {"rules"}:
            raise ScenarioError(
                f"unknown top-level key(s) {sorted(set(doc) - {'rules'})}; expected [rules.NAME]", where
            )
        tables = doc.get("rules", {})
    else:
        tables = data
    try:
        return {name: _rule(name, t, prefix) for name, t in tables.items()}
    except ValidationError as exc:
        raise ScenarioError(str(exc), where) from None


def _rule(name: str, t, prefix: str = "rules") -> Rule:
    f = f"{prefix}.{name}"
    if not isinstance(t, dict):
        raise ValidationError(f, t, "must be a table")
    extra = set(t) - _RULE_KEYS
    if extra:
        raise ValidationError(f, sorted(extra), f"unknown key(s); valid: {sorted(_RULE_KEYS)}")
    if "min_margin_mm" not in t:
        raise ValidationError(f"{f}.min_margin_mm", None, "missing")
    modality = t.get("modality", "any")
    if modality not in _MODALITIES:
        raise ValidationError(f"{f}.modality", modality, f"expected one of {list(_MODALITIES)}")
    iso = t.get("isotherm_c")
    iso = None if iso is None else as_float(iso, f"{f}.isotherm_c", maximum=0.0)
    bins = []
    for i, b in enumerate(t.get("size_bins", [])):
        bf = f"{f}.size_bins[{i}]"
        extra = set(b) - _BIN_KEYS
        if extra:
            raise ValidationError(bf, sorted(extra), f"unknown key(s); valid: {sorted(_BIN_KEYS)}")
        lo = as_float(b.get("min_diameter_mm", 0.0), f"{bf}.min_diameter_mm", nonnegative=True)
        hi = float("inf") if "max_diameter_mm" not in b else as_float(b["max_diameter_mm"], f"{bf}.max_diameter_mm")
        num, den = b.get("numerator"), b.get("denominator")
        if not (isinstance(num, int) and isinstance(den, int) and 0 <= num <= den and den > 0):
            raise ValidationError(f"{bf}.numerator/denominator", (num, den), "expected integers 0 <= n <= d, d > 0")
        if not lo < hi:
            raise ValidationError(bf, (lo, hi), "min_diameter_mm must be below max_diameter_mm")
        bins.append(
            SizeBin(str(b.get("label", f"{lo:g}-{hi:g} mm")), lo, hi, str(b.get("outcome", "outcome")), num, den)
        )
    return Rule(
        name,
        as_float(t["min_margin_mm"], f"{f}.min_margin_mm"),
        iso,
        modality,
        str(t.get("description", "")),
        str(t.get("organ", "")),
        str(t.get("source", "")),
        str(t.get("seed", "")),
        str(t.get("note", "")),
        tuple(bins),
    )
