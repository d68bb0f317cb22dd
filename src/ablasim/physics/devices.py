"""Calibrated cryoprobe devices: geometry and wall model from ``ablasim/data/cryoprobes.toml``, fitted parameters
from ``ablasim/data/calibration_fits.toml`` (written by ``ablasim calibrate``, :mod:`ablasim.physics.calibrate`).

>>> from ablasim.physics.devices import device, device_names
>>> "IceRod" in device_names()
True
>>> probe = device("IceRod").cryoprobe([0, 0, 10], [0, 0, 1])
>>> probe.max_power_w is not None and probe.device == "IceRod"
True
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from .._validation import as_float
from ..errors import ScenarioError, UnknownNameError
from .protocol import Cryoprobe

__all__ = ["DEVICE_PARAMETERS", "Device", "device", "device_names", "fitted_values"]

#: Every device states these (a value with its source, or ``fitted = true``).
DEVICE_PARAMETERS = ("radius_mm", "active_length_mm", "wall_floor_c", "max_power_w", "thaw_temperature_c")
_DEVICES = "data/cryoprobes.toml"
_FITS = "data/calibration_fits.toml"


@dataclass(frozen=True)
class Device:
    """A cryoprobe device: ``values`` per parameter of :data:`DEVICE_PARAMETERS`, ``sources`` for each,
    ``fitted`` the parameters that ``ablasim calibrate`` fits."""

    name: str
    manufacturer: str
    cryogen: str
    catalog_model: str | None
    values: dict = field(repr=False)
    sources: dict = field(repr=False)
    fitted: tuple = ()

    def cryoprobe(self, tip_mm, direction, *, flow_fraction: float = 1.0, **overrides) -> Cryoprobe:
        """A :class:`Cryoprobe` of this device at ``tip_mm`` along ``direction`` (power-limited wall with the
        device's floor); ``flow_fraction`` in (0, 1] scales the power (gas flow or duty cycle); ``overrides``
        replace Cryoprobe arguments."""
        v = self.values
        kwargs = dict(
            active_length_mm=v["active_length_mm"],
            radius_mm=v["radius_mm"],
            probe_temperature_c=v["wall_floor_c"],
            max_power_w=v["max_power_w"],
            thaw_temperature_c=v["thaw_temperature_c"],
            flow_fraction=flow_fraction,
            device=self.name,
        )
        kwargs.update(overrides)
        return Cryoprobe(tip_mm, direction, **kwargs)


def device_names() -> list[str]:
    """Names of the bundled devices."""
    return sorted(_raw_devices())


def device(name: str) -> Device:
    """The bundled device ``name`` with its fitted parameters (see :func:`device_names`)."""
    raw = _raw_devices()
    if name not in raw:
        raise UnknownNameError("device", name, sorted(raw))
    return _build(name, raw[name], fitted_values().get(name, {}))


def device_from_values(name: str, fitted: dict) -> Device:
    """Device ``name`` with its fitted parameters taken from ``fitted`` (used while fitting them)."""
    raw = _raw_devices()
    if name not in raw:
        raise UnknownNameError("device", name, sorted(raw))
    return _build(name, raw[name], fitted)


def fitted_values() -> dict[str, dict[str, float]]:
    """``{device: {parameter: value}}`` from ``calibration_fits.toml`` (empty when it does not exist yet)."""
    return {k: dict(v) for k, v in _stored_fits().items()}


def _build(name: str, entry: dict, fitted: dict) -> Device:
    where = f"ablasim/{_DEVICES}"
    values, sources, fit = {}, {}, []
    for param in DEVICE_PARAMETERS:
        item = entry.get(param)
        if not isinstance(item, dict) or not item.get("source"):
            raise ScenarioError(f'[devices.{name}] {param} needs {{ value = ..., source = "..." }}', where)
        sources[param] = str(item["source"])
        if item.get("fitted"):
            fit.append(param)
            if param not in fitted:
                raise ScenarioError(
                    f"device {name!r}: {param} is fitted but has no value in ablasim/{_FITS}; run `ablasim calibrate`",
                    where,
                )
            values[param] = as_float(fitted[param], f"devices.{name}.{param}", positive=param != "wall_floor_c")
        else:
            values[param] = as_float(item.get("value"), f"devices.{name}.{param}")
    return Device(
        name,
        str(entry.get("manufacturer", "")),
        str(entry.get("cryogen", "")),
        entry.get("catalog_model"),
        values,
        sources,
        tuple(fit),
    )


@lru_cache(maxsize=1)
def _raw_devices() -> dict:
    doc = tomllib.loads(resources.files("ablasim").joinpath(_DEVICES).read_text(encoding="utf-8"))
    return doc.get("devices", {})


def _stored_fits() -> dict:
    path = resources.files("ablasim").joinpath(_FITS)
    if not path.is_file():
        return {}
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    return {name: fit.get("parameters", {}) for name, fit in doc.get("fits", {}).items()}
