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


@kernel
def _closest_on_triangle(px, py, pz, verts, f, out):
    """Closest point to p on triangle f of the mesh (Voronoi regions of its vertices, edges and face), written
    to out; returns the squared distance."""
    ax, ay, az = verts[f[0], 0], verts[f[0], 1], verts[f[0], 2]
    bx, by, bz = verts[f[1], 0], verts[f[1], 1], verts[f[1], 2]
    cx, cy, cz = verts[f[2], 0], verts[f[2], 1], verts[f[2], 2]
    abx, aby, abz = bx - ax, by - ay, bz - az
    acx, acy, acz = cx - ax, cy - ay, cz - az
    apx, apy, apz = px - ax, py - ay, pz - az
    d1 = abx * apx + aby * apy + abz * apz
    d2 = acx * apx + acy * apy + acz * apz
    s = 0.0
    t = 0.0
    if d1 <= 0.0 and d2 <= 0.0:
        s, t = 0.0, 0.0
    else:
        bpx, bpy, bpz = px - bx, py - by, pz - bz
        d3 = abx * bpx + aby * bpy + abz * bpz
        d4 = acx * bpx + acy * bpy + acz * bpz
        cpx, cpy, cpz = px - cx, py - cy, pz - cz
        d5 = abx * cpx + aby * cpy + abz * cpz
        d6 = acx * cpx + acy * cpy + acz * cpz
        vc = d1 * d4 - d3 * d2
        vb = d5 * d2 - d1 * d6
        va = d3 * d6 - d5 * d4
        if d3 >= 0.0 and d4 <= d3:
            s, t = 1.0, 0.0
        elif vc <= 0.0 and d1 >= 0.0 and d3 <= 0.0:
            s, t = d1 / (d1 - d3), 0.0
        elif d6 >= 0.0 and d5 <= d6:
            s, t = 0.0, 1.0
        elif vb <= 0.0 and d2 >= 0.0 and d6 <= 0.0:
            s, t = 0.0, d2 / (d2 - d6)
        elif va <= 0.0 and (d4 - d3) >= 0.0 and (d5 - d6) >= 0.0:
            w = (d4 - d3) / ((d4 - d3) + (d5 - d6))
            s, t = 1.0 - w, w
        else:
            den = 1.0 / (va + vb + vc)
            s, t = vb * den, vc * den
    out[0] = ax + s * abx + t * acx
    out[1] = ay + s * aby + t * acy
    out[2] = az + s * abz + t * acz
    dx, dy, dz = px - out[0], py - out[1], pz - out[2]
    return dx * dx + dy * dy + dz * dz


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
        q = np.empty(3)
        best_t = np.inf
        # triangles around the vertex and its neighbours (the closest point may lie on a neighbouring face)
        for r in range(-1, vv_ptr[best_v + 1] - vv_ptr[best_v]):
            v = best_v if r < 0 else vv_idx[vv_ptr[best_v] + r]
            for k in range(vf_ptr[v], vf_ptr[v + 1]):
                d2 = _closest_on_triangle(px, py, pz, verts, faces[vf_idx[k]], q)
                if d2 < best_t:
                    best_t = d2
                    out_closest[i, 0], out_closest[i, 1], out_closest[i, 2] = q[0], q[1], q[2]
        out_dist[i] = math.sqrt(best_t)
