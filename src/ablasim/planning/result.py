"""What the planner returns: a :class:`Plan` (probes, settings, how sure it is) and its search history."""

from __future__ import annotations

from dataclasses import dataclass

from ..metrics.result import MarginResult
from ..probes import Probe
from .problem import Device, PlanProblem

__all__ = ["Plan", "Step"]


@dataclass(frozen=True)
class Step:
    """One step of the search: a device and a probe count, what was done and found.

    ``outcome``: "ruled out" (the volume bound: too few probes whatever their placement), "infeasible" (no
    candidate respected the hard constraints), "missed" (the best candidate misses the robust target) or "met".
    ``nominal_margin_mm``: the best planned margin found; ``robust_margin_mm``: its robust objective ``Q`` (None
    when the deliveries were cut short because the target could no longer be met).
    """

    device: str
    n_probes: int
    outcome: str
    nominal_margin_mm: float | None
    robust_margin_mm: float | None
    evaluations: int
    seconds: float
    note: str = ""

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True, eq=False)
class Plan:
    """A treatment plan and how sure it is.

    ``met``: at least ``probability`` of the ``n_samples`` sampled deliveries reach the target margin.
    ``probability``, ``ci_low``, ``ci_high``: P(delivered margin >= target) with its Wilson interval at
    ``confidence``. ``robust_margin_mm``: the margin that fraction ``problem.probability`` of the deliveries reach
    (the robust objective). ``nominal``: the planned zone's margin (exact path; its ``error_bound_mm`` applies).
    ``delivered_error_bound_mm``: the largest error bound of the delivered margins (measured at the search
    resolution). ``clearances_mm``: organ name -> clearance of the planned zone at the organ's isotherm.
    ``warnings``: placement checks (:func:`ablasim.check_placement`) and notes.
    """

    problem: PlanProblem
    device: Device
    probes: tuple[Probe, ...]
    met: bool
    isotherm_c: float | None
    nominal: MarginResult
    probability: float
    ci_low: float
    ci_high: float
    n_samples: int
    robust_margin_mm: float
    delivered_percentiles_mm: dict
    delivered_error_bound_mm: float
    clearances_mm: dict
    warnings: tuple[str, ...]
    history: tuple[Step, ...]
    seed: int
    seconds: float
    evaluations: int

    @property
    def n_probes(self) -> int:
        return len(self.probes)

    @property
    def target_mm(self) -> float:
        return self.problem.target.min_margin_mm

    def to_dict(self) -> dict:
        """JSON-ready summary."""
        pb = self.problem
        return {
            "met": self.met,
            "tumor": pb.tumor_name,
            "device": {"model": self.device.model, **self.device.settings()},
            "composition": pb.composition,
            "target": {
                "rule": pb.target.name,
                "min_margin_mm": pb.target.min_margin_mm,
                "isotherm_c": self.isotherm_c,
                "required_probability": pb.probability,
                "confident": pb.confident,
            },
            "probes": [
                {"model": p.model, "tip_mm": [float(v) for v in p.tip_mm], "direction": [float(v) for v in p.direction]}
                for p in self.probes
            ],
            "nominal": self.nominal.summary(),
            "probability": self.probability,
            "ci": [self.ci_low, self.ci_high],
            "confidence": pb.search.confidence,
            "n_samples": self.n_samples,
            "seed": self.seed,
            "robust_margin_mm": self.robust_margin_mm,
            "delivered_percentiles_mm": self.delivered_percentiles_mm,
            "delivered_error_bound_mm": self.delivered_error_bound_mm,
            "clearances_mm": self.clearances_mm,
            "organs_at_risk": [
                {"name": o.name, "min_distance_mm": o.min_distance_mm, "isotherm_c": o.isotherm_c} for o in pb.organs
            ],
            "warnings": list(self.warnings),
            "history": [s.to_dict() for s in self.history],
            "seconds": self.seconds,
            "evaluations": self.evaluations,
        }

    def __repr__(self) -> str:
        verdict = "meets" if self.met else "does NOT meet"
        return (
            f"Plan({self.n_probes} x {self.device.label}, {self.problem.composition}: nominal margin "
            f"{self.nominal.min_margin_mm:+.2f} mm, P(margin >= {self.target_mm:g} mm) = {100 * self.probability:.1f} %"
            f" ({100 * self.ci_low:.1f}-{100 * self.ci_high:.1f} %), {verdict} the required "
            f"{100 * self.problem.probability:g} %)"
        )
