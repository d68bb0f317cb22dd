"""ablasim: ablation-zone margins and ice-ball coverage for interventional oncology.

Units: lengths in mm, time in s, temperature in degrees C, power in W. Margin sign: positive = the ablation zone
extends that far beyond the tumour surface; negative = the tumour protrudes that far outside the zone. Coverage =
tumour volume inside the zone / tumour volume. See docs/conventions.md.
"""

from .errors import AblasimError, GridTooLargeError, ScenarioError, UnknownNameError, ValidationError
from .geometry.grid import Grid
from .geometry.mask import Mask
from .geometry.shapes import Ellipsoid, rotation_from_euler_deg, rotation_with_z_axis
from .metrics.exclusion import CapsuleExclusion
from .metrics.measure import measure_margin
from .metrics.result import MarginMap, MarginResult

__version__ = "0.1.0"

__all__ = [
    "AblasimError",
    "CapsuleExclusion",
    "Ellipsoid",
    "Grid",
    "GridTooLargeError",
    "MarginMap",
    "MarginResult",
    "Mask",
    "ScenarioError",
    "UnknownNameError",
    "ValidationError",
    "__version__",
    "measure_margin",
    "rotation_from_euler_deg",
    "rotation_with_z_axis",
]
