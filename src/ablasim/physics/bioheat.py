"""Cryoablation simulation: probes + protocol + tissue on a grid -> temperature history and isotherm extents.

:class:`ProtocolRun` validates everything once and then steps a :class:`~ablasim.physics.solver.BioheatSolver`
phase by phase; :func:`simulate` and ``ablasim.workflows.freezing.cycles_to_rule`` both step through it, so every
check and every probe model applies to both. During ``freeze`` every probe acts with its wall model (fixed wall,
power-limited wall with a floor, or a fixed sink; ``ablasim.physics.protocol``), during ``thaw`` the probes are
released (passive thaw), during ``active_thaw`` they hold ``thaw_temperature_c``. :func:`simulate` measures each
requested isotherm against the first probe's axis at every recording time
(:class:`~ablasim.physics.solver.IsothermExtent`); the running minimum temperature gives the lethal map.
Units: mm, s, degC, W.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from .._validation import as_float
from ..errors import ValidationError
from ..geometry.grid import Grid
from .protocol import Cryoprobe, Protocol
from .result import _EXTENT_FIELDS, BioheatResult, IsothermTrack
from .solver import BioheatSolver, as_tissue
from .tissue import Tissue

__all__ = ["BioheatResult", "IsothermTrack", "ProtocolRun", "simulate"]


class ProtocolRun:
    """``probes`` following ``protocol`` in ``tissue`` on ``grid``, validated, advanced with :meth:`advance_to`.

    Parameters as :func:`simulate`; ``subcell=False`` holds the probe voxels of :meth:`Cryoprobe.voxels` instead of
    the sub-cell wall model (the older discretisation, kept for comparisons; fixed walls only).
    """

    def __init__(
        self,
        grid: Grid,
        tissue: Tissue | str,
        probes: Cryoprobe | Sequence[Cryoprobe],
        protocol: Protocol | str | Sequence,
        *,
        dt_s: float | None = None,
        initial_temperature_c: float | None = None,
        boundary: str | Sequence[str] = "fixed",
        precision: str = "single",
        subcell: bool = True,
    ):
        if not isinstance(grid, Grid):
            raise ValidationError("grid", grid, "expected an ablasim.Grid")
        self.grid = grid
        self.tissue = as_tissue(tissue)
        self.probes = _as_probes(probes)
        self.protocol = Protocol.coerce(protocol)
        if not isinstance(subcell, bool):
            raise ValidationError("subcell", subcell, "expected True or False")
        if not subcell:
            for m, p in enumerate(self.probes):
                if p.max_power_w is not None:
                    raise ValidationError(
                        f"probes[{m}].max_power_w", p.max_power_w, "a power-limited wall needs subcell=True"
                    )
        self.solver = BioheatSolver(
            grid,
            self.tissue,
            initial_temperature_c=initial_temperature_c,
            boundary=boundary,
            dt_s=dt_s,
            precision=precision,
        )
        _check_probe_temperatures(self.probes, self.protocol, self.tissue, self.solver.initial_temperature_c)
        sub = [m for m, p in enumerate(self.probes) if subcell and p.heat_extraction_w is None]
        self.boundaries = self.solver.probe_boundaries(self.probes, sub)
        self.voxels = {}
        for m, p in enumerate(self.probes):
            v = p.voxels(grid)
            if len(v) == 0 or m in self.boundaries.empty_voxels():
                raise ValidationError(f"probes[{m}]", p, f"its active segment does not intersect the grid {grid!r}")
            if m not in sub:
                self.voxels[m] = v
        self.ends = np.cumsum([ph.duration_s for ph in self.protocol])
        self.tolerance_s = 1e-9 * max(self.protocol.duration_s, 1.0)
        self._time_s = 0.0

    @property
    def time_s(self) -> float:
        """Protocol time reached (s)."""
        return self._time_s

    @property
    def duration_s(self) -> float:
        return self.protocol.duration_s

    def phase_index(self, time_s: float) -> int:
        """Index of the protocol phase running just after ``time_s``."""
        after = int(np.searchsorted(self.ends, time_s + self.tolerance_s, side="right"))
        return min(after, len(self.ends) - 1)

    def advance_to(self, time_s: float) -> None:
        """Advance to ``time_s`` (s from the start, not beyond the protocol's end), crossing phase ends."""
        target = as_float(time_s, "time_s", minimum=0.0, maximum=self.duration_s + self.tolerance_s)
        while target > self._time_s + self.tolerance_s:
            phase = self.phase_index(self._time_s)
            stop = min(target, float(self.ends[phase]))
            kind = self.protocol.phases[phase].kind
            self.boundaries.configure(kind, self.tissue)
            held, sinks = self._legacy_conditions(kind)
            self.solver.run(stop - self._time_s, held=held, sinks=sinks, probes=self.boundaries)
            self._time_s = stop

    def _legacy_conditions(self, kind):
        held: list = []
        sinks: list = []
        if kind == "thaw":
            return held, sinks
        for m, v in self.voxels.items():
            p = self.probes[m]
            if kind == "active_thaw":
                held.append((v, p.thaw_temperature_c))
            elif p.heat_extraction_w is None:
                held.append((v, p.probe_temperature_c))
            else:
                sinks.append((v, p.heat_extraction_w))
        return held, sinks

    def probe_energy_j(self) -> tuple:
        """Heat each probe has removed so far (J, the whole probe's even where the grid holds part of it; 0 for
        probes outside the sub-cell model)."""
        b = self.boundaries
        out = [0.0] * len(self.probes)
        for k, m in enumerate(b.members):
            out[m] = float(b.energy[k]) * b.voxel_volume_m3 / max(b.share(k), 1e-12)
        return tuple(out)


def simulate(
    grid: Grid,
    tissue: Tissue | str,
    probes: Cryoprobe | Sequence[Cryoprobe],
    protocol: Protocol | str | Sequence,
    *,
    record_isotherms_c=(0.0, -20.0, -40.0),
    record_every_s: float = 10.0,
    record_fields_at_s=(),
    dt_s: float | None = None,
    initial_temperature_c: float | None = None,
    boundary: str | Sequence[str] = "fixed",
    precision: str = "single",
    callback: Callable | None = None,
    subcell: bool = True,
) -> BioheatResult:
    """Simulate cryoablation with ``probes`` following ``protocol`` in ``tissue`` on ``grid``.

    Parameters
    ----------
    grid : Grid (any spacing and orientation)
    tissue : Tissue or tissue name (see :func:`ablasim.physics.tissue_names`)
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
    subcell : the sub-cell probe wall (default) or, False, the older held probe voxels (fixed walls only)
    """
    isotherms = tuple(as_float(v, f"record_isotherms_c[{m}]") for m, v in enumerate(_as_seq(record_isotherms_c)))
    every = as_float(record_every_s, "record_every_s", positive=True)
    if callback is not None and not callable(callback):
        raise ValidationError("callback", callback, "expected a callable callback(time_s, temperature_c)")
    run = ProtocolRun(
        grid,
        tissue,
        probes,
        protocol,
        dt_s=dt_s,
        initial_temperature_c=initial_temperature_c,
        boundary=boundary,
        precision=precision,
        subcell=subcell,
    )
    total = run.duration_s
    keep = sorted(
        {
            as_float(v, f"record_fields_at_s[{m}]", minimum=0.0, maximum=total)
            for m, v in enumerate(_as_seq(record_fields_at_s))
        }
    )
    if keep:  # the solver's state is allocated (and counted by check_fits); the kept fields come on top
        grid.check_fits(8.0 * len(keep), "the temperature fields to keep (record_fields_at_s)")
    solver, first = run.solver, run.probes[0]
    tol = run.tolerance_s
    n_rec = math.floor(total / every + 1e-9)
    rec_times = [every * m for m in range(1, n_rec + 1)] + [total]
    events = _merge([*run.ends, *rec_times, *keep], tol)
    is_rec = {e: any(abs(e - r) <= tol for r in rec_times) for e in events}
    is_keep = {e: any(abs(e - r) <= tol for r in keep) for e in events}

    times, rows = [0.0], [[_extent_row(solver, iso, first) for iso in isotherms]]
    fields = {0.0: solver.temperature_c} if keep and keep[0] <= tol else {}
    if callback is not None:
        callback(0.0, solver.temperature_c)
    for e in events:
        if e <= tol:
            continue
        run.advance_to(e)
        if is_rec[e]:
            times.append(e)
            rows.append([_extent_row(solver, iso, first) for iso in isotherms])
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
        run.tissue,
        run.probes,
        run.protocol,
        precision,
        solver.dt_s,
        solver.steps,
        solver.initial_temperature_c,
        times_arr,
        tracks,
        solver.temperature_c,
        solver.min_temperature_c,
        fields,
        run.probe_energy_j(),
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
                what = "wall floor" if p.max_power_w is not None else "wall"
                raise ValidationError(
                    f"probes[{m}].probe_temperature_c",
                    p.probe_temperature_c,
                    f"a cryoprobe's {what} must be colder than the tissue's liquidus ({tissue.liquidus_c:g} "
                    f"degC) and its initial temperature ({t0:g} degC)",
                )
        if "active_thaw" in kinds and not p.thaw_temperature_c > tissue.liquidus_c:
            raise ValidationError(
                f"probes[{m}].thaw_temperature_c",
                p.thaw_temperature_c,
                f"active thaw must be warmer than the tissue's liquidus ({tissue.liquidus_c:g} degC)",
            )


def _extent_row(solver, iso, probe):
    e = solver.isotherm_extent(iso, probe.tip_mm, probe.direction)
    return [getattr(e, f) for f in _EXTENT_FIELDS]


def _merge(values, tol):
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > tol:
            out.append(float(v))
    return out
