"""Exceptions raised by ablasim.

Every error raised on bad input is an :class:`AblasimError`. Validation errors name the offending field and the
value they received, so a one-line message is enough to fix a script or a scenario file.
"""

from __future__ import annotations

__all__ = [
    "AblasimError",
    "DisplayUnavailableError",
    "GridTooLargeError",
    "PlanningError",
    "ScenarioError",
    "SimulationError",
    "UnknownNameError",
    "ValidationError",
]


class AblasimError(Exception):
    """Base class of every error ablasim raises on purpose."""


class ValidationError(AblasimError, ValueError):
    """An input value is unusable. ``field`` names it and ``value`` is what was given."""

    def __init__(self, field: str, value: object, expected: str):
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(f"{field}={_short_repr(value)}: {expected}")


class ScenarioError(AblasimError, ValueError):
    """A scenario file cannot be read or does not follow the documented format."""

    def __init__(self, message: str, path: object | None = None):
        self.path = path
        super().__init__(f"{path}: {message}" if path is not None else message)


class UnknownNameError(ValidationError):
    """A name (probe model, rule set, ...) is not in the catalog; the message lists the valid choices."""

    def __init__(self, field: str, value: object, choices):
        self.choices = tuple(sorted(choices))
        listed = ", ".join(self.choices) if self.choices else "(none available)"
        super().__init__(field, value, f"unknown name; valid choices: {listed}")


class PlanningError(AblasimError, ValueError):
    """No plan can exist for a planning problem (no feasible placement, an organ at risk in the way, a target no
    allowed device can reach); the message says why."""


class SimulationError(AblasimError, RuntimeError):
    """A simulation could not produce a valid result (e.g. the temperature field became non-finite)."""


class DisplayUnavailableError(AblasimError, RuntimeError):
    """An interactive window was asked for on a machine without a display (render to a PNG file instead)."""


class GridTooLargeError(AblasimError, MemoryError):
    """The arrays an operation needs on a grid would not fit in the memory available."""

    def __init__(self, field: str, shape: tuple, needed_bytes: int, available_bytes: int, what: str):
        self.field = field
        self.shape = shape
        self.needed_bytes = needed_bytes
        self.available_bytes = available_bytes
        super().__init__(
            f"{field}={tuple(int(s) for s in shape)}: {what} needs {_gib(needed_bytes)} but only "
            f"{_gib(available_bytes)} of memory is available; use a coarser spacing or a smaller grid"
        )


def _gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def _short_repr(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
