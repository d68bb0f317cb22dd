"""Numba kernels: the connected sections of a binary mask's slices (for the partial volumes of ``_slices.py``)."""

from __future__ import annotations

import math

import numpy as np

from ..._jit import kernel


@kernel
def _root(parent, a):
    while parent[a] != a:
        parent[a] = parent[parent[a]]
        a = parent[a]
    return a


@kernel(entry=True)
def section_labels(vol, lab):
    """Label the 4-connected components of each slice ``vol[:, :, k]`` (slices along the last axis) into ``lab``
    (0 outside), numbered from 1 in the order in which a C-order scan of ``vol`` first meets them (the numbering of
    ``scipy.ndimage.label`` with that structure). Returns the number of components and the pixel count of each
    label (index 0: the background, counted as 0)."""
    nx, ny, nz = vol.shape
    parent = np.empty(nx * ny * nz // 2 + 2, dtype=np.int64)
    n = 0
    for i in range(nx):
        for j in range(ny):
            for k in range(nz):
                if not vol[i, j, k]:
                    lab[i, j, k] = 0
                    continue
                a = lab[i - 1, j, k] if i > 0 else 0
                b = lab[i, j - 1, k] if j > 0 else 0
                if a == 0 and b == 0:
                    n += 1
                    if n >= parent.shape[0]:
                        grown = np.empty(2 * parent.shape[0], dtype=np.int64)
                        grown[: parent.shape[0]] = parent
                        parent = grown
                    parent[n] = n
                    lab[i, j, k] = n
                elif a == 0 or b == 0 or a == b:
                    lab[i, j, k] = a if a > 0 else b
                else:
                    ra, rb = _root(parent, a), _root(parent, b)
                    if ra < rb:
                        parent[rb] = ra
                    elif rb < ra:
                        parent[ra] = rb
                    lab[i, j, k] = a
    # the provisional labels grow in scan order, so each component's smallest one is the first it met
    final = np.zeros(n + 1, dtype=np.int64)
    m = 0
    for p in range(1, n + 1):
        r = _root(parent, p)
        if r == p:
            m += 1
            final[p] = m
        else:
            final[p] = final[r]
    counts = np.zeros(m + 1, dtype=np.int64)
    for i in range(nx):
        for j in range(ny):
            for k in range(nz):
                x = final[lab[i, j, k]]
                lab[i, j, k] = x
                counts[x] += 1
    counts[0] = 0
    return m, counts


@kernel
def _envelope(f, lo, hi, step, out, v, z):
    """Squared distance transform of the sampled function ``f[lo:hi]`` (lower envelope of parabolas, Felzenszwalb &
    Huttenlocher 2012) at sample spacing ``step``, written to ``out[lo:hi]``; positions are absolute indices (the
    same arithmetic whatever the range). ``v`` and ``z`` are scratch (at least ``hi - lo`` and ``hi - lo + 1``)."""
    k = 0
    v[0] = lo
    z[0] = -np.inf
    z[1] = np.inf
    for q in range(lo + 1, hi):
        if f[q] == np.inf:
            continue
        if f[v[k]] == np.inf:
            v[k] = q
            continue
        while True:
            p = v[k]
            s = ((f[q] + (q * step) ** 2) - (f[p] + (p * step) ** 2)) / (2.0 * step * (q - p))
            if s <= z[k] and k > 0:
                k -= 1
            else:
                break
        k += 1
        v[k] = q
        z[k] = s
        z[k + 1] = np.inf
    if f[v[0]] == np.inf:
        for q in range(lo, hi):
            out[q] = np.inf
        return
    k = 0
    for q in range(lo, hi):
        while z[k + 1] < q * step:
            k += 1
        d = (q - v[k]) * step
        out[q] = d * d + f[v[k]]


@kernel
def _box_distance(vol, k, label, i0, i1, j0, j1, sx, sy, half, col, f, g, v, z, out):
    """Distance within slice ``vol[k]`` from each pixel of ``label`` in the box ``[i0, i1) x [j0, j1)`` to the
    nearest pixel of the other label, less ``half`` (signed: > 0 for label True), written to ``out[k]``. Exact when
    the box holds every pixel of the other label that can be nearest (the caller's boxes do)."""
    for i in range(i0, i1):  # along the contiguous axis: 1-D distances (two sweeps)
        last = -1
        for j in range(j0, j1):
            if vol[k, i, j] != label:
                last = j
            col[i, j] = ((j - last) * sy) ** 2 if last >= 0 else np.inf
        last = -1
        for j in range(j1 - 1, j0 - 1, -1):
            if vol[k, i, j] != label:
                last = j
            if last >= 0:
                col[i, j] = min(col[i, j], ((last - j) * sy) ** 2)
    for j in range(j0, j1):  # across: lower envelope, for the columns holding pixels of this label
        has = False
        for i in range(i0, i1):
            f[i] = col[i, j]
            if vol[k, i, j] == label:
                has = True
        if not has:
            continue
        _envelope(f, i0, i1, sx, g, v, z)
        for i in range(i0, i1):
            if vol[k, i, j] == label:
                d = math.sqrt(g[i]) - half if g[i] < np.inf else 1e7
                out[k, i, j] = d if label else -d


@kernel(entry=True)
def section_distances(vol, sx, sy, out):
    """Signed distance within each slice ``vol[k]`` (slices first; pixel spacing sx along the second axis, sy along
    the third) from pixel centres to the boundary, taken half a pixel (of the finer spacing) beyond the centres:
    > 0 inside, < 0 outside; 1e7 when the slice holds no pixel of the other label.

    Computed where the partial volumes read it: at every pixel inside, and at the pixels outside within the
    bounding box of the inside pixels of the slice and of its two neighbours (a column crossing the surface between
    two slices is outside on one and inside on the other); -1e7 at the other pixels outside."""
    nz, nx, ny = vol.shape
    half = 0.5 * min(sx, sy)
    box = np.empty((nz, 4), dtype=np.int64)  # per slice: the bounding box of its inside pixels (empty: i0 > i1)
    count = np.zeros(nz, dtype=np.int64)
    for k in range(nz):
        box[k, 0], box[k, 1], box[k, 2], box[k, 3] = nx, -1, ny, -1
        for i in range(nx):
            for j in range(ny):
                out[k, i, j] = -1e7
                if vol[k, i, j]:
                    count[k] += 1
                    box[k, 0] = min(box[k, 0], i)
                    box[k, 1] = max(box[k, 1], i)
                    box[k, 2] = min(box[k, 2], j)
                    box[k, 3] = max(box[k, 3], j)
    m = max(nx, ny)
    f = np.empty(m)
    g = np.empty(m)
    v = np.empty(m, dtype=np.int64)
    z = np.empty(m + 1)
    col = np.empty((nx, ny))
    for k in range(nz):
        if count[k] == 0:
            continue
        if count[k] == nx * ny:
            for i in range(nx):
                for j in range(ny):
                    out[k, i, j] = 1e7
            continue
        # inside: the nearest outside pixel touches an inside one, so it lies within the box grown by a pixel
        i0, i1 = max(box[k, 0] - 1, 0), min(box[k, 1] + 2, nx)
        j0, j1 = max(box[k, 2] - 1, 0), min(box[k, 3] + 2, ny)
        _box_distance(vol, k, True, i0, i1, j0, j1, sx, sy, half, col, f, g, v, z, out)
        # outside: the inside pixels of this slice and of its neighbours (where the columns cross)
        i0, i1, j0, j1 = box[k, 0], box[k, 1] + 1, box[k, 2], box[k, 3] + 1
        for n in (k - 1, k + 1):
            if 0 <= n < nz and count[n] > 0:
                i0, i1 = min(i0, box[n, 0]), max(i1, box[n, 1] + 1)
                j0, j1 = min(j0, box[n, 2]), max(j1, box[n, 3] + 1)
        _box_distance(vol, k, False, i0, i1, j0, j1, sx, sy, half, col, f, g, v, z, out)
