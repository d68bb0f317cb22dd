"""Distributions of cohort parameters: moved to :mod:`ablasim.distributions` (the virtual series of
:mod:`ablasim.outcomes`, a lower layer, sample them too); kept here so existing imports keep working."""

from ...distributions import Distribution, parse_distribution

__all__ = ["Distribution", "parse_distribution"]
