"""Private numba kernels of the bioheat solver (arrays and scalars only; solver.py validates every input).

Layout: every field is a C-contiguous ``(n0 + 2, n1 + 2, n2 + 2)`` array with one ghost layer. Step kernels update
the interior ``[1, n - 1)`` of each axis and never write ghosts. Ghosts hold the far-field temperature (a fixed
boundary one voxel outside the grid); for an adiabatic face :func:`mirror_ghosts` copies the adjacent interior
layer into the ghost after every step, so the face flux vanishes (the linear step zeroes that face's conductance
instead).

Enthalpy step (:func:`enthalpy_step`): fused, one pass. It reads ``T`` (7 points) and ``H`` and writes ``H`` (in
place) and ``Tn`` (double buffer): conductivities come from ``T`` by a branch-free clamp, face conductivities are
harmonic means ``2 k_a k_b / (k_a + k_b)``, and the new temperature comes from the new enthalpy by min/max clamps.
The inner loop runs over the contiguous axis from the constant 1 (numba can then drop its negative-index
wraparound and vectorise) and has no branches. Measured on this project's 2-core machine it is bounded by
arithmetic, not memory (see docs/physics.md); computing each face once with row/plane buffers, or one division
instead of six, made it slower, so the kernel stays simple.

Linear Pennes step (:func:`pennes_step`): face conductances ``G`` (harmonic means over ``h^2``) are precomputed
once since they do not change; the step reads ``T`` and ``G`` and writes ``Tn`` with no division.

Coefficient arrays ``c`` are built by solver.py in the field dtype (float64 or float32), including ``zero`` and
``one``, so single-precision kernels do no double-precision arithmetic.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .._jit import kernel


@kernel(inline="always")
def _kt(t, ts, inv_dtm, kf, dk, zero, one):
    """Conductivity at temperature ``t``: ``k_f + (k_u - k_f) clamp((t - T_s) / (T_l - T_s), 0, 1)``."""
    return kf + dk * min(max((t - ts) * inv_dtm, zero), one)


@kernel(inline="always")
def _enthalpy_plane(H, T, Tn, c, i):
    cx, cy, cz, dt, ts, inv_dtm, kf, dk, hl, inv_cf, inv_cu, dtm_hl, wcb, ta, qm, zero, one = c
    two = one + one
    n1, n2 = H.shape[1], H.shape[2]
    for j in range(1, n1 - 1):
        tc = T[i, j]
        tim = T[i - 1, j]
        tip = T[i + 1, j]
        tjm = T[i, j - 1]
        tjp = T[i, j + 1]
        hc = H[i, j]
        tn = Tn[i, j]
        for k in range(1, n2 - 1):
            t0 = tc[k]
            f = min(max((t0 - ts) * inv_dtm, zero), one)
            k0 = kf + dk * f
            a = tim[k]
            b = tip[k]
            p = tjm[k]
            q = tjp[k]
            r = tc[k - 1]
            s = tc[k + 1]
            ka = _kt(a, ts, inv_dtm, kf, dk, zero, one)
            kb = _kt(b, ts, inv_dtm, kf, dk, zero, one)
            kp = _kt(p, ts, inv_dtm, kf, dk, zero, one)
            kq = _kt(q, ts, inv_dtm, kf, dk, zero, one)
            kr = _kt(r, ts, inv_dtm, kf, dk, zero, one)
            ks = _kt(s, ts, inv_dtm, kf, dk, zero, one)
            div = (
                cx * (ka / (k0 + ka) * (a - t0) + kb / (k0 + kb) * (b - t0))
                + cy * (kp / (k0 + kp) * (p - t0) + kq / (k0 + kq) * (q - t0))
                + cz * (kr / (k0 + kr) * (r - t0) + ks / (k0 + ks) * (s - t0))
            )
            h = hc[k] + two * k0 * div + dt * f * (wcb * (ta - t0) + qm)
            hc[k] = h
            tn[k] = ts + min(h, zero) * inv_cf + min(max(h, zero), hl) * dtm_hl + max(h - hl, zero) * inv_cu


@kernel(parallel=True)
def enthalpy_step(H, T, Tn, c):
    """One explicit step ``H += dt (div k grad T + f (omega C_b (T_a - T) + Q_m))`` (in place), ``Tn = T(H)``.

    ``c = (dt/h_x^2, dt/h_y^2, dt/h_z^2, dt, T_s, 1/(T_l - T_s), k_f, k_u - k_f, H_l, 1/C_f, 1/C_u, (T_l - T_s)/H_l,
    omega C_b, T_a, Q_m, 0, 1)`` in SI units; ``f`` is the liquid fraction.
    """
    for i in prange(1, H.shape[0] - 1):
        _enthalpy_plane(H, T, Tn, c, i)


@kernel
def enthalpy_step_serial(H, T, Tn, c):
    """:func:`enthalpy_step` on the calling thread (small grids: no parallel-region overhead)."""
    for i in range(1, H.shape[0] - 1):
        _enthalpy_plane(H, T, Tn, c, i)


@kernel(inline="always")
def _pennes_plane(T, Tn, Gx, Gy, Gz, c, i):
    dtc, wcb, ta, qm = c
    n1, n2 = T.shape[1], T.shape[2]
    for j in range(1, n1 - 1):
        tc = T[i, j]
        tim = T[i - 1, j]
        tip = T[i + 1, j]
        tjm = T[i, j - 1]
        tjp = T[i, j + 1]
        gxm = Gx[i - 1, j]
        gxp = Gx[i, j]
        gym = Gy[i, j - 1]
        gyp = Gy[i, j]
        gz = Gz[i, j]
        tn = Tn[i, j]
        for k in range(1, n2 - 1):
            t0 = tc[k]
            tn[k] = t0 + dtc * (
                gxm[k] * (tim[k] - t0)
                + gxp[k] * (tip[k] - t0)
                + gym[k] * (tjm[k] - t0)
                + gyp[k] * (tjp[k] - t0)
                + gz[k - 1] * (tc[k - 1] - t0)
                + gz[k] * (tc[k + 1] - t0)
                + wcb * (ta - t0)
                + qm
            )


@kernel(parallel=True)
def pennes_step(T, Tn, Gx, Gy, Gz, c):
    """One explicit step of linear Pennes: ``Tn = T + (dt/C) (sum_faces G (T_nb - T) + omega C_b (T_a - T) + Q_m)``.

    ``Gx[i, j, k]`` is the conductance (W/(m3 K)) of the face between voxels ``(i, j, k)`` and ``(i + 1, j, k)``
    (likewise ``Gy``, ``Gz``); ``c = (dt/C, omega C_b, T_a, Q_m)``.
    """
    for i in prange(1, T.shape[0] - 1):
        _pennes_plane(T, Tn, Gx, Gy, Gz, c, i)


@kernel
def pennes_step_serial(T, Tn, Gx, Gy, Gz, c):
    """:func:`pennes_step` on the calling thread."""
    for i in range(1, T.shape[0] - 1):
        _pennes_plane(T, Tn, Gx, Gy, Gz, c, i)


@kernel
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
    """Add ``scale * amount[m]`` (J/m3; negative for a sink) to ``H[idx[m]]`` and refresh ``T`` there, with
    ``c = (T_s, 1/C_f, H_l, (T_l - T_s)/H_l, 1/C_u, 0)``. With ``c = (0, 1, 1, 1, 1, 0)`` the map is the identity,
    which is how the linear solver deposits directly into ``T`` (passed as both ``H`` and ``T``)."""
    ts, inv_cf, hl, dtm_hl, inv_cu, zero = c
    for m in range(idx.size):
        p = idx[m]
        h = H[p] + scale * amount[m]
        H[p] = h
        T[p] = ts + min(h, zero) * inv_cf + min(max(h, zero), hl) * dtm_hl + max(h - hl, zero) * inv_cu


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


@kernel(parallel=True)
def track_minimum(Tmin, T, H):
    """``Tmin = min(Tmin, T)`` over the interior; returns the number of voxels where ``T`` or ``H`` is not finite."""
    bad = 0
    for i in prange(Tmin.shape[0]):
        bad += _track_plane(Tmin, T, H, i)
    return bad


@kernel
def track_minimum_serial(Tmin, T, H):
    """:func:`track_minimum` on the calling thread."""
    bad = 0
    for i in range(Tmin.shape[0]):
        bad += _track_plane(Tmin, T, H, i)
    return bad


@kernel
def advance_enthalpy(
    n_steps,
    H,
    T,
    Tn,
    c,
    c_last,
    closed,
    hold_idx,
    hold_h,
    hold_t,
    sink_idx,
    sink_amount,
    last_scale,
    Tmin,
    track_every,
    parallel,
):
    """``n_steps`` enthalpy steps (the last with ``c_last``), Dirichlet and sink voxels applied after each, the
    running minimum and a finiteness check every ``track_every`` steps and after the last. Returns
    ``(steps done, number of non-finite voxels)``; the newest temperature is in ``T`` if the steps done are even,
    else in ``Tn``. ``parallel`` picks the multi-threaded step kernel."""
    Hf = H.reshape(-1)
    cur = T
    nxt = Tn
    dep = (c[4], c[9], c[8], c[11], c[10], c[15])  # T_s, 1/C_f, H_l, (T_l - T_s)/H_l, 1/C_u, 0
    for s in range(n_steps):
        last = s == n_steps - 1
        if parallel:
            enthalpy_step(H, cur, nxt, c_last if last else c)
        else:
            enthalpy_step_serial(H, cur, nxt, c_last if last else c)
        nf = nxt.reshape(-1)
        hold(Hf, nf, hold_idx, hold_h, hold_t)
        deposit(Hf, nf, sink_idx, sink_amount, last_scale if last else 1.0, dep)
        mirror_ghosts(nxt, closed)
        cur, nxt = nxt, cur
        if last or (s + 1) % track_every == 0:
            bad = track_minimum(Tmin, cur, H) if parallel else track_minimum_serial(Tmin, cur, H)
            if bad:
                return s + 1, bad
    return n_steps, 0


@kernel
def advance_pennes(
    n_steps,
    T,
    Tn,
    Gx,
    Gy,
    Gz,
    c,
    c_last,
    hold_idx,
    hold_t,
    sink_idx,
    sink_amount,
    last_scale,
    identity,
    Tmin,
    track_every,
    parallel,
):
    """Linear counterpart of :func:`advance_enthalpy` (``sink_amount`` in kelvin per full step)."""
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
        deposit(nf, nf, sink_idx, sink_amount, last_scale if last else 1.0, identity)
        cur, nxt = nxt, cur
        if last or (s + 1) % track_every == 0:
            bad = track_minimum(Tmin, cur, cur) if parallel else track_minimum_serial(Tmin, cur, cur)
            if bad:
                return s + 1, bad
    return n_steps, 0


@kernel(parallel=True)
def isotherm_stats(T, iso, spacing, tip, axis, u, v, out):
    """Extents of ``{T <= iso}`` per x-plane, in mm, from ``tip`` along ``axis``, ``u`` and ``v`` (grid frame:
    voxel (i, j, k) sits at ``spacing * (i, j, k)``). ``out[i] = (count, s_min, s_max, u_min, u_max, v_min, v_max,
    r_max)``, ``count`` = inside voxels; ``T`` is padded. Points used: the centres of inside voxels on the region's
    boundary and the linearly interpolated crossings towards each outside face neighbour. Inside voxels whose six
    neighbours are all inside are only counted: their centres lie in the convex hull of the neighbours' centres,
    so they cannot be extreme in a linear projection nor in the (convex) distance from the axis."""
    n0, n1, n2 = T.shape[0] - 2, T.shape[1] - 2, T.shape[2] - 2
    for i in prange(n0):
        o = out[i]
        o[0] = 0.0
        o[1] = np.inf
        o[2] = -np.inf
        o[3] = np.inf
        o[4] = -np.inf
        o[5] = np.inf
        o[6] = -np.inf
        o[7] = 0.0
        for j in range(n1):
            for k in range(n2):
                t0 = T[i + 1, j + 1, k + 1]
                if not t0 <= iso:
                    continue
                o[0] += 1.0
                if (
                    0 < i < n0 - 1
                    and 0 < j < n1 - 1
                    and 0 < k < n2 - 1
                    and T[i, j + 1, k + 1] <= iso
                    and T[i + 2, j + 1, k + 1] <= iso
                    and T[i + 1, j, k + 1] <= iso
                    and T[i + 1, j + 2, k + 1] <= iso
                    and T[i + 1, j + 1, k] <= iso
                    and T[i + 1, j + 1, k + 2] <= iso
                ):
                    continue
                for d in range(7):
                    di = 0
                    dj = 0
                    dk = 0
                    frac = 0.0
                    if d > 0:
                        sg = 1 if d % 2 == 1 else -1
                        if d <= 2:
                            di = sg
                        elif d <= 4:
                            dj = sg
                        else:
                            dk = sg
                        if not (0 <= i + di < n0 and 0 <= j + dj < n1 and 0 <= k + dk < n2):
                            continue
                        t1 = T[i + 1 + di, j + 1 + dj, k + 1 + dk]
                        if t1 <= iso:
                            continue
                        frac = (iso - t0) / (t1 - t0)
                    x = spacing[0] * (i + frac * di) - tip[0]
                    y = spacing[1] * (j + frac * dj) - tip[1]
                    z = spacing[2] * (k + frac * dk) - tip[2]
                    s = x * axis[0] + y * axis[1] + z * axis[2]
                    a = x * u[0] + y * u[1] + z * u[2]
                    b = x * v[0] + y * v[1] + z * v[2]
                    o[1] = min(o[1], s)
                    o[2] = max(o[2], s)
                    o[3] = min(o[3], a)
                    o[4] = max(o[4], a)
                    o[5] = min(o[5], b)
                    o[6] = max(o[6], b)
                    o[7] = max(o[7], np.sqrt(a * a + b * b))
