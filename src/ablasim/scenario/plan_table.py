"""The ``[plan]`` table of a scenario file into a :class:`~ablasim.planning.PlanProblem` (docs/planning.md).

The tumour comes from the scenario's single ``[[tumors]]`` entry, the zone model from ``[zone_model]``, the
uncertainty from ``[uncertainty]``, the rules from ``rules`` / ``rule_files`` / ``custom_rules``, the catalog from
``catalog``; ``[[probes]]`` and ``[[zones]]``, if any, are ignored (they are what the planner replaces). Every error
is a :class:`~ablasim.errors.ScenarioError` naming the file.
"""

from __future__ import annotations

from pathlib import Path

from .._validation import as_float
from ..catalog import ProbeCatalog, default_catalog
from ..errors import ValidationError
from ..planning import Approach, Device, OrganAtRisk, PlanProblem, SearchOptions
from ..planning.problem import devices_for
from ..rules import Rule
from ..uncertainty import Uncertainty
from .parse import _SHAPE, _check_keys, _ellipsoid, _list, _rules, _zone_model, naming_source, read_toml

__all__ = ["load_plan_problem", "parse_plan_problem"]

_PLAN = {
    "models",
    "devices",
    "max_probes",
    "rule",
    "margin_mm",
    "isotherm_c",
    "probability",
    "confident",
    "approach",
    "organs_at_risk",
    "search",
}
_DEVICE = {"model", "protocol", "power_w", "duration_s"}
_APPROACH = {"direction", "max_angle_deg", "parallel", "min_spacing_mm", "max_spacing_mm", "max_tip_beyond_tumor_mm"}
_ORGAN = _SHAPE | {"min_distance_mm", "isotherm_c"}
_SEARCH = {
    "n_samples",
    "search_samples",
    "resolution_mm",
    "final_resolution_mm",
    "polish_evals",
    "robust_polish_evals",
    "confidence",
}


def load_plan_problem(path: str | Path, catalog: ProbeCatalog | None = None) -> PlanProblem:
    """The planning problem of a scenario file with a ``[plan]`` table."""
    p = Path(path)
    return parse_plan_problem(read_toml(p, "scenario"), source=str(p), catalog=catalog, base_dir=p.parent)


def parse_plan_problem(
    doc: dict, *, source: str = "<scenario>", catalog: ProbeCatalog | None = None, base_dir: str | Path | None = None
) -> PlanProblem:
    """Validate the ``[plan]`` table of a parsed scenario document; errors name ``source``."""
    return naming_source(_parse, doc, source, catalog, base_dir)


def _parse(doc: dict, source: str, catalog: ProbeCatalog | None, base: Path) -> PlanProblem:
    if "plan" not in doc:
        raise ValidationError("plan", None, "missing: this scenario has no [plan] table (docs/planning.md)")
    plan = _check_keys(doc["plan"], _PLAN, "plan")
    if "catalog" in doc:
        catalog = ProbeCatalog.from_toml(*[base / str(c) for c in _list(doc, "catalog")])
    cat = catalog or default_catalog()
    tumors = doc.get("tumors", [])
    if not isinstance(tumors, list) or len(tumors) != 1:
        raise ValidationError(
            "tumors", len(tumors) if isinstance(tumors, list) else tumors, "planning takes exactly one [[tumors]] entry"
        )
    tumor = _ellipsoid(tumors[0], "tumors[0]")
    name = str(tumors[0].get("name", "tumor1"))
    zm = _zone_model(doc.get("zone_model", {}))
    unc = doc.get("uncertainty", {})
    if not isinstance(unc, dict):
        raise ValidationError("uncertainty", unc, "must be a table")
    search = plan.get("search", {})
    _check_keys(search, _SEARCH, "plan.search")
    return PlanProblem(
        tumor=tumor,
        devices=_devices(plan, cat),
        target=_target(plan, doc, base, source),
        probability=plan.get("probability", 0.9),
        confident=plan.get("confident", False),
        max_probes=plan.get("max_probes", 6),
        uncertainty=Uncertainty.from_dict(unc),
        composition=zm.composition,
        zone_scale=zm.zone_scale,
        tail_mm=zm.tail_mm,
        isotherm_c=zm.isotherm_c,
        extrapolate=zm.extrapolate,
        approach=_approach(plan.get("approach", {})),
        organs=tuple(_organ(o, f"plan.organs_at_risk[{i}]") for i, o in enumerate(_list(plan, "organs_at_risk"))),
        search=SearchOptions(**search),
        catalog=cat,
        tumor_name=name,
    )


def _devices(plan: dict, cat: ProbeCatalog) -> tuple[Device, ...]:
    if ("models" in plan) == ("devices" in plan):
        raise ValidationError(
            "plan", sorted(plan), "give the allowed devices as models = [...] or as [[plan.devices]] tables (one)"
        )
    if "devices" in plan:
        out = []
        for i, d in enumerate(_list(plan, "devices")):
            _check_keys(d, _DEVICE, f"plan.devices[{i}]")
            if "model" not in d:
                raise ValidationError(f"plan.devices[{i}].model", None, "missing")
            out.append(Device(**d))
        return tuple(out)
    return devices_for(_list(plan, "models"), cat)


def _target(plan: dict, doc: dict, base: Path, source: str) -> Rule:
    if "rule" in plan and "margin_mm" in plan:
        raise ValidationError("plan", ["rule", "margin_mm"], "give the target as rule or as margin_mm, not both")
    if "isotherm_c" in plan and "margin_mm" not in plan:
        raise ValidationError("plan.isotherm_c", plan["isotherm_c"], "only with margin_mm (a rule has its own)")
    if "margin_mm" in plan:
        iso = plan.get("isotherm_c")
        return Rule(
            "plan-target",
            as_float(plan["margin_mm"], "plan.margin_mm"),
            None if iso is None else as_float(iso, "plan.isotherm_c", maximum=0.0),
            description="the [plan] table's margin_mm",
        )
    rules = {r.name: r for r in _rules(doc, base, source)}
    if "rule" in plan:
        if plan["rule"] in rules:
            return rules[plan["rule"]]
        return _rules({**doc, "rules": [str(plan["rule"])]}, base, source)[0]  # a rule set name not listed above
    if "required_margin_mm" in doc and not rules:
        return Rule("required-margin", as_float(doc["required_margin_mm"], "required_margin_mm"))
    if len(rules) == 1:
        return next(iter(rules.values()))
    raise ValidationError(
        "plan", None, "name the target: rule = NAME or margin_mm = X (the scenario does not check exactly one rule)"
    )


def _approach(table) -> Approach:
    _check_keys(table, _APPROACH, "plan.approach")
    return Approach(**table)


def _organ(table, where: str) -> OrganAtRisk:
    if not isinstance(table, dict):
        raise ValidationError(where, table, "must be a table")
    _check_keys(table, _ORGAN, where)
    shape = _ellipsoid({k: v for k, v in table.items() if k in _SHAPE}, where)
    return OrganAtRisk(
        str(table.get("name", where)),
        shape,
        table.get("min_distance_mm", 0.0),
        table.get("isotherm_c"),
    )
