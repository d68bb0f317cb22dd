"""The one place where numba kernels are compiled.

Every kernel in ablasim is private, takes arrays and scalars only, and is compiled through :func:`kernel`:
``cache=True`` (compiled code is written next to the module, or under ``NUMBA_CACHE_DIR`` when set),
``nogil=True`` so threads can share the work, and numpy's error model (division by zero gives inf/nan rather than
raising inside a kernel; inputs are validated in Python before any kernel runs).
"""

from __future__ import annotations

from typing import Any

import numba

__all__ = ["kernel"]


def kernel(func=None, **overrides):
    """Compile ``func`` with ablasim's numba options (usable as ``@kernel`` or ``@kernel(parallel=True)``)."""
    options: dict[str, Any] = {"cache": True, "nogil": True, "error_model": "numpy", "fastmath": False}
    options.update(overrides)
    if func is None:
        return lambda f: numba.njit(**options)(f)
    return numba.njit(**options)(func)
