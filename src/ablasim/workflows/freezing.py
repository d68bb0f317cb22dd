"""Margins while freezing: the bioheat solver's isotherms measured against the tumour.

* :func:`margin_during_protocol`: the minimum margin (and coverage) to chosen isotherms over the time of a
  protocol, the curve clinicians watch on intraprocedural CT.
* :func:`cycles_to_rule`: how many freeze-thaw cycles (and how much time) until a rule is met, e.g. renal-6mm, or
  the statement that this setup cannot meet it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validation import as_float
from ..errors import ValidationError
from ..metrics.measure import measure_margin
from ..physics import Protocol, ProtocolRun, simulate
from ..rules import Rule
from ..zones.isotherm import isotherm_zone

__all__ = ["CyclesAnswer", "FreezingCurve", "cycles_to_rule", "margin_during_protocol", "margin_to_isotherm"]


def margin_to_isotherm(tumor, temperature_c, grid, isotherm_c: float, *, resolution_mm: float = 0.5):
    """(minimum margin, coverage) of ``tumor`` against ``{T <= isotherm_c}``; (nan, 0) before any ice forms."""
    zone = isotherm_zone(temperature_c, grid, isotherm_c)
    if zone is None:
        return float("nan"), 0.0
    res = measure_margin(tumor, zone, resolution_mm=resolution_mm, map_resolution_mm=2.0)
    return res.min_margin_mm, res.coverage


@dataclass(frozen=True)
class FreezingCurve:
    times_s: np.ndarray
    margins_mm: dict  # isotherm_c -> margins at times_s (nan before any ice)
    coverage: dict  # isotherm_c -> coverage at times_s
    result: object  # the BioheatResult (final field, lethal map, isotherm tracks)

    def time_to_margin(self, isotherm_c: float, margin_mm: float) -> float | None:
        """The first recorded time the margin to ``isotherm_c`` reached ``margin_mm`` (None: never)."""
        m = self.margins_mm[float(isotherm_c)]
        hit = np.flatnonzero(m >= margin_mm)
        return float(self.times_s[hit[0]]) if len(hit) else None


def margin_during_protocol(
    tumor,
    probes,
    tissue,
    protocol,
    grid,
    *,
    isotherms_c=(0.0,),
    record_every_s=30.0,
    resolution_mm: float = 0.5,
    **simulate_kwargs,
) -> FreezingCurve:
    """Simulate ``protocol`` and measure the margin of ``tumor`` to each isotherm every ``record_every_s``."""
    isos = tuple(float(as_float(v, "isotherms_c")) for v in np.atleast_1d(isotherms_c))
    times: list[float] = []
    margins: dict[float, list[float]] = {i: [] for i in isos}
    cover: dict[float, list[float]] = {i: [] for i in isos}

    def on_record(time_s, temperature_c):
        times.append(time_s)
        for i in isos:
            m, c = margin_to_isotherm(tumor, temperature_c, grid, i, resolution_mm=resolution_mm)
            margins[i].append(m)
            cover[i].append(c)

    result = simulate(
        grid,
        tissue,
        probes,
        protocol,
        record_isotherms_c=isos,
        record_every_s=record_every_s,
        callback=on_record,
        **simulate_kwargs,
    )
    return FreezingCurve(
        np.asarray(times),
        {i: np.asarray(v) for i, v in margins.items()},
        {i: np.asarray(v) for i, v in cover.items()},
        result,
    )


@dataclass(frozen=True)
class CyclesAnswer:
    met: bool
    cycles: int | None  # the freeze-thaw cycle during which the rule was first met
    time_s: float | None  # protocol time (freezing and thawing) at that moment
    rule: str
    margin_after_each_freeze_mm: tuple
    times_s: np.ndarray = field(repr=False)
    margins_mm: np.ndarray = field(repr=False)  # the margin to the rule's isotherm at times_s
    reason: str = ""


def cycles_to_rule(
    tumor,
    probes,
    rule: Rule,
    tissue,
    grid,
    *,
    freeze_s: float = 600.0,
    thaw_s: float = 300.0,
    max_cycles: int = 4,
    check_every_s: float = 30.0,
    plateau_mm: float = 0.1,
    resolution_mm: float = 0.5,
    **run_kwargs,
) -> CyclesAnswer:
    """Freeze-thaw cycles (``freeze_s`` freezing, ``thaw_s`` passive thaw) until ``rule`` is met at its isotherm.

    The margin is checked every ``check_every_s`` while freezing (as on intraprocedural CT). The answer stops at
    the first check that meets the rule; it is "cannot be met" after ``max_cycles``, or earlier when a whole cycle
    adds less than ``plateau_mm`` to the margin reached at the end of the previous freeze (the ice ball has reached
    the balance between the probes' cold and the tissue's heat). The freezing runs through
    :class:`ablasim.physics.ProtocolRun`, as :func:`ablasim.physics.simulate` does, so every probe model and every
    check of ``simulate`` applies; ``run_kwargs`` (``precision``, ``dt_s``, ``boundary``, ``initial_temperature_c``,
    ``subcell``) go to it.
    """
    if not isinstance(rule, Rule):
        raise ValidationError("rule", rule, "expected an ablasim Rule (e.g. default_rules()['renal-6mm'])")
    fz = as_float(freeze_s, "freeze_s", positive=True)
    th = as_float(thaw_s, "thaw_s", nonnegative=True)
    every = as_float(check_every_s, "check_every_s", positive=True)
    plateau = as_float(plateau_mm, "plateau_mm", nonnegative=True)
    if isinstance(max_cycles, bool) or not isinstance(max_cycles, int) or max_cycles < 1:
        raise ValidationError("max_cycles", max_cycles, "expected an integer >= 1")
    phases = []
    for cycle in range(max_cycles):
        phases.append(("freeze", fz))
        if th > 0 and cycle < max_cycles - 1:
            phases.append(("thaw", th))
    run = ProtocolRun(grid, tissue, probes, Protocol(phases), **run_kwargs)
    iso = 0.0 if rule.isotherm_c is None else rule.isotherm_c
    start = 0.0
    times, margins, per_cycle = [], [], []
    for cycle in range(1, max_cycles + 1):
        done = 0.0
        while done < fz - 1e-9:
            done = min(done + every, fz)
            run.advance_to(start + done)
            t = run.time_s
            m, _ = margin_to_isotherm(tumor, run.solver.temperature_c, grid, iso, resolution_mm=resolution_mm)
            times.append(t)
            margins.append(m)
            if m >= rule.min_margin_mm:
                per_cycle.append(m)
                return CyclesAnswer(
                    True,
                    cycle,
                    t,
                    rule.name,
                    tuple(per_cycle),
                    np.asarray(times),
                    np.asarray(margins),
                    f"{rule.name} met during freeze {cycle} at {t / 60:.1f} min: margin {m:.2f} mm "
                    f">= {rule.min_margin_mm:g} mm to the {iso:g} degC isotherm",
                )
        per_cycle.append(margins[-1])
        if cycle > 1 and not per_cycle[-1] > per_cycle[-2] + plateau:
            break
        start += fz
        if cycle < max_cycles and th > 0:
            start += th
            run.advance_to(start)
    last = per_cycle[-1]
    why = (
        f"the margin stops growing ({per_cycle[-2]:.2f} -> {last:.2f} mm over cycle {len(per_cycle)})"
        if len(per_cycle) > 1 and not per_cycle[-1] > per_cycle[-2] + plateau
        else f"after {len(per_cycle)} cycle(s) the margin is {last:.2f} mm"
    )
    return CyclesAnswer(
        False,
        None,
        None,
        rule.name,
        tuple(per_cycle),
        np.asarray(times),
        np.asarray(margins),
        f"{rule.name} cannot be met with this setup: {why}, short of {rule.min_margin_mm:g} mm to the "
        f"{iso:g} degC isotherm",
    )
