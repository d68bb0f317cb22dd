"""The optimiser: the smallest number of probes that meets the robust target, then the best robust margin.

For each probe count ``n = 1, 2, ...`` up to the budget, and each allowed device:

1. **Volume bound** (union only): ``n`` zones too small to hold the tumour grown by the target margin in enough of
   the sampled deliveries rule ``n`` out without a search (:mod:`.feasibility`).
2. **Nominal search** (global, then local): structured layouts (a line along the tumour's long axis, a staggered
   tandem along the shaft, rings, ring and centre, ring and a staggered tandem pair, two rows, two staggered layers)
   at four spreads, seen along the entry direction and, when the cone allows, along the direction nearest the
   tumour's long axis; the best ``n - 1``-probe plan plus one probe (at the tumour centre, towards its thinnest
   point, or at eight places across it); seeded random perturbations of the best start. Candidates rank feasible
   first, then by the planned margin minus :data:`~.objective.PENALTY_PER_MM` per mm of broken hard constraint.
   The best start is polished by Nelder-Mead on that score, and so is a second one: the best ``n - 1``-plus-one
   start when its planned margin beats the best start's score (its new probe then still breaks a constraint),
   else a distinct start nearly as good.
3. **Robust check**: the best candidate's deliveries, sampled with common random numbers, stop as soon as too many
   miss the target for it to be met.

The first ``n`` at which a device meets the target is the answer; there, each device that meets it gets a robust
polish (Nelder-Mead on the robust objective over the first ``search_samples`` deliveries, kept only if it improves
the objective over all deliveries) and the best is returned. If no ``n`` within the budget meets the target, the
candidate with the best robust objective is returned (``met`` False). The search at ``n`` depends only on the
problem, the seed and the searches at smaller ``n``, never on the budget, so a larger budget never returns a worse
robust objective. Every step is deterministic for a seed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import PlanningError, ValidationError
from ..placement import check_placement
from ..rules import ROUNDING_FLOOR_MM
from ..stats import wilson
from .feasibility import check_possible, grown_volume_lower_bound, volume_factors, volume_rules_out, zone_volume_mm3
from .layout import Layout, shadow_axes
from .objective import PENALTY_PER_MM, Evaluator
from .problem import PlanProblem
from .result import Plan, Step

__all__ = ["plan"]

SPREADS = (0.3, 0.5, 0.7, 0.9)  # structured layouts, in units of the tumour's shadow semi-axes
SECOND_START_WITHIN_MM = 1.0  # without an n - 1 plan, a second start is polished when this close to the best
N_RANDOM = 3  # seeded random perturbations of the best start
FINAL_COVERAGE_POLAR = 192  # coverage of the plan reported: the exact path's default ray grid

Progress = Callable[[str], None]


@dataclass
class _Candidate:
    device_index: int
    ev: Evaluator
    x: np.ndarray
    margin: float
    margins: np.ndarray  # delivered (NaN where cut short)
    bounds: np.ndarray
    met: bool

    @property
    def complete(self) -> bool:
        return not np.isnan(self.margins).any()

    @property
    def q(self) -> float | None:
        return self.ev.robust_value(self.margins) if self.complete else None

    @property
    def score(self) -> float:
        """``q`` of a complete candidate (ranking an incomplete one is a bug)."""
        q = self.q
        if q is None:
            raise RuntimeError("internal error: ranking a plan whose deliveries are not all measured")
        return q


def plan(problem: PlanProblem, *, seed: int = 0, progress: Progress | None = None) -> Plan:
    """Plan ``problem`` (see the module docstring); ``progress(message)`` is called at each step.

    Raises :class:`~ablasim.errors.PlanningError` when no plan can exist (an organ at risk in the way, too few
    probes whatever their placement, no placement that respects the hard constraints).
    """
    if not isinstance(problem, PlanProblem):
        raise ValidationError("problem", problem, "expected an ablasim.planning.PlanProblem")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValidationError("seed", seed, "expected a non-negative integer")
    say = progress or (lambda message: None)
    check_possible(problem)
    t0 = time.perf_counter()
    opts = problem.search
    n_all = opts.n_samples
    give_up = problem.quantile_index(n_all)  # misses allowed: N - k
    history: list[Step] = []
    found: list[_Candidate] = []
    previous: dict[int, tuple[int, np.ndarray]] = {}
    met_here: list[_Candidate] = []
    evaluators: list[Evaluator] = []
    for n in range(1, problem.max_probes + 1):
        for di, device in enumerate(problem.devices):
            t_step = time.perf_counter()
            ev = Evaluator(problem, device, n, int(seed))
            evaluators.append(ev)
            if volume_rules_out(
                problem, zone_volume_mm3(ev.spec), n, volume_factors(ev.draws, n, problem.uncertainty.zone_scale_sd)
            ):
                history.append(Step(device.label, n, "ruled out", None, None, 0, 0.0, "zones too small (volume bound)"))
                continue
            say(f"{device.label}, {n} probe(s): searching placements")
            rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(2, di, n)))
            prev = previous.get(di)  # the best (n - 1)-probe plan of this device, if that count was searched
            x, margin, _ = _search(ev, prev[1] if prev is not None and prev[0] == n - 1 else None, rng)
            chk = ev.check(ev.probes(x), exact=True)  # the search's clearances may be sampled: decide on exact ones
            previous[di] = (n, x)
            if not chk.feasible:
                broken = ", ".join(f"{k} by {v:.1f} mm" for k, v in chk.violations.items())
                history.append(
                    Step(device.label, n, "infeasible", margin, None, ev.evaluations, _since(t_step), broken)
                )
                continue
            say(f"{device.label}, {n} probe(s): planned margin {margin:+.2f} mm; sampling {n_all} deliveries")
            margins, bounds = ev.delivered(x, range(n_all), opts.resolution_mm, give_up_above=give_up)
            cand = _Candidate(di, ev, x, margin, margins, bounds, False)
            cand.met = cand.complete and _meets(cand.q, problem)
            found.append(cand)
            history.append(
                Step(
                    device.label,
                    n,
                    "met" if cand.met else "missed",
                    margin,
                    cand.q,
                    ev.evaluations,
                    _since(t_step),
                    "" if cand.complete else "sampling stopped: too many deliveries miss the target",
                )
            )
            if cand.met:
                met_here.append(cand)
        if met_here:
            break
    if not found:
        raise PlanningError(_why_none(problem, history))
    if met_here:
        for cand in met_here:
            if opts.robust_polish_evals:
                say(f"{cand.ev.device.label}, {cand.ev.n} probe(s): target met; robust polish")
                _robust_polish(cand)
        choice = max(met_here, key=lambda c: c.score)
    else:
        for cand in found:
            if not cand.complete:
                say(f"{cand.ev.device.label}, {cand.ev.n} probe(s): completing the deliveries")
                cand.margins, cand.bounds = cand.ev.delivered(cand.x, range(n_all), opts.resolution_mm)
        choice = max(found, key=lambda c: c.score)  # ties: the first found (fewest probes, first device)
    say("measuring the plan")
    return _finish(problem, choice, history, int(seed), t0, evaluators)


def _since(t: float) -> float:
    return time.perf_counter() - t


def _meets(q: float | None, problem: PlanProblem) -> bool:
    t = problem.target.min_margin_mm
    return q is not None and q >= t - ROUNDING_FLOOR_MM * max(1.0, abs(t))


def _why_none(problem: PlanProblem, history: list[Step]) -> str:
    t = problem.target.min_margin_mm
    if all(s.outcome == "ruled out" for s in history):
        need = grown_volume_lower_bound(problem.tumor, t)
        return (
            f"no plan exists: the tumour grown by the {t:g} mm target holds at least {need:.0f} mm3, more than "
            f"{problem.max_probes} zones of any allowed device hold in {100 * problem.probability:g} % of the "
            f"sampled deliveries; allow more probes, a larger device, or a smaller target"
        )
    broken = sorted({s.note for s in history if s.outcome == "infeasible"})
    return "no feasible placement: every candidate broke a hard constraint (" + "; ".join(broken) + ")"


# ---- nominal search ---------------------------------------------------------------------------------------------
def _directions(ev: Evaluator) -> list[np.ndarray]:
    lay = ev.layout
    out = [lay.entry.copy()]
    if lay.max_angle > 0:
        t = ev.problem.tumor
        axis = t.rotation[:, int(np.argmax(t.semi_axes_mm))]
        axis = axis if axis @ lay.entry >= 0 else -axis
        d = lay.clip_direction(axis)
        if float(d @ lay.entry) < np.cos(np.deg2rad(1.0)):
            out.append(d)
    return out


def _grow(ev: Evaluator, prev_x: np.ndarray) -> list[np.ndarray]:
    """The best ``n - 1``-probe plan plus one probe: at the tumour centre, towards its thinnest point, or at half the
    tumour's outline in eight directions across the shaft (one of which usually keeps every constraint)."""
    lay, ap = ev.layout, ev.problem.approach
    centres, dirs = Layout(lay.tumor, lay.n - 1, lay.entry, ap.max_angle_deg, ap.parallel).decode(prev_x)
    res = ev.margin(ev.zone(ev.probes_at(centres, dirs)), ev.problem.search.resolution_mm)
    c = lay.tumor.center_mm
    new = [c + frac * (res.thinnest_point_mm - c) for frac in (0.0, 0.5, 0.8, 1.0)]
    e1, e2, s1, s2, _ = shadow_axes(lay.tumor, dirs[0])
    new += [c + 0.5 * (np.cos(a) * s1 * e1 + np.sin(a) * s2 * e2) for a in np.arange(8) * np.pi / 4]
    return [lay.encode(np.vstack([centres, q]), np.vstack([dirs, dirs[:1]])) for q in new]


