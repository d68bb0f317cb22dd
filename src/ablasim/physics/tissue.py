"""Tissue thermal properties and the enthalpy formulation of freezing.

Units: SI inside the solver and in these property names (W/(m K), J/(m3 K), J/m3, 1/s, W/m3), temperatures in
degC. Heat capacities are *volumetric* (rho * c).

Enthalpy per unit volume, ``H(T)`` (J/m3), zero at the solidus ``T_s``, piecewise linear:

* frozen, ``T <= T_s``:            ``H = C_f (T - T_s)``
* mushy, ``T_s < T < T_l``:        ``H = H_l (T - T_s) / (T_l - T_s)`` with ``H_l = L + (C_f + C_u)/2 (T_l - T_s)``
* unfrozen, ``T >= T_l``:          ``H = H_l + C_u (T - T_l)``

so the latent heat ``L`` is released linearly across the mushy range. The liquid fraction is
``f = clamp(H / H_l, 0, 1) = clamp((T - T_s) / (T_l - T_s), 0, 1)``; conductivity ``k = k_f + f (k_u - k_f)``;
metabolism is multiplied by ``f`` (none in frozen tissue). Values and their sources live in
``ablasim/data/tissues.toml``.

Perfusion response (:meth:`Tissue.perfusion_factor`): the table's ``perfusion_per_s`` is multiplied by

* ``g(T)``, the ``perfusion_curve``: a monotone piecewise-linear factor of the current temperature, 1 above its
  last knot (no curve: ``g = 1``), for vasoconstriction and stasis in cooled, unfrozen tissue;
* the liquid fraction ``f(T)`` (no perfusion in frozen tissue) or, with ``stasis_after_freezing``, the liquid
  fraction at the lowest temperature the tissue has reached, ``f(T_min)``: tissue that froze stays unperfused
  after it thaws (vascular injury), so a second freeze starts in tissue the blood no longer warms.
"""

from __future__ import annotations

import dataclasses
import itertools
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from .._validation import as_float, as_spacing
from ..errors import ScenarioError, UnknownNameError, ValidationError

__all__ = ["MAX_CURVE_SEGMENTS", "STABILITY_SAFETY", "Tissue", "tissue_names"]

#: Fraction of the explicit stability limit used by default (see :meth:`Tissue.max_stable_dt_s`).
STABILITY_SAFETY = 0.9

_PROPERTIES = (
    "k_unfrozen_w_per_m_k",
    "k_frozen_w_per_m_k",
    "c_unfrozen_j_per_m3_k",
    "c_frozen_j_per_m3_k",
    "latent_heat_j_per_m3",
    "solidus_c",
    "liquidus_c",
    "perfusion_per_s",
    "c_blood_j_per_m3_k",
    "arterial_temperature_c",
    "metabolic_heat_w_per_m3",
)
_POSITIVE = {
    "k_unfrozen_w_per_m_k",
    "k_frozen_w_per_m_k",
    "c_unfrozen_j_per_m3_k",
    "c_frozen_j_per_m3_k",
    "c_blood_j_per_m3_k",
}
_NONNEGATIVE = {"latent_heat_j_per_m3", "perfusion_per_s", "metabolic_heat_w_per_m3"}
_MIN_MUSHY_RANGE_C = 1e-3
#: Linear pieces a perfusion curve may have (the solver's kernels evaluate a fixed number of them).
MAX_CURVE_SEGMENTS = 3
_OPTIONS = ("perfusion_curve", "stasis_after_freezing")


