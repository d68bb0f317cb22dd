"""Virtual cases: case ``i`` of a cohort is a pure function of (spec, i).

Its random numbers come from ``SeedSequence(spec.seed, spawn_key=(i,))``, drawn in a fixed order: two uniforms
(diameter, elongation), four normals (tumour orientation, a random unit quaternion), three normals (probe direction
when random), then the uncertainty draws. So a case's result does not depend on chunking, scheduling, worker or
resume history, and :func:`run_chunk` returns bit-identical columns wherever it runs.
"""

from __future__ import annotations

import numpy as np

from ...catalog import default_catalog, measured_isotherm
from ...geometry.shapes import Ellipsoid
from ...metrics.exact import exact_margin
from ...placement import parallel_array
from ...uncertainty import case_rng, draws_per_case, perturbed_zones
from .planned import PlannedStrategy, planned_probes

__all__ = ["COLUMNS", "FEATURES", "case_rng", "make_case", "run_chunk"]

FEATURES = ("surface", "crease", "triple-point", "protrusion", "ridge", "interior")
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


def make_case(spec, index: int):
    """(tumour, strategy index, perturbed zone ellipsoids) of case ``index``."""
    rng = case_rng(spec.seed, index)
    u = rng.random(2)
    q = rng.standard_normal(4)
    dz = rng.standard_normal(3)
    diameter = spec.diameter.sample(u[0])
    elong = spec.elongation.sample(u[1])
    a = diameter / 2.0
    c = a / elong
    b = np.sqrt(a * c)
    rot = _quaternion_matrix(q) if spec.random_orientation else None
    tumor = Ellipsoid([0.0, 0.0, 0.0], [a, b, c], rot)
    k = next((i for i, s in enumerate(spec.strategies) if diameter < s.max_diameter_mm), len(spec.strategies) - 1)
    s = spec.strategies[k]
    direction = np.asarray(s.direction) if s.direction is not None else dz / np.linalg.norm(dz)
    cat = default_catalog()
    if isinstance(s, PlannedStrategy):  # planned per case (workflows/cohorts/planned.py)
        probes, device = planned_probes(spec, s, tumor, direction, index)
        if not probes:
            return tumor, k, [], diameter
        zone_kw, scale = device.settings(), 1.0
    else:
        zone_kw, scale = (
            {key: v for key, v in s.settings.items() if key != "zone_scale"},
            s.settings.get("zone_scale", 1.0),
        )
        probes = parallel_array(
            tumor, s.n_probes, s.model, spacing_mm=s.spacing_mm, direction=direction, catalog=cat, **zone_kw
        )
    iso = measured_isotherm(cat[probes[0].model].modality, spec.isotherm_c)
    spec_zone = probes[0].zone_spec(cat, isotherm_c=iso, zone_scale=scale, **zone_kw)
    z = rng.standard_normal(draws_per_case(len(probes)))
    zones = perturbed_zones(probes, [spec_zone] * len(probes), spec.uncertainty, z, tumor.center_mm)
    return tumor, k, zones, diameter


def run_chunk(spec, start: int, stop: int) -> dict:
    """Columns (``COLUMNS``) for cases ``start .. stop - 1``."""
    n = stop - start
    out = {name: np.empty(n, dtype=dt) for name, dt in COLUMNS.items()}
    for row, i in enumerate(range(start, stop)):
        tumor, k, zones, diameter = make_case(spec, i)
        out["case"][row] = i
        if not zones:  # a planned strategy with no possible plan: nothing delivered
            _no_zone(out, row, tumor, diameter, k)
            continue
        res = exact_margin(
            tumor, zones, resolution_mm=spec.resolution_mm, map_resolution_mm=None, coverage_polar=spec.coverage_polar
        )
        out["diameter_mm"][row] = diameter
        out["semi_a_mm"][row], out["semi_b_mm"][row], out["semi_c_mm"][row] = tumor.semi_axes_mm
        out["strategy"][row] = k
        out["n_probes"][row] = len(zones)
        out["min_margin_mm"][row] = res.min_margin_mm
        out["coverage"][row] = res.coverage
        out["uncovered_volume_mm3"][row] = res.uncovered_volume_mm3
        out["tumor_volume_mm3"][row] = res.tumor_volume_mm3
        out["success"][row] = res.min_margin_mm >= spec.success_margin_mm
        out["feature"][row] = FEATURES.index(res.feature)
        out["error_bound_mm"][row] = res.error_bound_mm
    return out


def _no_zone(out: dict, row: int, tumor, diameter: float, k: int) -> None:
    out["diameter_mm"][row] = diameter
    out["semi_a_mm"][row], out["semi_b_mm"][row], out["semi_c_mm"][row] = tumor.semi_axes_mm
    out["strategy"][row], out["n_probes"][row] = k, 0
    out["min_margin_mm"][row], out["coverage"][row] = -np.inf, 0.0
    out["uncovered_volume_mm3"][row] = out["tumor_volume_mm3"][row] = tumor.volume_mm3
    out["success"][row], out["feature"][row], out["error_bound_mm"][row] = False, -1, 0.0
