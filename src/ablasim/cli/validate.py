"""``ablasim validate``: the virtual series against the source documents, as an HTML + JSON report."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from ..errors import ValidationError
from ..render.validation import write_validation_report
from ..workflows.validate import ValidationSettings, run_validation
from ._dask import client_for

__all__ = ["add_parser", "run_command"]


def add_parser(sub) -> None:
    p = sub.add_parser(
        "validate",
        help="compare the virtual series' predictions with the source documents (HTML + JSON report)",
        description="Run the virtual series of every source document, fit the outcome model as "
        "fit_predict.toml prescribes, predict every other endpoint with a 95 % interval and write "
        "validation.html / validation.json beside the figures (docs/validation.md). The full run takes about "
        "10 minutes on 2 cores (9.4 min measured with a test suite beside it; checkpointed: an interrupted run "
        "resumes); --quick a minute or two.",
    )
    p.add_argument("--out", metavar="DIR", required=True, help="directory for validation.html, .json and the PNGs")
    p.add_argument("--quick", action="store_true", help="few cases, small bootstrap, no solver, no geometry reruns")
    p.add_argument("--cases", type=int, metavar="N", help="cases per series (default: each series' own number)")
    p.add_argument("--boot", type=int, metavar="B", help="bootstrap draws (default 400; quick 100)")
    p.add_argument("--seed", type=int, default=13, help="seed of the bootstrap (default 13)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", help="use a running dask scheduler (tcp://HOST:PORT)")
    where.add_argument("--in-process", action="store_true", help="no dask: run in this process")
    p.add_argument("--workers", type=int, default=2, metavar="N", help="local dask workers (default 2)")
    p.add_argument("--fresh", action="store_true", help="discard the checkpoints of earlier runs (DIR/parts)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")


def run_command(args) -> int:
    for name in ("cases", "boot"):
        v = getattr(args, name)
        if v is not None and v < 1:
            raise ValidationError(f"--{name}", v, "expected a positive integer")
    out = Path(args.out)
    parts = out / "parts"
    if args.fresh and parts.exists():
        shutil.rmtree(parts)
    settings = ValidationSettings(
        quick=args.quick, n_cases=args.cases, n_boot=args.boot, seed=args.seed, parts_dir=str(parts)
    )
    t0 = time.perf_counter()

    def say(msg):
        if not args.quiet:
            sys.stderr.write(f"[{time.perf_counter() - t0:6.0f} s] {msg}\n")

    client = cluster = None
    try:
        if not args.in_process:
            client, cluster = client_for(args)
        result = run_validation(settings, client, progress=say)
    except KeyboardInterrupt:
        sys.stderr.write(f"\ninterrupted: finished chunks are kept in {parts}/; run the same command to resume\n")
        return 130
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    files = write_validation_report(result, out)
    rows = [r for r in result.summary["rows"] if r["role"] == "prediction"]
    judged = [r for r in rows if r["overlap"] is not None]
    print(
        f"{sum(r['overlap'] for r in judged)} of {len(judged)} predictions agree with the reported values "
        f"(95 % intervals overlap); {time.perf_counter() - t0:.0f} s"
    )
    for r in result.summary["rows"]:
        flag = {True: "agree", False: "DISAGREE", None: "n/a"}[r["overlap"]] if r["role"] != "fitted" else "fitted"
        pred = (
            "-"
            if r["predicted"] is None
            else (f"{100 * r['predicted']:.1f} %" if r["unit"] == "fraction" else f"{r['predicted']:.2f}")
        )
        print(f"  {r['id']:<18} {pred:>9}  reported {r['reported_text']:<28} {flag}")
    print(f"wrote {files.html} and {files.json}")
    return 0
