"""Calibrate zone ellipsoids on the bioheat solver: a single probe's isotherm extents as catalog-style zones."""

from __future__ import annotations

from ..catalog import ZoneSpec

__all__ = ["zone_specs_from_solver"]


def zone_specs_from_solver(result, isotherms_c=None) -> list[tuple[float, ZoneSpec]]:
    """``[(isotherm_c, ZoneSpec), ...]`` (warmest first) from a single-probe ``BioheatResult``: each isotherm's
    final extent along and across the shaft as an ellipsoid (semi-axes ``[width/2, width/2, length/2]``) centred
    where the extent is, relative to the tip. Use them with ``Probe.zone_from`` or to build a SynergyZone."""
    isos = sorted(result.isotherms if isotherms_c is None else isotherms_c, reverse=True)
    out = []
    for iso in isos:
        e = result.isotherm(iso).final
        semi = (e.width_mm / 2.0, e.width_mm / 2.0, e.length_mm / 2.0)
        offset = -(e.axial_min_mm + e.axial_max_mm) / 2.0  # solver axial coordinates are positive beyond the tip
        out.append(
            (
                float(iso),
                ZoneSpec(
                    semi,
                    offset,
                    float(iso),
                    "solver",
                    None,
                    None,
                    f"bioheat solver, {result.tissue.name}",
                    "model",
                    False,
                    "fitted to the solver's isotherm extent",
                ),
            )
        )
    return out
