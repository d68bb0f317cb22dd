"""Plots with matplotlib (object-oriented API on the Agg canvas; pyplot's global state is never touched).

Every function validates its inputs, returns the :class:`matplotlib.figure.Figure` and, given ``path``, writes a
PNG atomically. Inputs are plain arrays (or a :class:`~ablasim.metrics.result.MarginMap`), so results of the
bioheat solver plot without this module knowing its classes.

* :func:`margin_histogram`: area-weighted distribution of the signed margin over the tumour surface;
* :func:`cumulative_margin`: % of the tumour surface (by area) with margin < t, thresholds marked;
* :func:`margin_vs_time`: margin against freezing time (min, mm), with the time each threshold is reached;
* :func:`efficacy_vs_size`: efficacy rate by tumour size, confidence intervals, literature points.
"""

from __future__ import annotations

import io

import numpy as np

from .._io import atomic_write_bytes
from .._validation import as_float
from ..errors import ValidationError
from ..metrics.result import MarginMap, MarginResult
from ._colors import margin_colors, margin_limits
from ._deps import require

__all__ = [
    "cumulative_margin",
    "efficacy_vs_size",
    "margin_histogram",
    "margin_vs_time",
    "save_png",
    "thresholds_from",
]

THRESHOLD_COLOR = "#222222"
CURVE_COLORS = ("#1f4e9c", "#c0392b", "#2e8b57", "#8e44ad", "#d35400")
LITERATURE_COLOR = "#e08a00"


def _figure(figsize=(6.4, 4.0), dpi=100):
    Figure = require("matplotlib.figure").Figure
    return Figure(figsize=figsize, dpi=dpi, layout="constrained")


