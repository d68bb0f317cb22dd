"""The probe-model catalog: zone ellipsoids per model, protocol, isotherm or power x time, with provenance.

Read from TOML (``ablasim/data/probes.toml`` and the user's own files; same format, documented at the top of
that file and in docs/zones.md). Geometry of a zone relative to its probe: semi-axes ``[radial, radial, axial]``
(axial along the shaft), centre ``center_offset_mm`` proximal to the tip.

RF / MW tables are interpolated piecewise-linearly: in duration along each power level, then linearly in power
between the two levels that bracket the request. A request outside the table raises an error listing the table
points, unless ``extrapolate=True`` (then the nearest segments are extended and the spec says so).
"""

from __future__ import annotations

import itertools
import tomllib
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources

import numpy as np

from ._named import NamedSet
from ._validation import as_float, as_positive_vector3, as_zone_scale
from .errors import ScenarioError, UnknownNameError, ValidationError
from .geometry._sphere_mesh import icosphere

__all__ = ["ICE_EDGE_C", "KINDS", "ProbeCatalog", "ProbeModel", "ZoneSpec", "default_catalog", "measured_isotherm"]

KINDS = ("manufacturer chart", "phantom", "in vivo", "clinical", "model")
_MODEL_KEYS = {"modality", "manufacturer", "source", "kind", "verified", "notes", "zones", "table"}
_GEOM_KEYS = {
    "semi_axes_mm",
    "diameters_mm",
    "center_offset_mm",
    "distal_beyond_tip_mm",
    "offset_basis",
    "source",
    "kind",
    "verified",
}
_ZONE_KEYS = _GEOM_KEYS | {"protocol", "isotherm_c"}
_ROW_KEYS = _GEOM_KEYS | {"power_w", "duration_s"}
_MODALITIES = ("cryo", "radiofrequency", "microwave")


ICE_EDGE_C = 0.0  # the visible ice-ball edge on CT, US and MRI is the 0 degC isotherm


def measured_isotherm(modality: str | None, *requested: float | None) -> float | None:
    """The isotherm a zone is measured on: the one place ablasim decides it.

    For a cryoprobe (``modality == "cryo"``) it is the first of ``requested`` that is given (callers pass a rule's
    isotherm first, then the zone model's), else :data:`ICE_EDGE_C`, the visible ice edge. Heat-based devices
    (radiofrequency, microwave) and explicit zones (``modality is None``) have one zone and no isotherm: None.
    """
    if modality != "cryo":
        return None
    for value in requested:
        if value is not None:
            return float(value)
    return ICE_EDGE_C


@dataclass(frozen=True)
class ZoneSpec:
    """A zone relative to its probe. ``semi_axes_mm = (radial, radial, axial)``; centre ``center_offset_mm``
    proximal to the tip. Provenance travels with it."""

    semi_axes_mm: tuple
    center_offset_mm: float
    isotherm_c: float | None
    protocol: str | None
    power_w: float | None
    duration_s: float | None
    source: str
    kind: str
    verified: bool
    offset_basis: str
    extrapolated: bool = False

    def scaled(self, zone_scale) -> ZoneSpec:
        """Semi-axes multiplied by ``zone_scale`` (one factor, or (radial, axial)) about the zone centre."""
        radial, axial = as_zone_scale(zone_scale, "zone_scale")
        a = self.semi_axes_mm
        return replace(self, semi_axes_mm=(a[0] * radial, a[1] * radial, a[2] * axial))

    @property
    def distal_beyond_tip_mm(self) -> float:
        """How far the zone reaches beyond the tip along the shaft."""
        return self.semi_axes_mm[2] - self.center_offset_mm


@dataclass(frozen=True)
class _Row:
    power_w: float | None
    duration_s: float
    semi_axes: np.ndarray
    offset: float
    source: str
    kind: str
    verified: bool
    basis: str


