"""Scenario files (TOML): tumours, zones or probes, zone model, rule sets and options.

The format is documented in docs/scenarios.md. Every table accepts only its documented keys: a misspelt key is an
error naming the table, the key and the valid keys, never silently ignored. Running a scenario:
:mod:`ablasim.workflows.run`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._validation import as_float, as_rotation, as_shape3, as_spacing, as_vector3
from ..catalog import ProbeCatalog, default_catalog
from ..errors import AblasimError, ScenarioError, ValidationError
from ..geometry.grid import Grid
from ..geometry.shapes import Ellipsoid, rotation_from_euler_deg
from ..metrics.exclusion import CapsuleExclusion
from ..probes import Probe
from ..rules import RuleSet, default_rules, parse_rules

__all__ = ["Scenario", "load_scenario", "parse_scenario"]

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


@dataclass(frozen=True)
class Scenario:
    """A parsed scenario.

    ``probes`` holds ``(name, Probe, settings)`` with settings ``protocol``, ``power_w``, ``duration_s`` or an
    explicit zone (``semi_axes_mm``, ``center_offset_mm``); ``zone_model`` holds ``composition`` ("union" or
    "synergy"), ``isotherm_c`` (the isotherm measured by default), ``zone_scale``, ``tail_mm``, ``extrapolate``.
    """

    name: str
    description: str
    tumors: tuple  # ((name, Ellipsoid), ...)
    zones: tuple  # explicit zone Ellipsoids
    probes: tuple  # ((name, Probe, settings), ...)
    zone_model: dict = field(default_factory=dict)
    rules: tuple = ()  # Rule objects
    required_margin_mm: float | None = None
    measure: dict = field(default_factory=dict)
    grid: dict = field(default_factory=dict)
    exclude: CapsuleExclusion | None = None
    source: str = ""
    catalog: ProbeCatalog | None = None
    uncertainty: object = None  # ablasim.workflows.cohorts.Uncertainty or None

    def zone(self, isotherm_c: float | None = None):
        """The zone at ``isotherm_c`` (default: ``zone_model.isotherm_c``, else 0 degC for cryoprobes): a list of
        Ellipsoids (their union) or a :class:`~ablasim.zones.SynergyZone`."""
        from ..zones import compose

        zm = self.zone_model
        iso = zm.get("isotherm_c") if isotherm_c is None else isotherm_c
        cat = self.catalog or default_catalog()
        fixed = [s for _, _, s in self.probes if "semi_axes_mm" in s]
        if zm.get("composition", "union") == "synergy":
            if self.zones or fixed:
                raise ScenarioError(
                    "the synergy zone model takes catalog cryoprobes only (no [[zones]] or explicit probe zones)",
                    self.source,
                )
            return compose(
                [p for _, p, _ in self.probes],
                composition="synergy",
                isotherm_c=iso,
                catalog=cat,
                protocol=self._common("protocol"),
                zone_scale=zm.get("zone_scale", 1.0),
                tail_mm=zm.get("tail_mm", 9.1),
            )
        out = list(self.zones)
        for _, p, s in self.probes:
            if "semi_axes_mm" in s:
                out.append(p.zone_from(s["semi_axes_mm"], s.get("center_offset_mm", 0.0)))
                continue
            cryo = cat[p.model].modality == "cryo"
            out.append(
                p.zone(
                    cat,
                    isotherm_c=(0.0 if iso is None else iso) if cryo else None,
                    protocol=s.get("protocol"),
                    power_w=s.get("power_w"),
                    duration_s=s.get("duration_s"),
                    zone_scale=zm.get("zone_scale", 1.0),
                    extrapolate=zm.get("extrapolate", False),
                )
            )
        return out

    def _common(self, key):
        vals = {s.get(key) for _, _, s in self.probes}
        if len(vals) > 1:
            raise ScenarioError(
                f"the synergy zone model needs one {key} for all probes, got {sorted(map(str, vals))}", self.source
            )
        return vals.pop() if vals else None

    def build_grid(self) -> Grid | None:
        """The grid described by [grid]: explicit shape/origin, or covering the scene with ``padding_mm``."""
        if not self.grid:
            return None
        spacing = self.grid["spacing_mm"]
        if "shape" in self.grid:
            return Grid(self.grid["shape"], spacing, self.grid.get("origin_mm", (0, 0, 0)), self.grid.get("direction"))
        zone = self.zone()
        boxes = [t.bounding_box() for _, t in self.tumors]
        boxes += [zone.bounds()] if not isinstance(zone, list) else [z.bounding_box() for z in zone]
        lo = np.min([b[0] for b in boxes], axis=0)
        hi = np.max([b[1] for b in boxes], axis=0)
        return Grid.covering(
            lo, hi, spacing, padding_mm=self.grid.get("padding_mm", 5.0), direction=self.grid.get("direction")
        )


def load_scenario(path, catalog: ProbeCatalog | None = None) -> Scenario:
    """Read and validate a scenario file."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"cannot read the file ({exc.strerror})", p) from None
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ScenarioError("not a UTF-8 text file", p) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"not valid TOML: {exc}", p) from None
    return parse_scenario(doc, source=str(p), catalog=catalog, base_dir=p.parent)


