"""Scenarios: the typed model of a plan to measure (:mod:`.model`), parsed from TOML (:mod:`.parse`) or built in
Python."""

from .model import (
    DeviceSettings,
    ExplicitZone,
    GridSpec,
    MeasureOptions,
    ProbeSpec,
    Scenario,
    TumorSpec,
    ZoneModel,
)
from .parse import load_scenario, parse_scenario, read_toml

__all__ = [
    "DeviceSettings",
    "ExplicitZone",
    "GridSpec",
    "MeasureOptions",
    "ProbeSpec",
    "Scenario",
    "TumorSpec",
    "ZoneModel",
    "load_scenario",
    "parse_scenario",
    "read_toml",
]
