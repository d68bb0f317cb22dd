"""Compare the cold-synergy model (docs/zones.md) with the bioheat solver (docs/physics.md) for 2-4 probes.

The synergy model is calibrated on the solver's own single probe (its 0 / -20 / -40 degC isotherm extents after
the same freeze, as ellipsoids), so the comparison tests the superposition assumption alone, not the catalog.
Writes docs/figures/synergy_vs_solver.png and prints the table quoted in docs/physics.md.

Run: .venv/bin/python docs/figures/make_synergy_vs_solver.py [gel|liver] [tail_mm]   (about 10 s each)
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from ablasim import Grid
from ablasim.physics import Cryoprobe, simulate
from ablasim.probes import Probe
from ablasim.zones import SynergyZone
from ablasim.zones.calibrate import zone_specs_from_solver

FREEZE = "10"  # one 10-min freeze
ISOS = (0.0, -20.0, -40.0)
ACTIVE = 22.0  # mm (the IceSphere entry's active freezing length)
GRID = Grid.covering([-32, -32, -40], [32, 32, 22], 1.0)  # voxel centres on integer mm: probes placed on them
LAYOUTS = {  # name -> transverse probe positions (mm), on voxel centres
    "2 probes, 10 mm": [(-5, 0), (5, 0)],
    "2 probes, 16 mm": [(-8, 0), (8, 0)],
    "2 probes, 20 mm": [(-10, 0), (10, 0)],
    "3 probes, ~15 mm": [(0, 9), (-8, -4), (8, -4)],
    "4 probes, 14 mm": [(-7, -7), (7, -7), (7, 7), (-7, 7)],
}


def run(positions, tissue):
    probes = [Cryoprobe([x, y, 8.0], [0, 0, 1], active_length_mm=ACTIVE) for x, y in positions]
    return simulate(GRID, tissue, probes, FREEZE, record_isotherms_c=ISOS, record_every_s=600)


def calibrated_specs(single):
    return zone_specs_from_solver(single, ISOS)


def synergy(positions, specs, tail):
    per_probe = []
    for x, y in positions:
        p = Probe([x, y, 8.0], [0, 0, 1], "n/a")
        per_probe.append([(iso, p.zone_from(s.semi_axes_mm, s.center_offset_mm)) for iso, s in specs])
    return {iso: SynergyZone(per_probe, iso, tail_mm=tail) for iso in ISOS}


def main(tissue="gel", tail=None):
    if tail is None:  # docs/zones.md: sqrt(alpha t) unperfused, Pennes length in liver
        tail = 9.1 if tissue == "gel" else 4.6
    centres = GRID.index_to_world(np.indices(GRID.shape).reshape(3, -1).T)
    single = run([(0, 0)], tissue)
    specs = calibrated_specs(single)
    print(
        f"{tissue}: single probe after {FREEZE} min: "
        + ", ".join(f"{iso:g} degC {2 * s.semi_axes_mm[0]:.1f} x {2 * s.semi_axes_mm[2]:.1f} mm" for iso, s in specs)
    )
    print(f"{'layout':<18} {'0 degC volume (cm3)':>32} {'-40 degC volume (cm3)':>32} {'Dice 0 degC':>12}")
    print(f"{'':<18} {'union':>10} {'synergy':>10} {'solver':>10} {'union':>10} {'synergy':>10} {'solver':>10}")
    rows = []
    fig, axes = plt.subplots(1, len(LAYOUTS), figsize=(3.4 * len(LAYOUTS), 3.8), constrained_layout=True)
    for ax, (name, pos) in zip(axes, LAYOUTS.items()):
        sim = run(pos, tissue)
        T = sim.temperature_c
        model = synergy(pos, specs, tail)
        vol = {}
        for iso in (0.0, -40.0):
            solver_in = (iso >= T).ravel()
            syn_in = model[iso].values(centres) <= iso
            union_in = np.zeros(len(centres), bool)
            for x, y in pos:
                s = dict(specs)[iso]
                e = Probe([x, y, 8.0], [0, 0, 1], "n/a").zone_from(s.semi_axes_mm, s.center_offset_mm)
                union_in |= e.contains(centres)
            vol[iso] = [union_in.sum() / 1000, syn_in.sum() / 1000, solver_in.sum() / 1000]
            if iso == 0.0:
                dice = 2 * (syn_in & solver_in).sum() / (syn_in.sum() + solver_in.sum())
                # cross-section at the ice balls' centre level
                k = round(GRID.world_to_index([0, 0, 8.0 - dict(specs)[0.0].center_offset_mm])[2])
                xs = GRID.index_to_world(
                    np.stack(
                        np.meshgrid(np.arange(GRID.shape[0]), np.arange(GRID.shape[1]), [k], indexing="ij"), -1
                    ).reshape(-1, 3)
                )
                X = xs[:, 0].reshape(GRID.shape[:2])
                Y = xs[:, 1].reshape(GRID.shape[:2])
                ax.contour(X, Y, T[:, :, k], [0.0], colors="k", linewidths=1.8, linestyles="solid")
                ax.contour(X, Y, T[:, :, k], [-40.0], colors="tab:blue", linewidths=1.5, linestyles="solid")
                sv = model[0.0].values(xs).reshape(X.shape)
                ax.contour(X, Y, sv, [0.0], colors="tab:red", linewidths=1.5, linestyles="dashed")
                s40 = model[-40.0].values(xs).reshape(X.shape)
                ax.contour(X, Y, s40, [-40.0], colors="tab:cyan", linewidths=1.2, linestyles="dashed")
                ax.plot([p[0] for p in pos], [p[1] for p in pos], "ko", ms=3)
                ax.set_title(name, fontsize=10)
                ax.set_aspect("equal")
                ax.set_xlim(-30, 30)
                ax.set_ylim(-30, 30)
                ax.grid(alpha=0.3)
        rows.append((name, vol, dice))
        print(
            f"{name:<18} "
            + " ".join(f"{v:10.2f}" for v in vol[0.0])
            + " "
            + " ".join(f"{v:10.2f}" for v in vol[-40.0])
            + f" {dice:12.3f}"
        )
    axes[0].plot([], [], "k-", label="solver 0 degC")
    axes[0].plot([], [], "--", color="tab:red", label="synergy 0 degC")
    axes[0].plot([], [], "-", color="tab:blue", label="solver -40 degC")
    axes[0].plot([], [], "--", color="tab:cyan", label="synergy -40 degC")
    axes[0].legend(loc="lower left", fontsize=7)
    fig.suptitle(
        f"Synergy model (calibrated on the solver's single probe, tail {tail:g} mm) vs bioheat solver, "
        f"{tissue}, {FREEZE}-min freeze, 1 mm grid"
    )
    out = Path(__file__).with_name(f"synergy_vs_solver_{tissue}_tail{tail:g}.png")
    fig.savefig(out, dpi=100)
    print(f"wrote {out}")
    return rows


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "gel", float(sys.argv[2]) if len(sys.argv) > 2 else None)
