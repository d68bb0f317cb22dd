"""The validation report: self-contained HTML (figures embedded as PNG data URIs, inline CSS, no JavaScript) and the
JSON of :func:`ablasim.workflows.validate.write_validation_json`, with every figure also written as a PNG beside
them. Conventions and helpers of :mod:`ablasim.render.report`; every file written atomically."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._io import atomic_write_bytes, atomic_write_text
from ..outcomes.data import load_margin_outcome
from ..outcomes.model import OutcomeModel
from ..workflows.validate import ValidationResult, write_validation_json
from .report import _CSS, _e, _fig_png, _img, _table
from .validation_plots import control_vs_margin, forest_plot, margin_distributions, size_plot, tornado

__all__ = ["ValidationFiles", "write_validation_report"]


@dataclass(frozen=True)
class ValidationFiles:
    html: Path
    json: Path
    images: tuple


def _pct(v, scale=100.0, unit=" %") -> str:
    return "-" if v is None or not np.isfinite(v) else f"{scale * v:.1f}{unit}"


def _fmt(r, key) -> str:
    v = r[key]
    if r["unit"] == "fraction":
        return _pct(v)
    return "-" if v is None else f"{v:.2f}"


def _interval(r, lo, hi) -> str:
    if r[lo] is None or r[hi] is None:
        return "-"
    return f"{_fmt(r, lo)} - {_fmt(r, hi)}"


def _agree(r) -> tuple:
    if r["role"] == "fitted":
        return ("fitted", "")
    if r["overlap"] is None:
        return ("n/a", "")
    return ('<span class="badge pass">yes</span>', "") if r["overlap"] else ('<span class="badge fail">no</span>', "")


def _rows_table(rows) -> str:
    return _table(
        [
            "endpoint",
            "series",
            "what",
            "predicted",
            "95 % interval",
            "reported",
            "reported interval",
            "overlap",
            "notes",
        ],
        [
            [
                r["id"],
                r["series"],
                r["endpoint"],
                _fmt(r, "predicted"),
                _interval(r, "low", "high"),
                r["reported_text"],
                f"{_interval(r, 'reported_low', 'reported_high')} ({r['interval']})",
                _agree(r),
                "; ".join(r["notes"]),
            ]
            for r in rows
        ],
        num_cols=(3, 4),
    )


def _case_values(run, e, model) -> np.ndarray:
    f = run.fin
    if e.kind == "technical_success":
        return (f.read_margin_mm >= 0).astype(float)
    c = model.control(f.lethal_margin_mm, e.at_years)
    return c if e.kind == "control" else 1.0 - c


def _figures(result: ValidationResult) -> list[tuple[str, str, bytes]]:
    s = result.summary
    rows = s["rows"]
    data = load_margin_outcome()
    par = {p["name"]: p for p in s["parameters"]}
    beta = np.array([par["beta0"]["value"], par["beta1"]["value"]])
    delta = par["delta"]["value"]
    model = OutcomeModel(beta[0], beta[1], delta, data.time_course)
    figs = [
        (
            "forest",
            "Every endpoint: prediction (95 % interval) beside the reported value (95 % interval).",
            forest_plot(rows),
        ),
        (
            "control_vs_margin",
            "Local control at 2 years against the minimal lethal margin: the fit to the published margin-outcome "
            "data (95 % band from the parametric bootstrap) and the curve shifted by the fitted delta.",
            control_vs_margin(data, beta, result.beta_draws, delta, result.delta_draws),
        ),
        (
            "margins",
            "Final margins of each virtual series: the visible zone (ice ball for cryoablation) after monitoring "
            "and caps, and the lethal margin the outcome model sees.",
            margin_distributions(result.runs),
        ),
    ]
    by_id = {r["id"]: r for r in rows}
    for run in result.runs:
        quantities: dict = {}
        for e in run.spec.endpoints:
            if e.kind in ("cycles", "relative_risk"):
                continue
            label = e.outcome or e.kind
            _, ids = quantities.setdefault(label, (_case_values(run, e, model), []))
            if by_id[e.id]["size_range_mm"] != [None, None]:
                ids.append(e.id)
        if any(ids for _, ids in quantities.values()):
            figs.append(
                (
                    f"size_{run.spec.id}",
                    f"{run.spec.title}: predicted rates by tumour size (10 mm bins, point fit) and in the series' own "
                    "size bins (95 % intervals), beside the reported values.",
                    size_plot(run, rows, np.arange(0.0, 90.0, 10.0), quantities),
                )
            )
    figs.append(
        (
            "tornado",
            "Sensitivity: the prediction of each endpoint when one assumption takes its low (blue) or high (orange) "
            "value, delta refitted each time; the six assumptions moving it most.",
            tornado(s["sensitivity"], rows),
        )
    )
    return [(name, caption, _fig_png(fig)) for name, caption, fig in figs]


def _parameters(s) -> str:
    return _table(
        ["parameter", "meaning", "value", "95 % interval", "fitted on"],
        [
            [p["name"], p["meaning"], f"{p['value']:+.3f}", f"{p['low']:+.3f} .. {p['high']:+.3f}", p["fitted_on"]]
            for p in s["parameters"]
        ],
        num_cols=(2, 3),
    )


def _series_table(s) -> str:
    def q(v):
        return "-" if not v else f"{v[2]:.1f} ({v[0]:.1f} .. {v[4]:.1f})"

    return _table(
        [
            "series",
            "cases",
            "arms",
            "probes planned",
            "diameter (mm)",
            "delivered margin",
            "final zone margin",
            "lethal margin",
            "lethal < 0",
            "capped",
            "extended",
            "probe added",
        ],
        [
            [
                x["id"],
                x["n_cases"],
                ", ".join(f"{k} {v}" for k, v in x["arms"].items()),
                ", ".join(f"{k}: {v}" for k, v in x["probes"].items()),
                q(x["diameter_mm"]),
                q(x["delivered_margin_mm"]),
                q(x["final_zone_margin_mm"]),
                q(x["lethal_margin_mm"]),
                _pct(x["lethal_uncovered"]),
                _pct(x["capped"]),
                _pct(x["extended"]),
                _pct(x["probe_added"]),
            ]
            for x in s["series"]
        ],
        num_cols=(1,),
    )


def _sensitivity_table(s) -> str:
    top = s["sensitivity"]["top"]
    rows = []
    for r in s["rows"]:
        t = top.get(r["id"])
        if t is None:
            continue
        scale, unit = (100.0, " points") if r["unit"] == "fraction" else (1.0, "")
        rows.append([r["id"], t["item"], f"{scale * t['swing']:.1f}{unit}"])
    return _table(["endpoint", "assumption moving it most", "largest change"], rows, num_cols=(2,))


def write_validation_report(result: ValidationResult, out, *, save_images: bool = True) -> ValidationFiles:
    """Write ``validation.html``, ``validation.json`` and (``save_images``) the figures as PNG into ``out``."""
    out = Path(out)
    html_path, json_path = out / "validation.html", out / "validation.json"
    s = result.summary
    figs = _figures(result)
    written = []
    if save_images:
        for name, _, data in figs:
            written.append(atomic_write_bytes(out / f"validation_{name}.png", data))
    preds = [r for r in s["rows"] if r["role"] == "prediction"]
    agree = sum(1 for r in preds if r["overlap"])
    judged = sum(1 for r in preds if r["overlap"] is not None)
    doc = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>ablasim validation ({_e(s['mode'])})</title><style>{_CSS}</style></head><body>",
        "<h1>Validation against the source documents</h1>",
        f"<p class='muted'>ablasim {_e(s['ablasim_version'])}, {_e(s['date'])}, {_e(s['mode'])} run "
        f"({_e(s['settings']['n_boot'])} bootstrap draws; the bioheat solver on {_e(s['settings']['cycles_cases'])} "
        "tumours). Rates in %, lengths in mm. Method and assumptions: docs/validation.md.</p>",
        f"<div class='note'><p>{agree} of {judged} predictions agree with the reported value (95 % intervals "
        "overlap); disagreements are reported as found. The fit / predict split was written before any prediction "
        "was compared (fit_predict.toml).</p></div>",
        "<h2>Prediction beside reported value</h2>",
        _rows_table(s["rows"]),
        "<div class='grid'>" + _img(figs[0][2], figs[0][0], figs[0][1], wide=True) + "</div>",
        "<h2>Fit / predict split</h2>",
        _parameters(s),
        f"<p>Predictions: {_e(', '.join(s['split']['predictions']))}. Checks: {_e(', '.join(s['split']['checks']))}."
        f" Fit data: {_e(s['fit_data']['source'])}. {_e(s['fit_data']['assumption'])}</p>",
        f"<p class='muted'>delta at a bound of its search range: {_e(s['delta_at_bound'])}; in "
        f"{_e(s['delta_draws_at_bound'])} of {_e(s['settings']['n_boot'])} bootstrap draws.</p>",
        "<h2>Virtual series</h2>",
        _series_table(s),
        "<p class='muted'>Margins: median (5th .. 95th percentile), mm.</p>",
        "<div class='grid'>" + "".join(_img(d, n, c) for n, c, d in figs[1:-1]) + "</div>",
        "<h2>Sensitivity analysis</h2>",
        _sensitivity_table(s),
        "<div class='grid'>" + _img(figs[-1][2], figs[-1][0], figs[-1][1], wide=True) + "</div>",
        f"<footer>ablasim {_e(s['ablasim_version'])}, {_e(s['date'])}. A simulation compared with published series; "
        "the assumptions are listed in the series files and docs/validation.md.</footer>",
        "</body></html>",
    ]
    atomic_write_text(html_path, "\n".join(d for d in doc if d) + "\n")
    write_validation_json(json_path, result)
    return ValidationFiles(html_path, json_path, tuple(written))
