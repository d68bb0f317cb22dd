"""Readers of the outcome data files (``ablasim/data/outcomes/``): the margin-outcome fit data and time course, the
fit / predict split and the sensitivity items. Every problem raises :class:`ablasim.errors.ScenarioError` naming the
file and field, before any work starts."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ..errors import ScenarioError, ValidationError
from .model import TimeCourse

__all__ = [
    "FitPredictSplit",
    "MarginBin",
    "MarginOutcomeData",
    "Parameter",
    "SensitivityItem",
    "load_fit_predict",
    "load_margin_outcome",
    "load_sensitivity",
    "read_toml",
]


def read_toml(name: str, path=None) -> tuple[dict, str]:
    """The TOML document ``data/outcomes/<name>`` shipped with ablasim (or ``path``), and where it came from."""
    if path is not None:
        p = Path(path)
        where, raw = str(p), None
        try:
            raw = p.read_bytes()
        except OSError as exc:
            raise ScenarioError(f"cannot read ({exc.strerror})", p) from None
    else:
        where = f"ablasim/data/outcomes/{name}"
        raw = resources.files("ablasim").joinpath(f"data/outcomes/{name}").read_bytes()
    try:
        return tomllib.loads(raw.decode("utf-8")), where
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"not valid TOML: {exc}", where) from None


def _need(table: dict, key: str, where: str, field: str):
    if not isinstance(table, dict) or key not in table:
        raise ScenarioError(f"{field}.{key}: required", where)
    return table[key]


@dataclass(frozen=True)
class MarginBin:
    label: str
    margins_mm: tuple  # the integer margins the category names
    rate: float  # 2-year local-progression-free rate, in [0, 1]


@dataclass(frozen=True)
class MarginOutcomeData:
    """The margin-outcome fit data, the slope check and the time courses (``margin_outcome.toml``)."""

    bins: tuple
    n_tumours: int
    at_years: float
    source: str
    assumption: str
    check_rr: tuple  # (relative risk, ci_low, ci_high)
    check_source: str
    time_course: TimeCourse
    time_course_alternative: TimeCourse
    time_course_source: str


@lru_cache(maxsize=4)
def load_margin_outcome(path=None) -> MarginOutcomeData:
    doc, where = read_toml("margin_outcome.toml", path)
    fd = _need(doc, "fit_data", where, "")
    bins = []
    for i, b in enumerate(_need(fd, "bins", where, "fit_data")):
        ms = _need(b, "margins_mm", where, f"fit_data.bins[{i}]")
        rate = _need(b, "rate_percent", where, f"fit_data.bins[{i}]")
        if not ms or not all(isinstance(m, int) and m >= 0 for m in ms) or not 0 < rate < 100:
            raise ScenarioError(f"fit_data.bins[{i}]: expected integer margins >= 0 and a rate in (0, 100)", where)
        bins.append(MarginBin(str(b.get("label", "")), tuple(float(m) for m in ms), rate / 100.0))
    n = _need(fd, "n_tumours", where, "fit_data")
    if isinstance(n, bool) or not isinstance(n, int) or n < len(bins):
        raise ScenarioError(f"fit_data.n_tumours={n!r}: expected an integer >= the number of bins", where)
    cd = _need(doc, "check_data", where, "")
    tc = _need(doc, "time_course", where, "")
    alt = _need(tc, "alternative", where, "time_course")
    try:
        base = TimeCourse.from_progression(tc["local_progression_percent"], tc["at_years"], str(tc.get("arm", "")))
        other = TimeCourse.from_progression(alt["local_progression_percent"], alt["at_years"], str(alt.get("arm", "")))
    except (KeyError, ValidationError) as exc:
        raise ScenarioError(f"time_course: {exc}", where) from None
    return MarginOutcomeData(
        tuple(bins),
        n,
        float(_need(fd, "at_years", where, "fit_data")),
        str(_need(fd, "source", where, "fit_data")),
        str(fd.get("assumption", "")),
        (float(cd["relative_risk"]), float(cd["ci_low"]), float(cd["ci_high"])),
        str(_need(cd, "source", where, "check_data")),
        base,
        other,
        str(_need(tc, "source", where, "time_course")),
    )


@dataclass(frozen=True)
class Parameter:
    name: str
    meaning: str
    fitted_on: str
    source_document: str
    endpoint: str | None = None  # the series endpoint (pooled number) it is fitted on, if any


@dataclass(frozen=True)
class FitPredictSplit:
    parameters: tuple
    predictions: tuple  # endpoint ids
    checks: tuple

    @property
    def fitted_endpoints(self) -> tuple:
        return tuple(p.endpoint for p in self.parameters if p.endpoint is not None)

    def check(self, endpoint_ids) -> None:
        """Refuse a split that breaks its own rules (module docstring of ``fit_predict.toml``)."""
        fitted = set(self.fitted_endpoints)
        both = fitted & set(self.predictions)
        if both:
            raise ValidationError("fit_predict.predictions", sorted(both), "a fitted number cannot be a prediction")
        docs: dict[str, list] = {}
        for p in self.parameters:
            docs.setdefault(p.source_document, []).append(p)
        for doc, ps in docs.items():
            if len(ps) > 2:
                raise ValidationError(f"fit_predict ({doc})", [p.name for p in ps], "at most two parameters")
            if len({p.endpoint for p in ps}) > 1:
                raise ValidationError(f"fit_predict ({doc})", [p.endpoint for p in ps], "one pooled number")
        known = set(endpoint_ids)
        missing = known - fitted - set(self.predictions)
        if missing:
            raise ValidationError("fit_predict.predictions", sorted(missing), "endpoints neither fitted nor predicted")
        unknown = (fitted | set(self.predictions)) - known
        if unknown:
            raise ValidationError("fit_predict", sorted(unknown), "names endpoints no series file defines")


@lru_cache(maxsize=4)
def load_fit_predict(path=None) -> FitPredictSplit:
    doc, where = read_toml("fit_predict.toml", path)
    params = []
    for i, p in enumerate(_need(doc, "parameters", where, "")):
        f = f"parameters[{i}]"
        params.append(
            Parameter(
                str(_need(p, "name", where, f)),
                str(_need(p, "meaning", where, f)),
                str(_need(p, "fitted_on", where, f)),
                str(_need(p, "source_document", where, f)),
                p.get("endpoint"),
            )
        )
    pred = _need(doc, "predictions", where, "")
    return FitPredictSplit(
        tuple(params),
        tuple(str(e) for e in _need(pred, "endpoints", where, "predictions")),
        tuple(pred.get("checks", [])),
    )


@dataclass(frozen=True)
class SensitivityItem:
    name: str
    kind: str  # "post" | "geometry"
    parameter: str
    low: object
    high: object
    base: str
    source: str


_PARAMETERS = {
    "post": (
        "lethal_offset_mm",
        "visible_margin_sd_mm",
        "p_near",
        "cap_max_mm",
        "gain_mm",
        "assumed_target_mm",
        "time_course",
    ),
    "geometry": ("delivery_scale", "size_scale"),
}


@lru_cache(maxsize=4)
def load_sensitivity(path=None) -> tuple:
    doc, where = read_toml("sensitivity.toml", path)
    out = []
    for i, it in enumerate(_need(doc, "items", where, "")):
        f = f"items[{i}]"
        kind = _need(it, "kind", where, f)
        par = _need(it, "parameter", where, f)
        if kind not in _PARAMETERS or par not in _PARAMETERS[kind]:
            raise ScenarioError(f"{f}: unknown kind / parameter {kind!r} / {par!r}; valid: {_PARAMETERS}", where)
        out.append(
            SensitivityItem(
                str(_need(it, "name", where, f)),
                kind,
                par,
                _need(it, "low", where, f),
                _need(it, "high", where, f),
                str(it.get("base", "")),
                str(it.get("source", "")),
            )
        )
    return tuple(out)
