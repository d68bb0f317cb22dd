"""Command line: ``ablasim run SCENARIO [--json OUT] [--report DIR] [--samples N]``, ``ablasim report SCENARIO``,
``ablasim cohort SPEC --out FILE``, ``ablasim probes``, ``ablasim rules``. Thin: parse, call the public API, print.

Errors are one line on stderr (``ablasim: error: ...``) with exit status 2; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    from .. import __version__

    p = argparse.ArgumentParser(
        prog="ablasim",
        description="Ablation-zone margins and ice-ball coverage. Lengths in mm; margin > 0: the zone extends that "
        "far beyond the tumour surface at its thinnest; margin < 0: the tumour protrudes that far.",
        epilog="Scenario format: docs/scenarios.md. Example: ablasim run examples/three_probes.toml --json out.json",
    )
    p.add_argument("--version", action="version", version=f"ablasim {__version__}")
    p.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser(
        "run",
        help="measure margins and coverage for a scenario file",
        description="Measure every tumour of SCENARIO against the union of its zones and probes.",
    )
    run.add_argument("scenario", metavar="SCENARIO", help="scenario TOML file")
    run.add_argument("--json", metavar="OUT", help="also write the results as JSON to OUT (written atomically)")
    run.add_argument("--method", choices=("auto", "exact", "voxel"), help="override [measure].method")
    run.add_argument(
        "--strict", action="store_true", help="exit with status 1 when a rule check or the required margin fails"
    )
    run.add_argument(
        "--samples",
        type=int,
        metavar="N",
        help="also sample N deliveries under the scenario's [uncertainty] and print P(rule met) with "
        "its 95 %% confidence interval (docs/uncertainty.md)",
    )
    run.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the sampled deliveries (default 0)")
    run.add_argument(
        "--report",
        metavar="DIR",
        help="also write an HTML report with 3D renders and plots (and its JSON) into DIR; see docs/rendering.md",
    )
    report = sub.add_parser(
        "report",
        help="write a self-contained HTML report with 3D renders and plots",
        description="Run SCENARIO and write NAME.html (images embedded, no external resources), "
        "NAME.json and the PNGs into DIR. See docs/rendering.md.",
    )
    report.add_argument("scenario", metavar="SCENARIO", help="scenario TOML file")
    report.add_argument("--out", metavar="DIR", default="reports", help="output directory (default: reports)")
    report.add_argument("--size", metavar="WxH", default="800x600", help="3D render size in pixels (default 800x600)")
    from .cohort import add_parser as add_cohort_parser

    add_cohort_parser(sub)
    probes = sub.add_parser(
        "probes",
        help="list the probe catalog with provenance",
        description="List the probe models of the catalog: zones, table points and provenance.",
    )
    probes.add_argument(
        "--catalog",
        metavar="TOML",
        action="append",
        default=[],
        help="add or override models from this catalog file (repeatable)",
    )
    rules = sub.add_parser("rules", help="list the rule sets with their sources")
    rules.add_argument(
        "--rules-file",
        metavar="TOML",
        action="append",
        default=[],
        help="add or override rules from this file (repeatable)",
    )
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
    zone = sc.zone()
    kind = f"union of {len(zone)} ellipsoid(s)" if isinstance(zone, list) else zone.description
    print(f"Zone: {kind}" + (f" ({probes})" if probes else ""))
    zm = sc.zone_model
    if zm.get("composition") == "synergy":
        print("Zone model: cold synergy (merged isotherms of superposed probe fields)")
    header = (
        f"{'tumour':<12} {'min margin':>11} {'coverage':>9} {'uncovered':>11}  {'thinnest point (mm)':<24} {'at':<13}"
    )
    print()
    print(header)
    for o in sres.outcomes:
        r = o.result
        print(
            f"{o.name:<12} {r.min_margin_mm:>+8.2f} mm {100 * r.coverage:>8.2f}% {r.uncovered_volume_mm3:>7.1f} mm3  "
            f"{_fmt_point(r.thinnest_point_mm):<24} {r.feature:<13}"
        )
    for o in sres.outcomes:
        r, m = o.result, o.result.margin_map
        excl = f", {100 * r.excluded_area_fraction:.1f} % of the surface excluded" if r.excluded_area_fraction else ""
        print(
            f"\n{o.name}: method {r.method}, error bound {r.error_bound_mm:.3g} mm; surface margin 5th/50th "
            f"percentile {m.percentile(5):.2f}/{m.percentile(50):.2f} mm{excl}"
        )
        for c in o.checks:
            print(f"  {c.reason}")
        for w in o.placement:
            print(f"  placement: {w.message}")


def _list_probes(files) -> None:
    from ..catalog import ProbeCatalog, default_catalog

    cat = ProbeCatalog.from_toml(*files) if files else default_catalog()
    for m in cat:
        print(f"{m.name}  ({m.modality}; {m.manufacturer})")
        print(f"  source: {m.source}")
        print(f"  kind: {m.kind}; verified: {'yes' if m.verified else 'no'}")
        for z in m.zones:
            d = ", ".join(f"{2 * a:g}" for a in z.semi_axes_mm)
            extra = f"; {z.kind}, {z.source}" if z.source != m.source else ""
            print(
                f"  protocol {z.protocol}, {z.isotherm_c:g} degC: diameters {d} mm (radial, radial, axial), "
                f"centre {z.center_offset_mm:g} mm proximal to the tip [{z.offset_basis}]{extra}"
            )
        for r in m.table:
            d = ", ".join(f"{2 * a:g}" for a in r.semi_axes)
            p = f"{r.power_w:g} W, " if r.power_w is not None else ""
            print(f"  {p}{r.duration_s:g} s: diameters {d} mm, centre {r.offset:g} mm proximal to the tip [{r.basis}]")
        if m.notes:
            print(f"  notes: {m.notes}")
        print()


def _list_rules(files) -> None:
    from ..rules import RuleSet, default_rules

    rs = RuleSet.from_toml(*files) if files else default_rules()
    for r in rs:
        iso = f", at the {r.isotherm_c:g} degC isotherm" if r.isotherm_c is not None else ""
        print(f"{r.name}: margin >= {r.min_margin_mm:g} mm{iso} ({r.modality}, {r.organ})")
        print(f"  {r.description}")
        print(f"  source: {r.source}")
        for b in r.size_bins:
            print(f"  size bin {b.label}: {b.outcome} {100 * b.rate:.1f} % ({b.numerator}/{b.denominator})")
        if r.note:
            print(f"  note: {r.note}")
        print()


def _write_report(sres, out, size) -> None:
    from ..render.report import write_report

    files = write_report(sres, out, window_size=size)
    print(f"wrote {files.html}")
    print(f"wrote {files.json}" + (f" and {len(files.images)} PNG file(s)" if files.images else ""))


def _print_samples(scenario, n, seed) -> list:
    from ..workflows.run import sample_scenario

    rows = sample_scenario(scenario, n, seed)
    print(f"\nuncertainty: {n} sampled deliveries (seed {seed})")
    for r in rows:
        pct = r["margin_percentiles_mm"]
        print(
            f"  {r['tumor']}, {r['rule']} (>= {r['required_margin_mm']:g} mm): P = {100 * r['probability']:.1f} % "
            f"(95 % CI {100 * r['ci_low']:.1f}-{100 * r['ci_high']:.1f} %); delivered margin 5th/50th/95th "
            f"percentile {pct['5']:.2f}/{pct['50']:.2f}/{pct['95']:.2f} mm"
        )
    return rows


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help()
        return 0
    from ..errors import AblasimError

    try:
        if args.command == "probes":
            _list_probes(args.catalog)
            return 0
        if args.command == "rules":
            _list_rules(args.rules_file)
            return 0
        if args.command == "cohort":
            from .cohort import run_command

            return run_command(args)
        if args.command == "report":
            from ..render._camera import parse_window_size
            from ..scenario.parse import load_scenario
            from ..workflows.run import run_scenario

            size = parse_window_size(args.size)
            _write_report(run_scenario(load_scenario(args.scenario)), args.out, size)
            return 0
        if args.command == "run":
            from .._io import atomic_write_json
            from ..scenario.parse import load_scenario
            from ..workflows.run import run_scenario

            scenario = load_scenario(args.scenario)
            if args.method:
                scenario = dataclasses.replace(scenario, measure={**scenario.measure, "method": args.method})
            sres = run_scenario(scenario)
            _print_result(sres)
            data = sres.to_dict()
            if args.samples is not None:
                if args.samples < 1:
                    from ..errors import ValidationError

                    raise ValidationError("--samples", args.samples, "expected a positive number of deliveries")
                data["uncertainty"] = _print_samples(scenario, args.samples, args.seed)
            if args.json:
                path = atomic_write_json(args.json, data)
                print(f"\nwrote {path}")
            if args.report:
                _write_report(sres, args.report, (800, 600))
            return 1 if args.strict and sres.passed() is False else 0
    except AblasimError as exc:
        if args.debug:
            raise
        print(f"ablasim: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into a program that stopped reading (e.g. head)
        sys.stderr.close()
        return 0
    except OSError as exc:
        if args.debug:
            raise
        print(f"ablasim: error: {exc.filename or ''}: {exc.strerror}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
