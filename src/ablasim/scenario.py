"""Scenario files (TOML): tumours, zones or probes, options; and running them.

The format is documented in docs/scenarios.md. Every table accepts only its documented keys: a misspelt key is an
error naming the table, the key and the valid keys, never silently ignored.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._validation import as_float, as_positive_vector3, as_rotation, as_shape3, as_spacing, as_vector3
from .errors import AblasimError, ScenarioError, ValidationError
from .grid import Grid
from .metrics.exclusion import CapsuleExclusion
from .probes import Probe, ProbeCatalog, default_catalog
from .shapes import Ellipsoid, rotation_from_euler_deg

__all__ = ["Scenario", "load_scenario", "parse_scenario", "run_scenario", "ScenarioResult"]

_TOP = {"name", "description", "required_margin_mm", "measure", "grid", "tumors", "zones", "probes", "exclude",
        "catalog"}
_MEASURE = {"method", "resolution_mm", "map_resolution_mm", "crop_padding_mm"}
_GRID = {"spacing_mm", "padding_mm", "shape", "origin_mm", "direction"}
_SHAPE = {"name", "center_mm", "semi_axes_mm", "diameters_mm", "radius_mm", "euler_deg", "euler_order", "rotation"}
_PROBE = {"name", "model", "tip_mm", "direction", "protocol", "isotherm_c", "semi_axes_mm", "center_offset_mm"}
_EXCLUDE = {"organ", "distance_mm"}


@dataclass(frozen=True)
class Scenario:
    """A parsed scenario. ``zones`` holds explicit zone ellipsoids; ``probes`` pairs each probe with its zone."""

    name: str
    description: str
    tumors: tuple  # ((name, Ellipsoid), ...)
    zones: tuple  # (Ellipsoid, ...)
    probes: tuple  # ((name, Probe, Ellipsoid zone), ...)
    required_margin_mm: float | None = None
    measure: dict = field(default_factory=dict)
    grid: dict = field(default_factory=dict)
    exclude: CapsuleExclusion | None = None
    source: str = ""

    def zone_ellipsoids(self) -> list[Ellipsoid]:
        """Explicit zones plus every probe's zone: the union measured against."""
        return list(self.zones) + [z for _, _, z in self.probes]

    def build_grid(self) -> Grid | None:
        """The grid described by [grid]: explicit shape/origin, or covering the scene with ``padding_mm``."""
        if not self.grid:
            return None
        spacing = self.grid["spacing_mm"]
        if "shape" in self.grid:
            return Grid(self.grid["shape"], spacing, self.grid.get("origin_mm", (0, 0, 0)), self.grid.get("direction"))
        boxes = [t.bounding_box() for _, t in self.tumors] + [z.bounding_box() for z in self.zone_ellipsoids()]
        lo = np.min([b[0] for b in boxes], axis=0)
        hi = np.max([b[1] for b in boxes], axis=0)
        return Grid.covering(lo, hi, spacing, padding_mm=self.grid.get("padding_mm", 5.0),
                             direction=self.grid.get("direction"))


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
        raise ScenarioError(f"{where} needs exactly one of semi_axes_mm, diameters_mm, radius_mm (got {given or 'none'})",
                            source)
    if "center_mm" not in table:
        raise ScenarioError(f"{where} lacks center_mm", source)
    if "euler_deg" in table and "rotation" in table:
        raise ScenarioError(f"{where}: give euler_deg or rotation, not both", source)
    try:
        center = as_vector3(table["center_mm"], f"{where}.center_mm")
        if "semi_axes_mm" in table:
            axes = as_positive_vector3(table["semi_axes_mm"], f"{where}.semi_axes_mm")
        elif "diameters_mm" in table:
            axes = as_positive_vector3(table["diameters_mm"], f"{where}.diameters_mm") / 2.0
        else:
            r = as_float(table["radius_mm"], f"{where}.radius_mm", positive=True)
            axes = np.array([r, r, r])
        rot = None
        if "euler_deg" in table:
            rot = rotation_from_euler_deg(table["euler_deg"], table.get("euler_order", "xyz"))
        elif "rotation" in table:
            rot = as_rotation(table["rotation"], f"{where}.rotation")
        return Ellipsoid(center, axes, rot)
    except ValidationError as exc:
        if not exc.field.startswith(where):
            raise ScenarioError(f"{where}.{exc}", source) from None
        raise ScenarioError(str(exc), source) from None


