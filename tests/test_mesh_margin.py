"""The mesh method for masks: exact point-to-triangle distances, signs, the QAM-like sphere suite, real data."""

from pathlib import Path

import numpy as np
import pytest

from ablasim import Ellipsoid, Grid, Mask, ValidationError, measure_margin, rotation_from_euler_deg
from ablasim.geometry.fit import fit_ellipsoid
from ablasim.geometry.surfaces import SurfaceMesh, surface_from_field, surface_from_mask
from ablasim.geometry.surfaces import mesh_mask as surface_mesh_mask
from reference.mask_suite import CASES, GRIDS, exclusion, masks, truth
from reference.mesh_reference import point_mesh_distance, point_mesh_distances

SLICER = Path(__file__).parent / "data" / "slicer" / "tumor.seg.nrrd"


@pytest.fixture(scope="module")
def sphere_mesh():
    g = Grid((40, 40, 40), 1.0, (-20, -20, -20), rotation_from_euler_deg([0, 0, 90]) * [1, -1, 1])  # reflected
    return surface_from_mask(Ellipsoid((0.3, -0.2, 0.1), (10, 8, 7)).to_mask(g))


def test_distances_are_exact_for_the_mesh(sphere_mesh):
    rng = np.random.default_rng(1)
    # around the surface, and deep inside (nearly equidistant from much of it: the hierarchy's hardest queries)
    pts = np.concatenate([rng.uniform(-16, 16, (60, 3)), rng.normal(0.3, 0.5, (20, 3))])
    d, closest = sphere_mesh.signed_distance(pts)
    ref = point_mesh_distances(pts, sphere_mesh.vertices_mm, sphere_mesh.faces)
    assert abs(ref[0] - point_mesh_distance(pts[0], sphere_mesh.vertices_mm, sphere_mesh.faces)) < 1e-12
    np.testing.assert_allclose(np.abs(d), ref, rtol=0, atol=1e-9)
    np.testing.assert_allclose(sphere_mesh.distance(pts), ref, rtol=0, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(pts - closest, axis=1), np.abs(d), atol=1e-9)
    assert np.all(d[60:] < 0)


def test_level_crossings_are_at_the_level(sphere_mesh):
    inner = np.random.default_rng(2).normal(0.0, 1.0, (15, 3))  # 5 mm or more inside the surface
    outer = sphere_mesh.signed_distance(inner)[1]  # their closest surface points: distance 0
    pts = sphere_mesh.level_crossings(inner, outer, 2.0)
    np.testing.assert_allclose(sphere_mesh.distance(pts), 2.0, atol=1e-6)


