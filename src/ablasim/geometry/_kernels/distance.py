"""Numba kernel: the exact Euclidean distance transform of a boolean volume with anisotropic voxels (separable:
1-D distances along the last axis, then lower envelopes of parabolas along the others, Felzenszwalb &
Huttenlocher 2012). For the screening of voxel centres in the mask margin method, where volumes are small and a
library call costs more than the transform."""

from __future__ import annotations

import math

import numpy as np

from ..._jit import kernel
from .sections import _envelope


@kernel(entry=True)
def distance_to_false(vol, s0, s1, s2, out):
    """Distance (mm; spacing s0, s1, s2 along the axes) from each voxel centre of ``vol`` to the nearest centre
    of a False voxel (0 on False voxels; inf when there is none: beyond the array counts as nothing)."""
    n0, n1, n2 = vol.shape
    sq = np.empty((n0, n1, n2))
    for i in range(n0):  # along the last axis: 1-D squared distances (two sweeps)
        for j in range(n1):
            last = -1
            for k in range(n2):
                if not vol[i, j, k]:
                    last = k
                sq[i, j, k] = ((k - last) * s2) ** 2 if last >= 0 else np.inf
            last = -1
            for k in range(n2 - 1, -1, -1):
                if not vol[i, j, k]:
                    last = k
                if last >= 0:
                    sq[i, j, k] = min(sq[i, j, k], ((last - k) * s2) ** 2)
    m = max(n0, n1)
    f = np.empty(m)
    g = np.empty(m)
    v = np.empty(m, dtype=np.int64)
    z = np.empty(m + 1)
    for i in range(n0):  # along the middle axis
        for k in range(n2):
            for j in range(n1):
                f[j] = sq[i, j, k]
            _envelope(f, 0, n1, s1, g, v, z)
            for j in range(n1):
                sq[i, j, k] = g[j]
    for j in range(n1):  # along the first axis
        for k in range(n2):
            for i in range(n0):
                f[i] = sq[i, j, k]
            _envelope(f, 0, n0, s0, g, v, z)
            for i in range(n0):
                out[i, j, k] = math.sqrt(g[i])
