"""The fixed planning benchmark: 32 tumours (10-60 mm, elongated, rotated, every third one beside an organ at risk),
one approach and uncertainty for every method, and one evaluation of every plan on fresh deliveries.

Every method plans IceRod cryoprobes (union of catalog 0 degC ice balls), parallel along the entry direction
(0, 0, 1), at most 8 probes, for a 5 mm margin; the robust target is P(margin >= 5 mm) >= 90 %. A plan is judged
on 400 deliveries drawn with :func:`ablasim.sample_margins` (seed :data:`EVAL_SEED`), which no planner sees.
Hard constraints (counted as violations): working segments 5-20 mm apart (:func:`ablasim.check_placement`), at
most 8 probes, each organ's clearance (0 degC ice edge) at least 3 mm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from ablasim import Ellipsoid, Rule, Uncertainty, check_placement, default_catalog, sample_margins
from ablasim.planning import Approach, Device, OrganAtRisk, PlanProblem, SearchOptions
from ablasim.planning.clearance import OrganSurface, clearance

SEED = 20250611
EVAL_SEED = 977
N_CASES = 32
N_EVAL = 400
MODEL = "IceRod"
BUDGET = 8
TARGET_MM = 5.0
PROBABILITY = 0.9
ENTRY = (0.0, 0.0, 1.0)
MIN_SPACING_MM, MAX_SPACING_MM = 5.0, 20.0
OAR_CLEARANCE_MM = 3.0
UNCERTAINTY = Uncertainty(
    tip_lateral_sd_mm=1.0,
    tip_axial_sd_mm=1.5,
    angle_sd_deg=1.5,
    zone_scale_sd=0.05,
    registration_shift_sd_mm=0.5,
    registration_rotation_sd_deg=0.5,
)


@dataclass(frozen=True)
class Case:
    index: int
    diameter_mm: float
    tumor: Ellipsoid
    organs: tuple


def benchmark_cases(n: int = N_CASES, seed: int = SEED) -> list[Case]:
    """The fixed set: diameters stratified over 10-60 mm, long/short axis ratio 1-1.6, random orientation; every
    third tumour has an organ (an ellipsoid 30 x 20 x 50 mm) beside it, 1-6 mm farther than the 5 mm margin plus
    the 3 mm clearance need, in a random direction across the entry direction."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        d = 10.0 + 50.0 * (i + rng.random()) / n
        elong = rng.uniform(1.0, 1.6)
        a = d / 2.0
        c = a / elong
        rot = Rotation.random(random_state=rng).as_matrix()
        tumor = Ellipsoid([0.0, 0.0, 0.0], [a, np.sqrt(a * c), c], rot)
        organs = ()
        if i % 3 == 0:
            phi = rng.uniform(0.0, 2.0 * np.pi)
            u = np.array([np.cos(phi), np.sin(phi), rng.uniform(-0.3, 0.3)])
            u /= np.linalg.norm(u)
            gap = TARGET_MM + OAR_CLEARANCE_MM + rng.uniform(1.0, 6.0)
            organs = (
                OrganAtRisk(
                    "organ", _organ_at(tumor, u, gap, Rotation.random(random_state=rng).as_matrix()), OAR_CLEARANCE_MM
                ),
            )
        out.append(Case(i, d, tumor, organs))
    return out


def _organ_at(tumor: Ellipsoid, u: np.ndarray, gap: float, rot) -> Ellipsoid:
    """The organ shape moved along ``u`` until it is ``gap`` mm from the tumour (bisection on the exact gap)."""
    lo, hi = 0.0, 200.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        organ = Ellipsoid(mid * u, [15.0, 10.0, 25.0], rot)
        if clearance(OrganSurface(organ), [tumor]) < gap:
            lo = mid
        else:
            hi = mid
    return Ellipsoid(hi * u, [15.0, 10.0, 25.0], rot)


def problem_for(case: Case, search: SearchOptions | None = None) -> PlanProblem:
    return PlanProblem(
        tumor=case.tumor,
        devices=(Device(MODEL),),
        target=Rule("benchmark-5mm", TARGET_MM),
        probability=PROBABILITY,
        max_probes=BUDGET,
        uncertainty=UNCERTAINTY,
        approach=Approach(direction=ENTRY, min_spacing_mm=MIN_SPACING_MM, max_spacing_mm=MAX_SPACING_MM),
        organs=case.organs,
        search=search or SearchOptions(),
    )


def evaluate(case: Case, probes, n: int = N_EVAL) -> dict:
    """P(margin >= 5 mm) on fresh deliveries with its Wilson interval, and the hard constraints a plan breaks."""
    out = {"probes": len(probes), "violations": [], "no_plan": not probes}
    if not probes:  # the method said no plan can exist: nothing delivered, nothing broken
        out.update(probability=0.0, ci=(0.0, 0.0), met=False)
        return out
    res = sample_margins(case.tumor, probes, UNCERTAINTY, n, EVAL_SEED)
    p, lo, hi = res.probability(TARGET_MM)
    out.update(probability=p, ci=(lo, hi), met=p >= PROBABILITY, median_margin_mm=float(np.median(res.margins_mm)))
    if len(probes) > BUDGET:
        out["violations"].append(f"{len(probes)} probes > {BUDGET}")
    codes = {
        w.code
        for w in check_placement(
            probes, case.tumor, min_spacing_mm=MIN_SPACING_MM, max_spacing_mm=MAX_SPACING_MM, catalog=default_catalog()
        )
    }
    out["violations"] += sorted(codes & {"too-close", "too-far-apart"})
    for o in case.organs:
        c = clearance(OrganSurface(o.shape), [p.zone() for p in probes])
        out["clearance_mm"] = c
        if c < o.min_distance_mm - 1e-9:
            out["violations"].append(f"organ clearance {c:.1f} mm < {o.min_distance_mm:g} mm")
    return out
