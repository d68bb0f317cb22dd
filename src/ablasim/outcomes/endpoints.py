"""Endpoints of a virtual series: the prediction for each, and the reported number it is compared with.

Kinds (``kind`` in the series file):

* ``control``: P(no local failure by ``at_years``), the mean of :meth:`OutcomeModel.control` over the cases;
* ``progression``: 1 minus that (local tumour progression over the follow-up, residual tumour included);
* ``technical_success``: the share of cases whose zone the operator reads as covering the tumour at the end of the
  procedure (read margin >= 0);
* ``relative_risk``: P(progression by ``at_years``) among cases read below ``threshold_mm`` over that among the
  others (the record reports an association without an effect size); undefined (nan) with fewer than
  ``MIN_GROUP`` cases in a group;
* ``cycles``: freeze-thaw cycles to the rule's margin, from the bioheat solver (:mod:`ablasim.workflows.validate`).

A record's outcome restricted to a size range (``size_min_mm`` / ``size_max_mm``) restricts the cases to the same
range of the tumour's largest diameter; ``arms`` restricts them to some arms.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ValidationError
from ..stats import wilson
from .model import OutcomeModel

__all__ = ["MIN_GROUP", "Reported", "case_mask", "failure_rate", "predict", "reported"]

MIN_GROUP = 5  # a relative risk needs at least this many cases in each group


@dataclass(frozen=True)
class Reported:
    """The number a source document reports for an endpoint (rates as fractions)."""

    value: float | None
    low: float | None
    high: float | None
    n: int | None
    k: int | None
    interval: str  # how low / high were obtained
    text: str
    notes: tuple = field(default_factory=tuple)


def _source_item(endpoint, record):
    if endpoint.outcome is not None:
        return record.outcome(endpoint.outcome, endpoint.group, at_years=endpoint.at_years_record)
    if endpoint.measure is not None:
        return record.measure(endpoint.measure, endpoint.group)
    return next(f for f in record.factors if f.factor == endpoint.factor)


def reported(endpoint, record) -> Reported:
    """The reported value of ``endpoint`` from its literature ``record``, with a 95 % interval where one can be
    given: the record's own interval, else Wilson's for a count (or for a rate with an assumed denominator)."""
    item = _source_item(endpoint, record)
    notes = [v for k, v in endpoint.notes.items() if k in ("denominator_source", "time_source")]
    if endpoint.kind == "relative_risk":
        return Reported(None, None, None, None, None, "none", f"{item.effect} ({item.analysis})", tuple(notes))
    if endpoint.kind == "cycles":
        n = endpoint.denominator_assumed
        half = 1.96 * item.sd / np.sqrt(n) if n and item.sd is not None else None
        lo, hi = (None, None) if half is None else (item.mean - half, item.mean + half)
        text = f"{item.mean:g} +- {item.sd:g} (range {item.min:g}-{item.max:g})"
        return Reported(float(item.mean), lo, hi, n, None, "mean +- 1.96 sd / sqrt(n)", text, tuple(notes))
    p = item.fraction
    if item.approximate:
        notes.append(f"approximate: {item.note}" if item.note else "approximate")
    if item.ci_low is not None and item.ci_high is not None:
        lo, hi = item.ci_low / 100.0, min(item.ci_high / 100.0, 1.0)
        return Reported(p, lo, hi, None, None, "reported 95 % CI", f"{100 * p:.1f} %", tuple(notes))
    n = item.denominator if item.denominator is not None else endpoint.denominator_assumed
    if n is None:
        return Reported(p, None, None, None, None, "none (no denominator)", f"{100 * p:g} %", tuple(notes))
    k = item.numerator if item.numerator is not None else round(p * n)
    _, lo, hi = wilson(k, n)
    assumed = "" if item.denominator is not None else " (assumed n)"
    return Reported(p, lo, hi, n, k, f"Wilson 95 %{assumed}", f"{k}/{n} = {100 * p:.1f} %", tuple(notes))


def case_mask(endpoint, spec, table: dict, record) -> np.ndarray:
    """Which cases an endpoint counts: its arms, and the size range of the record's outcome."""
    mask = np.ones(len(table["case"]), dtype=bool)
    if endpoint.arms is not None:
        idx = [i for i, a in enumerate(spec.arms) if a.name in endpoint.arms]
        mask &= np.isin(table["arm"], idx)
    if endpoint.outcome is not None:
        item = record.outcome(endpoint.outcome, endpoint.group, at_years=endpoint.at_years_record)
        d = np.asarray(table["diameter_mm"])
        if item.size_min_mm is not None:
            mask &= d >= item.size_min_mm
        if item.size_max_mm is not None:
            mask &= d < item.size_max_mm
    return mask


def _mean(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    cnt = mask.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, (values * mask).sum(axis=-1) / cnt, np.nan)


def predict(endpoint, fin, mask: np.ndarray, model: OutcomeModel, idx: np.ndarray | None = None) -> np.ndarray:
    """The predicted value of ``endpoint`` (not ``cycles``): shape ``(B,)`` for parameter draws of shape ``(B,)``
    and case resamples ``idx`` of shape ``(B, N)`` (None: every case once, ``B = 1``)."""
    if idx is None:
        idx = np.arange(len(mask))[None, :]
    sel = mask[idx]
    lethal = fin.lethal_margin_mm[idx]
    if endpoint.kind == "technical_success":
        return _mean((fin.read_margin_mm[idx] >= 0.0).astype(float), sel)
    if endpoint.kind in ("control", "progression"):
        c = _mean(model.control(lethal, endpoint.at_years), sel)
        return c if endpoint.kind == "control" else 1.0 - c
    if endpoint.kind == "relative_risk":
        fail = 1.0 - model.control(lethal, endpoint.at_years)
        low = fin.read_margin_mm[idx] < endpoint.threshold_mm
        a, b = sel & low, sel & ~low
        with np.errstate(invalid="ignore", divide="ignore"):
            rr = _mean(fail, a) / _mean(fail, b)
        # too few cases in a group for a ratio: undefined
        return np.where((a.sum(axis=-1) >= MIN_GROUP) & (b.sum(axis=-1) >= MIN_GROUP), rr, np.nan)
    raise ValidationError("endpoint.kind", endpoint.kind, "predicted by the validation workflow (bioheat solver)")


def failure_rate(endpoint, fin, mask, model_for_delta, idx=None):
    """``delta -> predicted failure rate`` of a ``control`` or ``progression`` endpoint, for :func:`fit_delta`;
    ``model_for_delta(delta)`` builds the model at the shifts ``delta`` (shape ``(B,)``)."""
    if endpoint.kind not in ("control", "progression"):
        raise ValidationError("fitted endpoint", endpoint.id, "must be a control or progression rate")

    def rate(delta):
        v = predict(endpoint, fin, mask, model_for_delta(delta), idx)
        return v if endpoint.kind == "progression" else 1.0 - v

    return rate
