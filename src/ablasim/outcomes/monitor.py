"""Monitoring, critical structures and the lethal margin, applied to whole columns of a series' cases.

For each case (:mod:`ablasim.outcomes.cases` gives the delivered margin ``m``, the margin with a probe added, and the
random numbers), in the arm's order of actions:

* the operator reads the visible margin ``min(m, cap) + e`` (``e``: the reading error, one per case, sd
  ``visible_margin_sd_mm``); while it is short of the arm's target and the zone has not reached a structure
  (``m < cap``), the next action is taken, up to its ``max``: ``extend_freeze`` / ``extra_cycle`` grow the ice ball
  by ``gain_mm`` (a uniform outward growth: the margin grows by the same amount), ``add_probe`` replaces the array by
  the one with a probe added (its delivered margin plus the growth already applied, if larger);
* a critical structure or large vessel lies nearby with probability ``p_near``, at a distance uniform in
  ``[0, cap_max_mm]`` from the tumour surface; the zone cannot extend past it, so the final margin is
  ``min(m, cap)``;
* the lethal margin is the final zone margin minus the lethal offset of the arm's modality in the series' tissue
  (:func:`ablasim.outcomes.lethal.lethal_offset_mm`).

:class:`Overrides` replaces any of these numbers for the sensitivity analysis; nothing here re-measures geometry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .lethal import lethal_offset_mm

__all__ = ["Finished", "Overrides", "finish_cases"]


@dataclass(frozen=True)
class Overrides:
    """Assumptions replaced by the sensitivity analysis (None: the series' own value)."""

    lethal_offset_mm: float | None = None  # cryo arms only (heat-based zones have no offset)
    visible_margin_sd_mm: float | None = None
    p_near: float | None = None
    cap_max_mm: float | None = None
    gain_mm: float | None = None  # every growth action
    assumed_target_mm: float | None = None  # arms whose target is an assumption


@dataclass(frozen=True)
class Finished:
    zone_margin_mm: np.ndarray  # final margin of the zone (visible ice edge for cryo)
    read_margin_mm: np.ndarray  # what the operator reads at the end (the zone margin plus the reading error)
    lethal_margin_mm: np.ndarray
    capped: np.ndarray  # bool: a structure limits the margin
    extensions: np.ndarray  # growth actions taken (extend_freeze + extra_cycle)
    probes_added: np.ndarray


def finish_cases(spec, table: dict, overrides: Overrides | None = None) -> Finished:
    """Apply monitoring, caps and the lethal offset to the geometry columns ``table`` of ``spec``'s cases."""
    o = overrides if overrides is not None else Overrides()
    n = len(table["case"])
    sd = spec.visible_margin_sd_mm if o.visible_margin_sd_mm is None else o.visible_margin_sd_mm
    p_near = spec.p_near if o.p_near is None else o.p_near
    cap_max = spec.cap_max_mm if o.cap_max_mm is None else o.cap_max_mm
    err = sd * np.asarray(table["z_read"], dtype=float)
    cap = np.where(np.asarray(table["u_near"]) < p_near, np.asarray(table["u_cap"]) * cap_max, np.inf)
    m = np.asarray(table["margin_mm"], dtype=float).copy()
    plus = np.asarray(table["margin_plus_mm"], dtype=float)
    grown = np.zeros(n)
    ext = np.zeros(n, dtype=np.int64)
    added = np.zeros(n, dtype=np.int64)
    offset = np.zeros(n)
    arm_of = np.asarray(table["arm"])
    for k, arm in enumerate(spec.arms):
        sel = arm_of == k
        if not sel.any():
            continue
        target = arm.target_margin_mm
        if arm.target_assumed and o.assumed_target_mm is not None:
            target = o.assumed_target_mm
        off = lethal_offset_mm(spec.tissue, arm.modality)
        if arm.modality == "cryo" and o.lethal_offset_mm is not None:
            off = o.lethal_offset_mm
        offset[sel] = off
        for act in arm.actions:
            for _ in range(act.max):
                short = sel & (np.minimum(m, cap) + err < target) & (m < cap)
                if act.action == "add_probe":
                    ok = short & np.isfinite(plus)
                    m = np.where(ok, np.maximum(m, plus + grown), m)
                    added += ok
                else:
                    g = act.gain_mm if o.gain_mm is None else o.gain_mm
                    m = np.where(short, m + g, m)
                    grown = np.where(short, grown + g, grown)
                    ext += short
    final = np.minimum(m, cap)
    return Finished(final, final + err, final - offset, cap <= m, ext, added)
