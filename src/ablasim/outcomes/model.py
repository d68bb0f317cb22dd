"""The outcome model: probability of local control from the margin on the lethal isotherm and the coverage.

Functional form (docs/validation.md, "Outcome model"):

* A tumour the lethal zone covers entirely (coverage 1, lethal margin ``m >= 0``) is controlled at 2 years with
  ``P2(m) = sigmoid(beta0 + delta + beta1 * m)``: logistic in the minimal margin, as the margin-outcome data are
  binned (Wang X et al. 2013, ``data/outcomes/margin_outcome.toml``). ``beta0`` and ``beta1`` are fitted on those
  data (:mod:`ablasim.outcomes.fit`); ``delta`` shifts the logit from that population (radiofrequency ablation of
  colorectal liver metastases) to the series simulated, and is fitted on one pooled number (``fit_predict.toml``).
* At another time ``t`` the cumulative hazard of local progression scales with a time course ``g(t) = H(t) /
  H(2 y)``: ``P(t | m) = P2(m) ** g(t)``, ``g`` from the cryoablation arm of a randomised trial (:class:`TimeCourse`).
* Coverage < 1 (``m < 0``): tumour outside the lethal zone is viable residual tumour, a local failure at the first
  follow-up: ``P(t | m) = 0`` for every ``t > 0``. This is the explicit treatment of incomplete coverage; it makes the
  lethal offset (how far inside the visible ice edge cells reliably die) a decisive input.

Every function is vectorised over margins and over parameter draws (arrays of ``beta0``, ``beta1``, ``delta`` of
shape ``(B,)`` give results of shape ``(B, N)`` for ``N`` margins).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validation import as_float
from ..errors import ValidationError

__all__ = ["OutcomeModel", "TimeCourse", "logit", "sigmoid"]

REFERENCE_YEARS = 2.0  # the time point of the margin-outcome data


def sigmoid(x):
    """The logistic function, overflow-free."""
    x = np.asarray(x, dtype=float)
    return np.exp(-np.logaddexp(0.0, -x))


def logit(p):
    p = np.asarray(p, dtype=float)
    return np.log(p) - np.log1p(-p)


@dataclass(frozen=True)
class TimeCourse:
    """``g(t) = H(t) / H(2 y)``: linear from 0 at ``t = 0`` to the first point, piecewise linear between the points,
    constant after the last. ``at_years`` must include 2 (where ``g = 1``)."""

    at_years: tuple
    share: tuple
    label: str = ""

    def __post_init__(self):
        t = np.asarray(self.at_years, dtype=float)
        g = np.asarray(self.share, dtype=float)
        if t.ndim != 1 or t.shape != g.shape or len(t) == 0 or np.any(np.diff(t) <= 0) or t[0] <= 0:
            raise ValidationError("time_course.at_years", self.at_years, "expected increasing positive times")
        if not np.any(np.isclose(t, REFERENCE_YEARS)) or not np.isclose(g[np.isclose(t, REFERENCE_YEARS)][0], 1.0):
            raise ValidationError("time_course", self.share, f"g must equal 1 at {REFERENCE_YEARS:g} years")
        if np.any(g < 0) or np.any(np.diff(g) < -1e-12):
            raise ValidationError("time_course.share", self.share, "a cumulative hazard share cannot decrease")

    @classmethod
    def from_progression(cls, percent, at_years, label: str = "") -> TimeCourse:
        """From cumulative local-progression percentages at ``at_years``: ``g = ln(1 - p(t)) / ln(1 - p(2 y))``."""
        p = np.asarray(percent, dtype=float) / 100.0
        t = np.asarray(at_years, dtype=float)
        if p.shape != t.shape or np.any(p <= 0) or np.any(p >= 1):
            raise ValidationError("local_progression_percent", percent, "expected percentages in (0, 100), one a time")
        ref = np.isclose(t, REFERENCE_YEARS)
        if not ref.any():
            raise ValidationError("at_years", at_years, f"must include {REFERENCE_YEARS:g} years")
        g = np.log1p(-p) / np.log1p(-p[ref][0])
        return cls(tuple(float(v) for v in t), tuple(float(v) for v in g), label)

    def g(self, years) -> np.ndarray:
        t = np.asarray(years, dtype=float)
        if np.any(t < 0):
            raise ValidationError("at_years", years, "expected times >= 0")
        return np.interp(t, np.r_[0.0, self.at_years], np.r_[0.0, self.share])


@dataclass(frozen=True)
class OutcomeModel:
    """Local control as a function of the lethal margin (mm); parameters may be arrays of draws."""

    beta0: object
    beta1: object
    delta: object = 0.0
    time_course: TimeCourse | None = None

    def _params(self):
        b0, b1, d = (np.asarray(v, dtype=float) for v in (self.beta0, self.beta1, self.delta))
        b0, b1, d = np.broadcast_arrays(b0, b1, d)
        if not (np.all(np.isfinite(b0)) and np.all(np.isfinite(b1)) and np.all(np.isfinite(d))):
            raise ValidationError("outcome model", (self.beta0, self.beta1, self.delta), "parameters must be finite")
        if b0.ndim == 0:
            return b0, b1, d
        return b0[..., None], b1[..., None], d[..., None]

    def control_2y(self, margin_mm) -> np.ndarray:
        """P(local control at 2 years) for lethal margins ``margin_mm`` (0 where the margin is negative)."""
        m = np.asarray(margin_mm, dtype=float)
        b0, b1, d = self._params()
        p = sigmoid(b0 + d + b1 * np.maximum(m, 0.0))
        return np.where(m >= 0.0, p, 0.0)

    def control(self, margin_mm, at_years: float, coverage=None) -> np.ndarray:
        """P(no local failure by ``at_years``) for lethal margins ``margin_mm``.

        ``coverage`` (optional, same shape): the tumour fraction inside the lethal zone; below 1 the case is a
        failure whatever the margin says (the two agree for exact measurements: coverage < 1 exactly when the
        margin is negative).
        """
        t = as_float(at_years, "at_years", nonnegative=True)
        if self.time_course is None and not math.isclose(t, REFERENCE_YEARS):
            raise ValidationError("time_course", None, f"needed for times other than {REFERENCE_YEARS:g} years")
        m = np.asarray(margin_mm, dtype=float)
        if coverage is not None:
            m = np.where(np.asarray(coverage, dtype=float) < 1.0 - 1e-9, np.minimum(m, -1e-12), m)
        g = 1.0 if self.time_course is None else float(self.time_course.g(t))
        p2 = self.control_2y(m)
        if t == 0.0:
            return np.ones_like(p2)
        with np.errstate(divide="ignore"):
            return np.where(p2 > 0.0, np.exp(g * np.log(np.where(p2 > 0.0, p2, 1.0))), 0.0)
