"""Numba kernels for one ellipsoid: exact nearest surface point, signed distance, rasterisation.

Array-only and private; the public API in :mod:`ablasim.geometry.shapes` validates inputs first.

Nearest point (the math, stated so the code can be checked against it)
--------------------------------------------------------------------
In the ellipsoid's local frame (semi-axes ``e``), the point ``x`` of the surface nearest to ``y`` satisfies the
Lagrange condition ``x_k = e_k^2 y_k / (e_k^2 + t)`` with ``F(t) = sum_k (e_k y_k / (e_k^2 + t))^2 = 1``. On
``t > -e_min^2`` ``F`` is positive, decreasing and convex, so the root there is unique and is the global nearest
point, whether ``y`` is inside or outside (the largest root of the degree-6 polynomial). We solve in
``u = t + e_min^2 > 0`` so the denominators ``(e_k^2 - e_min^2) + u`` carry no cancellation. Newton's method on a
convex decreasing function started left of the root never overshoots, so we start from a certified lower bound:
term ``k`` alone is >= 1 while ``u <= e_k |y_k| - (e_k^2 - e_min^2)``, and ``F >= e_min^2 |y|^2 / (d_max + u)^2``.
The only other case is an inside point with zero coordinates along every shortest axis and ``F`` <= 1 at
``u = 0``: the nearest points then form a circle or a pair, and we return the one on the first shortest axis.
"""

from __future__ import annotations

import math

import numpy as np

from ..._jit import kernel

_GROUP_TOL = 1e-12  # relative tolerance for "this axis is a shortest axis"


@kernel
def foot_local(y0, y1, y2, e0, e1, e2):
    """Nearest surface point (x0, x1, x2) and signed distance (> 0 outside) for local point y."""
    x0, x1, x2, sd, _ = foot_local_warm(y0, y1, y2, e0, e1, e2, -1.0)
    return x0, x1, x2, sd


@kernel
def foot_local_warm(y0, y1, y2, e0, e1, e2, u_warm):
    """:func:`foot_local` started from ``u_warm`` (the root of a nearby point; <= 0: none); also returns the root.

    A warm start right of the root is moved left of it by one Newton step (the tangent of a convex decreasing
    function lies below it, so the step cannot overshoot the root) and never below the certified lower bound; from
    there Newton increases monotonically to the root, as from a cold start. Nearby points need a few iterations.
    """
    a0, a1, a2 = abs(y0), abs(y1), abs(y2)
    emin = min(e0, min(e1, e2))
    emin2 = emin * emin
    d0 = e0 * e0 - emin2
    d1 = e1 * e1 - emin2
    d2 = e2 * e2 - emin2
    tol = _GROUP_TOL * emin2
    g0 = d0 <= tol
    g1 = d1 <= tol
    g2 = d2 <= tol
    if g0:
        d0 = 0.0
    if g1:
        d1 = 0.0
    if g2:
        d2 = 0.0
    q = (a0 / e0) ** 2 + (a1 / e1) ** 2 + (a2 / e2) ** 2
    outside = q > 1.0

    group_zero = (not g0 or a0 == 0.0) and (not g1 or a1 == 0.0) and (not g2 or a2 == 0.0)
    if group_zero and not outside:
        # u -> 0: only non-shortest axes contribute.
        f0 = 0.0
        if not g0:
            f0 += (e0 * a0 / d0) ** 2
        if not g1:
            f0 += (e1 * a1 / d1) ** 2
        if not g2:
            f0 += (e2 * a2 / d2) ** 2
        if f0 <= 1.0:
            x0 = 0.0 if g0 else e0 * e0 * a0 / d0
            x1 = 0.0 if g1 else e1 * e1 * a1 / d1
            x2 = 0.0 if g2 else e2 * e2 * a2 / d2
            rest = 1.0 - (x0 / e0) ** 2 - (x1 / e1) ** 2 - (x2 / e2) ** 2
            h = emin * math.sqrt(max(rest, 0.0))
            if g0:
                x0 = h
            elif g1:
                x1 = h
            else:
                x2 = h
            dist = math.sqrt((x0 - a0) ** 2 + (x1 - a1) ** 2 + (x2 - a2) ** 2)
            return (math.copysign(x0, y0), math.copysign(x1, y1), math.copysign(x2, y2), -dist, -1.0)

    # Certified lower bound for the root (F(u_lo) >= 1).
    norm = math.sqrt(a0 * a0 + a1 * a1 + a2 * a2)
    dmax = max(d0, max(d1, d2))
    u = emin * norm - dmax
    u = max(u, e0 * a0 - d0)
    u = max(u, e1 * a1 - d1)
    u = max(u, e2 * a2 - d2)
    if outside:
        u = max(u, emin2)
    if u <= 0.0:
        u = emin2 * 1e-300 + 1e-300
    if u_warm > u:
        r0 = e0 * a0 / (d0 + u_warm)
        r1 = e1 * a1 / (d1 + u_warm)
        r2 = e2 * a2 / (d2 + u_warm)
        f = r0 * r0 + r1 * r1 + r2 * r2 - 1.0
        if f >= 0.0:
            u = u_warm
        else:
            df = r0 * r0 / (d0 + u_warm) + r1 * r1 / (d1 + u_warm) + r2 * r2 / (d2 + u_warm)
            u = max(u, u_warm + f / (2.0 * df))
    for _ in range(200):
        r0 = e0 * a0 / (d0 + u)
        r1 = e1 * a1 / (d1 + u)
        r2 = e2 * a2 / (d2 + u)
        f = r0 * r0 + r1 * r1 + r2 * r2 - 1.0
        if f <= 0.0:
            break
        df = r0 * r0 / (d0 + u) + r1 * r1 / (d1 + u) + r2 * r2 / (d2 + u)
        step = f / (2.0 * df)
        u_new = u + step
        if u_new == u:
            break
        u = u_new
    x0 = e0 * e0 * a0 / (d0 + u)
    x1 = e1 * e1 * a1 / (d1 + u)
    x2 = e2 * e2 * a2 / (d2 + u)
    dist = math.sqrt((x0 - a0) ** 2 + (x1 - a1) ** 2 + (x2 - a2) ** 2)
    if not outside:
        dist = -dist
    return (math.copysign(x0, y0), math.copysign(x1, y1), math.copysign(x2, y2), dist, u)


