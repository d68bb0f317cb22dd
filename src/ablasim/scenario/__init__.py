"""Scenarios: the typed model of a plan to measure, parsed from TOML or built in Python."""

from .parse import Scenario, load_scenario, parse_scenario

__all__ = ["Scenario", "load_scenario", "parse_scenario"]
