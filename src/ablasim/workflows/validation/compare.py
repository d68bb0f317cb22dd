"""Prediction beside reported value: one row per endpoint, and summaries of each series and of the solver runs.

Agreement ("overlap") is judged the same way everywhere: the prediction's 95 % interval and the reported value's 95 %
interval overlap. Where the record gives no interval (no denominator) the reported value must lie inside the
prediction's interval; where it reports only an association (sarcoma coverage), the predicted relative risk's
interval must lie above 1; the cycles endpoint needs the rule met within the series' 3 cycles in every simulated
tumour the series' range allows, and the mean's intervals to overlap.
"""

from __future__ import annotations

import numpy as np

from ...outcomes.endpoints import reported
from ...stats import wilson

__all__ = ["compare_rows", "cycles_summary", "series_summary"]

MAX_CYCLES = 3  # the series' range of freeze-thaw cycles is 2-3


def _describe(e) -> str:
    name = e.outcome or e.measure or e.factor
    group = f", {e.group}" if e.group else ""
    if e.kind == "technical_success":
        when = ", end of procedure"
    elif e.at_years is None:
        when = ""
    elif e.at_years < 1:
        when = f", at {12 * e.at_years:g} months"
    else:
        when = f", at {e.at_years:g} y"
    return f"{name}{group}{when}"


def _overlap(lo, hi, rlo, rhi, rvalue) -> bool | None:
    if lo is None or hi is None or not np.isfinite(lo) or not np.isfinite(hi):
        return None
    if rlo is None or rhi is None:
        return None if rvalue is None else bool(lo <= rvalue <= hi)
    return bool(max(lo, rlo) <= min(hi, rhi))


def cycles_summary(results: dict) -> dict:
    """Solver runs (``{"base": [(cycles or None, margins, diameter), ...], "unperfused": [...]}``) summarised."""
    out = {}
    for name, rs in results.items():
        met = [c for c, _, _ in rs if c is not None and c <= MAX_CYCLES]
        k, n = len(met), len(rs)
        p, lo, hi = wilson(k, n)
        mean = float(np.mean(met)) if met else None
        mlo: float | None
        mhi: float | None
        if len(met) > 1:
            rng = np.random.default_rng(0)
            boots = rng.choice(met, size=(2000, len(met))).mean(axis=1)
            mlo, mhi = (float(v) for v in np.percentile(boots, [2.5, 97.5]))
        else:
            mlo = mhi = mean
        out[name] = {
            "met": k,
            "n": n,
            "met_rate": p,
            "met_low": lo,
            "met_high": hi,
            "mean_cycles": mean,
            "mean_low": mlo,
            "mean_high": mhi,
            "cases": [{"diameter_mm": d, "cycles": c, "margin_after_each_freeze_mm": list(m)} for c, m, d in rs],
        }
    return out


def _size_range(run, e):
    if e.outcome is None:
        return [None, None]
    item = run.record.outcome(e.outcome, e.group, at_years=e.at_years_record)
    return [item.size_min_mm, item.size_max_mm]


def _row(run, e, role, predicted, lo, hi, rep, overlap, extra_notes=()):
    return {
        "series": run.spec.id,
        "title": run.spec.title,
        "id": e.id,
        "role": role,
        "endpoint": _describe(e),
        "kind": e.kind,
        "predicted": predicted,
        "low": lo,
        "high": hi,
        "reported": rep.value,
        "reported_low": rep.low,
        "reported_high": rep.high,
        "reported_text": rep.text,
        "interval": rep.interval,
        "overlap": overlap,
        "n_cases": int(run.masks[e.id].sum()),
        "size_range_mm": _size_range(run, e),
        "notes": [*rep.notes, *extra_notes],
        "unit": {"relative_risk": "ratio", "cycles": "cycles"}.get(e.kind, "fraction"),
    }


