"""Result types of :func:`ablasim.measure_margin`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validation import as_float
from ..errors import ValidationError

__all__ = ["DeferredMarginMap", "MarginMap", "MarginResult"]


def _readonly(arr, dtype=np.float64) -> np.ndarray:
    out = np.array(arr, dtype=dtype)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class MarginMap:
    """Signed margin at points of the tumour surface, with the surface area each point stands for.

    ``margins_mm[i]`` is the signed distance from ``points_mm[i]`` to the zone boundary: positive inside the zone
    (that much ablated tissue beyond the tumour surface there), negative outside. Points within the exclusion
    distance of an organ boundary have ``included[i] = False`` and are left out of every statistic.
    ``faces`` (triangles over the points) is kept for rendering.
    """

    points_mm: np.ndarray
    margins_mm: np.ndarray
    area_mm2: np.ndarray
    included: np.ndarray
    faces: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), dtype=np.int64))

    def __post_init__(self):
        object.__setattr__(self, "points_mm", _readonly(self.points_mm))
        object.__setattr__(self, "margins_mm", _readonly(self.margins_mm))
        object.__setattr__(self, "area_mm2", _readonly(self.area_mm2))
        object.__setattr__(self, "included", _readonly(self.included, np.bool_))
        object.__setattr__(self, "faces", _readonly(self.faces, np.int64))

    def __repr__(self) -> str:
        return (
            f"MarginMap({len(self.margins_mm)} points, {self.total_area_mm2:.1f} mm2 included, "
            f"margins {self.percentile(0):+.2f} to {self.percentile(100):+.2f} mm)"
            if self.included.any()
            else f"MarginMap({len(self.margins_mm)} points, none included)"
        )

    @property
    def total_area_mm2(self) -> float:
        """Area represented by the included points."""
        return float(self.area_mm2[self.included].sum())

    def _included(self):
        m = self.margins_mm[self.included]
        w = self.area_mm2[self.included]
        return m, w

    def fraction_below(self, threshold_mm: float) -> float:
        """Area fraction of the (included) tumour surface whose margin is strictly below ``threshold_mm``."""
        t = as_float(threshold_mm, "threshold_mm")
        m, w = self._included()
        total = w.sum()
        return float(w[m < t].sum() / total) if total > 0 else float("nan")

    def percentile(self, q) -> float | np.ndarray:
        """Area-weighted percentile(s) ``q`` in [0, 100] of the margin (the smallest margin m such that the
        surface with margin <= m covers at least q % of the included area)."""
        qs = np.atleast_1d(np.asarray(q, dtype=float))
        if not np.all(np.isfinite(qs)) or np.any((qs < 0) | (qs > 100)):
            raise ValidationError("q", q, "percentiles must lie in [0, 100]")
        m, w = self._included()
        if len(m) == 0:
            out = np.full(qs.shape, np.nan)
        else:
            order = np.argsort(m, kind="stable")
            cw = np.cumsum(w[order])
            cw /= cw[-1]
            pos = np.searchsorted(cw, qs / 100.0 - 1e-12, side="left")
            out = m[order][np.clip(pos, 0, len(m) - 1)]
        return float(out[0]) if np.ndim(q) == 0 else out

    def mean(self) -> float:
        """Area-weighted mean margin over the included surface."""
        m, w = self._included()
        return float((m * w).sum() / w.sum()) if w.sum() > 0 else float("nan")


class DeferredMarginMap(MarginMap):
    """A :class:`MarginMap` computed when it is first used: ``compute()`` returns the map, and the first access
    to any of its fields (or anything built on them) calls it once. :func:`ablasim.measure_margin` returns one
    from the exact path, so that a caller who wants only the minimum margin does not pay for the map (about ten
    times the margin's own cost for a three-probe union). Pickling computes the map and stores a plain one."""

    def __init__(self, compute):  # the dataclass __init__ is not called: the fields arrive on first use
        object.__setattr__(self, "_compute", compute)

    def __getattr__(self, name):  # only called for attributes not set yet
        if name.startswith("__") or name == "_compute":
            raise AttributeError(name)
        done = self._compute()
        for f in ("points_mm", "margins_mm", "area_mm2", "included", "faces"):
            object.__setattr__(self, f, getattr(done, f))
        object.__setattr__(self, "_compute", None)
        return object.__getattribute__(self, name)

    def __reduce__(self):
        return (MarginMap, (self.points_mm, self.margins_mm, self.area_mm2, self.included, self.faces))


@dataclass(frozen=True, eq=False)
class MarginResult:
    """What :func:`ablasim.measure_margin` found.

    Attributes
    ----------
    min_margin_mm : signed minimum margin. Positive: the zone extends at least this far beyond the tumour surface
        everywhere (the thinnest point). Negative: the tumour protrudes this far outside the zone.
    coverage : tumour volume inside the zone / tumour volume, in [0, 1].
    coverage_error : estimate of the absolute error of ``coverage``.
    uncovered_volume_mm3 : tumour volume outside the zone.
    tumor_volume_mm3 : tumour volume.
    thinnest_point_mm : tumour point where the minimum is attained.
    zone_point_mm : the nearest point of the zone boundary to it.
    method : ``"exact"`` (analytic geometry), ``"isosurface"`` (implicit zones), ``"mesh"`` (tumour masks: exact
        distances between reconstructed surfaces) or ``"voxel-edt"`` (the edt screening method).
    error_bound_mm : bound on ``min_margin_mm - true minimum`` (>= 0; see docs/methods.md for each method).
    feature : where the minimum lies: ``"surface"``, ``"crease"`` or ``"triple-point"`` (covered case),
        ``"protrusion"``, ``"ridge"`` or ``"interior"`` (uncovered case), ``"voxel"``; the mesh method:
        ``"surface"``, ``"interior"`` or ``"exclusion-edge"``.
    margin_map : :class:`MarginMap` on the tumour surface (None when not requested: ``map_resolution_mm=None``);
        the exact path computes it when it is first used (:class:`DeferredMarginMap`).
    excluded_area_fraction : fraction of the tumour surface left out by capsule exclusion.
    warnings : what the caller should know about this measurement (e.g. a tumour lying outside the organ whose
        capsule is excluded).
    """

    min_margin_mm: float
    coverage: float
    coverage_error: float
    uncovered_volume_mm3: float
    tumor_volume_mm3: float
    thinnest_point_mm: np.ndarray
    zone_point_mm: np.ndarray
    method: str
    error_bound_mm: float
    feature: str
    margin_map: MarginMap | None
    excluded_area_fraction: float = 0.0
    warnings: tuple[str, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "thinnest_point_mm", _readonly(self.thinnest_point_mm))
        object.__setattr__(self, "zone_point_mm", _readonly(self.zone_point_mm))

    @property
    def covered(self) -> bool:
        """True when the tumour lies entirely inside the zone (``min_margin_mm >= 0``)."""
        return self.min_margin_mm >= 0.0

    def __repr__(self) -> str:
        return (
            f"MarginResult(min_margin_mm={self.min_margin_mm:+.4f}, coverage={self.coverage:.4f}, "
            f"feature={self.feature!r}, method={self.method!r}, error_bound_mm={self.error_bound_mm:.3g}"
            + (f", warnings={list(self.warnings)!r}" if self.warnings else "")
            + ")"
        )

    def meets(self, required_margin_mm: float) -> bool:
        """True when the minimum margin is at least ``required_margin_mm``."""
        return self.min_margin_mm >= as_float(required_margin_mm, "required_margin_mm")

    def summary(self) -> dict:
        """Scalars only, JSON-friendly."""
        mm = self.margin_map
        out = {
            "min_margin_mm": float(self.min_margin_mm),
            "coverage": float(self.coverage),
            "coverage_error": float(self.coverage_error),
            "uncovered_volume_mm3": float(self.uncovered_volume_mm3),
            "tumor_volume_mm3": float(self.tumor_volume_mm3),
            "thinnest_point_mm": [float(v) for v in self.thinnest_point_mm],
            "zone_point_mm": [float(v) for v in self.zone_point_mm],
            "method": self.method,
            "error_bound_mm": float(self.error_bound_mm),
            "feature": self.feature,
            "excluded_area_fraction": float(self.excluded_area_fraction),
            "warnings": list(self.warnings),
        }
        if mm is not None:
            out["margin_percentiles_mm"] = {str(q): float(mm.percentile(q)) for q in (0, 5, 25, 50, 75, 95, 100)}
            out["surface_fraction_below_mm"] = {str(t): float(mm.fraction_below(t)) for t in (0.0, 2.0, 5.0, 6.0, 10.0)}
        return out