def _search(ev: Evaluator, prev_x: np.ndarray | None, rng: np.random.Generator):
    """Best ``(x, margin, check)`` of the nominal search. Candidates rank feasible first, then by score."""
    lay = ev.layout

    def rank(x):
        score, _, chk = ev.nominal(x)
        return (chk.feasible, score)

    starts = [lay.place(pat, s, d) for d in _directions(ev) for _, pat in lay.patterns() for s in SPREADS]
    grown = _grow(ev, prev_x) if prev_x is not None else []
    starts += grown
    step = 0.15 * float(ev.spec.semi_axes_mm[0])
    best = max(starts, key=rank)
    starts += [best + rng.standard_normal(lay.dim) * 2.0 * lay.steps(step) for _ in range(N_RANDOM)]
    order = sorted(range(len(starts)), key=lambda i: rank(starts[i]), reverse=True)  # stable: ties keep order
    chosen = [starts[order[0]]]
    g = max(grown, key=lambda x: ev.nominal(x)[0]) if grown else None
    if g is not None and ev.nominal(g)[1] > rank(chosen[0])[1] and not np.array_equal(g, chosen[0]):
        # the n - 1 plan plus one probe holds a larger planned margin than the best start but breaks a constraint
        # (the new probe too close, or towards an organ): the polish can move it
        chosen.append(g)
    else:  # the next distinct start, if it is as feasible and nearly as good
        top = rank(chosen[0])
        for i in order[1:]:
            r = rank(starts[i])
            if r[0] != top[0] or r[1] < top[1] - SECOND_START_WITHIN_MM:
                break
            if np.linalg.norm(starts[i] - chosen[0]) > 1.0:
                chosen.append(starts[i])
                break
    budget = ev.problem.search.polish_evals // max(1, len(chosen))
    polished = [_nelder_mead(lambda x: -ev.nominal(x)[0], x0, lay.steps(step), budget) for x0 in chosen]
    x = max(polished + chosen, key=rank)
    _, margin, chk = ev.nominal(x)
    return x, margin, chk


