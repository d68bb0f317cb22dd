"""Coverage of an ellipsoid tumour by a union of zone ellipsoids, exact along rays.

Write the tumour as ``T = {c + M (rho w) : |w| = 1, 0 <= rho <= 1}``. The affine map ``M`` scales every volume by
the same factor, so the covered fraction of ``T`` equals the covered fraction of the unit ball in ``(rho, w)``:

    coverage = (1 / 4 pi) * integral over directions w of  sum over covered rho-intervals of (rho_hi^3 - rho_lo^3).

Along each ray the set covered by zone ellipsoid ``j`` is the interval where the quadratic
``|B_j (c - c_j) + rho B_j M w|^2 <= 1`` holds (``B_j = diag(1/a_j) R_j^T``): solved in closed form, and the
intervals of different ellipsoids are merged exactly. Only the integral over directions is numerical: a midpoint
rule on equal-area cells in ``(cos theta, phi)``. The rule is applied at two resolutions; their difference is
reported as the error estimate.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import kernel

__all__ = ["ray_coverage"]


@kernel(entry=True)
def _coverage_kernel(nz, bm, v, out_counts):
    """Mean over nz x 2nz equal-area directions of the covered cube-measure; also counts partial rays."""
    n = bm.shape[0]
    nphi = 2 * nz
    lo = np.empty(n)
    hi = np.empty(n)
    total = 0.0
    partial = 0
    for a in range(nz):
        z = -1.0 + (a + 0.5) * 2.0 / nz
        s = math.sqrt(max(0.0, 1.0 - z * z))
        for b in range(nphi):
            phi = (b + 0.5) * 2.0 * math.pi / nphi
            w0, w1, w2 = s * math.cos(phi), s * math.sin(phi), z
            m = 0
            for j in range(n):
                q0 = bm[j, 0, 0] * w0 + bm[j, 0, 1] * w1 + bm[j, 0, 2] * w2
                q1 = bm[j, 1, 0] * w0 + bm[j, 1, 1] * w1 + bm[j, 1, 2] * w2
                q2 = bm[j, 2, 0] * w0 + bm[j, 2, 1] * w1 + bm[j, 2, 2] * w2
                alpha = q0 * q0 + q1 * q1 + q2 * q2
                beta = v[j, 0] * q0 + v[j, 1] * q1 + v[j, 2] * q2
                gamma = v[j, 0] * v[j, 0] + v[j, 1] * v[j, 1] + v[j, 2] * v[j, 2] - 1.0
                disc = beta * beta - alpha * gamma
                if disc <= 0.0:
                    continue
                sq = math.sqrt(disc)
                # Stable roots of alpha r^2 + 2 beta r + gamma = 0.
                qq = -(beta + math.copysign(sq, beta))
                r1 = qq / alpha
                r2 = gamma / qq if qq != 0.0 else r1
                r_lo, r_hi = min(r1, r2), max(r1, r2)
                r_lo = max(r_lo, 0.0)
                r_hi = min(r_hi, 1.0)
                if r_lo == 0.0 and r_hi == 1.0:  # this zone covers the whole ray: nothing else to merge
                    lo[0] = 0.0
                    hi[0] = 1.0
                    m = 1
                    break
                if r_lo < r_hi:
                    # insertion into the sorted interval list
                    p = m
                    while p > 0 and lo[p - 1] > r_lo:
                        lo[p] = lo[p - 1]
                        hi[p] = hi[p - 1]
                        p -= 1
                    lo[p] = r_lo
                    hi[p] = r_hi
                    m += 1
            acc = 0.0
            if m > 0:
                cur_lo, cur_hi = lo[0], hi[0]
                for p in range(1, m):
                    if lo[p] <= cur_hi:
                        if hi[p] > cur_hi:
                            cur_hi = hi[p]
                    else:
                        acc += cur_hi**3 - cur_lo**3
                        cur_lo, cur_hi = lo[p], hi[p]
                acc += cur_hi**3 - cur_lo**3
            if acc < 1.0:
                partial += 1
            total += acc
    out_counts[0] = partial
    return total / (nz * nphi)


def ray_coverage(tumor, zones, n_polar: int = 192) -> tuple[float, float]:
    """Covered volume fraction of ``tumor`` by the union of ``zones`` and an error estimate.

    ``n_polar`` sets the direction grid (``n_polar x 2 n_polar`` rays); the estimate is the difference from the
    rule with half as many polar cells.
    """
    if not zones:
        return 0.0, 0.0
    return ray_coverage_arrays(
        tumor.center_mm,
        tumor.rotation,
        tumor.semi_axes_mm,
        np.array([z.center_mm for z in zones]),
        np.array([z.rotation for z in zones]),
        np.array([z.semi_axes_mm for z in zones]),
        n_polar,
    )


def ray_coverage_arrays(tc, tr, te, zc, zr, ze, n_polar: int) -> tuple[float, float]:
    """:func:`ray_coverage` for arrays (tumour centre, rotation, semi-axes; zones stacked)."""
    m = tr * te[None, :]
    b = np.transpose(zr, (0, 2, 1)) / ze[:, :, None]  # B_j = diag(1 / a_j) R_j^T
    bm = np.ascontiguousarray(b @ m)
    v = np.ascontiguousarray(np.einsum("kij,kj->ki", b, tc[None, :] - zc))
    counts = np.zeros(1, dtype=np.int64)
    fine = _coverage_kernel(int(n_polar), bm, v, counts)
    if counts[0] == 0:
        return 1.0, 0.0
    coarse = _coverage_kernel(int(n_polar) // 2, bm, v, counts)
    fine = min(max(fine, 0.0), 1.0)
    return fine, abs(fine - coarse)
