"""Benchmark helpers: every benchmark records its group, whether it is the baseline, and the error it made;
the terminal summary prints, per group, each contender's median time, speed-up over the baseline and error.

With ``--benchmark-disable`` (CI) each benchmark body runs once, untimed, and no table is printed.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

_RESULTS = []


def record(benchmark, group, name, *, baseline=False, **extra):
    benchmark.group = group
    benchmark.extra_info.update(extra, baseline=baseline)
    _RESULTS.append((group, name, benchmark, baseline, extra))


def pytest_terminal_summary(terminalreporter):
    rows = [
        (g, n, b.stats.stats.median, base, extra)
        for g, n, b, base, extra in _RESULTS
        if getattr(b, "stats", None) is not None
    ]
    if not rows:
        return
    tr = terminalreporter
    tr.section("ablasim: speed-up over the baseline of each group (median times)")
    for group in dict.fromkeys(r[0] for r in rows):
        grp = [r for r in rows if r[0] == group]
        base = next((r for r in grp if r[3]), None)
        tr.write_line(group)
        for _, name, med, is_base, extra in grp:
            ratio = f"{base[2] / med:8.3g}x" if base else "         "
            info = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in extra.items())
            tr.write_line(f"  {name:<34} {med * 1e3:10.2f} ms  {ratio}  {'(baseline)' if is_base else ''} {info}")
