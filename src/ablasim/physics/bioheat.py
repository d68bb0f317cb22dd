"""Cryoablation simulation: probes + protocol + tissue on a grid -> temperature history and isotherm extents.

:func:`simulate` validates everything, then drives a :class:`~ablasim.physics.solver.BioheatSolver` phase by
phase: during ``freeze`` every probe holds its voxels at ``probe_temperature_c`` (or extracts
``heat_extraction_w``), during ``thaw`` the probes are released (passive thaw), during ``active_thaw`` they hold
``thaw_temperature_c``. At every recording time it measures each requested isotherm against the first probe's
axis (:class:`~ablasim.physics.solver.IsothermExtent`); the running minimum temperature gives the lethal map.
Units: mm, s, degC, W.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validation import as_float
from ..errors import UnknownNameError, ValidationError
from ..geometry.grid import Grid
from .protocol import Cryoprobe, Protocol
from .solver import BioheatSolver, IsothermExtent, as_tissue
from .tissue import Tissue

__all__ = ["BioheatResult", "IsothermTrack", "simulate"]

_EXTENT_FIELDS = ("volume_mm3", "axial_min_mm", "axial_max_mm", "length_mm", "width_mm", "max_radius_mm")


@dataclass(frozen=True, eq=False)
class IsothermTrack:
    """One isotherm's extent over time (arrays aligned with ``times_s``; see :class:`IsothermExtent`)."""

    isotherm_c: float
    times_s: np.ndarray
    volume_mm3: np.ndarray
    axial_min_mm: np.ndarray
    axial_max_mm: np.ndarray
    length_mm: np.ndarray
    width_mm: np.ndarray
    max_radius_mm: np.ndarray

    def at(self, time_s) -> IsothermExtent:
        """The extent recorded at ``time_s`` (must be one of ``times_s``)."""
        m = _time_index(self.times_s, time_s, "time_s")
        return IsothermExtent(*(float(getattr(self, f)[m]) for f in _EXTENT_FIELDS))

    @property
    def final(self) -> IsothermExtent:
        return self.at(self.times_s[-1])


@dataclass(frozen=True, eq=False)
class BioheatResult:
    """What :func:`simulate` returns. Fields are ``grid.shape`` float64 arrays in degC.

    ``temperature_c``: final field; ``min_temperature_c``: lowest temperature each voxel reached (the lethal
    map); ``isotherms``: :class:`IsothermTrack` per recorded isotherm, measured against ``probes[0]``'s axis;
    ``fields``: temperature fields kept at the requested times; ``dt_s``: the time step used.
    """

    grid: Grid
    tissue: Tissue
    probes: tuple
    protocol: Protocol
    precision: str
    dt_s: float
    steps: int
    initial_temperature_c: float
    times_s: np.ndarray
    isotherms: dict
    temperature_c: np.ndarray
    min_temperature_c: np.ndarray
    fields: dict

    def isotherm(self, isotherm_c) -> IsothermTrack:
        """The track of ``isotherm_c`` (one of the recorded isotherms)."""
        iso = as_float(isotherm_c, "isotherm_c")
        for key, track in self.isotherms.items():
            if abs(key - iso) < 1e-9:
                return track
        raise UnknownNameError("isotherm_c", isotherm_c, [f"{k:g}" for k in self.isotherms])

    def field_at(self, time_s) -> np.ndarray:
        """The temperature field kept at ``time_s`` (pass ``record_fields_at_s`` to :func:`simulate`)."""
        times = np.array(sorted(self.fields))
        return self.fields[float(times[_time_index(times, time_s, "time_s")])]

    def lethal_mask(self, threshold_c=-40.0) -> np.ndarray:
        """Voxels whose lowest temperature reached ``threshold_c`` or below."""
        return self.min_temperature_c <= as_float(threshold_c, "threshold_c")


