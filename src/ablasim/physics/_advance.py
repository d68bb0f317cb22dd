"""Private numba kernels of the bioheat time loop: Dirichlet voxels, sinks, cryoprobes, ghosts and the lethal-map
tracker, and the loops that advance many steps in one call (solver.py validates every input).

Cryoprobes (:func:`probe_update`, after every step) use the sub-cell model of ``_near_field.py``: each probe owns
the voxels whose centres lie within ``radius + 2 h`` of its active segment; each is pulled towards the
quasi-steady near-field temperature ``T_wall + a ln(max(d, r_p) / r_p)`` (``d`` its distance from the segment,
``a = q' / (2 pi k)`` from the heat flow per unit length ``q'`` that conduction brought into the probe's voxels in
the step, under-relaxed by :data:`RELAX`). A capped wall sits at its floor while holding the profile there removes
no more than the probe's power limit; otherwise the wall rises to the temperature at which the profile removes
exactly the limit (a safeguarded Newton solve on a few hundred voxels), as the wall of a gas-limited probe warms
under load.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .._jit import kernel
from ._stencils import (
    _temperature,
    enthalpy_step,
    enthalpy_step_general,
    enthalpy_step_general_serial,
    enthalpy_step_serial,
    enthalpy_step_stasis,
    enthalpy_step_stasis_serial,
    pennes_step,
    pennes_step_serial,
)

#: Under-relaxation per step of the near-field slopes beside the shaft and beyond its ends (an explicit feedback:
#: the voxels' targets set the heat flow that sets the targets; a full update overshoots, docs/physics.md). The end
#: caps measure their flux density over a small wall area, so their loop gain is several times the shaft's.
RELAX = (0.2, 0.02)


@kernel(entry=True)
def mirror_ghosts(T, closed):
    """Adiabatic faces: copy the outermost interior layer into the ghost layer (``closed``: 6 flags, x-lo, x-hi,
    y-lo, y-hi, z-lo, z-hi)."""
    n0, n1, n2 = T.shape
    if closed[0]:
        T[0] = T[1]
    if closed[1]:
        T[n0 - 1] = T[n0 - 2]
    for i in range(n0):
        if closed[2]:
            T[i, 0] = T[i, 1]
        if closed[3]:
            T[i, n1 - 1] = T[i, n1 - 2]
        if closed[4] or closed[5]:
            for j in range(n1):
                if closed[4]:
                    T[i, j, 0] = T[i, j, 1]
                if closed[5]:
                    T[i, j, n2 - 1] = T[i, j, n2 - 2]


@kernel
def hold(H, T, idx, h_values, t_values):
    """Dirichlet voxels (flat arrays): ``H[idx] = h_values``, ``T[idx] = t_values``."""
    for m in range(idx.size):
        H[idx[m]] = h_values[m]
        T[idx[m]] = t_values[m]


@kernel
def deposit(H, T, idx, amount, scale, c):
    """Add ``scale * amount[m]`` (J/m3; negative for a sink) to ``H[idx[m]]`` and refresh ``T`` there (``c``: an
    ``EnthalpyCoefficients`` record for ``T(H)``)."""
    for m in range(idx.size):
        p = idx[m]
        h = H[p] + scale * amount[m]
        H[p] = h
        T[p] = _temperature(h, c)


@kernel
def deposit_linear(T, idx, amount, scale):
    """Linear mode: add ``scale * amount[m]`` (kelvin) to ``T[idx[m]]``."""
    for m in range(idx.size):
        T[idx[m]] += scale * amount[m]


@kernel(inline="always")
def _phase(c):
    """``(T_s, T_l, 1/(T_l - T_s), H_l, 1/C_f, 1/C_u)`` in float64, for :func:`_enthalpy` and :func:`_capacity`."""
    ts = float(c.solidus_c)
    inv = float(c.inv_mushy_range)
    return ts, ts + 1.0 / inv, inv, float(c.h_liquidus), float(c.inv_c_frozen), float(c.inv_c_unfrozen)


@kernel(inline="always")
def _enthalpy(t, ph):
    """``H(T)``, piecewise linear, zero at the solidus (``Tissue.enthalpy_j_per_m3``); ``ph`` from :func:`_phase`."""
    ts, tl, inv, hl, inv_cf, inv_cu = ph
    return min(t - ts, 0.0) / inv_cf + hl * min(max((t - ts) * inv, 0.0), 1.0) + max(t - tl, 0.0) / inv_cu


@kernel(inline="always")
def _capacity(t, ph):
    """``dH/dT`` at ``t`` (J/(m3 K)): ``C_f`` frozen, ``H_l / (T_l - T_s)`` mushy, ``C_u`` unfrozen."""
    ts, tl, inv, hl, inv_cf, inv_cu = ph
    if t < ts:
        return 1.0 / inv_cf
    if t > tl:
        return 1.0 / inv_cu
    return hl * inv


@kernel(inline="always")
def _deficit(H, ids, lnr, side, lo, hi, wall, a, b, ph):
    """Heat (J/m3 summed over the voxels) that holding them at their near-field targets ``wall + (a or b) lnr``
    removes, and its derivative in ``wall``."""
    d = 0.0
    slope = 0.0
    for m in range(lo, hi):
        t = wall + (side[m] * a + (1.0 - side[m]) * b) * lnr[m]
        d += float(H[ids[m]]) - _enthalpy(t, ph)
        slope -= _capacity(t, ph)
    return d, slope


@kernel
def probe_update(H, T, ids, lnr, side, hprev, start, wall_c, cap_w_per_m3, flux_to_a, a, wall, active, energy, dt, c):
    """Apply every active probe's sub-cell boundary after a step of length ``dt`` (s); see the module docstring.

    Per probe ``p``: voxels ``ids[start[p]:start[p+1]]`` (flat, padded), ``lnr`` their near-field profile,
    ``side`` 1 for voxels beside the shaft (they measure the heat flow ``q'``), 0 beyond its ends; ``hprev`` their
    enthalpy after the previous update; ``wall_c`` the wall temperature (the floor of a capped wall);
    ``cap_w_per_m3`` the power limit divided by the voxel volume (inf: none); ``flux_to_a[p] = (V / (2 pi k L),
    V r_p / (k A_caps))`` converts the heat flow into the voxels beside the shaft and beyond its ends into the
    near-field slopes ``a[p] = (a, b)`` (K, updated; cylinder ``a ln(d/r_p)``, end caps ``b (1 - r_p/d)``);
    ``wall`` the wall temperature reached (updated: above the floor while the cap binds); ``energy`` accumulates the
    heat removed (J/m3 x voxels; times V gives J)."""
    ph = _phase(c)
    for p in range(start.size - 1):
        if not active[p]:
            continue
        lo = start[p]
        hi = start[p + 1]
        in_side = 0.0
        in_caps = 0.0
        for m in range(lo, hi):
            dh = float(H[ids[m]]) - hprev[m]
            in_side += side[m] * dh
            in_caps += (1.0 - side[m]) * dh
        a[p, 0] += RELAX[0] * (in_side * flux_to_a[p, 0] / dt - a[p, 0])
        a[p, 1] += RELAX[1] * (in_caps * flux_to_a[p, 1] / dt - a[p, 1])
        ap = a[p, 0]
        bp = a[p, 1]
        w = wall_c[p]
        limit = cap_w_per_m3[p] * dt
        if limit < np.inf:
            d, slope = _deficit(H, ids, lnr, side, lo, hi, w, ap, bp, ph)
            if d > limit:
                # the cap binds: the wall sits above its floor where holding removes exactly the cap. D(w) falls
                # monotonically with w; bracket [floor, w_hi] (at w_hi every target is at least its voxel's
                # temperature, so D <= 0), safeguarded Newton from the last wall temperature.
                w_lo = w
                w_hi = w
                for m in range(lo, hi):
                    w_hi = max(w_hi, float(T[ids[m]]) - (side[m] * ap + (1.0 - side[m]) * bp) * lnr[m])
                w = min(max(wall[p], w_lo), w_hi)
                for _ in range(60):
                    d, slope = _deficit(H, ids, lnr, side, lo, hi, w, ap, bp, ph)
                    err = d - limit
                    if abs(err) <= 1e-9 * limit:
                        break
                    if err > 0:
                        w_lo = w
                    else:
                        w_hi = w
                    nxt = w - err / slope if slope < 0 else 0.5 * (w_lo + w_hi)
                    if not (w_lo < nxt < w_hi):
                        nxt = 0.5 * (w_lo + w_hi)
                    if w_hi - w_lo < 1e-7:
                        break
                    w = nxt
        wall[p] = w
        removed = 0.0
        for m in range(lo, hi):
            q = ids[m]
            h0 = float(H[q])
            H[q] = _enthalpy(w + (side[m] * ap + (1.0 - side[m]) * bp) * lnr[m], ph)
            T[q] = _temperature(H[q], c)
            hprev[m] = H[q]
            removed += h0 - float(H[q])
        energy[p] += removed


@kernel(entry=True, parallel=True)
def perfusion_weight(W, Tmin, c):
    """``W = f(T_min)`` on the interior (padded ``W``): the liquid fraction at the lowest temperature reached."""
    ts, inv_dtm, zero, one = c.solidus_c, c.inv_mushy_range, c.zero, c.one
    for i in prange(Tmin.shape[0]):
        for j in range(Tmin.shape[1]):
            w = W[i + 1, j + 1]
            tm = Tmin[i, j]
            for k in range(Tmin.shape[2]):
                w[k + 1] = min(max((tm[k] - ts) * inv_dtm, zero), one)


@kernel(inline="always")
def _track_plane(Tmin, T, H, i):
    bad = 0
    n1, n2 = Tmin.shape[1], Tmin.shape[2]
    for j in range(n1):
        tm = Tmin[i, j]
        tr = T[i + 1, j + 1]
        hr = H[i + 1, j + 1]
        for k in range(n2):
            t = tr[k + 1]
            if not (np.isfinite(t) and np.isfinite(hr[k + 1])):
                bad += 1
            elif t < tm[k]:
                tm[k] = t
    return bad


@kernel(entry=True, parallel=True)
def track_minimum(Tmin, T, H):
    """``Tmin = min(Tmin, T)`` over the interior; returns the number of voxels where ``T`` or ``H`` is not finite."""
    bad = 0
    for i in prange(Tmin.shape[0]):
        bad += _track_plane(Tmin, T, H, i)
    return bad


@kernel(entry=True)
def track_minimum_serial(Tmin, T, H):
    """:func:`track_minimum` on the calling thread."""
    bad = 0
    for i in range(Tmin.shape[0]):
        bad += _track_plane(Tmin, T, H, i)
    return bad


@kernel(entry=True)
def advance_enthalpy(n_steps, H, T, Tn, c, c_last, closed, held, sinks, probes, last_scale, Tmin, W, track_every, mode):
    """``n_steps`` enthalpy steps (the last with ``c_last``); after each: Dirichlet voxels ``held = (idx, h, t)``,
    sinks ``sinks = (idx, amount per full step)``, probes ``probes`` (the arguments of :func:`probe_update` after
    ``T``), ghosts; the running minimum and a finiteness check every ``track_every`` steps and after the last.
    ``mode``: bit 0 parallel kernels, bit 1 the general (perfusion-curve) step, bit 2 the stasis step, whose weight
    ``W = f(T_min)`` is refreshed with the running minimum. Returns ``(steps done, number of non-finite voxels)``;
    the newest temperature is in ``T`` if the steps done are even, else in ``Tn``."""
    Hf = H.reshape(-1)
    hold_idx, hold_h, hold_t = held
    sink_idx, sink_amount = sinks
    ids, lnr, side, hprev, start, wall_c, cap, flux_to_a, a, wall, active, energy = probes
    parallel = mode & 1
    general = mode & 2
    stasis = mode & 4
    cur = T
    nxt = Tn
    for s in range(n_steps):
        last = s == n_steps - 1
        cs = c_last if last else c
        if general:
            if parallel:
                enthalpy_step_general(H, cur, nxt, Tmin, cs)
            else:
                enthalpy_step_general_serial(H, cur, nxt, Tmin, cs)
        elif stasis:
            if parallel:
                enthalpy_step_stasis(H, cur, nxt, W, cs)
            else:
                enthalpy_step_stasis_serial(H, cur, nxt, W, cs)
        elif parallel:
            enthalpy_step(H, cur, nxt, cs)
        else:
            enthalpy_step_serial(H, cur, nxt, cs)
        nf = nxt.reshape(-1)
        hold(Hf, nf, hold_idx, hold_h, hold_t)
        deposit(Hf, nf, sink_idx, sink_amount, last_scale if last else 1.0, cs)
        probe_update(
            Hf, nf, ids, lnr, side, hprev, start, wall_c, cap, flux_to_a, a, wall, active, energy, float(cs.dt_s), cs
        )
        mirror_ghosts(nxt, closed)
        cur, nxt = nxt, cur
        if last or (s + 1) % track_every == 0:
            bad = track_minimum(Tmin, cur, H) if parallel else track_minimum_serial(Tmin, cur, H)
            if bad:
                return s + 1, bad
            if stasis:
                perfusion_weight(W, Tmin, c)
    return n_steps, 0


@kernel(entry=True)
def advance_pennes(n_steps, T, Tn, Gx, Gy, Gz, c, c_last, held, sinks, last_scale, Tmin, track_every, parallel):
    """Linear counterpart of :func:`advance_enthalpy` (``held = (idx, t)``, sink amounts in kelvin per full step)."""
    hold_idx, hold_t = held
    sink_idx, sink_amount = sinks
    cur = T
    nxt = Tn
    for s in range(n_steps):
        last = s == n_steps - 1
        if parallel:
            pennes_step(cur, nxt, Gx, Gy, Gz, c_last if last else c)
        else:
            pennes_step_serial(cur, nxt, Gx, Gy, Gz, c_last if last else c)
        nf = nxt.reshape(-1)
        hold(nf, nf, hold_idx, hold_t, hold_t)
        deposit_linear(nf, sink_idx, sink_amount, last_scale if last else 1.0)
        cur, nxt = nxt, cur
        if last or (s + 1) % track_every == 0:
            bad = track_minimum(Tmin, cur, cur) if parallel else track_minimum_serial(Tmin, cur, cur)
            if bad:
                return s + 1, bad
    return n_steps, 0
