"""Numba kernels: 1-D refinement along a crease (two zone surfaces meet) or a ridge (on the tumour surface,
two zone ellipsoids equally far). See :mod:`ablasim.metrics._refine` for the objectives."""

from __future__ import annotations

import math

import numpy as np

from .._jit import kernel
from ..geometry._kernels.ellipsoid import signed_distance
from ._refine import _implicit_grad, objective, side_ok

STATUS_FAILED = 0
STATUS_INTERIOR = 1  # converged to a minimum inside the curve's feasible part
STATUS_ENDPOINT = 2  # stopped where a third surface cuts the curve (triple point)


@kernel
def _constraints(kind, x, zc, zr, ze, a, b, tc, tr, te, g1, g2):
    if kind == 0:
        f1 = _implicit_grad(x, zc[a], zr[a], ze[a], g1)
        f2 = _implicit_grad(x, zc[b], zr[b], ze[b], g2)
        return f1, f2
    f1 = _implicit_grad(x, tc, tr, te, g1)
    sa, _, _, _, ax, ay, az = signed_distance(x[0], x[1], x[2], zc[a], zr[a], ze[a])
    sb, _, _, _, bx, by, bz = signed_distance(x[0], x[1], x[2], zc[b], zr[b], ze[b])
    g2[0], g2[1], g2[2] = ax - bx, ay - by, az - bz
    return f1, sa - sb


@kernel
def project(kind, x, zc, zr, ze, a, b, tc, tr, te, g1, g2):
    """Gauss-Newton projection of x onto {f1 = 0, f2 = 0} (in place). Returns False if it fails."""
    for _ in range(40):
        f1, f2 = _constraints(kind, x, zc, zr, ze, a, b, tc, tr, te, g1, g2)
        a11 = g1[0] * g1[0] + g1[1] * g1[1] + g1[2] * g1[2]
        a22 = g2[0] * g2[0] + g2[1] * g2[1] + g2[2] * g2[2]
        a12 = g1[0] * g2[0] + g1[1] * g2[1] + g1[2] * g2[2]
        det = a11 * a22 - a12 * a12
        if not det > 1e-14 * a11 * a22:
            return False
        l1 = (a22 * f1 - a12 * f2) / det
        l2 = (a11 * f2 - a12 * f1) / det
        step = 0.0
        for k in range(3):
            dx = -(l1 * g1[k] + l2 * g2[k])
            x[k] += dx
            step += dx * dx
        if step < 1e-26:
            return True
    return False


@kernel
def _tangent(g1, g2, ref, out):
    out[0] = g1[1] * g2[2] - g1[2] * g2[1]
    out[1] = g1[2] * g2[0] - g1[0] * g2[2]
    out[2] = g1[0] * g2[1] - g1[1] * g2[0]
    nn = math.sqrt(out[0] ** 2 + out[1] ** 2 + out[2] ** 2)
    if nn == 0.0:
        return False
    out /= nn
    if out[0] * ref[0] + out[1] * ref[1] + out[2] * ref[2] < 0.0:
        out *= -1.0
    return True


@kernel
def refine_curve(x0, kind, zc, zr, ze, a, b, tc, tr, te, mode, oc, orr, oe, p, side_kind, max_iter, x_out):
    """Minimise the objective along the curve through x0; returns (value, status); the point goes to x_out.

    ``kind`` picks the curve (crease of zones a, b or ridge of zones a, b on the tumour); the objective is
    ``mode`` with target ellipsoid (oc, orr, oe) or point p; ``side_kind`` picks the side constraint.
    """
    x = x0.copy()
    g1 = np.empty(3)
    g2 = np.empty(3)
    g = np.empty(3)
    tau = np.empty(3)
    tau_h = np.empty(3)
    xn = np.empty(3)
    xh = np.empty(3)
    ref = np.array([1.0, 0.7, 0.3])
    if not project(kind, x, zc, zr, ze, a, b, tc, tr, te, g1, g2):
        x_out[:] = x0
        return np.inf, STATUS_FAILED
    if not _tangent(g1, g2, ref, tau):
        x_out[:] = x
        return np.inf, STATUS_FAILED
    val = objective(mode, x, oc, orr, oe, p, g)
    deriv = g[0] * tau[0] + g[1] * tau[1] + g[2] * tau[2]
    radius = 2.0
    h = 1e-6
    status = STATUS_INTERIOR
    for _ in range(max_iter):
        xh[:] = x + h * tau
        curv = -1.0
        if project(kind, xh, zc, zr, ze, a, b, tc, tr, te, g1, g2) and _tangent(g1, g2, tau, tau_h):
            objective(mode, xh, oc, orr, oe, p, g)
            curv = ((g[0] * tau_h[0] + g[1] * tau_h[1] + g[2] * tau_h[2]) - deriv) / h
        if curv > 0.0:
            s = -deriv / curv
        else:
            s = -radius if deriv > 0 else radius
        if abs(s) > radius:
            s = radius if s > 0 else -radius
        if abs(s) < 1e-13:
            break
        xn[:] = x + s * tau
        ok = project(kind, xn, zc, zr, ze, a, b, tc, tr, te, g1, g2)
        if ok and not side_ok(side_kind, xn, zc, zr, ze, a, b, 0.0):
            # Walked off the feasible part: bisect for the endpoint and stop there if it is better.
            lo, hi = 0.0, 1.0
            for _k in range(60):
                mid = 0.5 * (lo + hi)
                xh[:] = x + mid * s * tau
                if project(kind, xh, zc, zr, ze, a, b, tc, tr, te, g1, g2) and side_ok(
                    side_kind, xh, zc, zr, ze, a, b, 0.0
                ):
                    lo = mid
                else:
                    hi = mid
            xh[:] = x + lo * s * tau
            if project(kind, xh, zc, zr, ze, a, b, tc, tr, te, g1, g2):
                v_end = objective(mode, xh, oc, orr, oe, p, g)
                if v_end < val:
                    x[:] = xh
                    val = v_end
                    status = STATUS_ENDPOINT
            break
        if ok:
            vn = objective(mode, xn, oc, orr, oe, p, g)
            if vn < val or (vn == val and abs(s) < 1e-12):
                x[:] = xn
                val = vn
                _constraints(kind, x, zc, zr, ze, a, b, tc, tr, te, g1, g2)
                if not _tangent(g1, g2, tau, tau_h):
                    break
                tau[:] = tau_h
                deriv = g[0] * tau[0] + g[1] * tau[1] + g[2] * tau[2]
                radius = min(2.0 * abs(s) + 1e-3, 4.0)
                continue
        radius = 0.25 * abs(s)
        if radius < 1e-13:
            break
    x_out[:] = x
    return val, status


