"""Slow, obviously correct numpy twins of the bioheat kernels (tests compare against them; benchmarks use them as
the baseline). Same padded layout and coefficient arrays as ablasim/physics/_stencils.py."""

from __future__ import annotations

import numpy as np

_INNER = (slice(1, -1), slice(1, -1), slice(1, -1))


def _shifted(a, axis, step):
    sl = [slice(1, -1)] * 3
    sl[axis] = slice(1 + step, a.shape[axis] - 1 + step)
    return a[tuple(sl)]


def enthalpy_step(H, T, Tn, c):
    """``H += dt (div k grad T + f (omega C_b (T_a - T) + Q_m))``, ``Tn = T(H)`` on the interior (numpy)."""
    cx, cy, cz, dt, ts, inv_dtm, kf, dk, hl, inv_cf, inv_cu, dtm_hl, wcb, ta, qm = (float(v) for v in c[:15])
    frac = np.clip((T - ts) * inv_dtm, 0.0, 1.0)
    k = kf + dk * frac
    t0, k0 = T[_INNER], k[_INNER]
    div = np.zeros_like(t0)
    for axis, coef in enumerate((cx, cy, cz)):
        for step in (-1, 1):
            kn = _shifted(k, axis, step)
            div += coef * 2.0 * k0 * kn / (k0 + kn) * (_shifted(T, axis, step) - t0)
    H[_INNER] += div + dt * frac[_INNER] * (wcb * (ta - t0) + qm)
    h = H[_INNER]
    Tn[_INNER] = ts + np.minimum(h, 0.0) * inv_cf + np.clip(h, 0.0, hl) * dtm_hl + np.maximum(h - hl, 0.0) * inv_cu


def pennes_step(T, Tn, Gx, Gy, Gz, c):
    """``Tn = T + (dt/C) (sum_faces G (T_nb - T) + omega C_b (T_a - T) + Q_m)`` on the interior (numpy)."""
    dtc, wcb, ta, qm = (float(v) for v in c[:4])
    t0 = T[_INNER]
    acc = wcb * (ta - t0) + qm
    for axis, g in enumerate((Gx, Gy, Gz)):
        acc += _shifted(g, axis, -1) * (_shifted(T, axis, -1) - t0) + g[_INNER] * (_shifted(T, axis, 1) - t0)
    Tn[_INNER] = t0 + dtc * acc
