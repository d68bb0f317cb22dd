"""Figures of the validation report (matplotlib, object-oriented API; every function returns the Figure).

* :func:`forest_plot`: every endpoint, prediction with its 95 % interval beside the reported value and its interval;
* :func:`size_plot`: a series' predictions by tumour size (its bins and finer bins) with the reported points;
* :func:`margin_distributions`: final visible-zone and lethal margins of each series;
* :func:`control_vs_margin`: the fitted local-control curve with its band and the published margin-outcome points;
* :func:`tornado`: per endpoint, how far each assumption moves the prediction.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..outcomes.model import sigmoid
from ..stats import wilson
from .plots import CURVE_COLORS, LITERATURE_COLOR, _figure

__all__ = ["control_vs_margin", "forest_plot", "margin_distributions", "size_plot", "tornado"]

PRED = CURVE_COLORS[0]
REP = LITERATURE_COLOR


def _val(v):
    return np.nan if v is None else float(v)


def forest_plot(rows: list[dict]):
    """Two panels: rates (%) and the other units (relative risk, cycles)."""
    rates = [r for r in rows if r["unit"] == "fraction"]
    other = [r for r in rows if r["unit"] != "fraction"]
    fig = _figure((9.0, 0.32 * len(rows) + 2.0))
    axes = fig.subplots(2, 1, height_ratios=[max(len(rates), 1), max(len(other), 1)])
    for ax, group, scale, xlabel in (
        (axes[0], rates, 100.0, "rate (%)"),
        (axes[1], other, 1.0, "relative risk / freeze-thaw cycles"),
    ):
        for i, r in enumerate(group):
            y = len(group) - 1 - i
            p, lo, hi = (_val(r[k]) * scale for k in ("predicted", "low", "high"))
            ax.plot([lo, hi], [y + 0.12] * 2, color=PRED, lw=2.5)
            ax.plot([p], [y + 0.12], "o", color=PRED, label="predicted (95 % interval)" if i == 0 else None)
            v, rlo, rhi = (_val(r[k]) * scale for k in ("reported", "reported_low", "reported_high"))
            ax.plot([rlo, rhi], [y - 0.12] * 2, color=REP, lw=2.5)
            ax.plot([v], [y - 0.12], "D", color=REP, label="reported (95 % interval)" if i == 0 else None)
            if r["role"] == "fitted":
                ax.text(0.995, y, "fitted", transform=ax.get_yaxis_transform(), ha="right", va="center", fontsize=8)
        ax.set_yticks(range(len(group)), [r["id"] for r in reversed(group)], fontsize=8)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3, axis="x")
        if group:
            ax.legend(loc="lower left", fontsize="x-small")
    axes[1].axvline(1.0, color="#888888", lw=0.8, ls=":")
    axes[1].set_xscale("log")
    return fig


def size_plot(run, rows: list[dict], bins_mm, quantities: dict):
    """Predicted rates by tumour size for one series. ``quantities``: ``{label: (per-case values at the point fit,
    [endpoint ids binned by size])}``; each gets a curve over the finer bins ``bins_mm`` (bins with at least 5 cases)
    and, for its size-binned endpoints, the prediction (95 % interval) beside the reported value (95 % interval)."""
    by_id = {r["id"]: r for r in rows}
    fig = _figure((7.0, 4.2))
    ax = fig.add_subplot()
    d = np.asarray(run.table["diameter_mm"])
    edges = np.asarray(bins_mm, dtype=float)
    centres = 0.5 * (edges[:-1] + edges[1:])
    for j, (label, (prob, ids)) in enumerate(quantities.items()):
        c = CURVE_COLORS[j % len(CURVE_COLORS)]
        vals = []
        for lo, hi in itertools.pairwise(edges):
            sel = (d >= lo) & (d < hi)
            vals.append(np.mean(prob[sel]) if sel.sum() >= 5 else np.nan)
        ax.plot(centres, 100 * np.asarray(vals), "-", color=c, alpha=0.5, label=f"{label} (10 mm bins)")
        for k in ids:
            r = by_id[k]
            lo_mm, hi_mm = r["size_range_mm"]
            x = _bin_x(lo_mm, hi_mm, d)
            p, lo_p, hi_p = (_val(r[q]) for q in ("predicted", "low", "high"))
            ax.errorbar(
                [x - 0.8], [100 * p], yerr=[[100 * (p - lo_p)], [100 * (hi_p - p)]], fmt="o", color=c, capsize=3
            )
            if r["reported"] is not None:
                v, lo_r, hi_r = (_val(r[q]) for q in ("reported", "reported_low", "reported_high"))
                ax.errorbar(
                    [x + 0.8],
                    [100 * v],
                    yerr=[[100 * (v - lo_r)], [100 * (hi_r - v)]],
                    fmt="D",
                    color=c,
                    mec=REP,
                    mew=1.5,
                    capsize=3,
                )
    ax.plot([], [], "o", color="#555555", label="predicted, series' size bin (95 % interval)")
    ax.plot([], [], "D", color="#555555", mec=REP, mew=1.5, label="reported (95 % interval)")
    for edge in sorted({e for r in rows if r["series"] == run.spec.id for e in r["size_range_mm"] if e is not None}):
        ax.axvline(edge, color="#888888", lw=0.8, ls=":")
    ax.set_xlabel("tumour diameter (mm)")
    ax.set_ylabel("rate (%)")
    ax.set_ylim(0, 105)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="x-small", loc="center left")
    ax.set_title(run.spec.title, fontsize="medium")
    return fig


def _bin_x(lo, hi, d):
    lo = float(np.min(d)) if lo is None else lo
    hi = float(np.max(d)) if hi is None else hi
    sel = (d >= lo) & (d < hi)
    return float(np.median(d[sel])) if sel.any() else 0.5 * (lo + hi)


def margin_distributions(runs):
    """Histograms of the final visible-zone margin and the lethal margin, one panel per series."""
    fig = _figure((10.0, 2.4 * ((len(runs) + 1) // 2) + 0.6))
    axes = np.atleast_1d(fig.subplots((len(runs) + 1) // 2, 2)).ravel()
    edges = np.arange(-15.0, 20.5, 1.0)
    for ax, r in zip(axes, runs):
        zone = np.clip(r.fin.zone_margin_mm, -14.99, 19.99)
        lethal = np.clip(r.fin.lethal_margin_mm, -14.99, 19.99)
        ax.hist(zone, bins=edges, color=PRED, alpha=0.55, label="visible zone (final)")
        ax.hist(lethal, bins=edges, color="#c0392b", alpha=0.45, label="lethal")
        ax.axvline(0.0, color="#222222", lw=0.8)
        ax.set_title(f"{r.spec.id} ({r.n} cases)", fontsize="small")
        ax.set_xlabel("minimum margin (mm; clipped to -15..20)", fontsize="small")
        ax.legend(fontsize="x-small")
    for ax in axes[len(runs) :]:
        ax.set_visible(False)
    return fig


def control_vs_margin(data, beta, beta_draws, delta, delta_draws):
    """The fitted 2-year local-control curve (95 % band) and the published points; the curve shifted by delta."""
    m = np.linspace(0.0, 15.0, 151)
    fig = _figure((7.0, 4.2))
    ax = fig.add_subplot()
    for d, dd, c, label in (
        (0.0, np.zeros(len(beta_draws)), PRED, "fit to the margin-outcome data"),
        (delta, delta_draws, "#2e8b57", f"shifted by delta = {delta:+.2f} (used for the series)"),
    ):
        curves = sigmoid(beta_draws[:, :1] + dd[:, None] + beta_draws[:, 1:] * m)
        lo, hi = np.percentile(curves, [2.5, 97.5], axis=0)
        ax.fill_between(m, 100 * lo, 100 * hi, color=c, alpha=0.15)
        ax.plot(m, 100 * sigmoid(beta[0] + d + beta[1] * m), color=c, label=label)
    n = data.n_tumours / len(data.bins)
    for b in data.bins:
        x = float(np.mean(b.margins_mm))
        k = round(b.rate * n)
        _, lo, hi = wilson(k, round(n))
        ax.errorbar([x], [100 * b.rate], yerr=[[100 * (b.rate - lo)], [100 * (hi - b.rate)]], fmt="D", color=REP)
    ax.plot([], [], "D", color=REP, label="published (Wilson 95 %, assumed n per bin)")
    ax.set_xlabel("minimal margin on the lethal zone (mm)")
    ax.set_ylabel("local control at 2 years (%)")
    ax.set_ylim(0, 105)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="x-small", loc="lower right")
    return fig


def tornado(sensitivity: dict, rows: list[dict], top: int = 6):
    """One panel per endpoint: each assumption's low and high value as a bar around the base prediction."""
    ids = [r["id"] for r in rows if r["id"] in sensitivity["base"]]
    cols = 3
    nrow = (len(ids) + cols - 1) // cols
    fig = _figure((12.0, 2.3 * nrow + 0.4))
    axes = np.atleast_1d(fig.subplots(nrow, cols)).ravel()
    for ax, k in zip(axes, ids):
        base = _val(sensitivity["base"][k])
        unit = next(r["unit"] for r in rows if r["id"] == k)
        s = 100.0 if unit == "fraction" else 1.0
        entries = []
        for e in sensitivity["items"]:
            if k in e["values"]:
                lo, hi = (_val(v) for v in e["values"][k])
                ok = np.isfinite(base) and np.isfinite([lo, hi]).any()
                swing = np.nanmax([abs(lo - base), abs(hi - base)]) if ok else np.nan
                if np.isfinite(swing):
                    entries.append((swing, e["item"], lo, hi))
        entries = sorted(entries, key=lambda t: -t[0])[:top][::-1]
        for y, (_, _name, lo, hi) in enumerate(entries):
            ax.barh(y + 0.17, s * (lo - base), left=s * base, color="#5b8bd0", height=0.34)
            ax.barh(y - 0.17, s * (hi - base), left=s * base, color="#d9822b", height=0.34)
        if np.isfinite(base):
            ax.axvline(s * base, color="#222222", lw=0.8)
        if unit == "ratio":
            ax.set_xscale("log")  # relative risks: a ratio's swings are multiplicative
        ax.set_yticks(range(len(entries)), [e[1] for e in entries], fontsize=7)
        ax.set_title(f"{k} (base {s * base:.1f}{' %' if unit == 'fraction' else ''})", fontsize="small")
        ax.tick_params(axis="x", labelsize=7)
    for ax in axes[len(ids) :]:
        ax.set_visible(False)
    fig.suptitle("Sensitivity: blue = low value of the assumption, orange = high", fontsize="small")
    return fig