def simulate(
    grid,
    tissue,
    probes,
    protocol,
    *,
    record_isotherms_c=(0.0, -20.0, -40.0),
    record_every_s=10.0,
    record_fields_at_s=(),
    dt_s=None,
    initial_temperature_c=None,
    boundary="fixed",
    precision="single",
    callback=None,
) -> BioheatResult:
    """Simulate cryoablation with ``probes`` following ``protocol`` in ``tissue`` on ``grid``.

    Parameters
    ----------
    grid : Grid (any spacing and orientation)
    tissue : Tissue or tissue name (``"liver"``, ``"kidney"``, ``"muscle"``, ``"fat"``, ``"gel"``)
    probes : Cryoprobe or a sequence of them; isotherm extents are measured against the first one's axis
    protocol : Protocol, ``"10-5-10"`` (minutes, freeze/thaw alternating) or ``[(kind, duration_s), ...]``
    record_isotherms_c : isotherms whose extents are recorded
    record_every_s : recording interval (the end of the protocol is always recorded)
    record_fields_at_s : times at which to keep the whole temperature field (``BioheatResult.field_at``)
    dt_s : forced time step (refused above the stability limit); default from the physics
    initial_temperature_c : default the tissue's steady temperature (37 degC)
    boundary : ``"fixed"`` (domain faces held at the initial temperature) or ``"adiabatic"``
    precision : ``"single"`` (default: float32 state, twice as fast; agrees with double to < 1e-3 mm on every
        validation case, docs/physics.md) or ``"double"``
    callback : ``callback(time_s, temperature_c)`` at every recording time (``temperature_c`` is a fresh copy)
    """
    if not isinstance(grid, Grid):
        raise ValidationError("grid", grid, "expected an ablasim.Grid")
    tissue = as_tissue(tissue)
    probes = _as_probes(probes)
    protocol = Protocol.coerce(protocol)
    isotherms = tuple(as_float(v, f"record_isotherms_c[{m}]") for m, v in enumerate(_as_seq(record_isotherms_c)))
    every = as_float(record_every_s, "record_every_s", positive=True)
    total = protocol.duration_s
    keep = sorted(
        {
            as_float(v, f"record_fields_at_s[{m}]", minimum=0.0, maximum=total)
            for m, v in enumerate(_as_seq(record_fields_at_s))
        }
    )
    if callback is not None and not callable(callback):
        raise ValidationError("callback", callback, "expected a callable callback(time_s, temperature_c)")
    solver = BioheatSolver(
        grid, tissue, initial_temperature_c=initial_temperature_c, boundary=boundary, dt_s=dt_s, precision=precision
    )
    if keep:  # the solver's state is allocated (and counted by check_fits); the kept fields come on top
        grid.check_fits(8.0 * len(keep), "the temperature fields to keep (record_fields_at_s)")
    _check_probe_temperatures(probes, protocol, tissue, solver.initial_temperature_c)
    voxels = []
    for m, p in enumerate(probes):
        v = p.voxels(grid)
        if len(v) == 0:
            raise ValidationError(f"probes[{m}]", p, f"its active segment does not intersect the grid {grid!r}")
        voxels.append(v)

    ends = np.cumsum([ph.duration_s for ph in protocol])
    tol = 1e-9 * max(total, 1.0)
    n_rec = math.floor(total / every + 1e-9)
    rec_times = [every * m for m in range(1, n_rec + 1)] + [total]
    events = _merge([*ends, *rec_times, *keep], tol)
    is_rec = {e: any(abs(e - r) <= tol for r in rec_times) for e in events}
    is_keep = {e: any(abs(e - r) <= tol for r in keep) for e in events}

    times, rows = [0.0], [[_extent_row(solver, iso, probes[0]) for iso in isotherms]]
    fields = {0.0: solver.temperature_c} if keep and keep[0] <= tol else {}
    if callback is not None:
        callback(0.0, solver.temperature_c)
    t, phase = 0.0, 0
    for e in events:
        if e <= tol:
            continue
        while ends[phase] <= t + tol:
            phase += 1
        held, sinks = _boundary_conditions(protocol.phases[phase].kind, probes, voxels)
        solver.run(e - t, held=held, sinks=sinks)
        t = e
        if is_rec[e]:
            times.append(e)
            rows.append([_extent_row(solver, iso, probes[0]) for iso in isotherms])
            if callback is not None:
                callback(e, solver.temperature_c)
        if is_keep[e]:
            fields[float(min(keep, key=lambda k: abs(k - e)))] = solver.temperature_c

    times_arr = np.asarray(times)
    data = np.asarray(rows, dtype=np.float64).reshape(len(times), len(isotherms), len(_EXTENT_FIELDS))
    tracks = {
        iso: IsothermTrack(iso, times_arr, *(data[:, m, f].copy() for f in range(len(_EXTENT_FIELDS))))
        for m, iso in enumerate(isotherms)
    }
    return BioheatResult(
        grid,
        tissue,
        probes,
        protocol,
        precision,
        solver.dt_s,
        solver.steps,
        solver.initial_temperature_c,
        times_arr,
        tracks,
        solver.temperature_c,
        solver.min_temperature_c,
        fields,
    )


