"""Virtual cases: case ``i`` of a cohort is a pure function of (spec, i).

Its random numbers come from ``SeedSequence(spec.seed, spawn_key=(i,))``, drawn in a fixed order: two uniforms
(diameter, elongation), four normals (tumour orientation, a random unit quaternion), three normals (probe direction
when random), then the uncertainty draws. So a case's result does not depend on chunking, scheduling, worker or
resume history, and :func:`run_chunk` returns bit-identical columns wherever it runs.

The geometry of a case is computed on arrays (:func:`_case_arrays`), with the catalog zone of each strategy looked
up once per spec: it is the same computation as :func:`ablasim.placement.parallel_array` followed by
:func:`ablasim.uncertainty.perturbed_zones` (tests/cohorts check the two agree), without building and validating
the intermediate objects for every case. A planned strategy (:mod:`.planned`) plans each case and perturbs its
probes with the same draws through :func:`ablasim.uncertainty.perturbed_zones`. :func:`make_case` wraps the arrays
into Ellipsoids.
"""

from __future__ import annotations

import math

import numpy as np

from ..._jit import kernel
from ...catalog import default_catalog, measured_isotherm
from ...geometry.shapes import Ellipsoid
from ...metrics.exact import FEATURES, margin_arrays
from ...probes import Probe
from ...uncertainty import case_rng, draws_per_case, perturbed_zones
from .planned import PlannedStrategy, planned_probes

__all__ = ["COLUMNS", "FEATURES", "case_rng", "make_case", "run_chunk"]

COLUMNS = {  # name: dtype
    "case": np.int64,
    "diameter_mm": np.float64,
    "semi_a_mm": np.float64,
    "semi_b_mm": np.float64,
    "semi_c_mm": np.float64,
    "strategy": np.int64,
    "n_probes": np.int64,
    "min_margin_mm": np.float64,
    "coverage": np.float64,
    "uncovered_volume_mm3": np.float64,
    "tumor_volume_mm3": np.float64,
    "success": np.bool_,
    "feature": np.int64,
    "error_bound_mm": np.float64,
}


def _quaternion_matrix(q) -> np.ndarray:
    w, x, y, z = q / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


def _strategy_zone(spec, s):
    """The catalog zone of strategy ``s``'s probes: (semi-axes, centre offset, centre offset of the zone the probes
    are placed by). The one place that decides which isotherm a cohort case is measured on."""
    cat = default_catalog()
    zone_kw = {key: v for key, v in s.settings.items() if key != "zone_scale"}
    iso = measured_isotherm(cat[s.model].modality, spec.isotherm_c)
    probe = Probe([0.0, 0.0, 0.0], [0.0, 0.0, 1.0], s.model)
    zs = probe.zone_spec(cat, isotherm_c=iso, zone_scale=s.settings.get("zone_scale", 1.0), **zone_kw)
    placed_by = probe.zone_spec(cat, **zone_kw)  # parallel_array centres the model's default zone on the tumour
    return np.asarray(zs.semi_axes_mm, dtype=float), float(zs.center_offset_mm), float(placed_by.center_offset_mm)


def _layout(n: int, s: float) -> np.ndarray:
    """In-plane probe offsets of :func:`ablasim.placement.parallel_array` (n x 2)."""
    if n == 1:
        return np.zeros((1, 2))
    if n == 2:
        return np.array([(-s / 2, 0.0), (s / 2, 0.0)])
    if n == 4:
        return np.array([(-s / 2, -s / 2), (s / 2, -s / 2), (s / 2, s / 2), (-s / 2, s / 2)])
    r = s / (2 * np.sin(np.pi / n))
    k = np.arange(n)
    return np.stack([r * np.cos(2 * np.pi * k / n), r * np.sin(2 * np.pi * k / n)], axis=1)


_PER_SPEC: dict = {}  # id(spec) -> (spec, [(semi-axes, centre offset, placement offset, layout) or None (planned)])


