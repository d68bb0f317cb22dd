"""Bioheat physics: Pennes bioheat with freezing (enthalpy method), cryoprobes and freeze/thaw protocols.

Public units: mm, s, degC, W; tissue properties in SI with the unit in each name. See docs/physics.md for the model,
its validation against analytic solutions and its performance.

>>> from ablasim import Grid
>>> from ablasim.physics import Cryoprobe, simulate
>>> grid = Grid((48, 48, 64), 1.0, origin_mm=(-23.5, -23.5, -40))
>>> probe = Cryoprobe.from_device("IceSphere", [0, 0, 10], [0, 0, 1])   # calibrated (docs/physics.md)
>>> probe.power_limit_w
17.53
>>> result = simulate(grid, "gel", probe, "10-5-10")          # doctest: +SKIP
>>> result.isotherm(0).final.width_mm                           # doctest: +SKIP
"""

from ..errors import SimulationError
from .bioheat import BioheatResult, IsothermTrack, ProtocolRun, simulate
from .devices import Device, device, device_names
from .protocol import PHASE_KINDS, Cryoprobe, Phase, Protocol
from .solver import BioheatSolver, IsothermExtent
from .tissue import STABILITY_SAFETY, Tissue, tissue_names

__all__ = [
    "PHASE_KINDS",
    "STABILITY_SAFETY",
    "BioheatResult",
    "BioheatSolver",
    "Cryoprobe",
    "Device",
    "IsothermExtent",
    "IsothermTrack",
    "Phase",
    "Protocol",
    "ProtocolRun",
    "SimulationError",
    "Tissue",
    "device",
    "device_names",
    "simulate",
    "tissue_names",
]
