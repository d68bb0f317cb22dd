"""The geometry of a virtual case: tumour, plan, delivery. Case ``i`` of a series is a pure function of (spec, i).

Its random numbers come from ``SeedSequence(spec.seed, spawn_key=(i,))`` in a fixed order and number: three uniforms
(arm, diameter, elongation), four normals (tumour orientation, a random unit quaternion), three normals (approach
direction), the delivery errors of up to ``MAX_ARRAY_PROBES`` probes plus the case-level zone-size factors, one
normal (the reading error of the visible margin) and two uniforms (a critical structure nearby, its distance). The
delivered n-probe array and the array with one probe added share their first probes' errors and the zone-size
factors (common random numbers). Monitoring and outcomes are applied later, to whole columns
(:mod:`ablasim.outcomes.monitor`), so assumptions of the sensitivity analysis change no geometry.

Zones and their measurement: :mod:`ablasim.outcomes.zones` (the merged ice ball for cryoprobe arrays).
"""

from __future__ import annotations

import numpy as np

from ..geometry.shapes import Ellipsoid
from ..placement import MAX_ARRAY_PROBES
from ..uncertainty import case_rng, draws_per_case, perturbed_zones
from .plan import Plan, plan_case
from .zones import measure_series_zone, series_zone

__all__ = ["COLUMNS", "VirtualCase", "make_case", "run_series_chunk"]

COLUMNS = {  # name: dtype
    "case": np.int64,
    "arm": np.int64,
    "diameter_mm": np.float64,
    "semi_a_mm": np.float64,
    "semi_b_mm": np.float64,
    "semi_c_mm": np.float64,
    "model": np.int64,  # index into the arm's models
    "n_probes": np.int64,
    "spacing_mm": np.float64,
    "nominal_margin_mm": np.float64,  # the plan, no error
    "margin_mm": np.float64,  # delivered zone (visible ice edge for cryo), before monitoring
    "coverage": np.float64,
    "margin_plus_mm": np.float64,  # delivered with one probe added
    "error_bound_mm": np.float64,
    "z_read": np.float64,  # standard normal: reading error of the visible margin (times the series' sd)
    "u_near": np.float64,  # uniform: a critical structure lies nearby when u_near < p_near
    "u_cap": np.float64,  # uniform: its distance from the tumour surface, u_cap * cap_max_mm
}


class VirtualCase:
    """Tumour, arm, plan and the random numbers of one case (see the module docstring for their order)."""

    def __init__(self, spec, index: int):
        from scipy.spatial.transform import Rotation  # deferred: a slow import that only the series need

        rng = case_rng(spec.seed, index)
        u = rng.random(3)
        q = rng.standard_normal(4)
        dz = rng.standard_normal(3)
        self.z_delivery = rng.standard_normal(draws_per_case(MAX_ARRAY_PROBES))
        self.z_read = float(rng.standard_normal())
        self.u_near, self.u_cap = (float(v) for v in rng.random(2))
        w = np.cumsum([a.weight for a in spec.arms])
        self.arm_index = int(min(np.searchsorted(w / w[-1], u[0], side="right"), len(w) - 1))
        self.arm = spec.arms[self.arm_index]
        self.diameter_mm = spec.diameter.sample(u[1]) * spec.size_scale
        elong = spec.elongation.sample(u[2])
        a = self.diameter_mm / 2.0
        c = a / elong
        self.tumor = Ellipsoid([0.0, 0.0, 0.0], [a, np.sqrt(a * c), c], Rotation.from_quat(q).as_matrix())
        self.direction = dz / np.linalg.norm(dz)
        self.index = index
        self.spec = spec

    def plan(self) -> Plan:
        return plan_case(self.tumor, self.arm, self.direction, composition=self.spec.composition)

    def _z(self, n: int) -> np.ndarray:
        """Delivery draws of an n-probe array: probe errors of the first n probes, then the case-level draws."""
        per_case = self.z_delivery[5 * MAX_ARRAY_PROBES :]
        return np.concatenate([self.z_delivery[: 5 * n], per_case])

    def delivered(self, probes):
        """The delivered zone of ``probes``: catalog zones with this case's placement and zone-size errors."""
        z = self._z(len(probes))

        def perturb(ps, specs):
            return perturbed_zones(list(ps), specs, self.spec.delivery, z, self.tumor.center_mm)

        return series_zone(probes, self.arm.settings, self.spec.composition, perturb)


def make_case(spec, index: int) -> VirtualCase:
    return VirtualCase(spec, index)


def run_series_chunk(spec, start: int, stop: int) -> dict:
    """Columns (``COLUMNS``) for cases ``start .. stop - 1`` of the series ``spec``."""
    n = stop - start
    out = {name: np.empty(n, dtype=dt) for name, dt in COLUMNS.items()}
    for row, i in enumerate(range(start, stop)):
        vc = make_case(spec, i)
        plan = vc.plan()
        res = measure_series_zone(vc.tumor, vc.delivered(plan.probes))
        if any(a.action == "add_probe" and a.max > 0 for a in vc.arm.actions):
            plus = measure_series_zone(
                vc.tumor, vc.delivered(plan.with_probes(plan.n_probes + 1, vc.tumor))
            ).min_margin_mm
        else:
            plus = np.nan
        vals = {
            "case": i,
            "arm": vc.arm_index,
            "diameter_mm": vc.diameter_mm,
            "model": plan.model_index,
            "n_probes": plan.n_probes,
            "spacing_mm": plan.spacing_mm,
            "nominal_margin_mm": plan.nominal_margin_mm,
            "margin_mm": res.min_margin_mm,
            "coverage": res.coverage,
            "margin_plus_mm": plus,
            "error_bound_mm": res.error_bound_mm,
            "z_read": vc.z_read,
            "u_near": vc.u_near,
            "u_cap": vc.u_cap,
        }
        for k, v in vals.items():
            out[k][row] = v
        out["semi_a_mm"][row], out["semi_b_mm"][row], out["semi_c_mm"][row] = vc.tumor.semi_axes_mm
    return out
