"""Numba kernel: the bounding-volume hierarchy over a triangle mesh that the distance queries of
:mod:`ablasim.geometry._kernels.triangles` walk.

The hierarchy splits the triangles top-down at the middle of their centroids' extent along its longest axis (leaves
of at most ``LEAF`` triangles). Each node is bounded by its box and by a slab normal to the mean normal of its
triangles (much tighter than the box for points facing a curved patch, such as points deep inside a zone, all
nearly equidistant from a large part of it).

Layout, chosen for the queries (each node's bounds in one row, the triangles' corners in the order the leaves list
them, so that a query reads memory mostly in sequence): :func:`build_bvh` returns
``(order, bounds, links, tri, depth)``.

- ``order`` (M,): the face indices in leaf order;
- ``bounds`` (nodes, 11): per node its box ``lo`` (0:3) and ``hi`` (3:6), and its slab: unit normal (6:9) and the
  range of its triangles' projections on it (9, 10); unbounded (normal 0, range -inf..inf) where the normals
  cancel. Every node has its slab: at the upper levels too it prunes most of a curved surface for points deep
  inside it (measured on a 15 mm sphere from a 1 mm mask: 73 nodes opened per query instead of 132 with slabs
  only on nodes of at most 64 triangles);
- ``links`` (nodes, 3): per node its first child (the two children are consecutive; -1 for a leaf), and the start
  and count of its range of ``order``;
- ``tri`` (M, 9): the corners a, b, c of face ``order[k]`` in row k;
- ``depth``: the number of edges on the longest path from the root to a leaf (a query's stack holds at most
  ``depth + 1`` pending nodes).
"""

from __future__ import annotations

import math

import numpy as np

from ..._jit import kernel

LEAF = 4  # triangles per leaf at most (measured: 2, 3, 4 and 6 on sphere and ellipsoid meshes from masks at 1,
# 0.5 and 0.7 x 0.7 x 2.5 mm; 4 gave the shortest build plus queries)


@kernel
def _centroids(verts, faces, cen):
    """Each face's centroid; returns the centroids' extent (lo, hi per axis)."""
    lx, ly, lz, hx, hy, hz = np.inf, np.inf, np.inf, -np.inf, -np.inf, -np.inf
    for f in range(faces.shape[0]):
        a, b, c = faces[f, 0], faces[f, 1], faces[f, 2]
        for t in range(3):
            cen[f, t] = (verts[a, t] + verts[b, t] + verts[c, t]) / 3.0
        lx, ly, lz = min(lx, cen[f, 0]), min(ly, cen[f, 1]), min(lz, cen[f, 2])
        hx, hy, hz = max(hx, cen[f, 0]), max(hy, cen[f, 1]), max(hz, cen[f, 2])
    return lx, ly, lz, hx, hy, hz


@kernel
def _partition(order, cen, s0, c0, axis, mid, buf):
    """Put the triangles of ``order[s0:s0+c0]`` whose centroid lies below ``mid`` along ``axis`` first (in their
    order), the others after them (in reverse order); returns how many lie below. Branch-free: each triangle is
    written to both ends of ``buf`` and the comparison only moves one of the ends (a branch on the comparison
    would be mispredicted about every other triangle)."""
    lo, hi = s0, s0 + c0 - 1
    for k in range(s0, s0 + c0):
        o = order[k]
        below = cen[o, axis] < mid
        buf[lo] = o
        buf[hi] = o
        lo += np.int64(below)
        hi -= np.int64(not below)
    for k in range(s0, s0 + c0):
        order[k] = buf[k]
    return lo - s0


@kernel
def _median_split(order, cen, s0, c0, axis):
    """Sort ``order[s0:s0+c0]`` by centroid along ``axis`` and return the half (when the middle split leaves a side
    empty: all centroids at one place)."""
    sub = order[s0 : s0 + c0].copy()
    keys = np.empty(c0)
    for k in range(c0):
        keys[k] = cen[sub[k], axis]
    idx = np.argsort(keys)
    for k in range(c0):
        order[s0 + k] = sub[idx[k]]
    return c0 // 2


@kernel
def _split(order, cen, links, ext):
    """The top-down splits; ``ext`` holds the root's centroid extent. Returns the number of nodes and the depth
    (edges on the longest path from the root to a leaf)."""
    m = order.shape[0]
    stack = np.empty(2 * m + 1, dtype=np.int64)
    level = np.empty(2 * m + 1, dtype=np.int64)
    depth = 0
    buf = np.empty(m, dtype=np.int64)
    links[0, 0], links[0, 1], links[0, 2] = -1, 0, m
    nodes = 1
    stack[0], level[0] = 0, 0
    sp = 1
    first = True
    while sp > 0:
        sp -= 1
        n, lv = stack[sp], level[sp]
        depth = max(depth, lv)
        s0, c0 = links[n, 1], links[n, 2]
        if c0 <= LEAF:
            continue
        if first:
            lx, ly, lz, hx, hy, hz = ext[0], ext[1], ext[2], ext[3], ext[4], ext[5]
            first = False
        else:
            lx, ly, lz, hx, hy, hz = np.inf, np.inf, np.inf, -np.inf, -np.inf, -np.inf
            for k in range(s0, s0 + c0):
                f = order[k]
                x, y, z = cen[f, 0], cen[f, 1], cen[f, 2]
                lx, ly, lz = min(lx, x), min(ly, y), min(lz, z)
                hx, hy, hz = max(hx, x), max(hy, y), max(hz, z)
        axis, lo, hi = 0, lx, hx
        if hy - ly > hi - lo:
            axis, lo, hi = 1, ly, hy
        if hz - lz > hi - lo:
            axis, lo, hi = 2, lz, hz
        split = _partition(order, cen, s0, c0, axis, 0.5 * (lo + hi), buf)
        if split == 0 or split == c0:
            split = _median_split(order, cen, s0, c0, axis)
        left = nodes
        nodes += 2
        links[n, 0] = left
        links[left, 0], links[left, 1], links[left, 2] = -1, s0, split
        links[left + 1, 0], links[left + 1, 1], links[left + 1, 2] = -1, s0 + split, c0 - split
        stack[sp], level[sp] = left, lv + 1
        stack[sp + 1], level[sp + 1] = left + 1, lv + 1
        sp += 2
    return nodes, depth


