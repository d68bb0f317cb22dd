"""Sampling a scenario's deliveries: P(each check is met) under the scenario's [uncertainty], with confidence
intervals. Every option is validated before any work is done (:func:`check_sampling`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..errors import ScenarioError
from ..rules import Rule
from ..sampling import SampleResult, check_sampling_args, sample_margins
from ..scenario.model import Scenario

__all__ = ["SampledCheck", "check_sampling", "sample_scenario"]


@dataclass(frozen=True)
class SampledCheck:
    """P(the delivered margin meets ``rule``) for one tumour, from ``n_samples`` sampled deliveries."""

    tumor: str
    rule: str
    required_margin_mm: float
    isotherm_c: float | None
    n_samples: int
    seed: int
    probability: float
    ci_low: float
    ci_high: float
    confidence: float
    margin_percentiles_mm: dict

    def to_dict(self) -> dict:
        return asdict(self)


def check_sampling(
    scenario: Scenario, n_samples: object, seed: object = 0, *, names: tuple[str, str] = ("n_samples", "seed")
) -> None:
    """Refuse, before any work, what :func:`sample_scenario` cannot do: a bad sample count or seed, a scenario with
    no (or an all-zero) [uncertainty] table (every delivery would be the plan itself), explicit zones, the
    synergy model, or probes with different settings."""
    check_sampling_args(n_samples, seed, names=names)
    if scenario.uncertainty is None or scenario.uncertainty.is_zero:
        raise ScenarioError(
            "uncertainty sampling needs an [uncertainty] table with at least one non-zero standard "
            "deviation (docs/uncertainty.md); without one every sampled delivery is the plan itself",
            scenario.source,
        )
    if scenario.zones or not scenario.probes or not all(p.from_catalog for p in scenario.probes):
        raise ScenarioError(
            "uncertainty sampling needs catalog probes only (no [[zones]], no explicit probe zones)", scenario.source
        )
    if scenario.zone_model.composition != "union":
        raise ScenarioError("uncertainty sampling supports the union zone model only", scenario.source)
    if len({p.settings for p in scenario.probes}) > 1:
        raise ScenarioError("uncertainty sampling needs the same settings for every probe", scenario.source)


def sample_scenario(
    scenario: Scenario, n_samples: int, seed: int = 0, *, confidence: float = 0.95
) -> tuple[SampledCheck, ...]:
    """Monte Carlo over the scenario's [uncertainty]: per tumour and check (rules and required margin, each at the
    isotherm :meth:`Scenario.isotherm_for` gives, the same as :func:`run_scenario`), the probability that the
    delivered margin meets it, with its confidence interval, and the margin percentiles. Without checks, the
    probability of a covered tumour (margin >= 0)."""
    check_sampling(scenario, n_samples, seed)
    assert scenario.uncertainty is not None

    probes = [p.probe for p in scenario.probes]
    out = []
    for tumor in scenario.tumors:
        cache: dict[float | None, SampleResult] = {}
        for rule in scenario.checks() or (Rule("margin >= 0", 0.0),):
            iso = scenario.isotherm_for(rule)
            if iso not in cache:
                specs = [scenario.zone_spec(p, iso) for p in scenario.probes]
                cache[iso] = sample_margins(tumor.shape, probes, scenario.uncertainty, n_samples, seed, specs=specs)
            res = cache[iso]
            p, lo, hi = res.probability(rule.min_margin_mm, confidence)
            pct = np.percentile(res.margins_mm, [5, 50, 95])
            out.append(
                SampledCheck(
                    tumor.name,
                    rule.name,
                    rule.min_margin_mm,
                    iso,
                    int(n_samples),
                    int(seed),
                    p,
                    lo,
                    hi,
                    confidence,
                    {str(q): float(v) for q, v in zip((5, 50, 95), pct)},
                )
            )
    return tuple(out)
