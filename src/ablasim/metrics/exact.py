"""Exact margin of an ellipsoid tumour against a union of zone ellipsoids.

Definition: ``margin = min over tumour points p of sd_Z(p)``, ``sd_Z`` the signed distance to the zone boundary
(positive inside the zone). Two regimes:

* **covered** (tumour inside the zone): the margin is the distance between the tumour and the zone boundary,
  ``min over zone-boundary points q of sd_T(q)``, searched coarse to fine over the zone surfaces and refined on
  patches, along creases and at triple points (:mod:`._covered`);
* **uncovered**: the margin is ``-max over tumour points p of dist(p, Z)`` (how far the tumour protrudes),
  searched over the tumour surface, its ridges and, with four or more zone ellipsoids, its interior
  (:mod:`._uncovered`).

The regime is decided from the zone side: the zone boundary reaches into the tumour exactly when the tumour is not
covered (unless tumour and zone are disjoint, which the tumour centre tells).

Every value we report is attained by a real pair of points, so the reported margin is never below the true one;
``error_bound_mm`` bounds how far above it can be (docs/methods.md): the refinement's convergence tolerance when
every candidate in the sampling window was refined and converged, else the sampling bound.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np

from .._jit import await_background
from ..errors import ValidationError
from ..geometry._kernels.ellipsoid import signed_distance_many
from ..geometry._sphere_mesh import hierarchy, icosphere, level_for_cover
from ._covered import covered_search
from ._exclusion import constrained_minimum
from ._interior import interior_search
from ._map_kernels import margin_map
from ._refine import CONVERGED_BOUND_MM
from ._uncovered import uncovered_search
from .coverage import ray_coverage_arrays
from .result import DeferredMarginMap, MarginMap, MarginResult

__all__ = ["exact_margin"]

FEATURES = ("surface", "crease", "triple-point", "protrusion", "ridge", "interior")
MAP_CREASE_LEVEL = 4  # sphere-mesh level on which the margin map samples creases (Newton seeds)


class _Pack:
    """Writable C-contiguous float64 copies for the kernels (one type per argument: one compiled version). A zone
    ellipsoid equal to an earlier one (the same set: centre and quadratic form) is dropped: the union is the same,
    and two coincident surfaces would make every point of them a crease."""

    def __init__(self, tumor, zones):
        self.tc = np.array(tumor.center_mm, dtype=np.float64)
        self.tr = np.array(tumor.rotation, dtype=np.float64)
        self.te = np.array(tumor.semi_axes_mm, dtype=np.float64)
        self._zones(
            np.array([z.center_mm for z in zones], dtype=np.float64),
            np.array([z.rotation for z in zones], dtype=np.float64),
            np.array([z.semi_axes_mm for z in zones], dtype=np.float64),
        )

    @classmethod
    def from_arrays(cls, tc, tr, te, zc, zr, ze):
        pk = cls.__new__(cls)
        pk.tc, pk.tr, pk.te = (np.array(a, dtype=np.float64) for a in (tc, tr, te))
        pk._zones(*(np.array(a, dtype=np.float64) for a in (zc, zr, ze)))
        return pk

    def _zones(self, zc, zr, ze):
        same_centre = np.abs(zc[:, None, :] - zc[None, :, :]).max(axis=2) <= 1e-12 * ze.max()
        keep = list(range(len(zc)))
        if np.triu(same_centre, 1).any():  # only then compare the quadratic forms R diag(1 / e^2) R^T
            forms = np.einsum("kij,kj,klj->kil", zr, 1.0 / ze**2, zr)
            keep = [
                k
                for k in range(len(zc))
                if not any(same_centre[k, j] and np.allclose(forms[k], forms[j], rtol=1e-12, atol=0) for j in range(k))
            ]
        self.zc = np.ascontiguousarray(zc[keep])
        self.zr = np.ascontiguousarray(zr[keep])
        self.ze = np.ascontiguousarray(ze[keep])
        self.n = len(keep)

    def zone_distance(self, k, p):
        """Signed distance from p to zone ellipsoid k and the nearest point on it."""
        sd = np.empty(1)
        foot = np.empty((1, 3))
        pts = np.ascontiguousarray(p, dtype=np.float64).reshape(1, 3)
        signed_distance_many(pts, self.zc[k], self.zr[k], self.ze[k], sd, foot)
        return float(sd[0]), foot[0].copy()


def _search(kernel_fn, h, pk, *extra):
    out = np.zeros(13)
    kernel_fn(
        h.vertices,
        h.faces,
        h.face_offset,
        h.cover,
        h.edge,
        h.face_edges,
        h.edges,
        h.nbr_ptr,
        h.nbr_idx,
        h.level,
        pk.zc,
        pk.zr,
        pk.ze,
        pk.tc,
        pk.tr,
        pk.te,
        *extra,
        out,
    )
    return out


def _center_inside(pk) -> bool:
    y = np.einsum("kij,ki->kj", pk.zr, pk.tc[None, :] - pk.zc) / pk.ze
    return bool(np.any(np.einsum("kj,kj->k", y, y) <= 1.0))


def exact_margin(
    tumor, zones, *, resolution_mm: float, map_resolution_mm: float | None, exclusion=None, coverage_polar: int = 192
) -> MarginResult:
    """``map_resolution_mm=None`` skips the surface map (the margin and coverage are unchanged; cohorts use it);
    otherwise the map is computed when it is first used (:class:`DeferredMarginMap`), except with capsule
    exclusion, which needs it at once (at 1 mm when ``map_resolution_mm`` is None). ``coverage_polar`` sets the
    ray grid of the coverage integral (``coverage_polar x 2 coverage_polar`` directions)."""
    if map_resolution_mm is None and exclusion is not None:
        map_resolution_mm = 1.0
    pk = _Pack(tumor, zones)
    covered, best, zh = _margin(pk, resolution_mm)
    mm = None
    excluded_fraction = 0.0
    if exclusion is not None:  # the constrained minimum needs the map now
        mm, excluded_fraction, best = _map_and_exclusion(tumor, pk, zh, map_resolution_mm, exclusion, covered, best)
    elif map_resolution_mm is not None:
        mm = DeferredMarginMap(_DeferredMap(tumor, pk, zh, float(map_resolution_mm), covered, best))
    coverage, coverage_error = (1.0, 0.0) if covered else _coverage(pk, coverage_polar)
    tvol = tumor.volume_mm3
    return MarginResult(
        min_margin_mm=best.value,
        coverage=coverage,
        coverage_error=coverage_error,
        uncovered_volume_mm3=(1.0 - coverage) * tvol,
        tumor_volume_mm3=tvol,
        thinnest_point_mm=best.tumor_pt,
        zone_point_mm=best.zone_pt,
        method="exact",
        error_bound_mm=float(max(best.bound, CONVERGED_BOUND_MM)),
        feature=FEATURES[best.feature],
        margin_map=mm,
        excluded_area_fraction=excluded_fraction,
    )


def _margin(pk, resolution_mm):
    """The regime, the optimum and the zone surfaces' mesh hierarchy."""
    kappa_t = float(pk.te.max() / pk.te.min() ** 2)  # largest principal curvature of an ellipsoid: a_max / a_min^2
    kappa_z = float((pk.ze.max(axis=1) / pk.ze.min(axis=1) ** 2).max())
    zh = hierarchy(level_for_cover(float(pk.ze.max()), resolution_mm))
    res = _search(covered_search, zh, pk, kappa_z, kappa_t)
    covered = bool(res[0] == 1.0) and _center_inside(pk)
    if covered:
        best = _Best(res, 0.0 if res[11] == 1.0 else max(res[9], res[10]))
    else:
        best = _uncovered(pk, resolution_mm, kappa_t, kappa_z, res)
    return covered, best, zh


