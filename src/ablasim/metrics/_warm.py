"""Compile groups of kernels on tiny cases, through the same code paths (and so with the same argument types) as
real measurements: the first-run helper runs some of them in a background process. The exact path's groups, and
the mask margin method's: "surface" (surfaces of masks, and the interior screening's distance transform) and
"mesh" (the triangle meshes' hierarchies, normals and exact distances)."""

from __future__ import annotations

import numba
import numpy as np

from ..geometry._kernels.distance import distance_to_false
from ..geometry._kernels.fields import derivatives_at
from ..geometry._kernels.sections import section_distances, section_labels
from ..geometry._kernels.slices import chord_runs, fill_columns, neighbour_areas
from ..geometry._kernels.smoothing import gaussian3, normal_blend
from ..geometry._kernels.triangles import bisect_level, build_bvh, mesh_normals, signed_distances
from ..geometry._slices import chord_partial_volume, column_partial_volume, gaussian
from ..geometry._sphere_mesh import hierarchy
from ..geometry.grid import Grid
from ..geometry.shapes import Ellipsoid
from ..geometry.surfaces import SurfaceMesh, surface_from_mask
from . import exact
from ._covered import covered_search
from ._features import crease_graph
from ._interior import interior_search
from ._map_kernels import margin_map
from ._uncovered import uncovered_search
from .coverage import _coverage_kernel

__all__ = ["GROUPS", "compile_group", "compile_groups", "compile_shared", "entry_points"]

GROUPS = ("exact", "map", "uncovered", "interior", "surface", "mesh")


def entry_points(group: str) -> list:
    """The kernels called from Python that a group compiles (their cache entries tell whether it is compiled)."""
    if group == "exact":
        return [covered_search]
    if group == "map":
        return [margin_map]
    if group == "uncovered":
        return [uncovered_search]
    if group == "surface":
        return [section_labels, section_distances, neighbour_areas, fill_columns, chord_runs, derivatives_at]
    if group == "mesh":
        return [gaussian3, normal_blend, distance_to_false, build_bvh, mesh_normals, signed_distances, bisect_level]
    return [interior_search, _coverage_kernel]


def compile_shared() -> None:
    """Compile the crease graph, which the exact and the map groups both call, by explicit signature: the process
    that compiles the exact group does this first, so that a process compiling the map group at the same time finds
    it in the cache instead of compiling it too. The argument types are those of the arrays the two callers pass
    (tests/test_firstrun.py checks that no second version gets compiled)."""
    h = hierarchy(1)
    pk = exact._Pack(Ellipsoid([0.0, 0.0, 0.0], [1.0, 1.0, 1.0]), [Ellipsoid.sphere([0.5, 0, 0], 1.0)])
    ints, floats2, ints2 = np.zeros(1, dtype=np.int64), np.zeros((1, 3)), np.zeros((1, 2), dtype=np.int64)
    args = (ints, ints, np.int64(0), h.face_edges, h.edges, h.vertices, pk.zc, pk.zr, pk.ze, ints, floats2, ints2)
    crease_graph.compile(tuple(numba.typeof(a) for a in (*args, ints2, ints)))


def compile_group(group: str) -> None:
    """Compile a group: "exact" (the covered search), "map" (the margin map), "uncovered" (the protrusion search),
    "interior" (the interior search and the coverage integral)."""
    if group in ("surface", "mesh"):
        _compile_mask_group(group)
        return
    tumor = Ellipsoid([0.0, 0.0, 0.0], [2.0, 1.5, 1.8])
    if group == "exact":
        compile_shared()
        exact.exact_margin(tumor, [Ellipsoid.sphere([0.5, 0, 0], 3.0)], resolution_mm=1.0, map_resolution_mm=None)
        return
    zones = [Ellipsoid.sphere(c, 1.5) for c in ([2, 0, 0], [-2, 0, 0], [0, 2, 0], [0, -2, 0])]
    pk = exact._Pack(tumor, zones)
    if group == "map":
        out = np.zeros(13)
        out[1] = 1.0
        exact._map_and_exclusion(tumor, pk, exact.hierarchy(2), 1.0, None, True, exact._Best(out, 0.0))
    elif group == "uncovered":
        exact._search(exact.uncovered_search, exact.hierarchy(2), pk, 1.0, 1.0)
    else:
        io = np.zeros(6)
        emin, emax = pk.ze.min(axis=1), pk.ze.max(axis=1)
        exact.interior_search(pk.tc, pk.tr, pk.te, pk.zc, pk.zr, pk.ze, emin, emax, 1.0, 0.0, io)
        exact._coverage(pk, 16)


def _compile_mask_group(group: str) -> None:
    """The mask margin method's groups (module docstring). Each starts with the kernels the other group's second
    step calls, so that when the two run at the same time each finds the other's first step in the cache: "surface"
    compiles the partial volumes (slice sections, crossings, chords), then whole surfaces of an ellipsoid's mask on
    an isotropic and a thick-slice grid; "mesh" compiles the Gaussian, the normal-weighted blend and the distance
    transform, then exact distances to a closed mesh built without them."""
    if group == "surface":
        shape = Ellipsoid([0.0, 0.0, 0.0], [3.0, 2.5, 2.0])
        grids = [Grid((16, 16, 16), sp, origin_mm=-8.0 * np.asarray(sp)) for sp in ((1.0,) * 3, (0.7, 0.7, 2.5))]
        vol = np.pad(shape.to_mask(grids[0]).array, 2)
        column_partial_volume(vol, np.ones(3), 0)
        chord_partial_volume(vol, (0.7, 0.7, 2.5), 2, 0)
        for grid in grids:
            surface_from_mask(shape.to_mask(grid)).vertex_areas_mm2()
        return
    vol = np.zeros((6, 6, 6), dtype=np.float32)
    gaussian(vol, np.ones(3), 2.0)
    normal_blend(vol, vol.copy(), vol.copy(), vol.copy(), np.ones(3), np.empty_like(vol))
    distance_to_false(np.ones((2, 2, 2), dtype=bool), 1.0, 1.0, 1.0, np.empty((2, 2, 2)))
    h = hierarchy(1)  # a closed triangle mesh of the unit sphere
    mesh = SurfaceMesh(h.vertices, h.faces)
    pts = np.array([[0.0, 0.0, 0.0], [2.0, 0.0, 0.0]])
    mesh.signed_distance(pts)
    mesh.distance(pts)
    mesh.level_crossings(pts[:1], pts[1:], 0.5)


def compile_groups(groups, report: bool = True) -> None:
    """Compile each group in turn; with ``report``, print its name when done (a parent process compiling in the
    background waits on these lines). A background process imports only this module (``import ablasim`` is
    cheap), so that it starts compiling as early as possible."""
    for g in groups:
        compile_group(g)
        if report:
            print(g, flush=True)
