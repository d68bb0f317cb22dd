"""Numba kernels: separable Gaussian smoothing of float32 volumes, and the normal-weighted blend of the three
axes' partial volumes (``geometry/_slices.py``).

The Gaussian takes the weights of ``scipy.ndimage.gaussian_filter`` (``surfaces.gaussian_weights``) and sums in
the same order (in double precision, each pass stored in float32), so it gives the same values; the loops run
over whole rows, which a compiler vectorises."""

from __future__ import annotations

import numpy as np

from ..._jit import kernel


@kernel
def _index(t, n, nearest):
    """Index ``t`` of an axis of length ``n`` beyond its ends: the nearest end, or -1 (zero) for a constant 0."""
    if t < 0:
        return 0 if nearest else -1
    if t >= n:
        return n - 1 if nearest else -1
    return t


@kernel
def _pass_first(src, dst, w, nearest, acc):
    r = (w.shape[0] - 1) // 2
    n0, n1, n2 = src.shape
    for t in range(n0):
        c = w[r]
        for a in range(n1):
            for b in range(n2):
                acc[a, b] = c * src[t, a, b]
        for s in range(1, r + 1):
            lo = _index(t - s, n0, nearest)
            hi = _index(t + s, n0, nearest)
            ws = w[r + s]
            if lo < 0 and hi < 0:
                continue
            for a in range(n1):
                for b in range(n2):
                    x = (src[lo, a, b] if lo >= 0 else 0.0) + (src[hi, a, b] if hi >= 0 else 0.0)
                    acc[a, b] += x * ws
        for a in range(n1):
            for b in range(n2):
                dst[t, a, b] = acc[a, b]


@kernel
def _pass_second(src, dst, w, nearest, acc):
    r = (w.shape[0] - 1) // 2
    n0, n1, n2 = src.shape
    for i in range(n0):
        for t in range(n1):
            c = w[r]
            for b in range(n2):
                acc[0, b] = c * src[i, t, b]
            for s in range(1, r + 1):
                lo = _index(t - s, n1, nearest)
                hi = _index(t + s, n1, nearest)
                ws = w[r + s]
                if lo < 0 and hi < 0:
                    continue
                for b in range(n2):
                    x = (src[i, lo, b] if lo >= 0 else 0.0) + (src[i, hi, b] if hi >= 0 else 0.0)
                    acc[0, b] += x * ws
            for b in range(n2):
                dst[i, t, b] = acc[0, b]


@kernel
def _pass_third(src, dst, w, nearest, buf):
    r = (w.shape[0] - 1) // 2
    n0, n1, n2 = src.shape
    for i in range(n0):
        for j in range(n1):
            for t in range(n2):
                buf[r + t] = src[i, j, t]
            lo = buf[r] if nearest else 0.0
            hi = buf[r + n2 - 1] if nearest else 0.0
            for t in range(r):
                buf[t] = lo
                buf[r + n2 + t] = hi
            for t in range(n2):
                acc = w[r] * buf[r + t]
                for s in range(1, r + 1):
                    acc += (buf[r + t - s] + buf[r + t + s]) * w[r + s]
                dst[i, j, t] = acc


@kernel(entry=True)
def gaussian3(src, w0, w1, w2, nearest, out):
    """Gaussian smoothing of the float32 volume ``src`` into ``out`` (float32, same shape): the symmetric weights
    ``w0``, ``w1``, ``w2`` (odd lengths; a single weight 1 leaves an axis alone) along the three axes in turn,
    beyond the faces the nearest value (``nearest``) or zero."""
    n0, n1, n2 = src.shape
    tmp = np.empty((n0, n1, n2), dtype=np.float32)
    acc = np.empty((max(n1, 1), max(n2, 1)))
    buf = np.empty(n2 + w2.shape[0])
    _pass_first(src, out, w0, nearest, acc)
    _pass_second(out, tmp, w1, nearest, acc)
    _pass_third(tmp, out, w2, nearest, buf)


@kernel
def _gradient(g, i, j, k, axis, h):
    """``numpy.gradient`` of the float32 volume ``g`` along ``axis`` at (i, j, k): central differences inside,
    one-sided at the faces (the difference in float32, divided in double, stored in float32)."""
    n = g.shape[axis]
    t = i if axis == 0 else (j if axis == 1 else k)
    if n < 2:
        return np.float32(0.0)
    lo, hi = max(t - 1, 0), min(t + 1, n - 1)
    if axis == 0:
        diff = g[hi, j, k] - g[lo, j, k]
    elif axis == 1:
        diff = g[i, hi, k] - g[i, lo, k]
    else:
        diff = g[i, j, hi] - g[i, j, lo]
    return np.float32(np.float64(diff) / ((hi - lo) * h))


@kernel(entry=True)
def normal_blend(g, pv0, pv1, pv2, spacing, out):
    """The partial volumes along the three axes weighted by the squared components of the gradient of ``g`` (the
    mask smoothed), their mean where the gradient vanishes (float32, as ``_slices.partial_volume`` states)."""
    n0, n1, n2 = g.shape
    three = np.float32(3.0)
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                a = _gradient(g, i, j, k, 0, spacing[0])
                b = _gradient(g, i, j, k, 1, spacing[1])
                c = _gradient(g, i, j, k, 2, spacing[2])
                wa, wb, wc = a * a, b * b, c * c
                total = wa + wb + wc
                if total > 0:
                    out[i, j, k] = (wa * pv0[i, j, k] + wb * pv1[i, j, k] + wc * pv2[i, j, k]) / total
                else:
                    out[i, j, k] = (pv0[i, j, k] + pv1[i, j, k] + pv2[i, j, k]) / three
