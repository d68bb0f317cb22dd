"""Exact path: closed forms and the brute-force reference (tests/reference/margin_reference.py)."""

import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from ablasim import Ellipsoid, measure_margin, rotation_from_euler_deg
from ablasim.geometry._sphere_mesh import icosphere, level_for_cover
from reference.margin_reference import distance, reference_margin, zone_boundary_samples

# The brute-force reference polishes its best samples with Nelder-Mead (xatol 1e-10 rad in surface angles, about
# 1e-9 mm on these surfaces; exact point-to-ellipsoid distances by 200 bisections): it is that close to the true
# optimum. Agreement is then bounded by the exact path's reported error bound plus this floor.
REF_FLOOR_MM = 1e-9
# Closed forms (spheres) are checked to 1e-12 mm: the exact path's results agree with them to rounding (~1e-15 mm
# measured by make bench), whatever bound it reports.


def _tup(e):
    return (e.center_mm, e.rotation, e.semi_axes_mm)


@pytest.mark.parametrize("r, big_r", [(10.0, 15.0), (3.0, 20.0), (12.0, 12.5)])
def test_concentric_spheres(r, big_r):
    # Closed form: margin R - r everywhere on the surface, coverage 1.
    res = measure_margin(Ellipsoid.sphere([1, 2, 3], r), Ellipsoid.sphere([1, 2, 3], big_r))
    assert res.method == "exact"
    assert res.min_margin_mm == pytest.approx(big_r - r, abs=1e-12)
    assert res.coverage == pytest.approx(1.0, abs=1e-6)
    assert res.uncovered_volume_mm3 == pytest.approx(0.0, abs=1e-6)
    assert np.allclose(res.margin_map.margins_mm, big_r - r, atol=1e-12)
    assert res.margin_map.fraction_below(big_r - r + 1e-3) == 1.0


@pytest.mark.parametrize("offset", [0.5, 2.0, 4.9, 5.0, 5.5, 9.0, 20.0, 30.0])
def test_offset_spheres(offset):
    # Closed form R - r - offset: the zone's nearest boundary point is on the line of centres, on the side the
    # zone moved away from; negative when the tumour protrudes (and when the spheres are disjoint).
    r, big_r = 10.0, 15.0
    direction = np.array([1.0, 2.0, -2.0]) / 3.0
    res = measure_margin(Ellipsoid.sphere([0, 0, 0], r), Ellipsoid.sphere(offset * direction, big_r))
    assert res.min_margin_mm == pytest.approx(big_r - r - offset, abs=1e-12)
    # the thinnest tumour point is on the far side from the zone centre
    assert np.allclose(res.thinnest_point_mm, -r * direction, atol=1e-4)


@pytest.mark.parametrize("d", [6.0, 10.0, 14.0, 20.0])
def test_coverage_of_offset_spheres_matches_lens_volume(d):
    # Intersection of spheres r, R with centres d apart (|R - r| < d < R + r):
    # V = pi (R + r - d)^2 (d^2 + 2 d r - 3 r^2 + 2 d R + 6 r R - 3 R^2) / (12 d).
    r, big_r = 10.0, 15.0
    lens = (
        math.pi
        * (big_r + r - d) ** 2
        * (d * d + 2 * d * r - 3 * r * r + 2 * d * big_r + 6 * r * big_r - 3 * big_r * big_r)
        / (12 * d)
    )
    res = measure_margin(Ellipsoid.sphere([0, 0, 0], r), Ellipsoid.sphere([d, 0, 0], big_r))
    expected = lens / (4 / 3 * math.pi * r**3)
    assert res.coverage == pytest.approx(expected, abs=2e-4)
    assert abs(res.coverage - expected) <= max(5 * res.coverage_error, 1e-5)
    assert res.uncovered_volume_mm3 == pytest.approx((1 - expected) * 4 / 3 * math.pi * r**3, rel=2e-3)


PAIRS = [  # (tumour, zone): rotated ellipsoid pairs, covered and uncovered
    (
        Ellipsoid([0, 0, 0], [6, 4, 8], rotation_from_euler_deg([20, 30, 40])),
        Ellipsoid([1, -1, 0.5], [12, 10, 15], rotation_from_euler_deg([-10, 50, 5])),
    ),
    (
        Ellipsoid([2, 1, 0], [9, 5, 7], rotation_from_euler_deg([80, -20, 10])),
        Ellipsoid([0, 0, 0], [11, 8, 10], rotation_from_euler_deg([0, 10, 60])),
    ),
    (
        Ellipsoid([0, 0, 3], [4, 4, 10], rotation_from_euler_deg([45, 0, 0])),
        Ellipsoid([0, 0, 0], [9, 14, 9], rotation_from_euler_deg([0, 0, 30])),
    ),
]


