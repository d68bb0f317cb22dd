"""Literature records: the facts and figures ablasim was built from, each with its citation.

One TOML file per source document in ``ablasim/data/literature/``; the schema and conventions are in the README.md
of that folder. Lengths are in mm (keys end in ``_mm``), reported rates are percentages with ``unit = "%"``
(``Outcome.fraction`` gives them in [0, 1]), and every figure names the place in the document it comes from
(``where``). The loader is strict: unknown keys, a missing citation, ``numerator > denominator``, a percentage that
disagrees with its numerator/denominator by more than the reported rounding, or a length not in mm raise
:class:`~ablasim.errors.ScenarioError` naming the file and the offending field.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import MISSING, dataclass, fields
from importlib import resources
from pathlib import Path

from ..errors import ScenarioError, UnknownNameError, ValidationError
from .schema import Citation, Definition, Device, Factor, Issue, Measure, Outcome, Size, Study, Threshold

__all__ = [
    "SCHEMA_VERSION",
    "Citation",
    "Definition",
    "Device",
    "Factor",
    "Issue",
    "Measure",
    "Outcome",
    "Record",
    "Size",
    "Study",
    "Threshold",
    "load_record",
    "load_records",
    "records_dir",
]

SCHEMA_VERSION = 1
PER = ("patients", "tumours", "lesions", "procedures", "sessions")
OPS = ("<", "<=", ">=", ">")
ISSUE_KINDS = ("inconsistent", "ambiguous", "missing", "approximate", "index_mismatch", "secondary_source")
_NON_MM_LENGTHS = {"m", "dm", "cm", "um", "µm", "nm", "in", "inch", "inches", "ft"}
_NON_MM_SUFFIXES = ("_cm", "_m", "_um", "_in")
S, INT, N, B, SL, NL = "a string", "an integer", "a number", "true or false", "a list of strings", "a list of numbers"

_NUMERIC = {
    "value",
    "ci_low",
    "ci_high",
    "at_years",
    "at_months",
    "size_min_mm",
    "size_max_mm",
    "margin_mm",
    "isotherm_c",
    "p_value",
    "hazard_ratio",
    "size_limit_mm",
    "mean",
    "sd",
    "median",
    "min",
    "max",
    "q1",
    "q3",
}
_INT = {
    "year",
    "volume",
    "numerator",
    "denominator",
    "n",
    "decimals",
    "gauge",
    "centres",
    "n_patients",
    "n_tumours",
    "n_lesions",
    "n_procedures",
    "n_sessions",
}
_BOOL = {"et_al", "approximate", "uncertain", "inconsistent", "all_dimensions", "p_below"}
_LISTS = {"authors": SL, "modalities": SL, "guidance": SL, "inclusion": SL, "size_bin_edges_mm": NL}


def _type_of(key: str) -> str:
    if key in _LISTS:
        return _LISTS[key]
    if key in _INT:
        return INT
    if key in _BOOL:
        return B
    return N if key in _NUMERIC or key.endswith("_mm") else S


def _is(value, kind: str) -> bool:
    if kind == INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == N:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind == B:
        return isinstance(value, bool)
    if kind in (SL, NL):
        return isinstance(value, list) and all(_is(v, S if kind == SL else N) for v in value)
    return isinstance(value, str) and value.strip() != ""


def _required(cls) -> list[str]:
    return [f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING]


def _decimals(raw) -> int:
    if isinstance(raw, int):
        return 0
    frac = repr(float(raw)).partition(".")[2]
    return 0 if "e" in frac else len(frac)


class _Reader:
    """Builds one record from a parsed TOML document, raising ScenarioError(path) with the field named."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, message: str):
        raise ScenarioError(message, self.path)

    def build(self, cls, entry, ctx: str, skip=()):
        if not isinstance(entry, dict):
            self.fail(f"{ctx} must be a table")
        names = [f.name for f in fields(cls) if f.name not in skip]
        for key in entry:
            if key not in names:
                if key.endswith(_NON_MM_SUFFIXES):
                    self.fail(f"{ctx}.{key}: lengths must be given in mm (convert, and use a '_mm' key)")
                self.fail(f"unknown key '{key}' in {ctx}; valid keys: {', '.join(sorted(names))}")
        for key in _required(cls):
            if key not in entry:
                self.fail(
                    f"{ctx} lacks '{key}'"
                    + (" (every figure says where in the document it comes from)" if key == "where" else "")
                )
        kwargs = {}
        for key, raw in entry.items():
            kind = _type_of(key)
            if not _is(raw, kind):
                self.fail(f"{ctx}.{key}={raw!r}: expected {kind}")
            kwargs[key] = (
                tuple(float(v) if kind == NL else v for v in raw)
                if kind in (SL, NL)
                else (float(raw) if kind == N else raw)
            )
        if cls is Outcome and "value" in entry and "decimals" not in entry:
            kwargs["decimals"] = _decimals(entry["value"])
        return cls(**kwargs)

    def flags(self, item, ctx: str):
        for flag in ("approximate", "uncertain", "inconsistent"):
            if getattr(item, flag, False) and not item.note:
                self.fail(f"{ctx}: {flag} = true needs a 'note' saying why")
        unit = getattr(item, "unit", None)
        if unit is not None and unit.strip().lower() in _NON_MM_LENGTHS:
            self.fail(f"{ctx}.unit={unit!r}: lengths must be given in mm (convert, e.g. 2.5 cm -> 25 mm)")
        if getattr(item, "per", None) is not None and item.per not in PER:
            self.fail(f"{ctx}.per={item.per!r}: expected one of {list(PER)}")

    def bins(self, item, ctx: str, edges: tuple):
        lo, hi = item.size_min_mm, item.size_max_mm
        if lo is not None and hi is not None and not lo < hi:
            self.fail(f"{ctx}: size_min_mm={lo:g} must be < size_max_mm={hi:g}")
        for key, bound in (("size_min_mm", lo), ("size_max_mm", hi)):
            if bound is not None and (bound < 0 or (edges and bound not in edges)):
                self.fail(f"{ctx}.{key}={bound:g}: expected >= 0 and one of study.size_bin_edges_mm {list(edges)}")

    def outcome(self, o: Outcome, ctx: str, edges: tuple):
        self.flags(o, ctx)
        self.bins(o, ctx, edges)
        if o.value is None and o.numerator is None:
            self.fail(f"{ctx} needs 'value' (with 'unit') or 'numerator' and 'denominator'")
        if (o.numerator is None) != (o.denominator is None):
            self.fail(f"{ctx}: give both 'numerator' and 'denominator' or neither")
        if o.value is not None and o.unit is None:
            self.fail(f"{ctx} has 'value' but no 'unit' (rates use unit = \"%\")")
        if o.at_years is not None and o.at_months is not None:
            self.fail(f"{ctx}: give 'at_years' or 'at_months', not both")
        if o.unit == "%" and o.value is not None and not 0 <= o.value <= 100:
            self.fail(f"{ctx}.value={o.value:g}: a percentage must lie in [0, 100]")
        if (o.ci_low is not None or o.ci_high is not None) and (
            o.value is None or o.ci_low is None or o.ci_high is None or not o.ci_low <= o.value <= o.ci_high
        ):
            self.fail(f"{ctx}: need ci_low <= value <= ci_high")
        if o.numerator is None or o.denominator is None:
            return
        if o.denominator <= 0 or o.numerator < 0:
            self.fail(f"{ctx}: need numerator >= 0 and denominator > 0")
        if o.numerator > o.denominator:
            self.fail(f"{ctx}: numerator={o.numerator} > denominator={o.denominator}")
        if o.value is None:
            return
        if o.unit != "%":
            self.fail(f"{ctx}: with numerator/denominator, 'value' must be the reported percentage (unit = \"%\")")
        tol = 0.5 * 10.0 ** -(o.decimals or 0) + 1e-9
        computed = o.computed_percent
        assert computed is not None
        diff = abs(computed - o.value)
        if diff > tol and not o.inconsistent:
            self.fail(
                f"{ctx}: value={o.value:g} % but {o.numerator}/{o.denominator} = {o.computed_percent:.3f} % "
                f"(allowed rounding +-{tol:.2g}); if the document really says so, set inconsistent = true "
                f"and a note"
            )
        if diff <= tol and o.inconsistent:
            self.fail(f"{ctx}: inconsistent = true but {o.numerator}/{o.denominator} agrees with {o.value:g} %")

    def stats(self, item, ctx: str, suffix: str):
        get = {k: getattr(item, k + suffix) for k in ("value", "mean", "sd", "median", "min", "max", "q1", "q3")}
        if all(v is None for v in get.values()):
            self.fail(f"{ctx} gives no figure (value, mean, median, min, max, ...{suffix})")
        lo, hi = get["min"], get["max"]
        if lo is not None and hi is not None and lo > hi:
            self.fail(f"{ctx}: min{suffix}={lo:g} > max{suffix}={hi:g}")
        for key in ("value", "mean", "median", "q1", "q3"):
            v = get[key]
            if v is not None and ((lo is not None and v < lo) or (hi is not None and v > hi)):
                self.fail(f"{ctx}.{key}{suffix}={v:g} lies outside min..max")
        if get["sd"] is not None and get["sd"] < 0:
            self.fail(f"{ctx}.sd{suffix} must be >= 0")
        q1, med, q3 = get["q1"], get["median"], get["q3"]
        if q1 is not None and q3 is not None and not q1 <= (q1 if med is None else med) <= q3:
            self.fail(f"{ctx}: need q1{suffix} <= median{suffix} <= q3{suffix}")

    def size(self, s: Size, ctx: str):
        self.flags(s, ctx)
        if s.unit != "mm":
            self.fail(f"{ctx}.unit={s.unit!r}: sizes are given in mm")
        if s.reported_unit not in (None, "mm", "cm"):
            self.fail(f"{ctx}.reported_unit={s.reported_unit!r}: expected 'mm' or 'cm'")
        self.stats(s, ctx, "_mm")
        if any(v is not None and v < 0 for v in (s.value_mm, s.mean_mm, s.median_mm, s.min_mm)):
            self.fail(f"{ctx}: lengths must be >= 0")


