"""The planning benchmark table: ablasim's planner against the baselines on the fixed set of
benchmarks/planning_cases.py. Run from the repository root (minutes to an hour on 2 shared cores):

    python -m benchmarks.planning_table [--cases N] [--json OUT]

For each method and case: probes used, P(margin >= 5 mm) on 400 fresh deliveries with its Wilson interval,
hard constraints broken, wall time. A method meets the robust target on a case when that probability is at least
90 % and no hard constraint is broken. The load of the machine (``os.getloadavg``) is printed with the table.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from ablasim import PlanningError
from ablasim.planning import plan

from .planning_baselines import cryomc, fixed_table, greedy_cover
from .planning_cases import PROBABILITY, TARGET_MM, benchmark_cases, evaluate, problem_for


def ablasim_planner(case):
    try:
        return list(plan(problem_for(case), seed=0).probes)
    except PlanningError:
        return []


METHODS = {
    "ablasim": ablasim_planner,
    "fixed table": fixed_table,
    "greedy cover (MITK-like)": greedy_cover,
    "Nelder-Mead P(coverage) (CryoMC-like)": cryomc,
}


def run_case(case, methods=METHODS) -> list[dict]:
    rows = []
    for name, fn in methods.items():
        t0 = time.perf_counter()
        probes = fn(case)
        seconds = time.perf_counter() - t0
        ev = evaluate(case, probes)
        rows.append(
            {
                "case": case.index,
                "diameter_mm": case.diameter_mm,
                "organ": bool(case.organs),
                "method": name,
                "seconds": seconds,
                "ok": bool(ev["met"] and not ev["violations"]),
                **ev,
            }
        )
    return rows


def summary(rows: list[dict]) -> list[dict]:
    out = []
    ours = {r["case"]: r for r in rows if r["method"] == "ablasim"}
    if not ours:
        ours = {r["case"]: {"ok": False, "probes": 0} for r in rows}
    for name in dict.fromkeys(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == name]
        both = [r for r in mine if r["ok"] and ours[r["case"]]["ok"]]
        fewer = sum(ours[r["case"]]["probes"] <= r["probes"] for r in both)
        out.append(
            {
                "method": name,
                "cases": len(mine),
                "met": sum(r["ok"] for r in mine),
                "mean P": float(np.mean([r["probability"] for r in mine])),
                "probes (mean)": float(np.mean([r["probes"] for r in mine])),
                "cases with violations": sum(bool(r["violations"]) for r in mine),
                "no plan (said why)": sum(bool(r.get("no_plan")) for r in mine),
                "met by both: ablasim uses no more probes": f"{fewer}/{len(both)}",
                "median s": float(np.median([r["seconds"] for r in mine])),
                "max s": float(np.max([r["seconds"] for r in mine])),
            }
        )
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=None, help="only the first N cases")
    ap.add_argument("--json", help="write every row and the summary as JSON")
    ap.add_argument("--methods", nargs="+", choices=list(METHODS), help="only these methods (default: all)")
    args = ap.parse_args(argv)
    cases = benchmark_cases()[: args.cases]
    methods = {k: v for k, v in METHODS.items() if not args.methods or k in args.methods}
    rows = []
    for case in cases:
        for r in run_case(case, methods):
            rows.append(r)
            print(
                f"case {r['case']:2d} ({r['diameter_mm']:4.1f} mm{', organ' if r['organ'] else ''}) {r['method']:<40}"
                f" probes {r['probes']:2d}  P {100 * r['probability']:5.1f} %  {r['seconds']:7.2f} s"
                f"  {'MET' if r['ok'] else '-'} {'no plan' if r['no_plan'] else '; '.join(r['violations'])}",
                flush=True,
            )
    load = os.getloadavg()
    print(
        f"\nrobust target: P(margin >= {TARGET_MM:g} mm) >= {100 * PROBABILITY:g} % on fresh deliveries, no broken "
        f"constraint; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores"
    )
    table = summary(rows)
    for row in table:
        print("  " + "; ".join(f"{k}: {v:.3g}" if isinstance(v, float) else f"{k}: {v}" for k, v in row.items()))
    small = [r for r in rows if r["method"] == "ablasim" and 0 < r["probes"] <= 4]
    if small:
        print(
            f"ablasim, plans of <= 4 probes: {len(small)} cases, median "
            f"{np.median([r['seconds'] for r in small]):.2f} s, max {max(r['seconds'] for r in small):.2f} s"
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"rows": rows, "summary": table, "loadavg": load}, f, indent=1, default=float)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
