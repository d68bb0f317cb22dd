"""The solver against closed-form solutions (tests/physics/reference/analytic.py), by error and convergence order.

Geometry: 1-D problems run along the contiguous z axis of a (1, 1, N) grid and 2-D cross-sections on (1, N, N)
(the solver's inner loop is over z); unused axes and symmetry planes are adiabatic. A held voxel fixes the
temperature at its centre. Fronts are measured by volume: frozen length (area) = sum over voxels of
(1 - liquid fraction) x voxel size, which is the liquid-fraction-0.5 point for a sharp front. The analytic
solutions assume isothermal freezing, so these tests use a 0.1 degC mushy range [-0.1, 0] (T_m = -0.05 degC)
with the gel (water/ice) properties of ablasim/data/tissues.toml.
"""

import math

import numpy as np
import pytest

from ablasim import Grid
from ablasim.physics import BioheatSolver, Tissue
from physics.reference.analytic import (
    erfc_profile,
    neumann_front_m,
    neumann_lambda,
    neumann_solid_position_m,
    paterson_lambda,
    steady_cylinder_radius_m,
)

GEL = Tissue.from_name("gel", solidus_c=-0.1, liquidus_c=0.0)
T_MELT = -0.05
ADIABATIC = "adiabatic"
QUARTER = (ADIABATIC, ADIABATIC, ADIABATIC, "fixed", ADIABATIC, "fixed")  # symmetry planes at y = 0 and z = 0
PRECISIONS = ["single", "double"]  # the acceptance criteria are checked in both (single is the default)


def _solid(t):
    return t.k_frozen_w_per_m_k, t.c_frozen_j_per_m3_k


def neumann_run(h_mm, times_s, *, precision, axis=2, t_surface=-150.0, t_initial=37.0, length_mm=100.0):
    """Front (mm) and temperature profile at ``times_s`` for a half-space whose voxel 0 is held at t_surface."""
    n = round(length_mm / h_mm)
    shape = [1, 1, 1]
    shape[axis] = n
    solver = BioheatSolver(
        Grid(tuple(shape), h_mm), GEL, initial_temperature_c=t_initial, boundary=ADIABATIC, precision=precision
    )
    held = [(np.zeros((1, 3), dtype=int), t_surface)]
    fronts, profiles = [], []
    for t in times_s:
        solver.run(t - solver.time_s, held=held)
        fronts.append(h_mm * (np.sum(1.0 - solver.liquid_fraction()) - 0.5))  # voxel 0 counts from its centre
        profiles.append(solver.temperature_c.reshape(-1))
    return np.array(fronts), profiles


def crossing_mm(profile, h_mm, value):
    """Position of the first crossing of ``value`` by linear interpolation between voxel centres."""
    i = int(np.nonzero(profile > value)[0][0])
    return h_mm * (i - 1 + (value - profile[i - 1]) / (profile[i] - profile[i - 1]))


LAM = neumann_lambda(
    *_solid(GEL), GEL.k_unfrozen_w_per_m_k, GEL.c_unfrozen_j_per_m3_k, GEL.latent_heat_j_per_m3, -150.0, T_MELT, 37.0
)


@pytest.mark.parametrize("precision", PRECISIONS)
def test_neumann_front_and_frozen_isotherms_on_half_millimetre_grid(precision):
    times = [300.0, 600.0]
    fronts, profiles = neumann_run(0.5, times, precision=precision)
    for t, front, profile in zip(times, fronts, profiles):
        exact = neumann_front_m(LAM, *_solid(GEL), t) * 1e3
        assert abs(front - exact) <= 0.02 * exact, (t, front, exact)  # acceptance: 2 %
        for iso in (-20.0, -40.0):
            x_exact = neumann_solid_position_m(iso, LAM, *_solid(GEL), -150.0, T_MELT, t) * 1e3
            assert abs(crossing_mm(profile, 0.5, iso) - x_exact) <= 0.5  # acceptance: 0.5 mm


