"""Ablation zones from probes: the union of per-probe catalog zones, or the cold-synergy merged ice ball.

:func:`compose` is the entry point; its result goes straight into :func:`ablasim.measure_margin`.
"""

from __future__ import annotations

from ..catalog import ProbeCatalog, default_catalog
from ..errors import ValidationError
from ..probes import Probe
from .implicit import GridFieldZone, ImplicitZone
from .synergy import DEFAULT_TAIL_MM, SynergyZone, tail_mm_for

__all__ = ["COMPOSITIONS", "GridFieldZone", "ImplicitZone", "SynergyZone", "compose", "tail_mm_for"]

COMPOSITIONS = ("union", "synergy")


def compose(
    probes,
    *,
    composition: str = "union",
    isotherm_c: float | None = None,
    protocol: str | None = None,
    power_w=None,
    duration_s=None,
    zone_scale=1.0,
    extrapolate: bool = False,
    catalog: ProbeCatalog | None = None,
    tail_mm: float = DEFAULT_TAIL_MM,
    body_temperature_c: float = 37.0,
    probe_temperature_c: float = -150.0,
):
    """The zone of ``probes`` (a Probe or a sequence of them).

    ``composition="union"``: a list of Ellipsoids, one per probe, from the catalog at ``isotherm_c`` (cryo; default
    0 degC, the visible ice edge) or at ``power_w`` / ``duration_s`` (RF / MW); ``measure_margin`` treats the list
    as their union. ``composition="synergy"`` (cryoprobes only): a :class:`SynergyZone`, the merged isotherm of
    superposed per-probe fields (assumptions in :mod:`ablasim.zones.synergy`). ``zone_scale`` (one factor or
    (radial, axial)) shrinks or grows every catalog zone about its centre, e.g. 0.8 for vendor charts that
    over-predict clinical zones.
    """

    plist = [probes] if isinstance(probes, Probe) else list(probes)
    if not plist:
        raise ValidationError("probes", probes, "give at least one Probe")
    for i, p in enumerate(plist):
        if not isinstance(p, Probe):
            raise ValidationError(f"probes[{i}]", p, "expected an ablasim Probe")
    if composition not in COMPOSITIONS:
        raise ValidationError("composition", composition, f"expected one of {', '.join(COMPOSITIONS)}")
    cat = catalog if catalog is not None else default_catalog()
    kw = dict(protocol=protocol, power_w=power_w, duration_s=duration_s, zone_scale=zone_scale, extrapolate=extrapolate)
    if composition == "union":
        return [p.zone(cat, isotherm_c=_iso_for(cat, p, isotherm_c), **kw) for p in plist]
    for i, p in enumerate(plist):
        if cat[p.model].modality != "cryo":
            raise ValidationError(f"probes[{i}].model", p.model, "the synergy model is for cryoprobes only")
    level = 0.0 if isotherm_c is None else isotherm_c
    per_probe = []
    for p in plist:
        model = cat[p.model]
        proto = protocol if protocol is not None else model.zones[0].protocol
        levels = model.isotherms(proto)
        per_probe.append([(lv, p.zone(cat, isotherm_c=lv, **kw)) for lv in levels])
    return SynergyZone(
        per_probe,
        level,
        tail_mm=tail_mm,
        body_temperature_c=body_temperature_c,
        probe_temperature_c=probe_temperature_c,
    )


def _iso_for(cat, probe, isotherm_c):
    """Cryoprobes default to the 0 degC ice edge; RF/MW devices take no isotherm (one given is refused)."""
    if cat[probe.model].modality == "cryo" and isotherm_c is None:
        return 0.0
    return isotherm_c
