"""Private numba kernels of the bioheat solver's steps and measurements (arrays, scalars and the named
coefficient records of ``_coefficients.py``; solver.py validates every input). The time loop, Dirichlet voxels,
sinks, probes and the lethal-map tracker are in ``_advance.py``.

Layout: every field is a C-contiguous ``(n0 + 2, n1 + 2, n2 + 2)`` array with one ghost layer. Step kernels update
the interior ``[1, n - 1)`` of each axis and never write ghosts. Ghosts hold the far-field temperature (a fixed
boundary one voxel outside the grid); for an adiabatic face ``_advance.mirror_ghosts`` copies the adjacent interior
layer into the ghost after every step, so the face flux vanishes (the linear step zeroes that face's conductance
instead).

Enthalpy step (:func:`enthalpy_step`): fused, one pass. It reads ``T`` (7 points) and ``H`` and writes ``H`` (in
place) and ``Tn`` (double buffer): conductivities come from ``T`` by a branch-free clamp, face conductivities are
harmonic means ``2 k_a k_b / (k_a + k_b)``, and the new temperature comes from the new enthalpy by min/max clamps.
The inner loop runs over the contiguous axis from the constant 1 (numba can then drop its negative-index
wraparound and vectorise) and has no branches. Measured on this project's 2-core machine it is bounded by
arithmetic, not memory (see docs/physics.md); computing each face once with row/plane buffers, or one division
instead of six, made it slower, so the kernel stays simple. Two variants add the perfusion response of
``Tissue.perfusion_factor``: :func:`enthalpy_step_stasis` (stasis after freezing alone: the liquid fraction at the
lowest temperature reached, precomputed into ``W`` every few steps) and :func:`enthalpy_step_general` (a
temperature curve, with or without stasis: it reads the lowest temperature ``Tmin`` and evaluates the curve per
voxel, about 25 % slower). Tissues without a response use the simple step.

Linear Pennes step (:func:`pennes_step`): face conductances ``G`` (harmonic means over ``h^2``) are precomputed
once since they do not change; the step reads ``T`` and ``G`` and writes ``Tn`` with no division.
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
def _divergence(t0, k0, a, b, p, q, r, s, c):
    """``dt sum_faces k_face (T_nb - T) / h^2`` divided by ``2 k0`` (the caller multiplies back); neighbours
    ``a, b`` along x, ``p, q`` along y, ``r, s`` along z."""
    ts, inv_dtm, kf, dk, zero, one = c.solidus_c, c.inv_mushy_range, c.k_frozen, c.k_rise, c.zero, c.one
    ka = _kt(a, ts, inv_dtm, kf, dk, zero, one)
    kb = _kt(b, ts, inv_dtm, kf, dk, zero, one)
    kp = _kt(p, ts, inv_dtm, kf, dk, zero, one)
    kq = _kt(q, ts, inv_dtm, kf, dk, zero, one)
    kr = _kt(r, ts, inv_dtm, kf, dk, zero, one)
    ks = _kt(s, ts, inv_dtm, kf, dk, zero, one)
    return (
        c.dt_over_h2_x * (ka / (k0 + ka) * (a - t0) + kb / (k0 + kb) * (b - t0))
        + c.dt_over_h2_y * (kp / (k0 + kp) * (p - t0) + kq / (k0 + kq) * (q - t0))
        + c.dt_over_h2_z * (kr / (k0 + kr) * (r - t0) + ks / (k0 + ks) * (s - t0))
    )


@kernel(inline="always")
def _temperature(h, c):
    """``T(H)`` by min/max clamps (the inverse of the piecewise-linear enthalpy)."""
    zero = c.zero
    return (
        c.solidus_c
        + min(h, zero) * c.inv_c_frozen
        + min(max(h, zero), c.h_liquidus) * c.mushy_per_h
        + max(h - c.h_liquidus, zero) * c.inv_c_unfrozen
    )


@kernel(inline="always")
def _enthalpy_plane(H, T, Tn, c, i):
    ts, inv_dtm, kf, dk, zero, one = c.solidus_c, c.inv_mushy_range, c.k_frozen, c.k_rise, c.zero, c.one
    dt, wcb, ta, qm = c.dt_s, c.perfusion_w_per_m3_k, c.arterial_c, c.metabolic_w_per_m3
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
            div = _divergence(t0, k0, tim[k], tip[k], tjm[k], tjp[k], tc[k - 1], tc[k + 1], c)
            h = hc[k] + two * k0 * div + dt * f * (wcb * (ta - t0) + qm)
            hc[k] = h
            tn[k] = _temperature(h, c)


@kernel(inline="always")
def _enthalpy_plane_general(H, T, Tn, Tmin, c, i):
    ts, inv_dtm, kf, dk, zero, one = c.solidus_c, c.inv_mushy_range, c.k_frozen, c.k_rise, c.zero, c.one
    dt, wcb, ta, qm = c.dt_s, c.perfusion_w_per_m3_k, c.arterial_c, c.metabolic_w_per_m3
    base, nomem = c.curve_base, c.no_memory
    t0_, s0, r0 = c.curve_t0, c.curve_inv0, c.curve_rise0
    t1_, s1, r1 = c.curve_t1, c.curve_inv1, c.curve_rise1
    t2_, s2, r2 = c.curve_t2, c.curve_inv2, c.curve_rise2
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
        tm = Tmin[i - 1, j - 1]
        for k in range(1, n2 - 1):
            t0 = tc[k]
            f = min(max((t0 - ts) * inv_dtm, zero), one)
            k0 = kf + dk * f
            div = _divergence(t0, k0, tim[k], tip[k], tjm[k], tjp[k], tc[k - 1], tc[k + 1], c)
            fm = min(f, max(min(max((tm[k - 1] - ts) * inv_dtm, zero), one), nomem))
            g = (
                base
                + r0 * min(max((t0 - t0_) * s0, zero), one)
                + r1 * min(max((t0 - t1_) * s1, zero), one)
                + r2 * min(max((t0 - t2_) * s2, zero), one)
            )
            h = hc[k] + two * k0 * div + dt * (g * fm * wcb * (ta - t0) + f * qm)
            hc[k] = h
            tn[k] = _temperature(h, c)


@kernel(inline="always")
def _enthalpy_plane_stasis(H, T, Tn, W, c, i):
    """:func:`_enthalpy_plane` with stasis after freezing and no perfusion curve: the perfusion factor is
    ``min(f(T), W)``, ``W = f(T_min)`` precomputed by ``_advance.perfusion_weight`` (padded like ``H``)."""
    ts, inv_dtm, kf, dk, zero, one = c.solidus_c, c.inv_mushy_range, c.k_frozen, c.k_rise, c.zero, c.one
    dt, wcb, ta, qm = c.dt_s, c.perfusion_w_per_m3_k, c.arterial_c, c.metabolic_w_per_m3
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
        w = W[i, j]
        for k in range(1, n2 - 1):
            t0 = tc[k]
            f = min(max((t0 - ts) * inv_dtm, zero), one)
            k0 = kf + dk * f
            div = _divergence(t0, k0, tim[k], tip[k], tjm[k], tjp[k], tc[k - 1], tc[k + 1], c)
            h = hc[k] + two * k0 * div + dt * (min(f, w[k]) * wcb * (ta - t0) + f * qm)
            hc[k] = h
            tn[k] = _temperature(h, c)


@kernel(entry=True, parallel=True)
def enthalpy_step(H, T, Tn, c):
    """One explicit step ``H += dt (div k grad T + f (omega C_b (T_a - T) + Q_m))`` (in place), ``Tn = T(H)``;
    ``c`` an ``EnthalpyCoefficients`` record (SI units); ``f`` is the liquid fraction."""
    for i in prange(1, H.shape[0] - 1):
        _enthalpy_plane(H, T, Tn, c, i)


@kernel(entry=True)
def enthalpy_step_serial(H, T, Tn, c):
    """:func:`enthalpy_step` on the calling thread (small grids: no parallel-region overhead)."""
    for i in range(1, H.shape[0] - 1):
        _enthalpy_plane(H, T, Tn, c, i)


@kernel(entry=True, parallel=True)
def enthalpy_step_general(H, T, Tn, Tmin, c):
    """:func:`enthalpy_step` with the perfusion response ``w(T)`` of ``EnthalpyCoefficients`` (``Tmin``: the
    lowest temperature each interior voxel has reached, unpadded)."""
    for i in prange(1, H.shape[0] - 1):
        _enthalpy_plane_general(H, T, Tn, Tmin, c, i)


@kernel(entry=True)
def enthalpy_step_general_serial(H, T, Tn, Tmin, c):
    """:func:`enthalpy_step_general` on the calling thread."""
    for i in range(1, H.shape[0] - 1):
        _enthalpy_plane_general(H, T, Tn, Tmin, c, i)


@kernel(entry=True, parallel=True)
def enthalpy_step_stasis(H, T, Tn, W, c):
    """:func:`enthalpy_step` for a tissue with stasis after freezing and no perfusion curve; ``W`` (padded) holds
    the liquid fraction at the lowest temperature reached (a load instead of the general kernel's clamps: the
    general kernel costs about 25 % more per step, this one about 2 %, docs/physics.md)."""
    for i in prange(1, H.shape[0] - 1):
        _enthalpy_plane_stasis(H, T, Tn, W, c, i)


@kernel(entry=True)
def enthalpy_step_stasis_serial(H, T, Tn, W, c):
    """:func:`enthalpy_step_stasis` on the calling thread."""
    for i in range(1, H.shape[0] - 1):
        _enthalpy_plane_stasis(H, T, Tn, W, c, i)


@kernel(inline="always")
def _pennes_plane(T, Tn, Gx, Gy, Gz, c, i):
    dtc, wcb, ta, qm = c.dt_over_c, c.perfusion_w_per_m3_k, c.arterial_c, c.metabolic_w_per_m3
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


@kernel(entry=True, parallel=True)
def pennes_step(T, Tn, Gx, Gy, Gz, c):
    """One explicit step of linear Pennes: ``Tn = T + (dt/C) (sum_faces G (T_nb - T) + omega C_b (T_a - T) + Q_m)``.

    ``Gx[i, j, k]`` is the conductance (W/(m3 K)) of the face between voxels ``(i, j, k)`` and ``(i + 1, j, k)``
    (likewise ``Gy``, ``Gz``); ``c`` a ``PennesCoefficients`` record.
    """
    for i in prange(1, T.shape[0] - 1):
        _pennes_plane(T, Tn, Gx, Gy, Gz, c, i)


@kernel(entry=True)
def pennes_step_serial(T, Tn, Gx, Gy, Gz, c):
    """:func:`pennes_step` on the calling thread."""
    for i in range(1, T.shape[0] - 1):
        _pennes_plane(T, Tn, Gx, Gy, Gz, c, i)


@kernel(entry=True, parallel=True)
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
