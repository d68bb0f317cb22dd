"""Maximum-likelihood fits of the outcome model and their parametric bootstrap.

* :func:`fit_margin_curve`: ``beta0``, ``beta1`` of ``sigmoid(beta0 + beta1 m)`` on binned margin-outcome data. A bin
  names the integer margins it holds (``1-5 mm``: 1, 2, 3, 4, 5); its probability is the mean of the curve over them
  (margins equally likely inside a bin), and its count of controlled tumours is binomial. Fisher scoring, batched
  over many data sets at once (the bootstrap refits hundreds).
* :func:`bootstrap_margin_curve`: the published data give rates but no tumours per bin; the point fit assumes an
  equal split, and each bootstrap draw takes a split from a multinomial and the controlled counts from binomials at
  the fitted curve, then refits (``margin_outcome.toml`` states the assumption).
* :func:`fit_delta`: the logit shift that makes a predicted pooled failure rate equal a reported one (maximum
  likelihood for one binomial number and one monotone parameter), batched bisection.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ValidationError
from .data import MarginOutcomeData
from .model import logit, sigmoid

__all__ = ["MarginFit", "bootstrap_margin_curve", "fit_delta", "fit_margin_curve", "relative_risk_below"]

_EPS = 1e-12


def _design(bins_margins) -> tuple[np.ndarray, np.ndarray]:
    """(K, J) member margins padded with 0 and the (K, J) mask of real members."""
    k = len(bins_margins)
    j = max(len(b) for b in bins_margins)
    x = np.zeros((k, j))
    w = np.zeros((k, j))
    for i, b in enumerate(bins_margins):
        x[i, : len(b)] = b
        w[i, : len(b)] = 1.0 / len(b)
    return x, w


def _bin_probs(beta: np.ndarray, x: np.ndarray, w: np.ndarray):
    """p (B, K) and dp/dbeta (B, K, 2) for parameters beta (B, 2)."""
    eta = np.clip(beta[:, 0, None, None] + beta[:, 1, None, None] * x[None], -40.0, 40.0)
    s = sigmoid(eta)
    p = np.sum(w * s, axis=2)
    ds = w * s * (1.0 - s)
    dp = np.stack([ds.sum(axis=2), (ds * x[None]).sum(axis=2)], axis=-1)
    return np.clip(p, _EPS, 1 - _EPS), dp


def _loglik(p, y, n):
    return np.sum(y * np.log(p) + (n - y) * np.log1p(-p), axis=1)


@dataclass(frozen=True)
class MarginFit:
    beta: np.ndarray  # (B, 2)
    converged: np.ndarray  # (B,) bool
    loglik: np.ndarray  # (B,)


def fit_margin_curve(bins_margins, controlled, n, *, max_iter: int = 200, tol: float = 1e-10) -> MarginFit:
    """Fit ``sigmoid(beta0 + beta1 m)`` to binned data by maximum likelihood.

    ``bins_margins``: for each bin, the margins (mm) it holds, equally likely. ``controlled`` and ``n``: counts per
    bin, shape ``(K,)`` for one data set or ``(B, K)`` for ``B`` data sets fitted together (non-integer expected
    counts are allowed). Returns a :class:`MarginFit` with ``beta`` of shape ``(B, 2)``.
    """
    x, w = _design([np.asarray(b, dtype=float) for b in bins_margins])
    y = np.atleast_2d(np.asarray(controlled, dtype=float))
    nn = np.atleast_2d(np.asarray(n, dtype=float))
    y, nn = np.broadcast_arrays(y, nn)
    if y.shape[1] != len(x):
        raise ValidationError("controlled", y.shape, f"expected {len(x)} bins")
    if np.any(nn < 0) or np.any(y < 0) or np.any(y > nn):
        raise ValidationError("controlled", controlled, "expected 0 <= controlled <= n in every bin")
    # start: weighted least squares of the empirical logits on the bin mean margins
    rate = (y + 0.5) / (nn + 1.0)
    z = logit(rate)
    xm = np.sum(w * x, axis=1)
    wt = nn + 1e-9
    xbar = np.sum(wt * xm, axis=1) / wt.sum(axis=1)
    zbar = np.sum(wt * z, axis=1) / wt.sum(axis=1)
    sxx = np.sum(wt * (xm - xbar[:, None]) ** 2, axis=1)
    b1 = np.where(sxx > 0, np.sum(wt * (xm - xbar[:, None]) * (z - zbar[:, None]), axis=1) / np.maximum(sxx, 1e-12), 0)
    beta = np.stack([zbar - b1 * xbar, b1], axis=1)
    p, dp = _bin_probs(beta, x, w)
    ll = _loglik(p, y, nn)
    done = np.zeros(len(beta), dtype=bool)
    for _ in range(max_iter):
        v = p * (1 - p)
        score = np.sum(((y - nn * p) / v)[..., None] * dp, axis=1)
        info = np.einsum("bk,bki,bkj->bij", nn / v, dp, dp) + 1e-10 * np.eye(2)
        step = np.linalg.solve(info, score[..., None])[..., 0]
        step[done] = 0.0
        t = np.ones(len(beta))
        for _ in range(30):  # step halving: never lower the likelihood
            cand = beta + t[:, None] * step
            pc, dpc = _bin_probs(cand, x, w)
            llc = _loglik(pc, y, nn)
            bad = llc < ll - 1e-12
            if not bad.any():
                break
            t = np.where(bad, t / 2, t)
        beta, p, dp, gain = cand, pc, dpc, llc - ll
        ll = llc
        done |= (np.abs(t[:, None] * step).max(axis=1) < tol) | (np.abs(gain) < 1e-14)
        if done.all():
            break
    return MarginFit(beta, done & np.all(np.isfinite(beta), axis=1), ll)


def bootstrap_margin_curve(data: MarginOutcomeData, n_draws: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The point fit ``(2,)`` and ``n_draws`` parametric-bootstrap refits ``(B, 2)`` of the margin-outcome data.

    Point fit: the tumours split equally between the bins, controlled counts = rate x bin size. Each draw: a split
    from ``multinomial(n_tumours, equal)``, controlled counts from binomials at the point fit, a refit. Draws that
    fail to converge (a split leaving the slope undetermined) are replaced by new draws.
    """
    margins = [b.margins_mm for b in data.bins]
    k = len(margins)
    n_eq = np.full(k, data.n_tumours / k)
    point = fit_margin_curve(margins, n_eq * np.array([b.rate for b in data.bins]), n_eq)
    if not point.converged[0]:
        raise ValidationError("margin-outcome data", data.source, "the point fit did not converge")
    beta_hat = point.beta[0]
    x, w = _design([np.asarray(b) for b in margins])
    p_hat, _ = _bin_probs(beta_hat[None], x, w)
    rng = np.random.default_rng(seed)
    out = np.empty((0, 2))
    while len(out) < n_draws:
        m = n_draws - len(out)
        split = rng.multinomial(data.n_tumours, np.full(k, 1.0 / k), size=m)
        ctrl = rng.binomial(split, p_hat)
        fit = fit_margin_curve(margins, ctrl, split)
        ok = fit.converged & (np.abs(fit.beta).max(axis=1) < 30)
        out = np.vstack([out, fit.beta[ok]])
    return beta_hat, out[:n_draws]


