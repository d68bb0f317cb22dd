"""Planning a scenario file: read its ``[plan]`` table, plan, and turn the plan into a scenario that ``ablasim run``
accepts unchanged (the input document with the planned ``[[probes]]``; every other table kept)."""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path

from .._io import atomic_write_text
from ..planning import Plan, plan
from ..planning.optimiser import Progress
from ..scenario import Scenario, parse_scenario, read_toml
from ..scenario.plan_table import parse_plan_problem
from ._toml import dumps

__all__ = ["PlanOutcome", "plan_file", "planned_document", "write_planned_scenario"]


@dataclass(frozen=True, eq=False)
class PlanOutcome:
    """A plan, the scenario document that carries it (``document``: the input with the planned probes) and that
    scenario, validated (``scenario``: what ``ablasim run`` reads from the written file)."""

    plan: Plan
    document: dict
    scenario: Scenario
    source: str
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"source": self.source, **self.plan.to_dict(), "notes": list(self.notes)}


def plan_file(path: str | Path, *, seed: int = 0, progress: Progress | None = None) -> PlanOutcome:
    """Plan the scenario file ``path`` (its ``[plan]`` table; docs/planning.md)."""
    p = Path(path)
    doc = read_toml(p, "scenario")
    problem = parse_plan_problem(doc, source=str(p), base_dir=p.parent)
    result = plan(problem, seed=seed, progress=progress)
    planned = planned_document(doc, result)
    scenario = parse_scenario(planned, source=str(p), base_dir=p.parent)
    return PlanOutcome(result, planned, scenario, str(p), _notes(scenario, result))


def _notes(scenario: Scenario, result: Plan) -> tuple[str, ...]:
    """What the planner did not use of the scenario, where `ablasim run` will."""
    out = []
    if scenario.exclude is not None:
        out.append(
            "the planner measures the whole tumour surface: `ablasim run` leaves out the capsule of [exclude], so its "
            "margin can differ from the planned one"
        )
    m = scenario.measure
    if m.method == "voxel" or m.resolution_mm != result.problem.search.final_resolution_mm:
        out.append(
            f"[measure] (method {m.method}, resolution {m.resolution_mm:g} mm) differs from the planner's final "
            f"measurement (exact path, {result.problem.search.final_resolution_mm:g} mm): `ablasim run` may report "
            "a slightly different margin"
        )
    return tuple(out)


def planned_document(doc: dict, result: Plan) -> dict:
    """The scenario document ``doc`` with the planned probes instead of its ``[[probes]]`` and ``[[zones]]``,
    checking the plan's target."""
    out = copy.deepcopy(doc)
    out.pop("zones", None)
    settings = result.device.settings()
    out["probes"] = [
        {
            "name": f"P{i + 1}",
            "model": p.model,
            "tip_mm": [float(v) for v in p.tip_mm],
            "direction": [float(v) for v in p.direction],
            **settings,
        }
        for i, p in enumerate(result.probes)
    ]
    target = result.problem.target
    if target.name == "plan-target":
        rule = {"min_margin_mm": target.min_margin_mm, "description": target.description}
        if target.isotherm_c is not None:
            rule["isotherm_c"] = target.isotherm_c
        out.setdefault("custom_rules", {})["plan-target"] = rule
    elif target.name != "required-margin":
        names = out.get("rules", [])
        names = [names] if isinstance(names, str) else list(names)
        if target.name not in names and target.name not in out.get("custom_rules", {}):
            out["rules"] = [*names, target.name]
    return out


def _header(outcome: PlanOutcome) -> str:
    pl = outcome.plan
    pb = pl.problem
    iso = "" if pl.isotherm_c is None else f" at the {pl.isotherm_c:g} degC isotherm"
    lines = [
        f"Planned by ablasim plan from {Path(outcome.source).name} (seed {pl.seed}); run it with `ablasim run`.",
        f"{pl.n_probes} x {pl.device.label}, {pb.composition} zone model; target {pb.target.name}: "
        f"{pb.target.min_margin_mm:g} mm{iso} with P >= {100 * pb.probability:g} %.",
        f"Planned margin {pl.nominal.min_margin_mm:+.2f} mm (error bound {pl.nominal.error_bound_mm:.2g} mm); "
        f"P(margin >= {pb.target.min_margin_mm:g} mm) = {100 * pl.probability:.1f} % "
        f"({100 * pb.search.confidence:g} % CI {100 * pl.ci_low:.1f}-{100 * pl.ci_high:.1f} %) over "
        f"{pl.n_samples} sampled deliveries: {'meets' if pl.met else 'does NOT meet'} the target.",
    ]
    lines += [f"Clearance to {name}: {c:.2f} mm." for name, c in pl.clearances_mm.items()]
    return "\n".join(lines)


def write_planned_scenario(outcome: PlanOutcome, path: str | Path) -> Path:
    """Write the planned scenario (atomically); relative ``catalog`` and ``rule_files`` paths are rewritten
    relative to the new file's folder."""
    target = Path(path)
    doc = copy.deepcopy(outcome.document)
    src_dir = Path(outcome.source).parent
    for key in ("catalog", "rule_files"):
        if key in doc:
            items = [doc[key]] if isinstance(doc[key], str) else list(doc[key])
            moved = [_relocate(str(i), src_dir, target.parent) for i in items]
            doc[key] = moved[0] if isinstance(doc[key], str) else moved
    return atomic_write_text(target, dumps(doc, _header(outcome)))


def _relocate(item: str, src_dir: Path, dst_dir: Path) -> str:
    if os.path.isabs(item):
        return item
    return os.path.relpath((src_dir / item).resolve(), dst_dir.resolve())
