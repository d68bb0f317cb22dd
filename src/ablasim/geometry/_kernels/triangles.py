"""Numba kernels: exact distances from points to a closed triangle mesh through a bounding-volume hierarchy.

The hierarchy splits the triangles top-down at the middle of their centroids' extent (leaves of at most ``LEAF``
triangles). Each node is bounded by its box and by a slab normal to the mean normal of its triangles (much tighter
than the box for points facing a curved patch, such as points deep inside a zone, all nearly equidistant from a
large part of it). A query walks the tree nearest bound first and skips every node whose bound is farther than the
best triangle found so far, so the result is the exact minimum over all triangles. The sign comes from the
angle-weighted pseudo-normal of the closest feature (face, edge or vertex; Baerentzen & Aanaes 2005), which is exact
for a closed, consistently oriented mesh, and for an open one wherever the closest feature is not on its rim.
"""

from __future__ import annotations

import math

import numpy as np

from ..._jit import kernel

LEAF = 2


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


SLAB_MAX = 64  # nodes of at most this many triangles get a slab (larger ones are opened near any query anyway)


@kernel(entry=True)
def build_bvh(verts, faces):
    """Bounding-volume hierarchy over the triangles: top-down, each node's triangles split at the middle of their
    centroids' extent along its longest axis (at the median when that leaves a side empty), leaves of at most
    ``LEAF`` triangles. Returns the triangle order, node boxes ``lo``/``hi``, per node ``child`` (the first of two
    consecutive children; -1 for a leaf), ``start`` and ``count`` (its range of the order), and ``slab`` (unit
    normal and the range of its triangles' projections on it; unbounded for nodes of more than ``SLAB_MAX``)."""
    m = faces.shape[0]
    cen = np.empty((m, 3))
    tlo = np.empty((m, 3))
    thi = np.empty((m, 3))
    tn = np.empty((m, 3))  # area-weighted face normals
    for f in range(m):
        a, b, c = faces[f, 0], faces[f, 1], faces[f, 2]
        for t in range(3):
            x0, x1, x2 = verts[a, t], verts[b, t], verts[c, t]
            cen[f, t] = (x0 + x1 + x2) / 3.0
            tlo[f, t] = min(x0, x1, x2)
            thi[f, t] = max(x0, x1, x2)
        ux, uy, uz = verts[b, 0] - verts[a, 0], verts[b, 1] - verts[a, 1], verts[b, 2] - verts[a, 2]
        vx, vy, vz = verts[c, 0] - verts[a, 0], verts[c, 1] - verts[a, 1], verts[c, 2] - verts[a, 2]
        tn[f, 0], tn[f, 1], tn[f, 2] = uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx
    order = np.arange(m)
    cap = 2 * m + 1
    child = np.full(cap, -1, dtype=np.int64)
    start = np.zeros(cap, dtype=np.int64)
    count = np.zeros(cap, dtype=np.int64)
    stack = np.empty(cap, dtype=np.int64)
    start[0], count[0] = 0, m
    nodes = 1
    stack[0] = 0
    sp = 1
    clo = np.empty(3)
    chi = np.empty(3)
    while sp > 0:
        sp -= 1
        n = stack[sp]
        s0, c0 = start[n], count[n]
        if c0 <= LEAF:
            continue
        clo[:] = np.inf
        chi[:] = -np.inf
        for k in range(s0, s0 + c0):
            f = order[k]
            for t in range(3):
                clo[t] = min(clo[t], cen[f, t])
                chi[t] = max(chi[t], cen[f, t])
        axis = 0
        for t in range(1, 3):
            if chi[t] - clo[t] > chi[axis] - clo[axis]:
                axis = t
        mid = 0.5 * (clo[axis] + chi[axis])
        i, j = s0, s0 + c0 - 1
        while i <= j:  # partition: centroids below the middle first
            if cen[order[i], axis] < mid:
                i += 1
            else:
                order[i], order[j] = order[j], order[i]
                j -= 1
        split = i - s0
        if split == 0 or split == c0:  # all on one side: split the sorted range at its median
            sub = order[s0 : s0 + c0].copy()
            keys = np.empty(c0)
            for k in range(c0):
                keys[k] = cen[sub[k], axis]
            idx = np.argsort(keys)
            for k in range(c0):
                order[s0 + k] = sub[idx[k]]
            split = c0 // 2
        left = nodes
        nodes += 2
        child[n] = left
        start[left], count[left] = s0, split
        start[left + 1], count[left + 1] = s0 + split, c0 - split
        stack[sp] = left
        stack[sp + 1] = left + 1
        sp += 2
    # boxes and normal sums bottom-up (children have larger indices than their parent)
    lo = np.empty((nodes, 3))
    hi = np.empty((nodes, 3))
    nsum = np.zeros((nodes, 3))
    for n in range(nodes - 1, -1, -1):
        c = child[n]
        if c < 0:
            for t in range(3):
                lo[n, t], hi[n, t] = np.inf, -np.inf
            for k in range(start[n], start[n] + count[n]):
                f = order[k]
                for t in range(3):
                    lo[n, t] = min(lo[n, t], tlo[f, t])
                    hi[n, t] = max(hi[n, t], thi[f, t])
                    nsum[n, t] += tn[f, t]
        else:
            for t in range(3):
                lo[n, t] = min(lo[c, t], lo[c + 1, t])
                hi[n, t] = max(hi[c, t], hi[c + 1, t])
                nsum[n, t] = nsum[c, t] + nsum[c + 1, t]
    # a slab per node: its triangles lie between two planes normal to their mean normal, a much tighter bound than
    # the box for points facing a curved patch
    slab = np.empty((nodes, 5))
    for n in range(nodes):
        ln = math.sqrt(nsum[n, 0] ** 2 + nsum[n, 1] ** 2 + nsum[n, 2] ** 2)
        if count[n] > SLAB_MAX or ln == 0.0:
            slab[n, 0], slab[n, 1], slab[n, 2], slab[n, 3], slab[n, 4] = 0.0, 0.0, 0.0, -np.inf, np.inf
            continue
        nx, ny, nz = nsum[n, 0] / ln, nsum[n, 1] / ln, nsum[n, 2] / ln
        smin, smax = np.inf, -np.inf
        for k in range(start[n], start[n] + count[n]):
            f = order[k]
            for c in range(3):
                v = faces[f, c]
                t = nx * verts[v, 0] + ny * verts[v, 1] + nz * verts[v, 2]
                smin = min(smin, t)
                smax = max(smax, t)
        slab[n, 0], slab[n, 1], slab[n, 2], slab[n, 3], slab[n, 4] = nx, ny, nz, smin, smax
    return order, lo, hi, child[:nodes].copy(), start[:nodes].copy(), count[:nodes].copy(), slab


