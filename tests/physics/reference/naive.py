"""Slow, obviously correct numpy twins of the bioheat kernels (tests compare against them; benchmarks use them as
the baseline). Same padded layout and named coefficient records as ablasim/physics/_stencils.py; the perfusion
factor comes from ``Tissue.perfusion_factor`` itself, not from the records."""

from __future__ import annotations

import numpy as np

_INNER = (slice(1, -1), slice(1, -1), slice(1, -1))


def _shifted(a, axis, step):
    sl = [slice(1, -1)] * 3
    sl[axis] = slice(1 + step, a.shape[axis] - 1 + step)
    return a[tuple(sl)]


def enthalpy_step(H, T, Tn, c, tissue=None, Tmin=None):
    """``H += dt (div k grad T + w(T) omega C_b (T_a - T) + f(T) Q_m)``, ``Tn = T(H)`` on the interior (numpy);
    ``w = f`` (the liquid fraction) without ``tissue``, else ``tissue.perfusion_factor(T, Tmin)``."""
    cx, cy, cz, dt = (float(v) for v in (c.dt_over_h2_x, c.dt_over_h2_y, c.dt_over_h2_z, c.dt_s))
    ts, inv_dtm, kf, dk = (float(v) for v in (c.solidus_c, c.inv_mushy_range, c.k_frozen, c.k_rise))
    hl, inv_cf, inv_cu, dtm_hl = (float(v) for v in (c.h_liquidus, c.inv_c_frozen, c.inv_c_unfrozen, c.mushy_per_h))
    wcb, ta, qm = (float(v) for v in (c.perfusion_w_per_m3_k, c.arterial_c, c.metabolic_w_per_m3))
    frac = np.clip((T - ts) * inv_dtm, 0.0, 1.0)
    k = kf + dk * frac
    t0, k0 = T[_INNER], k[_INNER]
    div = np.zeros_like(t0)
    for axis, coef in enumerate((cx, cy, cz)):
        for step in (-1, 1):
            kn = _shifted(k, axis, step)
            div += coef * 2.0 * k0 * kn / (k0 + kn) * (_shifted(T, axis, step) - t0)
    w = frac[_INNER] if tissue is None else tissue.perfusion_factor(t0, Tmin)
    H[_INNER] += div + dt * (w * wcb * (ta - t0) + frac[_INNER] * qm)
    h = H[_INNER]
    Tn[_INNER] = ts + np.minimum(h, 0.0) * inv_cf + np.clip(h, 0.0, hl) * dtm_hl + np.maximum(h - hl, 0.0) * inv_cu


def pennes_step(T, Tn, Gx, Gy, Gz, c):
    """``Tn = T + (dt/C) (sum_faces G (T_nb - T) + omega C_b (T_a - T) + Q_m)`` on the interior (numpy)."""
    dtc, wcb, ta, qm = (float(v) for v in (c.dt_over_c, c.perfusion_w_per_m3_k, c.arterial_c, c.metabolic_w_per_m3))
    t0 = T[_INNER]
    acc = wcb * (ta - t0) + qm
    for axis, g in enumerate((Gx, Gy, Gz)):
        acc += _shifted(g, axis, -1) * (_shifted(T, axis, -1) - t0) + g[_INNER] * (_shifted(T, axis, 1) - t0)
    Tn[_INNER] = t0 + dtc * acc
