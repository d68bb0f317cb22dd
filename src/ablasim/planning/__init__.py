"""Treatment planning: the probes, their placement and the settings that meet a margin robustly.

* :class:`PlanProblem` (:mod:`.problem`): the tumour, allowed devices, target and required probability under an
  :class:`~ablasim.Uncertainty`, the approach (entry direction, cone or parallel probes, spacing, tip depth) and
  organs at risk.
* :func:`plan` (:mod:`.optimiser`): the smallest number of probes that meets the target with the required
  probability, then the best robust margin; deterministic for a seed.
* :class:`Plan` (:mod:`.result`): the probes, the nominal margin and coverage, P(target met) with its confidence
  interval, clearances to organs at risk, placement warnings and the search history.

docs/planning.md describes the method and its benchmark.
"""

from .optimiser import plan
from .problem import Approach, Device, OrganAtRisk, PlanProblem, SearchOptions
from .result import Plan, Step

__all__ = ["Approach", "Device", "OrganAtRisk", "Plan", "PlanProblem", "SearchOptions", "Step", "plan"]