@pytest.mark.parametrize("tumor, zone", PAIRS)
def test_rotated_ellipsoid_pairs_match_reference(tumor, zone):
    ref = reference_margin(_tup(tumor), [_tup(zone)], spacing=0.15)
    res = measure_margin(tumor, zone)
    assert abs(res.min_margin_mm - ref) <= res.error_bound_mm + REF_FLOOR_MM
    # never below the truth by more than the reference's own polish tolerance (the exact path is one-sided)
    assert res.min_margin_mm >= ref - REF_FLOOR_MM


def _three_probes():
    zones = [Ellipsoid([x, y, 0.0], [12.5, 12.5, 17.5]) for x, y in [(8.66, 0), (-4.33, 7.5), (-4.33, -7.5)]]
    return zones


@pytest.mark.parametrize(
    "tumor, feature",
    [
        # covered; the thinnest margin is under the lesion where the three ice balls meet
        (Ellipsoid([0, 0, 0], [10, 9, 11], rotation_from_euler_deg([10, -5, 20])), "triple-point"),
        (Ellipsoid([0.5, 0, -1], [6, 5, 8], rotation_from_euler_deg([60, 10, -20])), "triple-point"),
        # uncovered: the lesion bulges out between two ice balls, equally far from both (a ridge)
        (Ellipsoid([0, 0, 4], [14, 9, 12], rotation_from_euler_deg([20, -15, 40])), "ridge"),
    ],
)
def test_three_probe_union_matches_reference(tumor, feature):
    zones = _three_probes()
    ref = reference_margin(_tup(tumor), [_tup(z) for z in zones], spacing=0.15)
    res = measure_margin(tumor, zones)
    assert abs(res.min_margin_mm - ref) <= res.error_bound_mm + REF_FLOOR_MM
    assert res.feature == feature


def test_minimum_on_a_crease():
    # Two overlapping spheres (r = 12, centres 16 mm apart) meet on a circle of radius sqrt(12^2 - 8^2) = 8.944 in
    # the plane x = 0. A tumour elongated along y (semi-axis 7) is nearest to that circle: the margin is
    # 8.944 - 7 = 1.944 mm at the crease, not on either sphere's smooth surface.
    zones = [Ellipsoid.sphere([-8, 0, 0], 12), Ellipsoid.sphere([8, 0, 0], 12)]
    tumor = Ellipsoid([0, 0, 0], [4, 7, 4])
    res = measure_margin(tumor, zones)
    assert res.feature == "crease"
    assert res.min_margin_mm == pytest.approx(math.sqrt(80) - 7, abs=1e-9)
    # and a rotated, off-centre variant against the reference
    tumor = Ellipsoid([0.5, 0.3, -0.2], [4, 7, 3.5], rotation_from_euler_deg([10, 20, 30]))
    res = measure_margin(tumor, zones)
    ref = reference_margin(_tup(tumor), [_tup(z) for z in zones], spacing=0.15)
    assert res.feature == "crease"
    assert abs(res.min_margin_mm - ref) <= res.error_bound_mm + REF_FLOOR_MM


def test_margin_map_matches_dense_boundary_distance():
    # Map values against distances to a dense sampling (0.1 mm) of the exposed zone boundary; the reference
    # overestimates inside distances by at most its sampling error (<= 0.05 mm here, Lipschitz), exact outside.
    zones = _three_probes()
    tumor = Ellipsoid([0, 0, 6], [9, 7, 11], rotation_from_euler_deg([20, -15, 40]))  # protrudes 2.3 mm
    res = measure_margin(tumor, zones)
    pts, vals = res.margin_map.points_mm, res.margin_map.margins_mm
    zt = [_tup(z) for z in zones]
    outside = np.min([distance(pts, z) for z in zt], axis=0)
    from scipy.spatial import cKDTree

    inside = cKDTree(zone_boundary_samples(zt, 0.1)[0]).query(pts)[0]
    ref = np.where(outside > 0, -outside, inside)
    assert np.all(vals <= ref + 1e-9)  # never above a real boundary point's distance
    assert np.all(vals >= ref - 0.05)
    assert np.abs(vals - ref)[outside > 0].max() < 1e-9
    # the minimum of the map is never below the minimum margin (the map is sampled, the minimum is refined)
    assert vals.min() >= res.min_margin_mm - 1e-9


def test_margin_map_statistics_are_area_weighted():
    # A sphere (r = 10) offset by 3 mm inside a larger one (R = 15).
    res = measure_margin(Ellipsoid.sphere([0, 0, 0], 10), Ellipsoid.sphere([3, 0, 0], 15))
    m = res.margin_map
    # The map's mesh is inscribed in the sphere (map resolution 1 mm: vertices within 0.48 mm of every surface
    # point), so its area falls short of 4 pi r^2, by about 0.5 % here.
    assert 0.99 * 4 * math.pi * 100 < m.total_area_mm2 < 4 * math.pi * 100
    med = m.percentile(50)
    assert m.fraction_below(med) <= 0.5 <= m.fraction_below(med + 1e-6) + 1e-2
    assert m.percentile(0) == pytest.approx(m.margins_mm.min())
    assert m.percentile([0, 100])[1] == pytest.approx(m.margins_mm.max())
    # margin at the far side (x = -10): 15 - 3 - 10 = 2; at the near side (x = +10): 15 + 3 - 10 = 8
    assert m.margins_mm.min() == pytest.approx(2.0, abs=1e-12)
    assert m.margins_mm.max() == pytest.approx(8.0, abs=1e-12)


