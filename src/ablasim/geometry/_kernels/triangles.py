"""Numba kernels: exact signed distances from points to a closed triangle mesh.

Triangles are binned into a uniform grid of cubic cells (a triangle is listed in every cell its bounding box
touches). A query starts from an upper bound on its distance (the distance to the nearest vertex, found by a KD-tree
in Python) and visits only the cells whose box lies closer than the best distance found so far, so the result is the
exact minimum over all triangles. The sign comes from the angle-weighted pseudo-normal of the closest feature (face,
edge or vertex; Baerentzen & Aanaes 2005), which is exact for a closed, consistently oriented mesh.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from ..._jit import kernel


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
def bin_triangles(verts, faces, lo, cell, dims, counts_only, ptr, idx):
    """Count (``counts_only``) or list the triangles of each cell (CSR: ``ptr`` offsets, ``idx`` triangle ids)."""
    fill = np.zeros(dims[0] * dims[1] * dims[2], dtype=np.int64)
    for f in range(faces.shape[0]):
        b0 = np.empty(3, dtype=np.int64)
        b1 = np.empty(3, dtype=np.int64)
        for a in range(3):
            mn = min(verts[faces[f, 0], a], verts[faces[f, 1], a], verts[faces[f, 2], a])
            mx = max(verts[faces[f, 0], a], verts[faces[f, 1], a], verts[faces[f, 2], a])
            b0[a] = min(max(int(math.floor((mn - lo[a]) / cell)), 0), dims[a] - 1)  # noqa: RUF046
            b1[a] = min(max(int(math.floor((mx - lo[a]) / cell)), 0), dims[a] - 1)  # noqa: RUF046
        for i in range(b0[0], b1[0] + 1):
            for j in range(b0[1], b1[1] + 1):
                for k in range(b0[2], b1[2] + 1):
                    c = (i * dims[1] + j) * dims[2] + k
                    if counts_only:
                        ptr[c + 1] += 1
                    else:
                        idx[ptr[c] + fill[c]] = f
                        fill[c] += 1


@kernel(parallel=True)
def signed_distances(
    points, upper, verts, faces, face_n, vert_n, edge_n, lo, cell, dims, ptr, idx, out_dist, out_closest
):
    """Signed distance (> 0 outside) from each point to the mesh, and the closest mesh point.

    ``upper[i]`` must be at least the true distance of point i (the distance to any mesh vertex will do)."""
    for i in prange(points.shape[0]):
        px, py, pz = points[i, 0], points[i, 1], points[i, 2]
        best = upper[i] * (1.0 + 1e-9) + 1e-12
        best2 = best * best
        bf = -1
        bfeat = 0
        q = np.empty(4)
        bq = np.empty(3)
        r0 = np.empty(3, dtype=np.int64)
        r1 = np.empty(3, dtype=np.int64)
        p = (px, py, pz)
        for a in range(3):
            r0[a] = min(max(int(math.floor((p[a] - best - lo[a]) / cell)), 0), dims[a] - 1)  # noqa: RUF046
            r1[a] = min(max(int(math.floor((p[a] + best - lo[a]) / cell)), 0), dims[a] - 1)  # noqa: RUF046
        for ci in range(r0[0], r1[0] + 1):
            gx = max(lo[0] + ci * cell - px, 0.0, px - (lo[0] + (ci + 1) * cell))
            for cj in range(r0[1], r1[1] + 1):
                gy = max(lo[1] + cj * cell - py, 0.0, py - (lo[1] + (cj + 1) * cell))
                for ck in range(r0[2], r1[2] + 1):
                    gz = max(lo[2] + ck * cell - pz, 0.0, pz - (lo[2] + (ck + 1) * cell))
                    if gx * gx + gy * gy + gz * gz > best2:
                        continue  # the whole cell is farther than the best triangle so far
                    c = (ci * dims[1] + cj) * dims[2] + ck
                    for m in range(ptr[c], ptr[c + 1]):
                        f = idx[m]
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
        if bf < 0:  # no triangle within the bound: cannot happen for a valid bound; flag it
            out_dist[i] = np.nan
            continue
        # pseudo-normal of the closest feature
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
