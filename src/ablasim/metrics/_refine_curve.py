"""Numba kernels: 1-D refinement along a curve where two level sets meet, and the nearest point of a crease.

Curves (``kind``), each the intersection ``{f1 = 0, f2 = 0}``:

* ``CURVE_CREASE`` (0): two zone surfaces meet, ``f1 = implicit(E1)``, ``f2 = implicit(E2)``;
* ``CURVE_RIDGE`` (1): on the tumour surface, two zone ellipsoids equally far, ``f1 = implicit(T)``,
  ``f2 = sd(E1) - sd(E2)``;
* ``CURVE_LEVEL`` (2): on the tumour surface, a level of the signed distance to one ellipsoid,
  ``f1 = implicit(T)``, ``f2 = sd(E1) - level`` (the edge of a capsule exclusion: ``E1`` the organ).

Points are moved along the tangent ``grad f1 x grad f2`` and projected back by Gauss-Newton; the 1-D minimum is
found by safeguarded Newton on the directional derivative (curvature by a finite difference). Side constraints
(:func:`ablasim.metrics._refine.side_ok`) end the curve: the walk stops at that endpoint (located by bisection).
``converged``: the 1-D Newton decrement ``deriv^2 / (2 curv)`` fell below ``DECREMENT_MM`` with positive
curvature, or the walk stopped at an endpoint.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import kernel
from ..geometry._kernels.ellipsoid import signed_distance
from ._refine import DECREMENT_MM, implicit_grad, objective, side_ok

CURVE_CREASE = 0
CURVE_RIDGE = 1
CURVE_LEVEL = 2

STATUS_FAILED = 0
STATUS_INTERIOR = 1  # converged to a minimum inside the curve's feasible part
STATUS_ENDPOINT = 2  # stopped where a side constraint cuts the curve (a triple point for creases and ridges)


@kernel
def constraints(kind, x0, x1, x2, c1, r1, e1, c2, r2, e2, tc, tr, te, level):
    """(f1, f2) at x with their gradients: (f1, g1_0, g1_1, g1_2, f2, g2_0, g2_1, g2_2)."""
    if kind == 0:
        f1, a0, a1, a2 = implicit_grad(x0, x1, x2, c1, r1, e1)
        f2, b0, b1, b2 = implicit_grad(x0, x1, x2, c2, r2, e2)
        return f1, a0, a1, a2, f2, b0, b1, b2
    f1, a0, a1, a2 = implicit_grad(x0, x1, x2, tc, tr, te)
    s1, _, _, _, n0, n1, n2 = signed_distance(x0, x1, x2, c1, r1, e1)
    if kind == 1:
        s2, _, _, _, m0, m1, m2 = signed_distance(x0, x1, x2, c2, r2, e2)
        return f1, a0, a1, a2, s1 - s2, n0 - m0, n1 - m1, n2 - m2
    return f1, a0, a1, a2, s1 - level, n0, n1, n2


@kernel
def project(kind, x0, x1, x2, c1, r1, e1, c2, r2, e2, tc, tr, te, level):
    """Gauss-Newton projection of x onto {f1 = 0, f2 = 0}.

    Returns (ok, x0, x1, x2, tangent0, tangent1, tangent2): the tangent ``g1 x g2`` normalised (zero if the
    gradients are parallel)."""
    for _ in range(40):
        f1, a0, a1, a2, f2, b0, b1, b2 = constraints(kind, x0, x1, x2, c1, r1, e1, c2, r2, e2, tc, tr, te, level)
        a11 = a0 * a0 + a1 * a1 + a2 * a2
        a22 = b0 * b0 + b1 * b1 + b2 * b2
        a12 = a0 * b0 + a1 * b1 + a2 * b2
        det = a11 * a22 - a12 * a12
        if not det > 1e-14 * a11 * a22:
            return False, x0, x1, x2, 0.0, 0.0, 0.0
        l1 = (a22 * f1 - a12 * f2) / det
        l2 = (a11 * f2 - a12 * f1) / det
        d0 = -(l1 * a0 + l2 * b0)
        d1 = -(l1 * a1 + l2 * b1)
        d2 = -(l1 * a2 + l2 * b2)
        x0 += d0
        x1 += d1
        x2 += d2
        if d0 * d0 + d1 * d1 + d2 * d2 < 1e-26:
            t0 = a1 * b2 - a2 * b1
            t1 = a2 * b0 - a0 * b2
            t2 = a0 * b1 - a1 * b0
            nn = math.sqrt(t0 * t0 + t1 * t1 + t2 * t2)
            if nn == 0.0:
                return False, x0, x1, x2, 0.0, 0.0, 0.0
            return True, x0, x1, x2, t0 / nn, t1 / nn, t2 / nn
    return False, x0, x1, x2, 0.0, 0.0, 0.0


@kernel
def refine_curve(
    y0,
    y1,
    y2,
    kind,
    c1,
    r1,
    e1,
    c2,
    r2,
    e2,
    tc,
    tr,
    te,
    level,
    mode,
    oc,
    orr,
    oe,
    zc,
    zr,
    ze,
    a,
    b,
    side_kind,
    max_iter,
):
    """Minimise objective ``mode`` (target ellipsoid (oc, orr, oe)) along the curve through y.

    ``side_kind`` with zones a, b (indices into zc, zr, ze) is the side constraint. Returns
    (value, x0, x1, x2, status, converged).
    """
    ok, x0, x1, x2, t0, t1, t2 = project(kind, y0, y1, y2, c1, r1, e1, c2, r2, e2, tc, tr, te, level)
    if not ok:
        return np.inf, y0, y1, y2, STATUS_FAILED, False
    val, g0, g1, g2 = objective(mode, x0, x1, x2, oc, orr, oe, 0.0, 0.0, 0.0)
    if t0 + 0.7 * t1 + 0.3 * t2 < 0.0:  # a fixed orientation
        t0, t1, t2 = -t0, -t1, -t2
    deriv = g0 * t0 + g1 * t1 + g2 * t2
    radius = 2.0
    h = 1e-6
    status = STATUS_INTERIOR
    converged = False
    for _ in range(max_iter):
        okh, h0, h1, h2, s0, s1, s2 = project(
            kind, x0 + h * t0, x1 + h * t1, x2 + h * t2, c1, r1, e1, c2, r2, e2, tc, tr, te, level
        )
        curv = -1.0
        if okh:
            if s0 * t0 + s1 * t1 + s2 * t2 < 0.0:
                s0, s1, s2 = -s0, -s1, -s2
            _, q0, q1, q2 = objective(mode, h0, h1, h2, oc, orr, oe, 0.0, 0.0, 0.0)
            curv = ((q0 * s0 + q1 * s1 + q2 * s2) - deriv) / h
        if curv > 0.0 and 0.5 * deriv * deriv / curv <= DECREMENT_MM:
            converged = True
            break
        if curv > 0.0:
            s = -deriv / curv
        else:
            s = -radius if deriv > 0 else radius
        if abs(s) > radius:
            s = radius if s > 0 else -radius
        if abs(s) < 1e-13:
            break
        okn, n0, n1, n2, m0, m1, m2 = project(
            kind, x0 + s * t0, x1 + s * t1, x2 + s * t2, c1, r1, e1, c2, r2, e2, tc, tr, te, level
        )
        if okn and not side_ok(side_kind, n0, n1, n2, zc, zr, ze, a, b, 0.0):
            # Walked off the feasible part: bisect for the endpoint and stop there if it is better.
            lo, hi = 0.0, 1.0
            for _k in range(60):
                mid = 0.5 * (lo + hi)
                okm, k0, k1, k2, _, _, _ = project(
                    kind,
                    x0 + mid * s * t0,
                    x1 + mid * s * t1,
                    x2 + mid * s * t2,
                    c1,
                    r1,
                    e1,
                    c2,
                    r2,
                    e2,
                    tc,
                    tr,
                    te,
                    level,
                )
                if okm and side_ok(side_kind, k0, k1, k2, zc, zr, ze, a, b, 0.0):
                    lo = mid
                else:
                    hi = mid
            oke, k0, k1, k2, _, _, _ = project(
                kind, x0 + lo * s * t0, x1 + lo * s * t1, x2 + lo * s * t2, c1, r1, e1, c2, r2, e2, tc, tr, te, level
            )
            if oke:
                v_end = objective(mode, k0, k1, k2, oc, orr, oe, 0.0, 0.0, 0.0)[0]
                if v_end <= val:  # still descending at the end: the constrained minimum is the endpoint
                    x0, x1, x2 = k0, k1, k2
                    val = v_end
                    status = STATUS_ENDPOINT
                    converged = True
                    break
            radius = 0.5 * lo * abs(s)  # the minimum lies before the endpoint: shorter steps
            if radius < 1e-13:
                break
            continue
        if okn:
            vn, g0, g1, g2 = objective(mode, n0, n1, n2, oc, orr, oe, 0.0, 0.0, 0.0)
            if vn < val or (vn == val and abs(s) < 1e-12):
                if m0 * t0 + m1 * t1 + m2 * t2 < 0.0:
                    m0, m1, m2 = -m0, -m1, -m2
                x0, x1, x2 = n0, n1, n2
                t0, t1, t2 = m0, m1, m2
                val = vn
                deriv = g0 * t0 + g1 * t1 + g2 * t2
                radius = min(2.0 * abs(s) + 1e-3, 4.0)
                continue
        radius = 0.25 * abs(s)
        if radius < 1e-13:
            break
    return val, x0, x1, x2, status, converged


@kernel
def _solve5(a, b):
    """Solve the 5x5 system a x = b in place (Gaussian elimination, partial pivoting); False if singular."""
    n = 5
    for col in range(n):
        piv = col
        for rr in range(col + 1, n):
            if abs(a[rr, col]) > abs(a[piv, col]):
                piv = rr
        if abs(a[piv, col]) < 1e-300:
            return False
        if piv != col:
            for cc in range(n):
                tmp = a[col, cc]
                a[col, cc] = a[piv, cc]
                a[piv, cc] = tmp
            tmp = b[col]
            b[col] = b[piv]
            b[piv] = tmp
        for rr in range(col + 1, n):
            f = a[rr, col] / a[col, col]
            for cc in range(col, n):
                a[rr, cc] -= f * a[col, cc]
            b[rr] -= f * b[col]
    for rr in range(n - 1, -1, -1):
        s = b[rr]
        for cc in range(rr + 1, n):
            s -= a[rr, cc] * b[cc]
        b[rr] = s / a[rr, rr]
    return True


@kernel
def implicit_hessians(zc, zr, ze, out):
    """``out[k] = 2 B_k^T B_k``, the constant Hessian of ``implicit`` for zone k (``B = diag(1/e) R^T``)."""
    for k in range(zc.shape[0]):
        for i in range(3):
            for j in range(3):
                acc = 0.0
                for m in range(3):
                    acc += zr[k, i, m] * zr[k, j, m] / (ze[k, m] * ze[k, m])
                out[k, i, j] = 2.0 * acc


@kernel
def crease_nearest(y0, y1, y2, p0, p1, p2, c1, r1, e1, h1, c2, r2, e2, h2, a, b):
    """Nearest point to p on the crease {f1 = 0, f2 = 0} of two ellipsoids, by Newton on the KKT system
    ``x - p = l1 grad f1 + l2 grad f2, f1 = f2 = 0`` started at the crease sample y (quadratic convergence;
    ``f = |B (x - c)|^2 - 1`` has the constant Hessian ``h = 2 B^T B``). ``a`` (5x5) and ``b`` (5) are work arrays.
    Returns (distance, x0, x1, x2); the distance is inf if Newton fails.
    """
    x0, x1, x2 = y0, y1, y2
    f1, g10, g11, g12 = implicit_grad(x0, x1, x2, c1, r1, e1)
    f2, g20, g21, g22 = implicit_grad(x0, x1, x2, c2, r2, e2)
    a11 = g10 * g10 + g11 * g11 + g12 * g12
    a22 = g20 * g20 + g21 * g21 + g22 * g22
    a12 = g10 * g20 + g11 * g21 + g12 * g22
    det = a11 * a22 - a12 * a12
    if not det > 1e-14 * a11 * a22:
        return np.inf, x0, x1, x2
    bb1 = g10 * (x0 - p0) + g11 * (x1 - p1) + g12 * (x2 - p2)
    bb2 = g20 * (x0 - p0) + g21 * (x1 - p1) + g22 * (x2 - p2)
    l1 = (a22 * bb1 - a12 * bb2) / det
    l2 = (a11 * bb2 - a12 * bb1) / det
    for _ in range(30):
        for i in range(3):
            xi = x0 if i == 0 else (x1 if i == 1 else x2)
            pi = p0 if i == 0 else (p1 if i == 1 else p2)
            gi1 = g10 if i == 0 else (g11 if i == 1 else g12)
            gi2 = g20 if i == 0 else (g21 if i == 1 else g22)
            b[i] = -(xi - pi - l1 * gi1 - l2 * gi2)
            for j in range(3):
                a[i, j] = (1.0 if i == j else 0.0) - l1 * h1[i, j] - l2 * h2[i, j]
            a[i, 3] = -gi1
            a[i, 4] = -gi2
            a[3, i] = gi1
            a[4, i] = gi2
        a[3, 3] = 0.0
        a[3, 4] = 0.0
        a[4, 3] = 0.0
        a[4, 4] = 0.0
        b[3] = -f1
        b[4] = -f2
        if not _solve5(a, b):
            return np.inf, x0, x1, x2
        step = math.sqrt(b[0] ** 2 + b[1] ** 2 + b[2] ** 2)
        x0 += b[0]
        x1 += b[1]
        x2 += b[2]
        l1 += b[3]
        l2 += b[4]
        f1, g10, g11, g12 = implicit_grad(x0, x1, x2, c1, r1, e1)
        f2, g20, g21, g22 = implicit_grad(x0, x1, x2, c2, r2, e2)
        if step < 1e-13 and abs(f1) < 1e-13 and abs(f2) < 1e-13:
            return math.sqrt((x0 - p0) ** 2 + (x1 - p1) ** 2 + (x2 - p2) ** 2), x0, x1, x2
    return np.inf, x0, x1, x2
