"""``ablasim plan SCENARIO``: the probes, placement and settings that meet the scenario's [plan] target robustly."""

from __future__ import annotations

import argparse
import sys

from .._io import atomic_write_json
from ..workflows.plan import PlanOutcome, plan_file, write_planned_scenario
from ..workflows.run import run_scenario

__all__ = ["add_parser", "run_command"]


def add_parser(sub) -> None:
    p = sub.add_parser(
        "plan",
        help="plan probes, placement and settings that meet a margin robustly",
        description="Plan SCENARIO's [plan] table (docs/planning.md): the smallest number of probes of the allowed "
        "devices whose zone reaches the target margin with the required probability under the scenario's "
        "[uncertainty], respecting the approach and the organs at risk; then the best robust margin. Prints the "
        "plan; exit status 0 when it meets the target, 1 when no plan within the probe budget does (the best is "
        "still printed and written), 2 on errors (including: no plan can exist, and why).",
    )
    p.add_argument("scenario", metavar="SCENARIO", help="scenario TOML file with a [plan] table")
    p.add_argument("--out", metavar="TOML", help="write the planned scenario (accepted by `ablasim run`) to TOML")
    p.add_argument("--json", metavar="OUT", help="also write the plan and its search history as JSON")
    p.add_argument("--report", metavar="DIR", help="also write an HTML report with 3D renders into DIR")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the sampled deliveries (default 0)")
    p.add_argument("--quiet", action="store_true", help="no progress line on stderr")


def run_command(args: argparse.Namespace) -> int:
    progress = None if args.quiet else _Progress()
    try:
        outcome = plan_file(args.scenario, seed=args.seed, progress=progress)
    finally:
        if progress is not None:
            progress.done()
    print_plan(outcome)
    if args.out:
        print(f"\nwrote {write_planned_scenario(outcome, args.out)}")
    if args.json:
        print(f"wrote {atomic_write_json(args.json, outcome.to_dict())}")
    if args.report:
        _write_report(outcome, args.report)
    return 0 if outcome.plan.met else 1


class _Progress:
    """One progress line on stderr, rewritten in place on a terminal."""

    def __init__(self):
        self.tty = sys.stderr.isatty()
        self.width = 0

    def __call__(self, message: str) -> None:
        text = f"ablasim plan: {message}"
        if self.tty:
            sys.stderr.write("\r" + text.ljust(self.width))
            self.width = len(text)
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def done(self) -> None:
        if self.tty and self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()


def _v(p) -> str:
    return "(" + ", ".join(f"{v:.2f}" for v in p) + ")"


def print_plan(outcome: PlanOutcome) -> None:
    """The summary ``ablasim plan`` prints."""
    pl = outcome.plan
    pb = pl.problem
    t = pb.target
    iso = "" if pl.isotherm_c is None else f" at the {pl.isotherm_c:g} degC isotherm"
    axes = " x ".join(f"{2 * a:g}" for a in pb.tumor.semi_axes_mm)
    print(f"Plan: {outcome.scenario.name}, tumour {pb.tumor_name} ({axes} mm)")
    sure = f" (the lower end of its {100 * pb.search.confidence:g} % CI)" if pb.confident else ""
    print(
        f"Target: {t.name}, margin >= {t.min_margin_mm:g} mm{iso} in >= {100 * pb.probability:g} % of deliveries"
        f"{sure} ({pb.composition} zone model, {pl.n_samples} sampled deliveries, at most {pb.max_probes} probes)"
    )
    if pl.met:
        print(f"Answer: {pl.n_probes} x {pl.device.label} meets the target")
    else:
        print(f"Answer: NO plan with at most {pb.max_probes} probes meets the target; the best found:")
        print(f"        {pl.n_probes} x {pl.device.label}")
    print()
    print(f"  {'probe':<6} {'model':<16} {'tip (mm)':<26} direction")
    for i, p in enumerate(pl.probes):
        print(f"  P{i + 1:<5} {p.model:<16} {_v(p.tip_mm):<26} {_v(p.direction)}")
    print()
    r = pl.nominal
    print(
        f"Planned margin {r.min_margin_mm:+.2f} mm (method {r.method}, error bound {r.error_bound_mm:.2g} mm), "
        f"coverage {100 * r.coverage:.2f} %"
    )
    pct = pl.delivered_percentiles_mm
    print(
        f"P(margin >= {t.min_margin_mm:g} mm) = {100 * pl.probability:.1f} % ({100 * pb.search.confidence:g} % CI "
        f"{100 * pl.ci_low:.1f}-{100 * pl.ci_high:.1f} %); delivered margin 5th/50th/95th percentile "
        f"{pct['5']:.2f}/{pct['50']:.2f}/{pct['95']:.2f} mm (error bound {pl.delivered_error_bound_mm:.2g} mm)"
    )
    for o in pb.organs:
        c = pl.clearances_mm[o.name]
        where = "the zone" if o.isotherm_c is None else f"the {o.isotherm_c:g} degC isotherm"
        print(f"Organ at risk {o.name}: {where} stays {c:.2f} mm away (required {o.min_distance_mm:g} mm)")
    for w in pl.warnings:
        print(f"  warning: {w}")
    for note in outcome.notes:
        print(f"  note: {note}")
    print()
    print("Search:")
    for s in pl.history:
        found = "" if s.nominal_margin_mm is None else f", planned margin {s.nominal_margin_mm:+.2f} mm"
        robust = "" if s.robust_margin_mm is None else f", robust margin {s.robust_margin_mm:+.2f} mm"
        note = f" ({s.note})" if s.note else ""
        print(f"  {s.n_probes} x {s.device}: {s.outcome}{found}{robust}{note}")
    print(f"  {pl.evaluations} margin evaluations in {pl.seconds:.1f} s (seed {pl.seed})")


def _write_report(outcome: PlanOutcome, out) -> None:
    from ..render.report import write_report  # pyvista and matplotlib load only when a report is asked for

    pl = outcome.plan
    rows = [
        ["target", f"{pl.problem.target.name}: {pl.target_mm:g} mm, P >= {100 * pl.problem.probability:g} %"],
        ["answer", f"{pl.n_probes} x {pl.device.label}" + ("" if pl.met else " (does NOT meet the target)")],
        [
            f"P(margin >= {pl.target_mm:g} mm)",
            f"{100 * pl.probability:.1f} % (CI {100 * pl.ci_low:.1f}-{100 * pl.ci_high:.1f} %, {pl.n_samples} "
            "deliveries)",
        ],
        ["robust margin", f"{pl.robust_margin_mm:+.2f} mm"],
    ]
    rows += [[f"clearance to {k}", f"{v:.2f} mm"] for k, v in pl.clearances_mm.items()]
    organs = [(o.name, o.shape) for o in pl.problem.organs]
    files = write_report(run_scenario(outcome.scenario), out, organs=organs, summary_rows=rows)
    print(f"wrote {files.html}")
