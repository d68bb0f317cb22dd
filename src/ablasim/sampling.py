"""One plan, many deliveries: the distribution of the minimum margin and coverage under placement, zone-size and
registration uncertainty, and the probability that a margin is reached."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import as_float
from .catalog import default_catalog, measured_isotherm
from .errors import ValidationError
from .metrics.exact import margin_arrays
from .stats import probability_curve, wilson
from .uncertainty import Uncertainty, case_rng, draws_per_case, perturbed_zones

__all__ = ["SampleResult", "check_sampling_args", "sample_margins"]


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


def check_sampling_args(n_samples: object, seed: object, *, names: tuple[str, str] = ("n_samples", "seed")) -> None:
    """Refuse a sample count that is not a positive integer or a seed that is not a non-negative integer."""
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValidationError(names[0], n_samples, "expected a positive number of deliveries")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValidationError(names[1], seed, "expected a non-negative integer")


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
    specs=None,
    resolution_mm: float = 1.0,
    coverage_polar: int = 64,
) -> SampleResult:
    """Margins of ``tumor`` against the union of ``probes``' catalog zones perturbed ``n_samples`` times.

    Sample ``i`` draws from ``SeedSequence(seed, spawn_key=(i,))``: the same (seed, i) always gives the same
    delivery. ``zone_settings``: protocol / power_w / duration_s / zone_scale for the catalog zones at
    ``isotherm_c`` (cryo; default the ice edge); or ``specs``: one ZoneSpec per probe, already resolved.
    """
    if not isinstance(uncertainty, Uncertainty):
        raise ValidationError("uncertainty", uncertainty, "expected an ablasim.Uncertainty")
    check_sampling_args(n_samples, seed)
    probes = list(probes)
    if not probes:
        raise ValidationError("probes", probes, "give at least one Probe")
    if specs is None:
        cat = catalog if catalog is not None else default_catalog()
        settings = dict(zone_settings or {})
        scale = settings.pop("zone_scale", 1.0)
        specs = [
            p.zone_spec(
                cat, isotherm_c=measured_isotherm(cat[p.model].modality, isotherm_c), zone_scale=scale, **settings
            )
            for p in probes
        ]
    elif len(specs) != len(probes):
        raise ValidationError("specs", specs, f"expected one ZoneSpec per probe ({len(probes)})")
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
