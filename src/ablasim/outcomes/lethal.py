"""Where cells reliably die: the lethal offset inside a cryoablation ice ball, per tissue (the one lookup).

The lethal zone is the visible ice ball (0 degC isotherm) eroded by the offset, so for a tumour inside it the
lethal margin is exactly the ice margin minus the offset (erosion by a ball of radius d lowers the distance to the
boundary of every interior point by d). Radiofrequency and microwave catalog zones are coagulation zones already:
offset 0. The numbers are an assumption (``ablasim/data/outcomes/lethal_offsets.toml``) until the calibrated
physics provides per-tissue offsets; only :func:`lethal_offset_mm` reads them.
"""

from __future__ import annotations

from functools import lru_cache

from ..errors import ScenarioError, UnknownNameError, ValidationError
from .data import read_toml

__all__ = ["lethal_offset_mm", "lethal_offset_range_mm", "lethal_tissues"]

_MODALITIES = ("cryo", "radiofrequency", "microwave")


@lru_cache(maxsize=1)
def _table() -> tuple[dict, float, tuple, str]:
    doc, where = read_toml("lethal_offsets.toml")
    try:
        cryo = doc["cryo"]
        tissues = {str(k): float(v) for k, v in cryo["tissues"].items()}
        heat = float(doc["heat"]["offset_mm"])
        rng = (float(cryo["low_mm"]), float(cryo["high_mm"]))
        source = str(cryo["source"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ScenarioError(f"missing or malformed entry {exc}", where) from None
    if any(v < 0 for v in tissues.values()) or heat < 0 or not 0 <= rng[0] <= rng[1]:
        raise ScenarioError("offsets must be >= 0 and low_mm <= high_mm", where)
    return tissues, heat, rng, source


def lethal_tissues() -> list[str]:
    return sorted(_table()[0])


def lethal_offset_mm(tissue: str, modality: str) -> float:
    """How far inside the zone of ``modality`` the tumour must lie to be killed, in ``tissue`` (mm)."""
    if modality not in _MODALITIES:
        raise ValidationError("modality", modality, f"expected one of {', '.join(_MODALITIES)}")
    tissues, heat, _, _ = _table()
    if modality != "cryo":
        return heat
    if tissue not in tissues:
        raise UnknownNameError("lethal offset tissue", tissue, tissues)
    return tissues[tissue]


def lethal_offset_range_mm() -> tuple[float, float]:
    """The (low, high) range of the cryo lethal offset used by the sensitivity analysis, and only there."""
    return _table()[2]