def test_four_zones_interior_protrusion():
    # Four zone spheres on the vertices of a tetrahedron around an unfrozen core: the tumour point farthest from
    # the zone is the tetrahedron's centre, inside the tumour: distance |vertex| - radius = 10 - 9 = 1 mm.
    verts = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) / math.sqrt(3) * 10
    zones = [Ellipsoid.sphere(v, 9.0) for v in verts]
    res = measure_margin(Ellipsoid.sphere([0, 0, 0], 3.0), zones)
    assert res.min_margin_mm == pytest.approx(-1.0, abs=1e-12)
    assert res.feature == "interior"
    assert res.coverage < 1.0


def test_rotation_of_whole_scene_is_exact():
    zones = _three_probes()
    tumor = Ellipsoid([0, 0, 0], [10, 9, 11], rotation_from_euler_deg([10, -5, 20]))
    rot = Rotation.from_euler("xyz", [33, -71, 12], degrees=True).as_matrix()
    t = np.array([40.0, -12.0, 7.0])
    a = measure_margin(tumor, zones)
    b = measure_margin(tumor.moved(rot, t), [z.moved(rot, t) for z in zones])
    assert b.min_margin_mm == pytest.approx(a.min_margin_mm, abs=1e-12)
    assert b.coverage == pytest.approx(a.coverage, abs=1e-12)
    assert np.allclose(b.thinnest_point_mm, rot @ a.thinnest_point_mm + t, atol=1e-6)


# ---- error bounds that follow the refinement -------------------------------------------------------------------------


def test_flat_lesion_bound_is_the_refinement_tolerance():
    # A 20 x 20 x 0.2 mm lesion (semi-axes 10, 10, 0.1) shifted 2 mm along x inside a sphere of radius 15: the zone
    # boundary is nearest to the lesion's rim at (12, 0, 0), 15 - 12 = 3 mm away (the sphere point (15, 0, 0)).
    # The old bound, (kappa_zone + kappa_tumour) rho^2 / 2 with kappa_tumour = 10 / 0.1^2 = 1000 /mm, was 64 mm.
    res = measure_margin(Ellipsoid([2, 0, 0], [10, 10, 0.1]), Ellipsoid.sphere([0, 0, 0], 15))
    assert res.error_bound_mm <= 1e-8  # a unique, converged minimum: the refinement's tolerance
    assert abs(res.min_margin_mm - 3.0) <= res.error_bound_mm + 1e-12


def test_tiny_sphere_bound_is_the_refinement_tolerance():
    # radius 1e-6 at (3, 0, 0) inside a sphere of radius 10: margin 10 - 3 - 1e-6 (old bound: 6.4e4 mm)
    res = measure_margin(Ellipsoid.sphere([3, 0, 0], 1e-6), Ellipsoid.sphere([0, 0, 0], 10))
    assert res.error_bound_mm <= 1e-8
    assert abs(res.min_margin_mm - (7.0 - 1e-6)) <= res.error_bound_mm + 1e-12


def test_a_degenerate_minimum_reports_the_curvature_bound_at_the_actual_distance():
    # The flat lesion centred: every rim point is 15 - 10 = 5 mm from the sphere, a circle of minima (a flat
    # direction: the refinement cannot certify a strict minimum), so the sampling bound is reported:
    # min(rho, (kappa_zone + kappa_eff) rho^2 / 2), rho the sampling's covering radius on the zone sphere, kappa_zone
    # = 1/15 and kappa_eff = kappa_t / (1 + kappa_t s), the curvature of the lesion's parallel surface at distance
    # s = 5 - 2 rho (at least), kappa_t = 1000 /mm.
    res = measure_margin(Ellipsoid([0, 0, 0], [10, 10, 0.1]), Ellipsoid.sphere([0, 0, 0], 15))
    rho = 15.0 * icosphere(level_for_cover(15.0, 0.5)).max_cover_angle
    kappa_eff = 1000.0 / (1.0 + 1000.0 * (res.min_margin_mm - 2 * rho))
    assert res.error_bound_mm == pytest.approx(min(rho, 0.5 * (1 / 15 + kappa_eff) * rho**2), rel=1e-9)
    assert -1e-12 <= res.min_margin_mm - 5.0 <= res.error_bound_mm  # attained values, to rounding
