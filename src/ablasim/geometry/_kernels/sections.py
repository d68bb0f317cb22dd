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
def _box_distance(vol, label, i0, i1, j0, j1, sx, sy, col, f, g, v, z, out):
    """Squared distance within the slice ``vol`` (2-D) from each pixel of ``label`` in the box ``[i0, i1) x [j0,
    j1)`` to the nearest pixel of the other label, written to ``out`` at those pixels (1-D distances along the
    second axis, then the lower envelope along the first). Exact when the box holds every pixel of the other label
    that can be nearest (the caller's box does)."""
    for i in range(i0, i1):  # along the second axis: 1-D distances (two sweeps)
        last = -1
        for j in range(j0, j1):
            if vol[i, j] != label:
                last = j
            col[i, j] = ((j - last) * sy) ** 2 if last >= 0 else np.inf
        last = -1
        for j in range(j1 - 1, j0 - 1, -1):
            if vol[i, j] != label:
                last = j
            if last >= 0:
                col[i, j] = min(col[i, j], ((last - j) * sy) ** 2)
    for j in range(j0, j1):  # across: lower envelope, for the columns holding pixels of this label
        has = False
        for i in range(i0, i1):
            f[i] = col[i, j]
            if vol[i, j] == label:
                has = True
        if not has:
            continue
        _envelope(f, i0, i1, sx, g, v, z)
        for i in range(i0, i1):
            if vol[i, j] == label:
                out[i, j] = g[i]


@kernel
def _nearest_other(vol, i, j, k, sx, sy):
    """Squared distance within slice ``vol[:, :, k]`` from pixel (i, j) to the nearest pixel of the other label:
    rings of growing Chebyshev radius r, until r times the finer pixel exceeds the best found (the same arithmetic
    as the lower envelope's); and the number of pixels read."""
    nx, ny = vol.shape[0], vol.shape[1]
    label = vol[i, j, k]
    h = min(sx, sy)
    best = np.inf
    work = 0
    for r in range(1, max(nx, ny)):
        if (r * h) ** 2 > best:
            break
        for di in range(-r, r + 1):
            a = i + di
            if a < 0 or a >= nx:
                continue
            step = 1 if di == -r or di == r else 2 * r  # the ring: whole rows at the top and bottom, ends between
            for dj in range(-r, r + 1, step):
                b = j + dj
                work += 1
                if b < 0 or b >= ny or vol[a, b, k] == label:
                    continue
                e = di * sx
                val = e * e + (dj * sy) ** 2
                if val < best:
                    best = val
    return best, work


@kernel
def _slice_transform(vol, k, label, i0, i1, j0, j1, sx, sy, half, sl, sq, col, f, g, v, z, out):
    """The exact in-plane distance of every pixel of ``label`` in the box ``[i0, i1) x [j0, j1)`` of slice k
    (``_box_distance``), written signed to ``out``."""
    for i in range(i0, i1):
        for j in range(j0, j1):
            sl[i, j] = vol[i, j, k]
    _box_distance(sl, label, i0, i1, j0, j1, sx, sy, col, f, g, v, z, sq)
    for i in range(i0, i1):
        for j in range(j0, j1):
            if sl[i, j] == label:
                d = math.sqrt(sq[i, j]) - half
                out[i, j, k] = d if label else -d


@kernel(entry=True)
def section_distances(vol, lab, up, down, sx, sy, budget, out):
    """Signed distance within each slice ``vol[:, :, k]`` (pixel spacing sx along the first axis, sy along the
    second) from pixel centres to the boundary, taken half a pixel (of the finer spacing) beyond the centres: > 0
    inside, < 0 outside; +/-1e7 on a slice that holds one label only.

    Computed where the partial volumes read it: at the pixels where the column crosses the surface towards the
    slice before or after (inside on one, outside on the other), and at every inside pixel of the slices holding a
    cap (a section of ``lab`` with no area overlapping it on the slice above, ``up``, or below, ``down``: its depth
    is read); elsewhere 0 inside and -1e7 outside, or the exact value. The crossing pixels are searched ring by
    ring; a slice whose search reads more than ``budget`` times its pixel count (sections far apart from one slice
    to the next) is transformed whole instead (the same values but for rounding: the lower envelope may pick one
    of two candidates that tie to within 1e-14 mm)."""
    nx, ny, nz = vol.shape
    half = 0.5 * min(sx, sy)
    count = np.zeros(nz, dtype=np.int64)
    full = np.zeros(nz, dtype=np.bool_)
    box = np.empty((nz, 4), dtype=np.int64)  # per slice: the bounding box of its inside pixels
    for k in range(nz):
        box[k, 0], box[k, 1], box[k, 2], box[k, 3] = nx, -1, ny, -1
    for i in range(nx):
        for j in range(ny):
            for k in range(nz):
                if vol[i, j, k]:
                    count[k] += 1
                    out[i, j, k] = 0.0
                    if up[lab[i, j, k]] == 0.0 or down[lab[i, j, k]] == 0.0:
                        full[k] = True
                    box[k, 0], box[k, 1] = min(box[k, 0], i), max(box[k, 1], i)
                    box[k, 2], box[k, 3] = min(box[k, 2], j), max(box[k, 3], j)
                else:
                    out[i, j, k] = -1e7
    m = max(nx, ny)
    sl = np.empty((nx, ny), dtype=np.bool_)
    sq = np.empty((nx, ny))
    col = np.empty((nx, ny))
    f = np.empty(m)
    g = np.empty(m)
    v = np.empty(m, dtype=np.int64)
    z = np.empty(m + 1)
    for k in range(nz):
        if count[k] == 0 or count[k] == nx * ny:
            if count[k]:
                for i in range(nx):
                    for j in range(ny):
                        out[i, j, k] = 1e7
            continue
        # inside: the nearest outside pixel touches an inside one, so it lies within the box grown by a pixel
        ti0, ti1 = max(box[k, 0] - 1, 0), min(box[k, 1] + 2, nx)
        tj0, tj1 = max(box[k, 2] - 1, 0), min(box[k, 3] + 2, ny)
        if full[k]:
            _slice_transform(vol, k, True, ti0, ti1, tj0, tj1, sx, sy, half, sl, sq, col, f, g, v, z, out)
        work = 0
        whole = False
        for i in range(nx):
            for j in range(ny):
                inside = vol[i, j, k]
                if inside and full[k]:
                    continue
                if (k > 0 and vol[i, j, k - 1] != inside) or (k + 1 < nz and vol[i, j, k + 1] != inside):
                    d2, w = _nearest_other(vol, i, j, k, sx, sy)
                    work += w
                    d = math.sqrt(d2) - half
                    out[i, j, k] = d if inside else -d
                    if work > budget * nx * ny:
                        whole = True
                        break
            if whole:
                break
        if whole:
            if not full[k]:
                _slice_transform(vol, k, True, ti0, ti1, tj0, tj1, sx, sy, half, sl, sq, col, f, g, v, z, out)
            # outside: the crossing pixels lie inside on a neighbouring slice; the nearest inside pixels on this one
            fi0, fi1, fj0, fj1 = box[k, 0], box[k, 1] + 1, box[k, 2], box[k, 3] + 1
            for n in (k - 1, k + 1):
                if 0 <= n < nz and count[n] > 0:
                    fi0, fi1 = min(fi0, box[n, 0]), max(fi1, box[n, 1] + 1)
                    fj0, fj1 = min(fj0, box[n, 2]), max(fj1, box[n, 3] + 1)
            _slice_transform(vol, k, False, fi0, fi1, fj0, fj1, sx, sy, half, sl, sq, col, f, g, v, z, out)
