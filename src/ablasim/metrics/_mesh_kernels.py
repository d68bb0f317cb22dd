"""Numba kernels: distances from points to a triangle mesh (the isosurface of an implicit zone).

Nearest-vertex search without a KD-tree (query points deep inside a closed surface are almost equidistant to all
of it, the worst case for KD-trees): the nearest of a decimated subset of vertices, then a greedy walk along mesh
edges to a vertex nearer than all its neighbours, then the exact closest point over the triangles around it.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from .._jit import kernel
from ..geometry._kernels.triangles import _closest


@kernel
def _d2(verts, v, px, py, pz):
    return (verts[v, 0] - px) ** 2 + (verts[v, 1] - py) ** 2 + (verts[v, 2] - pz) ** 2


@kernel(entry=True, parallel=True)
def points_to_mesh(points, verts, faces, vf_ptr, vf_idx, vv_ptr, vv_idx, coarse, out_dist, out_closest):
    """Distance from each point to the mesh and the closest mesh point."""
    for i in prange(points.shape[0]):
        px, py, pz = points[i, 0], points[i, 1], points[i, 2]
        best_v = coarse[0]
        best = _d2(verts, best_v, px, py, pz)
        for c in range(1, coarse.shape[0]):
            d = _d2(verts, coarse[c], px, py, pz)
            if d < best:
                best, best_v = d, coarse[c]
        moved = True
        while moved:  # greedy walk to a vertex nearer than all its neighbours
            moved = False
            for k in range(vv_ptr[best_v], vv_ptr[best_v + 1]):
                d = _d2(verts, vv_idx[k], px, py, pz)
                if d < best:
                    best, best_v, moved = d, vv_idx[k], True
        q = np.empty(4)
        best_t = np.inf
        # triangles around the vertex and its neighbours (the closest point may lie on a neighbouring face)
        for r in range(-1, vv_ptr[best_v + 1] - vv_ptr[best_v]):
            v = best_v if r < 0 else vv_idx[vv_ptr[best_v] + r]
            for k in range(vf_ptr[v], vf_ptr[v + 1]):
                f = faces[vf_idx[k]]
                d2 = _closest(
                    px,
                    py,
                    pz,
                    verts[f[0], 0],
                    verts[f[0], 1],
                    verts[f[0], 2],
                    verts[f[1], 0],
                    verts[f[1], 1],
                    verts[f[1], 2],
                    verts[f[2], 0],
                    verts[f[2], 1],
                    verts[f[2], 2],
                    q,
                )
                if d2 < best_t:
                    best_t = d2
                    out_closest[i, 0], out_closest[i, 1], out_closest[i, 2] = q[0], q[1], q[2]
        out_dist[i] = math.sqrt(best_t)
