"""Probes: a needle's tip, direction and model; its ablation zone placed from the catalog.

A :class:`Probe` points from the skin entry towards the tip (``direction``). Catalog zones (:mod:`ablasim.catalog`)
are ellipsoids with semi-axes ``[radial, radial, axial]``, the axial one along the shaft, centred
``center_offset_mm`` proximal to the tip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import as_float, as_positive_vector3, as_rotation, as_unit_vector, as_vector3
from .catalog import ProbeCatalog, ProbeModel, ZoneSpec, default_catalog
from .errors import ValidationError
from .geometry.shapes import Ellipsoid, rotation_with_z_axis

__all__ = ["Probe", "ProbeCatalog", "ProbeModel", "ZoneSpec", "default_catalog"]


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

    def zone_spec(
        self,
        catalog: ProbeCatalog | None = None,
        *,
        protocol=None,
        isotherm_c=None,
        power_w=None,
        duration_s=None,
        zone_scale=1.0,
        extrapolate: bool = False,
    ) -> ZoneSpec:
        """The catalog zone of this probe's model (see :meth:`ablasim.catalog.ProbeModel.zone_spec`), scaled by
        ``zone_scale`` (one factor or (radial, axial)) about its centre."""
        cat = catalog if catalog is not None else default_catalog()
        spec = cat[self.model].zone_spec(
            protocol=protocol, isotherm_c=isotherm_c, power_w=power_w, duration_s=duration_s, extrapolate=extrapolate
        )
        return spec.scaled(zone_scale)

    def zone(self, catalog: ProbeCatalog | None = None, **kwargs) -> Ellipsoid:
        """The model's zone ellipsoid placed on this probe (keywords as :meth:`zone_spec`)."""
        spec = self.zone_spec(catalog, **kwargs)
        return self.zone_from(spec.semi_axes_mm, spec.center_offset_mm)

    def zone_from(self, semi_axes_mm, center_offset_mm: float) -> Ellipsoid:
        """A zone ellipsoid with semi-axes ``[radial, radial, axial]`` centred ``center_offset_mm`` proximal to the
        tip, its axial semi-axis along the shaft."""
        axes = as_positive_vector3(semi_axes_mm, "zone.semi_axes_mm")
        offset = as_float(center_offset_mm, "zone.center_offset_mm")
        return Ellipsoid(self.tip_mm - offset * self.direction, axes, rotation_with_z_axis(self.direction))

    def moved(self, rotation=None, translation_mm=(0.0, 0.0, 0.0)) -> Probe:
        """Image under the rigid motion ``x -> rotation @ x + translation_mm``."""

        rot = as_rotation(rotation, "rotation")
        return Probe(rot @ self.tip_mm + as_vector3(translation_mm, "translation_mm"), rot @ self.direction, self.model)

    def __repr__(self) -> str:
        t = ", ".join(f"{v:g}" for v in self.tip_mm)
        d = ", ".join(f"{v:.3g}" for v in self.direction)
        return f"Probe({self.model!r}, tip_mm=({t}), direction=({d}))"
