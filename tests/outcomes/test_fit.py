"""Fits recover known parameters, and their intervals cover the truth at the stated rate (synthetic data)."""

import numpy as np
import pytest

from ablasim.outcomes.data import load_margin_outcome
from ablasim.outcomes.fit import bootstrap_margin_curve, fit_delta, fit_margin_curve, relative_risk_below
from ablasim.outcomes.model import sigmoid

BINS = [(0.0,), (1.0, 2.0, 3.0, 4.0, 5.0), (6.0, 7.0, 8.0, 9.0, 10.0), (11.0, 12.0, 13.0, 14.0, 15.0)]


def bin_probs(b0, b1):
    return np.array([sigmoid(b0 + b1 * np.asarray(b)).mean() for b in BINS])


def test_expected_counts_give_back_the_true_parameters():
    # with expected counts the score vanishes at the truth, so maximum likelihood returns it exactly
    n = np.array([30.0, 20.0, 25.0, 19.0])
    fit = fit_margin_curve(BINS, n * bin_probs(-0.9, 0.21), n)
    assert fit.converged[0]
    np.testing.assert_allclose(fit.beta[0], [-0.9, 0.21], atol=1e-6)


def test_batched_fits_equal_single_fits():
    rng = np.random.default_rng(4)
    n = rng.integers(15, 40, size=(6, 4))
    y = rng.binomial(n, bin_probs(-1.0, 0.2))
    both = fit_margin_curve(BINS, y, n)
    for i in range(6):
        one = fit_margin_curve(BINS, y[i], n[i])
        np.testing.assert_allclose(both.beta[i], one.beta[0], atol=1e-7)


def test_bootstrap_interval_covers_the_truth_at_about_95_percent():
    # 120 synthetic studies with known truth; each: a parametric bootstrap (150 draws) of P(control | 5 mm).
    # If the interval has 95 % coverage, fewer than 104 of 120 hits happens with probability < 0.1 %
    # (binomial(120, 0.95) tail), so the test fails only if coverage is really short.
    rng = np.random.default_rng(2024)
    b0, b1, n = -0.8, 0.2, np.array([25, 25, 25, 25])
    truth = sigmoid(b0 + 5 * b1)
    hits = 0
    for _ in range(120):
        y = rng.binomial(n, bin_probs(b0, b1))
        beta = fit_margin_curve(BINS, y, n).beta[0]
        p = bin_probs(*beta)
        draws = fit_margin_curve(BINS, rng.binomial(n, p, size=(150, 4)), np.broadcast_to(n, (150, 4))).beta
        lo, hi = np.percentile(sigmoid(draws[:, 0] + 5 * draws[:, 1]), [2.5, 97.5])
        hits += lo <= truth <= hi
    assert hits >= 104


def test_published_data_fit_and_bootstrap_are_reproducible():
    data = load_margin_outcome()
    b, draws = bootstrap_margin_curve(data, 50, seed=7)
    _, draws2 = bootstrap_margin_curve(data, 50, seed=7)
    np.testing.assert_array_equal(draws, draws2)
    assert draws.shape == (50, 2) and np.all(np.isfinite(draws))
    # the fit reproduces the published rates' ordering: control rises with the margin
    assert b[1] > 0


def test_fit_delta_recovers_a_known_shift_and_flags_bounds():
    margins = np.linspace(0.0, 8.0, 400)

    def rate(delta):  # failure rate at 2 years of cases with these lethal margins
        return 1 - sigmoid(-1.0 + np.asarray(delta)[:, None] + 0.2 * margins).mean(axis=1)

    true = 0.7
    k = rate(np.array([true]))[0] * 1000
    d, bound = fit_delta(rate, k, 1000)
    assert d[0] == pytest.approx(true, abs=1e-9) and not bound[0]
    d, bound = fit_delta(rate, 0.0, 1000)  # no failures at all: unreachable, the upper bound
    assert bound[0] and d[0] == 10.0


def test_delta_interval_covers_the_truth():
    # parametric bootstrap (100 draws) of delta on one binomial number, 150 synthetic pooled numbers (n = 250):
    # at 95 % coverage, fewer than 130 hits has probability < 0.1 %
    rng = np.random.default_rng(11)
    margins = rng.uniform(0.0, 8.0, 40)

    def rate(delta):
        return 1 - sigmoid(-1.0 + np.asarray(delta)[:, None] + 0.2 * margins).mean(axis=1)

    true, n, hits = 1.2, 250, 0
    p_true = rate(np.array([true]))[0]
    for _ in range(150):
        k = rng.binomial(n, p_true)
        d_hat = fit_delta(rate, k, n)[0][0]
        ks = rng.binomial(n, rate(np.array([d_hat]))[0], size=100)
        lo, hi = np.percentile(fit_delta(rate, ks, n)[0], [2.5, 97.5])
        hits += lo <= true <= hi
    assert hits >= 130


def test_relative_risk_is_one_without_a_slope_and_grows_with_it():
    assert relative_risk_below([0.3, 0.0])[0] == pytest.approx(1.0)
    assert relative_risk_below([-1.0, 0.3])[0] > relative_risk_below([-1.0, 0.1])[0] > 1.0
