"""The one place where numba kernels are compiled.

Every kernel in ablasim is private, takes arrays and scalars only, and is compiled through :func:`kernel`:
``cache=True`` (compiled code is written next to the module, or under ``NUMBA_CACHE_DIR`` when set),
``nogil=True`` so threads can share the work, and numpy's error model (division by zero gives inf/nan rather than
raising inside a kernel; inputs are validated in Python before any kernel runs).

Compile time is what a first run costs, so kernels are written to keep it short: scalar code and explicit loops (no
array expressions or slice assignments, which pull in numpy's broadcasting and error-message machinery), small
functions (numba's compile time grows faster than linearly with a function's size), one compiled version each
(integer constants passed to another kernel as ``np.int64(...)``: a literal argument makes numba compile one more
version), and few entry points called from Python (each is one cache entry to load on later runs).

Entry points and internal kernels: a kernel is *internal* (called only from other kernels) unless it is declared
``@kernel(entry=True)``. numba builds two wrappers around every compiled function, one callable from Python and
one from C; an internal kernel is compiled without them (a fifth of a first run's compile time). Calling an
internal kernel from Python raises :class:`TypeError`; tests/test_kernels_entry.py checks that no Python code in
the package calls one.

First runs: :func:`compile_in_background` compiles a group of kernels in another process (numba compiles one
function at a time per process, and a machine has more than one core) while this one compiles the rest; the code
that needs the group calls :func:`await_background` first, after which its kernels load from the cache.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numba
from numba.core.registry import CPUDispatcher

__all__ = ["InternalKernel", "await_background", "compile_in_background", "is_cached", "kernel"]


class InternalKernel(CPUDispatcher):
    """A kernel compiled without the wrappers that make it callable from Python (see the module docstring).

    Its compiled versions are kept for the kernels that call it, but not entered in the table through which
    Python calls dispatch, so a call from Python reaches :meth:`_compile_for_args`, which refuses it."""

    def add_overload(self, cres):
        self.overloads[tuple(cres.signature.args)] = cres

    def _compile_for_args(self, *args, **kws):
        raise TypeError(
            f"{self.py_func.__module__}.{self.py_func.__qualname__} is an internal numba kernel, callable from "
            "other kernels only; declare it @kernel(entry=True) to call it from Python"
        )


def kernel(func=None, *, entry: bool = False, **overrides):
    """Compile ``func`` with ablasim's numba options (usable as ``@kernel``, ``@kernel(entry=True)`` or
    ``@kernel(parallel=True)``). ``entry``: the kernel is called from Python (else only from other kernels)."""
    options: dict[str, Any] = {"cache": True, "nogil": True, "error_model": "numpy", "fastmath": False}
    if not entry:
        options.update(no_cpython_wrapper=True, no_cfunc_wrapper=True)
    options.update(overrides)

    def build(f):
        dispatcher = numba.njit(**options)(f)
        if not entry:
            dispatcher.__class__ = InternalKernel
        return dispatcher

    return build if func is None else build(func)


def is_cached(dispatcher) -> bool:
    """Whether the numba cache holds an up-to-date compiled version of ``dispatcher`` (a :func:`kernel`)."""
    if dispatcher.signatures:
        return True
    try:
        return bool(dispatcher._cache._cache_file._load_index())
    except Exception:  # a numba without this layout: assume it must compile
        return False


_BACKGROUND: dict[str, subprocess.Popen] = {}  # group name -> the process compiling it
_DONE: set[str] = set()


def compile_in_background(groups: list[str], code: str) -> None:
    """Run ``code`` (Python source that compiles ``groups`` in order and prints each group's name when it is done)
    in a child process with this interpreter and environment."""
    todo = [g for g in groups if g not in _BACKGROUND and g not in _DONE]
    if not todo:
        return
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
    except OSError:
        return  # no child: this process compiles everything itself
    for g in todo:
        _BACKGROUND[g] = proc


def await_background(group: str) -> None:
    """Wait until the background compile of ``group`` (if any) has finished; a no-op otherwise."""
    proc = _BACKGROUND.pop(group, None)
    if proc is None or proc.stdout is None:
        return
    for line in proc.stdout:
        name = line.strip()
        _DONE.add(name)
        _BACKGROUND.pop(name, None)
        if name == group:
            break
    if not any(p is proc for p in _BACKGROUND.values()):  # nothing more to wait for from this child
        proc.stdout.close()
        proc.wait()
