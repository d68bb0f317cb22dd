"""Numba kernels: local refinement of the optima found by sampling (exact path).

Objectives (``mode``), evaluated at a world point ``x`` with their gradient:

* ``OBJ_DIST`` (0): signed distance from ``x`` to a target ellipsoid (case A: zone point -> tumour), minimised;
* ``OBJ_NEG_DIST`` (1): minus the signed distance to a target ellipsoid (case B: tumour point -> one zone
  ellipsoid; minimising it maximises the distance);
* ``OBJ_POINT`` (2): Euclidean distance to a fixed point (margin map: tumour vertex -> zone boundary).

Domains:

* a **patch**: an ellipsoid surface ``S`` parametrised by the unit sphere, ``x = c + R (e * u)``. Riemannian Newton
  with a trust region; the chart ``u(a, b) = normalise(u0 + a t1 + b t2)`` is re-centred at every step.
* a **curve**: the intersection of two level sets ``f1 = 0`` and ``f2 = 0`` (a crease of two zone ellipsoids, or a
  ridge on the tumour surface where two zone ellipsoids are equally far). Points are moved along the tangent
  ``grad f1 x grad f2`` and projected back by Gauss-Newton; the 1-D minimum is found by safeguarded Newton on
  the directional derivative. Side constraints (other ellipsoids) end the curve: we stop at that endpoint.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import kernel
from ..geometry._kernels.ellipsoid import implicit, signed_distance

OBJ_DIST = 0
OBJ_NEG_DIST = 1
OBJ_POINT = 2

CURVE_CREASE = 0  # f1 = implicit(zone i), f2 = implicit(zone j)
CURVE_RIDGE = 1  # f1 = implicit(tumour), f2 = sd(zone i) - sd(zone j)

SIDE_EXPOSED = 0  # feasible when every other zone ellipsoid has implicit >= 0 (point on the union's boundary)
SIDE_NEAREST = 1  # feasible when zone `a` is (one of) the nearest zone ellipsoid(s)


@kernel
def objective(mode, x, tc, tr, te, p, out_grad):
    """Objective value at x; its gradient is written into out_grad."""
    if mode == 2:
        d0, d1, d2 = x[0] - p[0], x[1] - p[1], x[2] - p[2]
        d = math.sqrt(d0 * d0 + d1 * d1 + d2 * d2)
        if d > 0.0:
            out_grad[0], out_grad[1], out_grad[2] = d0 / d, d1 / d, d2 / d
        else:
            out_grad[0] = out_grad[1] = out_grad[2] = 0.0
        return d
    sd, _, _, _, nx, ny, nz = signed_distance(x[0], x[1], x[2], tc, tr, te)
    s = 1.0 if mode == 0 else -1.0
    out_grad[0], out_grad[1], out_grad[2] = s * nx, s * ny, s * nz
    return s * sd


@kernel
def _implicit_grad(x, c, r, e, out):
    """Gradient of implicit() at x, written into out; returns the value."""
    w0, w1, w2 = x[0] - c[0], x[1] - c[1], x[2] - c[2]
    y0 = (r[0, 0] * w0 + r[1, 0] * w1 + r[2, 0] * w2) / (e[0] * e[0])
    y1 = (r[0, 1] * w0 + r[1, 1] * w1 + r[2, 1] * w2) / (e[1] * e[1])
    y2 = (r[0, 2] * w0 + r[1, 2] * w1 + r[2, 2] * w2) / (e[2] * e[2])
    for k in range(3):
        out[k] = 2.0 * (r[k, 0] * y0 + r[k, 1] * y1 + r[k, 2] * y2)
    return implicit(x[0], x[1], x[2], c, r, e)


@kernel
def side_ok(kind, x, zc, zr, ze, a, b, tol):
    """Side-constraint test for a point on zone a's patch, or on the crease/ridge of zones a and b."""
    n = zc.shape[0]
    if kind == 0:
        for k in range(n):
            if k in (a, b):
                continue
            if implicit(x[0], x[1], x[2], zc[k], zr[k], ze[k]) < -tol:
                return False
        return True
    sa = signed_distance(x[0], x[1], x[2], zc[a], zr[a], ze[a])[0]
    for k in range(n):
        if k in (a, b):
            continue
        if signed_distance(x[0], x[1], x[2], zc[k], zr[k], ze[k])[0] < sa - tol:
            return False
    return True


@kernel
def _surface_point(c, r, e, u, out):
    for k in range(3):
        out[k] = c[k] + r[k, 0] * e[0] * u[0] + r[k, 1] * e[1] * u[1] + r[k, 2] * e[2] * u[2]


