"""The entries of a literature record: plain frozen dataclasses, one per table kind of the records' README
(``ablasim/data/literature/README.md``).

Lengths are in mm (fields end in ``_mm``); reported rates are percentages with ``unit = "%"``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Citation",
    "Definition",
    "Device",
    "Factor",
    "Issue",
    "Measure",
    "Outcome",
    "Size",
    "Study",
    "Threshold",
]


@dataclass(frozen=True)
class Citation:
    """Where a record (or a reference it lists) comes from. ``source_*`` are set for the record's own citation."""

    authors: tuple = ()
    et_al: bool = False
    title: str | None = None
    journal: str | None = None
    year: int | None = None
    volume: int | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    pmid: str | None = None
    pii: str | None = None
    epub: str | None = None
    source_kind: str | None = None
    relation: str | None = None
    note: str | None = None

    def text(self) -> str:
        """A one-line citation, e.g. ``Glazer DI et al. Title. AJR Am J Roentgenol 2017;209(6):1381-1389.``"""
        who = ", ".join(self.authors) + (" et al" if self.et_al else "")
        parts = [p for p in (who, self.title, self.journal) if p]
        tail = "" if self.year is None else str(self.year)
        if self.volume is not None:
            tail += f";{self.volume}" + (f"({self.issue})" if self.issue else "")
        if self.pages:
            tail += f":{self.pages}"
        text = ". ".join(parts + ([tail.lstrip(";")] if tail else []))
        return text + (f". doi:{self.doi}" if self.doi else "")


@dataclass(frozen=True)
class Study:
    design: str
    organ: str
    population: str
    where: str
    modalities: tuple = ()
    approach: str | None = None
    guidance: tuple = ()
    centres: int | None = None
    period_start: str | None = None
    period_end: str | None = None
    n_patients: int | None = None
    n_tumours: int | None = None
    n_lesions: int | None = None
    n_procedures: int | None = None
    n_sessions: int | None = None
    size_limit_mm: float | None = None
    size_limit_op: str | None = None
    size_bin_edges_mm: tuple = ()
    inclusion: tuple = ()
    endpoint: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Outcome:
    """A reported rate or count: ``value`` in ``unit`` and/or ``numerator``/``denominator`` (counting ``per``).
    ``decimals`` is the reported precision of ``value`` (from the TOML literal: ``60.0`` -> 1, ``96`` -> 0)."""

    name: str
    where: str
    group: str | None = None
    value: float | None = None
    unit: str | None = None
    numerator: int | None = None
    denominator: int | None = None
    per: str | None = None
    at_years: float | None = None
    at_months: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    size_min_mm: float | None = None
    size_max_mm: float | None = None
    decimals: int | None = None
    approximate: bool = False
    uncertain: bool = False
    inconsistent: bool = False
    note: str | None = None

    @property
    def fraction(self) -> float | None:
        """The rate in [0, 1]: the reported percentage / 100, else numerator / denominator."""
        if self.value is not None and self.unit == "%":
            return self.value / 100.0
        if self.denominator is None or self.numerator is None:
            return None
        return self.numerator / self.denominator

    @property
    def computed_percent(self) -> float | None:
        if self.denominator is None or self.numerator is None:
            return None
        return 100.0 * self.numerator / self.denominator

    @property
    def time_years(self) -> float | None:
        return self.at_years if self.at_months is None else self.at_months / 12.0


@dataclass(frozen=True)
class Size:
    """A length distribution (tumour diameter, ...) in mm; ``reported_unit`` is the unit the document used."""

    name: str
    where: str
    group: str | None = None
    n: int | None = None
    per: str | None = None
    value_mm: float | None = None
    mean_mm: float | None = None
    sd_mm: float | None = None
    median_mm: float | None = None
    min_mm: float | None = None
    max_mm: float | None = None
    q1_mm: float | None = None
    q3_mm: float | None = None
    reported_unit: str | None = None
    unit: str = "mm"
    approximate: bool = False
    uncertain: bool = False
    note: str | None = None


@dataclass(frozen=True)
class Measure:
    """Any other reported quantity (age, follow-up, freeze-thaw cycles, eGFR, ...) with its ``unit``."""

    name: str
    unit: str
    where: str
    group: str | None = None
    n: int | None = None
    per: str | None = None
    value: float | None = None
    mean: float | None = None
    sd: float | None = None
    median: float | None = None
    min: float | None = None
    max: float | None = None
    q1: float | None = None
    q3: float | None = None
    size_min_mm: float | None = None
    size_max_mm: float | None = None
    approximate: bool = False
    uncertain: bool = False
    inconsistent: bool = False
    note: str | None = None


@dataclass(frozen=True)
class Threshold:
    """A margin rule: the zone ``boundary`` must reach ``op margin_mm`` beyond the tumour."""

    name: str
    boundary: str
    op: str
    margin_mm: float
    where: str
    isotherm_c: float | None = None
    all_dimensions: bool | None = None
    modality: str | None = None
    applies_to: str | None = None
    role: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Device:
    name: str
    kind: str
    where: str
    manufacturer: str | None = None
    modality: str | None = None
    gauge: int | None = None
    note: str | None = None


@dataclass(frozen=True)
class Factor:
    """A reported association: ``factor`` -> ``effect`` on ``outcome`` (p, hazard ratio where given)."""

    factor: str
    outcome: str
    effect: str
    where: str
    analysis: str | None = None
    p_value: float | None = None
    p_below: bool = False
    hazard_ratio: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    note: str | None = None


@dataclass(frozen=True)
class Definition:
    term: str
    meaning: str
    where: str
    note: str | None = None


@dataclass(frozen=True)
class Issue:
    """Something the document states inconsistently, ambiguously or not at all (recorded, never silently fixed)."""

    kind: str
    where: str
    note: str
