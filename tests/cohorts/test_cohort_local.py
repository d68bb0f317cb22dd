"""Cohorts in one process: determinism, statistics, checkpoints, and the spec's validation."""

import math

import numpy as np
import pytest

from ablasim import ScenarioError
from ablasim.catalog import ProbeCatalog
from ablasim.geometry.shapes import Ellipsoid
from ablasim.metrics.exact import exact_margin
from ablasim.probes import Probe
from ablasim.uncertainty import case_rng, draws_per_case
from ablasim.workflows.cohorts import (
    Uncertainty,
    parse_cohort_spec,
    read_table,
    run_cohort,
    sample_margins,
    wilson,
    write_table,
)

from .conftest import DOC, assert_identical


def test_results_do_not_depend_on_chunking(spec, reference):
    other = parse_cohort_spec({**DOC, "chunk_size": 13})
    assert_identical(run_cohort(other).table, reference)
    assert np.array_equal(reference["case"], np.arange(60))


def test_checkpoints_resume_and_refuse_a_changed_spec(spec, reference, tmp_path):
    out = tmp_path / "r.parquet"
    calls = []
    res = run_cohort(spec, out=out, progress=lambda d, n: calls.append(d))
    assert res.computed_chunks == spec.n_chunks and calls[-1] == 60
    parts = sorted((tmp_path / "r.parquet.parts").glob("chunk_*.npz"))
    assert len(parts) == spec.n_chunks
    for p in parts[3:]:  # as if the run had stopped after three chunks
        p.unlink()
    again = run_cohort(spec, out=out)
    assert again.computed_chunks == spec.n_chunks - 3
    assert_identical(again.table, reference)
    assert_identical(read_table(out), reference)
    with pytest.raises(ScenarioError, match="different cohort spec"):
        run_cohort(parse_cohort_spec({**DOC, "seed": 1}), out=out)
    with pytest.raises(ScenarioError, match="chunk_size"):
        run_cohort(parse_cohort_spec({**DOC, "chunk_size": 5}), out=out)
    assert run_cohort(parse_cohort_spec({**DOC, "seed": 1}), out=out, fresh=True).computed_chunks == spec.n_chunks


def test_csv_and_parquet_round_trip_exactly(reference, tmp_path):
    for name in ("t.csv", "t.parquet"):
        write_table(tmp_path / name, reference)
        assert_identical(read_table(tmp_path / name), reference)


def test_efficacy_and_probabilities(spec):
    res = run_cohort(spec)
    rows = res.efficacy_by_size()
    assert sum(r["n"] for r in rows) == 60
    for r in rows:
        assert r["ci_low"] <= r["rate"] <= r["ci_high"]
    probs = [r["probability"] for r in res.margin_probabilities()]
    assert probs == sorted(probs, reverse=True)  # P(margin >= t) falls as t grows


def test_wilson_interval():
    # Wilson 95 % interval for 8/10: centre (0.8 + 1.96^2/20) / (1 + 1.96^2/10) (textbook formula, z = 1.95996)
    p, lo, hi = wilson(8, 10)
    z = 1.959963984540054
    centre = (0.8 + z * z / 20) / (1 + z * z / 10)
    half = z * math.sqrt(0.8 * 0.2 / 10 + z * z / 400) / (1 + z * z / 10)
    assert (p, lo, hi) == pytest.approx((0.8, centre - half, centre + half))
    assert wilson(0, 10)[1] == 0.0 and wilson(10, 10)[2] == 1.0


def _sphere_catalog(tmp_path, radius):
    path = tmp_path / "sphere.toml"
    path.write_text(
        f'[models.Sphere]\nmodality = "cryo"\nsource = "test"\nkind = "model"\nverified = false\n'
        f"[[models.Sphere.zones]]\nsemi_axes_mm = [{radius}, {radius}, {radius}]\ncenter_offset_mm = 0\n"
    )
    return ProbeCatalog.from_toml(path)


def test_zero_uncertainty_gives_the_deterministic_answer(tmp_path):
    probe = Probe([0.0, 0.0, 0.0], [0, 0, 1], "IceRod")
    tumor = Ellipsoid([1.0, 0.5, -2.0], [6.0, 5.0, 7.0])
    det = exact_margin(tumor, [probe.zone()], resolution_mm=1.0, map_resolution_mm=None, coverage_polar=64)
    s = sample_margins(tumor, [probe], Uncertainty(), 25, seed=3)
    assert np.all(s.margins_mm == det.min_margin_mm)
    assert s.probability(det.min_margin_mm - 0.1)[0] == 1.0
    assert s.probability(det.min_margin_mm + 0.1)[0] == 0.0
    assert s.probability(det.min_margin_mm)[0] == 1.0  # ">=" includes the deterministic value itself


