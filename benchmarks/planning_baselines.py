"""Baseline planners, written from their published descriptions (no code of theirs), for the planning benchmark.

* :func:`fixed_table`: the probe table of today's cohorts (examples/cohort_liver.toml): the number of probes and
  their spacing by tumour diameter, a parallel array (:func:`ablasim.parallel_array`) along the entry direction.
* :func:`greedy_cover` (MITK-like): the tumour grown by the margin, sampled as points, is covered with zones by a
  randomised greedy search: the first zone at the tumour centre, then repeatedly a random uncovered point and the
  candidate centre (among uncovered points near it) that covers the most uncovered points, until every point is
  covered; zones not needed are removed; of several randomised runs the one with the fewest zones is kept. It knows
  neither the uncertainty, nor spacing limits, nor organs at risk.
* :func:`cryomc` (CryoMC-like): for a chosen number of probes, Nelder-Mead (at most 100 evaluations) on the
  positions, maximising P(coverage >= 96 %)^2 x mean coverage of the target volume (the tumour grown by the margin)
  over Monte-Carlo placement errors; here the number of probes grows from 1 until that probability reaches the
  required one. The Dice term of the original objective is left out (it needs the zone's volume outside the target);
  the Monte-Carlo draws are fixed per run (common random numbers) so that Nelder-Mead sees a deterministic function.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from ablasim import Probe, default_catalog, parallel_array
from ablasim.metrics.exact import exact_margin
from ablasim.uncertainty import draws_per_case, perturbed_zones

from .planning_cases import BUDGET, ENTRY, MODEL, PROBABILITY, TARGET_MM, UNCERTAINTY, Case

# examples/cohort_liver.toml: (largest diameter below, probes, spacing mm)
COHORT_TABLE = ((15.0, 1, 10.0), (25.0, 2, 12.0), (35.0, 3, 15.0), (45.0, 4, 16.0), (60.0, 5, 16.0), (1e9, 6, 17.0))


def _spec():
    return default_catalog()[MODEL].zone_spec()


def _probes_at(centres, d) -> list[Probe]:
    off = _spec().center_offset_mm
    return [Probe(c + off * d, d, MODEL) for c in centres]


def fixed_table(case: Case) -> list[Probe]:
    diameter = 2.0 * float(case.tumor.semi_axes_mm.max())
    _, n, spacing = next(row for row in COHORT_TABLE if diameter < row[0])
    return parallel_array(case.tumor, n, MODEL, spacing_mm=spacing, direction=ENTRY)


# ---- MITK-like randomised greedy cover ---------------------------------------------------------------------------
def _target_points(case: Case, step_mm: float = 1.5) -> np.ndarray:
    t = case.tumor
    lo, hi = t.bounding_box()
    axes = [np.arange(a - TARGET_MM, b + TARGET_MM + step_mm, step_mm) for a, b in zip(lo, hi)]
    pts = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    return pts[t.signed_distance(pts) <= TARGET_MM]


def _inside(centres: np.ndarray, pts: np.ndarray, d: np.ndarray) -> np.ndarray:
    """(zones, points) boolean: which points each zone (catalog ellipsoid centred at ``centres``) contains."""
    spec = _spec()
    zone = Probe(np.zeros(3), d, MODEL).zone_from(spec.semi_axes_mm, 0.0)
    local = (pts[None, :, :] - centres[:, None, :]) @ zone.rotation / zone.semi_axes_mm
    return (local**2).sum(axis=2) <= 1.0


def greedy_cover(case: Case, seed: int = 0, runs: int = 20, candidates: int = 30) -> list[Probe]:
    d = np.asarray(ENTRY, dtype=float)
    pts = _target_points(case)
    rng = np.random.default_rng(seed)
    radial = float(_spec().semi_axes_mm[0])
    best = None
    for _ in range(runs):
        centres = [case.tumor.center_mm.copy()]
        covered = _inside(np.array(centres), pts, d)[0]
        while not covered.all() and len(centres) < 3 * BUDGET:
            todo = np.flatnonzero(~covered)
            u = pts[rng.choice(todo)]
            near = todo[np.linalg.norm(pts[todo] - u, axis=1) <= radial]
            pick = rng.choice(near, size=min(candidates, len(near)), replace=False)
            cands = np.vstack([u, pts[pick]])
            gain = (_inside(cands, pts, d) & ~covered).sum(axis=1)
            centres.append(cands[int(np.argmax(gain))])
            covered |= _inside(np.array(centres[-1:]), pts, d)[0]
        centres = _drop_unneeded(np.array(centres), pts, d)
        if best is None or len(centres) < len(best):
            best = centres
    return _probes_at(best, d)


def _drop_unneeded(centres: np.ndarray, pts: np.ndarray, d: np.ndarray) -> np.ndarray:
    inside = _inside(centres, pts, d)
    keep = list(range(len(centres)))
    for k in reversed(range(len(centres))):
        rest = [j for j in keep if j != k]
        if rest and inside[rest].any(axis=0).all():
            keep = rest
    return centres[keep]


# ---- CryoMC-like Nelder-Mead on P(coverage >= 96 %) ------------------------------------------------------------
def cryomc(case: Case, seed: int = 0, n_mc: int = 16, max_evals: int = 100) -> list[Probe]:
    d = np.asarray(ENTRY, dtype=float)
    target = case.tumor.grown(TARGET_MM)  # the target volume (semi-axes + margin: a contoured tumour + margin)
    spec = _spec()
    draws = np.random.default_rng(seed).standard_normal((n_mc, draws_per_case(BUDGET)))
    last = None
    for n in range(1, BUDGET + 1):
        spacing = next(row[2] for row in COHORT_TABLE if row[1] >= n) if n <= 6 else 17.0
        start = parallel_array(case.tumor, n, MODEL, spacing_mm=spacing, direction=ENTRY)
        x0 = np.concatenate([p.tip_mm - spec.center_offset_mm * d for p in start])
        z = np.hstack([draws[:, : 5 * n], draws[:, 5 * BUDGET :]])

        def score(x, n=n, z=z):
            probes = _probes_at(x.reshape(n, 3), d)
            cov = np.array(
                [
                    exact_margin(
                        target,
                        perturbed_zones(probes, [spec] * n, UNCERTAINTY, zi, target.center_mm),
                        resolution_mm=2.0,
                        map_resolution_mm=None,
                        coverage_polar=32,
                    ).coverage
                    for zi in z
                ]
            )
            return float(np.mean(cov >= 0.96)), float(cov.mean())

        def objective(x, score=score):
            p, mean_cov = score(x)
            return -(p**2) * mean_cov

        res = minimize(
            objective,
            x0,
            method="Nelder-Mead",
            options={"maxfev": max_evals, "xatol": 0.1, "fatol": 0.02},
        )
        last = _probes_at(res.x.reshape(n, 3), d)
        if score(res.x)[0] >= PROBABILITY:
            break
    return last
