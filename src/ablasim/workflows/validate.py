"""Validation against the source documents: virtual series, outcome model, predictions beside reported numbers.

:func:`run_validation` runs every series of ``ablasim/data/outcomes/series/`` (in this process or on a dask
``Client``, checkpointed), fits the outcome model as ``fit_predict.toml`` prescribes, predicts every other endpoint
with a 95 % interval, compares it with the reported value and its interval, and reruns the pipeline under each
assumption of ``sensitivity.toml``. ``quick`` runs a few cases per series, a smaller bootstrap, no geometry
sensitivity and no bioheat solver (seconds to a minute); the full run is what docs/validation.md reports.
:func:`write_validation_json` writes the result; :func:`ablasim.render.validation.write_validation_html` the report.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

import numpy as np

from .._io import atomic_write_json
from .._version import __version__
from ..errors import ValidationError
from ..literature import load_records
from ..outcomes.data import load_fit_predict, load_margin_outcome, load_sensitivity
from ..outcomes.fit import bootstrap_margin_curve, relative_risk_below
from ..outcomes.series import default_series
from ..physics import Tissue
from .validation.analysis import fit_and_predict, prepare
from .validation.compare import compare_rows, cycles_summary, series_summary
from .validation.cycles import TISSUE, cycles_cases, cycles_for_case
from .validation.runner import run_series
from .validation.sensitivity import geometry_sensitivity, post_sensitivity, top_movers

__all__ = ["ValidationResult", "ValidationSettings", "run_validation", "write_validation_json"]


@dataclass(frozen=True)
class ValidationSettings:
    """What :func:`run_validation` runs. ``n_cases`` overrides every series' case count (None: the series' own
    ``n_cases``, or ``n_cases_quick`` in quick mode)."""

    quick: bool = False
    n_cases: int | None = None
    n_boot: int | None = None  # None: 400 (quick: 100)
    seed: int = 13
    geometry_fraction: float = 0.25  # share of each series rerun per geometry sensitivity side (full mode)
    cycles_cases: int | None = None  # None: 8 (quick: 0, no solver)
    parts_dir: str | None = None  # checkpoints of the series' chunks

    @property
    def boot(self) -> int:
        return self.n_boot if self.n_boot is not None else (100 if self.quick else 400)

    @property
    def n_cycles(self) -> int:
        return self.cycles_cases if self.cycles_cases is not None else (0 if self.quick else 8)


@dataclass
class ValidationResult:
    summary: dict  # JSON-ready
    runs: list = field(default_factory=list)  # SeriesRun per series (for plots)
    beta_draws: np.ndarray | None = None
    delta_draws: np.ndarray | None = None


def _parts(settings, spec):
    return None if settings.parts_dir is None else f"{settings.parts_dir}/{spec.id}-n{spec.n_cases}-{spec.digest()}"


def _cycles(spec, endpoint, n, client, tissue=None):
    idx = cycles_cases(spec, endpoint.arms[0] if endpoint.arms else spec.arms[0].name, n)
    rule = "renal-6mm"
    if client is None:
        return [cycles_for_case(spec, i, rule, tissue=tissue) for i in idx]
    futs = [client.submit(cycles_for_case, spec, i, rule, tissue=tissue, pure=False) for i in idx]
    return [f.result() for f in futs]


def run_validation(settings: ValidationSettings | None = None, client=None, progress=None) -> ValidationResult:
    """Run the validation (module docstring). ``progress(message)`` is called as stages start."""
    s = settings if settings is not None else ValidationSettings()
    say = progress if progress is not None else (lambda msg: None)
    split = load_fit_predict()
    data = load_margin_outcome()
    items = load_sensitivity()
    records = load_records()
    series = default_series()
    split.check([e.id for sp in series for e in sp.endpoints])
    runs = []
    for sp in series:
        n = s.n_cases if s.n_cases is not None else (sp.n_cases_quick if s.quick else sp.n_cases)
        spec = sp.with_cases(n)
        say(f"series {spec.id}: {n} cases")
        table = run_series(spec, client, parts=_parts(s, spec))
        runs.append(prepare(spec, records[spec.record], table))
    say("fitting the outcome model")
    beta, beta_draws = bootstrap_margin_curve(data, s.boot, s.seed)
    fitted = fit_and_predict(runs, split, beta, beta_draws, data.time_course, s.seed + 1)
    cycles = {}
    for r in runs:
        for e in r.spec.endpoints:
            if e.kind == "cycles" and s.n_cycles > 0:
                say(f"{e.id}: bioheat solver, {s.n_cycles} tumours, perfused and unperfused")
                unperfused = Tissue.from_name(TISSUE.get(r.spec.tissue, r.spec.tissue), perfusion_per_s=0.0)
                cycles[e.id] = {
                    "base": _cycles(r.spec, e, s.n_cycles, client),
                    "unperfused": _cycles(r.spec, e, s.n_cycles, client, tissue=unperfused),
                }
    say("sensitivity analysis")
    sens = post_sensitivity(runs, split, beta, data, items)
    if not s.quick:
        n_sub = {r.spec.id: max(2, round(r.n * s.geometry_fraction)) for r in runs}
        sens += geometry_sensitivity(runs, split, beta, data, items, n_sub, client, s.parts_dir)
    base = {k: v[0] for k, v in fitted.predictions.items()}
    rows = compare_rows(runs, split, fitted, cycles)
    rr_draws = relative_risk_below(beta_draws)
    rr = float(relative_risk_below(beta)[0])
    check_lo, check_hi = (float(v) for v in np.percentile(rr_draws, [2.5, 97.5]))
    ref = data.check_rr
    rows.append(
        {
            "series": "check",
            "title": "Margin-outcome curve against a meta-analysis",
            "id": "check.meta_rr",
            "role": "check",
            "endpoint": "relative risk of local progression, margin < 5 mm against >= 5 mm",
            "kind": "relative_risk",
            "predicted": rr,
            "low": check_lo,
            "high": check_hi,
            "reported": ref[0],
            "reported_low": ref[1],
            "reported_high": ref[2],
            "reported_text": f"RR {ref[0]:.2f} ({ref[1]:.2f}-{ref[2]:.2f})",
            "interval": "reported 95 % CI",
            "overlap": bool(max(check_lo, ref[1]) <= min(check_hi, ref[2])),
            "notes": [data.check_source],
            "unit": "ratio",
        }
    )
    lo_b, hi_b = np.percentile(beta_draws, [2.5, 97.5], axis=0)
    lo_d, hi_d = np.percentile(fitted.delta_draws, [2.5, 97.5])
    summary = {
        "ablasim_version": __version__,
        "date": _dt.date.today().isoformat(),
        "mode": "quick" if s.quick else "full",
        "settings": {"n_boot": s.boot, "seed": s.seed, "cycles_cases": s.n_cycles, "n_cases": s.n_cases},
        "parameters": [
            {**p.__dict__, "value": v, "low": float(lo), "high": float(hi)}
            for p, v, lo, hi in zip(
                split.parameters,
                (float(beta[0]), float(beta[1]), fitted.delta),
                (lo_b[0], lo_b[1], lo_d),
                (hi_b[0], hi_b[1], hi_d),
            )
        ],
        "delta_at_bound": fitted.delta_at_bound,
        "delta_draws_at_bound": fitted.delta_draws_at_bound,
        "fit_data": {
            "source": data.source,
            "assumption": data.assumption,
            "bins": [{"label": b.label, "margins_mm": list(b.margins_mm), "rate": b.rate} for b in data.bins],
            "n_tumours": data.n_tumours,
            "time_course": {"source": data.time_course_source, "base": data.time_course.__dict__},
        },
        "split": {"predictions": list(split.predictions), "checks": list(split.checks)},
        "rows": rows,
        "sensitivity": {"base": base, "items": sens, "top": top_movers(base, sens)},
        "series": [series_summary(r) for r in runs],
        "cycles": {k: cycles_summary(v) for k, v in cycles.items()},
    }
    return ValidationResult(_clean(summary), runs, beta_draws, fitted.delta_draws)


def _clean(obj):
    """JSON-ready: numpy scalars to Python, non-finite numbers to None (JSON has no NaN)."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_clean(v) for v in obj.tolist()]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def write_validation_json(path, result: ValidationResult):
    """Write ``result.summary`` as JSON, atomically."""
    if not isinstance(result, ValidationResult):
        raise ValidationError("result", result, "expected a ValidationResult")
    return atomic_write_json(path, result.summary)
