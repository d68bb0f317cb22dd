"""Scenario files (TOML) into the typed model (:mod:`ablasim.scenario.model`).

The format is documented in docs/scenarios.md. Every table accepts only its documented keys: a misspelt key is an
error naming the file, the table, the key and the valid keys, never silently ignored. Every error is a
:class:`~ablasim.errors.ScenarioError` naming the file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from .._validation import as_float, as_rotation, as_vector3
from ..catalog import ProbeCatalog, default_catalog
from ..errors import AblasimError, ScenarioError, ValidationError
from ..geometry.shapes import Ellipsoid, rotation_from_euler_deg
from ..metrics.exclusion import CapsuleExclusion
from ..probes import Probe
from ..rules import Rule, RuleSet, default_rules, parse_rules
from ..uncertainty import Uncertainty
from .model import (
    DeviceSettings,
    ExplicitZone,
    GridSpec,
    MeasureOptions,
    ProbeSpec,
    Scenario,
    TumorSpec,
    ZoneModel,
)

__all__ = ["load_scenario", "parse_scenario", "read_toml"]

_TOP = {
    "name",
    "description",
    "required_margin_mm",
    "measure",
    "grid",
    "tumors",
    "zones",
    "probes",
    "exclude",
    "catalog",
    "zone_model",
    "rules",
    "rule_files",
    "custom_rules",
    "uncertainty",
    "plan",  # the planning problem: read by scenario/plan_table.py (ablasim plan), ignored by ablasim run
}
_MEASURE = {"method", "resolution_mm", "map_resolution_mm", "crop_padding_mm"}
_GRID = {"spacing_mm", "padding_mm", "shape", "origin_mm", "direction"}
_SHAPE = {"name", "center_mm", "semi_axes_mm", "diameters_mm", "radius_mm", "euler_deg", "euler_order", "rotation"}
_PROBE = {
    "name",
    "model",
    "tip_mm",
    "direction",
    "protocol",
    "power_w",
    "duration_s",
    "semi_axes_mm",
    "center_offset_mm",
}
_ZONE_MODEL = {"composition", "isotherm_c", "zone_scale", "tail_mm", "extrapolate"}
_EXCLUDE = {"organ", "distance_mm"}

T = TypeVar("T")


def read_toml(path: str | Path, what: str = "file") -> dict:
    """A TOML document, with one-line errors naming the file."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"cannot read the {what} ({exc.strerror})", p) from None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ScenarioError("not a UTF-8 text file", p) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"not valid TOML: {exc}", p) from None


def load_scenario(path: str | Path, catalog: ProbeCatalog | None = None) -> Scenario:
    """Read and validate a scenario file.

    >>> import ablasim
    >>> sc = ablasim.load_scenario("examples/three_probes.toml")
    >>> [p.probe.model for p in sc.probes], [r.name for r in sc.checks()]
    (['IceRod', 'IceRod', 'IceRod'], ['required-margin'])
    """
    p = Path(path)
    return parse_scenario(read_toml(p, "scenario"), source=str(p), catalog=catalog, base_dir=p.parent)


def _check_keys(table: Any, allowed: set[str], where: str) -> dict:
    if not isinstance(table, dict):
        raise ValidationError(where, table, "must be a table")
    extra = sorted(set(table) - set(allowed))
    if extra:
        raise ValidationError(
            f"[{where}]" if where[0].isalpha() and "[" not in where else where,
            extra,
            f"unknown key(s); valid keys: {sorted(allowed)}",
        )
    return table