def test_cropped_surface_is_open_and_exact_inside():
    g = Grid((60, 40, 40), 1.0, (-30, -20, -20))
    mask = Ellipsoid((0, 0, 0), (25, 12, 11)).to_mask(g)
    full = surface_from_mask(mask)
    cut = surface_from_mask(mask, within_mm=((-12, -20, -20), (30, 20, 20)))  # cuts the ellipsoid at x = -12
    # far from the cut (more than three smoothing widths and a voxel) the surfaces differ only through the areas of
    # the sections the cut truncates (the partial volume's area model): by at most 0.02 mm (docs/images.md)
    pts = np.random.default_rng(3).uniform((0, -6, -6), (15, 6, 6), (40, 3))
    np.testing.assert_allclose(cut.signed_distance(pts)[0], full.signed_distance(pts)[0], atol=0.02)
    # open at the cut: its rim (edges of one face only) lies beyond the box face x = -12, where the mask was continued
    e = np.sort(cut.faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    keys, counts = np.unique(e[:, 0] * len(cut.vertices_mm) + e[:, 1], return_counts=True)
    rim = np.unique(np.stack([keys[counts == 1] // len(cut.vertices_mm), keys[counts == 1] % len(cut.vertices_mm)]))
    assert len(rim) > 0 and cut.vertices_mm[rim, 0].max() < -12


def test_signs_and_orientation(sphere_mesh):
    assert sphere_mesh.volume_mm3 > 0  # outward faces even on a reflected grid
    d, _ = sphere_mesh.signed_distance([[0.3, -0.2, 0.1], [30.0, 0.0, 0.0]])
    assert d[0] < 0 < d[1]
    # the ellipsoid's volume 4/3 pi 10*8*7 = 2345.7 mm3: the smoothed surface keeps it within 3 %
    assert abs(sphere_mesh.volume_mm3 / (4 / 3 * np.pi * 560) - 1) < 0.03


def test_probability_map_level_set():
    g = Grid((30, 30, 30), 1.0, (-15, -15, -15))
    r = np.linalg.norm(g.index_to_world(np.indices(g.shape).reshape(3, -1).T), axis=1).reshape(g.shape)
    field = np.clip(8.0 - r + 0.5, 0.0, 1.0)  # partial-volume-like ramp whose 0.5 level is the 8 mm sphere
    mesh = surface_from_field(field, g, 0.5)
    radii = np.linalg.norm(mesh.vertices_mm, axis=1)
    # marching cubes interpolates linearly along voxel edges; the clipped radial ramp is not linear along an edge
    # that is oblique to it, which costs up to about a tenth of the 1 mm spacing (and nothing on average)
    assert np.abs(radii - 8.0).max() < 0.1 and abs(radii.mean() - 8.0) < 0.02


@pytest.fixture(scope="module", params=list(GRIDS))
def suite(request):
    """The QAM-like suite on one grid: the default method for masks, its errors against the analytic truth and
    the error bounds it reports."""
    grid = GRIDS[request.param]
    errors, bounds = [], []
    for case in CASES:
        tm, zm, lm = masks(case, grid)
        res = measure_margin(tm, zm, exclude=exclusion(case, lm))
        assert res.method == "mesh"
        errors.append(res.min_margin_mm - truth(case))
        bounds.append(res.error_bound_mm)
    return request.param, np.array(errors), np.array(bounds)


def test_qam_suite_worst_error_and_bound(suite):
    name, errors, bounds = suite
    # issue 14 acceptance: the worst absolute error over the suite at most 0.30 mm; and the error bound the method
    # reports (half the voxel diagonal) holds for every case
    assert np.abs(errors).max() <= 0.30, name
    assert np.all(np.abs(errors) <= bounds), name


def test_qam_suite_mean_error(suite):
    name, errors, _ = suite
    # issue 14 acceptance: mean absolute error over the suite at most 0.10 mm (measured 0.069, 0.031 and 0.0994 mm
    # on the three grids: docs/images.md)
    assert np.abs(errors).mean() <= 0.10, name


def test_voxel_method_stays_available():
    case = next(c for c in CASES if c.name == "offset-x")
    tm, zm, _ = masks(case, GRIDS["1mm"])
    res = measure_margin(tm, zm, method="voxel")
    # the edt screening method: within its error bound (the voxel diagonal) of the truth, biased to the unsafe side
    assert res.method == "voxel-edt" and 0 <= res.min_margin_mm - truth(case) <= res.error_bound_mm


def test_hole_in_the_zone_counts():
    g = Grid((40, 40, 40), 1.0, (-20, -20, -20))
    zone = Ellipsoid.sphere((0, 0, 0), 15).to_mask(g)
    hole = Ellipsoid.sphere((0, 0, 0), 3).to_mask(g)
    zone = type(zone)(zone.array & ~hole.array, g)
    res = measure_margin(Ellipsoid.sphere((0, 0, 0), 8).to_mask(g), zone, method="mesh")
    # the tumour centre lies 3 mm inside the unfrozen core: margin about -3 (core radius), certainly negative
    assert res.min_margin_mm < -2.0 and res.feature == "interior"


def test_slicer_tumour_mask_vs_exact_on_fitted_ellipsoid():
    pytest.importorskip("nrrd")
    from ablasim.io import read_mask

    tumor = read_mask(SLICER)
    fit = fit_ellipsoid(tumor, "moments")
    e = fit.ellipsoid
    zone = Ellipsoid(e.center_mm + [2.0, -1.0, 0.5], e.semi_axes_mm + 8.0, e.rotation)
    mask_res = measure_margin(tumor, zone, method="mesh")
    exact_res = measure_margin(e, zone)
    # stated bound: the mask surface lies within [-max_inside, +max_outside] of the fitted ellipsoid, and the
    # mesh method is within its error bound of the mask's surface; the exact path adds its own bound
    lo = exact_res.min_margin_mm - fit.max_outside_mm - mask_res.error_bound_mm - exact_res.error_bound_mm
    hi = exact_res.min_margin_mm + fit.max_inside_mm + mask_res.error_bound_mm + exact_res.error_bound_mm
    assert lo <= mask_res.min_margin_mm <= hi
    assert mask_res.coverage == 1.0


def test_tiny_masks_are_smoothed_less():
    g = Grid((21, 21, 21), 1.0, (-10, -10, -10))
    one = np.zeros(g.shape, dtype=bool)
    one[10, 10, 10] = True
    mesh = surface_from_mask(Mask(one, g))  # a 1.5-voxel Gaussian of one voxel never reaches one half
    assert mesh.volume_mm3 > 0 and np.abs(mesh.vertices_mm).max() < 1.5
    res = measure_margin(Mask(one, g), Ellipsoid.sphere((0, 0, 0), 6).to_mask(g))
    # the voxel (extent about 1 mm) at the centre of a 6 mm sphere: margin about 5.5 mm, within the error bound
    assert abs(res.min_margin_mm - 5.5) <= res.error_bound_mm


def test_mesh_method_needs_a_mask():
    with pytest.raises(ValidationError, match="method"):
        measure_margin(Ellipsoid.sphere((0, 0, 0), 5), Ellipsoid.sphere((0, 0, 0), 9), method="mesh")


def test_empty_mesh_rejected():
    with pytest.raises(ValidationError, match="mesh.faces"):
        SurfaceMesh(np.zeros((3, 3)), np.zeros((0, 3), int))


def test_zone_on_the_tumour_grid_reads_as_through_the_world():
    # a zone on the tumour's own grid is read directly on the tumour's box; on a grid shifted by 1e-7 mm (not the
    # same grid, every voxel centre still rounding to the same voxel) it is read through world coordinates: the
    # coverage and its error must agree exactly, the margins to the shift
    for name in ("protruding-5mm", "offset-x"):
        case = next(c for c in CASES if c.name == name)
        tm, zm, _ = masks(case, GRIDS["1mm"])
        g = zm.grid
        moved = Grid(g.shape, g.spacing_mm, np.asarray(g.origin_mm) + 1e-7, g.direction)
        a, b = measure_margin(tm, zm), measure_margin(tm, Mask(zm.array, moved))
        assert (a.coverage, a.coverage_error) == (b.coverage, b.coverage_error)
        assert abs(a.min_margin_mm - b.min_margin_mm) < 1e-5
        assert a.coverage_error > 0


def test_far_zone_is_meshed_once_and_its_map_is_exact_for_the_whole_zone(monkeypatch):
    # tumour vertices farther than the 10 mm crop reach from the zone: in the disjoint case (up to 20 mm) beyond the
    # box of the zone's voxels; with two 2 mm blobs at opposite corners (24 mm and more) inside that box, but every
    # zone voxel within the crop. Either way the zone is meshed once (with the tumour, two surfaces), and the map
    # equals the distances to the zone's own surface meshed without any crop (offset-x: the plain crop) to rounding
    from ablasim.metrics import mesh

    calls = []
    monkeypatch.setattr(mesh, "mesh_mask", lambda *a: calls.append(a[-1]) or surface_mesh_mask(*a))
    g = Grid((60, 60, 60), 1.0, (-30, -30, -30))
    blobs = Mask(
        Ellipsoid.sphere((18, 18, 18), 2).to_mask(g).array | Ellipsoid.sphere((-18, -18, -18), 2).to_mask(g).array, g
    )
    pairs = {"blobs": (Ellipsoid.sphere((0, 0, 0), 5).to_mask(g), blobs)}
    for name in ("disjoint", "offset-x"):
        tm, zm, _ = masks(next(c for c in CASES if c.name == name), GRIDS["1mm"])
        pairs[name] = (tm, zm)
    for name, (tm, zm) in pairs.items():
        calls.clear()
        res = measure_margin(tm, zm, method="mesh")
        assert calls == ["tumor", "zone"], name
        whole, _ = surface_from_mask(zm).signed_distance(res.margin_map.points_mm)
        np.testing.assert_allclose(res.margin_map.margins_mm, -whole, rtol=0, atol=1e-12)