def _strategy_arrays(spec, s):
    if isinstance(s, PlannedStrategy):  # planned per case: no fixed array
        return None
    return (*_strategy_zone(spec, s), _layout(s.n_probes, s.spacing_mm))


def _strategies(spec):
    hit = _PER_SPEC.get(id(spec))
    if hit is None or hit[0] is not spec:
        if len(_PER_SPEC) > 16:
            _PER_SPEC.clear()
        hit = (
            spec,
            [_strategy_arrays(spec, s) for s in spec.strategies],
        )
        _PER_SPEC[id(spec)] = hit
    return hit[1]


@kernel(entry=True)
def _frame(d0, d1, d2):
    """:func:`ablasim.geometry.shapes.rotation_with_z_axis` of the unit vector d: its columns (x, y, d)."""
    a0, a1, a2 = abs(d0), abs(d1), abs(d2)
    h0 = 1.0 if a0 <= a1 and a0 <= a2 else 0.0  # the first axis of least |d| (np.argmin)
    h1 = 1.0 if h0 == 0.0 and a1 <= a2 else 0.0
    h2 = 1.0 - h0 - h1
    dot = h0 * d0 + h1 * d1 + h2 * d2
    x0, x1, x2 = h0 - d0 * dot, h1 - d1 * dot, h2 - d2 * dot
    nn = math.sqrt(x0 * x0 + x1 * x1 + x2 * x2)
    x0, x1, x2 = x0 / nn, x1 / nn, x2 / nn
    return x0, x1, x2, d1 * x2 - d2 * x1, d2 * x0 - d0 * x2, d0 * x1 - d1 * x0


@kernel
def _rodrigues(v0, v1, v2, out):
    """Rotation matrix of the rotation vector v, written into out (3 x 3)."""
    theta = math.sqrt(v0 * v0 + v1 * v1 + v2 * v2)
    k0, k1, k2 = (v0 / theta, v1 / theta, v2 / theta) if theta > 0.0 else (0.0, 0.0, 0.0)
    s, c = math.sin(theta), 1.0 - math.cos(theta)
    out[0, 0] = 1.0 - c * (k1 * k1 + k2 * k2)
    out[1, 1] = 1.0 - c * (k0 * k0 + k2 * k2)
    out[2, 2] = 1.0 - c * (k0 * k0 + k1 * k1)
    out[0, 1] = -s * k2 + c * k0 * k1
    out[1, 0] = s * k2 + c * k0 * k1
    out[0, 2] = s * k1 + c * k0 * k2
    out[2, 0] = -s * k1 + c * k0 * k2
    out[1, 2] = -s * k0 + c * k1 * k2
    out[2, 1] = s * k0 + c * k1 * k2