def _ellipsoid(table: Any, where: str) -> Ellipsoid:
    _check_keys(table, _SHAPE, where)
    given = [k for k in ("semi_axes_mm", "diameters_mm", "radius_mm") if k in table]
    if len(given) != 1:
        raise ValidationError(where, given or None, "needs exactly one of semi_axes_mm, diameters_mm, radius_mm")
    if "center_mm" not in table:
        raise ValidationError(f"{where}.center_mm", None, "missing")
    if "euler_deg" in table and "rotation" in table:
        raise ValidationError(where, ["euler_deg", "rotation"], "give euler_deg or rotation, not both")
    center = as_vector3(table["center_mm"], f"{where}.center_mm")
    key = given[0]
    if key == "radius_mm":
        r = as_float(table["radius_mm"], f"{where}.radius_mm", positive=True)
        axes = np.array([r, r, r])
    else:
        axes = as_vector3(table[key], f"{where}.{key}")
        if np.any(axes <= 0):
            raise ValidationError(f"{where}.{key}", table[key], "every entry must be > 0")
        axes = axes / 2.0 if key == "diameters_mm" else axes
    rot = None
    if "euler_deg" in table:
        rot = rotation_from_euler_deg(table["euler_deg"], table.get("euler_order", "xyz"))
    elif "rotation" in table:
        rot = as_rotation(table["rotation"], f"{where}.rotation")
    return Ellipsoid(center, axes, rot)


def _probe(pt: Any, where: str) -> ProbeSpec:
    _check_keys(pt, _PROBE, where)
    for key in ("model", "tip_mm", "direction"):
        if key not in pt:
            raise ValidationError(f"{where}.{key}", None, "missing")
    probe = Probe(
        as_vector3(pt["tip_mm"], f"{where}.tip_mm"), _vec(pt["direction"], f"{where}.direction"), str(pt["model"])
    )
    explicit = None
    if "semi_axes_mm" in pt:
        if any(k in pt for k in ("protocol", "power_w", "duration_s")):
            raise ValidationError(
                where, sorted(pt), "an explicit zone (semi_axes_mm) takes no protocol, power_w or duration_s"
            )
        axes = as_vector3(pt["semi_axes_mm"], f"{where}.semi_axes_mm")
        if np.any(axes <= 0):
            raise ValidationError(f"{where}.semi_axes_mm", pt["semi_axes_mm"], "every entry must be > 0")
        explicit = ExplicitZone(
            (float(axes[0]), float(axes[1]), float(axes[2])),
            as_float(pt.get("center_offset_mm", 0.0), f"{where}.center_offset_mm"),
        )
    elif "center_offset_mm" in pt:
        raise ValidationError(f"{where}.center_offset_mm", pt["center_offset_mm"], "only with semi_axes_mm")
    settings = DeviceSettings(
        None if "protocol" not in pt else str(pt["protocol"]),
        None if "power_w" not in pt else as_float(pt["power_w"], f"{where}.power_w", positive=True),
        None if "duration_s" not in pt else as_float(pt["duration_s"], f"{where}.duration_s", positive=True),
    )
    return ProbeSpec(str(pt.get("name", where)), probe, settings, explicit)


def _vec(value: Any, name: str) -> np.ndarray:
    v = as_vector3(value, name)
    if not np.linalg.norm(v) > 1e-12:
        raise ValidationError(name, value, "must be a non-zero direction")
    return v


def _zone_model(zm: Any) -> ZoneModel:
    _check_keys(zm, _ZONE_MODEL, "zone_model")
    return ZoneModel(**zm)


def _measure(m: Any) -> MeasureOptions:
    _check_keys(m, _MEASURE, "measure")
    return MeasureOptions(**m)


def _grid(g: Any) -> GridSpec:
    _check_keys(g, _GRID, "grid")
    if "spacing_mm" not in g:
        raise ValidationError("grid.spacing_mm", None, "missing")
    return GridSpec(**g)


def _exclude(ex: Any) -> CapsuleExclusion:
    _check_keys(ex, _EXCLUDE, "exclude")
    if "organ" not in ex or "distance_mm" not in ex:
        raise ValidationError("exclude", sorted(ex), "needs organ (an ellipsoid table) and distance_mm")
    return CapsuleExclusion(_ellipsoid(ex["organ"], "exclude.organ"), ex["distance_mm"])


def _list(doc: dict, key: str) -> list:
    value = doc.get(key, [])
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise ValidationError(key, value, "expected a list")
    return value