@dataclass(frozen=True)
class Tissue:
    """Thermal properties of one tissue, unfrozen and frozen (units in the names; heat capacities volumetric).

    Build from the bundled table with :meth:`from_name` (``Tissue.from_name("liver", perfusion_per_s=0.0)``) or
    directly; :meth:`replace` returns a validated copy with some properties changed. ``sources`` maps each
    property to where its value comes from.
    """

    name: str
    k_unfrozen_w_per_m_k: float
    k_frozen_w_per_m_k: float
    c_unfrozen_j_per_m3_k: float
    c_frozen_j_per_m3_k: float
    latent_heat_j_per_m3: float
    solidus_c: float
    liquidus_c: float
    perfusion_per_s: float = 0.0
    c_blood_j_per_m3_k: float = 3.8e6
    arterial_temperature_c: float = 37.0
    metabolic_heat_w_per_m3: float = 0.0
    perfusion_curve: tuple = ()
    stasis_after_freezing: bool = False
    sources: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValidationError("tissue.name", self.name, "expected a non-empty name")
        for prop in _PROPERTIES:
            value = as_float(
                getattr(self, prop), f"tissue.{prop}", positive=prop in _POSITIVE, nonnegative=prop in _NONNEGATIVE
            )
            object.__setattr__(self, prop, value)
        if not self.solidus_c > -273.15:
            raise ValidationError("tissue.solidus_c", self.solidus_c, "must be above absolute zero (-273.15 degC)")
        if not self.liquidus_c - self.solidus_c >= _MIN_MUSHY_RANGE_C:
            raise ValidationError(
                "tissue.liquidus_c",
                self.liquidus_c,
                f"must exceed solidus_c={self.solidus_c:g} by at least {_MIN_MUSHY_RANGE_C:g} "
                "degC (use a narrow range for near-isothermal freezing)",
            )
        if not self.arterial_temperature_c > self.liquidus_c:
            raise ValidationError(
                "tissue.arterial_temperature_c",
                self.arterial_temperature_c,
                f"must be above liquidus_c={self.liquidus_c:g} (blood is not frozen)",
            )
        object.__setattr__(self, "perfusion_curve", _as_curve(self.perfusion_curve, self.solidus_c))
        if not isinstance(self.stasis_after_freezing, (bool, np.bool_)):
            raise ValidationError("tissue.stasis_after_freezing", self.stasis_after_freezing, "expected true or false")
        object.__setattr__(self, "stasis_after_freezing", bool(self.stasis_after_freezing))
        object.__setattr__(self, "sources", dict(self.sources))

    # -- construction -------------------------------------------------------------------------------------------
    @classmethod
    def from_name(cls, name: str, **overrides) -> Tissue:
        """The named tissue of ``ablasim/data/tissues.toml`` (see :func:`tissue_names`), with optional property
        overrides (their source becomes ``"override"``)."""
        table = _table()
        if name not in table:
            raise UnknownNameError("tissue", name, table)
        return table[name].replace(**overrides) if overrides else table[name]

    def replace(self, **changes) -> Tissue:
        """A validated copy with the given properties changed (``sources`` records them as ``"override"``)."""
        unknown = set(changes) - set(_PROPERTIES) - set(_OPTIONS) - {"name"}
        if unknown:
            bad = sorted(unknown)[0]
            raise UnknownNameError("tissue property", bad, _PROPERTIES + _OPTIONS)
        sources = dict(self.sources)
        sources.update({k: "override" for k in changes if k != "name"})
        return dataclasses.replace(self, sources=sources, **changes)

    # -- enthalpy formulation -----------------------------------------------------------------------------------
    @property
    def mushy_range_c(self) -> float:
        return self.liquidus_c - self.solidus_c

    @property
    def liquidus_enthalpy_j_per_m3(self) -> float:
        """``H_l``: enthalpy at the liquidus (latent heat plus the mean sensible heat across the mushy range)."""
        return (
            self.latent_heat_j_per_m3
            + 0.5 * (self.c_frozen_j_per_m3_k + self.c_unfrozen_j_per_m3_k) * self.mushy_range_c
        )

    def enthalpy_j_per_m3(self, temperature_c):
        """Volumetric enthalpy ``H(T)`` (J/m3), zero at the solidus."""
        t = np.asarray(temperature_c, dtype=np.float64)
        ts, tl, hl = self.solidus_c, self.liquidus_c, self.liquidus_enthalpy_j_per_m3
        return (
            self.c_frozen_j_per_m3_k * np.minimum(t - ts, 0.0)
            + hl * np.clip((t - ts) / (tl - ts), 0.0, 1.0)
            + self.c_unfrozen_j_per_m3_k * np.maximum(t - tl, 0.0)
        )

    def temperature_c(self, enthalpy_j_per_m3):
        """Inverse of :meth:`enthalpy_j_per_m3` (the same branch-free form the kernels use)."""
        h = np.asarray(enthalpy_j_per_m3, dtype=np.float64)
        hl = self.liquidus_enthalpy_j_per_m3
        return (
            self.solidus_c
            + np.minimum(h, 0.0) / self.c_frozen_j_per_m3_k
            + np.clip(h, 0.0, hl) * (self.mushy_range_c / hl)
            + np.maximum(h - hl, 0.0) / self.c_unfrozen_j_per_m3_k
        )

    def liquid_fraction(self, temperature_c):
        """``f`` in [0, 1]: 0 frozen, 1 unfrozen, linear across the mushy range."""
        t = np.asarray(temperature_c, dtype=np.float64)
        return np.clip((t - self.solidus_c) / self.mushy_range_c, 0.0, 1.0)

    def conductivity_w_per_m_k(self, temperature_c):
        """``k(T) = k_f + f(T) (k_u - k_f)``."""
        return self.k_frozen_w_per_m_k + self.liquid_fraction(temperature_c) * (
            self.k_unfrozen_w_per_m_k - self.k_frozen_w_per_m_k
        )

    def perfusion_factor(self, temperature_c, min_temperature_c=None) -> np.ndarray:
        """Fraction of ``perfusion_per_s`` at ``temperature_c``: ``g(T) f(T)``, or ``g(T) f(T_min)`` with
        ``stasis_after_freezing`` (``min_temperature_c``: the lowest temperature reached; default ``T``)."""
        t = np.asarray(temperature_c, dtype=np.float64)
        g = np.ones_like(t)
        for (t0, f0), (t1, f1) in itertools.pairwise(self.perfusion_curve):
            g = g - (f1 - f0) * (1.0 - np.clip((t - t0) / (t1 - t0), 0.0, 1.0))
        memory = t if min_temperature_c is None or not self.stasis_after_freezing else min_temperature_c
        return g * self.liquid_fraction(np.minimum(t, memory))

    @property
    def has_perfusion_response(self) -> bool:
        """True when perfusion depends on more than the liquid fraction (a curve, or stasis after freezing)."""
        return self.perfusion_per_s > 0 and (bool(self.perfusion_curve) or self.stasis_after_freezing)

    @property
    def steady_temperature_c(self) -> float:
        """Uniform temperature at which perfusion balances metabolism (``T_a + Q_m / (omega C_b)``); ``T_a``
        without perfusion."""
        if self.perfusion_per_s > 0:
            return self.arterial_temperature_c + self.metabolic_heat_w_per_m3 / (
                self.perfusion_per_s * self.c_blood_j_per_m3_k
            )
        return self.arterial_temperature_c

    # -- stability ----------------------------------------------------------------------------------------------
    def max_stable_dt_s(self, spacing_mm) -> float:
        """Largest explicit time step (s) for which the enthalpy scheme stays monotone on this spacing.

        The update ``H_i += dt [sum_faces k_f (T_j - T_i) / h^2 + f omega C_b (T_a - T_i)]`` is monotone when
        ``dt (sum_d 2 k_max / h_d^2 + omega C_b) max(dT/dH) <= 1``; ``max(dT/dH) = 1 / min(C_f, C_u)`` (the mushy
        zone has the larger apparent capacity) and face conductivities never exceed ``k_max = max(k_f, k_u)``.
        """
        h = as_spacing(spacing_mm, "grid.spacing_mm") * 1e-3
        k_max = max(self.k_frozen_w_per_m_k, self.k_unfrozen_w_per_m_k)
        c_min = min(self.c_frozen_j_per_m3_k, self.c_unfrozen_j_per_m3_k)
        rate = 2.0 * k_max * float(np.sum(1.0 / h**2)) + self.perfusion_per_s * self.c_blood_j_per_m3_k
        return c_min / rate

    def stable_dt_s(self, spacing_mm) -> float:
        """The default time step: :data:`STABILITY_SAFETY` times :meth:`max_stable_dt_s`."""
        return STABILITY_SAFETY * self.max_stable_dt_s(spacing_mm)


