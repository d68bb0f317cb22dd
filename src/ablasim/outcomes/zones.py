"""The zone a virtual series treats with, and its measurement: one place for both.

* Cryoprobe arrays of two or more probes: the merged ice ball of the cold-synergy model
  (:class:`ablasim.zones.SynergyZone`, docs/zones.md: within 0.2-4.5 % of the bioheat solver's merged 0 degC ice
  ball in volume, where the union of single-probe balls falls 20-42 % short). Measured by :func:`ray_margin`: exact
  up to sampling when the zone covers the tumour; an estimate of the (negative) margin when it does not.
* One cryoprobe, and radiofrequency / microwave zones (overlapping ablations): the union of the catalog zones,
  measured exactly at 1 mm.
``composition="union"`` uses the union everywhere (faster, and pessimistic for merged ice balls).

:func:`ray_margin`: for a convex tumour T inside a zone Z, every point within distance d of T lies on the outward
normal segment, of length at most d, of its nearest tumour-surface point; so the margin is exactly the smallest
distance, over surface points, at which the outward normal ray leaves Z. Sampled on the surface (icosphere vertices
mapped onto the ellipsoid, 3 mm apart), each ray's exit found by marching and bisection, the smallest refined by
three rounds of local sampling around it: 3-10x faster than the isosurface method of :func:`ablasim.measure_margin`
for merged ice balls and within 0.002 mm of it (tests/outcomes/test_zones.py). The error reported is an estimate:
the last refinement's change plus the bisection tolerance (a sampled minimum can only over-estimate the true one).
When the zone does not cover the tumour, the margin is minus the largest distance from the sampled tumour points
outside the zone to the zone's boundary, each found by Newton projection along the field's gradient (the isosurface
method costs 1-3 s there); its error is not bounded (reported as nan). Outside the validation this matters little:
a tumour the visible ice ball does not cover is a failure whatever the depth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..catalog import default_catalog, measured_isotherm
from ..errors import ValidationError
from ..geometry._sphere_mesh import icosphere, level_for_cover
from ..metrics.exact import exact_margin
from ..zones import SynergyZone

__all__ = ["COMPOSITIONS", "RayMargin", "measure_series_zone", "ray_margin", "series_zone"]

COMPOSITIONS = ("synergy", "union")
EXACT_RESOLUTION_MM = 1.0


def _specs(probes, settings: dict, isotherm_c):
    cat = default_catalog()
    s = dict(settings)
    scale = s.pop("zone_scale", 1.0)
    return [p.zone_spec(cat, isotherm_c=isotherm_c, zone_scale=scale, **s) for p in probes]


def series_zone(probes, settings: dict, composition: str = "synergy", perturb=None):
    """The zone of ``probes`` with the arm's zone ``settings``.

    ``perturb(probes, specs) -> list[Ellipsoid]`` places the per-probe catalog zones (default: as planned); it is
    called once per isotherm level with the same errors, so a merged zone's levels move together.
    """
    if composition not in COMPOSITIONS:
        raise ValidationError("composition", composition, f"expected one of {', '.join(COMPOSITIONS)}")
    probes = list(probes)
    cat = default_catalog()
    model = cat[probes[0].model]
    place = (
        perturb
        if perturb is not None
        else (lambda ps, specs: [p.zone_from(s.semi_axes_mm, s.center_offset_mm) for p, s in zip(ps, specs)])
    )
    if model.modality != "cryo" or len(probes) == 1 or composition == "union":
        return place(probes, _specs(probes, settings, measured_isotherm(model.modality)))
    proto = settings.get("protocol", model.zones[0].protocol)
    levels = model.isotherms(proto)
    per_level = [place(probes, _specs(probes, settings, lv)) for lv in levels]
    per_probe = [[(lv, per_level[k][i]) for k, lv in enumerate(levels)] for i in range(len(probes))]
    return SynergyZone(per_probe, 0.0)


@dataclass(frozen=True)
class RayMargin:
    """What :func:`measure_series_zone` reports: the signed minimum margin, coverage and the error bound (mm)."""

    min_margin_mm: float
    coverage: float
    error_bound_mm: float
    method: str


def measure_series_zone(tumor, zone, *, max_mm: float = 25.0) -> RayMargin:
    """Margin of ``tumor`` against a zone of :func:`series_zone`: exact for a union of ellipsoids (1 mm sampling,
    refined); :func:`ray_margin` for a merged ice ball (margins above ``max_mm`` reported as ``max_mm``)."""
    if isinstance(zone, SynergyZone):
        return ray_margin(tumor, zone, max_mm=max_mm, estimate_uncovered=True)
    res = exact_margin(tumor, zone, resolution_mm=EXACT_RESOLUTION_MM, map_resolution_mm=None, coverage_polar=32)
    return RayMargin(res.min_margin_mm, res.coverage, res.error_bound_mm, "exact")


def _exits(zone, x, n, max_mm: float, step_mm: float, iters: int = 25) -> np.ndarray:
    """Distance along each ray ``x + s n`` (s > 0) at which it first leaves ``zone`` (``max_mm`` if it does not)."""
    s = np.arange(step_mm, max_mm + 1e-9, step_mm)
    pts = x[:, None, :] + s[None, :, None] * n[:, None, :]
    out = ~zone.contains(pts.reshape(-1, 3)).reshape(len(x), len(s))
    has = out.any(axis=1)
    first = np.argmax(out, axis=1)
    lo = np.where(first > 0, s[np.maximum(first - 1, 0)], 0.0)
    hi = s[first]
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        o = ~zone.contains(x + mid[:, None] * n)
        lo, hi = np.where(o, lo, mid), np.where(o, mid, hi)
    return np.where(has, 0.5 * (lo + hi), max_mm)


def _surface(tumor, u):
    """Points and outward unit normals of the ellipsoid at unit-sphere directions ``u``."""
    r = tumor.rotation
    a = np.asarray(tumor.semi_axes_mm)
    x = tumor.center_mm + (u * a) @ r.T
    n = (u / a) @ r.T
    return x, n / np.linalg.norm(n, axis=1, keepdims=True)


def _protrusion_estimate(zone, pts) -> float:
    """Largest distance from the points outside ``zone`` to its boundary, each projected onto the level set by a few
    Newton steps along the field gradient (each distance an upper bound for its point; the sample's maximum is an
    estimate of the tumour's)."""
    y = pts[~zone.contains(pts)]
    p = y.copy()
    for _ in range(8):
        v, g = zone.values_and_gradient(p)
        g2 = np.maximum(np.einsum("ij,ij->i", g, g), 1e-12)
        p = p - ((v - zone.level) / g2)[:, None] * g
    return float(np.linalg.norm(p - y, axis=1).max())


def ray_margin(
    tumor,
    zone,
    *,
    max_mm: float = 25.0,
    spacing_mm: float = 3.0,
    step_mm: float = 1.0,
    estimate_uncovered: bool = False,
):
    """The margin of ``tumor`` (an Ellipsoid) inside an implicit ``zone``, or, when the zone does not cover the
    sampled tumour (surface and three inner shells), None: then use :func:`ablasim.measure_margin`. With
    ``estimate_uncovered`` an uncovered tumour gets an estimated negative margin instead (the planner ranks
    candidates with it; method "projection estimate").

    Margins above ``max_mm`` are reported as ``max_mm``. See the module docstring for the method.
    """
    mesh = icosphere(level_for_cover(float(np.max(tumor.semi_axes_mm)), spacing_mm))
    u = mesh.vertices
    x, n = _surface(tumor, u)
    inner = np.concatenate([tumor.center_mm[None]] + [_surface(tumor, f * u)[0] for f in (0.3, 0.6, 0.85)])
    if not (zone.contains(x).all() and zone.contains(inner).all()):
        if not estimate_uncovered:
            return None
        p = _protrusion_estimate(zone, np.concatenate([x, inner]))
        return RayMargin(-p, float("nan"), float("nan"), "projection estimate")
    ex = _exits(zone, x, n, max_mm, step_mm)
    best = float(ex.min())
    change = 0.0
    radius = float(mesh.max_cover_angle)
    grid = np.linspace(-1.0, 1.0, 7)
    gx, gy = (g.ravel() for g in np.meshgrid(grid, grid))
    for j in np.argsort(ex)[:3]:  # refine around the three best rays
        c = u[j]
        r = radius
        for _ in range(3):
            e1 = np.cross(c, [1.0, 0.0, 0.0] if abs(c[0]) < 0.9 else [0.0, 1.0, 0.0])
            e1 /= np.linalg.norm(e1)
            e2 = np.cross(c, e1)
            cand = c + r * (gx[:, None] * e1 + gy[:, None] * e2)
            cand /= np.linalg.norm(cand, axis=1, keepdims=True)
            xc, nc = _surface(tumor, cand)
            ec = _exits(zone, xc, nc, max_mm, step_mm)
            k = int(np.argmin(ec))
            if ec[k] < best:
                change = best - float(ec[k])
                best = float(ec[k])
            c = cand[k]
            r /= 3.0
    return RayMargin(min(best, max_mm), 1.0, change + step_mm * 2.0**-25, "normal rays")
