"""Whether a plan can exist, decided before any search, with the reason when it cannot.

* An organ at risk that overlaps the tumour (or lies inside it): every zone that covers the tumour reaches it.
* An organ at risk closer to the tumour than ``target + min_distance``: a zone reaching ``target`` beyond the
  tumour towards the organ and staying ``min_distance`` from it needs that much room. Rigorous for the planned zone
  when the organ's isotherm is at least as warm as the target's (its zone then contains the target's zone); applied
  when the required probability is at least one half (the planned zone must then, in practice, meet the target).
* A tip-depth limit that keeps every zone's distal end short of the tumour's far side plus the target.
* Too few probes (union of catalog zones only): ``n`` zones hold at most ``n`` times one zone's volume; a delivery
  whose zones hold less than the tumour grown by the target margin (:func:`grown_volume_lower_bound`) cannot meet
  it. Counted on the sampled deliveries themselves (their zone-size factors), so "ruled out" is exact for the
  deliveries the plan is judged on.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import PlanningError
from ..geometry.shapes import Ellipsoid
from .clearance import OrganSurface, clearance
from .problem import PlanProblem

__all__ = ["check_possible", "grown_volume_lower_bound", "volume_rules_out", "zone_volume_mm3"]


def zone_volume_mm3(spec) -> float:
    a = spec.semi_axes_mm
    return 4.0 / 3.0 * math.pi * a[0] * a[1] * a[2]


def grown_volume_lower_bound(tumor: Ellipsoid, t_mm: float) -> float:
    """A lower bound on the volume of the tumour grown by ``t_mm`` (Steiner's formula ``V + S t + M t^2 +
    4/3 pi t^3``, the mean-curvature integral ``M = 2 pi (mean width)`` bounded below by ``4 pi c_min``, ``c_min``
    the smallest semi-axis; exact for a sphere). A negative margin asks for no volume at all: 0."""
    if t_mm < 0:
        return 0.0
    c = float(tumor.semi_axes_mm.min())
    return (
        tumor.volume_mm3 + tumor.surface_area_mm2 * t_mm + 4.0 * math.pi * c * t_mm**2 + 4.0 / 3.0 * math.pi * t_mm**3
    )


def volume_rules_out(problem: PlanProblem, zone_volume: float, n: int, volume_factors: np.ndarray) -> bool:
    """True when fewer deliveries than the decision needs (:meth:`PlanProblem.required_successes`) can meet the
    target: their ``n`` zones (each ``zone_volume`` times the delivery's zone-size factor) hold less than the grown
    tumour. Union of catalog zones only."""
    if problem.composition != "union":
        return False
    need = grown_volume_lower_bound(problem.tumor, problem.target.min_margin_mm)
    possible = int(np.count_nonzero(n * zone_volume * volume_factors >= need))
    return possible < problem.required_successes(len(volume_factors))


def volume_factors(draws: np.ndarray, n_probes: int, zone_scale_sd) -> np.ndarray:
    """Per delivery, the factor by which the zone-size uncertainty multiplies every zone's volume."""
    return np.exp(draws[:, 5 * n_probes : 5 * n_probes + 3] @ np.asarray(zone_scale_sd, dtype=float))


def check_possible(problem: PlanProblem) -> None:
    """Raise :class:`~ablasim.errors.PlanningError` saying why no plan can exist (organs at risk in the way, a tip
    depth limit that keeps every zone short of the tumour's far side)."""
    t = problem.target.min_margin_mm
    limit = problem.approach.max_tip_beyond_tumor_mm
    if limit is not None and problem.probability >= 0.5:
        # along its shaft a zone reaches distal_beyond_tip_mm past the tip, the tip at most `limit` past the
        # tumour's far side: the margin at the far side's support point is at most their sum
        reach = max(problem.zone_spec(d, problem.target_isotherm(d)).distal_beyond_tip_mm for d in problem.devices)
        if limit + reach < t:
            raise PlanningError(
                f"no feasible placement: tips may pass the tumour's far side by at most {limit:g} mm and the zones "
                f"reach at most {reach:g} mm beyond their tips, so the margin at the far side is at most "
                f"{limit + reach:g} mm, short of the {t:g} mm target"
            )
    for organ in problem.organs:
        gap = clearance(OrganSurface(organ.shape), [problem.tumor])
        if gap <= 0.0:
            raise PlanningError(
                f"no plan exists: organ at risk {organ.name} overlaps the tumour {problem.tumor_name} (or lies inside "
                "it), so every zone that covers the tumour reaches the organ"
            )
        need = t + organ.min_distance_mm
        if problem.probability < 0.5 or need <= 0 or gap >= need:
            continue
        if all(_organ_zone_contains_target(problem, d, organ) for d in problem.devices):
            raise PlanningError(
                f"no plan exists: organ at risk {organ.name} is {gap:.1f} mm from the tumour {problem.tumor_name}, "
                f"but a {t:g} mm margin that stays {organ.min_distance_mm:g} mm from the organ needs at least "
                f"{need:g} mm between them"
            )


def _organ_zone_contains_target(problem: PlanProblem, device, organ) -> bool:
    """The zone the organ's clearance is measured on contains the target's zone (same or warmer isotherm)."""
    t_iso = problem.target_isotherm(device)
    o_iso = problem.organ_isotherm(device, organ)
    return t_iso is None or o_iso is None or o_iso >= t_iso