@kernel
def _solve5(a, b):
    """Solve the 5x5 system a x = b in place (Gaussian elimination, partial pivoting); False if singular."""
    n = 5
    for col in range(n):
        piv = col
        for r in range(col + 1, n):
            if abs(a[r, col]) > abs(a[piv, col]):
                piv = r
        if abs(a[piv, col]) < 1e-300:
            return False
        if piv != col:
            for c in range(n):
                a[col, c], a[piv, c] = a[piv, c], a[col, c]
            b[col], b[piv] = b[piv], b[col]
        for r in range(col + 1, n):
            f = a[r, col] / a[col, col]
            for c in range(col, n):
                a[r, c] -= f * a[col, c]
            b[r] -= f * b[col]
    for r in range(n - 1, -1, -1):
        s = b[r]
        for c in range(r + 1, n):
            s -= a[r, c] * b[c]
        b[r] = s / a[r, r]
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
def crease_nearest(x0, p, c1, r1, e1, h1, c2, r2, e2, h2, a, b, g1, g2, x, x_out):
    """Nearest point to p on the crease {f1 = 0, f2 = 0} of two ellipsoids, by Newton on the KKT system
    ``x - p = l1 grad f1 + l2 grad f2, f1 = f2 = 0`` started at the crease sample x0 (quadratic convergence;
    ``f = |B (x - c)|^2 - 1`` has the constant Hessian ``h = 2 B^T B``). ``a`` (5x5), ``b`` (5), ``g1``, ``g2``,
    ``x`` (3) are work arrays. Returns the distance (point in x_out), or inf if Newton fails.
    """
    x[:] = x0
    f1 = _implicit_grad(x, c1, r1, e1, g1)
    f2 = _implicit_grad(x, c2, r2, e2, g2)
    a11 = g1[0] * g1[0] + g1[1] * g1[1] + g1[2] * g1[2]
    a22 = g2[0] * g2[0] + g2[1] * g2[1] + g2[2] * g2[2]
    a12 = g1[0] * g2[0] + g1[1] * g2[1] + g1[2] * g2[2]
    det = a11 * a22 - a12 * a12
    if not det > 1e-14 * a11 * a22:
        return np.inf
    b1 = g1[0] * (x[0] - p[0]) + g1[1] * (x[1] - p[1]) + g1[2] * (x[2] - p[2])
    b2 = g2[0] * (x[0] - p[0]) + g2[1] * (x[1] - p[1]) + g2[2] * (x[2] - p[2])
    l1 = (a22 * b1 - a12 * b2) / det
    l2 = (a11 * b2 - a12 * b1) / det
    for _ in range(30):
        for i in range(3):
            b[i] = -(x[i] - p[i] - l1 * g1[i] - l2 * g2[i])
            for j in range(3):
                a[i, j] = (1.0 if i == j else 0.0) - l1 * h1[i, j] - l2 * h2[i, j]
            a[i, 3] = -g1[i]
            a[i, 4] = -g2[i]
            a[3, i] = g1[i]
            a[4, i] = g2[i]
        a[3, 3] = a[3, 4] = a[4, 3] = a[4, 4] = 0.0
        b[3] = -f1
        b[4] = -f2
        if not _solve5(a, b):
            return np.inf
        step = math.sqrt(b[0] ** 2 + b[1] ** 2 + b[2] ** 2)
        x[0] += b[0]
        x[1] += b[1]
        x[2] += b[2]
        l1 += b[3]
        l2 += b[4]
        f1 = _implicit_grad(x, c1, r1, e1, g1)
        f2 = _implicit_grad(x, c2, r2, e2, g2)
        if step < 1e-13 and abs(f1) < 1e-13 and abs(f2) < 1e-13:
            x_out[:] = x
            return math.sqrt((x[0] - p[0]) ** 2 + (x[1] - p[1]) ** 2 + (x[2] - p[2]) ** 2)
    return np.inf
