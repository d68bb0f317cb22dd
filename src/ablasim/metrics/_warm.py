"""Compile groups of the exact path's kernels on tiny cases, through the same code paths (and so with the same
argument types) as real measurements: the first-run helper runs some of them in a background process."""

from __future__ import annotations

import numba
import numpy as np

from ..geometry._sphere_mesh import hierarchy
from ..geometry.shapes import Ellipsoid
from . import exact
from ._covered import covered_search
from ._features import crease_graph
from ._interior import interior_search
from ._map_kernels import margin_map
from ._uncovered import uncovered_search
from .coverage import _coverage_kernel

__all__ = ["GROUPS", "compile_group", "compile_groups", "compile_shared", "entry_points"]

GROUPS = ("exact", "map", "uncovered", "interior")


def entry_points(group: str) -> list:
    """The kernels called from Python that a group compiles (their cache entries tell whether it is compiled)."""
    if group == "exact":
        return [covered_search]
    if group == "map":
        return [margin_map]
    if group == "uncovered":
        return [uncovered_search]
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


def compile_groups(groups, report: bool = True) -> None:
    """Compile each group in turn; with ``report``, print its name when done (a parent process compiling in the
    background waits on these lines). A background process imports only this module (``import ablasim`` is
    cheap), so that it starts compiling as early as possible."""
    for g in groups:
        compile_group(g)
        if report:
            print(g, flush=True)