@dataclass(frozen=True)
class ProbeModel:
    name: str
    modality: str
    manufacturer: str
    source: str
    kind: str
    verified: bool
    notes: str
    zones: tuple  # ZoneSpec (cryo isotherms per protocol)
    table: tuple  # _Row (RF / MW power x time)

    @property
    def protocols(self) -> list[str]:
        return sorted({z.protocol for z in self.zones})

    def isotherms(self, protocol: str | None = None) -> list[float]:
        return sorted({z.isotherm_c for z in self.zones if protocol is None or z.protocol == protocol}, reverse=True)

    def table_points(self) -> list[str]:
        return [(f"{r.power_w:g} W x " if r.power_w is not None else "") + f"{r.duration_s:g} s" for r in self.table]

    def zone_spec(
        self,
        *,
        protocol: str | None = None,
        isotherm_c: float | None = None,
        power_w=None,
        duration_s=None,
        extrapolate: bool = False,
    ) -> ZoneSpec:
        """The zone for a protocol and isotherm (cryo) or a power and duration (RF / MW)."""
        if self.table:
            if protocol is not None or isotherm_c is not None:
                raise ValidationError(
                    f"probe '{self.name}'",
                    {"protocol": protocol, "isotherm_c": isotherm_c},
                    "is an RF/MW device: give power_w and duration_s, not a protocol or isotherm",
                )
            return self._from_table(power_w, duration_s, extrapolate)
        if power_w is not None or duration_s is not None:
            raise ValidationError(
                f"probe '{self.name}'",
                {"power_w": power_w, "duration_s": duration_s},
                f"is a cryoprobe: give protocol (one of {self.protocols}) and isotherm_c",
            )
        proto = protocol if protocol is not None else self.zones[0].protocol
        cands = [z for z in self.zones if z.protocol == proto]
        if not cands:
            raise UnknownNameError(f"probe '{self.name}' protocol", protocol, self.protocols)
        iso = measured_isotherm("cryo", None if isotherm_c is None else as_float(isotherm_c, "isotherm_c"))
        match = [z for z in cands if abs(z.isotherm_c - iso) < 1e-9]
        if not match:
            raise UnknownNameError(
                f"probe '{self.name}' ({proto}) isotherm_c", isotherm_c, [f"{v:g}" for v in self.isotherms(proto)]
            )
        return match[0]

    def _from_table(self, power_w, duration_s, extrapolate) -> ZoneSpec:
        keyed_by_power = self.table[0].power_w is not None
        if duration_s is None:
            raise ValidationError(
                f"probe '{self.name}' duration_s", None, f"required; table points: {', '.join(self.table_points())}"
            )
        t = as_float(duration_s, "duration_s", positive=True)
        if keyed_by_power and power_w is None:
            raise ValidationError(
                f"probe '{self.name}' power_w", None, f"required; table points: {', '.join(self.table_points())}"
            )
        if not keyed_by_power and power_w is not None:
            raise ValidationError(
                f"probe '{self.name}' power_w",
                power_w,
                "this device's table is keyed by duration only (the generator sets the power)",
            )
        p = as_float(power_w, "power_w", positive=True) if keyed_by_power else None
        levels = sorted({r.power_w for r in self.table}) if keyed_by_power else [None]
        out_of_table = False

        def along_time(level):
            nonlocal out_of_table
            rows = sorted((r for r in self.table if r.power_w == level), key=lambda r: r.duration_s)
            ts = np.array([r.duration_s for r in rows])
            vals = np.array([[*r.semi_axes, r.offset] for r in rows])
            if not ts[0] - 1e-9 <= t <= ts[-1] + 1e-9:
                out_of_table = True
            return _interp1(ts, vals, t)

        if keyed_by_power:
            lv = np.array(levels)
            if not lv[0] - 1e-9 <= p <= lv[-1] + 1e-9:
                out_of_table = True
            assert p is not None
            hi = int(np.clip(np.searchsorted(lv, p), 1, len(lv) - 1)) if len(lv) > 1 else 0
            lo = max(hi - 1, 0)
            if abs(p - lv[lo]) < 1e-9 or len(lv) == 1:
                vals = along_time(lv[lo])
            elif abs(p - lv[hi]) < 1e-9:
                vals = along_time(lv[hi])
            else:
                w = (p - lv[lo]) / (lv[hi] - lv[lo])
                vals = (1 - w) * along_time(lv[lo]) + w * along_time(lv[hi])
        else:
            vals = along_time(None)
        if out_of_table and not extrapolate:
            req = (f"{p:g} W x " if p is not None else "") + f"{t:g} s"
            raise ValidationError(
                f"probe '{self.name}' power_w/duration_s",
                req,
                f"outside the table (interpolation only; to extend it set extrapolate = true in the scenario's "
                f"[zone_model], or pass extrapolate=True in Python); "
                f"table points: {', '.join(self.table_points())}",
            )
        if np.any(vals[:3] <= 0):
            raise ValidationError(
                f"probe '{self.name}' power_w/duration_s", (p, t), "extrapolation gives a non-positive zone size"
            )
        row = self.table[0]
        return ZoneSpec(
            tuple(float(v) for v in vals[:3]),
            float(vals[3]),
            None,
            None,
            p,
            t,
            row.source,
            row.kind,
            row.verified,
            row.basis,
            extrapolated=out_of_table,
        )