def parse_scenario(doc: dict, *, source: str = "<scenario>", catalog: ProbeCatalog | None = None,
                   base_dir: Path | None = None) -> Scenario:
    """Validate a scenario given as a dict (the parsed TOML)."""
    _check_keys(doc, _TOP, "the scenario", source)
    if "catalog" in doc:
        paths = doc["catalog"] if isinstance(doc["catalog"], list) else [doc["catalog"]]
        paths = [Path(base_dir or ".") / str(c) for c in paths]
        try:
            catalog = ProbeCatalog.from_toml(*paths)
        except OSError as exc:
            raise ScenarioError(f"catalog: cannot read {exc.filename}", source) from None
    catalog = catalog or default_catalog()
    tumors_doc = doc.get("tumors", [])
    if not isinstance(tumors_doc, list) or not tumors_doc:
        raise ScenarioError("needs at least one [[tumors]] entry", source)
    tumors = []
    for i, t in enumerate(tumors_doc):
        name = str(t.get("name", f"tumor{i + 1}")) if isinstance(t, dict) else ""
        tumors.append((name, _ellipsoid(t, f"tumors[{i}]", source)))
    zones = tuple(_ellipsoid(z, f"zones[{i}]", source) for i, z in enumerate(doc.get("zones", [])))
    probes = []
    for i, pt in enumerate(doc.get("probes", [])):
        where = f"probes[{i}]"
        _check_keys(pt, _PROBE, where, source)
        for key in ("model", "tip_mm", "direction"):
            if key not in pt:
                raise ScenarioError(f"{where} lacks {key}", source)
        try:
            probe = Probe(pt["tip_mm"], pt["direction"], str(pt["model"]))
            if "semi_axes_mm" in pt:
                zone = probe.zone_from(pt["semi_axes_mm"], pt.get("center_offset_mm", 0.0))
            else:
                zone = probe.zone(catalog, protocol=pt.get("protocol"), isotherm_c=pt.get("isotherm_c"))
        except ValidationError as exc:
            raise ScenarioError(f"{where}: {exc}", source) from None
        probes.append((str(pt.get("name", f"probe{i + 1}")), probe, zone))
    if not zones and not probes:
        raise ScenarioError("needs at least one [[zones]] or [[probes]] entry", source)

    measure = dict(doc.get("measure", {}))
    _check_keys(measure, _MEASURE, "[measure]", source)
    grid = dict(doc.get("grid", {}))
    _check_keys(grid, _GRID, "[grid]", source)
    try:
        if "method" in measure and measure["method"] not in ("auto", "exact", "voxel"):
            raise ValidationError("measure.method", measure["method"], "expected auto, exact or voxel")
        for key in ("resolution_mm", "map_resolution_mm", "crop_padding_mm"):
            if key in measure:
                measure[key] = as_float(measure[key], f"measure.{key}", positive=True)
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
    name = str(doc.get("name", Path(source).stem))
    built = Scenario(name, str(doc.get("description", "")), tuple(tumors), zones, tuple(probes), required, measure,
                     grid, exclude, source)
    if grid:
        try:
            built.build_grid()
        except AblasimError as exc:
            raise ScenarioError(str(exc), source) from None
    return built


@dataclass(frozen=True)
class ScenarioResult:
    scenario: Scenario
    results: tuple  # ((tumour name, MarginResult), ...)

    def passed(self) -> bool | None:
        """All tumours meet the required margin (None when the scenario states none)."""
        req = self.scenario.required_margin_mm
        if req is None:
            return None
        return all(r.min_margin_mm >= req for _, r in self.results)

    def to_dict(self) -> dict:
        from . import __version__

        sc = self.scenario
        req = sc.required_margin_mm
        return {
            "ablasim_version": __version__,
            "scenario": {"name": sc.name, "description": sc.description, "source": sc.source,
                         "required_margin_mm": req},
            "zone": {
                "ellipsoids": [_ell_dict(z) for z in sc.zone_ellipsoids()],
                "probes": [{"name": n, "model": p.model, "tip_mm": p.tip_mm.tolist(),
                            "direction": p.direction.tolist()} for n, p, _ in sc.probes],
            },
            "tumors": [dict(name=n, ellipsoid=_ell_dict(t), **r.summary(),
                            meets_required_margin=None if req is None else bool(r.min_margin_mm >= req))
                       for (n, t), (_, r) in zip(sc.tumors, self.results)],
            "passed": self.passed(),
        }


def _ell_dict(e: Ellipsoid) -> dict:
    return {"center_mm": e.center_mm.tolist(), "semi_axes_mm": e.semi_axes_mm.tolist(),
            "rotation": e.rotation.tolist()}


def run_scenario(scenario: Scenario) -> ScenarioResult:
    """Measure every tumour of the scenario against the union of its zones."""
    from .metrics.measure import measure_margin

    zones = scenario.zone_ellipsoids()
    grid = scenario.build_grid()
    opts = dict(scenario.measure)
    results = []
    for name, tumor in scenario.tumors:
        res = measure_margin(tumor, zones, grid=grid, exclude=scenario.exclude, **opts)
        results.append((name, res))
    return ScenarioResult(scenario, tuple(results))
