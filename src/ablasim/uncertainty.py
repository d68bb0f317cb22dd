"""Uncertainty model: how a planned zone may differ from the delivered one, relative to the tumour.

Per probe: tip error across the shaft (two independent Gaussian components, ``tip_lateral_sd_mm`` each) and along
it (``tip_axial_sd_mm``); a tilt of the shaft (two independent Gaussian angles about axes across the shaft,
``angle_sd_deg`` each). Per case: zone size, a multiplicative factor per zone axis ``exp(N(0, sd))`` (median 1;
the same factors for every probe of the case, since they come from the tissue), and registration: a rigid rotation
of the whole zone about the tumour centre (rotation vector with Gaussian components, ``registration_rotation_sd_deg``
each) followed by a shift (Gaussian components, ``registration_shift_sd_mm`` each).

Random draws always happen, in a fixed order and number, even for zero standard deviations: a case's numbers do not
depend on which sources are switched on (docs/uncertainty.md).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ._validation import as_float
from .errors import ValidationError
from .geometry.shapes import Ellipsoid, _frame

__all__ = ["Uncertainty", "case_rng", "draws_per_case", "perturbed_zones"]


@dataclass(frozen=True)
class Uncertainty:
    tip_lateral_sd_mm: float = 0.0
    tip_axial_sd_mm: float = 0.0
    angle_sd_deg: float = 0.0
    zone_scale_sd: tuple = (0.0, 0.0, 0.0)  # (radial, radial, axial), log-scale standard deviations
    registration_shift_sd_mm: float = 0.0
    registration_rotation_sd_deg: float = 0.0

    def __post_init__(self):
        for f in fields(self):
            if f.name == "zone_scale_sd":
                continue
            object.__setattr__(self, f.name, as_float(getattr(self, f.name), f"uncertainty.{f.name}", nonnegative=True))
        sd = (
            np.broadcast_to(np.asarray(self.zone_scale_sd, dtype=float), (3,))
            if np.ndim(self.zone_scale_sd) == 0
            else np.asarray(self.zone_scale_sd, dtype=float)
        )
        if sd.shape != (3,) or not np.all(np.isfinite(sd)) or np.any(sd < 0):
            raise ValidationError(
                "uncertainty.zone_scale_sd",
                self.zone_scale_sd,
                "expected one or three non-negative numbers (radial, radial, axial)",
            )
        object.__setattr__(self, "zone_scale_sd", tuple(float(v) for v in sd))

    @classmethod
    def from_dict(cls, table: dict, where: str = "uncertainty") -> Uncertainty:
        allowed = {f.name for f in fields(cls)}
        extra = sorted(set(table) - allowed)
        if extra:
            raise ValidationError(where, extra, f"unknown key(s); valid keys: {sorted(allowed)}")
        return cls(**table)

    @property
    def is_zero(self) -> bool:
        return all(
            v == 0
            for v in (
                self.tip_lateral_sd_mm,
                self.tip_axial_sd_mm,
                self.angle_sd_deg,
                self.registration_shift_sd_mm,
                self.registration_rotation_sd_deg,
                *self.zone_scale_sd,
            )
        )


def case_rng(seed: int, index: int) -> np.random.Generator:
    """The random stream of draw ``index`` (a cohort case or a sampled delivery) under ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(index),)))


def draws_per_case(n_probes: int) -> int:
    """Standard normal numbers one case consumes: 5 per probe (2 lateral, 1 axial, 2 tilt), 3 scale, 6 registration."""
    return 5 * n_probes + 9


def _rotvec_matrix(v) -> np.ndarray:
    """Rotation matrix of a rotation vector (Rodrigues)."""
    theta = float(np.linalg.norm(v))
    if theta == 0.0:
        return np.eye(3)
    k = np.asarray(v) / theta
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(theta) * kx + (1 - np.cos(theta)) * kx @ kx


def perturbed_zones(probes, specs, unc: Uncertainty, z: np.ndarray, pivot_mm) -> list[Ellipsoid]:
    """Zones of ``probes`` (catalog ``specs``, one ZoneSpec each) perturbed with the standard normal numbers ``z``
    (``draws_per_case(len(probes))`` of them), registration rotating about ``pivot_mm`` (the tumour centre)."""
    n = len(probes)
    z = np.asarray(z, dtype=float)
    if z.shape != (draws_per_case(n),):
        raise ValidationError("z", z.shape, f"expected {draws_per_case(n)} standard normal draws")
    scale = np.exp(np.asarray(unc.zone_scale_sd) * z[5 * n : 5 * n + 3])
    rot = _rotvec_matrix(np.deg2rad(unc.registration_rotation_sd_deg) * z[5 * n + 3 : 5 * n + 6])
    shift = unc.registration_shift_sd_mm * z[5 * n + 6 : 5 * n + 9]
    pivot = np.asarray(pivot_mm, dtype=float)
    out = []
    for i, (p, spec) in enumerate(zip(probes, specs)):
        zi = z[5 * i : 5 * i + 5]
        frame = _frame(p.direction)
        e1, e2, d = frame[:, 0], frame[:, 1], frame[:, 2]
        tip = p.tip_mm + unc.tip_lateral_sd_mm * (zi[0] * e1 + zi[1] * e2) + unc.tip_axial_sd_mm * zi[2] * d
        tilt = np.deg2rad(unc.angle_sd_deg) * (zi[3] * e1 + zi[4] * e2)
        d2 = _rotvec_matrix(tilt) @ d
        d2 /= np.sqrt(d2 @ d2)
        axes = np.asarray(spec.semi_axes_mm) * scale
        center = tip - spec.center_offset_mm * d2
        # registration: rotate about the pivot, then shift (validated inputs: unchecked construction)
        out.append(Ellipsoid._unchecked(rot @ (center - pivot) + pivot + shift, axes, rot @ _frame(d2)))
    return out
