"""Running a scenario: margins per tumour, rule checks at each rule's isotherm, placement checks, JSON output."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..catalog import default_catalog
from ..errors import ScenarioError
from ..rules import Rule, check_rule
from ..scenario.parse import Scenario

__all__ = ["ScenarioResult", "TumorOutcome", "run_scenario", "sample_scenario"]


@dataclass(frozen=True)
class TumorOutcome:
    name: str
    tumor: object  # Ellipsoid
    result: object  # MarginResult at the scenario's default isotherm
    checks: tuple  # RuleCheck per rule (and for required_margin_mm)
    placement: tuple  # PlacementWarning


@dataclass(frozen=True)
class ScenarioResult:
    scenario: Scenario
    outcomes: tuple

    @property
    def results(self):
        """``((tumour name, MarginResult), ...)``."""
        return tuple((o.name, o.result) for o in self.outcomes)

    def passed(self) -> bool | None:
        """Every check of every tumour passes (None when the scenario has no rule and no required margin)."""
        checks = [c for o in self.outcomes for c in o.checks]
        return None if not checks else all(c.passed for c in checks)

    def to_dict(self) -> dict:
        from .. import __version__

        sc = self.scenario
        cat = sc.catalog or default_catalog()
        probes = []
        for name, p, s in sc.probes:
            entry = {
                "name": name,
                "model": p.model,
                "tip_mm": p.tip_mm.tolist(),
                "direction": p.direction.tolist(),
                **dict(s.items()),
            }
            if "semi_axes_mm" not in s:
                m = cat[p.model]
                entry["provenance"] = {
                    "source": m.source,
                    "kind": m.kind,
                    "verified": m.verified,
                    "modality": m.modality,
                }
            probes.append(entry)
        zone = sc.zone()
        zone_desc = (
            [
                {
                    "center_mm": z.center_mm.tolist(),
                    "semi_axes_mm": z.semi_axes_mm.tolist(),
                    "rotation": z.rotation.tolist(),
                }
                for z in zone
            ]
            if isinstance(zone, list)
            else {"model": zone.description, "tail_mm": zone.tail_mm}
        )
        return {
            "ablasim_version": __version__,
            "scenario": {
                "name": sc.name,
                "description": sc.description,
                "source": sc.source,
                "required_margin_mm": sc.required_margin_mm,
                "zone_model": dict(sc.zone_model),
                "rules": [r.name for r in sc.rules],
            },
            "zone": {"ellipsoids" if isinstance(zone, list) else "implicit": zone_desc, "probes": probes},
            "tumors": [
                {
                    "name": o.name,
                    "ellipsoid": {
                        "center_mm": o.tumor.center_mm.tolist(),
                        "semi_axes_mm": o.tumor.semi_axes_mm.tolist(),
                        "rotation": o.tumor.rotation.tolist(),
                    },
                    **o.result.summary(),
                    "checks": [c.to_dict() for c in o.checks],
                    "placement_warnings": [w.message for w in o.placement],
                }
                for o in self.outcomes
            ],
            "passed": self.passed(),
        }


def _check_modalities(sc: Scenario) -> None:
    cat = sc.catalog or default_catalog()
    mods = {cat[p.model].modality for _, p, s in sc.probes if "semi_axes_mm" not in s}
    for rule in sc.rules:
        if rule.modality != "any" and mods and mods != {rule.modality}:
            raise ScenarioError(
                f"rule {rule.name} is for {rule.modality} ablation; this scenario's probes are "
                f"{', '.join(sorted(mods))}",
                sc.source,
            )


def run_scenario(scenario: Scenario) -> ScenarioResult:
    """Measure every tumour against the scenario's zone, check its rules (each at its own isotherm) and the
    probe placement."""
    from ..metrics.measure import measure_margin
    from ..placement import check_placement

    _check_modalities(scenario)
    grid = scenario.build_grid()
    opts = dict(scenario.measure)
    cat = scenario.catalog or default_catalog()
    cryo = any(cat[p.model].modality == "cryo" for _, p, s in scenario.probes if "semi_axes_mm" not in s)
    default_iso = scenario.zone_model.get("isotherm_c", 0.0 if cryo else None)
    zones = {}

    def zone_at(iso):
        key = iso if cryo else None
        if key not in zones:
            zones[key] = scenario.zone(key)
        return zones[key]

    rules = list(scenario.rules)
    if scenario.required_margin_mm is not None:
        rules.append(
            Rule(
                "required-margin",
                scenario.required_margin_mm,
                default_iso,
                description="required_margin_mm of the scenario",
            )
        )
    catalog_probes = [p for _, p, s in scenario.probes if "semi_axes_mm" not in s]
    settings = [s for _, _, s in scenario.probes if "semi_axes_mm" not in s]
    outcomes = []
    for name, tumor in scenario.tumors:
        measured = {}

        def measure(iso):
            key = iso if cryo else None
            if key not in measured:
                measured[key] = measure_margin(tumor, zone_at(key), grid=grid, exclude=scenario.exclude, **opts)
            return measured[key]

        result = measure(default_iso)
        checks = []
        for rule in rules:
            iso = rule.isotherm_c if rule.isotherm_c is not None else default_iso
            label = (f"{iso:g} degC isotherm" + (" (ice-ball edge)" if iso == 0 else "")) if cryo else "ablation zone"
            checks.append(check_rule(rule, measure(iso), tumor, zone_label=label))
        placement = ()
        if catalog_probes and len({tuple(sorted(s.items())) for s in settings}) <= 1:
            s0 = settings[0] if settings else {}
            placement = tuple(
                check_placement(
                    catalog_probes,
                    tumor,
                    catalog=cat,
                    protocol=s0.get("protocol"),
                    power_w=s0.get("power_w"),
                    duration_s=s0.get("duration_s"),
                    extrapolate=scenario.zone_model.get("extrapolate", False),
                )
            )
        outcomes.append(TumorOutcome(name, tumor, result, tuple(checks), placement))
    return ScenarioResult(scenario, tuple(outcomes))


def sample_scenario(scenario: Scenario, n_samples: int, seed: int = 0, *, confidence: float = 0.95) -> list[dict]:
    """Monte Carlo over the scenario's [uncertainty]: per tumour and check (rules and required margin, each at its
    isotherm), the probability that the delivered margin meets it, with its confidence interval, and the margin
    percentiles. Union of catalog probe zones only (explicit zones and the synergy model are not perturbed)."""
    from ..sampling import sample_margins
    from ..uncertainty import Uncertainty

    if scenario.zones or any("semi_axes_mm" in s for _, _, s in scenario.probes) or not scenario.probes:
        raise ScenarioError(
            "uncertainty sampling needs catalog probes only (no [[zones]], no explicit probe zones)", scenario.source
        )
    if scenario.zone_model.get("composition", "union") != "union":
        raise ScenarioError("uncertainty sampling supports the union zone model only", scenario.source)
    unc = scenario.uncertainty or Uncertainty()
    cat = scenario.catalog or default_catalog()
    probes = [p for _, p, _ in scenario.probes]
    settings = [s for _, _, s in scenario.probes]
    if len({tuple(sorted(s.items())) for s in settings}) > 1:
        raise ScenarioError("uncertainty sampling needs the same settings for every probe", scenario.source)
    zone_settings = dict(settings[0])
    if "zone_scale" in scenario.zone_model:
        zone_settings["zone_scale"] = scenario.zone_model["zone_scale"]
    cryo = cat[probes[0].model].modality == "cryo"
    rules = list(scenario.rules)
    if scenario.required_margin_mm is not None:
        rules.append(Rule("required-margin", scenario.required_margin_mm, scenario.zone_model.get("isotherm_c")))
    out = []
    for name, tumor in scenario.tumors:
        cache = {}
        for rule in rules or [Rule("margin >= 0", 0.0)]:
            iso = rule.isotherm_c if cryo else None
            if iso not in cache:
                cache[iso] = sample_margins(
                    tumor, probes, unc, n_samples, seed, catalog=cat, isotherm_c=iso, zone_settings=zone_settings
                )
            res = cache[iso]
            p, lo, hi = res.probability(rule.min_margin_mm, confidence)
            out.append(
                {
                    "tumor": name,
                    "rule": rule.name,
                    "required_margin_mm": rule.min_margin_mm,
                    "isotherm_c": iso,
                    "n_samples": n_samples,
                    "seed": seed,
                    "probability": p,
                    "ci_low": lo,
                    "ci_high": hi,
                    "confidence": confidence,
                    "margin_percentiles_mm": {
                        str(q): float(v) for q, v in zip((5, 50, 95), np.percentile(res.margins_mm, [5, 50, 95]))
                    },
                }
            )
    return out
