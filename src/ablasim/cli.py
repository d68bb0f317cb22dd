"""Command line: ``ablasim run SCENARIO [--json OUT]``. Thin: parse, call the public API, print.

Errors are one line on stderr (``ablasim: error: ...``) with exit status 2; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    p = argparse.ArgumentParser(
        prog="ablasim",
        description="Ablation-zone margins and ice-ball coverage. Lengths in mm; margin > 0: the zone extends that "
                    "far beyond the tumour surface at its thinnest; margin < 0: the tumour protrudes that far.",
        epilog="Scenario format: docs/scenarios.md. Example: ablasim run examples/three_probes.toml --json out.json")
    p.add_argument("--version", action="version", version=f"ablasim {__version__}")
    p.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser("run", help="measure margins and coverage for a scenario file",
                         description="Measure every tumour of SCENARIO against the union of its zones and probes.")
    run.add_argument("scenario", metavar="SCENARIO", help="scenario TOML file")
    run.add_argument("--json", metavar="OUT", help="also write the results as JSON to OUT (written atomically)")
    run.add_argument("--method", choices=("auto", "exact", "voxel"), help="override [measure].method")
    run.add_argument("--strict", action="store_true",
                     help="exit with status 1 when a tumour misses the scenario's required margin")
    return p


def _fmt_point(p) -> str:
    return "(" + ", ".join(f"{v:.1f}" for v in p) + ")"


def _print_result(sres) -> None:
    sc = sres.scenario
    print(f"Scenario: {sc.name}")
    if sc.description:
        print(f"  {sc.description}")
    models = {}
    for _, p, _ in sc.probes:
        models[p.model] = models.get(p.model, 0) + 1
    probes = ", ".join(f"{m} x{n}" for m, n in models.items())
    print(f"Zone: union of {len(sc.zone_ellipsoids())} ellipsoid(s)" + (f" ({probes})" if probes else ""))
    req = sc.required_margin_mm
    header = f"{'tumour':<12} {'min margin':>11} {'coverage':>9} {'uncovered':>11}  {'thinnest point (mm)':<24} {'at':<13}"
    if req is not None:
        header += f" {'required':>9}  result"
    print()
    print(header)
    for name, r in sres.results:
        line = (f"{name:<12} {r.min_margin_mm:>+8.2f} mm {100 * r.coverage:>8.2f}% {r.uncovered_volume_mm3:>7.1f} mm3  "
                f"{_fmt_point(r.thinnest_point_mm):<24} {r.feature:<13}")
        if req is not None:
            line += f" {req:>6.1f} mm  " + ("PASS" if r.min_margin_mm >= req else "FAIL")
        print(line)
    print()
    for name, r in sres.results:
        m = r.margin_map
        below = f", {100 * m.fraction_below(req):.1f} % of the surface below {req:g} mm" if req is not None else ""
        excl = f", {100 * r.excluded_area_fraction:.1f} % of the surface excluded" if r.excluded_area_fraction else ""
        print(f"{name}: method {r.method}, error bound {r.error_bound_mm:.3g} mm; surface margin 5th/50th percentile "
              f"{m.percentile(5):.2f}/{m.percentile(50):.2f} mm{below}{excl}")


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help()
        return 0
    from .errors import AblasimError

    try:
        if args.command == "run":
            from ._io import atomic_write_json
            from .scenario import load_scenario, run_scenario

            scenario = load_scenario(args.scenario)
            if args.method:
                scenario = dataclasses.replace(scenario, measure={**scenario.measure, "method": args.method})
            sres = run_scenario(scenario)
            _print_result(sres)
            if args.json:
                path = atomic_write_json(args.json, sres.to_dict())
                print(f"\nwrote {path}")
            return 1 if args.strict and sres.passed() is False else 0
    except AblasimError as exc:
        if args.debug:
            raise
        print(f"ablasim: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if args.debug:
            raise
        print(f"ablasim: error: {exc.filename or ''}: {exc.strerror}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