def fit_delta(failure_rate, failures, n, *, lo: float = -10.0, hi: float = 10.0, iters: int = 60):
    """The shift ``delta`` at which ``failure_rate(delta)`` equals ``failures / n`` (each an array of ``B``).

    ``failure_rate(delta)`` maps an array ``(B,)`` of shifts to predicted failure rates ``(B,)``; it must not rise
    with ``delta`` (a larger shift means more local control). Where the rate cannot be reached inside ``[lo, hi]``
    the bound is returned and flagged. Returns ``(delta, at_bound)``.
    """
    target = np.atleast_1d(np.asarray(failures, dtype=float) / np.asarray(n, dtype=float))
    a = np.full(target.shape, lo)
    b = np.full(target.shape, hi)
    fa = failure_rate(a) - target
    fb = failure_rate(b) - target
    below = fb > 0  # even the largest shift predicts too many failures
    above = fa < 0  # even the smallest predicts too few
    for _ in range(iters):
        mid = 0.5 * (a + b)
        fm = failure_rate(mid) - target
        right = fm > 0
        a = np.where(right, mid, a)
        b = np.where(right, b, mid)
    delta = np.where(below, hi, np.where(above, lo, 0.5 * (a + b)))
    return delta, below | above


def relative_risk_below(beta, threshold_mm: float = 5.0, max_mm: float = 15.0) -> np.ndarray:
    """Relative risk of local progression (at the data's time point) for integer margins below ``threshold_mm``
    against ``threshold_mm`` .. ``max_mm``, every margin equally weighted; ``beta`` of shape ``(2,)`` or ``(B, 2)``."""
    b = np.atleast_2d(np.asarray(beta, dtype=float))
    lo = np.arange(0, int(threshold_mm))
    hi = np.arange(int(threshold_mm), int(max_mm) + 1)
    fail_lo = 1 - sigmoid(b[:, :1] + b[:, 1:] * lo).mean(axis=1)
    fail_hi = 1 - sigmoid(b[:, :1] + b[:, 1:] * hi).mean(axis=1)
    return fail_lo / fail_hi
