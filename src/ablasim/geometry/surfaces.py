"""Closed triangle meshes of segmented shapes, with exact signed point-to-mesh distances.

Surfaces from binary masks (:func:`surface_from_mask`): the mask, as a 0/1 volume, is smoothed with a Gaussian of
standard deviation ``smoothing_voxels`` voxels (default 1.5) and the 0.5 level of the result is extracted by marching
cubes (Lewiner's variant in scikit-image). On grids whose coarsest spacing exceeds 1.5 times the finest, the mask is
first resampled onto an isotropic grid at the finest spacing by shape-based interpolation (the signed distance of
the mask, from the ``edt`` package, interpolated linearly and thresholded at 0), so that thick slices are joined by
a smooth surface rather than by steps. Probability or partial-volume maps (:func:`surface_from_field`) need no
smoothing: their ``level`` set is extracted directly.

Bias of the smoothing (docs/images.md): a Gaussian moves the 0.5 level of a curved surface inwards by about
``sigma^2 * (k1 + k2) / 2`` (``sigma^2 / r`` on a sphere of radius ``r``: 0.225 mm for r = 10 mm at 1 mm voxels);
a first-order correction moves each vertex back out by that amount, with the curvature measured on a more strongly
smoothed copy.
Tumour and zone move the same way, so the bias on a margin is the difference of the two and usually smaller.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_float
from ..errors import ValidationError
from ._kernels.triangles import bin_triangles, signed_distances
from .grid import Grid
from .mask import Mask

__all__ = ["SurfaceMesh", "surface_from_field", "surface_from_mask"]

ANISOTROPY_LIMIT = 1.5  # coarsest / finest spacing above which a mask is resampled isotropically first
CURVATURE_SMOOTHING = 2.5  # normals and curvature for the shrinkage correction: this many times the smoothing


@dataclass(frozen=True, eq=False)
class SurfaceMesh:
    """A closed triangle mesh in world millimetres, faces oriented with outward normals.

    ``vertices_mm`` (N, 3), ``faces`` (M, 3) vertex indices. ``spacing_mm`` is the voxel spacing of the image it was
    extracted from (None for meshes built otherwise): the scale of its resolution error.
    """

    vertices_mm: np.ndarray
    faces: np.ndarray
    spacing_mm: np.ndarray | None = None

    def __post_init__(self):
        v = np.ascontiguousarray(self.vertices_mm, dtype=np.float64)
        f = np.ascontiguousarray(self.faces, dtype=np.int64)
        if v.ndim != 2 or v.shape[1] != 3 or f.ndim != 2 or f.shape[1] != 3:
            raise ValidationError("mesh", (v.shape, f.shape), "expected vertices (N, 3) and faces (M, 3)")
        if len(f) == 0:
            raise ValidationError("mesh.faces", "no faces", "the surface is empty")
        if f.min() < 0 or f.max() >= len(v):
            raise ValidationError("mesh.faces", "vertex index", "refers to a vertex that does not exist")
        if not np.all(np.isfinite(v)):
            raise ValidationError("mesh.vertices_mm", "non-finite", "contains NaN or infinite values")
        for arr in (v, f):
            arr.setflags(write=False)
        object.__setattr__(self, "vertices_mm", v)
        object.__setattr__(self, "faces", f)
        object.__setattr__(self, "_accel", None)

    # -- geometry -----------------------------------------------------------------------------------------------
    def _cross(self) -> np.ndarray:
        a, b, c = (self.vertices_mm[self.faces[:, k]] for k in range(3))
        return np.cross(b - a, c - a)

    @property
    def area_mm2(self) -> float:
        return float(0.5 * np.linalg.norm(self._cross(), axis=1).sum())

    @property
    def volume_mm3(self) -> float:
        """Enclosed volume (divergence theorem; positive for outward-oriented faces)."""
        a = self.vertices_mm[self.faces[:, 0]]
        return float(np.einsum("ij,ij->i", a, self._cross()).sum() / 6.0)

    def vertex_areas_mm2(self) -> np.ndarray:
        """Area each vertex stands for: a third of the area of the triangles around it."""
        tri = 0.5 * np.linalg.norm(self._cross(), axis=1)
        out = np.zeros(len(self.vertices_mm))
        for k in range(3):
            np.add.at(out, self.faces[:, k], tri / 3.0)
        return out

    def edges(self) -> np.ndarray:
        """Unique undirected edges (E, 2)."""
        e = np.sort(self.faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
        n = len(self.vertices_mm)
        key = np.unique(e[:, 0] * n + e[:, 1])
        return np.stack([key // n, key % n], axis=1)

    # -- distances ----------------------------------------------------------------------------------------------
    def signed_distance(self, points_mm) -> tuple[np.ndarray, np.ndarray]:
        """Exact signed distance (mm, > 0 outside) of each point to the mesh, and the closest mesh point."""
        pts = np.ascontiguousarray(np.asarray(points_mm, dtype=np.float64).reshape(-1, 3))
        if not np.all(np.isfinite(pts)):
            raise ValidationError("points_mm", "non-finite", "contains NaN or infinite values")
        acc = self._accel if self._accel is not None else self._build()
        tree, face_n, vert_n, edge_n, lo, cell, dims, ptr, idx = acc
        upper, _ = tree.query(pts, k=1)
        dist = np.empty(len(pts))
        closest = np.empty((len(pts), 3))
        signed_distances(
            pts, np.ascontiguousarray(upper, dtype=np.float64), self.vertices_mm, self.faces,
            face_n, vert_n, edge_n, lo, cell, dims, ptr, idx, dist, closest,
        )  # fmt: skip
        return dist, closest

    def _build(self):
        from scipy.spatial import cKDTree

        v, f = self.vertices_mm, self.faces
        cross = self._cross()
        dbl_area = np.linalg.norm(cross, axis=1)
        face_n = cross / np.maximum(dbl_area, 1e-300)[:, None]
        # angle-weighted vertex normals
        vert_n = np.zeros_like(v)
        for k in range(3):
            p, q, r = v[f[:, k]], v[f[:, (k + 1) % 3]], v[f[:, (k + 2) % 3]]
            u1, u2 = q - p, r - p
            cosang = np.einsum("ij,ij->i", u1, u2) / np.maximum(
                np.linalg.norm(u1, axis=1) * np.linalg.norm(u2, axis=1), 1e-300
            )
            np.add.at(vert_n, f[:, k], face_n * np.arccos(np.clip(cosang, -1.0, 1.0))[:, None])
        # edge normals: sum of the normals of the two faces sharing the edge (k: edge from corner k to k+1)
        n = len(v)
        a = f[:, [0, 1, 2]].ravel()
        b = f[:, [1, 2, 0]].ravel()
        key = np.minimum(a, b) * n + np.maximum(a, b)
        order = np.argsort(key, kind="stable")
        uniq, inv = np.unique(key[order], return_inverse=True)
        sums = np.zeros((len(uniq), 3))
        np.add.at(sums, inv, np.repeat(face_n, 3, axis=0)[order])
        edge_n = np.empty((len(key), 3))
        edge_n[order] = sums[inv]
        edge_n = edge_n.reshape(-1, 3, 3)
        # uniform cells of about two mean edge lengths
        mean_edge = float(np.mean(np.linalg.norm(v[f[:, 1]] - v[f[:, 0]], axis=1))) or 1.0
        lo = v.min(axis=0) - 1e-6
        extent = v.max(axis=0) + 1e-6 - lo
        cell = max(2.0 * mean_edge, float(extent.max()) / 256.0)
        dims = np.maximum(np.ceil(extent / cell).astype(np.int64), 1)
        ptr = np.zeros(int(np.prod(dims)) + 1, dtype=np.int64)
        dummy = np.zeros(0, dtype=np.int64)
        bin_triangles(v, f, lo, cell, dims, True, ptr, dummy)
        ptr = np.cumsum(ptr)
        idx = np.empty(int(ptr[-1]), dtype=np.int64)
        bin_triangles(v, f, lo, cell, dims, False, ptr, idx)
        acc = (cKDTree(v), face_n, vert_n, edge_n, lo, float(cell), dims, ptr, idx)
        object.__setattr__(self, "_accel", acc)
        return acc


def surface_from_mask(
    mask: Mask,
    *,
    smoothing_voxels: float = 1.5,
    correct_shrinkage: bool = True,
    name: str = "mask",
    within_mm=None,
) -> SurfaceMesh:
    """Smoothed surface of a binary mask (module docstring: Gaussian of ``smoothing_voxels``, 0.5 level).

    ``smoothing_voxels=0`` gives the unsmoothed marching-cubes surface through the midpoints between set and unset
    voxel centres. ``within_mm=(lower, upper)``: mesh only the part of the mask in that world box (the surface is
    closed near the box faces; use a box well beyond the region you measure). Raises ValidationError naming ``name``
    for an empty mask (or an empty part).
    """
    from scipy.ndimage import gaussian_filter

    if not isinstance(mask, Mask):
        raise ValidationError(name, mask, "expected an ablasim.Mask")
    if mask.is_empty():
        raise ValidationError(name, mask, "the mask is empty: it has no surface")
    sigma = as_float(smoothing_voxels, "smoothing_voxels", nonnegative=True, maximum=5.0)
    grid = mask.grid
    pad = int(np.ceil(3.0 * CURVATURE_SMOOTHING * sigma)) + 2
    lo, hi = mask.index_bounds()
    if within_mm is not None:
        blo, bhi = grid.index_box(*within_mm)
        lo, hi = np.maximum(lo, blo), np.minimum(hi, bhi)
        if np.any(hi <= lo) or not mask.array[tuple(slice(a, b) for a, b in zip(lo, hi))].any():
            raise ValidationError(name, mask, "has no voxel near the region measured")
    crop = mask.array[tuple(slice(a, b) for a, b in zip(lo, hi))]
    vol = np.pad(crop, pad)
    origin_idx = lo - pad  # grid index of vol[0, 0, 0]
    spacing = np.asarray(grid.spacing_mm, dtype=float)
    factor = np.ones(3)
    if spacing.max() > ANISOTROPY_LIMIT * spacing.min():
        vol, factor = _isotropic(vol, spacing, grid, name)
    if sigma > 0:
        field = gaussian_filter(vol.astype(np.float32), sigma, mode="constant", cval=0.0)
    else:
        field = vol.astype(np.float32)
    verts, faces = _contour(field, 0.5)
    if sigma > 0 and correct_shrinkage:
        verts = verts + _shrinkage_step(vol, verts, sigma)
    index = origin_idx + verts / factor
    return _oriented(grid.index_to_world(index), faces, spacing)


def _shrinkage_step(vol, verts, sigma):
    """Move each vertex outwards by the first-order shift of the 0.5 level under the Gaussian,
    ``sigma^2 (k1 + k2) / 2`` along the normal (working-grid voxels; the working grid is isotropic or nearly so).

    Normal and curvature come from the level set through the vertex of the mask smoothed more strongly
    (``CURVATURE_SMOOTHING`` times sigma): at that scale the voxel steps no longer show, and level sets of a
    smoothed shape are nested, so the level through the vertex has the curvature of the shrunk surface there."""
    from scipy.ndimage import gaussian_filter, map_coordinates

    g = gaussian_filter(vol.astype(np.float32), CURVATURE_SMOOTHING * sigma, mode="constant", cval=0.0)
    grads = np.gradient(g)
    coords = verts.T
    gv = np.stack([map_coordinates(d, coords, order=1) for d in grads], axis=1)
    hess = np.empty((len(verts), 3, 3))
    for a in range(3):
        second = np.gradient(grads[a])
        for b in range(a, 3):
            hess[:, a, b] = hess[:, b, a] = map_coordinates(second[b], coords, order=1)
    norm = np.maximum(np.linalg.norm(gv, axis=1), 1e-12)
    n = gv / norm[:, None]  # points inwards (the field increases inwards)
    lap = np.trace(hess, axis1=1, axis2=2)
    nhn = np.einsum("ni,nij,nj->n", n, hess, n)
    curv_sum = -(lap - nhn) / norm  # k1 + k2, > 0 where the surface is convex
    shift = 0.5 * sigma**2 * curv_sum
    shift = np.clip(shift, -sigma, sigma)  # first order only: never move farther than the smoothing scale
    return -shift[:, None] * n


def surface_from_field(values, grid: Grid, level: float = 0.5, *, name: str = "field") -> SurfaceMesh:
    """The surface ``values == level`` of a probability or partial-volume map on ``grid`` (inside: ``>= level``)."""
    arr = np.asarray(values, dtype=np.float32)
    if not isinstance(grid, Grid):
        raise ValidationError("grid", grid, "expected an ablasim.Grid")
    if arr.shape != grid.shape:
        raise ValidationError(name, f"array of shape {arr.shape}", f"must have the grid's shape {grid.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValidationError(name, "non-finite values", "contains NaN or infinite values")
    lev = as_float(level, "level")
    inside = arr >= lev
    if not inside.any():
        raise ValidationError(name, f"maximum {float(arr.max()):g}", f"no value reaches the level {lev:g}")
    lo, hi = Mask(inside, grid).index_bounds()
    crop = arr[tuple(slice(a, b) for a, b in zip(lo, hi))]
    below = min(float(arr.min()), lev) - 1.0
    vol = np.pad(crop, 1, constant_values=below)
    verts, faces = _contour(vol, lev)
    return _oriented(grid.index_to_world(lo - 1 + verts), faces, np.asarray(grid.spacing_mm, dtype=float))


def _isotropic(vol, spacing, grid, name):
    """Shape-based interpolation onto the finest spacing: signed distance (edt), trilinear, threshold at 0."""
    import edt
    from scipy.ndimage import map_coordinates

    h = float(spacing.min())
    factor = spacing / h
    shape = tuple(int(round((n - 1) * f)) + 1 for n, f in zip(vol.shape, factor))  # noqa: RUF046
    Grid(shape, h).check_fits(12, f"the isotropic resampling of {name}", field=f"{name}.grid.spacing_mm")
    arr = np.ascontiguousarray(vol, dtype=np.bool_)
    aniso = tuple(float(s) for s in spacing)
    inside = edt.edt(arr, anisotropy=aniso, black_border=False)
    outside = edt.edt(~arr, anisotropy=aniso, black_border=False)
    sdf = np.where(arr, inside, -outside).astype(np.float32)
    sdf -= np.where(arr, 0.5 * h, -0.5 * h).astype(np.float32)  # the boundary lies half-way between centres
    out = np.empty(shape, dtype=np.bool_)
    coords = [np.arange(n) / f for n, f in zip(shape, factor)]
    for i, x in enumerate(coords[0]):  # slab by slab: bounded memory
        pts = np.meshgrid([x], coords[1], coords[2], indexing="ij")
        out[i] = map_coordinates(sdf, [p.ravel() for p in pts], order=1).reshape(shape[1:]) > 0
    return out, factor


def _contour(field, level):
    from skimage.measure import marching_cubes

    verts, faces, _, _ = marching_cubes(field, level=level, allow_degenerate=False)
    return verts.astype(np.float64), faces.astype(np.int64)


def _oriented(vertices, faces, spacing) -> SurfaceMesh:
    mesh = SurfaceMesh(vertices, faces, spacing)
    if mesh.volume_mm3 < 0:  # a reflection in the grid direction (or the contour's convention) flips the faces
        mesh = SurfaceMesh(vertices, faces[:, ::-1].copy(), spacing)
    return mesh
