"""Closed-form solutions the bioheat solver is validated against (SI units: m, s, K, W).

Each function states the formula it implements; roots of the transcendental equations come from scipy's brentq on
a bracket where the left side changes sign exactly once.
"""

from __future__ import annotations

import math

from scipy.optimize import brentq
from scipy.special import erf, erfc, erfinv, exp1, k0e, k1e


# -- Neumann two-phase planar freezing (Carslaw & Jaeger, Conduction of Heat in Solids, 2nd ed., section 11.2) -----
def neumann_lambda(k_s, c_s, k_l, c_l, latent, t_surface, t_melt, t_initial) -> float:
    """lambda of the front ``X(t) = 2 lambda sqrt(alpha_s t)`` for a half-space initially at ``t_initial > t_melt``
    whose surface is held at ``t_surface < t_melt`` from t = 0. Stefan condition at the front (volumetric heats):

    ``k_s (T_m - T_s) e^{-l^2} / (erf(l) sqrt(pi alpha_s)) - k_l (T_i - T_m) e^{-l^2 a} / (erfc(l sqrt(a))
    sqrt(pi alpha_l)) = L l sqrt(alpha_s)``, ``a = alpha_s / alpha_l``.
    """
    a_s, a_l = k_s / c_s, k_l / c_l
    nu = math.sqrt(a_s / a_l)

    def stefan(lam):
        solid = k_s * (t_melt - t_surface) * math.exp(-lam * lam) / (erf(lam) * math.sqrt(math.pi * a_s))
        liquid = k_l * (t_initial - t_melt) * math.exp(-((lam * nu) ** 2)) / (erfc(lam * nu) * math.sqrt(math.pi * a_l))
        return solid - liquid - latent * lam * math.sqrt(a_s)

    return brentq(stefan, 1e-9, 5.0 / max(nu, 1.0), xtol=1e-15)


def neumann_front_m(lam, k_s, c_s, time_s) -> float:
    return 2.0 * lam * math.sqrt(k_s / c_s * time_s)


def neumann_solid_position_m(temperature, lam, k_s, c_s, t_surface, t_melt, time_s) -> float:
    """Where the frozen region has ``temperature``: inverse of
    ``T(x) = T_s + (T_m - T_s) erf(x / (2 sqrt(alpha_s t))) / erf(lambda)``."""
    z = erfinv((temperature - t_surface) / (t_melt - t_surface) * erf(lam))
    return 2.0 * math.sqrt(k_s / c_s * time_s) * z


# -- Line heat sink with freezing (Paterson 1952; Carslaw & Jaeger section 11.2, eq. for the line source) ---------
def paterson_lambda(q_w_per_m, k_s, c_s, k_l, c_l, latent, t_melt, t_initial) -> float:
    """lambda of ``R(t) = 2 lambda sqrt(alpha_s t)`` for a line sink of constant strength ``q`` (W per m of line)
    in an infinite medium initially at ``t_initial >= t_melt``. Solid: ``T = T_m - q/(4 pi k_s) [E1(r^2/(4 alpha_s
    t)) - E1(lambda^2)]``; liquid: ``T = T_i - (T_i - T_m) E1(r^2/(4 alpha_l t)) / E1(lambda^2 a)``; the Stefan
    condition ``k_s dT_s/dr - k_l dT_l/dr = L dR/dt`` at ``r = R`` becomes

    ``q e^{-l^2} / (4 pi) - k_l (T_i - T_m) e^{-l^2 a} / E1(l^2 a) = L alpha_s l^2``, ``a = alpha_s / alpha_l``.
    """
    a_s, a_l = k_s / c_s, k_l / c_l
    a = a_s / a_l

    def stefan(lam):
        liquid = (
            0.0 if t_initial == t_melt else k_l * (t_initial - t_melt) * math.exp(-lam * lam * a) / exp1(lam * lam * a)
        )
        return q_w_per_m * math.exp(-lam * lam) / (4.0 * math.pi) - liquid - latent * a_s * lam * lam

    return brentq(stefan, 1e-6, 3.0, xtol=1e-15)


# -- Steady frozen radius around a cylinder with Pennes perfusion outside ----------------------------------------
def steady_cylinder_radius_m(r_probe, t_probe, t_melt, t_arterial, k_s, k_l, perfusion_per_s, c_blood) -> float:
    """Radius ``R`` of the steady frozen region around an infinitely long cylinder of radius ``r_probe`` held at
    ``t_probe``. Frozen ``r_p < r < R``: ``T = T_p + (T_m - T_p) ln(r/r_p) / ln(R/r_p)`` (no perfusion).
    Unfrozen ``r > R``: ``k_l T'' + k_l T'/r = omega C_b (T - T_a)``, bounded: ``T = T_a - (T_a - T_m) K0(r/d) /
    K0(R/d)``, ``d = sqrt(k_l / (omega C_b))``. No latent heat at steady state, so the fluxes match at ``R``:

    ``k_s (T_m - T_p) / (R ln(R/r_p)) = k_l (T_a - T_m) K1(R/d) / (d K0(R/d))``.
    """
    d = math.sqrt(k_l / (perfusion_per_s * c_blood))

    def balance(radius):
        return k_s * (t_melt - t_probe) / (radius * math.log(radius / r_probe)) - k_l * (t_arterial - t_melt) * k1e(
            radius / d
        ) / (d * k0e(radius / d))  # K1/K0, scaled

    return brentq(balance, r_probe * (1 + 1e-9), 1e3 * r_probe + 50 * d, xtol=1e-15)


# -- Linear diffusion in a half-space with a step change of surface temperature ------------------------------------
def erfc_profile(x_m, time_s, alpha, t_surface, t_initial):
    """``T(x, t) = T_s + (T_i - T_s) erf(x / (2 sqrt(alpha t)))`` (Carslaw & Jaeger section 2.4)."""
    return t_surface + (t_initial - t_surface) * erf(x_m / (2.0 * math.sqrt(alpha * time_s)))


__all__ = [
    "erfc_profile",
    "neumann_front_m",
    "neumann_lambda",
    "neumann_solid_position_m",
    "paterson_lambda",
    "steady_cylinder_radius_m",
]
