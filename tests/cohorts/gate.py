"""A deterministic interruption point for the cohort tests (no sleeps racing the machine).

``install(flag_dir, after_chunks)`` wraps the chunk function that cohort runs call, in this process (in-process
runs) or in a dask worker (``client.run(install, ...)``): the first ``after_chunks`` chunks run normally; the next
call writes ``flag_dir/paused-<pid>`` and then waits until ``flag_dir/release`` exists. A test that waits for the
``paused`` file therefore interrupts a run that has finished exactly ``after_chunks`` chunks (in-process) or that
holds a chunk it has not finished (a worker), however fast or busy the machine is.

Chunks are submitted by reference to ``ablasim.workflows.cohorts.cases.run_chunk`` and the in-process loop calls the
name
bound in ``ablasim.workflows.cohorts.run``; both are wrapped.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

CASES_MODULE = "ablasim.workflows.cohorts.cases"
RUN_MODULE = "ablasim.workflows.cohorts.run"


def install(flag_dir: str, after_chunks: int) -> int:
    import importlib

    cases = importlib.import_module(CASES_MODULE)
    runner = importlib.import_module(RUN_MODULE)
    original = getattr(cases.run_chunk, "__wrapped__", cases.run_chunk)
    flags = Path(flag_dir)
    calls = [0]

    def gated(*args, **kwargs):
        if calls[0] >= after_chunks and not (flags / "release").exists():
            (flags / f"paused-{os.getpid()}").touch()
            while not (flags / "release").exists():
                time.sleep(0.02)  # a SIGINT raises KeyboardInterrupt here; a SIGKILL ends the process here
        calls[0] += 1
        return original(*args, **kwargs)

    gated.__wrapped__ = original  # type: ignore[attr-defined]
    gated.__module__, gated.__qualname__ = original.__module__, original.__qualname__
    cases.run_chunk = gated
    runner.run_chunk = gated
    return os.getpid()


def uninstall() -> None:
    import importlib

    cases = importlib.import_module(CASES_MODULE)
    runner = importlib.import_module(RUN_MODULE)
    original = getattr(cases.run_chunk, "__wrapped__", cases.run_chunk)
    cases.run_chunk = runner.run_chunk = original


def wait_for(path_glob: Path, proc=None, timeout_s: float = 600.0) -> list[Path]:
    """Wait until a file matching ``path_glob`` exists. The timeout only turns a hang (a broken gate) into a
    failure; it is never what the test's outcome depends on."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        found = sorted(path_glob.parent.glob(path_glob.name))
        if found:
            return found
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the run ended (exit {proc.returncode}) before reaching the gate")
        time.sleep(0.02)
    raise AssertionError(f"nothing matched {path_glob} within {timeout_s} s")


# Run as a program: install the gate, then run the ablasim CLI with the remaining arguments.
# python gate.py FLAG_DIR AFTER_CHUNKS -- cohort SPEC --out ...
if __name__ == "__main__":
    import signal
    import sys

    # Ctrl-C as a terminal delivers it: a shell without job control (a CI step, `make test &`, nohup) starts
    # background commands with SIGINT ignored, Python keeps an inherited SIG_IGN, and the test's SIGINT would then
    # never arrive (the run waits at the gate until the test's 600 s timeout).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    flag_dir, after, sep, *argv = sys.argv[1:]
    assert sep == "--", "usage: gate.py FLAG_DIR AFTER_CHUNKS -- ablasim arguments"
    install(flag_dir, int(after))
    from ablasim.cli import main

    raise SystemExit(main(argv))