def _check_keys(table, allowed, where, source):
    if not isinstance(table, dict):
        raise ScenarioError(f"{where} must be a table", source)
    extra = sorted(set(table) - set(allowed))
    if extra:
        raise ScenarioError(f"unknown key(s) {extra} in {where}; valid keys: {sorted(allowed)}", source)


def _ellipsoid(table, where, source) -> Ellipsoid:
    _check_keys(table, _SHAPE, where, source)
    given = [k for k in ("semi_axes_mm", "diameters_mm", "radius_mm") if k in table]
    if len(given) != 1:
        raise ScenarioError(
            f"{where} needs exactly one of semi_axes_mm, diameters_mm, radius_mm (got {given or 'none'})", source
        )
    if "center_mm" not in table:
        raise ScenarioError(f"{where} lacks center_mm", source)
    if "euler_deg" in table and "rotation" in table:
        raise ScenarioError(f"{where}: give euler_deg or rotation, not both", source)
    try:
        center = as_vector3(table["center_mm"], f"{where}.center_mm")
        if "radius_mm" in table:
            r = as_float(table["radius_mm"], f"{where}.radius_mm", positive=True)
            axes = np.array([r, r, r])
        else:
            key = given[0]
            axes = np.asarray(as_vector3(table[key], f"{where}.{key}"))
            if np.any(axes <= 0):
                raise ValidationError(f"{where}.{key}", table[key], "every entry must be > 0")
            axes = axes / 2.0 if key == "diameters_mm" else axes
        rot = None
        if "euler_deg" in table:
            rot = rotation_from_euler_deg(table["euler_deg"], table.get("euler_order", "xyz"))
        elif "rotation" in table:
            rot = as_rotation(table["rotation"], f"{where}.rotation")
        return Ellipsoid(center, axes, rot)
    except ValidationError as exc:
        msg = str(exc) if exc.field.startswith(where) else f"{where}.{exc}"
        raise ScenarioError(msg, source) from None


def _probe(pt, where, source, catalog):
    _check_keys(pt, _PROBE, where, source)
    for key in ("model", "tip_mm", "direction"):
        if key not in pt:
            raise ScenarioError(f"{where} lacks {key}", source)
    settings = {k: pt[k] for k in ("protocol", "power_w", "duration_s", "semi_axes_mm", "center_offset_mm") if k in pt}
    try:
        probe = Probe(pt["tip_mm"], pt["direction"], str(pt["model"]))
        if "semi_axes_mm" in settings:
            probe.zone_from(settings["semi_axes_mm"], settings.get("center_offset_mm", 0.0))
        else:
            catalog[probe.model].zone_spec(
                protocol=settings.get("protocol"),
                power_w=settings.get("power_w"),
                duration_s=settings.get("duration_s"),
                extrapolate=True,
            )
    except ValidationError as exc:
        raise ScenarioError(f"{where}: {exc}", source) from None
    return (str(pt.get("name", where)), probe, settings)