def _as_seq(value):
    return [value] if np.ndim(value) == 0 else list(value)


def _as_probes(probes) -> tuple:
    items = [probes] if isinstance(probes, Cryoprobe) else list(probes) if isinstance(probes, (list, tuple)) else None
    if not items:
        raise ValidationError("probes", probes, "expected a Cryoprobe or a non-empty sequence of them")
    for m, p in enumerate(items):
        if not isinstance(p, Cryoprobe):
            raise ValidationError(f"probes[{m}]", p, "expected an ablasim.physics.Cryoprobe")
    return tuple(items)


def _check_probe_temperatures(probes, protocol, tissue, t0):
    kinds = {ph.kind for ph in protocol}
    for m, p in enumerate(probes):
        if p.heat_extraction_w is None and "freeze" in kinds:
            limit = min(tissue.liquidus_c, t0)
            if not p.probe_temperature_c < limit:
                raise ValidationError(
                    f"probes[{m}].probe_temperature_c",
                    p.probe_temperature_c,
                    f"a cryoprobe must be colder than the tissue's liquidus ({tissue.liquidus_c:g} "
                    f"degC) and its initial temperature ({t0:g} degC)",
                )
        if "active_thaw" in kinds and not p.thaw_temperature_c > tissue.liquidus_c:
            raise ValidationError(
                f"probes[{m}].thaw_temperature_c",
                p.thaw_temperature_c,
                f"active thaw must be warmer than the tissue's liquidus ({tissue.liquidus_c:g} degC)",
            )


def _boundary_conditions(kind, probes, voxels):
    if kind == "thaw":
        return (), ()
    if kind == "active_thaw":
        return [(v, p.thaw_temperature_c) for p, v in zip(probes, voxels)], ()
    held = [(v, p.probe_temperature_c) for p, v in zip(probes, voxels) if p.heat_extraction_w is None]
    sinks = [(v, p.heat_extraction_w) for p, v in zip(probes, voxels) if p.heat_extraction_w is not None]
    return held, sinks


def _extent_row(solver, iso, probe):
    e = solver.isotherm_extent(iso, probe.tip_mm, probe.direction)
    return [getattr(e, f) for f in _EXTENT_FIELDS]


def _merge(values, tol):
    out = []
    for v in sorted(values):
        if not out or v - out[-1] > tol:
            out.append(float(v))
    return out


def _time_index(times, time_s, field) -> int:
    t = as_float(time_s, field)
    if len(times) == 0:
        raise ValidationError(field, time_s, "no fields were kept; pass record_fields_at_s to simulate()")
    m = int(np.argmin(np.abs(np.asarray(times) - t)))
    if abs(times[m] - t) > 1e-6 * max(1.0, abs(t)):
        shown = ", ".join(f"{x:g}" for x in list(times)[:8])
        raise ValidationError(
            field, time_s, f"not a recorded time; recorded: {shown}{' ...' if len(times) > 8 else ''}"
        )
    return m
