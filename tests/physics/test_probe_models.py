"""Probe wall models (fixed, power-limited with a floor, flow fraction), the sub-cell probe discretisation and the
perfusion response, by conservation laws and closed forms on small grids."""

import math

import numpy as np
import pytest

from ablasim import Grid
from ablasim.errors import ValidationError
from ablasim.physics import BioheatSolver, Cryoprobe, ProtocolRun, Tissue, simulate

BOX = Grid((16, 16, 20), 1.0, origin_mm=(-7.5, -7.5, -11.5))


def _enthalpy_j(solver):
    return float(solver.tissue.enthalpy_j_per_m3(solver.temperature_c).sum()) * solver.grid.voxel_volume_mm3 * 1e-9


@pytest.mark.parametrize("power", [None, 4.0])
def test_probe_heat_is_exactly_the_enthalpy_the_box_loses(power):
    # adiabatic box, no perfusion: every joule the probe removes leaves the tissue (conservation), with a fixed
    # wall (power None) and with a capped one
    probe = Cryoprobe([0.2, -0.3, 4.0], [0, 0, 1], active_length_mm=8.0, max_power_w=power)
    run = ProtocolRun(BOX, "gel", probe, [("freeze", 40.0)], boundary="adiabatic", precision="double")
    before = _enthalpy_j(run.solver)
    run.advance_to(40.0)
    removed = run.probe_energy_j()[0]
    assert before - _enthalpy_j(run.solver) == pytest.approx(removed, rel=1e-9)
    if power is not None:
        # a 4 W probe in 37 degC gel cannot reach its floor within 40 s: it removes exactly its power
        assert removed == pytest.approx(power * 40.0, rel=1e-6)
        assert run.boundaries.wall[0] > probe.probe_temperature_c + 20.0  # the wall is warmer than its floor


def test_flow_fraction_scales_the_power_and_zero_flow_is_refused():
    def removed(flow):
        p = Cryoprobe([0, 0, 4.0], [0, 0, 1], active_length_mm=8.0, max_power_w=6.0, flow_fraction=flow)
        return simulate(BOX, "gel", p, [("freeze", 30.0)], boundary="adiabatic", record_every_s=30).probe_energy_j[0]

    assert removed(0.5) == pytest.approx(0.5 * 6.0 * 30.0, rel=1e-6)  # capped throughout: P x flow x t
    assert removed(1.0) == pytest.approx(6.0 * 30.0, rel=1e-6)
    with pytest.raises(ValidationError, match="zero flow") as err:
        Cryoprobe([0, 0, 4.0], [0, 0, 1], active_length_mm=8.0, max_power_w=6.0, flow_fraction=0.0)
    assert err.value.field == "probe.flow_fraction"
    with pytest.raises(ValidationError, match="max_power_w") as err:
        Cryoprobe([0, 0, 4.0], [0, 0, 1], active_length_mm=8.0, flow_fraction=0.5)
    assert err.value.field == "probe.flow_fraction"
    with pytest.raises(ValidationError) as err:
        Cryoprobe([0, 0, 4.0], [0, 0, 1], active_length_mm=8.0, max_power_w=6.0, heat_extraction_w=3.0)
    assert err.value.field == "probe.max_power_w"


def test_an_uncapped_power_limit_is_the_fixed_wall():
    fixed = Cryoprobe([0, 0, 4.0], [0, 0, 1], active_length_mm=8.0, probe_temperature_c=-150.0)
    huge = Cryoprobe([0, 0, 4.0], [0, 0, 1], active_length_mm=8.0, probe_temperature_c=-150.0, max_power_w=1e6)
    a = simulate(BOX, "gel", fixed, "1", record_every_s=60, precision="double")
    b = simulate(BOX, "gel", huge, "1", record_every_s=60, precision="double")
    assert np.allclose(a.temperature_c, b.temperature_c, atol=1e-9)


def test_a_probe_on_symmetry_planes_is_a_quarter_of_the_full_probe():
    # the sub-cell model scales the heat flow and the power cap by the share of the probe on the grid: a quarter
    # domain with adiabatic symmetry planes through the axis freezes a quarter of the full domain's ice
    h, n, nz = 1.0, 10, 20
    full = Grid((2 * n, 2 * n, nz), h, origin_mm=(-n + 0.5, -n + 0.5, -11.5))
    quarter = Grid((n, n, nz), h, origin_mm=(0.5, 0.5, -11.5))
    sym = ("adiabatic", "fixed", "adiabatic", "fixed", "fixed", "fixed")
    for power in (None, 5.0):
        probe = Cryoprobe([0, 0, 4.0], [0, 0, 1], active_length_mm=8.0, max_power_w=power)
        a = simulate(full, "gel", probe, "1", record_every_s=60, precision="double")
        b = simulate(quarter, "gel", probe, "1", record_every_s=60, boundary=sym, precision="double")
        assert np.allclose(a.temperature_c[n:, n:, :], b.temperature_c, atol=1e-6)
        assert b.probe_energy_j[0] == pytest.approx(a.probe_energy_j[0], rel=1e-6)