def compare_rows(runs, split, fitted, cycles: dict) -> list[dict]:
    """One row per endpoint of every series; ``cycles``: the solver's raw results per cycles endpoint."""
    fitted_eps = set(split.fitted_endpoints)
    rows = []
    for r in runs:
        for e in r.spec.endpoints:
            rep = reported(e, r.record)
            role = "fitted" if e.id in fitted_eps else "prediction"
            if e.kind == "cycles":
                raw = cycles.get(e.id)
                rows.append(_cycles_row(r, e, rep, None if raw is None else cycles_summary(raw)))
                continue
            point, draws = fitted.predictions[e.id]
            ok = np.isfinite(draws)
            lo: float | None = None
            hi: float | None = None
            # no interval around an undefined point (too few cases in a group)
            if point is not None and np.isfinite(point) and ok.any():
                lo, hi = (float(v) for v in np.percentile(draws[ok], [2.5, 97.5]))
            if role == "fitted":
                overlap = None
                notes = ["fitted: delta is chosen so that this number is reproduced (not a prediction)"]
            elif e.kind == "relative_risk":
                overlap = None if lo is None else bool(lo > 1.0)
                notes = ["agreement: the predicted relative risk's interval lies above 1 (an association)"]
            else:
                overlap = _overlap(lo, hi, rep.low, rep.high, rep.value)
                notes = []
            rows.append(_row(r, e, role, point, lo, hi, rep, overlap, notes))
    return rows


def _cycles_row(run, e, rep, res):
    if res is None:
        return _row(
            run, e, "prediction", None, None, None, rep, None, ["not run: the bioheat solver runs in full mode"]
        )
    b = res["base"]
    u = res["unperfused"]
    u_mean = "-" if u["mean_cycles"] is None else f"{u['mean_cycles']:.2f}"
    note = (
        f"bioheat solver, {b['n']} tumours: rule met within {MAX_CYCLES} cycles in {b['met']}/{b['n']}"
        f" (unperfused kidney: {u['met']}/{u['n']}, mean {u_mean})"
    )
    all_met = b["met_high"] >= 1.0 - 1e-12
    overlap = (
        False
        if b["mean_cycles"] is None
        else bool(all_met and max(b["mean_low"], rep.low) <= min(b["mean_high"], rep.high))
    )
    return _row(run, e, "prediction", b["mean_cycles"], b["mean_low"], b["mean_high"], rep, overlap, [note])


def _pct(x) -> list:
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    return [float(v) for v in np.percentile(x, [5, 25, 50, 75, 95])] if len(x) else []


def series_summary(run) -> dict:
    t, f = run.table, run.fin
    arms = np.bincount(t["arm"], minlength=len(run.spec.arms))
    return {
        "id": run.spec.id,
        "title": run.spec.title,
        "record": run.spec.record,
        "n_cases": run.n,
        "arms": {a.name: int(c) for a, c in zip(run.spec.arms, arms)},
        "probes": {str(int(k)): int(v) for k, v in zip(*np.unique(t["n_probes"], return_counts=True))},
        "plans_meeting_target": float(np.mean(t["nominal_margin_mm"] >= _targets(run))),
        "percentiles": "5, 25, 50, 75, 95",
        "diameter_mm": _pct(t["diameter_mm"]),
        "nominal_margin_mm": _pct(t["nominal_margin_mm"]),
        "delivered_margin_mm": _pct(t["margin_mm"]),
        "final_zone_margin_mm": _pct(f.zone_margin_mm),
        "lethal_margin_mm": _pct(f.lethal_margin_mm),
        "lethal_uncovered": float(np.mean(f.lethal_margin_mm < 0)),
        "capped": float(np.mean(f.capped)),
        "extended": float(np.mean(f.extensions > 0)),
        "probe_added": float(np.mean(f.probes_added > 0)),
        "max_error_bound_mm": float(np.nanmax(t["error_bound_mm"])),
    }


def _targets(run) -> np.ndarray:
    return np.array([run.spec.arms[a].target_margin_mm for a in run.table["arm"]])