@pytest.mark.parametrize("precision", PRECISIONS)
def test_neumann_front_converges_at_least_first_order(precision):
    # relative front error, RMS over 60 s .. 600 s, at 1, 0.5 and 0.25 mm; slope of log(error) vs log(h)
    times = np.arange(60.0, 601.0, 60.0)
    exact = np.array([neumann_front_m(LAM, *_solid(GEL), t) * 1e3 for t in times])
    spacings = np.array([1.0, 0.5, 0.25])
    errors = [
        np.sqrt(np.mean(((neumann_run(h, times, precision=precision)[0] - exact) / exact) ** 2)) for h in spacings
    ]
    order = np.polyfit(np.log(spacings), np.log(errors), 1)[0]
    assert errors[0] > errors[1] > errors[2]
    assert order >= 1.0, (errors, order)


def test_stencil_is_the_same_along_every_axis_and_single_precision_agrees():
    times = [300.0]
    z, pz = neumann_run(1.0, times, axis=2, precision="double")
    x, px = neumann_run(1.0, times, axis=0, precision="double")
    y, _py = neumann_run(1.0, times, axis=1, precision="double")
    assert np.array_equal(x, z) and np.array_equal(y, z) and np.array_equal(px[0], pz[0])
    single, _ = neumann_run(0.5, times, precision="single")
    double, _ = neumann_run(0.5, times, precision="double")
    assert abs(single[0] - double[0]) < 1e-3  # mm; float32 enthalpy rounding, see docs/physics.md


def test_linear_pennes_stencil_converges_second_order():
    # no phase change: T = T_s + (T_i - T_s) erf(x / 2 sqrt(alpha t)); max error over the profile at 300 s
    tissue = Tissue.from_name("gel")
    alpha = tissue.k_unfrozen_w_per_m_k / tissue.c_unfrozen_j_per_m3_k
    errors = []
    spacings = np.array([1.0, 0.5, 0.25])
    for h in spacings:
        n = round(40 / h)
        solver = BioheatSolver(
            Grid((1, 1, n), h),
            tissue,
            initial_temperature_c=37.0,
            boundary=ADIABATIC,
            phase_change=False,
            precision="double",
        )  # errors down to 1e-3 degC
        solver.run(300.0, held=[(np.zeros((1, 3), dtype=int), 5.0)])
        x = np.arange(n) * h * 1e-3
        errors.append(np.max(np.abs(solver.temperature_c.reshape(-1) - erfc_profile(x, 300.0, alpha, 5.0, 37.0))))
    order = np.polyfit(np.log(spacings), np.log(errors), 1)[0]
    assert order >= 1.8, (errors, order)


def test_harmonic_face_conductivity_is_exact_for_a_layered_slab():
    # steady conduction through k1 | k2 with the interface on a voxel face: piecewise linear, flux continuous,
    # q = (T_R - T_L) / (L1 / k1 + L2 / k2) with L1, L2 from the held centres to the interface.
    n, h = 10, 1.0
    k = np.where(np.arange(n) < 4, 2.0, 0.5).reshape(1, 1, n)
    tissue = Tissue.from_name("gel")
    solver = BioheatSolver(
        Grid((1, 1, n), h),
        tissue,
        initial_temperature_c=20.0,
        boundary=ADIABATIC,
        phase_change=False,
        conductivity_w_per_m_k=k,
        precision="double",
    )
    ends = [(np.array([[0, 0, 0]]), 10.0), (np.array([[0, 0, n - 1]]), 50.0)]
    solver.run(1500.0, held=ends)  # 25 time constants L^2 / (pi^2 alpha_min)
    l1, l2 = 3.5, 5.5
    q = 40.0 / (l1 / 2.0 + l2 / 0.5)
    x = np.arange(n) * h
    exact = np.where(x <= l1, 10.0 + q * x / 2.0, 50.0 - q * (x[-1] - x) / 0.5)
    assert np.allclose(solver.temperature_c.reshape(-1), exact, atol=1e-8)


