"""Internal kernels (``ablasim._jit.kernel`` without ``entry=True``) are compiled without the wrappers that make
them callable from Python: no Python code in the package may call one, and a call from Python is refused."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types

import pytest

import ablasim
from ablasim._jit import InternalKernel
from ablasim.geometry._kernels import ellipsoid

SKIP = ("__main__",)  # running it would start the command line
# functions that name an internal kernel without calling it: they compile it by explicit signature (.compile)
COMPILES = {"ablasim.metrics._warm.compile_shared"}


def _modules():
    for info in pkgutil.walk_packages(ablasim.__path__, "ablasim."):
        if not info.name.endswith(SKIP):
            yield importlib.import_module(info.name)


def _functions(module):
    for obj in vars(module).values():
        if inspect.isfunction(obj) and obj.__module__ == module.__name__:
            yield obj
        elif inspect.isclass(obj) and obj.__module__ == module.__name__:
            for attr in vars(obj).values():
                f = attr.__func__ if isinstance(attr, (staticmethod, classmethod)) else attr
                f = f.fget if isinstance(f, property) else f
                if inspect.isfunction(f):
                    yield f


def _codes(code):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def _referenced(func):
    """Kernels a Python function names: globals, and attributes of ablasim modules it names (``module.kernel``)."""
    for code in _codes(func.__code__):
        for name in code.co_names:
            obj = func.__globals__.get(name)
            if isinstance(obj, types.ModuleType) and obj.__name__.startswith("ablasim."):
                yield from (getattr(obj, n, None) for n in code.co_names)
            else:
                yield obj


def test_no_python_code_calls_an_internal_kernel():
    offenders = sorted(
        f"{func.__module__}.{func.__qualname__} -> {obj.py_func.__module__}.{obj.py_func.__name__}"
        for module in _modules()
        for func in _functions(module)
        if f"{func.__module__}.{func.__qualname__}" not in COMPILES
        for obj in _referenced(func)
        if isinstance(obj, InternalKernel)
    )
    assert offenders == []


def test_internal_kernels_exist_and_refuse_python_calls():
    internal = [o for m in _modules() for o in vars(m).values() if isinstance(o, InternalKernel)]
    # most kernels are helpers of other kernels (the module docstring of ablasim._jit says why that matters)
    assert len(internal) > 50
    with pytest.raises(TypeError, match="internal numba kernel"):
        ellipsoid.implicit(0.0, 0.0, 0.0, None, None, None)
