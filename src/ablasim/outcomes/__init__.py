"""From margins to outcomes: the outcome model, its fits, and virtual series built like the clinic's.

* :mod:`.model`: P(local control | lethal margin, coverage) at a time after ablation.
* :mod:`.fit`: maximum-likelihood fits on published margin-outcome data and one pooled number, with bootstraps.
* :mod:`.series`, :mod:`.plan`, :mod:`.cases`, :mod:`.monitor`, :mod:`.endpoints`: virtual series per source
  document (tumours, plan, delivery, monitoring, caps) and their endpoints.

The validation workflow that runs them and compares with the source documents is
:mod:`ablasim.workflows.validate` (``ablasim validate``).
"""
