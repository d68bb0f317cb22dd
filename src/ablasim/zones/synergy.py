"""Cold synergy: the merged ice ball of several cryoprobes, larger than the union of their single-probe balls.

Model (a calibrated superposition, not a heat-transfer solution; the bioheat solver is its check):

* Each probe p alone is given a temperature-like field ``T_p(x)`` that equals ``L`` exactly on its catalog
  isotherm-``L`` ellipsoid ``E_L`` (0, -20, -40 degC where the catalog has them). Between two consecutive
  isotherm surfaces ``T_p`` is linear in the position between them, ``L_a + (L_b - L_a) (-d_a) / (d_b - d_a)``
  with ``d`` the exact signed distances to the two surfaces; inside the coldest one the same formula extrapolates.
  Outside the ice edge (``d_0 >= 0``) the tissue warms back towards body temperature like the field of a
  spherical cold sink damped over a length ``tail_mm``:
  ``T_p = T_body (1 - R0 / (R0 + d_0) exp(-d_0 / tail_mm))``, ``R0`` the ice ball's volume-equivalent radius.
* Cooling adds up: ``T(x) = T_body + sum_p (T_p(x) - T_body)``, never below ``probe_temperature_c``.
  The merged zone at isotherm ``L`` is ``{T <= L}``. With one probe it is exactly the catalog ellipsoid; with
  several it contains their union (every ``T_p - T_body <= 0``), its cold core grows with the number of probes,
  and between widely spaced probes the cold of each barely reaches the other: a narrow waist (hourglass) or a gap.

Assumptions, stated so they can be tested: superposition holds for linear heat conduction, not for freezing tissue
(latent heat, conductivity rising about fourfold on freezing); the tail length stands for the depth the cold
penetrates beyond the front: ``sqrt(alpha t)`` with the unfrozen diffusivity of soft tissue
(``0.5 / 3.6e6`` m2/s, docs/references.md) over a 10-min freeze gives 9.1 mm, the default; perfusion
shortens it (Pennes length ``sqrt(k / (omega rho_b c_b))``, about 4.6 mm in liver). For models with a single
catalog isotherm (0 degC), only the merged 0 degC zone is meaningful.
"""

from __future__ import annotations

import itertools

import numpy as np

from .._validation import as_float
from ..errors import ValidationError
from ._synergy_kernels import synergy_field, synergy_field_parallel
from .implicit import ImplicitZone

_PARALLEL_MIN_POINTS = 50_000

__all__ = ["DEFAULT_TAIL_MM", "SynergyZone", "tail_mm_for"]

UNFROZEN_DIFFUSIVITY_M2_PER_S = 0.5 / 3.6e6  # k / (rho c) of unfrozen soft tissue (docs/references.md)


def tail_mm_for(freeze_s: float, diffusivity_m2_per_s: float = UNFROZEN_DIFFUSIVITY_M2_PER_S) -> float:
    """The tail length for a freeze of ``freeze_s``: the thermal penetration depth ``sqrt(alpha t)`` in mm."""
    t = as_float(freeze_s, "freeze_s", positive=True)
    a = as_float(diffusivity_m2_per_s, "diffusivity_m2_per_s", positive=True)
    return float(np.sqrt(a * t) * 1e3)


DEFAULT_TAIL_MM = 9.1  # tail_mm_for(600 s) = 9.13 mm: a 10-min freeze


class SynergyZone(ImplicitZone):
    """Merged isotherm-``isotherm_c`` zone of cryoprobes.

    ``probe_isotherms``: for each probe, a list of ``(level_c, Ellipsoid)`` pairs, warmest first, starting at
    0 degC (build it with :func:`ablasim.zones.compose`).
    """

    def __init__(
        self,
        probe_isotherms,
        isotherm_c: float,
        *,
        tail_mm: float = DEFAULT_TAIL_MM,
        body_temperature_c: float = 37.0,
        probe_temperature_c: float = -150.0,
    ):
        if not probe_isotherms:
            raise ValidationError("probes", probe_isotherms, "the synergy model needs at least one cryoprobe")
        self.level = as_float(isotherm_c, "isotherm_c", maximum=0.0)
        self.tail_mm = as_float(tail_mm, "tail_mm", positive=True)
        self.body_temperature_c = as_float(body_temperature_c, "body_temperature_c", positive=True)
        self.probe_temperature_c = as_float(probe_temperature_c, "probe_temperature_c", maximum=self.level - 1e-6)
        n_iso = np.array([len(iso) for iso in probe_isotherms], dtype=np.int64)
        m = int(n_iso.max())
        n = len(probe_isotherms)
        self._c = np.zeros((n, m, 3))
        self._r = np.tile(np.eye(3), (n, m, 1, 1))
        self._e = np.ones((n, m, 3))
        self._levels = np.zeros((n, m))
        for p, iso in enumerate(probe_isotherms):
            levels = [lv for lv, _ in iso]
            if abs(levels[0]) > 1e-9 or any(b >= a for a, b in itertools.pairwise(levels)):
                raise ValidationError(f"probes[{p}] isotherms", levels, "must start at 0 degC and get colder")
            if self.level < levels[-1] - 1e-9 and len(levels) == 1:
                raise ValidationError(
                    "isotherm_c",
                    isotherm_c,
                    f"probe {p} has only the 0 degC ice ball in the catalog: colder merged "
                    "isotherms cannot be predicted from it",
                )
            for k, (lv, ell) in enumerate(iso):
                self._c[p, k], self._r[p, k], self._e[p, k] = ell.center_mm, ell.rotation, ell.semi_axes_mm
                self._levels[p, k] = lv
        self._n_iso = n_iso
        self._r0 = np.prod(self._e[:, 0, :], axis=1) ** (1.0 / 3.0)
        self.ice_balls = [iso[0][1] for iso in probe_isotherms]
        self.sampling_mm = 0.0
        self.description = f"cold-synergy merged {self.level:g} degC zone of {n} probe(s)"

    def values(self, points_mm) -> np.ndarray:
        return self.values_and_gradient(points_mm)[0]

    def gradient(self, points_mm, step_mm: float = 0.0) -> np.ndarray:
        """Analytic gradient (degC/mm)."""
        return self.values_and_gradient(points_mm)[1]

    def values_and_gradient(self, points_mm):
        pts = np.ascontiguousarray(np.asarray(points_mm, dtype=np.float64).reshape(-1, 3))
        out = np.empty(len(pts))
        grad = np.empty((len(pts), 3))
        fn = synergy_field_parallel if len(pts) >= _PARALLEL_MIN_POINTS else synergy_field
        fn(
            pts,
            self._c,
            self._r,
            self._e,
            self._levels,
            self._n_iso,
            self._r0,
            self.tail_mm,
            self.body_temperature_c,
            self.probe_temperature_c,
            out,
            grad,
        )
        return out, grad

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The merged zone lies within the union's box grown by how far the added cold of all other probes can
        push the edge: bounded here by the tail where the total cooling falls below the body-temperature margin."""
        boxes = [e.bounding_box() for e in self.ice_balls]
        lo = np.min([b[0] for b in boxes], axis=0)
        hi = np.max([b[1] for b in boxes], axis=0)
        # Outside every ice ball T >= T_body (1 - n * max_p R0_p / (R0_p + d)): below the level only where
        # n * R0 / (R0 + d) >= (T_body - level) / T_body, i.e. d <= R0 (n T_body / (T_body - level) - 1).
        n = len(self.ice_balls)
        grow = float(self._r0.max()) * (n * self.body_temperature_c / (self.body_temperature_c - self.level) - 1.0)
        return lo - grow, hi + grow
