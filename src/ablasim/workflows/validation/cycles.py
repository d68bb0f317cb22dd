"""The renal cycles endpoint: freeze-thaw cycles until the ice ball reaches the rule's margin, from the bioheat solver.

For the first ``n`` cryoablated cases of the series, the plan's probes (tips and directions of the catalog plan,
:func:`ablasim.outcomes.plan.plan_case`) become solver cryoprobes (17 G, 22 mm active length, -150 degC wall: the
defaults of docs/physics.md, not the series' IceSeed / IceRod, whose freezing power the project has no data for),
and :func:`ablasim.workflows.freezing.cycles_to_rule` freezes the tumour in the series' tissue with 10-min freezes
and 5-min passive thaws until the rule is met, or states it cannot be. Each case is an independent task.
"""

from __future__ import annotations

import numpy as np

from ...geometry import Grid
from ...outcomes.cases import make_case
from ...physics import Cryoprobe
from ...rules import default_rules
from ..freezing import cycles_to_rule

__all__ = ["ACTIVE_LENGTH_MM", "TISSUE", "cycles_cases", "cycles_for_case"]

ACTIVE_LENGTH_MM = 22.0
TISSUE = {"kidney": "kidney", "liver": "liver", "soft_tissue": "muscle"}


def cycles_cases(spec, arm: str, n: int) -> list[int]:
    """Indices of the first ``n`` cases of ``spec`` treated by ``arm``."""
    k = next(i for i, a in enumerate(spec.arms) if a.name == arm)
    out: list[int] = []
    i = 0
    while len(out) < n and i < 50 * n + 100:
        if make_case(spec, i).arm_index == k:
            out.append(i)
        i += 1
    return out


def cycles_for_case(spec, index: int, rule_name: str, *, tissue=None, spacing_mm: float = 1.0, max_cycles: int = 3):
    """(cycles needed or None, margin after each freeze, diameter) for case ``index`` of ``spec``."""
    vc = make_case(spec, index)
    plan = vc.plan()
    probes = [Cryoprobe.from_probe(p, active_length_mm=ACTIVE_LENGTH_MM) for p in plan.probes]
    reach = float(np.max(vc.tumor.semi_axes_mm)) + 18.0
    ends = np.array([p.tip_mm for p in probes] + [p.base_mm for p in probes])
    lo = np.minimum(vc.tumor.center_mm - reach, ends.min(axis=0) - 6.0)
    hi = np.maximum(vc.tumor.center_mm + reach, ends.max(axis=0) + 6.0)
    grid = Grid.covering(lo, hi, spacing_mm)
    rule = default_rules()[rule_name]
    tis = tissue if tissue is not None else TISSUE.get(spec.tissue, spec.tissue)
    ans = cycles_to_rule(vc.tumor, probes, rule, tis, grid, freeze_s=600.0, thaw_s=300.0, max_cycles=max_cycles)
    return ans.cycles, tuple(float(v) for v in ans.margin_after_each_freeze_mm), float(vc.diameter_mm)
