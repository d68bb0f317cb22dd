"""Named coefficient records of the solver's kernels (built here from a tissue, a grid and a time step).

The kernels take these NamedTuples (numba types them field by field) instead of positional arrays, so every
coefficient is read by its name. All fields are in the solver's field dtype (float32 or float64), including
``zero`` and ``one``, so single-precision kernels do no double-precision arithmetic. SI units throughout.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np

from .tissue import MAX_CURVE_SEGMENTS, Tissue

__all__ = ["EnthalpyCoefficients", "PennesCoefficients", "enthalpy_coefficients", "pennes_coefficients"]


class EnthalpyCoefficients(NamedTuple):
    """Coefficients of one enthalpy step ``H += dt (div k grad T + w(T) omega C_b (T_a - T) + f(T) Q_m)``.

    ``w(T)`` is the perfusion factor (``Tissue.perfusion_factor``): ``f(T)`` in the simple kernel; in the general
    kernel ``g(T) min(f(T), max(f(T_min), no_memory))`` with ``g(T) = curve_base + sum_i curve_rise_i clamp((T -
    curve_t_i) curve_inv_i, 0, 1)``.
    """

    dt_over_h2_x: float  # dt / h_x^2 (s/m2)
    dt_over_h2_y: float
    dt_over_h2_z: float
    dt_s: float
    solidus_c: float
    inv_mushy_range: float  # 1 / (T_l - T_s)
    k_frozen: float
    k_rise: float  # k_u - k_f
    h_liquidus: float  # H_l (J/m3)
    inv_c_frozen: float
    inv_c_unfrozen: float
    mushy_per_h: float  # (T_l - T_s) / H_l
    perfusion_w_per_m3_k: float  # omega C_b
    arterial_c: float
    metabolic_w_per_m3: float
    zero: float
    one: float
    curve_base: float
    curve_t0: float
    curve_inv0: float
    curve_rise0: float
    curve_t1: float
    curve_inv1: float
    curve_rise1: float
    curve_t2: float
    curve_inv2: float
    curve_rise2: float
    no_memory: float  # 1: perfusion follows f(T); 0: f(T_min) (stasis after freezing)


class PennesCoefficients(NamedTuple):
    """Coefficients of one linear Pennes step ``T += (dt/C) (sum_faces G (T_nb - T) + omega C_b (T_a - T) + Q_m)``."""

    dt_over_c: float
    perfusion_w_per_m3_k: float
    arterial_c: float
    metabolic_w_per_m3: float


def enthalpy_coefficients(tissue: Tissue, spacing_mm, dt_s: float, dtype) -> EnthalpyCoefficients:
    t = tissue
    h2 = (np.asarray(spacing_mm, dtype=np.float64) * 1e-3) ** 2
    hl = t.liquidus_enthalpy_j_per_m3
    knots = t.perfusion_curve
    segs = []
    for (t0, f0), (t1, f1) in itertools.pairwise(knots):
        segs.append((t0, 1.0 / (t1 - t0), f1 - f0))
    segs += [(0.0, 0.0, 0.0)] * (MAX_CURVE_SEGMENTS - len(segs))
    values = [
        dt_s / h2[0],
        dt_s / h2[1],
        dt_s / h2[2],
        dt_s,
        t.solidus_c,
        1.0 / t.mushy_range_c,
        t.k_frozen_w_per_m_k,
        t.k_unfrozen_w_per_m_k - t.k_frozen_w_per_m_k,
        hl,
        1.0 / t.c_frozen_j_per_m3_k,
        1.0 / t.c_unfrozen_j_per_m3_k,
        t.mushy_range_c / hl,
        t.perfusion_per_s * t.c_blood_j_per_m3_k,
        t.arterial_temperature_c,
        t.metabolic_heat_w_per_m3,
        0.0,
        1.0,
        knots[0][1] if knots else 1.0,
        *[v for seg in segs for v in seg],
        0.0 if t.stasis_after_freezing else 1.0,
    ]
    return EnthalpyCoefficients(*(dtype(v) for v in values))


def pennes_coefficients(tissue: Tissue, dt_s: float, dtype) -> PennesCoefficients:
    t = tissue
    values = (
        dt_s / t.c_unfrozen_j_per_m3_k,
        t.perfusion_per_s * t.c_blood_j_per_m3_k,
        t.arterial_temperature_c,
        t.metabolic_heat_w_per_m3,
    )
    return PennesCoefficients(*(dtype(v) for v in values))
