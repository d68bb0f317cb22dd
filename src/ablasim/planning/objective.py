"""What the optimiser measures: the nominal margin of a plan, its hard constraints, and its delivered margins under
the uncertainty with common random numbers (CRN).

Every candidate is measured by ablasim's margin engine: the exact path for a union of catalog ellipsoids
(margin-only mode), the isosurface path for the merged ice ball. Delivery ``i`` of a planning problem draws from
``SeedSequence(seed, spawn_key=(1, i))``: nine per-case numbers (zone scale, registration) first, then five per
probe, so the first ``n`` probes of an ``n + 1``-probe plan are perturbed exactly as the ``n`` probes of an
``n``-probe plan (a probe added to a plan never shrinks any delivered zone). Every candidate is compared on the
same deliveries, so the robust objective is a deterministic function of the plan.

The robust objective is the empirical quantile ``Q`` of the delivered margins at which the required probability is
read: with ``N`` deliveries and ``k = ceil(p N)`` of them required to meet the target, ``Q`` is the ``k``-th largest
margin, so ``Q >= target`` exactly when at least ``k`` deliveries meet it (P >= p).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..catalog import measured_isotherm
from ..geometry.shapes import Ellipsoid, _frame
from ..metrics.exact import exact_margin
from ..metrics.measure import measure_margin
from ..metrics.result import MarginResult
from ..placement import segment_distances, working_segments
from ..probes import Probe
from ..rules import ROUNDING_FLOOR_MM
from ..uncertainty import draws_per_case, perturbed_zones
from ..zones import SynergyZone
from .clearance import OrganSurface, clearance
from .layout import Layout
from .problem import Device, PlanProblem

__all__ = ["PENALTY_PER_MM", "Check", "Evaluator", "crn_draws"]

PENALTY_PER_MM = 10.0  # a constraint broken by 1 mm costs a candidate as much as 10 mm of margin during the search
COVERAGE_POLAR = 32  # ray grid of the coverage integral during the search (the margin does not depend on it)
SYNERGY_MAP_MM = 20.0  # the isosurface path always builds a surface map: the coarsest one during the search
_STREAM = 1  # spawn-key prefix of the planning deliveries (cohorts and sampling use one-element keys)


def crn_draws(seed: int, n_samples: int, n_probes: int) -> np.ndarray:
    """Standard normal numbers of every delivery, ``(n_samples, draws_per_case(n_probes))``, in the order
    :func:`ablasim.uncertainty.perturbed_zones` takes them (five per probe, then nine per case)."""
    out = np.empty((n_samples, draws_per_case(n_probes)))
    for i in range(n_samples):
        u = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_STREAM, i))).standard_normal(
            9 + 5 * n_probes
        )
        out[i, : 5 * n_probes] = u[9:]
        out[i, 5 * n_probes :] = u[:9]
    return out


@dataclass(frozen=True)
class Check:
    """Hard constraints of a plan: ``violations`` (name -> by how many mm it is broken; only broken ones) and the
    clearance to each organ at risk (mm)."""

    violations: dict = field(default_factory=dict)
    clearances: dict = field(default_factory=dict)

    @property
    def feasible(self) -> bool:
        return not self.violations

    @property
    def total_mm(self) -> float:
        return float(sum(self.violations.values()))


class Evaluator:
    """Margins and constraints of ``n``-probe plans with one device (counts every margin evaluation)."""

    def __init__(self, problem: PlanProblem, device: Device, n: int, seed: int):
        self.problem, self.device, self.n = problem, device, int(n)
        ap = problem.approach
        self.layout = Layout(problem.tumor, self.n, ap.unit_direction, ap.max_angle_deg, ap.parallel)
        self.iso = problem.target_isotherm(device)
        self.spec = problem.zone_spec(device, self.iso)
        self.segment_spec = problem.zone_spec(device, measured_isotherm(problem.modality(device)))
        self.synergy = problem.composition == "synergy"
        self.level_specs = (
            [(lv, problem.zone_spec(device, lv)) for lv in problem.levels(device)] if self.synergy else []
        )
        self.organs = []
        for o in problem.organs:
            iso = problem.organ_isotherm(device, o)
            self.organs.append((o, OrganSurface(o.shape), iso, problem.zone_spec(device, iso)))
        self.draws = crn_draws(seed, problem.search.n_samples, self.n)
        self.evaluations = 0  # margin evaluations, nominal and delivered
        self._cache: dict[bytes, tuple[float, float, Check]] = {}
        self._tumor_center = problem.tumor.center_mm

    # ---- geometry -------------------------------------------------------------------------------------------------
    def probes(self, x) -> list[Probe]:
        return self.probes_at(*self.layout.decode(x))

    def probes_at(self, centres, directions) -> list[Probe]:
        """Probes whose target-isotherm zones are centred at ``centres``."""
        off = self.spec.center_offset_mm
        return [Probe(c + off * d, d, self.device.model) for c, d in zip(centres, directions)]

    def zone(self, probes, isotherm_c=None, z=None, spec=None):
        """The zone of ``probes`` at ``isotherm_c`` (default: the target's), perturbed by the draws ``z`` (None:
        as planned): a list of Ellipsoids (union) or the merged ice ball."""
        iso = self.iso if isotherm_c is None else isotherm_c
        if not self.synergy:
            spec = spec or (self.spec if iso == self.iso else self.problem.zone_spec(self.device, iso))
            if z is None:
                return [_zone_of(p, spec) for p in probes]
            return perturbed_zones(probes, [spec] * len(probes), self.problem.uncertainty, z, self._tumor_center)
        unc, pivot = self.problem.uncertainty, self._tumor_center
        per_probe: list[list] = [[] for _ in probes]
        for lv, sp in self.level_specs:
            if z is None:
                ells = [_zone_of(p, sp) for p in probes]
            else:
                ells = perturbed_zones(probes, [sp] * len(probes), unc, z, pivot)
            for i, e in enumerate(ells):
                per_probe[i].append((lv, e))
        return SynergyZone(per_probe, 0.0 if iso is None else iso, tail_mm=self.problem.tail_mm)

    def margin(self, zone, resolution_mm: float, *, coverage_polar: int = COVERAGE_POLAR) -> MarginResult:
        self.evaluations += 1
        if isinstance(zone, list):
            return exact_margin(
                self.problem.tumor,
                zone,
                resolution_mm=resolution_mm,
                map_resolution_mm=None,
                coverage_polar=coverage_polar,
            )
        return measure_margin(self.problem.tumor, zone, resolution_mm=resolution_mm, map_resolution_mm=SYNERGY_MAP_MM)

    # ---- constraints ----------------------------------------------------------------------------------------------
    def check(self, probes, *, exact: bool = False) -> Check:
        """Hard constraints of ``probes``; clearances are exact when ``exact`` or within 1 mm of their limit (the
        search only needs to know whether they hold)."""
        ap = self.problem.approach
        viol: dict[str, float] = {}
        if len(probes) > 1:
            dist = segment_distances(working_segments(probes, [self.segment_spec] * len(probes)))
            iu = np.triu_indices(len(probes), 1)
            close = float(np.maximum(ap.min_spacing_mm - dist[iu], 0.0).sum())
            far = float(np.maximum(dist.min(axis=1) - ap.max_spacing_mm, 0.0).sum())
            if close > 0:
                viol["spacing (too close)"] = close
            if far > 0:
                viol["spacing (too far apart)"] = far
        if ap.max_tip_beyond_tumor_mm is not None:
            t = self.problem.tumor
            beyond = [
                float(p.tip_mm @ p.direction - t.center_mm @ p.direction - np.linalg.norm(t.linear_map.T @ p.direction))
                for p in probes
            ]
            over = float(np.maximum(np.array(beyond) - ap.max_tip_beyond_tumor_mm, 0.0).sum())
            if over > 0:
                viol["tip depth"] = over
        clear = {}
        for organ, surface, iso, spec in self.organs:
            c = clearance(
                surface,
                self.zone(probes, iso, spec=spec),
                refine_below=np.inf if exact else organ.min_distance_mm + 1.0,
            )
            clear[organ.name] = c
            if c < organ.min_distance_mm - ROUNDING_FLOOR_MM:
                viol[f"organ at risk {organ.name}"] = organ.min_distance_mm - c
        return Check(viol, clear)

    # ---- objectives -----------------------------------------------------------------------------------------------
    def nominal(self, x, resolution_mm: float | None = None) -> tuple[float, float, Check]:
        """``(score, margin, check)`` of the planned (unperturbed) zone: score = margin minus the penalty of broken
        constraints (cached per ``x``)."""
        res = self.problem.search.resolution_mm if resolution_mm is None else resolution_mm
        key = np.asarray(x, dtype=float).tobytes() + np.float64(res).tobytes()
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        probes = self.probes(x)
        chk = self.check(probes)
        m = self.margin(self.zone(probes), res).min_margin_mm
        out = (m - PENALTY_PER_MM * chk.total_mm, m, chk)
        self._cache[key] = out
        return out

    def delivered(
        self, x, indices, resolution_mm: float, *, give_up_above: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(margins, error bounds)`` of deliveries ``indices`` (NaN where not evaluated). ``give_up_above``:
        stop once more than this many deliveries miss the target (it can then no longer be met)."""
        probes = self.probes(x)
        target = self.problem.target.min_margin_mm
        tol = ROUNDING_FLOOR_MM * max(1.0, abs(target))
        margins = np.full(len(indices), np.nan)
        bounds = np.full(len(indices), np.nan)
        misses = 0
        for j, i in enumerate(indices):
            res = self.margin(self.zone(probes, z=self.draws[i]), resolution_mm)
            margins[j], bounds[j] = res.min_margin_mm, res.error_bound_mm
            if margins[j] < target - tol:
                misses += 1
                if give_up_above is not None and misses > give_up_above:
                    break
        return margins, bounds

    def robust_value(self, margins: np.ndarray) -> float:
        """The robust objective ``Q`` of fully evaluated delivered margins."""
        return float(np.sort(margins)[self.problem.quantile_index(len(margins))])


def _zone_of(probe: Probe, spec) -> Ellipsoid:
    """``probe.zone_from(spec)`` for a validated probe and catalog spec, without re-validating (hot path)."""
    axes = np.asarray(spec.semi_axes_mm, dtype=float)
    return Ellipsoid._unchecked(probe.tip_mm - spec.center_offset_mm * probe.direction, axes, _frame(probe.direction))
