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


@kernel(entry=True)
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


@kernel(entry=True)
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
def crease_nearest(y0, y1, y2, p0, p1, p2, c1, r1, e1, h1, c2, r2, e2, h2):
    """Nearest point to p on the crease {f1 = 0, f2 = 0} of two ellipsoids, by Newton on the KKT system
    ``x - p = l1 grad f1 + l2 grad f2, f1 = f2 = 0`` started at the crease sample y (quadratic convergence;
    ``f = |B (x - c)|^2 - 1`` has the constant Hessian ``h = 2 B^T B``). Each step solves the 5x5 system through its
    Schur complement: ``A = I - l1 h1 - l2 h2`` (3x3, inverted in closed form), then 2x2 for the multipliers.
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
        # residual r = x - p - l1 g1 - l2 g2; A = I - l1 h1 - l2 h2 (symmetric)
        q0 = x0 - p0 - l1 * g10 - l2 * g20
        q1 = x1 - p1 - l1 * g11 - l2 * g21
        q2 = x2 - p2 - l1 * g12 - l2 * g22
        m00 = 1.0 - l1 * h1[0, 0] - l2 * h2[0, 0]
        m11 = 1.0 - l1 * h1[1, 1] - l2 * h2[1, 1]
        m22 = 1.0 - l1 * h1[2, 2] - l2 * h2[2, 2]
        m01 = -l1 * h1[0, 1] - l2 * h2[0, 1]
        m02 = -l1 * h1[0, 2] - l2 * h2[0, 2]
        m12 = -l1 * h1[1, 2] - l2 * h2[1, 2]
        # inverse of A by cofactors
        k00 = m11 * m22 - m12 * m12
        k01 = m02 * m12 - m01 * m22
        k02 = m01 * m12 - m02 * m11
        k11 = m00 * m22 - m02 * m02
        k12 = m01 * m02 - m00 * m12
        k22 = m00 * m11 - m01 * m01
        da = m00 * k00 + m01 * k01 + m02 * k02
        if abs(da) < 1e-300:
            return np.inf, x0, x1, x2
        # w = A^-1 r, u = A^-1 g1, v = A^-1 g2
        w0 = (k00 * q0 + k01 * q1 + k02 * q2) / da
        w1 = (k01 * q0 + k11 * q1 + k12 * q2) / da
        w2 = (k02 * q0 + k12 * q1 + k22 * q2) / da
        u0 = (k00 * g10 + k01 * g11 + k02 * g12) / da
        u1 = (k01 * g10 + k11 * g11 + k12 * g12) / da
        u2 = (k02 * g10 + k12 * g11 + k22 * g12) / da
        v0 = (k00 * g20 + k01 * g21 + k02 * g22) / da
        v1 = (k01 * g20 + k11 * g21 + k12 * g22) / da
        v2 = (k02 * g20 + k12 * g21 + k22 * g22) / da
        # A dx - G dl = -r, G^T dx = -f  =>  (G^T A^-1 G) dl = G^T A^-1 r - f, dx = A^-1 (G dl - r)
        s11 = g10 * u0 + g11 * u1 + g12 * u2
        s12 = g10 * v0 + g11 * v1 + g12 * v2
        s21 = g20 * u0 + g21 * u1 + g22 * u2
        s22 = g20 * v0 + g21 * v1 + g22 * v2
        t1 = g10 * w0 + g11 * w1 + g12 * w2 - f1
        t2 = g20 * w0 + g21 * w1 + g22 * w2 - f2
        ds = s11 * s22 - s12 * s21
        if abs(ds) < 1e-300:
            return np.inf, x0, x1, x2
        dl1 = (s22 * t1 - s12 * t2) / ds
        dl2 = (s11 * t2 - s21 * t1) / ds
        d0 = dl1 * u0 + dl2 * v0 - w0
        d1 = dl1 * u1 + dl2 * v1 - w1
        d2 = dl1 * u2 + dl2 * v2 - w2
        x0 += d0
        x1 += d1
        x2 += d2
        l1 += dl1
        l2 += dl2
        f1, g10, g11, g12 = implicit_grad(x0, x1, x2, c1, r1, e1)
        f2, g20, g21, g22 = implicit_grad(x0, x1, x2, c2, r2, e2)
        # a step below 1e-7 mm leaves the constraints satisfied to O(step^2) and the distance, stationary at the
        # optimum, right to O(step^2) as well: far below 1e-12 mm
        if d0 * d0 + d1 * d1 + d2 * d2 < 1e-14 and abs(f1) < 1e-13 and abs(f2) < 1e-13:
            return math.sqrt((x0 - p0) ** 2 + (x1 - p1) ** 2 + (x2 - p2) ** 2), x0, x1, x2
    return np.inf, x0, x1, x2
