"""Proportions with confidence intervals, by size bin and by margin threshold."""

from __future__ import annotations

import itertools
import math

import numpy as np

__all__ = ["efficacy_by_bin", "probability_curve", "wilson"]


def wilson(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float, float]:
    """Proportion and its Wilson score interval (well behaved at 0 and 1, unlike the normal approximation)."""
    if n == 0:
        return math.nan, math.nan, math.nan
    from scipy.special import ndtri  # deferred: scipy.special adds ~0.1 s to every command's start

    z = float(ndtri(0.5 + confidence / 2.0))
    p = successes / n
    den = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    # exact at the ends: all successes or none
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return p, lo, hi


def efficacy_by_bin(diameter_mm, success, edges_mm, confidence=0.95) -> list[dict]:
    """Success rate per size bin ``[edge_k, edge_k+1)`` of the tumour's largest diameter."""
    d = np.asarray(diameter_mm)
    s = np.asarray(success, dtype=bool)
    rows = []
    last = len(edges_mm) - 2
    for b, (lo, hi) in enumerate(itertools.pairwise(edges_mm)):
        sel = (d >= lo) & (d < hi)
        n, k = int(sel.sum()), int(s[sel].sum())
        p, plo, phi = wilson(k, n, confidence)
        # the first bin reads "< hi", the last ">= lo" (the labels size-binned literature uses), others "lo-hi"
        label = f"< {hi:g} mm" if b == 0 and lo == 0 else (f">= {lo:g} mm" if b == last else f"{lo:g}-{hi:g} mm")
        rows.append(
            {"bin": label, "min_mm": lo, "max_mm": hi, "n": n, "successes": k, "rate": p, "ci_low": plo, "ci_high": phi}
        )
    return rows


def probability_curve(margins_mm, thresholds_mm, confidence=0.95) -> list[dict]:
    """P(margin >= t) with its confidence interval for each threshold t."""
    m = np.asarray(margins_mm)
    out = []
    for t in thresholds_mm:
        k = int(np.count_nonzero(m >= t))
        p, lo, hi = wilson(k, len(m), confidence)
        out.append({"threshold_mm": float(t), "probability": p, "ci_low": lo, "ci_high": hi, "n": len(m)})
    return out