def parse_scenario(
    doc: dict, *, source: str = "<scenario>", catalog: ProbeCatalog | None = None, base_dir: Path | None = None
) -> Scenario:
    """Validate a scenario given as a dict (the parsed TOML)."""
    _check_keys(doc, _TOP, "the scenario", source)
    base = Path(base_dir or ".")
    if "catalog" in doc:
        paths = doc["catalog"] if isinstance(doc["catalog"], list) else [doc["catalog"]]
        catalog = ProbeCatalog.from_toml(*[base / str(c) for c in paths])
    catalog = catalog or default_catalog()
    tumors_doc = doc.get("tumors", [])
    if not isinstance(tumors_doc, list) or not tumors_doc:
        raise ScenarioError("needs at least one [[tumors]] entry", source)
    tumors = tuple(
        (str(t.get("name", f"tumor{i + 1}")) if isinstance(t, dict) else "", _ellipsoid(t, f"tumors[{i}]", source))
        for i, t in enumerate(tumors_doc)
    )
    zones = tuple(_ellipsoid(z, f"zones[{i}]", source) for i, z in enumerate(doc.get("zones", [])))
    probes = tuple(_probe(pt, f"probes[{i}]", source, catalog) for i, pt in enumerate(doc.get("probes", [])))
    if not zones and not probes:
        raise ScenarioError("needs at least one [[zones]] or [[probes]] entry", source)

    measure = dict(doc.get("measure", {}))
    _check_keys(measure, _MEASURE, "[measure]", source)
    grid = dict(doc.get("grid", {}))
    _check_keys(grid, _GRID, "[grid]", source)
    zm = dict(doc.get("zone_model", {}))
    _check_keys(zm, _ZONE_MODEL, "[zone_model]", source)
    try:
        if "method" in measure and measure["method"] not in ("auto", "exact", "voxel"):
            raise ValidationError("measure.method", measure["method"], "expected auto, exact or voxel")
        for key in ("resolution_mm", "map_resolution_mm", "crop_padding_mm"):
            if key in measure:
                measure[key] = as_float(measure[key], f"measure.{key}", positive=True)
        if zm.get("composition", "union") not in ("union", "synergy"):
            raise ValidationError("zone_model.composition", zm["composition"], "expected union or synergy")
        if "isotherm_c" in zm:
            zm["isotherm_c"] = as_float(zm["isotherm_c"], "zone_model.isotherm_c", maximum=0.0)
        if "tail_mm" in zm:
            zm["tail_mm"] = as_float(zm["tail_mm"], "zone_model.tail_mm", positive=True)
        if "extrapolate" in zm and not isinstance(zm["extrapolate"], bool):
            raise ValidationError("zone_model.extrapolate", zm["extrapolate"], "expected true or false")
        if grid:
            if "spacing_mm" not in grid:
                raise ScenarioError("[grid] lacks spacing_mm", source)
            grid["spacing_mm"] = as_spacing(grid["spacing_mm"], "grid.spacing_mm")
            if "shape" in grid:
                grid["shape"] = as_shape3(grid["shape"], "grid.shape")
            if "padding_mm" in grid:
                grid["padding_mm"] = as_float(grid["padding_mm"], "grid.padding_mm", nonnegative=True)
        required = doc.get("required_margin_mm")
        required = None if required is None else as_float(required, "required_margin_mm")
        exclude = None
        if "exclude" in doc:
            ex = doc["exclude"]
            _check_keys(ex, _EXCLUDE, "[exclude]", source)
            if "organ" not in ex or "distance_mm" not in ex:
                raise ScenarioError("[exclude] needs organ (an ellipsoid table) and distance_mm", source)
            exclude = CapsuleExclusion(_ellipsoid(ex["organ"], "exclude.organ", source), ex["distance_mm"])
    except ValidationError as exc:
        raise ScenarioError(str(exc), source) from None
    rules = _rules(doc, base, source)
    uncertainty = None
    if "uncertainty" in doc:
        from ..uncertainty import Uncertainty

        try:
            uncertainty = Uncertainty.from_dict(doc["uncertainty"])
        except ValidationError as exc:
            raise ScenarioError(str(exc), source) from None
    built = Scenario(
        str(doc.get("name", Path(source).stem)),
        str(doc.get("description", "")),
        tumors,
        zones,
        probes,
        zm,
        rules,
        required,
        measure,
        grid,
        exclude,
        source,
        catalog,
        uncertainty,
    )
    try:
        built.zone()  # every probe resolves to a zone now, not at run time
        if grid:
            built.build_grid()
    except AblasimError as exc:
        raise ScenarioError(str(exc), source) from None
    return built


def _rules(doc, base, source) -> tuple:
    names = doc.get("rules", [])
    if isinstance(names, str):
        names = [names]
    files = doc.get("rule_files", [])
    if isinstance(files, str):
        files = [files]
    ruleset = RuleSet.from_toml(*[base / str(f) for f in files]) if files else default_rules()
    if "custom_rules" in doc:
        if not isinstance(doc["custom_rules"], dict):
            raise ScenarioError("custom_rules must be a table of [custom_rules.NAME] tables", source)
        ruleset = ruleset.with_items(parse_rules(doc["custom_rules"], source))
        names = list(names) + [n for n in doc["custom_rules"] if n not in names]
    try:
        return tuple(ruleset[str(n)] for n in names)
    except ValidationError as exc:
        raise ScenarioError(f"rules: {exc}", source) from None