@kernel
def signed_distance(px, py, pz, c, rot, e):
    """Signed distance (> 0 outside), nearest surface point and outward unit normal there, in world frame.

    ``rot`` columns are the ellipsoid's local axes. The gradient of the signed distance at ``p`` equals the outward
    normal at the nearest point, which is what we return (robust even when the distance is ~0).
    Returns (sd, fx, fy, fz, nx, ny, nz).
    """
    sd, fx, fy, fz, nx, ny, nz, _ = signed_distance_warm(px, py, pz, c, rot, e, -1.0)
    return sd, fx, fy, fz, nx, ny, nz


@kernel
def signed_distance_warm(px, py, pz, c, rot, e, u_warm):
    """:func:`signed_distance` warm-started (see :func:`foot_local_warm`); returns the root ``u`` last."""
    wx, wy, wz = px - c[0], py - c[1], pz - c[2]
    y0 = rot[0, 0] * wx + rot[1, 0] * wy + rot[2, 0] * wz
    y1 = rot[0, 1] * wx + rot[1, 1] * wy + rot[2, 1] * wz
    y2 = rot[0, 2] * wx + rot[1, 2] * wy + rot[2, 2] * wz
    x0, x1, x2, sd, u = foot_local_warm(y0, y1, y2, e[0], e[1], e[2], u_warm)
    n0, n1, n2 = x0 / (e[0] * e[0]), x1 / (e[1] * e[1]), x2 / (e[2] * e[2])
    nn = math.sqrt(n0 * n0 + n1 * n1 + n2 * n2)
    n0, n1, n2 = n0 / nn, n1 / nn, n2 / nn
    fx = c[0] + rot[0, 0] * x0 + rot[0, 1] * x1 + rot[0, 2] * x2
    fy = c[1] + rot[1, 0] * x0 + rot[1, 1] * x1 + rot[1, 2] * x2
    fz = c[2] + rot[2, 0] * x0 + rot[2, 1] * x1 + rot[2, 2] * x2
    nx = rot[0, 0] * n0 + rot[0, 1] * n1 + rot[0, 2] * n2
    ny = rot[1, 0] * n0 + rot[1, 1] * n1 + rot[1, 2] * n2
    nz = rot[2, 0] * n0 + rot[2, 1] * n1 + rot[2, 2] * n2
    return sd, fx, fy, fz, nx, ny, nz, u