def test_registration_error_probability_matches_the_maxwell_law(tmp_path):
    # A spherical zone (R = 12) around a concentric tumour (r = 8), shifted by an isotropic Gaussian error (sd s per
    # axis): margin = 4 - |shift|. P(margin >= t) = P(|shift| <= a), a = 4 - t, and |shift| / s has the Maxwell
    # distribution: P(|X| <= a) = erf(a / (s sqrt 2)) - sqrt(2 / pi) (a / s) exp(-a^2 / (2 s^2)).
    s = 1.5
    cat = _sphere_catalog(tmp_path, 12.0)
    tumor = Ellipsoid.sphere([0, 0, 0], 8.0)
    res = sample_margins(
        tumor,
        [Probe([0, 0, 0], [0, 0, 1], "Sphere")],
        Uncertainty(registration_shift_sd_mm=s),
        2000,
        seed=11,
        catalog=cat,
    )
    # each sample's shift recomputed from its own draws (the last three of the case's standard normals)
    shifts = np.array([s * case_rng(11, i).standard_normal(draws_per_case(1))[-3:] for i in range(2000)])
    expected = 4.0 - np.linalg.norm(shifts, axis=1)
    near_tangent = np.abs(expected) < 1e-2  # a protrusion thinner than the sampling resolves reads 0 (methods.md)
    assert np.allclose(res.margins_mm[~near_tangent], expected[~near_tangent], atol=1e-9)
    assert np.allclose(res.margins_mm[near_tangent], expected[near_tangent], atol=1e-2)
    for t in (0.0, 1.0, 2.0, 3.0):
        a = 4.0 - t
        exact = math.erf(a / (s * math.sqrt(2))) - math.sqrt(2 / math.pi) * (a / s) * math.exp(-a * a / (2 * s * s))
        p, lo, hi = res.probability(t, confidence=0.99)
        assert lo <= exact <= hi, (t, p, exact)


@pytest.mark.parametrize(
    "edit, field",
    [
        (lambda d: d["tumor"]["diameter_mm"].update(min=60.0), "tumor.diameter_mm.max"),  # empty size range
        (lambda d: d["uncertainty"].update(tip_axial_sd_mm=-1.0), "uncertainty.tip_axial_sd_mm"),  # negative sigma
        (lambda d: d["strategy"][1].update(model="IceRodd"), "probe model"),  # unknown strategy
        (lambda d: d["strategy"][1].update(max_diameter_mm=10.0), "strategy[1].max_diameter_mm"),
        (
            lambda d: d["tumor"].update(diameter_mm={"distribution": "lognormal", "median": 22.0, "mean": 20.0}),
            "tumor.diameter_mm.mean",
        ),
        (
            lambda d: d["tumor"].update(diameter_mm={"distribution": "normal", "mean": 22.0, "sd": -3.0}),
            "tumor.diameter_mm.sd",
        ),
        (lambda d: d.update(n_cases=0), "n_cases"),
        (lambda d: d["uncertainty"].update(tip_sd=1.0), "uncertainty"),
        (lambda d: d["outcome"].update(size_bins_mm=[0, 40, 30]), "outcome.size_bins_mm"),
    ],
)
def test_malformed_specs_are_refused_naming_the_field(edit, field):
    import copy

    doc = copy.deepcopy(DOC)
    edit(doc)
    with pytest.raises(ScenarioError) as err:
        parse_cohort_spec(doc)
    assert field in str(err.value)


def test_literature_comparison_by_size_bin():
    import copy

    doc = copy.deepcopy(DOC)
    doc["outcome"]["size_bins_mm"] = [0.0, 40.0, 1000.0]
    doc["outcome"]["compare"] = {"record": "liver_cryo_glazer2017", "outcome": "technique efficacy"}
    spec = parse_cohort_spec(doc)
    # literature record liver_cryo_glazer2017: 213/228 (93.4 %) below 40 mm, 18/30 (60.0 %) at 40 mm or more
    assert [(label, round(rate, 3)) for label, rate, _ in spec.compare] == [("< 40 mm", 0.934), (">= 40 mm", 0.6)]
    rows = run_cohort(spec).efficacy_by_size()
    assert rows[0]["literature_rate"] == pytest.approx(0.934) and "Glazer 2017" in rows[0]["literature_source"]
    for bad, field in [
        ({"record": "nope", "outcome": "technique efficacy"}, "outcome.compare.record"),
        ({"record": "liver_cryo_glazer2017", "outcome": "survival"}, "outcome.compare.outcome"),
    ]:
        doc["outcome"]["compare"] = bad
        with pytest.raises(ScenarioError, match=field.replace(".", r"\.")):
            parse_cohort_spec(doc)