def _nelder_mead(fun, x0: np.ndarray, steps: np.ndarray, max_evals: int) -> np.ndarray:
    """Nelder-Mead from ``x0`` with ``max_evals`` evaluations: half from a simplex of ``steps``, the rest restarted
    from where the first half stopped with steps four times smaller (a restart lets the simplex, collapsed on a
    kink of the minimum margin, move on)."""
    from scipy.optimize import minimize  # deferred: importing scipy.optimize costs ~0.2 s of every command's start

    x = np.asarray(x0, dtype=float)
    for budget, scale in ((max_evals // 2, 1.0), (max_evals - max_evals // 2, 0.25)):
        if budget < len(x) + 2:
            continue
        simplex = np.vstack([x, x + np.diag(steps * scale)])
        res = minimize(
            fun,
            x,
            method="Nelder-Mead",
            options={"maxfev": budget, "initial_simplex": simplex, "xatol": 0.01, "fatol": 1e-4, "adaptive": True},
        )
        if res.fun <= fun(x):
            x = np.asarray(res.x, dtype=float)
    return x


# ---- robust polish ----------------------------------------------------------------------------------------------
def _robust_polish(cand: _Candidate) -> None:
    ev, opts = cand.ev, cand.ev.problem.search
    if opts.robust_polish_evals < ev.layout.dim + 2:
        return
    idx = range(opts.search_samples)

    def objective(x):
        chk = ev.nominal(x)[2]
        if not chk.feasible:
            return 1e3 + PENALTY_PER_MM * chk.total_mm
        margins, _ = ev.delivered(x, idx, opts.resolution_mm)
        return -ev.robust_value(margins)

    x = _nelder_mead(objective, cand.x, ev.layout.steps(0.5), opts.robust_polish_evals)
    if np.array_equal(x, cand.x) or not ev.check(ev.probes(x), exact=True).feasible:
        return
    margins, bounds = ev.delivered(x, range(opts.n_samples), opts.resolution_mm)
    q = ev.robust_value(margins)
    if q > cand.score:
        cand.x, cand.margin, cand.margins, cand.bounds = x, ev.nominal(x)[1], margins, bounds


# ---- the plan reported ------------------------------------------------------------------------------------------
def _finish(problem: PlanProblem, cand: _Candidate, history, seed: int, t0: float, evaluators) -> Plan:
    ev = cand.ev
    opts = problem.search
    probes = ev.probes(cand.x)
    nominal = ev.margin(ev.zone(probes), opts.final_resolution_mm, coverage_polar=FINAL_COVERAGE_POLAR)
    t = problem.target.min_margin_mm
    hits = int(np.count_nonzero(cand.margins >= t - ROUNDING_FLOOR_MM * max(1.0, abs(t))))
    p, lo, hi = wilson(hits, len(cand.margins), opts.confidence)
    chk = ev.check(probes, exact=True)
    ap = problem.approach
    warnings = [
        w.message
        for w in check_placement(
            probes,
            problem.tumor,
            catalog=problem.catalog,
            max_spacing_mm=ap.max_spacing_mm,
            min_spacing_mm=ap.min_spacing_mm,
            extrapolate=problem.extrapolate,
            **ev.device.settings(),
        )
    ]
    if not cand.met:
        warnings.insert(
            0,
            f"no plan with at most {problem.max_probes} probes meets the target: the best reaches "
            f"{t:g} mm in {100 * p:.1f} % of the deliveries (required {100 * problem.probability:g} %"
            + (", by the lower end of the confidence interval)" if problem.confident else ")"),
        )
    pct = np.percentile(cand.margins, [5, 50, 95])
    return Plan(
        problem=problem,
        device=ev.device,
        probes=tuple(probes),
        met=cand.met,
        isotherm_c=ev.iso,
        nominal=nominal,
        probability=p,
        ci_low=lo,
        ci_high=hi,
        n_samples=len(cand.margins),
        robust_margin_mm=float(ev.robust_value(cand.margins)),
        delivered_percentiles_mm={str(q): float(v) for q, v in zip((5, 50, 95), pct)},
        delivered_error_bound_mm=float(np.max(cand.bounds)),
        clearances_mm=dict(chk.clearances),
        warnings=tuple(warnings),
        history=tuple(history),
        seed=seed,
        seconds=time.perf_counter() - t0,
        evaluations=sum(e.evaluations for e in evaluators),
    )
