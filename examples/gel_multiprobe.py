"""Validation without retuning: lethal ice of 2-4 cryoprobes in gel, predicted from the single-probe calibration.

Littrup et al. (J Vasc Interv Radiol 2009;20(10):1343-1351, doi:10.1016/j.jvir.2009.05.038, PMC2762356) froze 1-4
cryoprobes of 2.4 mm at 2 cm spacing for 15 min in agar at 39 degC and measured the lethal (< -30 degC) ice
diameter: 1.2, 3.3, 4.1 and 4.9 cm. The device 'Littrup-2.4mm' was fitted to the single-probe 1.2 cm alone
(docs/physics.md "Calibration"); the 2-, 3- and 4-probe diameters below are predictions: nothing was fitted to them
and nothing was changed after comparing.

Setup, fixed before the first run: probes parallel, 2 cm apart (a pair; an equilateral triangle of side 2 cm; a
square of side 2 cm: the abstract gives the spacing, not the arrangement), gel (the water-like phantom of
tissues.toml) at 39 degC, one 15-min freeze, 1 mm grid. The lethal diameter is measured in the plane through the
middle of the active segments, two ways (the abstract does not say which was used): the largest extent of the
-30 degC region (its Feret diameter) and the diameter of the circle of equal area.

Also checked here, single probe, not fitted: the calibrated IceSphere's -40 degC core depth inside the ice edge
(about 1 cm in gel, PMC4850244) and whether 10-5-10 makes a larger ice ball than one 15-min freeze (not
significantly in gelatin, Open Biomed Eng J 2016;10:62).

Run: .venv/bin/python examples/gel_multiprobe.py [OUT_DIR]   (six solver runs on 1 mm grids; 33 min on this
project's shared 2-core machine under a load average of 10-15)
Writes OUT_DIR/gel_multiprobe.json.
"""

import json
import math
import sys
from pathlib import Path

import numpy as np

from ablasim import Grid
from ablasim._io import atomic_write_text
from ablasim.physics import simulate
from ablasim.physics.devices import device

MEASURED_CM = {1: 1.2, 2: 3.3, 3: 4.1, 4: 4.9}
SPACING_MM = 20.0


def positions(n):
    if n == 1:
        return [(0.0, 0.0)]
    if n == 2:
        return [(-SPACING_MM / 2, 0.0), (SPACING_MM / 2, 0.0)]
    r = SPACING_MM / (2 * math.sin(math.pi / n))  # circumradius of the regular polygon of side 2 cm
    return [
        (r * math.cos(math.pi / 2 + 2 * math.pi * k / n), r * math.sin(math.pi / 2 + 2 * math.pi * k / n))
        for k in range(n)
    ]


def lethal_diameters(n, threshold_c=-30.0):
    dev = device("Littrup-2.4mm")
    length = dev.values["active_length_mm"]
    probes = [dev.cryoprobe([x, y, 0.0], [0.0, 0.0, 1.0]) for x, y in positions(n)]
    grid = Grid.covering([-40.0, -40.0, -length - 22.0], [40.0, 40.0, 22.0], 1.0)
    res = simulate(grid, "gel", probes, "15", initial_temperature_c=39.0, record_every_s=900)
    k = int(np.argmin(np.abs(grid.index_to_world([[0, 0, k] for k in range(grid.shape[2])])[:, 2] + length / 2)))
    plane = res.min_temperature_c[:, :, k] <= threshold_c
    ij = np.argwhere(plane)
    pts = grid.index_to_world(np.c_[ij, np.full(len(ij), k)])[:, :2]
    feret = 0.0
    if len(pts):
        d = np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1))
        feret = float(d.max()) + grid.spacing_mm[0]  # voxel centres: add one voxel for the extent
    equal_area = 2.0 * math.sqrt(plane.sum() * grid.spacing_mm[0] * grid.spacing_mm[1] / math.pi)
    return feret, equal_area


def icesphere_checks():
    dev = device("IceSphere")
    grid = Grid.covering([-30.0, -30.0, -dev.values["active_length_mm"] - 24.0], [30.0, 30.0, 24.0], 1.0)
    probe = dev.cryoprobe([0.0, 0.0, 0.0], [0.0, 0.0, 1.0])
    out = {}
    for protocol in ("10-5-10", "15"):
        res = simulate(grid, "gel", probe, protocol, record_isotherms_c=(0.0, -40.0), record_every_s=300)
        ice, core = res.isotherm(0.0).final, res.isotherm(-40.0).final
        out[protocol] = {
            "ice_width_mm": 2 * ice.max_radius_mm,
            "ice_length_mm": ice.length_mm,
            "core_width_mm": 2 * core.max_radius_mm,
            "core_depth_mm": ice.max_radius_mm - core.max_radius_mm,
        }
    return out


def main(out_dir="out"):
    rows = []
    for n in (1, 2, 3, 4):
        feret, area = lethal_diameters(n)
        rows.append({"probes": n, "measured_mm": 10 * MEASURED_CM[n], "feret_mm": feret, "equal_area_mm": area})
        kind = "fitted" if n == 1 else "predicted"
        measured = 10 * MEASURED_CM[n]
        print(
            f"{n} probe(s): measured {measured:.0f} mm; {kind}: Feret {feret:.1f} mm ({feret / measured - 1:+.0%}), "
            f"equal-area {area:.1f} mm ({area / measured - 1:+.0%})",
            flush=True,
        )
    checks = icesphere_checks()
    for protocol, c in checks.items():
        print(
            f"IceSphere {protocol}: ice {c['ice_width_mm']:.1f} x {c['ice_length_mm']:.1f} mm, -40 degC core "
            f"{c['core_width_mm']:.1f} mm wide, {c['core_depth_mm']:.1f} mm inside the ice edge"
        )
    out = Path(out_dir) / "gel_multiprobe.json"
    atomic_write_text(out, json.dumps({"littrup": rows, "icesphere": checks}, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])
