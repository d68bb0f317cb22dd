"""The mesh kernels behind SurfaceMesh: hierarchy search, pseudo-normals, face neighbours, against slow references."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ablasim import Ellipsoid, Grid
from ablasim.geometry._kernels.bvh import LEAF, build_bvh
from ablasim.geometry._kernels.triangles import face_neighbours, mesh_normals
from ablasim.geometry._sphere_mesh import icosphere
from ablasim.geometry.surfaces import SurfaceMesh, surface_from_mask
from reference.mesh_reference import face_neighbours_by_definition, nearest_by_loop, winding_numbers


@pytest.fixture(scope="module", params=[(1.0, 1.0, 1.0), (0.7, 0.7, 2.5)], ids=["1mm", "0.7x0.7x2.5mm"])
def mesh(request):
    sp = np.asarray(request.param)
    shape = tuple(int(n) for n in np.ceil(26.0 / sp))
    g = Grid(shape, sp, -13.0 * np.ones(3))
    rot = [[0.8, -0.6, 0.0], [0.6, 0.8, 0.0], [0.0, 0.0, 1.0]]
    return surface_from_mask(Ellipsoid((0.3, -0.2, 0.4), (9, 7, 6), rot).to_mask(g))


def _probes(mesh, seed):
    """Points where a search's pruning is tested hardest: within 1e-10 to 1 mm of vertices (inside and outside), deep
    inside (nearly equidistant from much of the surface), and around the mesh."""
    rng = np.random.default_rng(seed)
    v = mesh.vertices_mm
    pick = v[rng.choice(len(v), 300, replace=False)]
    radial = pick / np.linalg.norm(pick, axis=1)[:, None]
    off = rng.choice([-1.0, 1.0], (300, 1)) * 10 ** rng.uniform(-10, 0, (300, 1))
    return np.concatenate([pick + off * radial, rng.normal(0, 1.0, (60, 3)), rng.uniform(-14, 14, (200, 3))])


def test_search_returns_the_minimum_over_all_triangles(mesh):
    pts = _probes(mesh, 1)
    d, closest = mesh.signed_distance(pts)
    ref = nearest_by_loop(pts, mesh.vertices_mm, mesh.faces)
    # the hierarchy evaluates the same per-triangle kernel as the loop and may only skip triangles that cannot be
    # nearer: equal to the last bit, also within 1e-10 mm of the surface, where bounds and distances round alike
    np.testing.assert_array_equal(np.abs(d), ref)
    np.testing.assert_array_equal(mesh.distance(pts), ref)
    np.testing.assert_allclose(np.linalg.norm(pts - closest, axis=1), ref, rtol=1e-12, atol=1e-12)


def test_search_is_exact_over_a_flat_sheet():
    # points just above or below edges of a tilted flat sheet: the two triangles of an edge round its closest point
    # differently, and a leaf's slab bound (its triangles are coplanar: a slab of no thickness) rounds like its
    # triangles' distances. Measured: a search that skips a node as soon as its bound reaches the best distance
    # (no slack) returns another triangle's distance for about 5 % of these points
    rng = np.random.default_rng(6)
    n = 30
    i, j = (x.ravel() for x in np.meshgrid(np.arange(n), np.arange(n), indexing="ij"))
    rot = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    v = np.stack([i * 0.37 + 41.3, j * 0.41 - 27.1, np.zeros(n * n)], 1) @ rot.T + [50.1, -20.3, 33.7]
    q = (i * n + j).reshape(n, n)[:-1, :-1].ravel()
    f = np.concatenate([np.stack([q, q + n, q + 1], 1), np.stack([q + 1, q + n, q + n + 1], 1)])
    fi, k, w = rng.integers(0, len(f), 3000), rng.integers(0, 3, 3000), rng.uniform(0, 1, (3000, 1))
    a, b = v[f[fi, k]], v[f[fi, (k + 1) % 3]]
    pts = a + w * (b - a) + rng.choice([-1.0, 1.0], (3000, 1)) * rot[:, 2] * 10 ** rng.uniform(-12, -3, (3000, 1))
    np.testing.assert_array_equal(SurfaceMesh(v, f).distance(pts), nearest_by_loop(pts, v, f))


def test_signs_agree_with_the_winding_number(mesh):
    pts = _probes(mesh, 2)
    d, _ = mesh.signed_distance(pts)
    w = winding_numbers(pts, mesh.vertices_mm, mesh.faces)
    assert np.all(np.abs(w - np.round(w)) < 1e-6)  # closed mesh: 0 or 1 (the reference is trustworthy here)
    np.testing.assert_array_equal(d < 0, np.round(w) == 1)


def test_vertex_normals_weight_faces_by_their_corner_angles():
    v = icosphere(2).vertices * 10.0
    f = np.ascontiguousarray(icosphere(2).faces)
    face_n, vert_n, _ = mesh_normals(v, f, face_neighbours(f, len(v)))
    # reference: arc cosines of normalised edge dot products (well-shaped triangles: accurate to ~1e-15)
    ref = np.zeros_like(v)
    for k in range(3):
        p, q, r = (v[f[:, (k + j) % 3]] for j in range(3))
        e1, e2 = q - p, r - p
        cos = np.einsum("ij,ij->i", e1, e2) / np.linalg.norm(e1, axis=1) / np.linalg.norm(e2, axis=1)
        np.add.at(ref, f[:, k], np.arccos(np.clip(cos, -1, 1))[:, None] * face_n)
    np.testing.assert_allclose(vert_n, ref, rtol=0, atol=1e-13)
    # at each vertex of a closed mesh the angles sum to 2 pi minus its angle defect: each weight is an angle
    # in (0, pi), so the normals are at most 2 pi long and point outwards (outward faces)
    assert np.all(np.einsum("ij,ij->i", vert_n, v) > 0)


def test_corner_angles_of_a_sliver_are_exact():
    theta = 1e-9  # an arc cosine of the normalised dot product would give 0 here (1 - theta**2 / 2 rounds to 1)
    v = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [2.0 * math.cos(theta), 2.0 * math.sin(theta), 0.0]])
    f = np.array([[0, 1, 2]])
    _, vert_n, _ = mesh_normals(v, f, face_neighbours(f, 3))
    # closed forms: normal +z; angle theta at the origin; at (1, 0, 0) the exterior angle of the nearly flat corner,
    # pi - theta - (angle at the third vertex, about theta by the sine rule: sin(C) = sin(theta) / |bc| * |ab|)
    c = math.asin(math.sin(theta) * 1.0 / math.hypot(2 * math.cos(theta) - 1, 2 * math.sin(theta)))
    # the two angles from atan2 are accurate relative to themselves; the third is pi minus the other two, accurate
    # to a few units in the last place of pi (4.4e-16)
    assert vert_n[0, 2] == pytest.approx(theta, rel=1e-12)
    np.testing.assert_allclose(vert_n[:, 2], [theta, math.pi - theta - c, c], rtol=0, atol=2e-15)
    np.testing.assert_array_equal(vert_n[:, :2], 0.0)


def _soup_with_defects():
    """A closed icosphere, then a rim (faces removed), an edge shared by three faces (a face copied), a face copied
    reversed, faces with repeated vertices (one of them, (q, q, p), in place of the face across edge p -> q of
    another face, where it counts once from p and twice as an edge), in shuffled order."""
    f = icosphere(1).faces.copy()
    p, q = f[50, 0], f[50, 1]
    across = [g for g in range(len(f)) if g != 50 and p in f[g] and q in f[g]]
    f[across[0]] = [q, q, p]
    f = np.delete(f, [3, 17, 40], axis=0)
    extra = [f[5], f[9][::-1], [f[20, 0], f[20, 0], f[20, 1]], [f[30, 0], f[30, 1], f[30, 1]], [f[31, 2]] * 3]
    f = np.concatenate([f, np.asarray(extra)])
    return np.ascontiguousarray(np.random.default_rng(4).permutation(f))


@pytest.mark.parametrize("faces", [icosphere(1).faces, _soup_with_defects()], ids=["closed", "defects"])
def test_face_neighbours_follow_their_definition(faces):
    nbr = face_neighbours(np.ascontiguousarray(faces), len(icosphere(1).vertices))
    np.testing.assert_array_equal(nbr, face_neighbours_by_definition(faces))


def test_face_neighbours_of_a_closed_mesh_pair_up():
    f = np.ascontiguousarray(icosphere(2).faces)
    nbr = face_neighbours(f, len(icosphere(2).vertices))
    assert np.all(nbr >= 0)
    for k in range(3):  # the face across an edge has that edge too, reversed, and names this face across it
        a, b, g = f[:, k], f[:, (k + 1) % 3], nbr[:, k]
        back = np.stack([f[g, j] for j in range(3)], axis=1)
        j = np.argmax(back == b[:, None], axis=1)
        assert np.all(back[np.arange(len(f)), (j + 1) % 3] == a)
        assert np.all(nbr[g, j] == np.arange(len(f)))


def _check_tree(v, f):
    order, bounds, links, tri, depth = build_bvh(v, f)
    assert np.array_equal(np.sort(order), np.arange(len(f)))
    np.testing.assert_array_equal(tri.reshape(-1, 3, 3), v[f[order]])
    leaves = links[:, 0] < 0
    assert np.all(links[leaves, 2] <= LEAF) and links[leaves, 2].sum() == len(f)
    for n in range(len(links)):
        corners = tri[links[n, 1] : links[n, 1] + links[n, 2]].reshape(-1, 3)
        assert np.all(corners >= bounds[n, 0:3]) and np.all(corners <= bounds[n, 3:6])
        t = bounds[n, 6] * corners[:, 0] + bounds[n, 7] * corners[:, 1] + bounds[n, 8] * corners[:, 2]  # as the kernel
        assert np.all(t >= bounds[n, 9]) and np.all(t <= bounds[n, 10])
    return depth


@given(
    st.integers(1, 40),
    st.integers(0, 2**32 - 1),
    st.sampled_from([1e-6, 1.0, 1e3]),
)
def test_search_is_exact_on_triangle_soups(n, seed, scale):
    rng = np.random.default_rng(seed)
    v = rng.normal(0, scale, (3 * n, 3))
    f = np.arange(3 * n).reshape(n, 3)
    _check_tree(v, f)
    mesh = SurfaceMesh(v, f)
    pts = np.concatenate([rng.normal(0, 2 * scale, (15, 3)), v[:5] + rng.normal(0, 1e-9 * scale, v[:5].shape)])
    np.testing.assert_array_equal(mesh.distance(pts), nearest_by_loop(pts, v, f))


def test_deep_hierarchy_and_coincident_centroids():
    # triangles at x = 100 / 3**k: each middle split peels off one, so the tree is about as deep as the triangles
    # are many (a query's stack must hold its depth), then 12 triangles sharing one centroid (the median fallback)
    k = np.arange(150)
    x = 100.0 / 3.0**k
    zero = np.zeros_like(x)
    tiny = np.stack([np.stack(c, 1) for c in ((x, zero, zero), (x, 0.01 * x, zero), (x, zero, 0.01 * x))], 1)
    ang = np.linspace(0, 2 * np.pi, 12, endpoint=False)[:, None] + np.array([0, 2 * np.pi / 3, 4 * np.pi / 3])
    spun = np.stack([np.cos(ang), np.sin(ang), np.zeros_like(ang)], 2) + [0.0, 0.0, 50.0]
    v = np.concatenate([tiny, spun]).reshape(-1, 3)
    f = np.arange(len(v)).reshape(-1, 3)
    assert _check_tree(v, f) >= 140
    pts = np.random.default_rng(5).normal(0, 30, (40, 3))
    np.testing.assert_array_equal(SurfaceMesh(v, f).distance(pts), nearest_by_loop(pts, v, f))