def _rules(doc: dict, base: Path, source: str) -> tuple[Rule, ...]:
    names = [str(n) for n in _list(doc, "rules")]
    files = _list(doc, "rule_files")
    ruleset = RuleSet.from_toml(*[base / str(f) for f in files]) if files else default_rules()
    if "custom_rules" in doc:
        if not isinstance(doc["custom_rules"], dict):
            raise ValidationError("custom_rules", doc["custom_rules"], "must be a table of [custom_rules.NAME] tables")
        ruleset = ruleset.with_items(parse_rules(doc["custom_rules"], source, prefix="custom_rules"))
        names += [n for n in doc["custom_rules"] if n not in names]
    return tuple(_named(ruleset.__getitem__, n, "rules") for n in names)


def _named(lookup: Callable[[str], T], name: str, where: str) -> T:
    try:
        return lookup(name)
    except ValidationError as exc:
        raise ValidationError(where, name, exc.expected) from None


def parse_scenario(
    doc: dict, *, source: str = "<scenario>", catalog: ProbeCatalog | None = None, base_dir: str | Path | None = None
) -> Scenario:
    """Validate a scenario given as a dict (the parsed TOML); errors name ``source``."""
    return naming_source(_parse, doc, source, catalog, base_dir)


def naming_source(parse: Callable[..., T], doc: dict, source: str, catalog, base_dir) -> T:
    """``parse(doc, source, catalog, base)`` with every ablasim error turned into a ScenarioError naming ``source``
    (the one place the scenario tables do it)."""
    try:
        return parse(doc, source, catalog, Path(base_dir or "."))
    except ScenarioError:
        raise
    except AblasimError as exc:
        raise ScenarioError(str(exc), source) from None


def _parse(doc: dict, source: str, catalog: ProbeCatalog | None, base: Path) -> Scenario:
    _check_keys(doc, _TOP, "the scenario")
    if "catalog" in doc:
        paths = _list(doc, "catalog")
        catalog = ProbeCatalog.from_toml(*[base / str(c) for c in paths])
    tumors_doc = doc.get("tumors", [])
    if not isinstance(tumors_doc, list) or not tumors_doc:
        raise ValidationError("tumors", None, "needs at least one [[tumors]] entry")
    tumors = tuple(
        TumorSpec(str(t.get("name", f"tumor{i + 1}")) if isinstance(t, dict) else "", _ellipsoid(t, f"tumors[{i}]"))
        for i, t in enumerate(tumors_doc)
    )
    zones = tuple(_ellipsoid(z, f"zones[{i}]") for i, z in enumerate(_list(doc, "zones")))
    probes = tuple(_probe(pt, f"probes[{i}]") for i, pt in enumerate(_list(doc, "probes")))
    if not zones and not probes:
        hint = " (this file has a [plan] table: `ablasim plan` writes the probes)" if "plan" in doc else ""
        raise ValidationError("zones/probes", None, "needs at least one [[zones]] or [[probes]] entry" + hint)
    uncertainty = None
    if "uncertainty" in doc:
        if not isinstance(doc["uncertainty"], dict):
            raise ValidationError("uncertainty", doc["uncertainty"], "must be a table")
        uncertainty = Uncertainty.from_dict(doc["uncertainty"])
    required = doc.get("required_margin_mm")
    return Scenario(
        name=str(doc.get("name", Path(source).stem)),
        description=str(doc.get("description", "")),
        tumors=tumors,
        zones=zones,
        probes=probes,
        zone_model=_zone_model(doc.get("zone_model", {})),
        rules=_rules(doc, base, source),
        required_margin_mm=None if required is None else as_float(required, "required_margin_mm"),
        measure=_measure(doc.get("measure", {})),
        grid=_grid(doc["grid"]) if "grid" in doc else None,
        exclude=_exclude(doc["exclude"]) if "exclude" in doc else None,
        source=source,
        catalog=catalog or default_catalog(),
        uncertainty=uncertainty,
    )