def test_sub_cell_probe_does_not_depend_on_where_it_sits_between_voxel_centres():
    # a 17 G probe (radius 0.735 mm) on a 1 mm grid: the old voxel model gives a different ice ball for a probe
    # through voxel centres and one through voxel corners (docs/physics.md: about 10 %); the sub-cell model
    # represents the wall where it is, so the two agree to about 1 % (frozen volume, 2-min freeze, 37 degC gel)
    grid = Grid((28, 28, 30), 1.0, origin_mm=(-13.5, -13.5, -18.5))

    def frozen(x, subcell):
        probe = Cryoprobe([x, x, 4.0], [0, 0, 1], active_length_mm=10.0)
        res = simulate(grid, "gel", probe, "2", record_every_s=120, subcell=subcell)
        return float(np.sum(res.temperature_c <= 0.0))

    sub = frozen(0.0, True), frozen(0.5, True)
    old = frozen(0.0, False), frozen(0.5, False)
    assert abs(sub[1] / sub[0] - 1) < 0.02
    assert abs(old[1] / old[0] - 1) > 0.1  # what the sub-cell model removes


def _euler_decay(solver, rate, duration):
    """The explicit scheme's exact solution of dT/dt = -rate (T - T_a): a factor (1 - rate dt) per step, the last
    step shortened to land on ``duration`` (closed form of the discrete scheme, tested to rounding)."""
    n = math.ceil(duration / solver.dt_s - 1e-9)
    last = duration - (n - 1) * solver.dt_s
    return (1.0 - rate * solver.dt_s) ** (n - 1) * (1.0 - rate * last)


def test_stasis_after_freezing_stops_perfusion_in_tissue_that_froze():
    # adiabatic box of kidney at 10 degC: perfusion warms it towards 37 degC, T = 37 - 27 x decay with
    # rate omega C_b / C_u (continuous: exp(-rate t); the test uses the explicit scheme's own closed form).
    # Where the lowest temperature reached is the solidus, stasis keeps it at 10 degC exactly.
    grid = Grid((4, 4, 4), 1.0)
    kidney = Tissue.from_name("kidney")
    rate = kidney.perfusion_per_s * kidney.c_blood_j_per_m3_k / kidney.c_unfrozen_j_per_m3_k
    for stasis in (False, True):
        solver = BioheatSolver(
            grid,
            kidney.replace(stasis_after_freezing=stasis),
            initial_temperature_c=10.0,
            boundary="adiabatic",
            precision="double",
        )
        solver._Tmin[:] = kidney.solidus_c  # as if this tissue had frozen solid and thawed
        solver.run(20.0)
        perfused = 37.0 - 27.0 * _euler_decay(solver, rate, 20.0)
        expected = 10.0 if stasis else perfused
        assert np.allclose(solver.temperature_c, expected, rtol=1e-12, atol=0), (stasis, expected)
    assert abs(perfused - (37.0 - 27.0 * math.exp(-rate * 20.0))) < 0.05  # and the scheme follows the ODE


def test_perfusion_curve_in_the_solver_matches_its_closed_form():
    # perfusion factor 0.25 between -1 and 5 degC: from 0 degC, T = 37 - 37 x decay with rate
    # 0.25 omega C_b / C_u while T < 5 degC (10 s: 4.1 degC); the explicit scheme's closed form as above
    grid = Grid((4, 4, 4), 1.0)
    kidney = Tissue.from_name("kidney").replace(perfusion_curve=((-1.0, 0.25), (5.0, 0.25), (6.0, 1.0)))
    solver = BioheatSolver(grid, kidney, initial_temperature_c=0.0, boundary="adiabatic", precision="double")
    solver.run(10.0)
    rate = 0.25 * kidney.perfusion_per_s * kidney.c_blood_j_per_m3_k / kidney.c_unfrozen_j_per_m3_k
    expected = 37.0 - 37.0 * _euler_decay(solver, rate, 10.0)
    assert 4.0 < expected < 5.0
    assert np.allclose(solver.temperature_c, expected, rtol=1e-12, atol=0)
