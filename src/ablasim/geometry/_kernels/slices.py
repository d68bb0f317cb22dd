"""Numba kernels: where each column of a binary mask crosses the surface between two slices.

Along one array axis the mask is a stack of slices. A column (fixed in-plane position) that is inside on slice k
and outside on slice k + 1 leaves the shape somewhere in between. Shape-based interpolation (linear in the in-plane
signed distance) places the crossing at ``w = d_k / (d_k - d_k+1)``; here that fraction is warped so that the
cross-section area follows a quadratic through three slices (exact for every ellipsoid, whose sections by parallel
planes have areas quadratic in the plane offset). A component with nothing above it (a cap) is extrapolated: its
section shrinks by erosion, reaching the area ``A(t)`` from a quadratic fitted to its area and those of the one or
two sections below it, weighted by the lattice-counting variance of each area, with a spherical prior on the
curvature. Every crossing stays strictly within its gap: the slices on both sides are data.
"""

from __future__ import annotations

import math

import numpy as np

from ..._jit import kernel

# standard deviation of a lattice-point count of a disk of radius R pixels, in pixels (random offsets; measured
# over 400 offsets for R = 1..40 pixels: 0.57-0.80 sqrt(R), Kendall's sqrt(R) growth)
COUNT_SD = 0.66


@kernel
def _smallest_root(b, c, q, tmax):
    """Smallest t in [0, tmax] with q + b t + c t^2 = 0, or -1."""
    best = -1.0
    if abs(c) <= 1e-12 * max(abs(b), 1e-300):
        if b != 0.0:
            r = -q / b
            if 0.0 <= r <= tmax:
                best = r
        return best
    disc = b * b - 4.0 * c * q
    if disc < 0.0:
        return -1.0
    sq = math.sqrt(disc)
    for r in ((-b - sq) / (2.0 * c), (-b + sq) / (2.0 * c)):
        if 0.0 <= r <= tmax and (best < 0.0 or r < best):
            best = r
    return best


@kernel
def _cap_fit(a0, a1, a2, c_sphere, h, chord):
    """Quadratic A(t) = a + b t + c t^2 through the areas a0, a1, a2 (mm2) at t = 0, -1, -2 (a2 <= 0: absent),
    weighted by their counting variance, with the prior c ~ N(-c_sphere, c_sphere^2). ``chord``: the "areas" are
    squared chord lengths L^2 of a 2-D section (each end of a chord off by up to half a pixel: var(L) = h^2 / 6,
    var(L^2) = 4 L^2 h^2 / 6)."""
    mat = np.zeros((3, 3))
    rhs = np.zeros(3)
    n = 3 if a2 > 0.0 else 2
    for i in range(n):
        y = a0 if i == 0 else (a1 if i == 1 else a2)
        t = -float(i)
        if chord:
            var = 4.0 * max(y, h * h) * h * h / 6.0
        else:
            radius_px = math.sqrt(max(y, h * h) / math.pi) / h
            var = (COUNT_SD * h * h) ** 2 * math.sqrt(radius_px)
        x0, x1, x2 = 1.0, t, t * t
        xs = (x0, x1, x2)
        for p in range(3):
            rhs[p] += xs[p] * y / var
            for q in range(3):
                mat[p, q] += xs[p] * xs[q] / var
    mat[2, 2] += 1.0 / (c_sphere * c_sphere)
    rhs[2] += -c_sphere / (c_sphere * c_sphere)
    return _solve3(mat, rhs)


@kernel
def _solve3(mat, rhs):
    """Solution of the 3 x 3 system ``mat x = rhs`` by Gaussian elimination with partial pivoting (in place)."""
    for c in range(3):
        p = c
        for r in range(c + 1, 3):
            if abs(mat[r, c]) > abs(mat[p, c]):
                p = r
        if p != c:
            for k in range(3):
                mat[c, k], mat[p, k] = mat[p, k], mat[c, k]
            rhs[c], rhs[p] = rhs[p], rhs[c]
        for r in range(c + 1, 3):
            f = mat[r, c] / mat[c, c]
            for k in range(c, 3):
                mat[r, k] -= f * mat[c, k]
            rhs[r] -= f * rhs[c]
    x2 = rhs[2] / mat[2, 2]
    x1 = (rhs[1] - mat[1, 2] * x2) / mat[1, 1]
    x0 = (rhs[0] - mat[0, 1] * x1 - mat[0, 2] * x2) / mat[0, 0]
    return x0, x1, x2


