"""Precompute the 0.25 mm solution of the finite-probe grid test (tests/physics/test_grid_error.py).

The calibrated IceSphere device (ablasim/data/cryoprobes.toml, calibration_fits.toml) in 37 degC gel, one 15-min
freeze, on a quarter domain (symmetry planes through the probe axis): the 0 degC width (2 x the largest distance
from the axis), length along the shaft and frozen volume (sum of 1 - liquid fraction) at 1, 5, 10 and 15 min.
It took 4405 s (two threads, on the project's shared 2-core machine under a load average of 6-15). Run from the
repository root:

    .venv/bin/python tests/physics/reference/make_grid_reference.py
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

from ablasim import Grid
from ablasim._io import atomic_write_text
from ablasim.physics import ProtocolRun
from ablasim.physics.devices import device

DEVICE = "IceSphere"
TIMES = (60.0, 300.0, 600.0, 900.0)
LATERAL_MM = 26.0  # the ice reaches ~16 mm from the axis; the fixed far field lies beyond
AXIAL_MARGIN_MM = 24.0
OUT = Path(__file__).with_name("grid_reference_3d.json")


def finite_probe_extents(h: float, offset, *, quarter: bool) -> list[list[float]]:
    """``[[width_mm, length_mm, frozen_volume_mm3], ...]`` at TIMES for the device's probe (tip at z = 0 plus the
    offset, shaft along +z); ``offset`` (x h) moves the probe off the voxel lattice on the full domain."""
    dev = device(DEVICE)
    length = dev.values["active_length_mm"]
    nz_back = math.ceil((length + AXIAL_MARGIN_MM) / h)
    nz_fwd = math.ceil(AXIAL_MARGIN_MM / h)
    nl = math.ceil(LATERAL_MM / h)
    z0 = -nz_back * h + h / 2
    if quarter:
        grid = Grid((nl, nl, nz_back + nz_fwd), h, origin_mm=(h / 2, h / 2, z0))
        boundary = ("adiabatic", "fixed", "adiabatic", "fixed", "fixed", "fixed")
        tip = [0.0, 0.0, 0.0]
    else:
        grid = Grid((2 * nl, 2 * nl, nz_back + nz_fwd), h, origin_mm=(-nl * h + h / 2, -nl * h + h / 2, z0))
        boundary = "fixed"
        tip = [offset[0] * h, offset[1] * h, offset[2] * h]
    probe = dev.cryoprobe(tip, [0.0, 0.0, 1.0])
    run = ProtocolRun(grid, "gel", probe, [("freeze", TIMES[-1])], boundary=boundary)
    rows = []
    for t in TIMES:
        run.advance_to(t)
        e = run.solver.isotherm_extent(0.0, probe.tip_mm, probe.direction)
        volume = float(np.sum(1.0 - run.solver.liquid_fraction())) * h**3 * (4 if quarter else 1)
        rows.append([2.0 * e.max_radius_mm, e.length_mm, volume])
    return rows


def main() -> None:
    dev = device(DEVICE)
    rows = finite_probe_extents(0.25, None, quarter=True)
    doc = {
        "what": "0 degC width, length (mm) and frozen volume (mm3) at 60, 300, 600, 900 s; 0.25 mm quarter domain",
        "device": DEVICE,
        "parameters": {k: dev.values[k] for k in ("max_power_w", "active_length_mm", "radius_mm", "wall_floor_c")},
        "medium": "gel at 37 degC, one 15-min freeze",
        "times_s": list(TIMES),
        "extents": rows,
    }
    atomic_write_text(OUT, json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
