"""Uncertainty and virtual cohorts: probabilities of meeting a margin, efficacy by tumour size, at scale.

* :class:`Uncertainty`: probe placement, zone size and registration errors (docs/uncertainty.md).
* :func:`sample_margins`: one plan, many perturbed deliveries: P(margin >= t) with confidence intervals.
* :func:`run_cohort`: a virtual cohort from a :class:`CohortSpec`, in-process or on a dask ``Client``,
  checkpointed per chunk (docs/cohorts.md).
"""

from ...sampling import SampleResult, sample_margins
from ...stats import efficacy_by_bin, probability_curve, wilson
from ...uncertainty import Uncertainty
from .cases import COLUMNS, make_case, run_chunk
from .run import CohortResult, run_cohort
from .spec import CohortSpec, load_cohort_spec, parse_cohort_spec
from .store import read_table, write_table

__all__ = [
    "COLUMNS",
    "CohortResult",
    "CohortSpec",
    "SampleResult",
    "Uncertainty",
    "efficacy_by_bin",
    "load_cohort_spec",
    "make_case",
    "parse_cohort_spec",
    "probability_curve",
    "read_table",
    "run_chunk",
    "run_cohort",
    "sample_margins",
    "wilson",
    "write_table",
]
