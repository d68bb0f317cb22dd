"""Numba kernels: local refinement of the optima found by sampling (exact path), on ellipsoid surface patches.

Objectives (``mode``), evaluated at a world point ``x`` with their gradient:

* ``OBJ_DIST`` (0): signed distance from ``x`` to a target ellipsoid (covered tumour: zone point -> tumour),
  minimised;
* ``OBJ_NEG_DIST`` (1): minus the signed distance to a target ellipsoid (tumour point -> one zone ellipsoid;
  minimising it maximises the distance outside that ellipsoid, or minimises the depth inside it);
* ``OBJ_POINT`` (2): Euclidean distance to a fixed point (margin map: tumour vertex -> zone boundary).

A **patch** is an ellipsoid surface ``S`` parametrised by the unit sphere, ``x = c + R (e * u)``. Riemannian Newton
with a trust region; the chart ``u(a, b) = normalise(u0 + a t1 + b t2)`` is re-centred at every step, the Hessian of
the chart function is a finite difference of its analytic gradient.

**Convergence** (what ``converged`` certifies): the Hessian is positive definite and the Newton decrement
``g^T H^-1 g / 2`` (the decrease the quadratic model still predicts) is below ``DECREMENT_MM``: the point is a
strict local minimum of the objective on the patch to that tolerance. Every kernel here is written with scalars
and explicit loops (no array expressions): that is what keeps numba's compile time short.
"""

from __future__ import annotations

import math

from .._jit import kernel
from ..geometry._kernels.ellipsoid import implicit, signed_distance

OBJ_DIST = 0
OBJ_NEG_DIST = 1
OBJ_POINT = 2

SIDE_NONE = -1
SIDE_EXPOSED = 0  # feasible when every other zone ellipsoid has implicit >= 0 (point on the union's boundary)
SIDE_NEAREST = 1  # feasible when zone `a` is (one of) the nearest zone ellipsoid(s)

DECREMENT_MM = 1e-12  # Newton decrement at which a refinement counts as converged (mm)
CONVERGED_BOUND_MM = 1e-9  # error bound reported for a converged optimum: the decrement with a wide safety factor


@kernel
def objective(mode, x0, x1, x2, tc, tr, te, p0, p1, p2):
    """Objective value at x and its gradient (value, g0, g1, g2)."""
    if mode == 2:
        d0, d1, d2 = x0 - p0, x1 - p1, x2 - p2
        d = math.sqrt(d0 * d0 + d1 * d1 + d2 * d2)
        if d > 0.0:
            return d, d0 / d, d1 / d, d2 / d
        return d, 0.0, 0.0, 0.0
    sd, _, _, _, nx, ny, nz = signed_distance(x0, x1, x2, tc, tr, te)
    if mode == 0:
        return sd, nx, ny, nz
    return -sd, -nx, -ny, -nz


@kernel
def implicit_grad(x0, x1, x2, c, r, e):
    """implicit() at x and its gradient (value, g0, g1, g2)."""
    w0, w1, w2 = x0 - c[0], x1 - c[1], x2 - c[2]
    y0 = (r[0, 0] * w0 + r[1, 0] * w1 + r[2, 0] * w2) / (e[0] * e[0])
    y1 = (r[0, 1] * w0 + r[1, 1] * w1 + r[2, 1] * w2) / (e[1] * e[1])
    y2 = (r[0, 2] * w0 + r[1, 2] * w1 + r[2, 2] * w2) / (e[2] * e[2])
    g0 = 2.0 * (r[0, 0] * y0 + r[0, 1] * y1 + r[0, 2] * y2)
    g1 = 2.0 * (r[1, 0] * y0 + r[1, 1] * y1 + r[1, 2] * y2)
    g2 = 2.0 * (r[2, 0] * y0 + r[2, 1] * y1 + r[2, 2] * y2)
    return implicit(x0, x1, x2, c, r, e), g0, g1, g2