@kernel
def _boxes(links, tri, bounds):
    """Node boxes (``bounds[:, 0:6]``) and sums of the triangles' area-weighted normals (``bounds[:, 6:9]``, made
    unit by :func:`_slabs`), bottom-up: children have larger indices than their parent."""
    for n in range(bounds.shape[0] - 1, -1, -1):
        c = links[n, 0]
        if c < 0:
            lx, ly, lz, hx, hy, hz = np.inf, np.inf, np.inf, -np.inf, -np.inf, -np.inf
            sx, sy, sz = 0.0, 0.0, 0.0
            for k in range(links[n, 1], links[n, 1] + links[n, 2]):
                ax, ay, az = tri[k, 0], tri[k, 1], tri[k, 2]
                bx, by, bz = tri[k, 3], tri[k, 4], tri[k, 5]
                cx, cy, cz = tri[k, 6], tri[k, 7], tri[k, 8]
                lx, ly, lz = min(lx, ax, bx, cx), min(ly, ay, by, cy), min(lz, az, bz, cz)
                hx, hy, hz = max(hx, ax, bx, cx), max(hy, ay, by, cy), max(hz, az, bz, cz)
                ux, uy, uz = bx - ax, by - ay, bz - az
                vx, vy, vz = cx - ax, cy - ay, cz - az
                sx, sy, sz = sx + (uy * vz - uz * vy), sy + (uz * vx - ux * vz), sz + (ux * vy - uy * vx)
            bounds[n, 0], bounds[n, 1], bounds[n, 2], bounds[n, 3], bounds[n, 4], bounds[n, 5] = lx, ly, lz, hx, hy, hz
            bounds[n, 6], bounds[n, 7], bounds[n, 8] = sx, sy, sz
        else:
            for t in range(3):
                bounds[n, t] = min(bounds[c, t], bounds[c + 1, t])
                bounds[n, 3 + t] = max(bounds[c, 3 + t], bounds[c + 1, 3 + t])
                bounds[n, 6 + t] = bounds[c, 6 + t] + bounds[c + 1, 6 + t]


@kernel
def _slabs(links, tri, bounds):
    """Each node's slab (``bounds[:, 6:11]``): its triangles lie between two planes normal to their mean normal."""
    for n in range(bounds.shape[0]):
        ln = math.sqrt(bounds[n, 6] ** 2 + bounds[n, 7] ** 2 + bounds[n, 8] ** 2)
        if ln == 0.0:  # no mean normal
            bounds[n, 6], bounds[n, 7], bounds[n, 8], bounds[n, 9], bounds[n, 10] = 0.0, 0.0, 0.0, -np.inf, np.inf
            continue
        nx, ny, nz = bounds[n, 6] / ln, bounds[n, 7] / ln, bounds[n, 8] / ln
        smin, smax = np.inf, -np.inf
        for k in range(links[n, 1], links[n, 1] + links[n, 2]):
            t0 = nx * tri[k, 0] + ny * tri[k, 1] + nz * tri[k, 2]
            t1 = nx * tri[k, 3] + ny * tri[k, 4] + nz * tri[k, 5]
            t2 = nx * tri[k, 6] + ny * tri[k, 7] + nz * tri[k, 8]
            smin = min(smin, min(t0, t1, t2))
            smax = max(smax, max(t0, t1, t2))
        bounds[n, 6], bounds[n, 7], bounds[n, 8], bounds[n, 9], bounds[n, 10] = nx, ny, nz, smin, smax


@kernel(entry=True)
def build_bvh(verts, faces):
    """The hierarchy over the triangles (module docstring): ``(order, bounds, links, tri, depth)``."""
    m = faces.shape[0]
    cen = np.empty((m, 3))
    ext = np.empty(6)
    ext[0], ext[1], ext[2], ext[3], ext[4], ext[5] = _centroids(verts, faces, cen)
    order = np.arange(m)
    links = np.empty((2 * m + 1, 3), dtype=np.int64)
    nodes, depth = _split(order, cen, links, ext)
    links = links[:nodes].copy()
    tri = np.empty((m, 9))
    for k in range(m):
        f = order[k]
        for c in range(3):
            v = faces[f, c]
            tri[k, 3 * c], tri[k, 3 * c + 1], tri[k, 3 * c + 2] = verts[v, 0], verts[v, 1], verts[v, 2]
    bounds = np.empty((nodes, 11))
    _boxes(links, tri, bounds)
    _slabs(links, tri, bounds)
    return order, bounds, links, tri, depth