def save_png(fig, path, dpi: int | None = None):
    """Write ``fig`` as a PNG, atomically (temporary file in the same directory, then rename)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return atomic_write_bytes(path, buf.getvalue())


def _finish(fig, path, title):
    if title:
        fig.suptitle(str(title))
    if path is not None:
        save_png(fig, path)
    return fig


def thresholds_from(thresholds_mm) -> list[tuple[str, float]]:
    """``[(label, value_mm)]`` from a number, a sequence of numbers or a ``{label: value_mm}`` dict."""
    if thresholds_mm is None:
        return []
    items: list[tuple[str | None, float]]
    if isinstance(thresholds_mm, dict):
        items = [(f"{k} ({as_float(v, f'thresholds_mm[{k!r}]'):g} mm)", float(v)) for k, v in thresholds_mm.items()]
    elif np.ndim(thresholds_mm) == 0:
        items = [(None, as_float(thresholds_mm, "thresholds_mm"))]
    else:
        items = [(None, as_float(v, f"thresholds_mm[{i}]")) for i, v in enumerate(thresholds_mm)]
    return [(label or f"{v:g} mm", v) for label, v in items]


_NO_MAP = (
    "the result has no margin map (measured with map_resolution_mm=None); measure again with a "
    "map_resolution_mm (e.g. 1.0) to plot or render it"
)


def _included(margin_map):
    """(margin map, included margins, their areas, min margin: the result's if given, else the map's)."""
    minimum = None
    if isinstance(margin_map, MarginResult):
        if margin_map.margin_map is None:
            raise ValidationError("margin_map", margin_map, _NO_MAP)
        minimum, margin_map = float(margin_map.min_margin_mm), margin_map.margin_map
    if not isinstance(margin_map, MarginMap):
        raise ValidationError("margin_map", margin_map, "expected an ablasim MarginMap or MarginResult")
    m = margin_map.margins_mm[margin_map.included]
    w = margin_map.area_mm2[margin_map.included]
    if len(m) == 0 or not w.sum() > 0:
        raise ValidationError("margin_map", "a map with no included area", "nothing to plot")
    return margin_map, m, w, (float(m.min()) if minimum is None else minimum)


def _nice_step(span: float) -> float:
    raw = max(span, 1e-6) / 30.0
    mag = 10 ** np.floor(np.log10(raw))
    return float(min((s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw), default=10 * mag))


def margin_histogram(
    margin_map,
    *,
    thresholds_mm=(),
    bin_width_mm: float | None = None,
    color_threshold_mm: float | None = None,
    path=None,
    title: str | None = None,
    figsize=(6.4, 4.0),
    dpi: int = 100,
):
    """Area-weighted histogram of the signed margin over the tumour surface (a MarginMap, or a MarginResult whose
    exact minimum is then marked): bar heights are % of the included surface and add up to 100. Bars are coloured
    as on the 3D surface (neutral at ``color_threshold_mm``, default the largest threshold, else 0); dashed lines
    mark the thresholds (a number, a list, or ``{rule name: mm}``), a dotted one the minimum margin."""
    _, m, w, minimum = _included(margin_map)
    ths = thresholds_from(thresholds_mm)
    ct = (
        as_float(color_threshold_mm, "color_threshold_mm")
        if color_threshold_mm is not None
        else (max((v for _, v in ths), default=0.0))
    )
    lo, hi = float(m.min()), float(m.max())
    width = as_float(bin_width_mm, "bin_width_mm", positive=True) if bin_width_mm is not None else _nice_step(hi - lo)
    k0 = np.floor((lo - ct) / width)
    k1 = max(np.ceil((hi - ct) / width), k0 + 1)
    if k1 - k0 > 2000:
        raise ValidationError("bin_width_mm", bin_width_mm, f"gives {int(k1 - k0)} bins; use a wider bin")
    edges = ct + width * np.arange(k0, k1 + 1)
    edges[-1] = max(edges[-1], hi + 1e-9 * max(1.0, abs(hi)))
    fig = _figure(figsize, dpi)
    ax = fig.add_subplot()
    _, _, patches = ax.hist(m, bins=edges, weights=100.0 * w / w.sum(), edgecolor="#444444", linewidth=0.4)
    centres = 0.5 * (edges[:-1] + edges[1:])
    lim = margin_limits(m, ct)
    for patch, c in zip(patches, margin_colors(centres, ct, 0.5 * (lim[1] - lim[0]))):
        patch.set_facecolor(c)
    for label, v in ths:
        ax.axvline(v, color=THRESHOLD_COLOR, linestyle="--", linewidth=1.2, label=f"required: {label}", gid="threshold")
    ax.axvline(
        minimum, color="#b2182b", linestyle=":", linewidth=1.5, label=f"min margin {minimum:+.2f} mm", gid="minimum"
    )
    ax.set_xlabel("signed margin (mm): > 0 zone beyond the tumour, < 0 tumour protrudes")
    ax.set_ylabel("% of tumour surface (by area)")
    ax.legend(loc="upper right", fontsize="small")
    ax.grid(alpha=0.3)
    return _finish(fig, path, title)


def cumulative_margin(
    margin_map, *, thresholds_mm=(), path=None, title: str | None = None, figsize=(6.4, 4.0), dpi: int = 100
):
    """Area-weighted cumulative curve: % of the tumour surface (a MarginMap or a MarginResult's map) with margin
    below t, against t (mm). The curve rises from 0 to 100 %; each threshold is marked with the value of
    ``MarginMap.fraction_below``."""
    margin_map, m, w, _ = _included(margin_map)
    order = np.argsort(m, kind="stable")
    ms = m[order]
    cum = 100.0 * np.cumsum(w[order]) / w.sum()
    cum[-1] = 100.0
    span = max(float(ms[-1] - ms[0]), 1.0)
    x = np.concatenate([[ms[0] - 0.05 * span], ms, [ms[-1] + 0.05 * span]])
    y = np.concatenate([[0.0], cum, [100.0]])
    fig = _figure(figsize, dpi)
    ax = fig.add_subplot()
    ax.step(x, y, where="post", color=CURVE_COLORS[0], linewidth=1.8, label="tumour surface", gid="cumulative")
    for i, (label, v) in enumerate(thresholds_from(thresholds_mm)):
        pct = 100.0 * margin_map.fraction_below(v)
        ax.axvline(v, color=THRESHOLD_COLOR, linestyle="--", linewidth=1.2, gid="threshold")
        ax.plot([v], [pct], "o", color="#b2182b", gid="threshold-value")
        ax.annotate(
            f"{label}: {pct:.1f} % below",
            (v, pct),
            xytext=(6, (-16 if pct > 80 else 8) - 12 * i),
            textcoords="offset points",
            fontsize="small",
        )
    ax.set_xlabel("margin t (mm)")
    ax.set_ylabel("% of tumour surface with margin < t")
    ax.set_ylim(-2, 102)
    ax.grid(alpha=0.3)
    return _finish(fig, path, title)


def _series(values, name, n=None, allow_nan=False) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValidationError(name, values, "expected numbers") from None
    ok = ~np.isinf(arr) if allow_nan else np.isfinite(arr)
    if arr.ndim == 0 or arr.size == 0 or not np.all(ok) or (allow_nan and np.all(np.isnan(arr))):
        raise ValidationError(
            name, values, "expected a non-empty array of finite numbers" + (" (nan marks a gap)" if allow_nan else "")
        )
    if n is not None and arr.shape[-1] != n:
        raise ValidationError(name, f"array of shape {arr.shape}", f"expected {n} values along the last axis")
    return arr


def margin_vs_time(
    time_s,
    margin_mm,
    *,
    labels=None,
    thresholds_mm=(),
    path=None,
    title: str | None = None,
    figsize=(6.4, 4.0),
    dpi: int = 100,
):
    """Margin against freezing time: ``time_s`` (T,) increasing, ``margin_mm`` (T,) or (K, T) for K curves (e.g.
    one per isotherm; ``labels`` names them; nan leaves a gap, e.g. before any ice has formed). Axes in min and mm.
    Dashed lines mark the thresholds; for the first
    curve, the time at which it first reaches each threshold (linear interpolation) is marked and annotated."""
    t = _series(time_s, "time_s")
    if t.ndim != 1 or np.any(np.diff(t) <= 0):
        raise ValidationError("time_s", time_s, "expected a 1-D array of increasing times (s)")
    m = np.atleast_2d(_series(margin_mm, "margin_mm", len(t), allow_nan=True))
    if m.ndim != 2:
        raise ValidationError("margin_mm", f"array of shape {m.shape}", "expected shape (T,) or (K, T)")
    names = [f"curve {i + 1}" for i in range(len(m))] if labels is None else [str(s) for s in labels]
    if len(names) != len(m):
        raise ValidationError("labels", labels, f"expected {len(m)} labels")
    fig = _figure(figsize, dpi)
    ax = fig.add_subplot()
    minutes = t / 60.0
    for i, (row, name) in enumerate(zip(m, names)):
        ax.plot(minutes, row, color=CURVE_COLORS[i % len(CURVE_COLORS)], linewidth=1.8, label=name, gid="margin")
    ax.axhline(0.0, color="#888888", linewidth=0.8)
    for label, v in thresholds_from(thresholds_mm):
        ax.axhline(v, color=THRESHOLD_COLOR, linestyle="--", linewidth=1.2, gid="threshold")
        reached = np.flatnonzero(m[0] >= v)
        if len(reached):
            k = int(reached[0])
            tk = minutes[k] if k == 0 else np.interp(v, [m[0, k - 1], m[0, k]], [minutes[k - 1], minutes[k]])
            ax.plot([tk], [v], "o", color="#b2182b", gid="threshold-reached")
            right = tk > minutes[0] + 0.6 * (minutes[-1] - minutes[0])
            ax.annotate(
                f"{label} at {tk:.1f} min",
                (tk, v),
                xytext=(-6 if right else 6, 6),
                textcoords="offset points",
                fontsize="small",
                ha="right" if right else "left",
            )
    ax.set_xlabel("freezing time (min)")
    ax.set_ylabel("min margin (mm)")
    if len(m) > 1 or labels is not None:
        ax.legend(loc="lower right", fontsize="small")
    ax.grid(alpha=0.3)
    return _finish(fig, path, title)


def _literature(points, categorical, sizes):
    out = []
    for i, p in enumerate(points or ()):
        if isinstance(p, dict):
            size, rate, label = p.get("size"), p.get("rate"), p.get("label", "literature")
        elif isinstance(p, (tuple, list)) and len(p) in (2, 3):
            size, rate, label = p[0], p[1], (p[2] if len(p) == 3 else "literature")
        else:
            raise ValidationError(f"literature[{i}]", p, "expected (size, rate[, label]) or a dict with these keys")
        if categorical:
            if str(size) not in sizes:
                raise ValidationError(f"literature[{i}].size", size, f"expected one of the bins {sizes}")
            x = float(sizes.index(str(size))) + 0.08  # beside the simulated point of the same bin
        else:
            x = as_float(size, f"literature[{i}].size")
        out.append((x, as_float(rate, f"literature[{i}].rate", minimum=0.0, maximum=1.0), str(label)))
    return out


def efficacy_vs_size(
    sizes,
    rates,
    *,
    ci_low=None,
    ci_high=None,
    literature=None,
    path=None,
    title: str | None = None,
    xlabel: str = "tumour diameter (mm)",
    figsize=(6.4, 4.0),
    dpi: int = 100,
):
    """Efficacy (rate in [0, 1], plotted in %) against tumour size.

    sizes : bin labels (strings, e.g. "< 40 mm") or bin centres in mm
    ci_low, ci_high : optional confidence-interval bounds (rates), drawn as error bars
    literature : optional points for comparison, ``(size, rate[, label])`` tuples or dicts (size: a bin label or
        a centre in mm, matching ``sizes``)
    """
    if isinstance(sizes, str) or np.ndim(sizes) != 1 or len(sizes) == 0:
        raise ValidationError("sizes", sizes, "expected a non-empty sequence of bin labels or centres (mm)")
    categorical = all(isinstance(s, str) for s in sizes)
    labels = [str(s) for s in sizes]
    x = np.arange(len(sizes), dtype=float) if categorical else _series(sizes, "sizes")
    r = _series(rates, "rates", len(x))
    if r.ndim != 1 or np.any((r < 0) | (r > 1)):
        raise ValidationError("rates", rates, "expected one rate in [0, 1] per size")
    fig = _figure(figsize, dpi)
    ax = fig.add_subplot()
    if (ci_low is None) != (ci_high is None):
        raise ValidationError("ci_low" if ci_low is None else "ci_high", None, "give both ci_low and ci_high")
    yerr = None
    if ci_low is not None:
        lo, hi = _series(ci_low, "ci_low", len(x)), _series(ci_high, "ci_high", len(x))
        if np.any(lo > r + 1e-12) or np.any(hi < r - 1e-12) or np.any(lo < 0) or np.any(hi > 1):
            raise ValidationError("ci_low/ci_high", (ci_low, ci_high), "expected 0 <= ci_low <= rate <= ci_high <= 1")
        yerr = 100.0 * np.stack([r - lo, hi - r])
    ax.errorbar(
        x,
        100.0 * r,
        yerr=yerr,
        fmt="o-",
        color=CURVE_COLORS[0],
        capsize=4,
        linewidth=1.5,
        label="simulated",
        gid="efficacy",
    )
    seen = set()
    for px, pr, plabel in _literature(literature, categorical, labels):
        ax.plot(
            [px],
            [100.0 * pr],
            "D",
            color=LITERATURE_COLOR,
            markersize=7,
            gid="literature",
            label=None if plabel in seen else plabel,
        )
        seen.add(plabel)
    if categorical:
        ax.set_xticks(x, labels)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("efficacy (%)")
    ax.set_ylim(0, 105)
    ax.legend(loc="lower left", fontsize="small")
    ax.grid(alpha=0.3)
    return _finish(fig, path, title)
