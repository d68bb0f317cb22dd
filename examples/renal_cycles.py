"""The renal question: how many freeze-thaw cycles until the ice ball extends 6 mm beyond a 17 mm renal metastasis?

The renal series (Interventional Radiology 2022;7:85-92, record renal_metastases_ir2022) needed 2 +- 0.26 cycles
(range 2-3). Here the bioheat solver freezes a 17 mm tumour with one to three probes (17 G, 22 mm active length,
-150 degC wall: the assumptions of docs/physics.md), in perfused kidney and in unperfused tissue (gel), 10-min
freezes with 5-min passive thaws, checking the margin to the 0 degC isotherm every 30 s, and plots the margin
against time.

Run: .venv/bin/python examples/renal_cycles.py [OUT_DIR]      (about a minute)
"""

import sys
from pathlib import Path

import numpy as np

from ablasim import Ellipsoid, Grid
from ablasim.physics import Cryoprobe
from ablasim.render.plots import margin_vs_time
from ablasim.rules import default_rules
from ablasim.workflows.freezing import cycles_to_rule

GRID = Grid.covering([-28, -28, -36], [28, 28, 24], 1.0)
TUMOR = Ellipsoid.sphere([0, 0, 0], 8.5)  # 17 mm, the series' mean diameter
RULE = default_rules()["renal-6mm"]
TIP_Z = 10.0  # tips 10 mm beyond the tumour centre


def setups():
    def probe(x, y):
        return Cryoprobe([x, y, TIP_Z], [0, 0, 1], active_length_mm=22)

    yield "1 probe", [probe(0, 0)]
    yield "2 probes, 10 mm apart", [probe(-5, 0), probe(5, 0)]
    yield "3 probes, 12 mm triangle", [probe(6.93 * np.cos(a), 6.93 * np.sin(a)) for a in np.deg2rad([90, 210, 330])]


def main(out_dir="out"):
    out = Path(out_dir)
    for tissue in ("kidney", "gel"):
        curves, labels = [], []
        for name, probes in setups():
            ans = cycles_to_rule(TUMOR, probes, RULE, tissue, GRID, freeze_s=600, thaw_s=300, max_cycles=3)
            print(f"{tissue:>6}, {name:<26}: {ans.reason}")
            curves.append((ans.times_s, ans.margins_mm))
            labels.append(name)
        # one time axis for the plot: each curve padded with nan after it stops
        t = max((c[0] for c in curves), key=len)
        m = np.full((len(curves), len(t)), np.nan)
        for k, (_tk, mk) in enumerate(curves):
            m[k, : len(mk)] = mk
        path = out / f"renal_cycles_{tissue}.png"
        margin_vs_time(
            t,
            m,
            labels=labels,
            thresholds_mm=[RULE.min_margin_mm],
            path=path,
            title=f"17 mm renal metastasis, {tissue}: margin to the 0 degC isotherm while freezing",
        )
        print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
