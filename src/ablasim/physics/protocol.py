"""Freeze/thaw protocols and cryoprobes as heat sinks on a grid.

A :class:`Protocol` is a sequence of phases: ``"freeze"`` (every probe active), ``"thaw"`` (passive thaw: probes
released, the tissue they occupied simply conducts) and ``"active_thaw"`` (probes held at their
``thaw_temperature_c``). ``Protocol.parse("10-5-10")`` reads minutes, alternating freeze and passive thaw.

A :class:`Cryoprobe` is a line segment: from ``tip_mm`` back along the shaft (``direction`` points from the skin
towards the tip) for ``active_length_mm``, of radius ``radius_mm``. Its wall model during a freeze:

* fixed wall (the default): the wall is held at ``probe_temperature_c``, whatever heat that takes;
* power-limited wall (``max_power_w``): the probe removes at most ``max_power_w x flow_fraction`` watts (the gas
  flow, or the duty cycle, sets the fraction) and its wall never goes below ``probe_temperature_c`` (the floor):
  under a heavy heat load the wall is warmer than the floor, as a Joule-Thomson or nitrogen probe's is;
* a fixed sink (``heat_extraction_w``, no floor; kept for analytic comparisons).

The solver represents the wall by the sub-cell model of ``_near_field.py`` (the probe's true radius and position,
not a staircase of voxels); :meth:`Cryoprobe.voxels` lists the voxels the older voxel model holds (every voxel
whose centre lies within ``radius_mm`` of the segment, plus every voxel the segment passes through).
:meth:`Cryoprobe.from_device` builds a probe from a calibrated device of ``ablasim/data/cryoprobes.toml``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from .._validation import as_float, as_unit_vector, as_vector3
from ..errors import ValidationError

__all__ = ["PHASE_KINDS", "Cryoprobe", "Phase", "Protocol"]

PHASE_KINDS = ("freeze", "thaw", "active_thaw")

#: Default probe wall temperature during a freeze (degC): the warm end of the -150 to -185 degC range of argon
#: Joule-Thomson and liquid-nitrogen systems, since the tissue in contact with the wall is warmer than the
#: cryogen. A modelling assumption, not a measured value; ice-ball size depends on it only weakly (logarithmically).
DEFAULT_PROBE_TEMPERATURE_C = -150.0
#: Default needle radius (mm): a 17-gauge needle has an outer diameter of 1.47 mm.
DEFAULT_RADIUS_MM = 0.735


@dataclass(frozen=True)
class Phase:
    """One protocol phase: ``kind`` (one of :data:`PHASE_KINDS`) lasting ``duration_s`` seconds."""

    kind: str
    duration_s: float

    def __post_init__(self):
        if self.kind not in PHASE_KINDS:
            raise ValidationError("phase.kind", self.kind, f"expected one of {list(PHASE_KINDS)}")
        object.__setattr__(self, "duration_s", as_float(self.duration_s, "phase.duration_s", positive=True))


class Protocol:
    """An ordered sequence of :class:`Phase` (freeze, passive thaw, active thaw)."""

    def __init__(self, phases):
        items = []
        try:
            seq = list(phases)
        except TypeError:
            raise ValidationError("protocol", phases, "expected a sequence of (kind, duration_s) phases") from None
        for i, ph in enumerate(seq):
            if isinstance(ph, Phase):
                items.append(ph)
                continue
            try:
                kind, duration = ph
            except (TypeError, ValueError):
                raise ValidationError(f"protocol[{i}]", ph, "expected a (kind, duration_s) pair") from None
            try:
                items.append(Phase(kind, duration))
            except ValidationError as exc:
                raise ValidationError(f"protocol[{i}].{exc.field.split('.')[-1]}", exc.value, exc.expected) from None
        if not items:
            raise ValidationError("protocol", phases, "needs at least one phase")
        self.phases = tuple(items)

    @classmethod
    def parse(cls, text: str) -> Protocol:
        """Minutes separated by dashes, alternating freeze and passive thaw: ``"10-5-10"`` is a 10 min freeze,
        5 min thaw, 10 min freeze; ``"15"`` a single 15 min freeze."""
        if not isinstance(text, str) or not re.fullmatch(r"\s*\d+(\.\d+)?(\s*-\s*\d+(\.\d+)?)*\s*", text):
            raise ValidationError("protocol", text, "expected minutes separated by dashes, e.g. '10-5-10'")
        minutes = [float(x) for x in text.split("-")]
        for m in minutes:
            if not m > 0:
                raise ValidationError("protocol", text, "every phase must last more than 0 minutes")
        return cls([("freeze" if i % 2 == 0 else "thaw", 60.0 * m) for i, m in enumerate(minutes)])

    @classmethod
    def coerce(cls, value) -> Protocol:
        """A :class:`Protocol` from a Protocol, a ``"10-5-10"`` string or a ``[(kind, duration_s), ...]`` list."""
        if isinstance(value, Protocol):
            return value
        if isinstance(value, str):
            return cls.parse(value)
        return cls(value)

    @property
    def duration_s(self) -> float:
        return float(sum(p.duration_s for p in self.phases))

    def __iter__(self):
        return iter(self.phases)

    def __len__(self) -> int:
        return len(self.phases)

    def __eq__(self, other) -> bool:
        return isinstance(other, Protocol) and self.phases == other.phases

    def __repr__(self) -> str:
        body = ", ".join(f"({p.kind!r}, {p.duration_s:g})" for p in self.phases)
        return f"Protocol([{body}])"


@dataclass(frozen=True, eq=False)
class Cryoprobe:
    """A cryoprobe's active segment and freezing behaviour (lengths in mm, temperatures in degC, power in W)."""

    tip_mm: np.ndarray
    direction: np.ndarray
    active_length_mm: float
    radius_mm: float
    probe_temperature_c: float
    heat_extraction_w: float | None
    thaw_temperature_c: float
    max_power_w: float | None
    flow_fraction: float
    device: str | None

    def __init__(
        self,
        tip_mm,
        direction,
        *,
        active_length_mm: float,
        radius_mm: float = DEFAULT_RADIUS_MM,
        probe_temperature_c: float = DEFAULT_PROBE_TEMPERATURE_C,
        heat_extraction_w: float | None = None,
        thaw_temperature_c: float = 20.0,
        max_power_w: float | None = None,
        flow_fraction: float = 1.0,
        device: str | None = None,
    ):
        s = object.__setattr__
        s(self, "tip_mm", as_vector3(tip_mm, "probe.tip_mm"))
        s(self, "direction", as_unit_vector(direction, "probe.direction"))
        s(self, "active_length_mm", as_float(active_length_mm, "probe.active_length_mm", positive=True))
        s(self, "radius_mm", as_float(radius_mm, "probe.radius_mm", positive=True))
        s(self, "probe_temperature_c", as_float(probe_temperature_c, "probe.probe_temperature_c", minimum=-273.15))
        s(
            self,
            "heat_extraction_w",
            None
            if heat_extraction_w is None
            else as_float(heat_extraction_w, "probe.heat_extraction_w", positive=True),
        )
        s(self, "thaw_temperature_c", as_float(thaw_temperature_c, "probe.thaw_temperature_c", minimum=-273.15))
        s(
            self,
            "max_power_w",
            None if max_power_w is None else as_float(max_power_w, "probe.max_power_w", positive=True),
        )
        if self.max_power_w is not None and self.heat_extraction_w is not None:
            raise ValidationError(
                "probe.max_power_w", max_power_w, "give either max_power_w (a capped wall) or heat_extraction_w"
            )
        flow = as_float(flow_fraction, "probe.flow_fraction", maximum=1.0)
        if not flow > 0:
            raise ValidationError(
                "probe.flow_fraction", flow_fraction, "must be > 0 (zero flow: the probe does not freeze) and <= 1"
            )
        s(self, "flow_fraction", flow)
        if flow != 1.0 and self.max_power_w is None:
            raise ValidationError(
                "probe.flow_fraction", flow_fraction, "needs a power-limited wall (max_power_w) to act on"
            )
        if device is not None and not (isinstance(device, str) and device):
            raise ValidationError("probe.device", device, "expected a device name or None")
        s(self, "device", device)

    @classmethod
    def from_probe(cls, probe, **kwargs) -> Cryoprobe:
        """A cryoprobe at an :class:`ablasim.probes.Probe`'s tip and direction (``active_length_mm`` etc. as
        keywords)."""
        return cls(probe.tip_mm, probe.direction, **kwargs)

    @classmethod
    def from_device(cls, name: str, tip_mm, direction, *, flow_fraction: float = 1.0, **overrides) -> Cryoprobe:
        """The calibrated device ``name`` of ``ablasim/data/cryoprobes.toml`` (``ablasim.physics.devices``) at
        ``tip_mm`` pointing along ``direction``; ``flow_fraction`` (0, 1] scales its power (duty cycle)."""
        from .devices import device

        return device(name).cryoprobe(tip_mm, direction, flow_fraction=flow_fraction, **overrides)

    @property
    def power_limit_w(self) -> float | None:
        """The most power (W) the probe extracts while freezing (``max_power_w x flow_fraction``); None: a fixed
        wall or a fixed sink."""
        return None if self.max_power_w is None else self.max_power_w * self.flow_fraction

    @property
    def base_mm(self) -> np.ndarray:
        """Proximal end of the active segment."""
        return self.tip_mm - self.active_length_mm * self.direction

    def voxels(self, grid) -> np.ndarray:
        """Indices ``(n, 3)`` of the grid voxels this probe occupies (see the module docstring); empty when the
        active segment misses the grid."""
        lo_w = np.minimum(self.tip_mm, self.base_mm)
        hi_w = np.maximum(self.tip_mm, self.base_mm)
        lo, hi = grid.index_box(lo_w, hi_w, padding_mm=self.radius_mm + grid.voxel_diagonal_mm)
        found = []
        if np.all(hi > lo):
            idx = np.stack(np.meshgrid(*[np.arange(a, b) for a, b in zip(lo, hi)], indexing="ij"), -1).reshape(-1, 3)
            found.append(idx[self.distance_mm(grid.index_to_world(idx)) <= self.radius_mm])
        found.append(
            _traversed_voxels(
                grid.world_to_index(self.base_mm), grid.world_to_index(self.tip_mm), np.asarray(grid.shape)
            )
        )
        return np.unique(np.concatenate(found), axis=0)

    def distance_mm(self, points_mm) -> np.ndarray:
        """Distance (mm) of world points ``(..., 3)`` to the active segment."""
        p = np.asarray(points_mm, dtype=np.float64) - self.base_mm
        s = np.clip(p @ self.direction, 0.0, self.active_length_mm)
        return np.linalg.norm(p - s[..., None] * self.direction, axis=-1)

    def __repr__(self) -> str:
        t = ", ".join(f"{v:g}" for v in self.tip_mm)
        d = ", ".join(f"{v:.3g}" for v in self.direction)
        if self.heat_extraction_w is not None:
            mode = f"heat_extraction_w={self.heat_extraction_w:g}"
        elif self.max_power_w is not None:
            mode = (
                f"max_power_w={self.max_power_w:g}, flow_fraction={self.flow_fraction:g}, "
                f"probe_temperature_c={self.probe_temperature_c:g}"
            )
        else:
            mode = f"probe_temperature_c={self.probe_temperature_c:g}"
        if self.device is not None:
            mode = f"device={self.device!r}, {mode}"
        return (
            f"Cryoprobe(tip_mm=({t}), direction=({d}), active_length_mm={self.active_length_mm:g}, "
            f"radius_mm={self.radius_mm:g}, {mode})"
        )


def _traversed_voxels(a, b, shape) -> np.ndarray:
    """Indices of every voxel the segment from fractional index ``a`` to ``b`` passes through (voxel ``i`` spans
    ``[i - 0.5, i + 0.5]``): split the segment where it crosses voxel faces and take each piece's midpoint."""
    d = b - a
    ts = [np.array([0.0, 1.0])]
    for axis in range(3):
        if abs(d[axis]) > 1e-12:
            lo, hi = sorted((a[axis], b[axis]))
            planes = np.arange(math.ceil(lo - 0.5), math.floor(hi - 0.5) + 1) + 0.5
            ts.append((planes - a[axis]) / d[axis])
    t = np.unique(np.clip(np.concatenate(ts), 0.0, 1.0))
    mids = a + 0.5 * (t[:-1] + t[1:])[:, None] * d if len(t) > 1 else a[None, :]
    idx = np.rint(mids).astype(np.int64)
    return idx[np.all((idx >= 0) & (idx < shape), axis=1)]