@kernel(entry=True)
def _zones(tc, d, e1, layout, placed_offset, offset, axes, z, unc, zc, zr, ze):
    """:func:`ablasim.placement.parallel_array` then :func:`ablasim.uncertainty.perturbed_zones` on arrays:
    ``unc`` = (tip lateral sd, tip axial sd, tilt sd (rad), zone-scale log-sds (3), registration rotation sd (rad),
    registration shift sd)."""
    n = layout.shape[0]
    f10, f11, f12, f20, f21, f22 = _frame(d[0], d[1], d[2])
    e2 = (d[1] * e1[2] - d[2] * e1[1], d[2] * e1[0] - d[0] * e1[2], d[0] * e1[1] - d[1] * e1[0])
    rot = np.empty((3, 3))
    _rodrigues(unc[6] * z[5 * n + 3], unc[6] * z[5 * n + 4], unc[6] * z[5 * n + 5], rot)
    tilt = np.empty((3, 3))
    f1 = (f10, f11, f12)
    f2 = (f20, f21, f22)
    for i in range(n):
        zi = z[5 * i : 5 * i + 5]
        _rodrigues(
            unc[2] * (zi[3] * f1[0] + zi[4] * f2[0]),
            unc[2] * (zi[3] * f1[1] + zi[4] * f2[1]),
            unc[2] * (zi[3] * f1[2] + zi[4] * f2[2]),
            tilt,
        )
        g0 = tilt[0, 0] * d[0] + tilt[0, 1] * d[1] + tilt[0, 2] * d[2]
        g1 = tilt[1, 0] * d[0] + tilt[1, 1] * d[1] + tilt[1, 2] * d[2]
        g2 = tilt[2, 0] * d[0] + tilt[2, 1] * d[1] + tilt[2, 2] * d[2]
        gn = math.sqrt(g0 * g0 + g1 * g1 + g2 * g2)
        g0, g1, g2 = g0 / gn, g1 / gn, g2 / gn
        c = np.empty(3)
        for k in range(3):
            tip = tc[k] + layout[i, 0] * e1[k] + layout[i, 1] * e2[k] + placed_offset * d[k]
            tip += unc[0] * (zi[0] * f1[k] + zi[1] * f2[k]) + unc[1] * zi[2] * d[k]
            c[k] = tip - offset * (g0 if k == 0 else (g1 if k == 1 else g2)) - tc[k]
        h00, h01, h02, h10, h11, h12 = _frame(g0, g1, g2)
        for k in range(3):
            zc[i, k] = rot[k, 0] * c[0] + rot[k, 1] * c[1] + rot[k, 2] * c[2] + tc[k] + unc[7] * z[5 * n + 6 + k]
            zr[i, k, 0] = rot[k, 0] * h00 + rot[k, 1] * h01 + rot[k, 2] * h02
            zr[i, k, 1] = rot[k, 0] * h10 + rot[k, 1] * h11 + rot[k, 2] * h12
            zr[i, k, 2] = rot[k, 0] * g0 + rot[k, 1] * g1 + rot[k, 2] * g2
            ze[i, k] = axes[k] * math.exp(unc[3 + k] * z[5 * n + k])


def _case_arrays(spec, index: int):
    """(diameter, strategy index, tumour centre, rotation, semi-axes, zone centres, rotations, semi-axes)."""
    rng = case_rng(spec.seed, index)
    u = rng.random(2)
    q = rng.standard_normal(4)
    dz = rng.standard_normal(3)
    diameter = spec.diameter.sample(u[0])
    elong = spec.elongation.sample(u[1])
    a = diameter / 2.0
    c = a / elong
    te = np.array([a, np.sqrt(a * c), c])
    tr = _quaternion_matrix(q) if spec.random_orientation else np.eye(3)
    tc = np.zeros(3)
    k = next((i for i, s in enumerate(spec.strategies) if diameter < s.max_diameter_mm), len(spec.strategies) - 1)
    s = spec.strategies[k]
    d = np.asarray(s.direction, dtype=float) if s.direction is not None else dz / np.linalg.norm(dz)
    if isinstance(s, PlannedStrategy):  # planned per case (workflows/cohorts/planned.py)
        zc, zr, ze = _planned_zones(spec, s, Ellipsoid._unchecked(tc, te, tr), d, index, rng)
        return diameter, k, tc, tr, te, zc, zr, ze
    axes, offset, placed_offset, layout = _strategies(spec)[k]
    # parallel_array's first layout axis: the tumour's widest extent across the shaft
    f = _frame(d[0], d[1], d[2])
    across = np.array([f[:3], f[3:]]).T
    e1 = across @ np.linalg.svd(across.T @ (tr * te[None, :]), full_matrices=False)[0][:, 0]
    n = len(layout)
    z = rng.standard_normal(draws_per_case(n))
    unc = spec.uncertainty
    sd = np.array(
        [
            unc.tip_lateral_sd_mm,
            unc.tip_axial_sd_mm,
            np.deg2rad(unc.angle_sd_deg),
            *unc.zone_scale_sd,
            np.deg2rad(unc.registration_rotation_sd_deg),
            unc.registration_shift_sd_mm,
        ]
    )
    zc, zr, ze = np.empty((n, 3)), np.empty((n, 3, 3)), np.empty((n, 3))
    _zones(tc, d, e1, layout, placed_offset, offset, axes, z, sd, zc, zr, ze)
    return diameter, k, tc, tr, te, zc, zr, ze