def _coverage(pk, n_polar):
    return ray_coverage_arrays(pk.tc, pk.tr, pk.te, pk.zc, pk.zr, pk.ze, n_polar)


def margin_arrays(tc, tr, te, zc, zr, ze, resolution_mm: float, coverage_polar: int) -> tuple:
    """The exact margin without the surface map, for arrays (tumour centre, rotation, semi-axes; zones stacked):
    (margin, coverage, coverage error, feature index into FEATURES, error bound). Cohorts and sampling call this
    for each case, skipping the result objects; inputs are not validated (they come from validated ones)."""
    pk = _Pack.from_arrays(tc, tr, te, zc, zr, ze)
    covered, best, _ = _margin(pk, resolution_mm)
    coverage, coverage_error = (1.0, 0.0) if covered else _coverage(pk, coverage_polar)
    return best.value, coverage, coverage_error, best.feature, max(best.bound, CONVERGED_BOUND_MM)


class _Best:
    """The reported optimum: value, the pair of points attaining it, feature and error bound."""

    def __init__(self, out, bound):
        self.value = float(out[1])
        self.tumor_pt = np.array(out[2:5])
        self.zone_pt = np.array(out[5:8])
        self.feature = int(out[8])
        self.bound = float(bound)


def _uncovered(pk, resolution_mm, kappa_t, kappa_z, zone_res) -> _Best:
    await_background("uncovered")
    th = hierarchy(level_for_cover(float(pk.te.max()), resolution_mm))
    out = _search(uncovered_search, th, pk, kappa_t, kappa_z)
    if out[0] == 1.0:
        best = _Best(out, 0.0 if out[11] == 1.0 else max(out[9], out[10]))
    else:
        # The zone boundary reaches into the tumour, yet no tumour sample lies outside the zone: whatever protrudes
        # is thinner than the sampling resolves. Value 0, attained at the zone-boundary point inside the tumour;
        # a protrusion deeper than the covering radius would have left a sample outside (F is 1-Lipschitz).
        out = zone_res.copy()
        out[1] = 0.0
        out[2:5] = out[5:8]
        out[8] = 3
        best = _Best(out, float(pk.te.max()) * th.cover[-1])
    if pk.n >= 4:
        emin, emax = pk.ze.min(axis=1), pk.ze.max(axis=1)
        io = np.zeros(6)
        interior_search(pk.tc, pk.tr, pk.te, pk.zc, pk.zr, pk.ze, emin, emax, float(resolution_mm), -best.value, io)
        if -io[0] < best.value:
            f = tumor_f(pk, io[1:4])
            best.value, best.tumor_pt, best.zone_pt, best.feature = -float(io[0]), io[1:4].copy(), f, 5
            if io[5] != 1.0:
                best.bound = max(best.bound, float(io[4]) + best.value)
        else:
            # an interior point farther out than the reported one would lie in a cube that was kept
            best.bound = max(best.bound, float(io[4]) + best.value)
    return best


