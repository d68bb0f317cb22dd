"""Numba kernels: exact distances from points to a closed triangle mesh through a bounding-volume hierarchy.

The hierarchy (:mod:`ablasim.geometry._kernels.bvh`) bounds each node by its box and a slab. A query walks the
tree nearest bound first and skips a node only when its bound exceeds the best distance found so far by more than
the rounding of either (``SLACK``), so the result is the exact minimum of :func:`_closest` over all triangles, to
the last bit. The sign comes from the angle-weighted pseudo-normal of the closest
feature (face, edge or vertex; Baerentzen & Aanaes 2005), which is exact for a closed, consistently oriented mesh,
and for an open one wherever the closest feature is not on its rim.
"""

from __future__ import annotations

import math

import numpy as np

from ..._jit import kernel
from .bvh import build_bvh

# The margin, relative to the magnitude of the coordinates (the mesh's and the query point's), by which a node's
# bound must exceed the best distance found for the node to be skipped. Bounds and triangle distances are rounded
# to a few units of 2**-53 of the coordinates; 2**-40 is 8192 such units (2e-10 mm for a mesh and points within
# 100 mm of the origin), so rounding never hides a triangle, and the extra nodes it opens are negligible.
SLACK = 2.0**-40

__all__ = [
    "bisect_level",
    "build_bvh",
    "face_neighbours",
    "mesh_normals",
    "signed_distances",
    "unsigned_distances",
]


@kernel
def _closest(px, py, pz, ax, ay, az, bx, by, bz, cx, cy, cz, out):
    """Closest point to p on triangle abc (Voronoi regions of its vertices, edges and face).

    Writes the closest point to out[0:3] and the feature to out[3]: 0 face, 1/2/3 vertex a/b/c, 4 edge ab,
    5 edge bc, 6 edge ca. Returns the squared distance."""
    abx, aby, abz = bx - ax, by - ay, bz - az
    acx, acy, acz = cx - ax, cy - ay, cz - az
    apx, apy, apz = px - ax, py - ay, pz - az
    d1 = abx * apx + aby * apy + abz * apz
    d2 = acx * apx + acy * apy + acz * apz
    s = 0.0
    t = 0.0
    feat = 0
    if d1 <= 0.0 and d2 <= 0.0:
        feat = 1
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
            s, t, feat = 1.0, 0.0, 2
        elif vc <= 0.0 and d1 >= 0.0 and d3 <= 0.0:
            s, t, feat = d1 / (d1 - d3), 0.0, 4
        elif d6 >= 0.0 and d5 <= d6:
            s, t, feat = 0.0, 1.0, 3
        elif vb <= 0.0 and d2 >= 0.0 and d6 <= 0.0:
            s, t, feat = 0.0, d2 / (d2 - d6), 6
        elif va <= 0.0 and (d4 - d3) >= 0.0 and (d5 - d6) >= 0.0:
            w = (d4 - d3) / ((d4 - d3) + (d5 - d6))
            s, t, feat = 1.0 - w, w, 5
        else:
            den = 1.0 / (va + vb + vc)
            s, t = vb * den, vc * den
    out[0] = ax + s * abx + t * acx
    out[1] = ay + s * aby + t * acy
    out[2] = az + s * abz + t * acz
    out[3] = feat
    dx, dy, dz = px - out[0], py - out[1], pz - out[2]
    return dx * dx + dy * dy + dz * dz