@kernel
def _chart_grad(c, r, e, u, t1, t2, v_norm, mode, tc, tr, te, p, x, g):
    """Objective at normalise(v) (= u, |v| = v_norm) and its derivatives along the chart directions t1, t2."""
    _surface_point(c, r, e, u, x)
    val = objective(mode, x, tc, tr, te, p, g)
    out0 = 0.0
    out1 = 0.0
    ut1 = u[0] * t1[0] + u[1] * t1[1] + u[2] * t1[2]
    ut2 = u[0] * t2[0] + u[1] * t2[1] + u[2] * t2[2]
    for k in range(3):
        d1 = 0.0
        d2 = 0.0
        for m in range(3):
            d1 += r[k, m] * e[m] * (t1[m] - u[m] * ut1) / v_norm
            d2 += r[k, m] * e[m] * (t2[m] - u[m] * ut2) / v_norm
        out0 += g[k] * d1
        out1 += g[k] * d2
    return val, out0, out1


@kernel
def _tangent_basis(u, t1, t2):
    helper0, helper1, helper2 = 0.0, 0.0, 0.0
    au = np.abs(u)
    if au[0] <= au[1] and au[0] <= au[2]:
        helper0 = 1.0
    elif au[1] <= au[2]:
        helper1 = 1.0
    else:
        helper2 = 1.0
    dot = helper0 * u[0] + helper1 * u[1] + helper2 * u[2]
    t1[0], t1[1], t1[2] = helper0 - dot * u[0], helper1 - dot * u[1], helper2 - dot * u[2]
    nn = math.sqrt(t1[0] ** 2 + t1[1] ** 2 + t1[2] ** 2)
    t1 /= nn
    t2[0] = u[1] * t1[2] - u[2] * t1[1]
    t2[1] = u[2] * t1[0] - u[0] * t1[2]
    t2[2] = u[0] * t1[1] - u[1] * t1[0]


@kernel
def refine_patch(u0, c, r, e, mode, tc, tr, te, p, max_iter, x_out):
    """Minimise the objective over the ellipsoid surface (c, r, e) starting at unit vector u0.

    Returns the objective value; the optimum is written into x_out (world) and u0 (overwritten, unit sphere).
    """
    u = u0 / math.sqrt(u0[0] ** 2 + u0[1] ** 2 + u0[2] ** 2)
    t1 = np.empty(3)
    t2 = np.empty(3)
    x = np.empty(3)
    g = np.empty(3)
    v = np.empty(3)
    un = np.empty(3)
    h = 1e-6
    radius = 0.25  # trust radius in chart units (radians on the unit sphere)
    _tangent_basis(u, t1, t2)
    val, g0, g1 = _chart_grad(c, r, e, u, t1, t2, 1.0, mode, tc, tr, te, p, x, g)
    for _ in range(max_iter):
        # Finite-difference Hessian of the chart gradient (analytic first derivatives).
        v[:] = u + h * t1
        vn = math.sqrt(v[0] ** 2 + v[1] ** 2 + v[2] ** 2)
        un[:] = v / vn
        _, ga0, ga1 = _chart_grad(c, r, e, un, t1, t2, vn, mode, tc, tr, te, p, x, g)
        v[:] = u + h * t2
        vn = math.sqrt(v[0] ** 2 + v[1] ** 2 + v[2] ** 2)
        un[:] = v / vn
        _, gb0, gb1 = _chart_grad(c, r, e, un, t1, t2, vn, mode, tc, tr, te, p, x, g)
        h00 = (ga0 - g0) / h
        h11 = (gb1 - g1) / h
        h01 = 0.5 * ((ga1 - g1) / h + (gb0 - g0) / h)
        gnorm = math.sqrt(g0 * g0 + g1 * g1)
        if gnorm < 1e-15:
            break
        accepted = False
        while radius > 1e-14:
            # Levenberg-Marquardt step inside the trust radius.
            lam = 0.0
            mineig = 0.5 * (h00 + h11) - math.sqrt(0.25 * (h00 - h11) ** 2 + h01 * h01)
            if mineig <= 1e-12 * (abs(h00) + abs(h11) + 1e-300):
                lam = -mineig + 1e-9 * (abs(h00) + abs(h11)) + 1e-12
            for _k in range(60):
                a00, a11 = h00 + lam, h11 + lam
                det = a00 * a11 - h01 * h01
                s0 = -(a11 * g0 - h01 * g1) / det
                s1 = -(-h01 * g0 + a00 * g1) / det
                if math.sqrt(s0 * s0 + s1 * s1) <= radius:
                    break
                lam = 2.0 * lam + gnorm / radius
            v[:] = u + s0 * t1 + s1 * t2
            vn = math.sqrt(v[0] ** 2 + v[1] ** 2 + v[2] ** 2)
            un[:] = v / vn
            _surface_point(c, r, e, un, x)
            new_val = objective(mode, x, tc, tr, te, p, g)
            step = math.sqrt(s0 * s0 + s1 * s1)
            if new_val < val or (new_val == val and step < 1e-13):
                u[:] = un
                val = new_val
                radius = min(2.0 * max(radius, step), 0.5)
                accepted = True
                break
            radius = 0.25 * step
        if not accepted:
            break
        _tangent_basis(u, t1, t2)
        val, g0, g1 = _chart_grad(c, r, e, u, t1, t2, 1.0, mode, tc, tr, te, p, x, g)
        if step < 1e-13:
            break
    _surface_point(c, r, e, u, x_out)
    u0[:] = u
    return val
