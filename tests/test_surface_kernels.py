"""Kernels of the mask surfaces against the numpy and scipy code they replace: the Gaussian (scipy's values,
bitwise), the normal-weighted blend of partial volumes (numpy's gradient and float32 arithmetic, bitwise), and the
degenerate faces and vertex areas of a mesh."""

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from ablasim.geometry._kernels.meshing import nondegenerate_faces, vertex_areas
from ablasim.geometry._kernels.smoothing import normal_blend
from ablasim.geometry._slices import gaussian


@pytest.mark.parametrize("nearest", [False, True])
def test_gaussian_gives_scipys_values(nearest):
    rng = np.random.default_rng(11)
    for t in range(25):
        shape = tuple(int(x) for x in rng.integers(1, 24, 3))
        vol = (rng.random(shape) < 0.5).astype(np.float32) if t % 2 else rng.random(shape).astype(np.float32)
        sigma = rng.uniform(0.0, 3.0, 3)
        sigma[t % 3] = 0.0 if t % 5 == 0 else sigma[t % 3]  # an axis left alone
        truncate = float(rng.choice([2.0, 3.0, 3.5]))
        ref = gaussian_filter(vol, sigma, mode="nearest" if nearest else "constant", truncate=truncate)
        assert np.array_equal(gaussian(vol, sigma, truncate, nearest), ref)


def test_normal_blend_matches_numpy():
    rng = np.random.default_rng(12)
    for _ in range(20):
        shape = tuple(int(x) for x in rng.integers(2, 20, 3))
        g = gaussian_filter((rng.random(shape) < 0.5).astype(np.float32), 1.0)
        g[: shape[0] // 2] = 0.0  # flat: no gradient, the mean of the three
        sp = rng.choice([0.5, 0.7, 1.0, 2.5], 3).astype(float)
        pvs = [rng.random(shape).astype(np.float32) for _ in range(3)]
        w = [x * x for x in np.gradient(g, *sp)]
        total = w[0] + w[1] + w[2]
        ref = (w[0] * pvs[0] + w[1] * pvs[1] + w[2] * pvs[2]) / np.where(total > 0, total, 1.0)
        ref = np.where(total > 0, ref, (pvs[0] + pvs[1] + pvs[2]) / 3.0).astype(np.float32)
        out = np.empty(shape, dtype=np.float32)
        normal_blend(g, *pvs, sp, out)
        assert np.array_equal(out, ref)


def test_degenerate_faces_and_vertex_areas():
    rng = np.random.default_rng(13)
    verts = rng.integers(0, 3, (40, 3)).astype(float)  # on a coarse lattice: many collinear and repeated corners
    faces = rng.integers(0, 40, (300, 3))
    a, b, c = (verts[faces[:, k]] for k in range(3))
    cross = np.cross(b - a, c - a)
    keep = np.any(cross != 0.0, axis=1)
    assert 0 < keep.sum() < len(faces)
    assert np.array_equal(nondegenerate_faces(verts, faces), faces[keep])
    areas = np.zeros(len(verts))
    vertex_areas(verts, faces, areas)
    third = np.repeat(np.linalg.norm(cross, axis=1) / 6.0, 3)
    assert np.allclose(areas, np.bincount(faces.ravel(), weights=third, minlength=len(verts)), rtol=1e-14, atol=0)


def test_shrink_steps_match_the_numpy_formula():
    from ablasim.geometry._kernels.meshing import shrink_steps
    from ablasim.geometry.surfaces import _ball_table

    rng = np.random.default_rng(14)
    der = rng.normal(size=(500, 9))
    der[:10, :3] = 0.0  # no gradient: the normal is undefined, the step stays finite
    sigma, spacing = 1.5, np.array([0.7, 0.7, 1.25])
    x, y = _ball_table()
    out = np.empty((500, 3))
    shrink_steps(der, sigma, x, y, spacing, out)
    # the formula written with numpy (as in surfaces._shrinkage_step before it became a kernel)
    grad = der[:, :3]
    hess = np.empty((500, 3, 3))
    for (a, b), c in zip(((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)), range(3, 9)):
        hess[:, a, b] = hess[:, b, a] = der[:, c]
    norm = np.maximum(np.linalg.norm(grad, axis=1), 1e-12)
    n = grad / norm[:, None]
    curv = -0.5 * (np.trace(hess, axis1=1, axis2=2) - np.einsum("ni,nij,nj->n", n, hess, n)) / norm
    shift = np.clip(sigma * np.sign(curv) * np.interp(np.abs(curv) * sigma, x, y), -1.5 * sigma, 1.5 * sigma)
    assert np.allclose(out, -shift[:, None] * n / spacing, rtol=1e-12, atol=1e-12)
    assert np.all(np.isfinite(out))


def test_distance_transform_matches_scipy():
    from scipy import ndimage

    from ablasim.geometry._kernels.distance import distance_to_false

    rng = np.random.default_rng(15)
    for _ in range(40):
        shape = tuple(int(x) for x in rng.integers(1, 16, 3))
        vol = rng.random(shape) < rng.uniform(0.3, 0.99)
        vol.flat[0] = False  # at least one background voxel (scipy's transform needs one)
        sp = tuple(float(x) for x in rng.choice([0.5, 0.7, 1.0, 2.5], 3))
        out = np.empty(shape)
        distance_to_false(vol, *sp, out)
        assert np.allclose(out, ndimage.distance_transform_edt(vol, sampling=sp), rtol=1e-12, atol=1e-12)
    out = np.empty((3, 4, 5))
    distance_to_false(np.ones((3, 4, 5), dtype=bool), 1.0, 1.0, 1.0, out)
    assert np.all(np.isinf(out))  # nothing beyond the array counts as background