@kernel(entry=True)
def face_neighbours(faces, n_verts):
    """The face across each edge k -> k+1 of each face (-1 when none, or when more than two faces share it)."""
    m = faces.shape[0]
    ptr = np.zeros(n_verts + 1, dtype=np.int64)
    for f in range(m):
        for k in range(3):
            ptr[faces[f, k] + 1] += 1
    for v in range(n_verts):
        ptr[v + 1] += ptr[v]
    fill = ptr[:-1].copy()
    around = np.empty(3 * m, dtype=np.int64)
    for f in range(m):
        for k in range(3):
            v = faces[f, k]
            around[fill[v]] = f
            fill[v] += 1
    nbr = np.full((m, 3), -1, dtype=np.int64)
    for f in range(m):
        for k in range(3):
            a, b = faces[f, k], faces[f, (k + 1) % 3]
            found = -1
            n_found = 0
            for j in range(ptr[a], ptr[a + 1]):
                g = around[j]
                if g != f and (faces[g, 0] == b or faces[g, 1] == b or faces[g, 2] == b):
                    found = g
                    n_found += 1
            if n_found == 1:
                nbr[f, k] = found
    return nbr


@kernel(entry=True)
def mesh_normals(verts, faces, nbr):
    """Face normals, angle-weighted vertex normals and edge normals (sum of the two faces' normals; ``nbr[f, k]``
    is the face across edge k -> k+1 of face f, -1 when there is none)."""
    m = faces.shape[0]
    face_n = np.zeros((m, 3))
    vert_n = np.zeros((verts.shape[0], 3))
    for f in range(m):
        a, b, c = faces[f, 0], faces[f, 1], faces[f, 2]
        ux, uy, uz = verts[b, 0] - verts[a, 0], verts[b, 1] - verts[a, 1], verts[b, 2] - verts[a, 2]
        vx, vy, vz = verts[c, 0] - verts[a, 0], verts[c, 1] - verts[a, 1], verts[c, 2] - verts[a, 2]
        nx, ny, nz = uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx
        ln = math.sqrt(nx * nx + ny * ny + nz * nz)
        if ln > 0.0:
            face_n[f, 0], face_n[f, 1], face_n[f, 2] = nx / ln, ny / ln, nz / ln
        for k in range(3):
            p, q, r = faces[f, k], faces[f, (k + 1) % 3], faces[f, (k + 2) % 3]
            e1x, e1y, e1z = verts[q, 0] - verts[p, 0], verts[q, 1] - verts[p, 1], verts[q, 2] - verts[p, 2]
            e2x, e2y, e2z = verts[r, 0] - verts[p, 0], verts[r, 1] - verts[p, 1], verts[r, 2] - verts[p, 2]
            den = math.sqrt((e1x * e1x + e1y * e1y + e1z * e1z) * (e2x * e2x + e2y * e2y + e2z * e2z))
            if den > 0.0:
                ang = math.acos(min(max((e1x * e2x + e1y * e2y + e1z * e2z) / den, -1.0), 1.0))
                for t in range(3):
                    vert_n[p, t] += ang * face_n[f, t]
    edge_n = np.empty((m, 3, 3))
    for f in range(m):
        for k in range(3):
            g = nbr[f, k]
            for a in range(3):
                edge_n[f, k, a] = face_n[f, a] + (face_n[g, a] if g >= 0 else 0.0)
    return face_n, vert_n, edge_n


