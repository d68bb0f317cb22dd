"""What :func:`ablasim.physics.simulate` returns: the temperature history, isotherm tracks and the lethal map."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_float
from ..errors import UnknownNameError, ValidationError
from ..geometry.grid import Grid
from .protocol import Protocol
from .solver import IsothermExtent
from .tissue import Tissue

__all__ = ["BioheatResult", "IsothermTrack"]

_EXTENT_FIELDS = ("volume_mm3", "axial_min_mm", "axial_max_mm", "length_mm", "width_mm", "max_radius_mm")


@dataclass(frozen=True, eq=False)
class IsothermTrack:
    """One isotherm's extent over time (arrays aligned with ``times_s``; see :class:`IsothermExtent`)."""

    isotherm_c: float
    times_s: np.ndarray
    volume_mm3: np.ndarray
    axial_min_mm: np.ndarray
    axial_max_mm: np.ndarray
    length_mm: np.ndarray
    width_mm: np.ndarray
    max_radius_mm: np.ndarray

    def at(self, time_s) -> IsothermExtent:
        """The extent recorded at ``time_s`` (must be one of ``times_s``)."""
        m = _time_index(self.times_s, time_s, "time_s")
        return IsothermExtent(*(float(getattr(self, f)[m]) for f in _EXTENT_FIELDS))

    @property
    def final(self) -> IsothermExtent:
        return self.at(self.times_s[-1])


@dataclass(frozen=True, eq=False)
class BioheatResult:
    """What :func:`simulate` returns. Fields are ``grid.shape`` float64 arrays in degC.

    ``temperature_c``: final field; ``min_temperature_c``: lowest temperature each voxel reached (the lethal
    map); ``isotherms``: :class:`IsothermTrack` per recorded isotherm, measured against ``probes[0]``'s axis;
    ``fields``: temperature fields kept at the requested times; ``dt_s``: the time step used; ``probe_energy_j``:
    the heat each sub-cell probe removed over the run (J, 0 for other probes; its mean power is that over the
    freezing time).
    """

    grid: Grid
    tissue: Tissue
    probes: tuple
    protocol: Protocol
    precision: str
    dt_s: float
    steps: int
    initial_temperature_c: float
    times_s: np.ndarray
    isotherms: dict
    temperature_c: np.ndarray
    min_temperature_c: np.ndarray
    fields: dict
    probe_energy_j: tuple = ()

    def isotherm(self, isotherm_c) -> IsothermTrack:
        """The track of ``isotherm_c`` (one of the recorded isotherms)."""
        iso = as_float(isotherm_c, "isotherm_c")
        for key, track in self.isotherms.items():
            if abs(key - iso) < 1e-9:
                return track
        raise UnknownNameError("isotherm_c", isotherm_c, [f"{k:g}" for k in self.isotherms])

    def field_at(self, time_s) -> np.ndarray:
        """The temperature field kept at ``time_s`` (pass ``record_fields_at_s`` to :func:`simulate`)."""
        times = np.array(sorted(self.fields))
        return self.fields[float(times[_time_index(times, time_s, "time_s")])]

    def lethal_mask(self, threshold_c=-40.0) -> np.ndarray:
        """Voxels whose lowest temperature reached ``threshold_c`` or below."""
        return self.min_temperature_c <= as_float(threshold_c, "threshold_c")


def _time_index(times, time_s, field) -> int:
    t = as_float(time_s, field)
    if len(times) == 0:
        raise ValidationError(field, time_s, "no fields were kept; pass record_fields_at_s to simulate()")
    m = int(np.argmin(np.abs(np.asarray(times) - t)))
    if abs(times[m] - t) > 1e-6 * max(1.0, abs(t)):
        shown = ", ".join(f"{x:g}" for x in list(times)[:8])
        raise ValidationError(
            field, time_s, f"not a recorded time; recorded: {shown}{' ...' if len(times) > 8 else ''}"
        )
    return m
