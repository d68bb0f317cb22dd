"""Optional dependencies of the render package (pyvista, matplotlib): a clear error when one is missing."""

from __future__ import annotations

from importlib import import_module

from ..errors import AblasimError

__all__ = ["MissingDependencyError", "require"]


class MissingDependencyError(AblasimError, ImportError):
    """A package needed for rendering is not installed (``pip install ablasim[render]``)."""


def require(module: str):
    """Import ``module`` or raise :class:`MissingDependencyError` naming the package and the extra to install."""
    try:
        return import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{module.split('.')[0]} is needed for rendering but cannot be imported "
            f"({exc}); install it with: pip install 'ablasim[render]'"
        ) from None