@kernel
def implicit(px, py, pz, c, rot, e):
    """Algebraic level ``|y / e|^2 - 1``: < 0 inside, 0 on the surface, > 0 outside (sign test only)."""
    wx, wy, wz = px - c[0], py - c[1], pz - c[2]
    y0 = (rot[0, 0] * wx + rot[1, 0] * wy + rot[2, 0] * wz) / e[0]
    y1 = (rot[0, 1] * wx + rot[1, 1] * wy + rot[2, 1] * wz) / e[1]
    y2 = (rot[0, 2] * wx + rot[1, 2] * wy + rot[2, 2] * wz) / e[2]
    return y0 * y0 + y1 * y1 + y2 * y2 - 1.0


def signed_distance_many(points, c, rot, e, out_sd, out_foot):
    """Signed distance and nearest surface point for each row of ``points`` (each warm-started from the previous
    row's root: consecutive rows are usually close). The ellipsoid's arrays are copied first: read-only arrays (an
    Ellipsoid's are) would make numba compile every kernel below once more."""
    _signed_distance_many(
        points,
        np.array(c, dtype=np.float64),
        np.array(rot, dtype=np.float64),
        np.array(e, dtype=np.float64),
        out_sd,
        out_foot,
    )


@kernel(entry=True)
def _signed_distance_many(points, c, rot, e, out_sd, out_foot):
    u = -1.0
    for i in range(points.shape[0]):
        sd, fx, fy, fz, _, _, _, u = signed_distance_warm(points[i, 0], points[i, 1], points[i, 2], c, rot, e, u)
        out_sd[i] = sd
        out_foot[i, 0] = fx
        out_foot[i, 1] = fy
        out_foot[i, 2] = fz


@kernel(entry=True)
def rasterize(lin, off, lo, hi, emin_idx_scale, half_diag, subsamples, out):
    """Fill ``out`` (bool or float32 fractions) over the index box ``[lo, hi)``.

    ``z = lin @ idx + off`` maps a voxel index to the ellipsoid's unit-sphere coordinates. A voxel whose
    ellipsoidal radius ``rho = |z|`` satisfies ``|rho - 1| * e_min > half_diag`` is entirely in or out (the shell
    between the surfaces ``rho = 1`` and ``rho = r`` is at least ``|r - 1| * e_min`` thick); other voxels are
    supersampled with ``subsamples^3`` points when ``subsamples > 1`` (partial volumes), else sampled at the centre.
    ``emin_idx_scale`` is ``e_min`` in mm; ``half_diag`` the voxel half-diagonal in mm.
    """
    n = subsamples
    inv = 1.0 / (n * n * n) if n > 1 else 1.0
    for i in range(lo[0], hi[0]):
        for j in range(lo[1], hi[1]):
            for k in range(lo[2], hi[2]):
                z0 = lin[0, 0] * i + lin[0, 1] * j + lin[0, 2] * k + off[0]
                z1 = lin[1, 0] * i + lin[1, 1] * j + lin[1, 2] * k + off[1]
                z2 = lin[2, 0] * i + lin[2, 1] * j + lin[2, 2] * k + off[2]
                rho = math.sqrt(z0 * z0 + z1 * z1 + z2 * z2)
                if n <= 1 or abs(rho - 1.0) * emin_idx_scale > half_diag:
                    if rho <= 1.0:
                        out[i, j, k] = 1
                    continue
                count = 0
                for a in range(n):
                    da = (a + 0.5) / n - 0.5
                    for b in range(n):
                        db = (b + 0.5) / n - 0.5
                        for cc in range(n):
                            dc = (cc + 0.5) / n - 0.5
                            s0 = z0 + lin[0, 0] * da + lin[0, 1] * db + lin[0, 2] * dc
                            s1 = z1 + lin[1, 0] * da + lin[1, 1] * db + lin[1, 2] * dc
                            s2 = z2 + lin[2, 0] * da + lin[2, 1] * db + lin[2, 2] * dc
                            if s0 * s0 + s1 * s1 + s2 * s2 <= 1.0:
                                count += 1
                out[i, j, k] = count * inv


