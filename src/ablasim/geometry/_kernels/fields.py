"""Numba kernels: derivatives of a sampled field at arbitrary points."""

from __future__ import annotations

import math

import numpy as np

from ..._jit import kernel


@kernel
def _node(field, i, j, k, sp, out):
    """Central-difference gradient (out[0:3]) and Hessian (out[3:9]: xx, yy, zz, xy, xz, yz) at node (i, j, k),
    one-sided at the array faces (where the fields used here are zero)."""
    nx, ny, nz = field.shape
    im, ip = max(i - 1, 0), min(i + 1, nx - 1)
    jm, jp = max(j - 1, 0), min(j + 1, ny - 1)
    km, kp = max(k - 1, 0), min(k + 1, nz - 1)
    f0 = field[i, j, k]
    out[0] = (field[ip, j, k] - field[im, j, k]) / (max(ip - im, 1) * sp[0])
    out[1] = (field[i, jp, k] - field[i, jm, k]) / (max(jp - jm, 1) * sp[1])
    out[2] = (field[i, j, kp] - field[i, j, km]) / (max(kp - km, 1) * sp[2])
    out[3] = (field[ip, j, k] - 2.0 * f0 + field[im, j, k]) / (sp[0] * sp[0])
    out[4] = (field[i, jp, k] - 2.0 * f0 + field[i, jm, k]) / (sp[1] * sp[1])
    out[5] = (field[i, j, kp] - 2.0 * f0 + field[i, j, km]) / (sp[2] * sp[2])
    out[6] = (field[ip, jp, k] - field[ip, jm, k] - field[im, jp, k] + field[im, jm, k]) / (4.0 * sp[0] * sp[1])
    out[7] = (field[ip, j, kp] - field[ip, j, km] - field[im, j, kp] + field[im, j, km]) / (4.0 * sp[0] * sp[2])
    out[8] = (field[i, jp, kp] - field[i, jp, km] - field[i, jm, kp] + field[i, jm, km]) / (4.0 * sp[1] * sp[2])


@kernel(entry=True)
def derivatives_at(field, points, sp, out):
    """Gradient and Hessian (per mm, spacing ``sp``) of ``field`` at ``points`` (index units): the node
    derivatives interpolated trilinearly. ``out`` (N, 9): gx, gy, gz, hxx, hyy, hzz, hxy, hxz, hyz."""
    nx, ny, nz = field.shape
    node = np.empty(9)
    acc = np.empty(9)
    for p in range(points.shape[0]):
        acc[:] = 0.0
        x, y, z = points[p, 0], points[p, 1], points[p, 2]
        i0 = min(max(int(math.floor(x)), 0), nx - 2)  # noqa: RUF046
        j0 = min(max(int(math.floor(y)), 0), ny - 2)  # noqa: RUF046
        k0 = min(max(int(math.floor(z)), 0), nz - 2)  # noqa: RUF046
        fx, fy, fz = x - i0, y - j0, z - k0
        for di in range(2):
            wx = fx if di else 1.0 - fx
            for dj in range(2):
                wy = fy if dj else 1.0 - fy
                for dk in range(2):
                    wz = fz if dk else 1.0 - fz
                    w = wx * wy * wz
                    if w == 0.0:  # marching-cubes vertices lie on grid edges: two nodes only
                        continue
                    _node(field, i0 + di, j0 + dj, k0 + dk, sp, node)
                    for c in range(9):
                        acc[c] += w * node[c]
        for c in range(9):
            out[p, c] = acc[c]
