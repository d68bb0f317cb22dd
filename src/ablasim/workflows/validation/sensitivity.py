"""Sensitivity analysis: every assumption of ``sensitivity.toml`` varied one at a time, the whole pipeline rerun.

For each item and side (low, high) the series are finished again with the changed assumption, ``delta`` is refitted
on its pooled number and every endpoint predicted (point values; no bootstrap). ``post`` items change what happens
after the geometry; ``geometry`` items rerun the virtual cases themselves on the first ``n_sub`` cases of each series
(common random numbers), and their effect is measured against the base pipeline on the same cases.
"""

from __future__ import annotations

import numpy as np

from ...outcomes.monitor import Overrides
from .analysis import point_predictions, prepare
from .runner import run_series

__all__ = ["geometry_sensitivity", "post_sensitivity", "subset"]


def _overrides(item, value) -> Overrides:
    return Overrides(**{item.parameter: float(value)})


def post_sensitivity(runs, split, beta, data, items) -> list[dict]:
    """One entry per ``post`` item: ``{"item", "low", "high", "values": {endpoint: [low, high]}, "delta": [..]}``."""
    out = []
    for item in items:
        if item.kind != "post":
            continue
        values: dict = {}
        deltas = []
        labels = []
        for side in (item.low, item.high):
            if item.parameter == "time_course":
                tc = data.time_course_alternative if side == "alternative" else data.time_course
                rs = runs
                labels.append(f"{tc.label} arm")
            else:
                tc = data.time_course
                rs = [prepare(r.spec, r.record, r.table, _overrides(item, side)) for r in runs]
                labels.append(f"{side:g}")
            vals, delta, _ = point_predictions(rs, split, beta, tc)
            deltas.append(delta)
            for k, v in vals.items():
                values.setdefault(k, []).append(v)
        out.append({"item": item.name, "kind": "post", "labels": labels, "values": values, "delta": deltas})
    return out


def subset(table: dict, n: int) -> dict:
    return {k: v[:n] for k, v in table.items()}


def geometry_sensitivity(runs, split, beta, data, items, n_sub: dict, client=None, parts_dir=None, progress=None):
    """One entry per ``geometry`` item, its values shifted onto the base pipeline of all cases: base (all cases) +
    (changed - base) on the subset."""
    sub_runs = [prepare(r.spec, r.record, subset(r.table, n_sub[r.spec.id])) for r in runs]
    base_sub, _, _ = point_predictions(sub_runs, split, beta, data.time_course)
    base_all, _, _ = point_predictions(runs, split, beta, data.time_course)
    out = []
    for item in items:
        if item.kind != "geometry":
            continue
        values: dict = {}
        deltas = []
        for side in (item.low, item.high):
            rs = []
            for r in runs:
                spec = r.spec.with_cases(n_sub[r.spec.id]).scaled(**{item.parameter: float(side)})
                parts = None if parts_dir is None else f"{parts_dir}/{spec.id}-n{spec.n_cases}-{spec.digest()}"
                table = run_series(spec, client, parts=parts, progress=progress)
                rs.append(prepare(spec, r.record, table))
            vals, delta, _ = point_predictions(rs, split, beta, data.time_course)
            deltas.append(delta)
            for k, v in vals.items():
                values.setdefault(k, []).append(base_all[k] + (v - base_sub[k]))
        labels = [f"x{float(item.low):g}", f"x{float(item.high):g}"]
        out.append({"item": item.name, "kind": "geometry", "labels": labels, "values": values, "delta": deltas})
    return out


def top_movers(base: dict, entries: list[dict]) -> dict:
    """For each endpoint, the item moving its prediction most (largest |high - low| swing) and that swing."""
    out = {}
    for k, b in base.items():
        best = None
        for e in entries:
            if k not in e["values"]:
                continue
            lo, hi = e["values"][k]
            d = np.abs(np.array([lo - b, hi - b], dtype=float))
            if not np.isfinite(d).any():
                continue
            swing = float(np.nanmax(d))
            if best is None or swing > best[1]:
                best = (e["item"], swing)
        if best is not None:
            out[k] = {"item": best[0], "swing": best[1]}
    return out
