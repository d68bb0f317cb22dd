"""``ablasim cohort SPEC``: run a virtual cohort on a local dask cluster (default), a remote scheduler, or in this
process; checkpointed, resumable, with a progress line."""

from __future__ import annotations

import sys
import time

from .._io import atomic_write_json
from ..render.plots import efficacy_vs_size
from ..workflows.cohorts.run import run_cohort
from ..workflows.cohorts.spec import load_cohort_spec
from ._dask import client_for

__all__ = ["add_parser", "run_command"]


def add_parser(sub) -> None:
    p = sub.add_parser(
        "cohort",
        help="run a virtual cohort (Monte Carlo over tumours, probes and uncertainty)",
        description="Run the cases of a cohort spec (docs/cohorts.md), checkpointed per chunk: "
        "rerunning the same command after an interruption resumes where it stopped.",
    )
    p.add_argument("spec", metavar="SPEC", help="cohort spec TOML file")
    p.add_argument(
        "--out",
        metavar="FILE",
        required=True,
        help="per-case results table (.parquet or .csv); checkpoints go to FILE.parts/",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", help="use a running dask scheduler (tcp://HOST:PORT)")
    where.add_argument("--in-process", action="store_true", help="no dask: run in this process")
    p.add_argument(
        "--workers",
        type=int,
        default=2,
        metavar="N",
        help="worker processes of the local cluster (default 2, one thread each)",
    )
    p.add_argument("--fresh", action="store_true", help="discard existing checkpoints and start over")
    p.add_argument("--summary", metavar="JSON", help="also write the efficacy-by-size summary as JSON")
    p.add_argument(
        "--plot",
        metavar="PNG",
        help="also plot success rate by size bin (with the literature's rates "
        "when the spec's [outcome] compare names a record)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress line")


class _Progress:
    def __init__(self, name, quiet):
        self.name, self.quiet = name, quiet
        self.t0 = time.perf_counter()
        self.first = None

    def __call__(self, done, total):
        if self.quiet:
            return
        now = time.perf_counter()
        if self.first is None:
            self.first = (now, done)
        t1, d1 = self.first
        rate = (done - d1) / (now - t1) if now > t1 and done > d1 else 0.0
        eta = f", ETA {int((total - done) / rate)} s" if rate > 0 and done < total else ""
        width = 30
        bar = "#" * int(width * done / max(total, 1))
        sys.stderr.write(
            f"\r{self.name}: [{bar:<{width}}] {done}/{total} cases ({100 * done / max(total, 1):.0f} %)"
            f"{f', {rate:.0f} cases/s' if rate else ''}{eta}   "
        )
        sys.stderr.flush()
        if done >= total:
            sys.stderr.write("\n")


def run_command(args) -> int:
    spec = load_cohort_spec(args.spec)  # refused here, before any cluster starts, if malformed
    client = cluster = None
    progress = _Progress(spec.name, args.quiet)
    try:
        if not args.in_process:
            client, cluster = client_for(args)
        res = run_cohort(spec, client, out=args.out, fresh=args.fresh, progress=progress)
    except KeyboardInterrupt:
        sys.stderr.write(
            f"\ninterrupted: finished chunks are saved in {args.out}.parts/; run the same command again to resume\n"
        )
        return 130
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    print(
        f"{spec.name}: {res.n_cases} cases ({res.computed_chunks} chunks computed now) in {res.seconds:.1f} s; "
        f"results in {args.out}"
    )
    print(f"success = minimum margin >= {spec.success_margin_mm:g} mm")
    for row in res.efficacy_by_size():
        if row["n"] == 0:
            print(f"  {row['bin']:>10}: no cases")
            continue
        lit = f"; {row['literature_source']}: {100 * row['literature_rate']:.1f} %" if "literature_rate" in row else ""
        print(
            f"  {row['bin']:>10}: {row['successes']}/{row['n']} = {100 * row['rate']:.1f} % "
            f"(95 % CI {100 * row['ci_low']:.1f}-{100 * row['ci_high']:.1f} %){lit}"
        )
    for row in res.margin_probabilities():
        print(
            f"  P(margin >= {row['threshold_mm']:g} mm) = {row['probability']:.3f} "
            f"(95 % CI {row['ci_low']:.3f}-{row['ci_high']:.3f})"
        )
    if args.summary:
        atomic_write_json(args.summary, res.summary())
    if args.plot:
        rows = [r for r in res.efficacy_by_size() if r["n"] > 0]
        efficacy_vs_size(
            [r["bin"] for r in rows],
            [r["rate"] for r in rows],
            ci_low=[r["ci_low"] for r in rows],
            ci_high=[r["ci_high"] for r in rows],
            path=args.plot,
            literature=[
                (r["bin"], r["literature_rate"], r["literature_source"]) for r in rows if "literature_rate" in r
            ]
            or None,
            title=f"{spec.name}: success = margin >= {spec.success_margin_mm:g} mm, {res.n_cases} cases",
        )
        print(f"wrote {args.plot}")
    return 0
