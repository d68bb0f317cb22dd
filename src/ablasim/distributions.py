"""Distributions of cohort and series parameters, each sampled by inverting its (truncated) CDF at one uniform number.

Inverse-CDF sampling consumes exactly one uniform per parameter, so a case's other numbers never shift when a
distribution changes. Supported (a TOML inline table with ``distribution = ...``):

* ``fixed``: ``value``
* ``uniform``: ``min``, ``max``
* ``normal``: ``mean``, ``sd``, optional ``min`` / ``max`` (truncation)
* ``lognormal``: ``median`` and either ``sigma`` (log-scale sd) or ``mean`` (then ``sigma = sqrt(2 ln(mean /
  median))``, which needs mean > median), optional ``min`` / ``max``. From a reported mean, median and range:
  ``{distribution = "lognormal", mean = 25, median = 22, min = 3, max = 78}``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._validation import as_float
from .errors import ValidationError

__all__ = ["Distribution", "parse_distribution"]

_KEYS = {
    "fixed": {"value"},
    "uniform": {"min", "max"},
    "normal": {"mean", "sd", "min", "max"},
    "lognormal": {"median", "sigma", "mean", "min", "max"},
}


@dataclass(frozen=True)
class Distribution:
    kind: str
    loc: float  # fixed: value; uniform: min; normal: mean; lognormal: log(median)
    scale: float  # uniform: max - min; normal: sd; lognormal: sigma
    lo: float = -math.inf  # truncation
    hi: float = math.inf

    def sample(self, u: float) -> float:
        """The value at probability ``u`` in [0, 1) of the (truncated) distribution."""
        if self.kind == "fixed":
            return self.loc
        if self.kind == "uniform":
            return self.loc + u * self.scale
        from scipy.special import ndtr, ndtri  # deferred: scipy.special adds ~0.1 s to every command's start

        to_z = (
            (lambda x: (x - self.loc) / self.scale)
            if self.kind == "normal"
            else (lambda x: (math.log(x) - self.loc) / self.scale if x > 0 else -math.inf)
        )
        p_lo = float(ndtr(to_z(self.lo))) if math.isfinite(self.lo) else 0.0
        p_hi = float(ndtr(to_z(self.hi))) if math.isfinite(self.hi) else 1.0
        z = float(ndtri(p_lo + u * (p_hi - p_lo))) if p_hi > p_lo else to_z(self.lo)
        x = self.loc + self.scale * z
        x = math.exp(x) if self.kind == "lognormal" else x
        return min(max(x, self.lo), self.hi)

    def mean_estimate(self, n: int = 20001) -> float:
        """Mean of the (truncated) distribution by midpoint quadrature in probability."""
        u = (np.arange(n) + 0.5) / n
        return float(np.mean([self.sample(v) for v in u]))


def parse_distribution(table, field: str, *, positive: bool = False) -> Distribution:
    """A Distribution from a TOML value: a number (fixed) or an inline table with ``distribution``."""
    if not isinstance(table, dict):
        v = as_float(table, field, positive=positive)
        return Distribution("fixed", v, 0.0)
    kind = table.get("distribution")
    if kind not in _KEYS:
        raise ValidationError(f"{field}.distribution", kind, f"expected one of {sorted(_KEYS)}")
    extra = sorted(set(table) - _KEYS[kind] - {"distribution"})
    if extra:
        raise ValidationError(field, extra, f"unknown key(s) for a {kind} distribution; valid: {sorted(_KEYS[kind])}")

    def need(key, **kw):
        if key not in table:
            raise ValidationError(f"{field}.{key}", None, f"required for a {kind} distribution")
        return as_float(table[key], f"{field}.{key}", **kw)

    lo = as_float(table["min"], f"{field}.min") if "min" in table else -math.inf
    hi = as_float(table["max"], f"{field}.max") if "max" in table else math.inf
    if "min" in table and "max" in table and not lo < hi:
        raise ValidationError(f"{field}.max", table["max"], f"must exceed min ({table['min']}): the range is empty")
    if kind == "fixed":
        d = Distribution("fixed", need("value", positive=positive), 0.0)
    elif kind == "uniform":
        lo, hi = need("min"), need("max")
        if not lo < hi:
            raise ValidationError(f"{field}.max", hi, f"must exceed min ({lo}): the range is empty")
        d = Distribution("uniform", lo, hi - lo, lo, hi)
    elif kind == "normal":
        d = Distribution("normal", need("mean"), need("sd", positive=True), lo, hi)
    else:
        median = need("median", positive=True)
        if "sigma" in table and "mean" in table:
            raise ValidationError(field, sorted(table), "give sigma or mean for a lognormal, not both")
        if "sigma" in table:
            sigma = need("sigma", positive=True)
        else:
            mean = need("mean", positive=True)
            if not mean > median:
                raise ValidationError(f"{field}.mean", mean, f"must exceed the median ({median}) for a lognormal")
            sigma = math.sqrt(2.0 * math.log(mean / median))
        d = Distribution("lognormal", math.log(median), sigma, max(lo, 0.0), hi)
    if positive and d.kind != "fixed" and not (d.lo >= 0 and d.sample(0.0) > 0):
        raise ValidationError(f"{field}.min", table.get("min"), "must be set so that every value is > 0")
    return d
