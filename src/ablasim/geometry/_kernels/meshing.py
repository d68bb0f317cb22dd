"""Numba kernels for the surfaces of masks (``geometry/surfaces.py``): degenerate faces, vertex areas and the
shrinkage correction's step."""

from __future__ import annotations

import math

import numpy as np

from ..._jit import kernel


@kernel(entry=True)
def nondegenerate_faces(verts, faces):
    """The faces whose edge vectors' cross product is not exactly zero (marching cubes emits triangles of zero
    area where the level passes through grid nodes), in their order."""
    m = faces.shape[0]
    keep = np.empty(m, dtype=np.bool_)
    n = 0
    for f in range(m):
        a, b, c = faces[f, 0], faces[f, 1], faces[f, 2]
        ux, uy, uz = verts[b, 0] - verts[a, 0], verts[b, 1] - verts[a, 1], verts[b, 2] - verts[a, 2]
        vx, vy, vz = verts[c, 0] - verts[a, 0], verts[c, 1] - verts[a, 1], verts[c, 2] - verts[a, 2]
        keep[f] = uy * vz - uz * vy != 0.0 or uz * vx - ux * vz != 0.0 or ux * vy - uy * vx != 0.0
        if keep[f]:
            n += 1
    out = np.empty((n, 3), dtype=np.int64)
    n = 0
    for f in range(m):
        if keep[f]:
            out[n, 0], out[n, 1], out[n, 2] = faces[f, 0], faces[f, 1], faces[f, 2]
            n += 1
    return out


@kernel(entry=True)
def vertex_areas(verts, faces, out):
    """A third of the area of the triangles around each vertex, added into ``out`` (zeroed by the caller)."""
    for f in range(faces.shape[0]):
        a, b, c = faces[f, 0], faces[f, 1], faces[f, 2]
        ux, uy, uz = verts[b, 0] - verts[a, 0], verts[b, 1] - verts[a, 1], verts[b, 2] - verts[a, 2]
        vx, vy, vz = verts[c, 0] - verts[a, 0], verts[c, 1] - verts[a, 1], verts[c, 2] - verts[a, 2]
        nx, ny, nz = uy * vz - uz * vy, uz * vx - ux * vz, ux * vy - uy * vx
        third = math.sqrt(nx * nx + ny * ny + nz * nz) / 6.0
        out[a] += third
        out[b] += third
        out[c] += third


@kernel
def _interp(x, xp, fp):
    """``numpy.interp`` of one value (``xp`` increasing): the end values beyond the ends."""
    n = xp.shape[0]
    if x <= xp[0]:
        return fp[0]
    if x >= xp[n - 1]:
        return fp[n - 1]
    lo, hi = 0, n - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if xp[mid] <= x:
            lo = mid
        else:
            hi = mid
    slope = (fp[hi] - fp[lo]) / (xp[hi] - xp[lo])
    return slope * (x - xp[lo]) + fp[lo]


@kernel(entry=True)
def shrink_steps(der, sigma_mm, table_x, table_y, spacing, out):
    """Per vertex, the step (index units) that moves it outwards by the shift of the 0.5 level of a blurred ball
    with the mean curvature of the level set through it (``surfaces._shrinkage_step``). ``der`` (N, 9): gradient
    and Hessian (xx, yy, zz, xy, xz, yz) of the more smoothed field at the vertices; the field increases inwards.
    ``table_x`` / ``table_y``: curvature times sigma -> shift in sigma (increasing x). ``out`` (N, 3)."""
    for p in range(der.shape[0]):
        gx, gy, gz = der[p, 0], der[p, 1], der[p, 2]
        norm = max(math.sqrt(gx * gx + gy * gy + gz * gz), 1e-12)
        nx, ny, nz = gx / norm, gy / norm, gz / norm
        hxx, hyy, hzz, hxy, hxz, hyz = der[p, 3], der[p, 4], der[p, 5], der[p, 6], der[p, 7], der[p, 8]
        lap = hxx + hyy + hzz
        nhn = (
            nx * (hxx * nx + hxy * ny + hxz * nz)
            + ny * (hxy * nx + hyy * ny + hyz * nz)
            + nz * (hxz * nx + hyz * ny + hzz * nz)
        )
        curv = -0.5 * (lap - nhn) / norm  # mean curvature, > 0 where the surface is convex
        y = _interp(abs(curv) * sigma_mm, table_x, table_y)
        shift = sigma_mm * y if curv > 0 else (-sigma_mm * y if curv < 0 else 0.0)
        shift = min(max(shift, -1.5 * sigma_mm), 1.5 * sigma_mm)
        out[p, 0] = -shift * nx / spacing[0]
        out[p, 1] = -shift * ny / spacing[1]
        out[p, 2] = -shift * nz / spacing[2]
