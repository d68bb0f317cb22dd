"""Thin-probe grid error: a probe thinner than a voxel on the 1 mm production grid against the 0.25 mm solution of the
same model (docs/physics.md "Grid error at 1 mm").

Cross-section (line-sink geometry): an infinitely long 17 G probe (radius 0.735 mm) in 37 degC gel, one 15-min
freeze; the ice radius is the frozen area's equivalent radius, sqrt(sum(1 - liquid fraction) h^2 / pi). The
0.25 mm solution runs on a quarter domain (the probe on the corner of four voxels, symmetry planes through it);
the 1 mm runs on the full domain with the probe through a voxel corner, a voxel centre and an arbitrary point.
Runs take about 3 s for each 0.25 mm solution and 0.1 s for each 1 mm one.

3-D (finite probe): the calibrated IceSphere device against a 0.25 mm solution precomputed by
tests/physics/reference/make_grid_reference.py into grid_reference_3d.json (4405 s on the shared 2-core machine,
far too slow for the suite); the test checks that the reference was made with the device's current parameters.
The three 1 mm runs take about 10 s each.
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from ablasim import Grid
from ablasim.physics import Cryoprobe, ProtocolRun
from ablasim.physics.devices import device

TIMES = (60.0, 300.0, 600.0, 900.0)  # 1, 5, 10, 15 min
RADIUS_MM = 30.0  # domain half-width: the ice reaches ~18 mm after 15 min
OFFSETS = [(0.0, 0.0), (0.5, 0.5), (0.3, 0.1)]  # through a voxel corner, a voxel centre, an arbitrary point (x h)
REFERENCE_3D = Path(__file__).parent / "reference" / "grid_reference_3d.json"


def ice_radii(h, offset, *, quarter=False, power_w_per_mm=None, subcell=True):
    """Ice radius (mm) at TIMES around an infinitely long probe along x (grid one voxel thick, adiabatic in x)."""
    if quarter:
        n = round(RADIUS_MM / h)
        grid = Grid((1, n, n), h, origin_mm=(0, h / 2, h / 2))
        boundary = ("adiabatic", "adiabatic", "adiabatic", "fixed", "adiabatic", "fixed")
        y0 = z0 = 0.0
    else:
        n = 2 * round(RADIUS_MM / h)
        grid = Grid((1, n, n), h, origin_mm=(0, -RADIUS_MM + h / 2, -RADIUS_MM + h / 2))
        boundary = ("adiabatic", "adiabatic", "fixed", "fixed", "fixed", "fixed")
        y0, z0 = offset[0] * h, offset[1] * h
    length = 100.0  # longer than the grid: the grid holds 1 mm of it, and takes that share of the power
    power = None if power_w_per_mm is None else power_w_per_mm * length
    floor = -150.0 if power is None else device("IceSphere").values["wall_floor_c"]
    probe = Cryoprobe(
        [length / 2, y0, z0], [1, 0, 0], active_length_mm=length, max_power_w=power, probe_temperature_c=floor
    )
    run = ProtocolRun(grid, "gel", probe, [("freeze", TIMES[-1])], boundary=boundary, subcell=subcell)
    out = []
    for t in TIMES:
        run.advance_to(t)
        area = np.sum(1.0 - run.solver.liquid_fraction()) * h * h * (4 if quarter else 1)
        out.append(math.sqrt(area / math.pi))
    return np.array(out)


def _icesphere_power_per_mm():
    dev = device("IceSphere")
    return dev.values["max_power_w"] / dev.values["active_length_mm"]


@pytest.mark.parametrize("wall", ["fixed -150 degC", "IceSphere (power-limited)"])
def test_thin_probe_ice_radius_at_1mm_is_within_3_percent_of_the_quarter_mm_solution(wall):
    power = None if wall.startswith("fixed") else _icesphere_power_per_mm()
    reference = ice_radii(0.25, None, quarter=True, power_w_per_mm=power)
    for offset in OFFSETS:
        coarse = ice_radii(1.0, offset, power_w_per_mm=power)
        error = coarse / reference - 1.0
        assert np.all(np.abs(error) <= 0.03), (wall, offset, np.round(100 * error, 2))


def test_the_older_voxel_probe_misses_the_3_percent_at_1mm():
    # the same check with the held probe voxels of Cryoprobe.voxels (no sub-cell model): a probe through a voxel
    # centre holds a single column and freezes ~20 % less (docs/physics.md), so the check above can fail
    reference = ice_radii(0.25, None, quarter=True)
    centre = ice_radii(1.0, (0.5, 0.5), subcell=False)
    assert np.max(np.abs(centre / reference - 1.0)) > 0.1


def test_finite_probe_ice_ball_at_1mm_against_the_precomputed_quarter_mm_solution():
    # the ice ball's width and length (front positions) within 3 % at 1, 5, 10, 15 min for every placement; its
    # frozen volume, a cubic measure, is short by up to 8.1 % at 1 min and 2.4 % at 15 min (docs/physics.md):
    # checked to lie in (-9 %, 0]
    from physics.reference.make_grid_reference import finite_probe_extents

    ref = json.loads(REFERENCE_3D.read_text())
    dev = device(ref["device"])
    assert ref["parameters"] == {k: dev.values[k] for k in ref["parameters"]}, "stale reference: regenerate it"
    expected = np.array(ref["extents"])  # rows: TIMES; columns: width, length, frozen volume
    for offset in ([0.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.3, 0.1, 0.25]):
        coarse = np.array(finite_probe_extents(1.0, offset, quarter=False))
        error = coarse / expected - 1.0
        assert np.all(np.abs(error[:, :2]) <= 0.03), (offset, np.round(100 * error, 2))
        assert np.all((error[:, 2] > -0.09) & (error[:, 2] <= 0.0)), (offset, np.round(100 * error, 2))