def tumor_f(pk, p):
    """The nearest zone-boundary point to p (p outside the zone)."""
    return min((pk.zone_distance(k, p) for k in range(pk.n)), key=lambda r: r[0])[1]


class _DeferredMap:
    """Computes the margin map of an exact measurement when it is first used (:class:`DeferredMarginMap`).

    Every map vertex is a candidate of the minimum too (its value is attained by a real pair of points); one below
    the reported minimum would mean the search missed a basin. The reported result cannot change after it was
    returned, so that is reported as a warning (it has never been seen in the test suite's property tests)."""

    def __init__(self, tumor, pk, zh, map_resolution_mm, covered, best):
        self.args = (tumor, pk, zh, map_resolution_mm)
        self.covered = covered
        self.best = best

    def __call__(self) -> MarginMap:
        tumor, pk, zh, res = self.args
        probe = copy.copy(self.best)
        mm, _, found = _map_and_exclusion(tumor, pk, zh, res, None, self.covered, probe)
        if found.value < self.best.value:
            warnings.warn(
                f"the margin map holds a point with margin {found.value:.6f} mm, below the exact search's minimum "
                f"{self.best.value:.6f} mm: the search missed a basin (please report this case)",
                RuntimeWarning,
                stacklevel=3,
            )
        return mm


def _map_and_exclusion(tumor, pk, zh, map_resolution_mm, exclusion, covered, best):
    tmax = float(pk.te.max())
    mesh_map = icosphere(level_for_cover(tmax, map_resolution_mm))
    tpts = np.ascontiguousarray(tumor.center_mm + mesh_map.vertices @ tumor.linear_map.T)
    ch = hierarchy(min(zh.level, MAP_CREASE_LEVEL))
    amax = float(pk.ze.max())
    kappa = 4.0 * max(float((pk.ze.max(axis=1) / pk.ze.min(axis=1) ** 2).max()), 1e-9)
    await_background("map")

    def evaluate(points):
        """The exact margin function at points (signed distance to the zone boundary, > 0 inside) and the zone
        whose formula gives it (-1: a crease, triple point or non-global nearest point)."""
        pts = np.ascontiguousarray(points, dtype=np.float64)
        vals = np.empty(len(pts))
        zone = np.empty(len(pts), dtype=np.int64)
        margin_map(
            pts, pk.zc, pk.zr, pk.ze, ch.vertices, ch.face_edges, ch.edges, amax * ch.edge[-1], kappa, vals, zone
        )
        return vals, zone

    mvals, mzone = evaluate(tpts)
    areas = _vertex_areas(tpts, mesh_map.faces)
    included = np.ones(len(tpts), dtype=bool)
    excluded_fraction = 0.0
    if exclusion is not None:
        included = ~exclusion.excluded(tpts)
        excluded_fraction = float(areas[~included].sum() / areas.sum())
        if not included.any() and exclusion.excluded(best.tumor_pt.reshape(1, 3))[0]:
            raise ValidationError(
                "exclude.distance_mm",
                exclusion.distance_mm,
                "excludes the whole tumour surface; nothing is left to measure",
            )
        if not included.all():
            best = constrained_minimum(tumor, pk, exclusion, mesh_map, tpts, mvals, mzone, included, evaluate, best)
    # Every included map vertex is a candidate too: its value is attained by a real pair of points. (Below the
    # search's optimum by more than rounding only if the search missed a basin: then its bound no longer holds.)
    if included.any():
        i = int(np.flatnonzero(included)[np.argmin(mvals[included])])
        if mvals[i] < best.value - 1e-9 * max(1.0, abs(best.value)):
            best.value = float(mvals[i])
            best.tumor_pt = tpts[i].copy()
            best.zone_pt = _nearest_zone_point(pk, tpts[i], int(mzone[i]))
            best.feature = 0 if covered else 3
            best.bound = max(best.bound, tmax * mesh_map.max_cover_angle)
    return MarginMap(tpts, mvals, areas, included, mesh_map.faces), excluded_fraction, best


def _nearest_zone_point(pk, p, zone):
    """The zone-boundary point nearest to p when a single zone's formula gives the margin there (else p itself is
    reported; the value is still attained by a boundary point)."""
    return np.asarray(p, dtype=float).copy() if zone < 0 else pk.zone_distance(zone, p)[1]


def _vertex_areas(points, faces):
    a, b, c = points[faces[:, 0]], points[faces[:, 1]], points[faces[:, 2]]
    tri = 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)
    return np.bincount(faces.ravel(), weights=np.repeat(tri / 3.0, 3), minlength=len(points))
