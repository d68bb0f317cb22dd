"""Validation without retuning: how many freeze-thaw cycles until the ice ball extends 6 mm beyond a renal tumour?

The renal series (Interventional Radiology 2022;7:85-92, record renal_metastases_ir2022) froze 14 metastases of
mean diameter 1.7 +- 0.6 cm (range 0.7-3.0 cm, all 19 tumours) with IceSeed / IceRod probes (Galil, argon) and
needed 2 +- 0.26 freeze-thaw cycles (range 2-3) to reach an ice-ball margin >= 6 mm. This script predicts that
number with the calibrated IceRod device (fitted only to a single-probe ellipsoid in gel, docs/physics.md
"Calibration"). Nothing here was fitted to the series, and no parameter was changed after the comparison.

Setup, fixed before the first run (the series does not report probe numbers or placement):
* perfused kidney of tissues.toml (perfusion 0.05 /s; tissue that froze stays unperfused after it thaws);
* spherical tumours of 7, 10, 15, 17, 20, 25 and 30 mm (the series' range and mean);
* IceRod probes, parallel, tips 5 mm beyond the tumour's far surface: 1 probe up to 10 mm, 2 probes (half the
  diameter apart, at least 8 mm) up to 20 mm, 3 on a triangle (circumradius 0.35 x diameter) up to 25 mm, 4 on a
  square (half-diagonal 0.35 x diameter) above;
* 10-min freezes and 5-min passive thaws, at most 4 cycles; the margin to the 0 degC isotherm (the visible ice
  edge, rule renal-6mm) checked every 30 s while freezing; 1 mm grid.
Sensitivity runs for the mean size (labelled so, not predictions): the same without stasis after freezing (perfusion
returns as the tissue thaws), and unperfused tissue (gel).

Run: .venv/bin/python examples/renal_cycles.py [OUT_DIR] [--quick]   (nine cycle searches, each up to four
10-5 cycles on a 1 mm grid; --quick: the 17 mm tumour only). Prints each answer and the total time (347-970 s
with one thread on the project's shared 2-core machine, docs/physics.md). Writes OUT_DIR/renal_cycles.json and
OUT_DIR/renal_cycles_kidney.png.
"""

import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from ablasim import Ellipsoid, Grid
from ablasim._io import atomic_write_text
from ablasim.physics import Tissue
from ablasim.physics.devices import device
from ablasim.rules import default_rules
from ablasim.workflows.freezing import cycles_to_rule

SIZES_MM = (7.0, 10.0, 15.0, 17.0, 20.0, 25.0, 30.0)
PLOTTED_MM = (7.0, 10.0, 17.0, 25.0, 30.0)  # five curves: one colour each
RULE = default_rules()["renal-6mm"]
DEVICE = "IceRod"
TIP_BEYOND_MM = 5.0
MAX_CYCLES = 4


def layout(diameter_mm):
    """Probe positions (x, y) in mm for a tumour of ``diameter_mm`` (the rule in the module docstring)."""
    if diameter_mm <= 10.0:
        return [(0.0, 0.0)]
    if diameter_mm <= 20.0:
        half = max(0.5 * diameter_mm, 8.0) / 2.0
        return [(-half, 0.0), (half, 0.0)]
    r = 0.35 * diameter_mm
    n = 3 if diameter_mm <= 25.0 else 4
    start = math.pi / 2 if n == 3 else math.pi / 4
    return [(r * math.cos(start + 2 * math.pi * k / n), r * math.sin(start + 2 * math.pi * k / n)) for k in range(n)]


def case(diameter_mm, tissue):
    dev = device(DEVICE)
    tip_z = diameter_mm / 2.0 + TIP_BEYOND_MM
    probes = [dev.cryoprobe([x, y, tip_z], [0.0, 0.0, 1.0]) for x, y in layout(diameter_mm)]
    half = diameter_mm / 2.0 + 25.0
    length = dev.values["active_length_mm"]
    grid = Grid.covering([-half, -half, tip_z - length - 25.0], [half, half, tip_z + 22.0], 1.0)
    tumour = Ellipsoid.sphere([0.0, 0.0, 0.0], diameter_mm / 2.0)
    return cycles_to_rule(tumour, probes, RULE, tissue, grid, freeze_s=600, thaw_s=300, max_cycles=MAX_CYCLES)


def main(out_dir="out", quick=False):
    out = Path(out_dir)
    kidney = Tissue.from_name("kidney")
    variants = {
        "kidney (prediction)": kidney,
        "kidney without stasis after freezing (sensitivity)": kidney.replace(stasis_after_freezing=False),
        "unperfused gel (sensitivity)": Tissue.from_name("gel"),
    }
    sizes = (17.0,) if quick else SIZES_MM
    rows, curves = [], {}
    for label, tissue in variants.items():
        for d in sizes if label.startswith("kidney (prediction)") else (17.0,):
            t0 = time.perf_counter()
            ans = case(d, tissue)
            rows.append(
                {
                    "variant": label,
                    "diameter_mm": d,
                    "probes": len(layout(d)),
                    "met": ans.met,
                    "cycles": ans.cycles,
                    "time_min": None if ans.time_s is None else ans.time_s / 60.0,
                    "margin_after_each_freeze_mm": list(ans.margin_after_each_freeze_mm),
                    "reason": ans.reason,
                    "seconds": time.perf_counter() - t0,
                }
            )
            if label.startswith("kidney (prediction)") and d in PLOTTED_MM:
                curves[d] = (ans.times_s, ans.margins_mm)
            print(f"{label:<52} {d:4.0f} mm, {len(layout(d))} probe(s): {ans.reason}", flush=True)
    atomic_write_text(out / "renal_cycles.json", json.dumps(rows, indent=1) + "\n")
    print(f"wrote {out / 'renal_cycles.json'}")
    from ablasim.render.plots import margin_vs_time

    t = max((c[0] for c in curves.values()), key=len)
    m = np.full((len(curves), len(t)), np.nan)
    for k, (_tk, mk) in enumerate(curves.values()):
        m[k, : len(mk)] = mk
    path = out / "renal_cycles_kidney.png"
    margin_vs_time(
        t,
        m,
        labels=[f"{d:g} mm, {len(layout(d))} IceRod" for d in curves],
        thresholds_mm=[RULE.min_margin_mm],
        path=path,
        title="Perfused kidney, calibrated IceRod: margin to 0 degC",
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    t_start = time.perf_counter()
    main(*args, quick="--quick" in sys.argv[1:])
    print(f"total {time.perf_counter() - t_start:.0f} s")
