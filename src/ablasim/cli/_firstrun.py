"""First runs: say when numerical kernels will be compiled, and compile them on two cores.

numba compiles on first use and caches the result (``NUMBA_CACHE_DIR``); a first run therefore spends most of its
time compiling. The command line calls :func:`prepare` once, before a command runs: when a kernel the command needs
is not cached yet it prints one line on stderr, starts compiling some kernel groups in a background process (which
imports only :mod:`ablasim.metrics._warm`), compiles the others itself and waits for the background ones, so that
the command then loads every kernel from the cache. The groups are split so that the two processes take about as
long and never compile the same kernel (``metrics._warm.compile_shared``). ``make demo`` leaves the cache warm
(:func:`compile_all`).
"""

from __future__ import annotations

import sys

from .. import _jit
from ..metrics import _warm
from ..metrics._warm import entry_points
from ..workflows.cohorts import cases

__all__ = ["NOTICE", "compile_all", "prepare"]

NOTICE = "ablasim: compiling numerical kernels, first run only (cached for later runs) ..."


def _plan(args) -> tuple[list[str], list[str], bool]:
    """(groups this process compiles, groups a background process compiles, wait for them before the command)."""
    command = getattr(args, "command", None)
    if command in ("run", "report"):
        # the exact group first compiles the kernels it shares with the map group (metrics._warm.compile_shared),
        # which the background process then finds in the cache
        extra = ["uncovered"] if getattr(args, "samples", None) else []
        return ["exact", *extra], ["map"], True
    if command == "confirm" and getattr(args, "method", "mesh") == "mesh":
        # the surfaces of masks here, the triangle meshes' hierarchies and distances in the background
        return ["surface"], ["mesh"], True
    if command == "cohort":
        # compiled here, before any worker starts: each worker would otherwise compile them all over again
        return ["exact", "cases", "interior"], ["uncovered"], True
    return [], [], False


def _entry_points(group: str) -> list:
    if group == "cases":
        return [cases._zones, cases._frame]
    return entry_points(group)


def compile_groups(groups, report: bool = True) -> None:
    """Compile each group in turn; with ``report``, print its name when done (a parent process waits on these
    lines)."""
    for g in groups:
        if g != "cases":
            _warm.compile_groups([g], report)
            continue
        cases._warm()
        if report:
            print(g, flush=True)


_PREPARED: set = set()


def prepare(args, stream=None) -> bool:
    """Print the notice and start background compiles when ``args`` (the parsed command line) needs kernels that
    are not cached. Returns whether anything needs compiling. Once per command and process."""
    key = getattr(args, "command", None)
    if key in _PREPARED:
        return False
    _PREPARED.add(key)
    here, there, wait = _plan(args)
    missing = [g for g in here + there if not all(_jit.is_cached(k) for k in _entry_points(g))]
    if not missing:
        return False
    print(NOTICE, file=stream or sys.stderr, flush=True)
    background = [g for g in there if g in missing]
    if background:
        _jit.compile_in_background(  # metrics groups only: the child imports just ablasim.metrics._warm
            background, f"from ablasim.metrics._warm import compile_groups; compile_groups({background!r})"
        )
    if wait:
        compile_groups([g for g in here if g in missing], report=False)
        for g in background:
            _jit.await_background(g)
    return True


ALL_GROUPS = ("exact", "map", "uncovered", "interior", "cases", "surface", "mesh")


def compile_all() -> None:
    """Compile every group now (``make demo`` does, so that later first runs start warm), the meshes' group in a
    background process."""
    background = ["mesh"]
    _jit.compile_in_background(
        background, f"from ablasim.metrics._warm import compile_groups; compile_groups({background!r})"
    )
    compile_groups([g for g in ALL_GROUPS if g not in background], report=False)
    for g in background:
        _jit.await_background(g)