@pytest.mark.parametrize("precision", PRECISIONS)
def test_paterson_line_sink_front_within_three_percent(precision):
    # quarter domain: the line sink (q W/m) runs along x through the corner y = z = 0; the corner voxel column
    # takes q / 4. Frozen area = pi R^2 / 4.
    q, t0, h = 500.0, 20.0, 0.5
    lam = paterson_lambda(
        q, *_solid(GEL), GEL.k_unfrozen_w_per_m_k, GEL.c_unfrozen_j_per_m3_k, GEL.latent_heat_j_per_m3, T_MELT, t0
    )
    n = round(40 / h)
    solver = BioheatSolver(
        Grid((1, n, n), h, origin_mm=(0, h / 2, h / 2)),
        GEL,
        initial_temperature_c=t0,
        boundary=QUARTER,
        precision=precision,
    )
    sink = [(np.zeros((1, 3), dtype=int), q / 4 * h * 1e-3)]
    for t in (300.0, 600.0):
        solver.run(t - solver.time_s, sinks=sink)
        radius = math.sqrt(4 * np.sum(1 - solver.liquid_fraction()) * h * h / math.pi)
        exact = 2 * lam * math.sqrt(GEL.k_frozen_w_per_m_k / GEL.c_frozen_j_per_m3_k * t) * 1e3
        assert abs(radius - exact) <= 0.03 * exact, (t, radius, exact)


def steady_cylinder(h, r_probe, tissue, t_probe, precision):
    ra = (
        steady_cylinder_radius_m(
            r_probe * 1e-3,
            t_probe,
            T_MELT,
            37.0,
            tissue.k_frozen_w_per_m_k,
            tissue.k_unfrozen_w_per_m_k,
            tissue.perfusion_per_s,
            tissue.c_blood_j_per_m3_k,
        )
        * 1e3
    )
    n = round((ra + 10.0) / h)  # the unfrozen boundary layer is d = sqrt(k/(omega C_b)) = 1.7 mm thick
    solver = BioheatSolver(
        Grid((1, n, n), h, origin_mm=(0, h / 2, h / 2)), tissue, boundary=QUARTER, precision=precision
    )
    jj, kk = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    inside = np.hypot((jj + 0.5) * h, (kk + 0.5) * h) <= r_probe  # Cryoprobe's rule: centres within the radius
    probe = np.stack([np.zeros(np.count_nonzero(inside), dtype=int), jj[inside], kk[inside]], axis=1)
    radii = []
    for t in (1200.0, 1500.0):
        solver.run(t - solver.time_s, held=[(probe, t_probe)])
        radii.append(math.sqrt(4 * np.sum(1 - solver.liquid_fraction()) * h * h / math.pi))
    return radii, ra


@pytest.mark.parametrize("precision", PRECISIONS)
def test_steady_frozen_radius_around_a_cylinder_with_perfusion(precision):
    # kidney perfusion (0.05 1/s): steady within 1500 s; probe radius 2 mm held at -150 degC
    kidney = Tissue.from_name("kidney", solidus_c=-0.1, liquidus_c=0.0)
    (_, r05), ra = steady_cylinder(0.5, 2.0, kidney, -150.0, precision)
    (r025_earlier, r025), _ = steady_cylinder(0.25, 2.0, kidney, -150.0, precision)
    assert abs(r025 - r025_earlier) < 0.005 * r025  # steady
    assert abs(r025 - ra) <= 0.05 * ra, (r025, ra)  # acceptance: 5 %
    # the error is first order (probe and front staircases, docs/physics.md): it halves with h, and the
    # Richardson extrapolation of the two grids lands on the analytic radius
    assert r05 < r025 < ra
    assert abs((2 * r025 - r05) - ra) <= 0.01 * ra


def test_sink_removes_exactly_its_energy_from_an_adiabatic_box():
    # no perfusion, all faces adiabatic: sum of H x voxel volume falls by P t (J), to rounding
    grid = Grid((12, 12, 12), 1.0)
    solver = BioheatSolver(grid, "gel", initial_temperature_c=20.0, boundary=ADIABATIC, precision="double")
    tissue = solver.tissue
    before = tissue.enthalpy_j_per_m3(solver.temperature_c).sum() * 1e-9
    power, duration = 3.0, 45.7
    solver.run(duration, sinks=[(np.array([[6, 6, 5], [6, 6, 6], [6, 6, 7]]), power)])
    after = tissue.enthalpy_j_per_m3(solver.temperature_c).sum() * 1e-9
    assert after - before == pytest.approx(-power * duration, rel=1e-9)
    assert solver.time_s == pytest.approx(duration, abs=1e-12)