def _interp1(xs: np.ndarray, vals: np.ndarray, x: float) -> np.ndarray:
    """Piecewise-linear interpolation of the rows of ``vals`` over ``xs``; beyond the ends, the end segment
    extended (a single point: constant)."""
    if len(xs) == 1:
        return vals[0].copy()
    i = int(np.clip(np.searchsorted(xs, x), 1, len(xs) - 1))
    w = (x - xs[i - 1]) / (xs[i] - xs[i - 1])
    return (1 - w) * vals[i - 1] + w * vals[i]


class ProbeCatalog(NamedSet):
    """Probe models by name; ``ProbeCatalog.from_toml(*files)`` adds models or replaces same-named ones."""

    kind = "probe model"

    @classmethod
    def _parse(cls, data, where):
        return _read_catalog(data, where)

    @classmethod
    def default(cls):
        return default_catalog()


@lru_cache(maxsize=1)
def default_catalog() -> ProbeCatalog:
    """The catalog shipped with ablasim (``ablasim/data/probes.toml``)."""
    data = resources.files("ablasim").joinpath("data/probes.toml").read_bytes()
    return ProbeCatalog(_read_catalog(data, "ablasim/data/probes.toml"))


def _geometry(entry: dict, where: str, model: dict):
    """(semi_axes, centre offset, source, kind, verified, basis) of a zone or table row."""
    if ("semi_axes_mm" in entry) == ("diameters_mm" in entry):
        raise ValidationError(f"{where}", sorted(entry), "needs exactly one of semi_axes_mm, diameters_mm")
    axes = (
        as_positive_vector3(entry["semi_axes_mm"], f"{where}.semi_axes_mm")
        if "semi_axes_mm" in entry
        else as_positive_vector3(entry["diameters_mm"], f"{where}.diameters_mm") / 2.0
    )
    if ("center_offset_mm" in entry) == ("distal_beyond_tip_mm" in entry):
        raise ValidationError(
            f"{where}", sorted(entry), "needs exactly one of center_offset_mm, distal_beyond_tip_mm (the tip relation)"
        )
    if "center_offset_mm" in entry:
        offset = as_float(entry["center_offset_mm"], f"{where}.center_offset_mm")
    else:
        offset = axes[2] - as_float(entry["distal_beyond_tip_mm"], f"{where}.distal_beyond_tip_mm")
    kind = entry.get("kind", model["kind"])
    if kind not in KINDS:
        raise ValidationError(f"{where}.kind", kind, f"expected one of {list(KINDS)}")
    verified = entry.get("verified", model["verified"])
    if not isinstance(verified, bool):
        raise ValidationError(f"{where}.verified", verified, "expected true or false")
    return (
        axes,
        offset,
        str(entry.get("source", model["source"])),
        kind,
        verified,
        str(entry.get("offset_basis", "not stated")),
    )


def _read_catalog(data: bytes, where: str) -> dict[str, ProbeModel]:
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"not valid TOML: {exc}", where) from None
    if set(doc) - {"models"}:
        raise ScenarioError(f"unknown top-level key(s) {sorted(set(doc) - {'models'})}; expected [models.NAME]", where)
    out = {}
    try:
        for name, entry in doc.get("models", {}).items():
            out[name] = _read_model(name, entry)
    except ValidationError as exc:
        raise ScenarioError(str(exc), where) from None
    return out