@kernel
def _crossing(da, db, a_prev2, a_prev, a0, a_next, depth_max, c_sphere, h, chord):
    """Fraction of the gap from slice a (inside, in-plane depth da > 0) towards slice b (outside, db < 0) where
    the column leaves the shape. a0: area of its component on slice a; a_next: area of what overlaps that component
    on slice b (0: nothing, a cap); a_prev, a_prev2: on the one and two slices before a (0: none)."""
    w = da / (da - db)
    if a_next > 0.0:
        if a_prev <= 0.0:
            return w
        b = 0.5 * (a_next - a_prev)
        c = 0.5 * (a_next + a_prev) - a0
        if b * (b + 2.0 * c) <= 0.0:  # the area is not monotone across the gap: plain interpolation
            return w
        r0 = math.sqrt(a0)
        r = r0 + w * (math.sqrt(a_next) - r0)
        t = _smallest_root(b, c, a0 - r * r, 1.0)
        return t if t >= 0.0 else w
    if a_prev <= 0.0:
        return 0.5  # a section on one slice only: nothing tells where the cap lies within the gap
    a, b, c = _cap_fit(a0, a_prev, a_prev2, c_sphere, h, chord)
    if b >= 0.0 or a <= 0.0:
        return 0.5  # the sections do not shrink towards the cap
    keep = max(0.0, 1.0 - da / depth_max)
    t = _smallest_root(b, c, a * (1.0 - keep * keep), 2.0)
    if t < 0.0:
        return 0.5
    return min(t, 1.0)


@kernel(entry=True)
def fill_columns(inside, d, lab, area, up, down, up2, down2, fine, c_sphere, h, chord, out):
    """Partial volume along the last axis at the fine positions ``fine`` (slice-index units): the fraction of each
    fine voxel's extent that lies inside the column (crossings from :func:`_crossing`).

    ``lab``: in-plane component labels; per label: ``area`` (mm2), ``up``/``down`` (area of the components that
    overlap it on the next/previous slice), ``up2``/``down2`` (two slices away). ``chord``: the components are
    chords of 2-D sections and their "areas" squared lengths (:func:`_cap_fit`)."""
    nx, ny, nz = inside.shape
    nlab = area.shape[0]
    depth = np.zeros(nlab)
    for i in range(nx):
        for j in range(ny):
            for k in range(nz):
                lb = lab[i, j, k]
                if lb > 0 and d[i, j, k] > depth[lb]:
                    depth[lb] = d[i, j, k]
    nf = fine.shape[0]
    half = 0.5 * (fine[1] - fine[0]) if nf > 1 else 0.5
    cross = np.zeros(nz)
    for i in range(nx):
        for j in range(ny):
            uniform = True
            for k in range(nz - 1):
                if inside[i, j, k] != inside[i, j, k + 1]:
                    uniform = False
                    break
            if uniform:  # no crossing in this column
                value = 1.0 if inside[i, j, 0] else 0.0
                for f in range(nf):
                    out[i, j, f] = value
                continue
            for k in range(nz - 1):
                ia = inside[i, j, k]
                ib = inside[i, j, k + 1]
                if ia and not ib:
                    lb = lab[i, j, k]
                    cross[k] = _crossing(
                        d[i, j, k], d[i, j, k + 1], down2[lb], down[lb], area[lb], up[lb], depth[lb], c_sphere, h, chord
                    )
                elif ib and not ia:
                    lb = lab[i, j, k + 1]
                    cross[k] = 1.0 - _crossing(
                        d[i, j, k + 1], d[i, j, k], up2[lb], up[lb], area[lb], down[lb], depth[lb], c_sphere, h, chord
                    )
            for f in range(nf):
                lo = fine[f] - half
                hi = fine[f] + half
                acc = 0.0
                k0 = max(int(math.floor(lo)), 0)  # noqa: RUF046
                k1 = min(int(math.floor(hi)), nz - 2)  # noqa: RUF046
                for k in range(k0, k1 + 1):
                    a = max(lo, float(k))
                    b = min(hi, k + 1.0)
                    if b <= a:
                        continue
                    ia = inside[i, j, k]
                    ib = inside[i, j, k + 1]
                    if ia and ib:
                        acc += b - a
                    elif ia:
                        acc += max(0.0, min(b, k + cross[k]) - a)
                    elif ib:
                        acc += max(0.0, b - max(a, k + cross[k]))
                out[i, j, f] = acc / (hi - lo)


