"""Numba kernels: exact distances from points to a closed triangle mesh through a bounding-volume hierarchy.

The hierarchy is a complete binary tree over the triangles sorted by the Morton code of their centroids (leaves of
``LEAF`` consecutive triangles, node ``n`` has children ``2n`` and ``2n + 1``, boxes built bottom-up). A query walks
it nearest box first and skips every box farther than the best triangle found so far, so the result is the exact
minimum over all triangles. The sign comes from the angle-weighted pseudo-normal of the closest feature (face, edge
or vertex; Baerentzen & Aanaes 2005), which is exact for a closed, consistently oriented mesh.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from ..._jit import kernel

LEAF = 4


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


@kernel
def _spread10(v):
    """The low 10 bits of v, two zero bits between each (for a 30-bit Morton code)."""
    v &= 0x3FF
    v = (v | (v << 16)) & 0x030000FF
    v = (v | (v << 8)) & 0x0300F00F
    v = (v | (v << 4)) & 0x030C30C3
    v = (v | (v << 2)) & 0x09249249
    return v


@kernel
def build_bvh(verts, faces):
    """Triangle order and node boxes (lo, hi: (2P, 3)) of the hierarchy; P leaves (a power of two)."""
    m = faces.shape[0]
    cen = np.empty((m, 3))
    for f in range(m):
        for a in range(3):
            cen[f, a] = (verts[faces[f, 0], a] + verts[faces[f, 1], a] + verts[faces[f, 2], a]) / 3.0
    lo3 = np.empty(3)
    ext = np.empty(3)
    for a in range(3):
        lo3[a] = cen[:, a].min()
        ext[a] = max(cen[:, a].max() - lo3[a], 1e-12)
    code = np.empty(m, dtype=np.int64)
    for f in range(m):
        c = 0
        for a in range(3):
            q = min(max(int((cen[f, a] - lo3[a]) / ext[a] * 1023.0), 0), 1023)
            c |= _spread10(q) << (2 - a)
        code[f] = c
    order = np.argsort(code, kind="mergesort")
    nleaf = (m + LEAF - 1) // LEAF
    p = 1
    while p < nleaf:
        p *= 2
    lo = np.full((2 * p, 3), np.inf)
    hi = np.full((2 * p, 3), -np.inf)
    for j in range(nleaf):
        n = p + j
        for k in range(j * LEAF, min((j + 1) * LEAF, m)):
            f = order[k]
            for c in range(3):
                for a in range(3):
                    x = verts[faces[f, c], a]
                    lo[n, a] = min(lo[n, a], x)
                    hi[n, a] = max(hi[n, a], x)
    for n in range(p - 1, 0, -1):
        for a in range(3):
            lo[n, a] = min(lo[2 * n, a], lo[2 * n + 1, a])
            hi[n, a] = max(hi[2 * n, a], hi[2 * n + 1, a])
    return order, lo, hi


@kernel
def mesh_normals(verts, faces, nbr):
    """Face normals, angle-weighted vertex normals and edge normals (sum of the two faces' normals; ``nbr[f, k]``
    is the face across edge k -> k+1 of face f, -1 when there is none)."""
    m = faces.shape[0]
    face_n = np.zeros((m, 3))
    vert_n = np.zeros((verts.shape[0], 3))
    for f in range(m):
        a, b, c = faces[f, 0], faces[f, 1], faces[f, 2]
        u = verts[b] - verts[a]
        v = verts[c] - verts[a]
        n = np.array([u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]])
        ln = math.sqrt(n[0] ** 2 + n[1] ** 2 + n[2] ** 2)
        if ln > 0.0:
            face_n[f] = n / ln
        for k in range(3):
            p, q, r = faces[f, k], faces[f, (k + 1) % 3], faces[f, (k + 2) % 3]
            e1 = verts[q] - verts[p]
            e2 = verts[r] - verts[p]
            den = math.sqrt((e1**2).sum() * (e2**2).sum())
            if den > 0.0:
                ang = math.acos(min(max((e1 * e2).sum() / den, -1.0), 1.0))
                vert_n[p] += ang * face_n[f]
    edge_n = np.empty((m, 3, 3))
    for f in range(m):
        for k in range(3):
            g = nbr[f, k]
            for a in range(3):
                edge_n[f, k, a] = face_n[f, a] + (face_n[g, a] if g >= 0 else 0.0)
    return face_n, vert_n, edge_n


@kernel
def _box_d2(lo, hi, n, px, py, pz):
    gx = max(lo[n, 0] - px, 0.0, px - hi[n, 0])
    gy = max(lo[n, 1] - py, 0.0, py - hi[n, 1])
    gz = max(lo[n, 2] - pz, 0.0, pz - hi[n, 2])
    return gx * gx + gy * gy + gz * gz


@kernel
def _query(px, py, pz, verts, faces, order, lo, hi, best2, q, bq):
    """Nearest triangle to p within sqrt(best2): returns (squared distance, face, feature); face -1 when none.
    ``q`` (4,) is scratch, ``bq`` (3,) receives the closest point."""
    p = lo.shape[0] // 2
    m = faces.shape[0]
    stack = np.empty(128, dtype=np.int64)
    stack[0] = 1
    sp = 1
    bf = -1
    bfeat = 0
    while sp > 0:
        sp -= 1
        n = stack[sp]
        if _box_d2(lo, hi, n, px, py, pz) >= best2:
            continue
        if n >= p:
            j = n - p
            for k in range(j * LEAF, min((j + 1) * LEAF, m)):
                f = order[k]
                a, b, c = faces[f, 0], faces[f, 1], faces[f, 2]
                d2 = _closest(
                    px, py, pz,
                    verts[a, 0], verts[a, 1], verts[a, 2],
                    verts[b, 0], verts[b, 1], verts[b, 2],
                    verts[c, 0], verts[c, 1], verts[c, 2],
                    q,
                )  # fmt: skip
                if d2 < best2:
                    best2 = d2
                    bf = f
                    bfeat = int(q[3])
                    bq[0], bq[1], bq[2] = q[0], q[1], q[2]
        else:
            dl = _box_d2(lo, hi, 2 * n, px, py, pz)
            dr = _box_d2(lo, hi, 2 * n + 1, px, py, pz)
            near, far, dn, dfar = 2 * n, 2 * n + 1, dl, dr
            if dr < dl:
                near, far, dn, dfar = 2 * n + 1, 2 * n, dr, dl
            if dfar < best2:
                stack[sp] = far
                sp += 1
            if dn < best2:
                stack[sp] = near
                sp += 1
    return best2, bf, bfeat


@kernel(parallel=True)
def signed_distances(points, verts, faces, order, lo, hi, face_n, vert_n, edge_n, out_dist, out_closest):
    """Signed distance (> 0 outside) from each point to the mesh, and the closest mesh point."""
    for i in prange(points.shape[0]):
        q = np.empty(4)
        bq = np.empty(3)
        px, py, pz = points[i, 0], points[i, 1], points[i, 2]
        best2, bf, bfeat = _query(px, py, pz, verts, faces, order, lo, hi, np.inf, q, bq)
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


@kernel(parallel=True)
def unsigned_distances(points, verts, faces, order, lo, hi, out_dist):
    """Distance from each point to the mesh."""
    for i in prange(points.shape[0]):
        q = np.empty(4)
        bq = np.empty(3)
        best2, _, _ = _query(points[i, 0], points[i, 1], points[i, 2], verts, faces, order, lo, hi, np.inf, q, bq)
        out_dist[i] = math.sqrt(best2)


@kernel(parallel=True)
def bisect_level(a, b, verts, faces, order, lo, hi, level, iterations, out):
    """Points on the segments a[i] -> b[i] where the distance to the mesh crosses ``level`` (``a`` farther than
    ``level``, ``b`` nearer): ``iterations`` bisection steps, returning the end that stays farther."""
    for i in prange(a.shape[0]):
        q = np.empty(4)
        bq = np.empty(3)
        pa = a[i].copy()
        pb = b[i].copy()
        for _ in range(iterations):
            mid = 0.5 * (pa + pb)
            best2, _, _ = _query(mid[0], mid[1], mid[2], verts, faces, order, lo, hi, np.inf, q, bq)
            if math.sqrt(best2) > level:
                pa = mid
            else:
                pb = mid
        out[i] = pa
