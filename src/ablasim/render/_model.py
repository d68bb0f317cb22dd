"""What a 3D scene shows, independent of VTK: :class:`Scene` and :func:`scene_for_outcome`.

A scene is a margin result (the tumour surface coloured by signed margin, centred on ``threshold_mm``), the zone
shells (one or more zones, e.g. the 0 / -20 / -40 degC isotherms of cryoprobes), the probes and a few lines of
text. :mod:`ablasim.render.scene` turns it into pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .._validation import as_float
from ..errors import ValidationError
from ..metrics.result import MarginMap, MarginResult
from ..probes import Probe
from ..zones import SynergyZone
from ._camera import Camera, check_window_size, preset_camera
from ._colors import margin_limits, shell_color
from ._meshes import as_zone_list, vertex_normals, zone_mesh
from .plots import _NO_MAP

__all__ = ["Scene", "ZoneShell", "make_scene", "scene_for_outcome"]


@dataclass(frozen=True, eq=False)
class ZoneShell:
    """A zone drawn as a translucent shell: ``label`` (legend text), ``zone``, ``color`` ("#rrggbb") and the
    isotherm it stands for (degC; None for heat-based or unlabelled zones)."""

    label: str
    zone: object
    color: str
    isotherm_c: float | None = None

    @cached_property
    def mesh(self) -> tuple[np.ndarray, np.ndarray]:
        return zone_mesh(self.zone)


@dataclass(frozen=True, eq=False)
class Scene:
    """Everything a render shows. Build it with :func:`make_scene` or :func:`scene_for_outcome`."""

    result: MarginResult
    threshold_mm: float = 0.0
    shells: tuple = ()  # ZoneShell
    probes: tuple = ()  # (name, Probe)
    tumor_name: str = "tumour"
    title: str = ""
    legend: tuple = ()  # lines of text
    half_range_mm: float | None = None
    passed: bool | None = None
    meta: dict = field(default_factory=dict)

    @property
    def margin_map(self) -> MarginMap:
        """The result's margin map (a scene is only made from a result that has one)."""
        mm = self.result.margin_map
        if mm is None:
            raise ValidationError("result", self.result, _NO_MAP)
        return mm

    @property
    def color_limits_mm(self) -> tuple[float, float]:
        """Limits of the margin colour scale, symmetric about ``threshold_mm``."""
        mm = self.margin_map
        return margin_limits(mm.margins_mm[mm.included], self.threshold_mm, self.half_range_mm)

    @cached_property
    def tumor_center_mm(self) -> np.ndarray:
        mm = self.margin_map
        w = mm.area_mm2 if mm.area_mm2.sum() > 0 else np.ones(len(mm.points_mm))
        return (mm.points_mm * w[:, None]).sum(axis=0) / w.sum()

    def thinnest_visible_from(self, camera: Camera) -> bool:
        """Whether the tumour surface at the thinnest point faces ``camera`` (a back-face test: exact for convex
        tumours such as ellipsoids; False for a thinnest point inside the tumour)."""
        mm = self.margin_map
        p = np.asarray(self.result.thinnest_point_mm)
        if len(mm.faces) == 0:
            n = p - self.tumor_center_mm
        else:
            if "_normals" not in self.__dict__:
                self.__dict__["_normals"] = vertex_normals(mm.points_mm, mm.faces)
            dist = np.linalg.norm(mm.points_mm - p, axis=1)
            k = int(np.argmin(dist))
            edges = mm.points_mm[mm.faces[:, 0]] - mm.points_mm[mm.faces[:, 1]]
            if dist[k] > 2.0 * float(np.linalg.norm(edges, axis=1).mean()):
                return False  # an interior point (e.g. an unfrozen core): hidden by the surface
            n = self.__dict__["_normals"][k]
        return float((np.asarray(camera.position_mm) - p) @ n) > 0.0

    def focus_points_mm(self) -> np.ndarray:
        """Points a camera frames: the tumour surface and the zone shells (probe shafts may leave the image)."""
        pts = [self.margin_map.points_mm, self.result.thinnest_point_mm[None, :]]
        pts += [s.mesh[0] for s in self.shells if len(s.mesh[0])]
        allp = np.concatenate(pts)
        step = max(1, len(allp) // 20000)
        return allp[::step]

    def camera(self, camera="iso", window_size=(800, 600)) -> Camera:
        """The :class:`Camera` of a preset (see ``CAMERA_PRESETS``) framing this scene, or ``camera`` itself."""
        if isinstance(camera, Camera):
            return camera
        check_window_size(window_size)
        direction = self.probes[0][1].direction if self.probes else None
        return preset_camera(
            camera,
            self.focus_points_mm(),
            window_size,
            probe_direction=direction,
            thinnest_point_mm=self.result.thinnest_point_mm,
            tumor_center_mm=self.tumor_center_mm,
        )


def _as_probes(probes) -> tuple:
    if probes is None:
        return ()
    if isinstance(probes, Probe):
        probes = [probes]
    out = []
    for i, p in enumerate(probes):
        if isinstance(p, Probe):
            out.append((f"probe {i + 1}" if len(probes) > 1 else "probe", p))
        elif isinstance(p, (tuple, list)) and len(p) >= 2 and isinstance(p[1], Probe):
            out.append((str(p[0]), p[1]))
        else:
            raise ValidationError(f"probes[{i}]", p, "expected a Probe or a (name, Probe[, settings]) tuple")
    return tuple(out)


def _as_shells(zones, isotherm_c: float | None = None) -> tuple:
    if zones is None:
        return ()
    if isinstance(zones, dict):
        items = list(zones.items())
    else:
        level = isotherm_c
        if level is None and isinstance(zones, SynergyZone):
            level = zones.level  # the merged ice ball knows its isotherm
        items = [(level if level is not None else "ablation zone", zones)]
    shells = []
    for i, (label, z) in enumerate(items):
        as_zone_list(z)  # validates
        iso = label if isinstance(label, (int, float)) and not isinstance(label, bool) else None
        text = f"{iso:g} degC isotherm" if iso is not None else str(label)
        shells.append(ZoneShell(text, z, shell_color(iso, i), None if iso is None else float(iso)))
    return tuple(shells)


def default_legend(result: MarginResult, threshold_mm: float, passed: bool | None, tumor_name: str) -> tuple:
    """Text lines: min margin, coverage, surface below the threshold, pass/fail."""
    verdict = "" if passed is None else ("; PASS" if passed else "; FAIL")
    lines = [
        f"min margin {result.min_margin_mm:+.2f} mm ({result.feature}){verdict}",
        f"coverage {100 * result.coverage:.1f} %, uncovered {result.uncovered_volume_mm3:.1f} mm3",
    ]
    frac = result.margin_map.fraction_below(threshold_mm) if result.margin_map is not None else float("nan")
    if np.isfinite(frac):
        lines.append(f"surface with margin < {threshold_mm:g} mm: {100 * frac:.1f} %")
    if result.excluded_area_fraction > 0:
        lines.append(f"grey: {100 * result.excluded_area_fraction:.1f} % of the surface excluded (capsule)")
    return tuple(lines)


def make_scene(
    result: MarginResult,
    *,
    zones=None,
    probes=None,
    threshold_mm: float = 0.0,
    tumor_name="tumour",
    title: str = "",
    legend=None,
    half_range_mm: float | None = None,
    passed: bool | None = None,
    isotherm_c: float | None = None,
) -> Scene:
    """A :class:`Scene` from a margin result.

    zones : a zone (Ellipsoid, list of Ellipsoids = their union, implicit zone such as ``GridFieldZone``, Mask), or
        a dict ``{isotherm_c or label: zone}`` for several shells (numeric keys are isotherms in degC and get
        their own colours: 0 pale blue, -20 amber, -40 green)
    isotherm_c : the isotherm a single (non-dict) ``zones`` stands for, e.g. 0 for a cryoprobe's ice ball (a
        merged ice ball knows its own); None: a heat-based RF / MW zone, drawn amber as "ablation zone"
    probes : Probe, or a sequence of Probes or ``(name, Probe[, settings])`` tuples
    threshold_mm : the margin drawn in the neutral colour (the rule's requirement); thinner is red, thicker blue
    half_range_mm : colour limits ``threshold +- half_range_mm`` (default: the larger deviation of the minimum and
        the median margin from the threshold, >= 1 mm; beyond the limits colours saturate)
    legend : lines of text (default: min margin, coverage, surface below the threshold, pass/fail)
    """
    if not isinstance(result, MarginResult):
        raise ValidationError("result", result, "expected an ablasim MarginResult")
    if result.margin_map is None:
        raise ValidationError("result", result, _NO_MAP)
    t = as_float(threshold_mm, "threshold_mm")
    if half_range_mm is not None:
        as_float(half_range_mm, "half_range_mm", positive=True)
    if passed not in (None, True, False):
        raise ValidationError("passed", passed, "expected True, False or None")
    lines = default_legend(result, t, passed, str(tumor_name)) if legend is None else tuple(str(s) for s in legend)
    return Scene(
        result,
        t,
        _as_shells(zones, isotherm_c),
        _as_probes(probes),
        str(tumor_name),
        str(title or tumor_name),
        lines,
        half_range_mm,
        passed,
    )


def scene_for_outcome(scenario_result, tumor=0, *, isotherm_shells: bool = True) -> Scene:
    """The scene of one tumour of a :class:`~ablasim.workflows.run.ScenarioResult` (index or name).

    The margin map is the one measured at the scenario's default isotherm; its neutral colour is the strictest
    requirement checked at that isotherm (0 mm when none). With ``isotherm_shells``, cryoprobes whose catalog has
    several isotherms (e.g. 0 / -20 / -40 degC) get one shell per isotherm.
    """
    outcomes = scenario_result.outcomes
    names = [o.name for o in outcomes]
    if isinstance(tumor, str):
        if tumor not in names:
            raise ValidationError("tumor", tumor, f"no such tumour; choices: {', '.join(names)}")
        outcome = outcomes[names.index(tumor)]
    elif isinstance(tumor, (int, np.integer)) and not isinstance(tumor, bool) and -len(names) <= tumor < len(names):
        outcome = outcomes[int(tumor)]
    else:
        raise ValidationError("tumor", tumor, f"expected a tumour name or an index below {len(names)}")
    sc = scenario_result.scenario
    default_iso = outcome.isotherm_c
    cryo = default_iso is not None
    levels = sc.shell_isotherms()
    same_iso = [c for c in outcome.checks if c.isotherm_c == default_iso]
    threshold = max((c.required_margin_mm for c in same_iso), default=0.0)
    passed = None if not outcome.checks else all(c.passed for c in outcome.checks)
    if isotherm_shells and len(levels) > 1:
        zones = {lv: sc.zone(lv) for lv in levels}
    elif cryo:
        zones = {default_iso: sc.zone(default_iso)}
    else:
        zones = sc.zone(default_iso)
    title = f"{sc.name}: {outcome.name}"
    # Unnamed probes are called "probes[i]" by the scenario parser: label them with their model instead.
    probes = [
        (
            (f"{p.probe.model} {i + 1}" if len(sc.probes) > 1 else p.probe.model)
            if p.name == f"probes[{i}]"
            else p.name,
            p.probe,
        )
        for i, p in enumerate(sc.probes)
    ]
    scene = make_scene(
        outcome.result,
        zones=zones,
        probes=probes,
        threshold_mm=threshold,
        tumor_name=outcome.name,
        title=title,
        passed=passed,
    )
    label = f"margins at the {default_iso:g} degC isotherm" if cryo else "margins to the ablation zone"
    return Scene(
        scene.result,
        scene.threshold_mm,
        scene.shells,
        scene.probes,
        scene.tumor_name,
        scene.title,
        scene.legend + (label + f"; neutral colour = {threshold:g} mm",),
        None,
        passed,
        {
            "rules": [c.rule for c in outcome.checks],
            "default_isotherm_c": default_iso,
            "thresholds_mm": {c.rule: c.required_margin_mm for c in same_iso},
            "cryo": cryo,
        },
    )