def _as_curve(curve, solidus_c) -> tuple:
    """``((temperature_c, factor), ...)``: 2 to MAX_CURVE_SEGMENTS + 1 knots, temperatures increasing from at least
    the solidus, factors in [0, 1], non-decreasing (perfusion never rises as tissue cools), ending at 1."""
    field_name = "tissue.perfusion_curve"
    if curve is None or (isinstance(curve, (tuple, list)) and len(curve) == 0):
        return ()
    try:
        knots = [(float(a), float(b)) for a, b in curve]
    except (TypeError, ValueError):
        raise ValidationError(field_name, curve, "expected (temperature_c, factor) pairs") from None
    if not 2 <= len(knots) <= MAX_CURVE_SEGMENTS + 1:
        raise ValidationError(field_name, curve, f"expected 2 to {MAX_CURVE_SEGMENTS + 1} knots")
    temps, factors = np.array(knots).T
    if not (np.all(np.isfinite(temps)) and np.all(np.isfinite(factors))):
        raise ValidationError(field_name, curve, "expected finite numbers")
    if not np.all(np.diff(temps) > 0):
        raise ValidationError(field_name, curve, "temperatures must increase strictly")
    if temps[0] < solidus_c:
        raise ValidationError(field_name, curve, f"temperatures must be >= solidus_c={solidus_c:g}")
    if np.any(factors < 0) or np.any(factors > 1):
        raise ValidationError(field_name, curve, "factors must lie in [0, 1]")
    if not np.all(np.diff(factors) >= 0):
        raise ValidationError(
            field_name, curve, "must be monotone: the factor may not fall as temperature rises (not monotone)"
        )
    if factors[-1] != 1.0:
        raise ValidationError(field_name, curve, "the last factor must be 1 (full perfusion above the curve)")
    return tuple(knots)


