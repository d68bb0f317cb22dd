"""Fit, bootstrap and predict: the statistics of the validation, on series whose geometry has already run.

* ``beta`` (:func:`ablasim.outcomes.fit.bootstrap_margin_curve`): point fit and parametric-bootstrap draws on the
  margin-outcome data.
* ``delta``: fitted on the one pooled number ``fit_predict.toml`` names, for the point estimate and again for every
  bootstrap draw (with that draw's ``beta``, a resample of the series' cases and a binomial redraw of the pooled
  number), so each prediction's interval carries the uncertainty of the fit data, of the pooled number and the
  Monte-Carlo error of the virtual series.
* Predictions: the point value at the point fit on all cases; the 95 % interval: 2.5 and 97.5 percentiles over the
  draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...errors import ValidationError
from ...literature.records import Record
from ...outcomes.endpoints import case_mask, failure_rate, predict, reported
from ...outcomes.fit import fit_delta
from ...outcomes.model import OutcomeModel
from ...outcomes.monitor import Finished, Overrides, finish_cases
from ...outcomes.series import SeriesSpec

__all__ = ["Fitted", "SeriesRun", "fit_and_predict", "model_for", "point_predictions", "prepare"]


@dataclass
class SeriesRun:
    spec: SeriesSpec
    record: Record
    table: dict
    fin: Finished
    masks: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.table["case"])


def prepare(spec, record, table: dict, overrides: Overrides | None = None) -> SeriesRun:
    fin = finish_cases(spec, table, overrides)
    masks = {e.id: case_mask(e, spec, table, record) for e in spec.endpoints}
    return SeriesRun(spec, record, table, fin, masks)


def model_for(beta, delta, time_course) -> OutcomeModel:
    b = np.asarray(beta, dtype=float)
    return OutcomeModel(b[..., 0], b[..., 1], delta, time_course)


def _fitted_endpoint(runs, split):
    eps = split.fitted_endpoints
    if len(eps) != 1:
        raise ValidationError("fit_predict.parameters", eps, "expected exactly one pooled number for delta")
    for r in runs:
        for e in r.spec.endpoints:
            if e.id == eps[0]:
                return r, e
    raise ValidationError("fit_predict", eps[0], "no series defines this endpoint")


def _failures(endpoint, record) -> tuple[int, int]:
    rep = reported(endpoint, record)
    if rep.n is None or rep.k is None:
        raise ValidationError("fitted endpoint", endpoint.id, "needs a count (numerator / denominator)")
    return (rep.k, rep.n) if endpoint.kind == "progression" else (rep.n - rep.k, rep.n)


def fit_delta_point(runs, split, beta, time_course) -> tuple[float, bool]:
    run, ep = _fitted_endpoint(runs, split)
    k, n = _failures(ep, run.record)
    rate = failure_rate(ep, run.fin, run.masks[ep.id], lambda d: model_for(beta, d, time_course))
    d, bound = fit_delta(rate, k, n)
    return float(d[0]), bool(bound[0])


def point_predictions(runs, split, beta, time_course) -> tuple[dict, float, bool]:
    """Every endpoint's point prediction (cycles excluded) after refitting ``delta``: (values, delta, at bound)."""
    delta, bound = fit_delta_point(runs, split, beta, time_course)
    model = model_for(beta, delta, time_course)
    out = {}
    for r in runs:
        for e in r.spec.endpoints:
            if e.kind != "cycles":
                out[e.id] = float(predict(e, r.fin, r.masks[e.id], model)[0])
    return out, delta, bound


@dataclass(frozen=True)
class Fitted:
    beta: np.ndarray  # (2,)
    beta_draws: np.ndarray  # (B, 2)
    delta: float
    delta_at_bound: bool
    delta_draws: np.ndarray  # (B,)
    delta_draws_at_bound: int
    predictions: dict  # endpoint id -> (point, draws (B,))


def fit_and_predict(runs, split, beta, beta_draws, time_course, seed: int) -> Fitted:
    rng = np.random.default_rng(seed)
    b = len(beta_draws)
    idx = {r.spec.id: rng.integers(0, r.n, size=(b, r.n)) for r in runs}
    delta, bound = fit_delta_point(runs, split, beta, time_course)
    run, ep = _fitted_endpoint(runs, split)
    k, n = _failures(ep, run.record)
    k_draws = rng.binomial(n, k / n, size=b)
    rate = failure_rate(
        ep, run.fin, run.masks[ep.id], lambda d: model_for(beta_draws, d, time_course), idx[run.spec.id]
    )
    d_draws, d_bound = fit_delta(rate, k_draws, n)
    point = model_for(beta, delta, time_course)
    draws = model_for(beta_draws, d_draws, time_course)
    preds = {}
    for r in runs:
        for e in r.spec.endpoints:
            if e.kind == "cycles":
                continue
            p = float(predict(e, r.fin, r.masks[e.id], point)[0])
            preds[e.id] = (p, predict(e, r.fin, r.masks[e.id], draws, idx[r.spec.id]))
    return Fitted(beta, beta_draws, delta, bound, d_draws, int(d_bound.sum()), preds)