def _read_model(name: str, entry) -> ProbeModel:
    field = f"models.{name}"
    if not isinstance(entry, dict):
        raise ValidationError(field, entry, "must be a table")
    extra = set(entry) - _MODEL_KEYS
    if extra:
        raise ValidationError(field, sorted(extra), f"unknown key(s); valid: {sorted(_MODEL_KEYS)}")
    for key in ("modality", "source", "kind", "verified"):
        if key not in entry:
            raise ValidationError(f"{field}.{key}", None, "missing (every catalog entry states its provenance)")
    if entry["modality"] not in _MODALITIES:
        raise ValidationError(f"{field}.modality", entry["modality"], f"expected one of {list(_MODALITIES)}")
    _geometry({"semi_axes_mm": [1, 1, 1], "center_offset_mm": 0}, field, entry)  # checks kind / verified
    zones, rows = [], []
    for i, z in enumerate(entry.get("zones", [])):
        zf = f"{field}.zones[{i}]"
        extra = set(z) - _ZONE_KEYS
        if extra:
            raise ValidationError(zf, sorted(extra), f"unknown key(s); valid: {sorted(_ZONE_KEYS)}")
        axes, off, src, kind, ver, basis = _geometry(z, zf, entry)
        iso = as_float(z.get("isotherm_c", 0.0), f"{zf}.isotherm_c", maximum=0.0)
        zones.append(
            ZoneSpec(tuple(axes), off, iso, str(z.get("protocol", "standard")), None, None, src, kind, ver, basis)
        )
    for i, r in enumerate(entry.get("table", [])):
        rf = f"{field}.table[{i}]"
        extra = set(r) - _ROW_KEYS
        if extra:
            raise ValidationError(rf, sorted(extra), f"unknown key(s); valid: {sorted(_ROW_KEYS)}")
        if "duration_s" not in r:
            raise ValidationError(f"{rf}.duration_s", None, "missing")
        axes, off, src, kind, ver, basis = _geometry(r, rf, entry)
        power = None if "power_w" not in r else as_float(r["power_w"], f"{rf}.power_w", positive=True)
        rows.append(
            _Row(power, as_float(r["duration_s"], f"{rf}.duration_s", positive=True), axes, off, src, kind, ver, basis)
        )
    if bool(zones) == bool(rows):
        raise ValidationError(field, name, "needs either [[zones]] (cryoprobes) or [[table]] rows (RF/MW), not both")
    if rows and len({r.power_w is None for r in rows}) > 1:
        raise ValidationError(f"{field}.table", name, "give power_w on every row or on none")
    keys = [(r.power_w, r.duration_s) for r in rows]
    if len(set(keys)) != len(keys):
        raise ValidationError(f"{field}.table", name, "has duplicate power/duration rows")
    _check_nesting(zones, field)
    return ProbeModel(
        name,
        str(entry["modality"]),
        str(entry.get("manufacturer", "")),
        str(entry["source"]),
        str(entry["kind"]),
        entry["verified"],
        str(entry.get("notes", "")),
        tuple(zones),
        tuple(rows),
    )


def _check_nesting(zones, field):
    """Within a protocol, colder isotherms must lie inside warmer ones: every point of a sampled colder surface
    (in the probe's frame, tip at the origin, shaft along +z) must be inside the warmer ellipsoid."""

    u = icosphere(3).vertices
    for proto in {z.protocol for z in zones}:
        ordered = sorted((z for z in zones if z.protocol == proto), key=lambda z: -z.isotherm_c)
        for warm, cold in itertools.pairwise(ordered):
            if abs(warm.isotherm_c - cold.isotherm_c) < 1e-9:
                raise ValidationError(f"{field}.zones", proto, f"lists isotherm {warm.isotherm_c:g} degC twice")
            pts = u * np.array(cold.semi_axes_mm) - [0.0, 0.0, cold.center_offset_mm]
            rel = (pts + [0.0, 0.0, warm.center_offset_mm]) / np.array(warm.semi_axes_mm)
            if np.any((rel**2).sum(axis=1) > 1.0 + 1e-9):
                raise ValidationError(
                    f"{field}.zones",
                    proto,
                    f"the {cold.isotherm_c:g} degC zone is not inside the {warm.isotherm_c:g} degC zone",
                )