@kernel
def secondary_feet_local(y0, y1, y2, e0, e1, e2):
    """Critical points of the distance from local point y to the surface other than the nearest one that can be
    local minima.

    With semi-axes sorted ``a >= b >= c``, the Hessian of the Lagrangian at a root ``t`` of ``F(t) = 1`` is
    ``diag(1 + t / e_k^2)``: for ``t > -c^2`` it is positive (the global minimum, :func:`foot_local`); for
    ``t < -b^2`` two or three entries are negative, so the critical point is a saddle or a maximum on the 2-D
    surface. Other local minima therefore come from roots in ``(-b^2, -c^2)``, where ``F`` is convex with poles at
    both ends: there are none if ``min F > 1``, else two (a local minimum and a saddle). Returns
    ``(count, xa0, xa1, xa2, xb0, xb1, xb2)``; ``count = -1`` flags a degenerate case (a zero coordinate on the two
    shortest axes) where the caller must search otherwise; ``count = 0`` if there is no such root (including when
    ``b == c``).
    """
    # sort the axes (a >= b >= c) with their coordinates, without allocating
    ia, ib, ic = 0, 1, 2
    if e1 > e0:
        ia, ib = 1, 0
    ev = (e0, e1, e2)
    if e2 > ev[ib]:
        ib, ic = 2, ib
        if ev[ib] > ev[ia]:
            ia, ib = ib, ia
    yv = (y0, y1, y2)
    a, b, c = ev[ia], ev[ib], ev[ic]
    if b - c <= 1e-9 * c:
        return 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    ya, yb, yc = abs(yv[ia]), abs(yv[ib]), abs(yv[ic])
    if yb <= 1e-12 * b or yc <= 1e-12 * c:
        return -1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    da = a * a - c * c
    db = b * b - c * c
    ka, kb, kc = (a * ya) ** 2, (b * yb) ** 2, (c * yc) ** 2
    # Quick exit: F >= kb / (db + u)^2 + kc / u^2, whose minimum over (-db, 0) is
    # (kb^(1/3) + kc^(1/3))^3 / db^2 (outside the evolute of the (b, c) cross-section there is no root).
    if (kb ** (1.0 / 3.0) + kc ** (1.0 / 3.0)) ** 3 > db * db:
        return 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    # minimise the convex F on (-db, 0): F' is increasing; bisection on its sign
    lo, hi = -db, 0.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        dfm = -2.0 * (ka / (da + mid) ** 3 + kb / (db + mid) ** 3 + kc / mid**3)
        if dfm < 0.0:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-15 * db:
            break
    um = 0.5 * (lo + hi)
    fmin = ka / (da + um) ** 2 + kb / (db + um) ** 2 + kc / um**2
    if fmin > 1.0:
        return 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    r0 = r1 = r2 = s0 = s1 = s2 = 0.0
    for side in range(2):
        # F decreases on (-db, um) and increases on (um, 0): bisection for F = 1 on each side
        lo, hi = (-db, um) if side == 0 else (um, 0.0)
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            fm = ka / (da + mid) ** 2 + kb / (db + mid) ** 2 + kc / mid**2
            if (fm > 1.0) == (side == 0):
                lo = mid
            else:
                hi = mid
            if hi - lo <= 1e-15 * db:
                break
        u = 0.5 * (lo + hi)
        xa = a * a * ya / (da + u)
        xb = b * b * yb / (db + u)
        xc = c * c * yc / u
        # back to the caller's axis order, restoring the signs of y
        x0 = xa if ia == 0 else (xb if ib == 0 else xc)
        x1 = xa if ia == 1 else (xb if ib == 1 else xc)
        x2 = xa if ia == 2 else (xb if ib == 2 else xc)
        x0 = x0 if y0 >= 0.0 else -x0
        x1 = x1 if y1 >= 0.0 else -x1
        x2 = x2 if y2 >= 0.0 else -x2
        if side == 0:
            r0, r1, r2 = x0, x1, x2
        else:
            s0, s1, s2 = x0, x1, x2
    return 2, r0, r1, r2, s0, s1, s2