@kernel
def _box_d2(lo, hi, slab, n, px, py, pz):
    """Squared lower bound of the distance from p to node n's triangles: the larger of the distances to its box
    and to its slab."""
    gx = max(lo[n, 0] - px, 0.0, px - hi[n, 0])
    gy = max(lo[n, 1] - py, 0.0, py - hi[n, 1])
    gz = max(lo[n, 2] - pz, 0.0, pz - hi[n, 2])
    t = slab[n, 0] * px + slab[n, 1] * py + slab[n, 2] * pz
    gs = max(slab[n, 3] - t, 0.0, t - slab[n, 4])
    return max(gx * gx + gy * gy + gz * gz, gs * gs)


@kernel
def _query(px, py, pz, verts, faces, tree, best2, q, bq):
    """Nearest triangle to p within sqrt(best2): returns (squared distance, face, feature); face -1 when none.
    ``tree`` is the tuple from :func:`build_bvh`; ``q`` (4,) is scratch, ``bq`` (3,) receives the closest point."""
    order, lo, hi, child, start, count, slab = tree
    stack = np.empty(128, dtype=np.int64)
    stack[0] = 0
    sp = 1
    bf = -1
    bfeat = 0
    while sp > 0:
        sp -= 1
        n = stack[sp]
        if _box_d2(lo, hi, slab, n, px, py, pz) >= best2:
            continue
        c = child[n]
        if c < 0:
            for k in range(start[n], start[n] + count[n]):
                f = order[k]
                a, b, cc = faces[f, 0], faces[f, 1], faces[f, 2]
                d2 = _closest(
                    px, py, pz,
                    verts[a, 0], verts[a, 1], verts[a, 2],
                    verts[b, 0], verts[b, 1], verts[b, 2],
                    verts[cc, 0], verts[cc, 1], verts[cc, 2],
                    q,
                )  # fmt: skip
                if d2 < best2:
                    best2 = d2
                    bf = f
                    bfeat = int(q[3])
                    bq[0], bq[1], bq[2] = q[0], q[1], q[2]
        else:
            dl = _box_d2(lo, hi, slab, c, px, py, pz)
            dr = _box_d2(lo, hi, slab, c + 1, px, py, pz)
            near, far, dn, dfar = c, c + 1, dl, dr
            if dr < dl:
                near, far, dn, dfar = c + 1, c, dr, dl
            if dfar < best2:
                stack[sp] = far
                sp += 1
            if dn < best2:
                stack[sp] = near
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
    for i in range(points.shape[0]):
        px, py, pz = points[i, 0], points[i, 1], points[i, 2]
        best2, bf, bfeat = _query(px, py, pz, verts, faces, tree, _warm_bound(px, py, pz, i, bq), q, bq)
        if bf < 0:  # nothing strictly within the bound (rounding): search unbounded
            best2, bf, bfeat = _query(px, py, pz, verts, faces, tree, np.inf, q, bq)
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
    for i in range(points.shape[0]):
        px, py, pz = points[i, 0], points[i, 1], points[i, 2]
        best2, bf, _ = _query(px, py, pz, verts, faces, tree, _warm_bound(px, py, pz, i, bq), q, bq)
        if bf < 0:
            best2, _, _ = _query(px, py, pz, verts, faces, tree, np.inf, q, bq)
        out_dist[i] = math.sqrt(best2)


@kernel(entry=True)
def bisect_level(a, b, verts, faces, tree, level, iterations, out):
    """Points on the segments a[i] -> b[i] where the distance to the mesh crosses ``level`` (``a`` farther than
    ``level``, ``b`` not): false position with the Illinois modification on the bracket, at most ``iterations``
    steps or until the bracket is shorter than 1e-9 of the segment; returns the end of the bracket that stays
    farther."""
    q = np.empty(4)
    bq = np.empty(3)
    for i in range(a.shape[0]):
        ax, ay, az = a[i, 0], a[i, 1], a[i, 2]
        dx, dy, dz = b[i, 0] - ax, b[i, 1] - ay, b[i, 2] - az
        fa = math.sqrt(_query(ax, ay, az, verts, faces, tree, np.inf, q, bq)[0]) - level
        fb = math.sqrt(_query(b[i, 0], b[i, 1], b[i, 2], verts, faces, tree, np.inf, q, bq)[0]) - level
        ta, tb = 0.0, 1.0
        side = 0
        for _ in range(iterations):
            if tb - ta < 1e-9:
                break
            t = tb - fb * (tb - ta) / (fb - fa) if fa > 0.0 and fb <= 0.0 and fa != fb else 0.5 * (ta + tb)
            if not (ta < t < tb):
                t = 0.5 * (ta + tb)
            ft = math.sqrt(_query(ax + t * dx, ay + t * dy, az + t * dz, verts, faces, tree, np.inf, q, bq)[0])
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