_TOP = {
    "schema_version",
    "id",
    "citation",
    "study",
    "outcomes",
    "characteristics",
    "sizes",
    "measures",
    "thresholds",
    "devices",
    "factors",
    "definitions",
    "references",
    "issues",
}
_LISTED = {
    "outcomes": Outcome,
    "characteristics": Outcome,
    "sizes": Size,
    "measures": Measure,
    "thresholds": Threshold,
    "devices": Device,
    "factors": Factor,
    "definitions": Definition,
    "references": Citation,
    "issues": Issue,
}


@dataclass(frozen=True)
class Record:
    """One source document's facts. Look figures up with :meth:`outcome`, :meth:`characteristic`, :meth:`size`,
    :meth:`measure`; ``thresholds`` holds its margin rules."""

    id: str
    path: Path
    citation: Citation
    study: Study
    outcomes: tuple = ()
    characteristics: tuple = ()
    sizes: tuple = ()
    measures: tuple = ()
    thresholds: tuple = ()
    devices: tuple = ()
    factors: tuple = ()
    definitions: tuple = ()
    references: tuple = ()
    issues: tuple = ()

    def _pick(self, what: str, items, name, group, at_years=None, per=None):
        named = [x for x in items if x.name == name]
        if not named:
            raise UnknownNameError(f"{self.id} {what}", name, {x.name for x in items})
        cands = [x for x in named if x.group == group]
        if not cands:
            raise UnknownNameError(
                f"{self.id} {what} '{name}' group",
                group,
                {x.group if x.group is not None else "None (overall)" for x in named},
            )
        if at_years is not None:
            cands = [x for x in cands if x.time_years is not None and abs(x.time_years - at_years) < 1e-9]
        if per is not None:
            cands = [x for x in cands if x.per == per]
        if len(cands) != 1:
            opts = sorted({(getattr(x, "time_years", None), x.per) for x in named if x.group == group}, key=str)
            raise ValidationError(
                f"{self.id} {what} '{name}'",
                {"group": group, "at_years": at_years, "per": per},
                f"{len(cands)} entries match; narrow with at_years=/per= among {opts}",
            )
        return cands[0]

    def outcome(
        self, name: str, group: str | None = None, *, at_years: float | None = None, per: str | None = None
    ) -> Outcome:
        """The outcome ``name`` for ``group`` (None: the whole cohort), at ``at_years`` where several are given."""
        return self._pick("outcome", self.outcomes, name, group, at_years, per)

    def characteristic(self, name: str, group: str | None = None, *, per: str | None = None) -> Outcome:
        return self._pick("characteristic", self.characteristics, name, group, None, per)

    def size(self, name: str, group: str | None = None) -> Size:
        return self._pick("size", self.sizes, name, group)

    def measure(self, name: str, group: str | None = None) -> Measure:
        return self._pick("measure", self.measures, name, group)

    def by_size(self, name: str, *, at_years: float | None = None) -> tuple:
        """The size-binned outcomes ``name`` (ascending), e.g. technique efficacy < 40 mm, >= 40 mm."""
        hits = [
            o
            for o in self.outcomes
            if o.name == name
            and (o.size_min_mm is not None or o.size_max_mm is not None)
            and (at_years is None or o.time_years == at_years)
        ]
        return tuple(sorted(hits, key=lambda o: -1.0 if o.size_min_mm is None else o.size_min_mm))


