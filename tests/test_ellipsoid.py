"""Ellipsoid geometry: exact distance, volume, area, bounding box, rasterisation."""

import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from ablasim import Ellipsoid, Grid, ValidationError
from ablasim.geometry import shapes
from reference.margin_reference import distance, distance_by_grid


def _random_ellipsoids(n, seed):
    rng = np.random.default_rng(seed)
    for i in range(n):
        axes = rng.uniform(2.0, 20.0, 3)
        yield Ellipsoid(rng.normal(0, 5, 3), axes, Rotation.random(random_state=seed * 100 + i).as_matrix()), rng


def test_signed_distance_matches_independent_bisection():
    # Reference: plain bisection of the Lagrange equation (tests/reference), a different root finder.
    worst = 0.0
    for ell, rng in _random_ellipsoids(40, 1):
        pts = ell.center_mm + rng.normal(0, 1, (200, 3)) * rng.uniform(0.0, 30.0, (200, 1))
        ref = distance(pts, (ell.center_mm, ell.rotation, ell.semi_axes_mm))
        worst = max(worst, float(np.abs(ell.signed_distance(pts) - ref).max()))
    assert worst < 1e-9


def test_signed_distance_matches_dense_grid_search():
    # Reference: minimise |p - x(theta, phi)| over a dense parameter grid, polished by Nelder-Mead.
    for ell, rng in _random_ellipsoids(6, 2):
        for p in ell.center_mm + rng.normal(0, 8, (3, 3)):
            ref = distance_by_grid(p, (ell.center_mm, ell.rotation, ell.semi_axes_mm))
            assert abs(abs(ell.signed_distance(p)[0]) - ref) < 1e-7


# For (1, 0, 0) inside semi-axes (10, 5, 3) the nearest points leave the long axis: x = e0^2 y0 / (e0^2 - e2^2)
# = 100/91, z = +-3 sqrt(1 - (x/10)^2) (the degenerate branch of the Lagrange condition, worked by hand).
_X = 100.0 / 91.0
_OFF_AXIS = -math.hypot(_X - 1.0, 3.0 * math.sqrt(1 - (_X / 10) ** 2))


@pytest.mark.parametrize(
    "point, expected",
    [
        ([0, 0, 0], -3.0),  # centre: nearest points at the ends of the shortest axis (3 mm)
        ([0, 0, 1], -2.0),  # on the shortest axis
        ([1, 0, 0], _OFF_AXIS),  # on the longest axis, inside: nearest points off the axis
        ([12, 0, 0], 2.0),  # outside along the longest axis
        ([0, 5, 0], 0.0),  # on the surface
    ],
)
def test_signed_distance_degenerate_positions(point, expected):
    # semi-axes (10, 5, 3); points on symmetry planes exercise the degenerate branch of the root finder.
    ell = Ellipsoid([0, 0, 0], [10, 5, 3])
    assert ell.signed_distance(point)[0] == pytest.approx(expected, abs=1e-12)


def test_sphere_distance_everywhere():
    s = Ellipsoid.sphere([1, 2, 3], 7.0)
    pts = np.random.default_rng(3).normal(0, 10, (500, 3))
    assert np.allclose(s.signed_distance(pts), np.linalg.norm(pts - [1, 2, 3], axis=1) - 7.0, atol=1e-12)


def test_volume_and_area():
    e = Ellipsoid([0, 0, 0], [3, 4, 5])
    assert e.volume_mm3 == pytest.approx(4 / 3 * math.pi * 60)
    assert Ellipsoid.sphere([0, 0, 0], 2).surface_area_mm2 == pytest.approx(16 * math.pi)
    # Numerical surface integral: |d x / d theta x d x / d phi| over a fine grid (midpoint rule).
    n = 800
    th = (np.arange(n) + 0.5) * math.pi / n
    ph = (np.arange(2 * n) + 0.5) * math.pi / n
    T, P = np.meshgrid(th, ph, indexing="ij")
    a, b, c = 3, 4, 5
    dth = np.stack([a * np.cos(T) * np.cos(P), b * np.cos(T) * np.sin(P), -c * np.sin(T)], -1)
    dph = np.stack([-a * np.sin(T) * np.sin(P), b * np.sin(T) * np.cos(P), 0 * T], -1)
    area = np.linalg.norm(np.cross(dth, dph), axis=-1).sum() * (math.pi / n) ** 2
    assert e.surface_area_mm2 == pytest.approx(area, rel=1e-5)


