"""First runs: wall and CPU time of command-line runs with an empty numba cache, then again warm.

Not a pytest benchmark (each cold run compiles for a minute of CPU): run it by hand,
``.venv/bin/python -m benchmarks.first_run [--repeat N]``. Every command runs in a fresh process with
``NUMBA_CACHE_DIR`` set to a new temporary directory (cold), then again with the cache it left (warm). The command
line is ablasim's (``ablasim.cli.main``, which calls the first-run helper ``ablasim.cli._firstrun.prepare``); the
solver runs as a Python snippet (the library prints no notice). CPU
time counts the process and the children it waited for (the background compile). The load average is printed
beside each figure: on a shared machine, other jobs' load stretches wall times.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = "import sys; from ablasim.cli import main; sys.exit(main(sys.argv[1:]))"
UNCERTAINTY = """
[uncertainty]
tip_lateral_sd_mm = 1.5
tip_axial_sd_mm = 2.0
angle_sd_deg = 2.0
zone_scale_sd = 0.1
registration_shift_sd_mm = 1.0
"""
SOLVER = (  # the docs/physics.md example on a 64^3 grid at 2 mm: one calibrated IceRod, liver, 10-5-10
    "from ablasim import Grid; from ablasim.physics import Cryoprobe, simulate; "
    "g = Grid((64, 64, 64), 2.0, origin_mm=(-63, -63, -63)); "
    "p = Cryoprobe.from_device('IceRod', tip_mm=(0, 0, 12), direction=(0, 0, 1)); "
    "print(simulate(g, 'liver', p, '10-5-10').isotherm(0).final)"
)
COMMANDS = {
    "run": ["run", "examples/three_probes.toml"],
    "run --samples 200": ["run", "{tmp}/sampled.toml", "--samples", "200"],
    "report": ["report", "examples/three_probes.toml", "--out", "{tmp}/report"],
    "cohort (in-process, 400 cases)": ["cohort", "{tmp}/cohort.toml", "--out", "{tmp}/c.parquet", "--in-process"],
    "cohort (2 workers, 400 cases)": ["cohort", "{tmp}/cohort.toml", "--out", "{tmp}/c2.parquet", "--fresh"],
    "solver (Python, 64^3, 10-5-10)": ["--python", SOLVER],
}


def _run(argv, cache, tmp):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "MPLBACKEND": "Agg"}
    if argv[0] == "--python":  # a Python snippet instead of a command line
        cmd = [sys.executable, "-c", argv[1]]
    else:
        cmd = [sys.executable, "-c", CLI, *(a.format(tmp=tmp) for a in argv)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{argv}: exit {proc.returncode}\n{proc.stderr[-2000:]}")
    return wall, cpu, load, proc.stderr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1, help="cold runs per command (each with a new cache)")
    ap.add_argument("--only", nargs="*", help="command names to run (default: all)")
    args = ap.parse_args()
    print(f"{'command':<32} {'cold wall':>10} {'cold CPU':>9} {'load':>5}   {'warm wall':>10} {'load':>5}  notice")
    for name, argv in COMMANDS.items():
        if args.only and name not in args.only:
            continue
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                doc = (ROOT / "examples/cohort_liver.toml").read_text().replace("n_cases = 4000", "n_cases = 400")
                Path(tmp, "cohort.toml").write_text(doc)
                three = (ROOT / "examples/three_probes.toml").read_text()
                Path(tmp, "sampled.toml").write_text(three + UNCERTAINTY)
                cache = Path(tmp, "numba_cache")
                cold = _run(argv, cache, tmp)
                warm = _run(argv, cache, tmp)
                notice = "yes" if "compiling numerical kernels" in cold[3] else "no"
                line = f"{name:<32} {cold[0]:9.1f}s {cold[1]:8.1f}s {cold[2]:5.1f}   {warm[0]:9.2f}s {warm[2]:5.1f}"
                print(f"{line}  {notice}", flush=True)


if __name__ == "__main__":
    main()