def load_record(path) -> Record:
    """Read and validate one record file."""
    path = Path(path)
    r = _Reader(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        r.fail(f"cannot read record: {exc}")
    unknown = set(doc) - _TOP
    if unknown:
        r.fail(f"unknown top-level key(s) {sorted(unknown)}; valid: {sorted(_TOP)}")
    if doc.get("schema_version") != SCHEMA_VERSION:
        r.fail(f"schema_version={doc.get('schema_version')!r}: expected {SCHEMA_VERSION}")
    if doc.get("id") != path.stem:
        r.fail(f"id={doc.get('id')!r}: must equal the file name stem {path.stem!r}")
    if "citation" not in doc:
        r.fail("lacks [citation] (every record cites its source document)")
    if "study" not in doc:
        r.fail("lacks [study]")
    cit = r.build(Citation, doc["citation"], "citation", skip=("relation",))
    if cit.source_kind is None:
        r.fail("citation lacks 'source_kind' (what the facts were taken from: article text, abstract page, ...)")
    if cit.title is None and cit.journal is None:
        r.fail("citation needs at least a 'title' or a 'journal'")
    study = r.build(Study, doc["study"], "study")
    if study.size_limit_op not in (None, *OPS) or (study.size_limit_op is None) != (study.size_limit_mm is None):
        r.fail(f"study: size_limit_mm and size_limit_op (one of {list(OPS)}) go together")
    edges = study.size_bin_edges_mm
    if any(e <= 0 for e in edges) or list(edges) != sorted(set(edges)):
        r.fail(f"study.size_bin_edges_mm={list(edges)}: expected increasing positive lengths in mm")
    for key in ("period_start", "period_end"):
        v = getattr(study, key)
        if v is not None and not re.fullmatch(r"\d{4}(-(0[1-9]|1[0-2]))?", v):
            r.fail(f"study.{key}={v!r}: expected 'YYYY' or 'YYYY-MM'")
    parts = {}
    for key, cls in _LISTED.items():
        entries = doc.get(key, [])
        if not isinstance(entries, list):
            r.fail(f"'{key}' must be an array of tables")
        items, seen = [], set()
        for i, entry in enumerate(entries):
            label = entry.get("name", entry.get("term", entry.get("factor"))) if isinstance(entry, dict) else None
            ctx = f"{key}[{i}]" + (f" ({label!r}, group={entry.get('group')!r})" if label else "")
            skip = ("source_kind",) if cls is Citation else ()
            item = r.build(cls, entry, ctx, skip=skip)
            if cls is Outcome:
                r.outcome(item, ctx, edges)
            elif cls is Size:
                r.size(item, ctx)
            elif cls is Measure:
                r.flags(item, ctx)
                r.bins(item, ctx, edges)
                r.stats(item, ctx, "")
            elif cls is Threshold:
                if item.op not in OPS or item.margin_mm < 0:
                    r.fail(f"{ctx}: need op in {list(OPS)} and margin_mm >= 0")
                if item.boundary == "isotherm" and item.isotherm_c is None:
                    r.fail(f"{ctx}: boundary 'isotherm' needs isotherm_c")
            elif cls is Factor and item.p_value is not None and not 0 < item.p_value <= 1:
                r.fail(f"{ctx}.p_value={item.p_value:g}: expected a number in (0, 1]")
            elif cls is Citation and item.relation is None:
                r.fail(f"{ctx} lacks 'relation' (how the document uses the reference)")
            elif cls is Issue and item.kind not in ISSUE_KINDS:
                r.fail(f"{ctx}.kind={item.kind!r}: expected one of {list(ISSUE_KINDS)}")
            if cls in (Outcome, Size, Measure):
                ident = (item.name, item.group, item.per, getattr(item, "time_years", None))
                if ident in seen:
                    r.fail(f"{ctx}: duplicate entry (same name, group, per and time point)")
                seen.add(ident)
            items.append(item)
        parts[key] = tuple(items)
    return Record(id=path.stem, path=path, citation=cit, study=study, **parts)


def records_dir() -> Path:
    """The folder of the records shipped with ablasim (``ablasim/data/literature``)."""
    return Path(str(resources.files("ablasim").joinpath("data/literature")))


def load_records(directory=None) -> dict[str, Record]:
    """All records in ``directory`` (default: the records shipped with ablasim, :func:`records_dir`), keyed by id,
    sorted."""
    folder = records_dir() if directory is None else Path(directory)
    if not folder.is_dir():
        raise ScenarioError("literature records directory not found", folder)
    files = sorted(folder.glob("*.toml"))
    if not files:
        raise ScenarioError("no record files (*.toml) in the literature records directory", folder)
    return {rec.id: rec for rec in map(load_record, files)}