def test_bounding_box_is_tight():
    e = Ellipsoid([1, -2, 3], [3, 4, 9], Rotation.from_euler("xyz", [30, 40, 50], degrees=True).as_matrix())
    lo, hi = e.bounding_box()
    u = np.random.default_rng(1).normal(size=(200000, 3))
    u /= np.linalg.norm(u, axis=1)[:, None]
    surf = e.center_mm + u @ e.linear_map.T
    assert np.all(surf >= lo - 1e-9) and np.all(surf <= hi + 1e-9)
    assert np.allclose(surf.min(axis=0), lo, atol=0.05) and np.allclose(surf.max(axis=0), hi, atol=0.05)


def test_rasterisation_volume_and_partial_volumes():
    e = Ellipsoid([0.3, -0.2, 0.1], [8, 6, 5], Rotation.from_euler("xyz", [20, 30, 40], degrees=True).as_matrix())
    g = Grid.covering(*e.bounding_box(), 0.5, padding_mm=2)
    mask = e.to_mask(g)
    # Centre sampling: error bounded by the boundary shell (area x half voxel diagonal).
    shell = e.surface_area_mm2 * 0.5 * g.voxel_diagonal_mm
    assert abs(mask.volume_mm3 - e.volume_mm3) < shell
    frac = e.volume_fractions(g, subsamples=6)
    assert frac.min() >= 0.0 and frac.max() <= 1.0
    assert abs(frac.sum() * g.voxel_volume_mm3 - e.volume_mm3) < 0.02 * shell
    # Fully inside voxels are exactly 1, and the boolean mask is the centre test.
    centers = g.index_to_world(np.argwhere(np.ones(g.shape, bool)))
    assert np.array_equal(mask.array.ravel(), e.contains(centers))


def test_rasterisation_on_rotated_anisotropic_grid_matches_point_test():
    e = Ellipsoid([1, 2, 3], [7, 4, 3], Rotation.from_euler("zyx", [10, 70, 5], degrees=True).as_matrix())
    g = Grid.covering(
        *e.bounding_box(),
        (0.7, 0.7, 2.5),
        padding_mm=3,
        direction=Rotation.from_euler("xyz", [15, -25, 35], degrees=True).as_matrix(),
    )
    centers = g.index_to_world(np.argwhere(np.ones(g.shape, bool)))
    assert np.array_equal(e.to_mask(g).array.ravel(), e.contains(centers))


def test_rigid_motion_of_ellipsoid():
    e = Ellipsoid([1, 2, 3], [2, 3, 4], Rotation.from_euler("x", 30, degrees=True).as_matrix())
    r = Rotation.from_euler("xyz", [5, 6, 7], degrees=True).as_matrix()
    moved = e.moved(r, [10, 0, -5])
    p = np.array([[4.0, 5.0, 6.0]])
    assert moved.signed_distance(p @ r.T + [10, 0, -5])[0] == pytest.approx(e.signed_distance(p)[0], abs=1e-12)


@pytest.mark.parametrize("order", sorted(shapes._EULER_ORDERS) + sorted(o.upper() for o in shapes._EULER_ORDERS))
def test_euler_rotations_follow_scipys_convention(order):
    # independent reference: scipy.spatial.transform (lower-case extrinsic, upper-case intrinsic); agreement to
    # rounding (1e-14 on unit-size matrix entries)
    rng = np.random.default_rng(7)
    for angles in rng.uniform(-180, 180, size=(5, 3)):
        ours = shapes.rotation_from_euler_deg(angles, order)
        assert np.allclose(ours, Rotation.from_euler(order, angles, degrees=True).as_matrix(), rtol=0, atol=1e-14)
        assert np.allclose(ours @ ours.T, np.eye(3), rtol=0, atol=1e-14) and np.linalg.det(ours) > 0


def test_mixed_case_euler_orders_are_refused():
    with pytest.raises(ValidationError, match="euler_order"):
        shapes.rotation_from_euler_deg([10, 20, 30], "xYz")