@kernel
def side_ok(kind, x0, x1, x2, zc, zr, ze, a, b, tol):
    """Side-constraint test for a point on zone a's patch, or on the crease/ridge of zones a and b."""
    n = zc.shape[0]
    if kind == 0:
        for k in range(n):
            if k in (a, b):
                continue
            if implicit(x0, x1, x2, zc[k], zr[k], ze[k]) < -tol:
                return False
        return True
    if kind == 1:
        sa = signed_distance(x0, x1, x2, zc[a], zr[a], ze[a])[0]
        for k in range(n):
            if k in (a, b):
                continue
            if signed_distance(x0, x1, x2, zc[k], zr[k], ze[k])[0] < sa - tol:
                return False
    return True


@kernel
def surface_point(c, r, e, u0, u1, u2):
    """The point of the ellipsoid (c, r, e) with unit-sphere coordinates u."""
    a0, a1, a2 = e[0] * u0, e[1] * u1, e[2] * u2
    return (
        c[0] + r[0, 0] * a0 + r[0, 1] * a1 + r[0, 2] * a2,
        c[1] + r[1, 0] * a0 + r[1, 1] * a1 + r[1, 2] * a2,
        c[2] + r[2, 0] * a0 + r[2, 1] * a1 + r[2, 2] * a2,
    )


@kernel
def _basis(u0, u1, u2):
    """An orthonormal tangent basis (t1, t2) of the unit sphere at u."""
    a0, a1, a2 = abs(u0), abs(u1), abs(u2)
    h0, h1, h2 = 0.0, 0.0, 0.0
    if a0 <= a1 and a0 <= a2:
        h0 = 1.0
    elif a1 <= a2:
        h1 = 1.0
    else:
        h2 = 1.0
    dot = h0 * u0 + h1 * u1 + h2 * u2
    s0, s1, s2 = h0 - dot * u0, h1 - dot * u1, h2 - dot * u2
    nn = math.sqrt(s0 * s0 + s1 * s1 + s2 * s2)
    s0, s1, s2 = s0 / nn, s1 / nn, s2 / nn
    return s0, s1, s2, u1 * s2 - u2 * s1, u2 * s0 - u0 * s2, u0 * s1 - u1 * s0


@kernel
def _chart(c, r, e, v0, v1, v2, t, mode, tc, tr, te, p0, p1, p2):
    """Objective at normalise(v) and its derivatives along the chart directions t = (t1, t2).

    Returns (value, d/da, d/db, u0, u1, u2, x0, x1, x2)."""
    vn = math.sqrt(v0 * v0 + v1 * v1 + v2 * v2)
    u0, u1, u2 = v0 / vn, v1 / vn, v2 / vn
    x0, x1, x2 = surface_point(c, r, e, u0, u1, u2)
    val, g0, g1, g2 = objective(mode, x0, x1, x2, tc, tr, te, p0, p1, p2)
    ut1 = u0 * t[0] + u1 * t[1] + u2 * t[2]
    ut2 = u0 * t[3] + u1 * t[4] + u2 * t[5]
    # tangent images (1/|v|) (t - u (u . t)) scaled by e, rotated by r
    a0, a1, a2 = e[0] * (t[0] - u0 * ut1) / vn, e[1] * (t[1] - u1 * ut1) / vn, e[2] * (t[2] - u2 * ut1) / vn
    b0, b1, b2 = e[0] * (t[3] - u0 * ut2) / vn, e[1] * (t[4] - u1 * ut2) / vn, e[2] * (t[5] - u2 * ut2) / vn
    da = 0.0
    db = 0.0
    for k in range(3):
        gk = g0 if k == 0 else (g1 if k == 1 else g2)
        da += gk * (r[k, 0] * a0 + r[k, 1] * a1 + r[k, 2] * a2)
        db += gk * (r[k, 0] * b0 + r[k, 1] * b1 + r[k, 2] * b2)
    return val, da, db, u0, u1, u2, x0, x1, x2