@kernel(entry=True)
def chord_runs(vol, h, d, lab):
    """Runs (chords) of ``vol`` along its second axis, for :func:`fill_columns` along the third: ``lab`` numbers
    the runs of set voxels from 1 (0 outside), ``d`` is the signed distance along the run's axis (pixel ``h``) from
    each centre to the nearest centre of the other label less half a pixel (> 0 inside; 1e7 when the row holds one
    label only). Returns the number of runs."""
    ni, nj, nk = vol.shape
    n = 0
    for i in range(ni):
        for k in range(nk):
            last = -1
            for j in range(nj):
                if vol[i, j, k]:
                    if j == 0 or not vol[i, j - 1, k]:
                        n += 1
                    lab[i, j, k] = n
                else:
                    lab[i, j, k] = 0
                if j > 0 and vol[i, j, k] != vol[i, j - 1, k]:
                    last = j - 1
                d[i, j, k] = (j - last) * h if last >= 0 else 1e7
            last = -1
            for j in range(nj - 1, -1, -1):
                if j < nj - 1 and vol[i, j, k] != vol[i, j + 1, k]:
                    last = j + 1
                if last >= 0:
                    d[i, j, k] = min(d[i, j, k], (last - j) * h)
            for j in range(nj):
                if d[i, j, k] < 1e7:
                    d[i, j, k] -= 0.5 * h
                if not vol[i, j, k]:
                    d[i, j, k] = -d[i, j, k]
    return n


@kernel
def _sort_small(x, lo, hi):
    """Insertion sort of ``x[lo:hi]`` (short lists)."""
    for i in range(lo + 1, hi):
        v = x[i]
        j = i - 1
        while j >= lo and x[j] > v:
            x[j + 1] = x[j]
            j -= 1
        x[j + 1] = v


@kernel
def _group(first, second, n, nlab):
    """The distinct pairs among ``first[:n] -> second[:n]``, sorted by first then second (CSR: ``ptr`` over
    ``first``, the seconds in ``items``)."""
    ptr = np.zeros(nlab + 1, dtype=np.int64)
    for i in range(n):
        ptr[first[i] + 1] += 1
    for a in range(nlab):
        ptr[a + 1] += ptr[a]
    fill = ptr[:-1].copy()
    raw = np.empty(n, dtype=np.int64)
    for i in range(n):
        raw[fill[first[i]]] = second[i]
        fill[first[i]] += 1
    mark = np.full(nlab, -1, dtype=np.int64)
    out_ptr = np.zeros(nlab + 1, dtype=np.int64)
    items = np.empty(n, dtype=np.int64)
    m = 0
    for a in range(nlab):
        start = m
        for i in range(ptr[a], ptr[a + 1]):
            b = raw[i]
            if mark[b] != a:
                mark[b] = a
                items[m] = b
                m += 1
        _sort_small(items, start, m)
        out_ptr[a + 1] = m
    return out_ptr, items


@kernel
def _reach(ptr, items, nlab, area):
    """Per label: the summed area of the labels one and two steps away along the lists ``ptr``/``items`` (sorted,
    distinct), each sum taken over the labels in increasing order."""
    one = np.zeros(nlab)
    two = np.zeros(nlab)
    mark = np.full(nlab, -1, dtype=np.int64)
    buf = np.empty(nlab, dtype=np.int64)
    for a in range(nlab):
        m = 0
        for i in range(ptr[a], ptr[a + 1]):
            b = items[i]
            one[a] += area[b]
            for j in range(ptr[b], ptr[b + 1]):
                c = items[j]
                if mark[c] != a:
                    mark[c] = a
                    buf[m] = c
                    m += 1
        _sort_small(buf, 0, m)
        for i in range(m):
            two[a] += area[buf[i]]
    return one, two


@kernel
def _overlaps(lab, lower, upper, store):
    """The pairs of labels on consecutive slices that share a pixel (``lower`` on slice k, ``upper`` on k + 1), a
    pair repeated on consecutive pixels once; stored when ``store``. Returns their number."""
    nx, ny, nz = lab.shape
    count = 0
    la, lb = -1, -1
    for k in range(nz - 1):
        for i in range(nx):
            for j in range(ny):
                a, b = lab[i, j, k], lab[i, j, k + 1]
                if a > 0 and b > 0 and (a != la or b != lb):
                    if store:
                        lower[count] = a
                        upper[count] = b
                    la, lb = a, b
                    count += 1
    return count


@kernel(entry=True)
def neighbour_areas(lab, nlab, area):
    """Per label (of ``nlab``, 0 the background): the summed area of the labels overlapping it on the next and
    previous slice, and two slices up and down (through overlaps)."""
    size = _overlaps(lab, np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), False)  # counted first
    lower = np.empty(size, dtype=np.int64)
    upper = np.empty(size, dtype=np.int64)
    count = _overlaps(lab, lower, upper, True)
    ptr, items = _group(lower, upper, count, nlab)
    up, up2 = _reach(ptr, items, nlab, area)
    ptr, items = _group(upper, lower, count, nlab)
    down, down2 = _reach(ptr, items, nlab, area)
    return up, down, up2, down2
