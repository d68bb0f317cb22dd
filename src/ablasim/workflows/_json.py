"""The JSON form of a scenario run (``ablasim run --json``): the scenario as resolved, zones with provenance,
per tumour the margin summary, checks with their isotherms, placement and measurement warnings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..geometry.shapes import Ellipsoid

if TYPE_CHECKING:
    from ..scenario.model import Scenario
    from .run import ScenarioResult

__all__ = ["ellipsoid_dict", "scenario_dict", "scenario_result_dict"]


def ellipsoid_dict(e: Ellipsoid) -> dict[str, Any]:
    return {"center_mm": e.center_mm.tolist(), "semi_axes_mm": e.semi_axes_mm.tolist(), "rotation": e.rotation.tolist()}


def scenario_dict(sc: Scenario) -> dict[str, Any]:
    zm = sc.zone_model
    return {
        "name": sc.name,
        "description": sc.description,
        "source": sc.source,
        "required_margin_mm": sc.required_margin_mm,
        "zone_model": {
            "composition": zm.composition,
            "isotherm_c": zm.isotherm_c,
            "zone_scale": list(zm.zone_scale),
            "tail_mm": zm.tail_mm,
            "extrapolate": zm.extrapolate,
        },
        "default_isotherm_c": sc.isotherm_for(),
        "rules": [
            {"name": r.name, "min_margin_mm": r.min_margin_mm, "isotherm_c": sc.isotherm_for(r), "source": r.source}
            for r in sc.checks()
        ],
    }


def _probes(sc: Scenario) -> list[dict[str, Any]]:
    out = []
    for p in sc.probes:
        entry: dict[str, Any] = {
            "name": p.name,
            "model": p.probe.model,
            "tip_mm": p.probe.tip_mm.tolist(),
            "direction": p.probe.direction.tolist(),
            **p.settings.as_dict(),
        }
        if p.explicit is not None:
            entry["semi_axes_mm"] = list(p.explicit.semi_axes_mm)
            entry["center_offset_mm"] = p.explicit.center_offset_mm
        else:
            m = sc.catalog[p.probe.model]
            entry["provenance"] = {"source": m.source, "kind": m.kind, "verified": m.verified, "modality": m.modality}
        out.append(entry)
    return out


def scenario_result_dict(res: ScenarioResult) -> dict[str, Any]:
    sc = res.scenario
    zone = sc.zone()
    zone_desc: Any = (
        [ellipsoid_dict(z) for z in zone]
        if isinstance(zone, list)
        else {"model": zone.description, "tail_mm": zone.tail_mm}
    )
    return {
        "ablasim_version": __version__,
        "scenario": scenario_dict(sc),
        "zone": {
            "ellipsoids" if isinstance(zone, list) else "implicit": zone_desc,
            "isotherm_c": sc.isotherm_for(),
            "probes": _probes(sc),
        },
        "tumors": [
            {
                "name": o.name,
                "ellipsoid": ellipsoid_dict(o.tumor),
                "isotherm_c": o.isotherm_c,
                **o.result.summary(),
                "checks": [c.to_dict() for c in o.checks],
                "placement_warnings": [w.message for w in o.placement],
            }
            for o in res.outcomes
        ],
        "passed": res.passed(),
    }