def _planned_zones(spec, s: PlannedStrategy, tumor: Ellipsoid, direction: np.ndarray, index: int, rng):
    """The perturbed zones of case ``index``'s plan as arrays (none when no plan can exist)."""
    probes, device = planned_probes(spec, s, tumor, direction, index)
    if not probes:
        return np.empty((0, 3)), np.empty((0, 3, 3)), np.empty((0, 3))
    cat = default_catalog()
    zone_kw = device.settings()
    iso = measured_isotherm(cat[probes[0].model].modality, spec.isotherm_c)
    spec_zone = probes[0].zone_spec(cat, isotherm_c=iso, zone_scale=1.0, **zone_kw)
    z = rng.standard_normal(draws_per_case(len(probes)))
    zones = perturbed_zones(probes, [spec_zone] * len(probes), spec.uncertainty, z, tumor.center_mm)
    return (
        np.array([zn.center_mm for zn in zones]),
        np.array([zn.rotation for zn in zones]),
        np.array([zn.semi_axes_mm for zn in zones]),
    )


def make_case(spec, index: int):
    """(tumour, strategy index, perturbed zone ellipsoids, diameter) of case ``index``."""
    diameter, k, tc, tr, te, zc, zr, ze = _case_arrays(spec, index)
    tumor = Ellipsoid._unchecked(tc, te, tr)
    zones = [Ellipsoid._unchecked(zc[i], ze[i], zr[i]) for i in range(len(zc))]
    return tumor, k, zones, diameter


def run_chunk(spec, start: int, stop: int) -> dict:
    """Columns (``COLUMNS``) for cases ``start .. stop - 1``."""
    n = stop - start
    out: dict[str, np.ndarray] = {name: np.empty(n, dtype=dt) for name, dt in COLUMNS.items()}
    for row, i in enumerate(range(start, stop)):
        diameter, k, tc, tr, te, zc, zr, ze = _case_arrays(spec, i)
        tvol = 4.0 / 3.0 * np.pi * te[0] * te[1] * te[2]
        out["case"][row] = i
        if len(zc) == 0:  # a planned strategy with no possible plan: nothing delivered
            margin, coverage, feature, bound = -np.inf, 0.0, -1, 0.0
        else:
            margin, coverage, _, feature, bound = margin_arrays(
                tc, tr, te, zc, zr, ze, spec.resolution_mm, spec.coverage_polar
            )
        out["diameter_mm"][row] = diameter
        out["semi_a_mm"][row], out["semi_b_mm"][row], out["semi_c_mm"][row] = te
        out["strategy"][row] = k
        out["n_probes"][row] = len(zc)
        out["min_margin_mm"][row] = margin
        out["coverage"][row] = coverage
        out["uncovered_volume_mm3"][row] = (1.0 - coverage) * tvol
        out["tumor_volume_mm3"][row] = tvol
        out["success"][row] = margin >= spec.success_margin_mm
        out["feature"][row] = feature
        out["error_bound_mm"][row] = bound
    return out


def _warm() -> None:
    """Compile the case kernels (the first-run helper calls this before a cohort's workers start)."""
    f = _frame(0.0, 0.0, 1.0)
    zc, zr, ze = np.empty((2, 3)), np.empty((2, 3, 3)), np.empty((2, 3))
    d, e1 = np.array(f[3:]), np.array(f[:3])
    _zones(
        np.zeros(3), d, e1, _layout(2, 10.0), 1.0, 1.0, np.ones(3), np.zeros(draws_per_case(2)), np.zeros(8), zc, zr, ze
    )