@kernel(entry=True)
def face_neighbours(faces, n_verts):
    """The face across each edge k -> k+1 of each face: the one other face that has both its ends, -1 when there is
    none or more than one (a rim or a non-manifold edge). A face with a repeated vertex counts once per corner at
    the edge's first end (see :func:`_neighbours_at_degenerate`)."""
    m = faces.shape[0]
    # the edges, undirected, grouped by their lower vertex: each group holds the higher end and the slot 3 f + k
    ptr = np.zeros(n_verts + 1, dtype=np.int64)
    degenerate = False
    for f in range(m):
        a, b, c = faces[f, 0], faces[f, 1], faces[f, 2]
        degenerate = degenerate or a == b or b == c or c == a
        ptr[min(a, b) + 1] += 1
        ptr[min(b, c) + 1] += 1
        ptr[min(c, a) + 1] += 1
    for v in range(n_verts):
        ptr[v + 1] += ptr[v]
    fill = ptr[:-1].copy()
    other = np.empty(3 * m, dtype=np.int64)
    slot = np.empty(3 * m, dtype=np.int64)
    for f in range(m):
        for k in range(3):
            a, b = faces[f, k], faces[f, (k + 1) % 3]
            lo = min(a, b)
            other[fill[lo]] = max(a, b)
            slot[fill[lo]] = 3 * f + k
            fill[lo] += 1
    # within a group, the edges to the same higher vertex: a pair are each other's neighbours, one or more than two
    # have none (the counts and first two members per higher vertex, stamped with the group's vertex)
    stamp = np.full(n_verts, -1, dtype=np.int64)
    cnt = np.empty(n_verts, dtype=np.int64)
    e1 = np.empty(n_verts, dtype=np.int64)
    e2 = np.empty(n_verts, dtype=np.int64)
    nbr = np.full((m, 3), -1, dtype=np.int64)
    for v in range(n_verts):
        for i in range(ptr[v], ptr[v + 1]):
            w = other[i]
            if stamp[w] != v:
                stamp[w], cnt[w], e1[w] = v, 1, i
            else:
                cnt[w] += 1
                e2[w] = i
        for i in range(ptr[v], ptr[v + 1]):
            w = other[i]
            if cnt[w] == 2:
                j = e2[w] if e1[w] == i else e1[w]
                nbr[slot[i] // 3, slot[i] % 3] = slot[j] // 3
    if degenerate:
        _neighbours_at_degenerate(faces, n_verts, nbr)
    return nbr


@kernel
def _neighbours_at_degenerate(faces, n_verts, nbr):
    """Redo ``nbr`` by the rule that defines it where a face with a repeated vertex takes part: for the edge a -> b
    of face f, the faces g != f around a (once per corner of g at a) that contain b; the neighbour is g when there is
    exactly one. Elsewhere (both faces of the edge with three distinct vertices) this is the pairing of
    :func:`face_neighbours`. Only edges of such a face, or from a vertex of one, are redone."""
    m = faces.shape[0]
    touched = np.zeros(n_verts, dtype=np.bool_)
    ptr = np.zeros(n_verts + 1, dtype=np.int64)
    for f in range(m):
        a, b, c = faces[f, 0], faces[f, 1], faces[f, 2]
        if a == b or b == c or c == a:
            touched[a], touched[b], touched[c] = True, True, True
        for k in range(3):
            ptr[faces[f, k] + 1] += 1
    for v in range(n_verts):
        ptr[v + 1] += ptr[v]
    fill = ptr[:-1].copy()
    around = np.empty(3 * m, dtype=np.int64)
    for f in range(m):
        for k in range(3):
            around[fill[faces[f, k]]] = f
            fill[faces[f, k]] += 1
    for f in range(m):
        for k in range(3):
            a, b = faces[f, k], faces[f, (k + 1) % 3]
            if not touched[a]:
                continue
            found, n_found = -1, 0
            for j in range(ptr[a], ptr[a + 1]):
                g = around[j]
                if g != f and (faces[g, 0] == b or faces[g, 1] == b or faces[g, 2] == b):
                    found, n_found = g, n_found + 1
            nbr[f, k] = found if n_found == 1 else -1


@kernel(entry=True)
def mesh_normals(verts, faces, nbr):
    """Face normals, angle-weighted vertex normals and edge normals (sum of the two faces' normals; ``nbr[f, k]``
    is the face across edge k -> k+1 of face f, -1 when there is none).

    The angle at a corner between edges u and v is ``atan2(|u x v|, u . v)``, where ``|u x v|`` is twice the
    triangle's area, the same at all three corners (accurate at all angles, unlike an arc cosine near 0 and pi);
    the third angle is pi minus the other two (to rounding, clamped at 0)."""
    m = faces.shape[0]
    face_n = np.zeros((m, 3))
    vert_n = np.zeros((verts.shape[0], 3))
    for f in range(m):
        a, b, c = faces[f, 0], faces[f, 1], faces[f, 2]
        ux, uy, uz = verts[b, 0] - verts[a, 0], verts[b, 1] - verts[a, 1], verts[b, 2] - verts[a, 2]
        vx, vy, vz = verts[c, 0] - verts[a, 0], verts[c, 1] - verts[a, 1], verts[c, 2] - verts[a, 2]
        nx, ny, nz = uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx
        ln = math.sqrt(nx * nx + ny * ny + nz * nz)
        if not ln > 0.0:  # no area: no normal, and no weight at its corners
            continue
        nx, ny, nz = nx / ln, ny / ln, nz / ln
        face_n[f, 0], face_n[f, 1], face_n[f, 2] = nx, ny, nz
        wx, wy, wz = verts[c, 0] - verts[b, 0], verts[c, 1] - verts[b, 1], verts[c, 2] - verts[b, 2]
        ang_a = math.atan2(ln, ux * vx + uy * vy + uz * vz)  # between b - a and c - a
        ang_b = math.atan2(ln, -(ux * wx + uy * wy + uz * wz))  # between c - b and a - b
        ang_c = max(math.pi - ang_a - ang_b, 0.0)
        vert_n[a, 0] += ang_a * nx
        vert_n[a, 1] += ang_a * ny
        vert_n[a, 2] += ang_a * nz
        vert_n[b, 0] += ang_b * nx
        vert_n[b, 1] += ang_b * ny
        vert_n[b, 2] += ang_b * nz
        vert_n[c, 0] += ang_c * nx
        vert_n[c, 1] += ang_c * ny
        vert_n[c, 2] += ang_c * nz
    edge_n = np.empty((m, 3, 3))
    for f in range(m):
        for k in range(3):
            g = nbr[f, k]
            for a in range(3):
                edge_n[f, k, a] = face_n[f, a] + (face_n[g, a] if g >= 0 else 0.0)
    return face_n, vert_n, edge_n


@kernel
def _node_d2(bounds, n, px, py, pz):
    """Squared lower bound of the distance from p to node n's triangles: the larger of the distances to its box
    and to its slab."""
    gx = max(bounds[n, 0] - px, 0.0, px - bounds[n, 3])
    gy = max(bounds[n, 1] - py, 0.0, py - bounds[n, 4])
    gz = max(bounds[n, 2] - pz, 0.0, pz - bounds[n, 5])
    t = bounds[n, 6] * px + bounds[n, 7] * py + bounds[n, 8] * pz
    gs = max(bounds[n, 9] - t, 0.0, t - bounds[n, 10])
    return max(gx * gx + gy * gy + gz * gz, gs * gs)


@kernel
def _stacks(tree):
    """Room for the nodes a query keeps pending (allocated once per call, not per point): each step pops one node
    and pushes at most its two children, so no more than the tree's depth plus one."""
    n = tree[4] + 1
    return np.empty(n, dtype=np.int64), np.empty(n)


@kernel
def _limit(best2, slack):
    """The squared distance below which a node's bound cannot rule it out: ``(sqrt(best2) + slack)**2``."""
    d = math.sqrt(best2) + slack
    return d * d


@kernel
def _query(px, py, pz, tree, best2, q, bq, stack, stack_d2):
    """Nearest triangle to p within sqrt(best2): returns (squared distance, face, feature); face -1 when none.
    ``tree`` is the tuple from :func:`build_bvh`; ``q`` (4,) is scratch, ``bq`` (3,) receives the closest point;
    ``stack`` and ``stack_d2`` (:func:`_stacks`) hold the pending nodes and their bounds (each bound is computed
    once, when its node is pushed, and compared again with the best distance when it is popped).

    A node is skipped only when its bound exceeds the best distance by more than ``SLACK`` times the magnitude of
    the coordinates (the mesh's and p's): bound and triangle distances are both computed in rounded arithmetic, and
    a bound that rounding puts just above a triangle's computed distance must not hide it. The result is then the
    exact minimum of :func:`_closest` over all triangles, as a loop over all of them would give it."""
    order, bounds, links, tri, _ = tree
    size = max(-bounds[0, 0], -bounds[0, 1], -bounds[0, 2], bounds[0, 3], bounds[0, 4], bounds[0, 5], 0.0)
    slack = SLACK * (size + max(abs(px), abs(py), abs(pz)))
    lim2 = _limit(best2, slack)
    stack[0] = 0
    stack_d2[0] = _node_d2(bounds, 0, px, py, pz)
    sp = 1
    bf = -1
    bfeat = 0
    while sp > 0:
        sp -= 1
        if stack_d2[sp] >= lim2:
            continue
        n = stack[sp]
        c = links[n, 0]
        if c < 0:
            for k in range(links[n, 1], links[n, 1] + links[n, 2]):
                d2 = _closest(
                    px, py, pz,
                    tri[k, 0], tri[k, 1], tri[k, 2],
                    tri[k, 3], tri[k, 4], tri[k, 5],
                    tri[k, 6], tri[k, 7], tri[k, 8],
                    q,
                )  # fmt: skip
                if d2 < best2:
                    best2 = d2
                    lim2 = _limit(best2, slack)
                    bf = order[k]
                    bfeat = int(q[3])
                    bq[0], bq[1], bq[2] = q[0], q[1], q[2]
        else:
            dl = _node_d2(bounds, c, px, py, pz)
            dr = _node_d2(bounds, c + 1, px, py, pz)
            near, far, dn, dfar = c, c + 1, dl, dr
            if dr < dl:
                near, far, dn, dfar = c + 1, c, dr, dl
            if dfar < lim2:
                stack[sp], stack_d2[sp] = far, dfar
                sp += 1
            if dn < lim2:
                stack[sp], stack_d2[sp] = near, dn
                sp += 1
    return best2, bf, bfeat


@kernel
def _warm_bound(px, py, pz, i, bq):
    """A squared bound for the first search of point i: the distance to the previous point's closest mesh point
    ``bq`` (a point of the mesh, so no farther than the nearest one; enlarged by a relative 1e-9 so that the search,
    which keeps only triangles strictly nearer than its bound, still finds the nearest); inf for the first point.
    Successive points (marching-cubes vertices, voxel centres) are neighbours, so the bound is nearly tight and the
    search prunes from its first node."""
    if i == 0:
        return np.inf
    dx, dy, dz = px - bq[0], py - bq[1], pz - bq[2]
    return (dx * dx + dy * dy + dz * dz) * (1.0 + 1e-9) + 1e-18


@kernel(entry=True)
def signed_distances(points, verts, faces, tree, face_n, vert_n, edge_n, out_dist, out_closest):
    """Signed distance (> 0 outside) from each point to the mesh, and the closest mesh point."""
    q = np.empty(4)
    bq = np.empty(3)
    stack, stack_d2 = _stacks(tree)
    for i in range(points.shape[0]):
        px, py, pz = points[i, 0], points[i, 1], points[i, 2]
        best2, bf, bfeat = _query(px, py, pz, tree, _warm_bound(px, py, pz, i, bq), q, bq, stack, stack_d2)
        if bf < 0:  # nothing strictly within the bound (rounding): search unbounded
            best2, bf, bfeat = _query(px, py, pz, tree, np.inf, q, bq, stack, stack_d2)
        if bfeat == 0:
            nx, ny, nz = face_n[bf, 0], face_n[bf, 1], face_n[bf, 2]
        elif bfeat <= 3:
            v = faces[bf, bfeat - 1]
            nx, ny, nz = vert_n[v, 0], vert_n[v, 1], vert_n[v, 2]
        else:
            e = bfeat - 4
            nx, ny, nz = edge_n[bf, e, 0], edge_n[bf, e, 1], edge_n[bf, e, 2]
        dot = (px - bq[0]) * nx + (py - bq[1]) * ny + (pz - bq[2]) * nz
        d = math.sqrt(best2)
        out_dist[i] = d if dot >= 0.0 else -d
        out_closest[i, 0], out_closest[i, 1], out_closest[i, 2] = bq[0], bq[1], bq[2]


@kernel(entry=True)
def unsigned_distances(points, verts, faces, tree, out_dist):
    """Distance from each point to the mesh."""
    q = np.empty(4)
    bq = np.empty(3)
    stack, stack_d2 = _stacks(tree)
    for i in range(points.shape[0]):
        px, py, pz = points[i, 0], points[i, 1], points[i, 2]
        best2, bf, _ = _query(px, py, pz, tree, _warm_bound(px, py, pz, i, bq), q, bq, stack, stack_d2)
        if bf < 0:
            best2, _, _ = _query(px, py, pz, tree, np.inf, q, bq, stack, stack_d2)
        out_dist[i] = math.sqrt(best2)


@kernel(entry=True)
def bisect_level(a, b, verts, faces, tree, level, iterations, out):
    """Points on the segments a[i] -> b[i] where the distance to the mesh crosses ``level`` (``a`` farther than
    ``level``, ``b`` not): false position with the Illinois modification on the bracket, at most ``iterations``
    steps or until the bracket is shorter than 1e-9 of the segment; returns the end of the bracket that stays
    farther."""
    q = np.empty(4)
    bq = np.empty(3)
    stack, stack_d2 = _stacks(tree)
    for i in range(a.shape[0]):
        ax, ay, az = a[i, 0], a[i, 1], a[i, 2]
        dx, dy, dz = b[i, 0] - ax, b[i, 1] - ay, b[i, 2] - az
        fa = math.sqrt(_query(ax, ay, az, tree, np.inf, q, bq, stack, stack_d2)[0]) - level
        fb = math.sqrt(_query(b[i, 0], b[i, 1], b[i, 2], tree, np.inf, q, bq, stack, stack_d2)[0]) - level
        ta, tb = 0.0, 1.0
        side = 0
        for _ in range(iterations):
            if tb - ta < 1e-9:
                break
            t = tb - fb * (tb - ta) / (fb - fa) if fa > 0.0 and fb <= 0.0 and fa != fb else 0.5 * (ta + tb)
            if not (ta < t < tb):
                t = 0.5 * (ta + tb)
            ft = math.sqrt(_query(ax + t * dx, ay + t * dy, az + t * dz, tree, np.inf, q, bq, stack, stack_d2)[0])
            ft -= level
            if ft > 0.0:
                ta, fa = t, ft
                if side == 1:
                    fb *= 0.5
                side = 1
            else:
                tb, fb = t, ft
                if side == -1:
                    fa *= 0.5
                side = -1
        out[i, 0], out[i, 1], out[i, 2] = ax + ta * dx, ay + ta * dy, az + ta * dz
