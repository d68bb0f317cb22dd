"""Closed triangle meshes of segmented shapes, with exact signed point-to-mesh distances.

Surfaces from binary masks (:func:`surface_from_mask`), in three steps:

1. **Partial volume.** A binary mask only says on which side of the surface each voxel centre lies. Along each axis
   the columns of the mask cross the surface between two slices; shape-based interpolation (linear in the in-plane
   signed distance) places each crossing, warped so that the cross-section area follows a quadratic through three
   slices (exact for ellipsoids), and extrapolates caps (the top section of a component) from the same quadratic
   with a spherical prior (``ablasim.geometry._kernels.slices``). On a (near-)isotropic grid the three axes'
   partial volumes are averaged with the squared components of the surface normal as weights; on a grid whose
   coarsest spacing exceeds twice the finest, the thick axis is refined the same way (by the smallest whole factor
   that brings it within twice the finest), so that thick slices are joined by a smooth surface and caps do not
   stop at the last slice, and the acquired slices are resolved in-plane by the 2-D form of the same construction
   (squared chord lengths quadratic across rows, exact for ellipses), weighted in by the normal's components.
2. **Smoothing.** The partial volume is smoothed by a Gaussian of ``smoothing_voxels`` (default 1.5) voxels of the
   working grid (the cube root of its voxel volume), and its 0.5 level extracted by marching cubes (Lewiner's
   variant in scikit-image).
3. **Shrinkage correction.** A Gaussian moves the 0.5 level of a curved surface inwards, to first order by
   ``sigma^2 (k1 + k2) / 2`` (``sigma^2 / r`` on a sphere of radius ``r``). Each vertex is moved back out by the
   exact shift of a blurred ball whose level set has the vertex's mean curvature, measured on a copy smoothed 1.5
   times more.

Probability or partial-volume maps (:func:`surface_from_field`) need none of this: their ``level`` set is extracted
directly. Measured errors against analytic spheres and ellipsoids: docs/images.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .._validation import as_float
from ..errors import ValidationError
from ._kernels.fields import derivatives_at
from ._kernels.meshing import nondegenerate_faces, shrink_steps, vertex_areas
from ._kernels.triangles import (
    bisect_level,
    build_bvh,
    face_neighbours,
    mesh_normals,
    signed_distances,
    unsigned_distances,
)
from ._slices import gaussian, partial_volume, thick_slice_partial_volume
from .grid import Grid
from .mask import Mask

__all__ = ["SurfaceMesh", "smoothing_mm", "surface_from_field", "surface_from_mask", "working_spacing"]

ANISOTROPY_LIMIT = 2.0  # coarsest / finest spacing above which the thick axes are refined (to within it) first
CURVATURE_SCALE = 1.5  # normals and curvature for the shrinkage correction: this many times the smoothing


@dataclass(frozen=True, eq=False)
class SurfaceMesh:
    """A closed triangle mesh in world millimetres, faces oriented with outward normals.

    ``vertices_mm`` (N, 3), ``faces`` (M, 3) vertex indices. ``spacing_mm`` is the voxel spacing of the image it was
    extracted from (None for meshes built otherwise): the scale of its resolution error.
    """

    vertices_mm: np.ndarray
    faces: np.ndarray
    spacing_mm: np.ndarray | None = None
    _tree: tuple | None = field(default=None, init=False, repr=False)  # the hierarchy, built on the first query
    _normals: tuple | None = field(default=None, init=False, repr=False)  # pseudo-normals, on the first signed one

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
        out = np.zeros(len(self.vertices_mm))
        vertex_areas(self.vertices_mm, self.faces, out)
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
        pts = self._points(points_mm)
        tree = self._hierarchy()
        face_n, vert_n, edge_n = self._pseudo_normals()
        dist = np.empty(len(pts))
        closest = np.empty((len(pts), 3))
        if len(pts):
            signed_distances(pts, self.vertices_mm, self.faces, tree, face_n, vert_n, edge_n, dist, closest)
        return dist, closest

    def distance(self, points_mm) -> np.ndarray:
        """Exact unsigned distance (mm) of each point to the mesh."""
        pts = self._points(points_mm)
        tree = self._hierarchy()
        dist = np.empty(len(pts))
        if len(pts):
            unsigned_distances(pts, self.vertices_mm, self.faces, tree, dist)
        return dist

    def level_crossings(self, inner_mm, outer_mm, level_mm: float, iterations: int = 30) -> np.ndarray:
        """On each segment from ``inner_mm[i]`` (farther than ``level_mm`` from the mesh) to ``outer_mm[i]`` (not
        farther), the point where the distance crosses ``level_mm``, to ``2**-iterations`` of the segment (the
        end of the final bracket that stays farther)."""
        a, b = self._points(inner_mm), self._points(outer_mm)
        tree = self._hierarchy()
        out = np.empty_like(a)
        if len(a):
            bisect_level(a, b, self.vertices_mm, self.faces, tree, float(level_mm), int(iterations), out)
        return out

    @staticmethod
    def _points(points_mm) -> np.ndarray:
        pts = np.ascontiguousarray(np.asarray(points_mm, dtype=np.float64).reshape(-1, 3))
        if not pts.flags.writeable:  # one compiled version of the distance kernels (read-only arrays are another)
            pts = pts.copy()
        if not np.all(np.isfinite(pts)):
            raise ValidationError("points_mm", "non-finite", "contains NaN or infinite values")
        return pts

    def _hierarchy(self):
        if self._tree is None:
            object.__setattr__(self, "_tree", build_bvh(self.vertices_mm, self.faces))
        return self._tree

    def _pseudo_normals(self):
        if self._normals is not None:
            return self._normals
        nbr = face_neighbours(self.faces, len(self.vertices_mm))
        object.__setattr__(self, "_normals", mesh_normals(self.vertices_mm, self.faces, nbr))
        return self._normals


def surface_from_mask(
    mask: Mask,
    *,
    smoothing_voxels: float = 1.5,
    correct_shrinkage: bool = True,
    name: str = "mask",
    within_mm=None,
) -> SurfaceMesh:
    """Smooth surface of a binary mask (module docstring: partial volume, Gaussian of ``smoothing_voxels`` voxels,
    :func:`smoothing_mm`; 0.5 level, shrinkage corrected).

    ``smoothing_voxels=0`` gives the 0.5 level of the partial volume itself. ``within_mm=(lower, upper)``: mesh only
    the part of the mask in that world box, left open where the box cuts the mask (the mask is continued across the
    cut, so within about three smoothing widths and a voxel of it the surface is not the mask's; farther away the
    cut changes it only through the areas of the sections it truncates, by at most 0.02 mm in the tests). A mask
    too small for the smoothing (no value of the smoothed volume reaches one half) is smoothed less. Raises
    ValidationError naming ``name`` for an empty mask (or an empty part).
    """
    if not isinstance(mask, Mask):
        raise ValidationError(name, mask, "expected an ablasim.Mask")
    sigma = as_float(smoothing_voxels, "smoothing_voxels", nonnegative=True, maximum=5.0)
    if within_mm is None:
        if mask.is_empty():
            raise ValidationError(name, mask, "the mask is empty: it has no surface")
        lo, hi = mask.index_bounds()
    else:
        lo, hi = mask.grid.index_box(*within_mm)
        box = crop_bounds(mask.array, lo, hi)
        if box is None:
            raise ValidationError(name, mask, "has no voxel near the region measured")
        lo, hi = box
    return mesh_mask(mask, lo, hi, sigma, correct_shrinkage, name)


def crop_bounds(array: np.ndarray, lo, hi) -> tuple[np.ndarray, np.ndarray] | None:
    """The index box ``[lo', hi')`` of the set voxels of ``array`` within ``[lo, hi)``; None when there are none."""
    lo, hi = np.maximum(np.asarray(lo), 0), np.minimum(np.asarray(hi), array.shape)
    if np.any(hi <= lo):
        return None
    crop = array[tuple(slice(a, b) for a, b in zip(lo, hi))]
    rows = np.any(crop, axis=2)
    i = np.flatnonzero(np.any(rows, axis=1))
    if len(i) == 0:
        return None
    j = np.flatnonzero(np.any(rows, axis=0))
    k = np.flatnonzero(np.any(crop[i[0] : i[-1] + 1, j[0] : j[-1] + 1], axis=(0, 1)))
    return lo + np.array([i[0], j[0], k[0]]), lo + np.array([i[-1] + 1, j[-1] + 1, k[-1] + 1])


def cut_faces(array: np.ndarray, lo, hi) -> tuple[np.ndarray, np.ndarray]:
    """Per axis, whether the box ``[lo, hi)`` cuts the set voxels of ``array`` at its lower and upper face (a set
    voxel lies just outside it, within the box's extent along the other axes)."""
    cut_lo, cut_hi = np.zeros(3, dtype=bool), np.zeros(3, dtype=bool)
    for axis in range(3):
        inner = [slice(a, b) for a, b in zip(lo, hi)]
        if lo[axis] > 0:
            inner[axis] = slice(lo[axis] - 1, lo[axis])
            cut_lo[axis] = bool(array[tuple(inner)].any())
        if hi[axis] < array.shape[axis]:
            inner[axis] = slice(hi[axis], hi[axis] + 1)
            cut_hi[axis] = bool(array[tuple(inner)].any())
    return cut_lo, cut_hi


def mesh_mask(mask: Mask, lo, hi, sigma: float, correct_shrinkage: bool, name: str) -> SurfaceMesh:
    """:func:`surface_from_mask` of the part of ``mask`` in the index box ``[lo, hi)``, which holds set voxels:
    where a set voxel lies just outside a face of the box the mask is cut there, continued across it and the
    surface left open (for callers that already know the box)."""
    grid = mask.grid
    arr = mask.array
    spacing = np.asarray(grid.spacing_mm, dtype=float)
    lo, hi = np.asarray(lo, dtype=np.int64), np.asarray(hi, dtype=np.int64)
    cut_lo, cut_hi = cut_faces(arr, lo, hi)
    within = bool(cut_lo.any() or cut_hi.any())
    vol = np.pad(mask.array[tuple(slice(a, b) for a, b in zip(lo, hi))], 2)  # vol[0, 0, 0]: grid index lo - 2
    for axis in range(3):  # where the box cuts the mask, the mask continues beyond it (an open surface)
        if cut_lo[axis]:
            vol[(slice(None),) * axis + (slice(0, 2),)] = vol[(slice(None),) * axis + (slice(2, 3),)]
        if cut_hi[axis]:
            vol[(slice(None),) * axis + (slice(-2, None),)] = vol[(slice(None),) * axis + (slice(-3, -2),)]
    sigma_mm = smoothing_mm(spacing, sigma)
    if spacing.max() > ANISOTROPY_LIMIT * spacing.min():
        Grid(vol.shape, spacing).check_fits(40 * float(spacing.max() / spacing.min()), f"the refinement of {name}")
        pv, factor, work = thick_slice_partial_volume(
            vol, spacing, ANISOTROPY_LIMIT, max(sigma_mm, 0.5 * float(spacing.min()))
        )
    else:
        pv, factor, work = partial_volume(vol, spacing, max(sigma_mm, 0.5 * float(spacing.min()))), np.ones(3), spacing
    # room for the 0.5 level of the smoothed volume, which may lie outside the mask where it is concave (the
    # Gaussians treat the volume as zero beyond its faces, as it is, so they need no more)
    pads = np.ceil(1.5 * sigma_mm / work).astype(np.int64) + 1
    pv = np.pad(pv, [(p, p) for p in pads], mode="edge" if within else "constant")
    for s_mm in (sigma_mm, 0.5 * sigma_mm, 0.0):
        field = gaussian(pv, s_mm / work, truncate=3.5, nearest=within) if s_mm > 0 else pv
        if float(field.max()) > 0.5:
            break
    verts, faces = _contour(field, 0.5)
    if s_mm > 0 and correct_shrinkage:
        verts = verts + _shrinkage_step(field, verts, s_mm, work, within)
    index = (lo - 2) + (verts - pads) / factor
    return _oriented(grid.index_to_world(index), faces, grid)


def working_spacing(spacing_mm) -> np.ndarray:
    """The spacing :func:`surface_from_mask` works on: every axis thicker than ``ANISOTROPY_LIMIT`` times the
    finest divided by the smallest whole factor that brings it within that limit."""
    sp = np.asarray(spacing_mm, dtype=float)
    h = float(sp.min())
    return np.where(sp > ANISOTROPY_LIMIT * h, sp / np.ceil(sp / (ANISOTROPY_LIMIT * h)), sp)


def smoothing_mm(spacing_mm, smoothing_voxels: float) -> float:
    """The standard deviation (mm) of the Gaussian: ``smoothing_voxels`` times the working grid's voxel size (the
    cube root of its voxel volume; the spacing itself on an isotropic grid)."""
    return float(smoothing_voxels) * float(np.prod(working_spacing(spacing_mm))) ** (1.0 / 3.0)


@lru_cache(maxsize=1)
def _ball_table() -> tuple[np.ndarray, np.ndarray]:
    """The 0.5 level of a ball of radius R blurred by a unit Gaussian lies at radius rho < R. Tabulated as
    x = 1 / rho (the blurred level set's mean curvature times sigma) -> y = R - rho (the shift, in sigma)."""
    from scipy.special import erf

    def blurred(rho, r):  # the blurred indicator at distance rho from the centre (sigma = 1)
        a, b = (r - rho) / np.sqrt(2.0), (r + rho) / np.sqrt(2.0)
        return 0.5 * (erf(a) + erf(b)) - (np.exp(-a * a) - np.exp(-b * b)) / (rho * np.sqrt(2.0 * np.pi))

    r = np.concatenate([np.linspace(1.56, 3.0, 150), np.geomspace(3.0, 1e4, 150)[1:]])  # centre > 0.5: r > 1.538
    lo, hi = np.full_like(r, 1e-6), r.copy()
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        inside = blurred(mid, r) > 0.5
        lo, hi = np.where(inside, mid, lo), np.where(inside, hi, mid)
    rho = 0.5 * (lo + hi)
    x, y = 1.0 / rho, r - rho
    order = np.argsort(x)
    return np.concatenate([[0.0], x[order]]), np.concatenate([[0.0], y[order]])


def _shrinkage_step(field, verts, sigma_mm, spacing, nearest=False):
    """Move each vertex outwards by the shift of the 0.5 level under the Gaussian: the shift of a blurred ball
    whose level set has the vertex's mean curvature (``_ball_table``; to first order ``sigma^2 (k1 + k2) / 2``;
    negative where the surface is concave, by symmetry of the complement).

    Normal and curvature come from the level set through the vertex of the volume smoothed ``CURVATURE_SCALE``
    times more (where the voxel steps no longer show; level sets of a smoothed ball stay concentric, so the level
    through the vertex has the curvature of the shrunk surface there)."""
    extra = sigma_mm * np.sqrt(CURVATURE_SCALE**2 - 1.0)
    g = gaussian(field, extra / spacing, truncate=3.0, nearest=nearest)
    sp = np.array(spacing, dtype=np.float64)  # writable: one compiled version of the kernels
    der = np.empty((len(verts), 9))
    derivatives_at(g, np.ascontiguousarray(verts), sp, der)
    x, y = _ball_table()
    step = np.empty((len(verts), 3))
    shrink_steps(der, float(sigma_mm), x, y, sp, step)
    return step


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
    return _oriented(grid.index_to_world(lo - 1 + verts), faces, grid)


def _contour(field, level):
    """Marching cubes at ``level``, without the triangles of zero area (removed here: faster than asking
    scikit-image to)."""
    from skimage.measure import marching_cubes

    above = field > level  # only the box of cells the level passes through (a cropped organ is mostly inside)
    lo = np.zeros(3, dtype=np.int64)
    hi = np.asarray(field.shape, dtype=np.int64)
    for axis in range(3):
        planes = np.flatnonzero(np.any(np.diff(above, axis=axis), axis=tuple(a for a in range(3) if a != axis)))
        if len(planes):
            lo[axis] = max(planes[0] - 1, 0)
            hi[axis] = min(planes[-1] + 3, field.shape[axis])
    sub = field[tuple(slice(a, b) for a, b in zip(lo, hi))]
    verts, faces, _, _ = marching_cubes(sub, level=level, allow_degenerate=True)
    verts = verts.astype(np.float64) + lo
    return verts, nondegenerate_faces(verts, np.ascontiguousarray(faces, dtype=np.int64))


def _oriented(vertices, faces, grid: Grid) -> SurfaceMesh:
    """Outward faces in the world: scikit-image orients them inwards in index space for a field that is high
    inside, and a reflected grid direction flips them once more."""
    if np.linalg.det(grid.direction) > 0:
        faces = faces[:, ::-1]
    return SurfaceMesh(vertices, np.ascontiguousarray(faces), np.asarray(grid.spacing_mm, dtype=float))
