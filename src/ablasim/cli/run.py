"""``ablasim run SCENARIO`` (table, JSON, samples, report) and ``ablasim report SCENARIO``."""

from __future__ import annotations

import argparse

from .._io import atomic_write_json
from ..metrics.measure import METHODS
from ..scenario import load_scenario
from ..workflows.run import ScenarioResult, run_scenario
from ..workflows.sample import SampledCheck, check_sampling, sample_scenario

__all__ = ["add_parser", "run_command"]


def add_parser(sub) -> None:
    run = sub.add_parser(
        "run",
        help="measure margins and coverage for a scenario file",
        description="Measure every tumour of SCENARIO against its zone (explicit zones and probe zones from the "
        "catalog), check its rules, each on its own isotherm, and the probe placement.",
    )
    run.add_argument("scenario", metavar="SCENARIO", help="scenario TOML file")
    run.add_argument("--json", metavar="OUT", help="also write the results as JSON to OUT (written atomically)")
    run.add_argument("--method", choices=METHODS, help="override [measure] method")
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


def run_command(args: argparse.Namespace) -> int:
    if args.command == "report":
        from ..render._camera import parse_window_size

        size = parse_window_size(args.size)
        _write_report(run_scenario(load_scenario(args.scenario)), args.out, size)
        return 0
    scenario = load_scenario(args.scenario)
    if args.method:
        scenario = scenario.with_measure(method=args.method)
    if args.samples is not None:  # refused now, before any work, if sampling cannot be done
        check_sampling(scenario, args.samples, args.seed, names=("--samples", "--seed"))
    sres = run_scenario(scenario)
    print_result(sres)
    data = sres.to_dict()
    if args.samples is not None:
        rows = sample_scenario(scenario, args.samples, args.seed)
        print_samples(rows)
        data["uncertainty"] = [r.to_dict() for r in rows]
    if args.json:
        print(f"\nwrote {atomic_write_json(args.json, data)}")
    if args.report:
        _write_report(sres, args.report, (800, 600))
    return 1 if args.strict and sres.passed() is False else 0


def _fmt_point(p) -> str:
    return "(" + ", ".join(f"{v:.1f}" for v in p) + ")"


def print_result(sres: ScenarioResult) -> None:
    """The table ``ablasim run`` prints."""
    sc = sres.scenario
    print(f"Scenario: {sc.name}")
    if sc.description:
        print(f"  {sc.description}")
    models: dict[str, int] = {}
    for p in sc.probes:
        models[p.probe.model] = models.get(p.probe.model, 0) + 1
    probes = ", ".join(f"{m} x{n}" for m, n in models.items())
    zone = sc.zone()
    kind = f"union of {len(zone)} ellipsoid(s)" if isinstance(zone, list) else zone.description
    print(f"Zone: {kind}" + (f" ({probes})" if probes else ""))
    if sc.zone_model.composition == "synergy":
        print("Zone model: cold synergy (merged isotherms of superposed probe fields)")
    print()
    print(
        f"{'tumour':<12} {'min margin':>11} {'coverage':>9} {'uncovered':>11}  {'thinnest point (mm)':<24} {'at':<13}"
    )
    for o in sres.outcomes:
        r = o.result
        print(
            f"{o.name:<12} {r.min_margin_mm:>+8.2f} mm {100 * r.coverage:>8.2f}% {r.uncovered_volume_mm3:>7.1f} mm3  "
            f"{_fmt_point(r.thinnest_point_mm):<24} {r.feature:<13}"
        )
    for o in sres.outcomes:
        r, m = o.result, o.result.margin_map
        where = "" if o.isotherm_c is None else f" at the {o.isotherm_c:g} degC isotherm"
        excl = f", {100 * r.excluded_area_fraction:.1f} % of the surface excluded" if r.excluded_area_fraction else ""
        stats = (
            ""
            if m is None
            else (f"; surface margin 5th/50th percentile {m.percentile(5):.2f}/{m.percentile(50):.2f} mm")
        )
        print(f"\n{o.name}{where}: method {r.method}, error bound {r.error_bound_mm:.3g} mm{stats}{excl}")
        for note in r.warnings:
            print(f"  warning: {note}")
        for c in o.checks:
            print(f"  {c.reason}")
        for w in o.placement:
            print(f"  placement: {w.message}")


def print_samples(rows: tuple[SampledCheck, ...]) -> None:
    if not rows:
        return
    print(f"\nuncertainty: {rows[0].n_samples} sampled deliveries (seed {rows[0].seed})")
    for r in rows:
        pct = r.margin_percentiles_mm
        print(
            f"  {r.tumor}, {r.rule} (>= {r.required_margin_mm:g} mm): P = {100 * r.probability:.1f} % "
            f"(95 % CI {100 * r.ci_low:.1f}-{100 * r.ci_high:.1f} %); delivered margin 5th/50th/95th "
            f"percentile {pct['5']:.2f}/{pct['50']:.2f}/{pct['95']:.2f} mm"
        )


def _write_report(sres: ScenarioResult, out, size) -> None:
    from ..render.report import write_report  # pyvista and matplotlib load only when a report is asked for

    files = write_report(sres, out, window_size=size)
    print(f"wrote {files.html}")
    print(f"wrote {files.json}" + (f" and {len(files.images)} PNG file(s)" if files.images else ""))
