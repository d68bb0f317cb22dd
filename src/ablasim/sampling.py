"""One plan, many deliveries: the distribution of the minimum margin and coverage under placement, zone-size and
registration uncertainty, and the probability that a margin is reached."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import as_float
from .catalog import default_catalog
from .errors import ValidationError
from .metrics.exact import margin_arrays
from .stats import probability_curve, wilson
from .uncertainty import Uncertainty, case_rng, draws_per_case, perturbed_zones

__all__ = ["SampleResult", "sample_margins"]


@dataclass(frozen=True)
class SampleResult:
    margins_mm: np.ndarray
    coverage: np.ndarray
    seed: int

    @property
    def n(self) -> int:
        return len(self.margins_mm)

    def probability(self, threshold_mm: float, confidence: float = 0.95) -> tuple[float, float, float]:
        """P(margin >= threshold) with its Wilson interval: (estimate, low, high)."""
        t = as_float(threshold_mm, "threshold_mm")
        return wilson(int(np.count_nonzero(self.margins_mm >= t)), self.n, confidence)

    def curve(self, thresholds_mm, confidence: float = 0.95) -> list[dict]:
        """The margin-probability curve: P(margin >= t) for each t."""
        return probability_curve(self.margins_mm, thresholds_mm, confidence)


def sample_margins(
    tumor,
    probes,
    uncertainty: Uncertainty,
    n_samples: int,
    seed: int,
    *,
    catalog=None,
    isotherm_c=None,
    zone_settings=None,
    resolution_mm: float = 1.0,
    coverage_polar: int = 64,
) -> SampleResult:
    """Margins of ``tumor`` against the union of ``probes``' catalog zones perturbed ``n_samples`` times.

    Sample ``i`` draws from ``SeedSequence(seed, spawn_key=(i,))``: the same (seed, i) always gives the same
    delivery. ``zone_settings``: protocol / power_w / duration_s / zone_scale for the catalog zones.
    """
    if not isinstance(uncertainty, Uncertainty):
        raise ValidationError("uncertainty", uncertainty, "expected an ablasim.workflows.cohorts.Uncertainty")
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValidationError("n_samples", n_samples, "expected a positive integer")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValidationError("seed", seed, "expected a non-negative integer")
    probes = list(probes)
    if not probes:
        raise ValidationError("probes", probes, "give at least one Probe")
    cat = catalog if catalog is not None else default_catalog()
    settings = dict(zone_settings or {})
    scale = settings.pop("zone_scale", 1.0)
    specs = []
    for p in probes:
        iso = (0.0 if isotherm_c is None else isotherm_c) if cat[p.model].modality == "cryo" else None
        specs.append(p.zone_spec(cat, isotherm_c=iso, zone_scale=scale, **settings))
    margins = np.empty(n_samples)
    coverage = np.empty(n_samples)
    tumour = (tumor.center_mm, tumor.rotation, tumor.semi_axes_mm)
    for i in range(n_samples):
        z = case_rng(seed, i).standard_normal(draws_per_case(len(probes)))
        zones = perturbed_zones(probes, specs, uncertainty, z, tumor.center_mm)
        zc = np.array([e.center_mm for e in zones])
        zr = np.array([e.rotation for e in zones])
        ze = np.array([e.semi_axes_mm for e in zones])
        margins[i], coverage[i], _, _, _ = margin_arrays(*tumour, zc, zr, ze, resolution_mm, coverage_polar)
    return SampleResult(margins, coverage, int(seed))
