"""A cohort case's zones are computed on arrays; they must be the zones that parallel_array and perturbed_zones
(the public placement and uncertainty functions) give for the same draws."""

import numpy as np

from ablasim.catalog import default_catalog
from ablasim.placement import parallel_array
from ablasim.uncertainty import case_rng, draws_per_case, perturbed_zones
from ablasim.workflows.cohorts import make_case, parse_cohort_spec

from .conftest import DOC


def test_case_zones_match_placement_and_uncertainty_functions():
    spec = parse_cohort_spec({**DOC, "strategy": [*DOC["strategy"][:2], {"model": "IceRod", "n_probes": 5}]})
    cat = default_catalog()
    for i in range(40):
        tumor, k, zones, _ = make_case(spec, i)
        rng = case_rng(spec.seed, i)  # the same draws, in the documented order
        rng.random(2)
        rng.standard_normal(4)
        dz = rng.standard_normal(3)
        s = spec.strategies[k]
        probes = parallel_array(tumor, s.n_probes, s.model, spacing_mm=s.spacing_mm, direction=dz / np.linalg.norm(dz))
        zone_spec = probes[0].zone_spec(cat, isotherm_c=0.0)
        z = rng.standard_normal(draws_per_case(len(probes)))
        expected = perturbed_zones(probes, [zone_spec] * len(probes), spec.uncertainty, z, tumor.center_mm)
        assert len(zones) == len(expected)
        for a, b in zip(zones, expected):
            # the same arithmetic in another order: agreement to rounding (coordinates of tens of mm)
            assert np.allclose(a.center_mm, b.center_mm, rtol=0, atol=1e-11)
            assert np.allclose(a.rotation, b.rotation, rtol=0, atol=1e-13)
            assert np.allclose(a.semi_axes_mm, b.semi_axes_mm, rtol=0, atol=1e-12)
