"""Make docs/figures/synergy.png and print the numbers quoted in docs/zones.md.

Run: .venv/bin/python docs/figures/make_synergy_figure.py
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from ablasim import Ellipsoid
from ablasim.placement import parallel_array
from ablasim.probes import Probe
from ablasim.zones import compose

OUT = Path(__file__).with_name("synergy.png")
H = 0.25
XS = np.arange(-30, 30 + H, H)


def section(field_or_zones, z=0.0):
    X, Y = np.meshgrid(XS, XS, indexing="ij")
    pts = np.stack([X, Y, np.full_like(X, z)], -1).reshape(-1, 3)
    if isinstance(field_or_zones, list):
        inside = np.zeros(len(pts), bool)
        for e in field_or_zones:
            inside |= e.contains(pts)
        return X, Y, inside.reshape(X.shape).astype(float)
    return X, Y, field_or_zones.values(pts).reshape(X.shape)


def main():
    fig, axes = plt.subplots(2, 3, figsize=(13, 8.6), constrained_layout=True)
    print("two IceRod probes, 0 degC, cross-section at the ice balls' centre level")
    for ax, s in zip(axes[0], (10.0, 20.0, 30.0)):
        probes = [Probe([-s / 2, 0, 5], [0, 0, 1], "IceRod"), Probe([s / 2, 0, 5], [0, 0, 1], "IceRod")]
        X, Y, u = section(compose(probes))
        _, _, t = section(compose(probes, composition="synergy"))
        ax.contour(X, Y, u, [0.5], colors="k", linestyles="--", linewidths=1.2)
        ax.contour(X, Y, t, [0.0], colors="tab:red", linewidths=1.8, linestyles="solid")
        ax.plot([-s / 2, s / 2], [0, 0], "ko", ms=4)
        ax.set_title(f"2 x IceRod, {s:g} mm apart")
        waist = Y[np.argmin(np.abs(XS))][t[np.argmin(np.abs(XS))] <= 0].max()
        print(
            f"  spacing {s:4.0f} mm: union waist half-width "
            f"{np.sqrt(max(12.5**2 - (s / 2) ** 2, 0)):5.2f} mm, merged {waist:5.2f} mm"
        )
    print("IceSphere (lung model) probes 10 mm apart: -40 degC core, cross-section at the zones' centre level")
    tumor = Ellipsoid([0, 0, 0], [8, 8, 8])
    for ax, n in zip(axes[1], (2, 3, 4)):
        probes = parallel_array(tumor, n, "IceSphere", spacing_mm=10.0, protocol="lung-model")
        z0 = probes[0].zone(protocol="lung-model", isotherm_c=-40).center_mm[2]
        X, Y, u40 = section(compose(probes, isotherm_c=-40, protocol="lung-model"), z0)
        field = compose(probes, composition="synergy", isotherm_c=-40, protocol="lung-model")
        _, _, t = section(field, z0)
        ax.contour(X, Y, u40, [0.5], colors="tab:blue", linestyles="--", linewidths=1.2)
        ax.contour(X, Y, t, [-40.0], colors="tab:blue", linewidths=1.8, linestyles="solid")
        ax.contour(X, Y, t, [0.0], colors="tab:red", linewidths=1.8, linestyles="solid")
        ax.plot([p.tip_mm[0] for p in probes], [p.tip_mm[1] for p in probes], "ko", ms=4)
        ax.set_title(f"{n} x IceSphere, 10 mm apart")
        print(
            f"  {n} probes: -40 degC area in the section: union {np.sum(u40 > 0.5) * H * H:6.1f} mm2, "
            f"merged {np.sum(t <= -40) * H * H:6.1f} mm2"
        )
    for ax in axes.ravel():
        ax.set_aspect("equal")
        ax.set_xlim(-30, 30)
        ax.set_ylim(-30, 30)
        ax.set_xlabel("x (mm)")
        ax.set_ylabel("y (mm)")
        ax.grid(alpha=0.3)
    axes[0, 0].plot([], [], "k--", label="union of catalog 0 degC balls")
    axes[0, 0].plot([], [], color="tab:red", label="merged 0 degC (synergy)")
    axes[0, 0].legend(loc="lower left", fontsize=8)
    axes[1, 0].plot([], [], "--", color="tab:blue", label="union of catalog -40 degC cores")
    axes[1, 0].plot([], [], color="tab:blue", label="merged -40 degC (synergy)")
    axes[1, 0].plot([], [], color="tab:red", label="merged 0 degC")
    axes[1, 0].legend(loc="lower left", fontsize=8)
    fig.suptitle("Cold synergy model: merged isotherms of parallel cryoprobes (cross-sections across the shafts)")
    fig.savefig(OUT, dpi=110)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