def tissue_names() -> list[str]:
    """Names of the bundled tissues."""
    return sorted(_table())


@lru_cache(maxsize=1)
def _table() -> dict[str, Tissue]:
    where = "ablasim/data/tissues.toml"
    raw = resources.files("ablasim").joinpath("data/tissues.toml").read_bytes()
    doc = tomllib.loads(raw.decode("utf-8"))
    out = {}
    for name, entry in doc.get("tissues", {}).items():
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        for prop in _PROPERTIES:
            item = entry.get(prop)
            if not isinstance(item, dict) or "value" not in item or not item.get("source"):
                raise ScenarioError(f'[tissues.{name}] {prop} needs {{ value = ..., source = "..." }}', where)
            values[prop], sources[prop] = item["value"], str(item["source"])
        extra: dict[str, Any] = {}
        curve = entry.get("perfusion_curve")
        if curve is not None:
            if not isinstance(curve, dict) or not curve.get("source") or "temperatures_c" not in curve:
                raise ScenarioError(
                    f"[tissues.{name}] perfusion_curve needs {{ temperatures_c = [...], factors = [...], "
                    'source = "..." }',
                    where,
                )
            temps, factors = list(curve["temperatures_c"]), list(curve.get("factors", ()))
            if len(temps) != len(factors):
                raise ScenarioError(f"[tissues.{name}] perfusion_curve: one factor per temperature", where)
            extra["perfusion_curve"] = tuple(zip(temps, factors))
            sources["perfusion_curve"] = str(curve["source"])
        stasis = entry.get("stasis_after_freezing")
        if stasis is not None:
            if not isinstance(stasis, dict) or "value" not in stasis or not stasis.get("source"):
                raise ScenarioError(
                    f'[tissues.{name}] stasis_after_freezing needs {{ value = true|false, source = "..." }}', where
                )
            extra["stasis_after_freezing"] = stasis["value"]
            sources["stasis_after_freezing"] = str(stasis["source"])
        out[name] = Tissue(name=name, sources=sources, **values, **extra)
    if not out:  # pragma: no cover - the bundled file is tested
        raise ScenarioError("no [tissues.NAME] tables", where)
    return out
