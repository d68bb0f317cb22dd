"""The QAM-like sphere suite timed interleaved: ``python -m benchmarks.mask_suite_timing [--rounds 5] [--grids ...]``.

For every case of tests/reference/mask_suite.py, each round runs the three methods once, in an order rotated from
round to round: the QAM-style baseline (border-voxel EDT, cropped), the mesh method (the default for masks) and the
edt voxel path. Per case and method it keeps the shortest wall-clock and CPU time over the rounds and the error
against the analytic truth; per grid it prints the mean and worst absolute error, the bias, the median time over
the 18 cases, and the smallest, median and largest over the cases of each method's time divided by the
baseline's (wall-clock and CPU). ``--profile``: the mesh method's CPU time per stage and case; ``--surfaces``: the
surface errors of the reconstruction on spheres and ellipsoids; ``--compiled``: the mesh method's time in compiled
code and in the Python between (the cases without a liver). The load average of
the machine is printed before and after: on a shared machine the wall-clock times grow with it, the CPU times much
less, and the interleaving keeps the comparison fair.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from ablasim import Ellipsoid, measure_margin, rotation_from_euler_deg
from ablasim.geometry.surfaces import surface_from_mask
from reference.mask_suite import CASES, GRIDS, exclusion, masks, qam_style, truth

METHODS = ("qam-style", "mesh", "voxel")


def _runners(case, grid):
    tm, zm, lm = masks(case, grid)
    ex = exclusion(case, lm)
    liver = None if lm is None else lm.array
    return {
        "qam-style": lambda: qam_style(tm.array, zm.array, liver, grid.spacing_mm),
        "mesh": lambda: measure_margin(tm, zm, method="mesh", exclude=ex).min_margin_mm,
        "voxel": lambda: measure_margin(tm, zm, method="voxel", exclude=ex).min_margin_mm,
    }


def run_grid(name: str, rounds: int, out=print) -> dict:
    """Time every case of the suite on grid ``name``; returns per method the errors and times (s) per case."""
    grid = GRIDS[name]
    res = {m: {"error": [], "wall": [], "cpu": []} for m in METHODS}
    for case in CASES:
        run = _runners(case, grid)
        for m in METHODS:
            run[m]()  # compile and warm caches outside the timing
        wall = dict.fromkeys(METHODS, np.inf)
        cpu = dict.fromkeys(METHODS, np.inf)
        value = {}
        for r in range(rounds):
            for m in METHODS[r % 3 :] + METHODS[: r % 3]:
                w0, c0 = time.perf_counter(), time.process_time()
                value[m] = run[m]()
                wall[m] = min(wall[m], time.perf_counter() - w0)
                cpu[m] = min(cpu[m], time.process_time() - c0)
        exact = truth(case)
        for m in METHODS:
            res[m]["error"].append(value[m] - exact)
            res[m]["wall"].append(wall[m])
            res[m]["cpu"].append(cpu[m])
        cells = "  ".join(
            f"{m} {value[m] - exact:+.3f} mm {wall[m] * 1e3:7.1f} ms ({cpu[m] * 1e3:6.1f} CPU)" for m in METHODS
        )
        out(f"{name:14s} {case.name:16s} {cells}")
    return res


def summary(name: str, res: dict) -> list[str]:
    base = np.asarray(res["qam-style"]["wall"])
    base_cpu = np.asarray(res["qam-style"]["cpu"])
    rows = []
    for m in METHODS:
        err = np.asarray(res[m]["error"])
        wall, cpu = np.asarray(res[m]["wall"]), np.asarray(res[m]["cpu"])
        ratio, ratio_cpu = wall / base, cpu / base_cpu
        rows.append(
            f"| {name} | {m} | {np.abs(err).mean():.3f} | {np.abs(err).max():.3f} | {err.mean():+.3f} | "
            f"{np.median(wall) * 1e3:.1f} | {np.median(cpu) * 1e3:.1f} | "
            f"{ratio.min():.2f} / {np.median(ratio):.2f} / {ratio.max():.2f} | "
            f"{ratio_cpu.min():.2f} / {np.median(ratio_cpu):.2f} / {ratio_cpu.max():.2f} |"
        )
    return rows


def _outermost(func, clock, add, depth):
    """``func`` wrapped to pass ``add`` the ``clock`` time of each call that no other wrapped call sharing the
    one-element list ``depth`` encloses (a timed call inside another counts for the outer one only)."""

    def run(*args, **kwargs):
        t0 = clock()
        depth[0] += 1
        try:
            return func(*args, **kwargs)
        finally:
            depth[0] -= 1
            if depth[0] == 0:
                add(args, clock() - t0)

    return run


STAGES = ("tumour surface", "zone surface", "organ surface", "distances", "voxel centres", "other")


def profile_grid(name: str, repeats: int = 5, out=print) -> None:
    """Where the mesh method's time goes, per case of the suite on grid ``name``: the surfaces (partial volume,
    smoothing, marching cubes, shrinkage correction), the exact distances (hierarchy, normals, queries: the first
    query of a mesh builds its hierarchy), the tumour voxel centres (coverage, its error, interior candidates) and
    the rest (validation, candidates, the result). CPU time per stage, the shortest of ``repeats`` runs."""
    from ablasim.geometry import surfaces
    from ablasim.metrics import mesh

    spent = dict.fromkeys(STAGES, 0.0)
    depth = [0]

    def timed(func, stage):
        def add(args, seconds):
            spent[stage(args) if callable(stage) else stage] += seconds

        return _outermost(func, time.process_time, add, depth)

    surface_of = {"tumor": "tumour surface", "zone": "zone surface", "exclude.organ": "organ surface"}
    patches = [
        (mesh, "mesh_mask", timed(mesh.mesh_mask, lambda a: surface_of.get(a[5], "zone surface"))),
        (mesh, "_interior_candidates", timed(mesh._interior_candidates, "voxel centres")),
        (mesh, "_lookup", timed(mesh._lookup, "voxel centres")),
        (mesh, "_zone_box", timed(mesh._zone_box, "voxel centres")),
    ]
    for method in ("signed_distance", "distance", "level_crossings"):
        patches.append((surfaces.SurfaceMesh, method, timed(getattr(surfaces.SurfaceMesh, method), "distances")))
    saved = [(owner, attr, getattr(owner, attr)) for owner, attr, _ in patches]
    grid = GRIDS[name]
    out(f"| case | {' | '.join(STAGES)} | total (ms CPU) |")
    out("|---|" + "---|" * (len(STAGES) + 1))
    try:
        for owner, attr, func in patches:
            setattr(owner, attr, func)
        for case in CASES:
            run = _runners(case, grid)["mesh"]
            run()
            best = None
            for _ in range(repeats):
                for key in spent:
                    spent[key] = 0.0
                t0 = time.process_time()
                run()
                total = time.process_time() - t0
                spent["other"] = total - sum(v for k, v in spent.items() if k != "other")
                if best is None or total < best[0]:
                    best = (total, dict(spent))
            cells = " | ".join(f"{best[1][k] * 1e3:.1f}" for k in STAGES)
            out(f"| {case.name} | {cells} | {best[0] * 1e3:.1f} |")
    finally:
        for owner, attr, func in saved:
            setattr(owner, attr, func)


def compiled_split(name: str, repeats: int = 15, out=print) -> None:
    """On the suite's cases without a liver (where the baseline's box holds only the two spheres): the mesh
    method's wall-clock time split into compiled code (every numba kernel of ablasim called from Python, and
    scikit-image's marching cubes) and the rest (Python and numpy between them), beside the QAM-style baseline's
    time; each the shortest of ``repeats`` runs. A kernel called from another kernel counts once."""
    import importlib
    import pkgutil

    import numba
    import skimage.measure._marching_cubes_lewiner as lewiner

    import ablasim

    spent = [0.0]
    depth = [0]

    def add(args, seconds):
        spent[0] += seconds

    modules = [lewiner]
    for info in pkgutil.walk_packages(ablasim.__path__, "ablasim."):
        if not info.name.endswith("__main__"):
            modules.append(importlib.import_module(info.name))
    saved = []
    for mod in modules:
        for attr, obj in list(vars(mod).items()):
            kernel = isinstance(obj, numba.core.registry.CPUDispatcher)
            if kernel or (mod is lewiner and attr == "_marching_cubes_lewiner"):
                saved.append((mod, attr, obj))
    grid = GRIDS[name]
    out("| case | mesh method (ms) | of which compiled code | rest | QAM-style (ms) |")
    out("|---|---|---|---|---|")
    try:
        for mod, attr, obj in saved:
            setattr(mod, attr, _outermost(obj, time.perf_counter, add, depth))
        for case in CASES:
            if case.subcapsular:
                continue
            run = _runners(case, grid)
            run["mesh"]()
            best = (np.inf, 0.0)
            base = np.inf
            for _ in range(repeats):
                spent[0] = 0.0
                t0 = time.perf_counter()
                run["mesh"]()
                total = time.perf_counter() - t0
                best = min(best, (total, spent[0]))
                t0 = time.perf_counter()
                run["qam-style"]()
                base = min(base, time.perf_counter() - t0)
            total, compiled = best
            out(
                f"| {case.name} | {total * 1e3:.2f} | {compiled * 1e3:.2f} | {(total - compiled) * 1e3:.2f} | "
                f"{base * 1e3:.2f} |"
            )
    finally:
        for mod, attr, obj in saved:
            setattr(mod, attr, obj)


def surface_errors(name: str) -> list[str]:
    """Signed distance of the reconstructed surfaces' vertices to the analytic shape (> 0: outside it) on grid
    ``name``: 15 spheres (radii 3, 5, 7.5, 10, 15 mm, three random centres each) and 12 ellipsoids (semi-axes
    12x8x5, 10x6x6, 15x10x7, 8x4x4 mm, three random centres and orientations each), seeded."""
    rng = np.random.default_rng(42)
    shapes = {"spheres": [], "ellipsoids": []}
    for r in (3.0, 5.0, 7.5, 10.0, 15.0):
        for _ in range(3):
            shapes["spheres"].append(Ellipsoid.sphere(tuple(50 + rng.uniform(-2, 2, 3)), r))
    for axes in ((12, 8, 5), (10, 6, 6), (15, 10, 7), (8, 4, 4)):
        for _ in range(3):
            rot = rotation_from_euler_deg(rng.uniform(0, 180, 3))
            shapes["ellipsoids"].append(Ellipsoid(tuple(50 + rng.uniform(-2, 2, 3)), axes, rot))
    rows = []
    for kind, items in shapes.items():
        err = [e.signed_distance(surface_from_mask(e.to_mask(GRIDS[name])).vertices_mm) for e in items]
        worst = max(float(np.abs(x).max()) for x in err)
        mean_ext = np.mean([max(abs(x.min()), abs(x.max())) for x in err])
        bias = np.mean([x.mean() for x in err])
        rms = np.sqrt(np.mean([np.mean(x**2) for x in err]))
        rows.append(f"| {name} | {kind} | {bias:+.3f} | {rms:.3f} | {mean_ext:.3f} | {worst:.3f} |")
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--grids", nargs="*", default=list(GRIDS), choices=list(GRIDS))
    parser.add_argument("--surfaces", action="store_true", help="surface errors on spheres and ellipsoids instead")
    parser.add_argument("--profile", action="store_true", help="the mesh method's CPU time per stage and case instead")
    parser.add_argument(
        "--compiled", action="store_true", help="the mesh method's time in compiled code and in the rest instead"
    )
    args = parser.parse_args(argv)
    if args.compiled or args.profile:
        print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()}")
        for name in args.grids:
            print(f"\n{name}")
            (compiled_split if args.compiled else profile_grid)(name)
        print(f"load average {os.getloadavg()}")
        return
    if args.surfaces:
        print("| grid | shapes | bias (mm) | RMS (mm) | mean largest (mm) | worst (mm) |\n|---|---|---|---|---|---|")
        for name in args.grids:
            print("\n".join(surface_errors(name)))
        return
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()}")
    table = [
        "| grid | method | mean abs error (mm) | worst (mm) | bias (mm) | median wall (ms) | median CPU (ms) | "
        "per-case wall ratio to QAM-style, min / median / max | per-case CPU ratio, min / median / max |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name in args.grids:
        table += summary(name, run_grid(name, args.rounds))
    print(f"load average {os.getloadavg()}")
    print("\n".join(table))


if __name__ == "__main__":
    main()