@kernel(entry=True)
def refine_patch(u0, u1, u2, c, r, e, mode, tc, tr, te, p0, p1, p2, max_iter):
    """Minimise the objective over the ellipsoid surface (c, r, e) starting at unit-sphere point u.

    Returns (value, x0, x1, x2, u0, u1, u2, converged): the optimum in world coordinates and on the unit sphere.
    """
    nn = math.sqrt(u0 * u0 + u1 * u1 + u2 * u2)
    u0, u1, u2 = u0 / nn, u1 / nn, u2 / nn
    h = 1e-6
    radius = 0.25  # trust radius in chart units (radians on the unit sphere)
    t = _basis(u0, u1, u2)
    val, g0, g1, _, _, _, x0, x1, x2 = _chart(c, r, e, u0, u1, u2, t, mode, tc, tr, te, p0, p1, p2)
    converged = False
    for _ in range(max_iter):
        # Finite-difference Hessian of the chart gradient (analytic first derivatives).
        _, ga0, ga1, _, _, _, _, _, _ = _chart(
            c, r, e, u0 + h * t[0], u1 + h * t[1], u2 + h * t[2], t, mode, tc, tr, te, p0, p1, p2
        )
        _, gb0, gb1, _, _, _, _, _, _ = _chart(
            c, r, e, u0 + h * t[3], u1 + h * t[4], u2 + h * t[5], t, mode, tc, tr, te, p0, p1, p2
        )
        h00 = (ga0 - g0) / h
        h11 = (gb1 - g1) / h
        h01 = 0.5 * ((ga1 - g1) / h + (gb0 - g0) / h)
        det = h00 * h11 - h01 * h01
        if h00 > 0.0 and det > 0.0:
            decrement = 0.5 * (h11 * g0 * g0 - 2.0 * h01 * g0 * g1 + h00 * g1 * g1) / det
            if decrement <= DECREMENT_MM:
                converged = True
                break
        gnorm = math.sqrt(g0 * g0 + g1 * g1)
        if gnorm < 1e-15:
            break  # stationary but not a strict minimum (flat or saddle): not certified
        accepted = False
        step = 0.0
        s0 = 0.0
        s1 = 0.0
        while radius > 1e-14:
            # Levenberg-Marquardt step inside the trust radius.
            lam = 0.0
            mineig = 0.5 * (h00 + h11) - math.sqrt(0.25 * (h00 - h11) ** 2 + h01 * h01)
            if mineig <= 1e-12 * (abs(h00) + abs(h11) + 1e-300):
                lam = -mineig + 1e-9 * (abs(h00) + abs(h11)) + 1e-12
            for _k in range(60):
                a00, a11 = h00 + lam, h11 + lam
                dd = a00 * a11 - h01 * h01
                s0 = -(a11 * g0 - h01 * g1) / dd
                s1 = -(-h01 * g0 + a00 * g1) / dd
                if math.sqrt(s0 * s0 + s1 * s1) <= radius:
                    break
                lam = 2.0 * lam + gnorm / radius
            v0 = u0 + s0 * t[0] + s1 * t[3]
            v1 = u1 + s0 * t[1] + s1 * t[4]
            v2 = u2 + s0 * t[2] + s1 * t[5]
            vn = math.sqrt(v0 * v0 + v1 * v1 + v2 * v2)
            w0, w1, w2 = v0 / vn, v1 / vn, v2 / vn
            y0, y1, y2 = surface_point(c, r, e, w0, w1, w2)
            new_val = objective(mode, y0, y1, y2, tc, tr, te, p0, p1, p2)[0]
            step = math.sqrt(s0 * s0 + s1 * s1)
            if new_val < val or (new_val == val and step < 1e-13):
                u0, u1, u2 = w0, w1, w2
                radius = min(2.0 * max(radius, step), 0.5)
                accepted = True
                break
            radius = 0.25 * step
        if not accepted:
            break
        t = _basis(u0, u1, u2)
        val, g0, g1, _, _, _, x0, x1, x2 = _chart(c, r, e, u0, u1, u2, t, mode, tc, tr, te, p0, p1, p2)
    return val, x0, x1, x2, u0, u1, u2, converged
