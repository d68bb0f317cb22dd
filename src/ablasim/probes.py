"""Probes and the probe-model catalog.

A :class:`Probe` is a needle: its tip position, the unit direction it points (from the skin entry towards the tip)
and a model name. The catalog (``data/probes.toml``, with provenance for every entry) gives each model's ablation
zone as an ellipsoid relative to the tip: semi-axes ``[radial, radial, axial]`` with the axial one along the shaft,
centred ``center_offset_mm`` proximal to the tip.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from ._validation import as_float, as_positive_vector3, as_unit_vector, as_vector3
from .errors import ScenarioError, UnknownNameError, ValidationError
from .shapes import Ellipsoid, rotation_with_z_axis

__all__ = ["Probe", "ZoneSpec", "ProbeModel", "ProbeCatalog", "default_catalog"]

_KINDS = ("manufacturer chart", "phantom", "in vivo", "clinical", "model")


@dataclass(frozen=True)
class ZoneSpec:
    """One zone of a probe model: ellipsoid semi-axes ``[radial, radial, axial]`` and centre offset from the tip."""

    protocol: str
    isotherm_c: float | None
    semi_axes_mm: tuple
    center_offset_mm: float


@dataclass(frozen=True)
class ProbeModel:
    name: str
    modality: str
    manufacturer: str
    source: str
    kind: str
    verified: bool
    notes: str
    zones: tuple

    def zone_spec(self, protocol: str | None = None, isotherm_c: float | None = None) -> ZoneSpec:
        """The zone for ``protocol`` (default: the first listed) and ``isotherm_c`` (default: the first listed)."""
        cands = list(self.zones)
        if protocol is not None:
            cands = [z for z in cands if z.protocol == protocol]
            if not cands:
                raise UnknownNameError(f"probe '{self.name}' protocol", protocol, {z.protocol for z in self.zones})
        if isotherm_c is not None:
            iso = as_float(isotherm_c, "isotherm_c")
            match = [z for z in cands if z.isotherm_c is not None and abs(z.isotherm_c - iso) < 1e-9]
            if not match:
                raise UnknownNameError(f"probe '{self.name}' isotherm_c", isotherm_c,
                                       {f"{z.isotherm_c:g}" for z in cands if z.isotherm_c is not None})
            cands = match
        return cands[0]


class ProbeCatalog:
    """Probe models by name, read from TOML files; later files add models or replace same-named ones."""

    def __init__(self, models: dict[str, ProbeModel]):
        self._models = dict(models)

    @classmethod
    def from_toml(cls, *paths, include_default: bool = True) -> "ProbeCatalog":
        models = dict(default_catalog()._models) if include_default else {}
        for path in paths:
            models.update(_read_catalog(Path(path).read_bytes(), str(path)))
        return cls(models)

    def names(self) -> list[str]:
        return sorted(self._models)

    def __contains__(self, name) -> bool:
        return name in self._models

    def __getitem__(self, name: str) -> ProbeModel:
        try:
            return self._models[name]
        except KeyError:
            raise UnknownNameError("probe model", name, self._models) from None

    def __iter__(self):
        return iter(self._models.values())


@lru_cache(maxsize=1)
def default_catalog() -> ProbeCatalog:
    """The catalog shipped with ablasim (``ablasim/data/probes.toml``)."""
    data = resources.files("ablasim").joinpath("data/probes.toml").read_bytes()
    return ProbeCatalog(_read_catalog(data, "ablasim/data/probes.toml"))


_MODEL_KEYS = {"modality", "manufacturer", "source", "kind", "verified", "notes", "zones"}
_ZONE_KEYS = {"protocol", "isotherm_c", "semi_axes_mm", "center_offset_mm"}


def _read_catalog(data: bytes, where: str) -> dict[str, ProbeModel]:
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"not valid TOML: {exc}", where) from None
    unknown = set(doc) - {"models"}
    if unknown:
        raise ScenarioError(f"unknown top-level key(s) {sorted(unknown)}; expected [models.NAME] tables", where)
    out = {}
    for name, entry in doc.get("models", {}).items():
        field = f"models.{name}"
        if not isinstance(entry, dict):
            raise ScenarioError(f"{field} must be a table", where)
        extra = set(entry) - _MODEL_KEYS
        if extra:
            raise ScenarioError(f"unknown key(s) {sorted(extra)} in [{field}]; valid: {sorted(_MODEL_KEYS)}", where)
        for key in ("modality", "source", "kind", "verified"):
            if key not in entry:
                raise ScenarioError(f"[{field}] lacks '{key}' (every catalog entry states its provenance)", where)
        if entry["kind"] not in _KINDS:
            raise ScenarioError(f"{field}.kind={entry['kind']!r}: expected one of {list(_KINDS)}", where)
        if not isinstance(entry["verified"], bool):
            raise ScenarioError(f"{field}.verified must be true or false", where)
        zones = []
        for i, z in enumerate(entry.get("zones", [])):
            zf = f"{field}.zones[{i}]"
            extra = set(z) - _ZONE_KEYS
            if extra:
                raise ScenarioError(f"unknown key(s) {sorted(extra)} in {zf}; valid: {sorted(_ZONE_KEYS)}", where)
            try:
                axes = as_positive_vector3(z["semi_axes_mm"], f"{zf}.semi_axes_mm")
                offset = as_float(z.get("center_offset_mm", 0.0), f"{zf}.center_offset_mm")
                iso = z.get("isotherm_c")
                iso = None if iso is None else as_float(iso, f"{zf}.isotherm_c")
            except KeyError as exc:
                raise ScenarioError(f"{zf} lacks {exc}", where) from None
            except ValidationError as exc:
                raise ScenarioError(str(exc), where) from None
            zones.append(ZoneSpec(str(z.get("protocol", "default")), iso, tuple(axes), offset))
        if not zones:
            raise ScenarioError(f"[{field}] has no zones", where)
        out[name] = ProbeModel(name, str(entry["modality"]), str(entry.get("manufacturer", "")),
                               str(entry["source"]), str(entry["kind"]), entry["verified"],
                               str(entry.get("notes", "")), tuple(zones))
    return out


@dataclass(frozen=True, eq=False)
class Probe:
    """A probe: ``tip_mm``, unit ``direction`` (skin entry -> tip) and ``model`` (a catalog name)."""

    tip_mm: np.ndarray
    direction: np.ndarray
    model: str

    def __init__(self, tip_mm, direction, model: str):
        object.__setattr__(self, "tip_mm", as_vector3(tip_mm, "probe.tip_mm"))
        object.__setattr__(self, "direction", as_unit_vector(direction, "probe.direction"))
        if not isinstance(model, str) or not model:
            raise ValidationError("probe.model", model, "expected a model name")
        object.__setattr__(self, "model", model)

    def zone(self, catalog: ProbeCatalog | None = None, *, protocol: str | None = None,
             isotherm_c: float | None = None) -> Ellipsoid:
        """The model's zone ellipsoid placed on this probe."""
        cat = catalog if catalog is not None else default_catalog()
        spec = cat[self.model].zone_spec(protocol, isotherm_c)
        return self.zone_from(spec.semi_axes_mm, spec.center_offset_mm)

    def zone_from(self, semi_axes_mm, center_offset_mm: float) -> Ellipsoid:
        """A zone ellipsoid with semi-axes ``[radial, radial, axial]`` centred ``center_offset_mm`` proximal to the
        tip, its axial semi-axis along the shaft."""
        axes = as_positive_vector3(semi_axes_mm, "zone.semi_axes_mm")
        offset = as_float(center_offset_mm, "zone.center_offset_mm")
        center = self.tip_mm - offset * self.direction
        return Ellipsoid(center, axes, rotation_with_z_axis(self.direction))

    def __repr__(self) -> str:
        t = ", ".join(f"{v:g}" for v in self.tip_mm)
        d = ", ".join(f"{v:.3g}" for v in self.direction)
        return f"Probe({self.model!r}, tip_mm=({t}), direction=({d}))"
