"""Rule sets: the thresholds come from the seed records; checks pass and fail exactly where the geometry says."""

import numpy as np
import pytest

from ablasim import Ellipsoid, ScenarioError, UnknownNameError, measure_margin
from ablasim.literature import load_records
from ablasim.probes import Probe
from ablasim.rules import Rule, RuleSet, check_rule, default_rules

RULES = default_rules()
ICE_BALL = Probe([0, 0, 5], [0, 0, 1], "IceRod").zone()  # radii 12.5 x 12.5 x 17.5, centred at the origin


def test_rules_carry_the_numbers_of_their_seed_records():
    recs = load_records()
    sarcoma = recs["sarcoma_cryo_sheth"].thresholds[0]
    assert RULES["sarcoma-5mm"].min_margin_mm == sarcoma.margin_mm == 5.0
    assert sarcoma.boundary == "ice ball edge" and RULES["sarcoma-5mm"].isotherm_c == 0.0
    assert RULES["renal-6mm"].min_margin_mm == recs["renal_metastases_ir2022"].thresholds[0].margin_mm == 6.0
    liver = recs["liver_cryo_glazer2017"]
    bins = RULES["liver-cryo-size"].size_bins
    assert bins[0].max_diameter_mm == bins[1].min_diameter_mm == liver.study.size_bin_edges_mm[0] == 40.0
    for b, group in zip(bins, ("< 40 mm", ">= 40 mm")):
        o = liver.outcome("technique efficacy", group)
        assert (b.numerator, b.denominator) == (o.numerator, o.denominator)
    assert bins[0].rate == pytest.approx(0.934, abs=5e-4) and bins[1].rate == pytest.approx(0.600)
    for name in ("sarcoma-5mm", "renal-6mm", "liver-cryo-size"):
        assert RULES[name].seed in recs


@pytest.mark.parametrize(
    "radius, sarcoma, renal",
    [
        # Sphere centred in one IceRod ice ball: margin = 12.5 - r (radial semi-axis; the axial one, 17.5, is larger).
        (7.4, True, False),  # 5.1 mm: >= 5, < 6
        (7.5, True, False),  # 5.0 mm: exactly the sarcoma limit (>= passes)
        (7.6, False, False),  # 4.9 mm
        (6.4, True, True),  # 6.1 mm
        (6.6, True, False),  # 5.9 mm
    ],
)
def test_single_cryoprobe_limits(radius, sarcoma, renal):
    res = measure_margin(Ellipsoid.sphere([0, 0, 0], radius), ICE_BALL)
    assert res.min_margin_mm == pytest.approx(12.5 - radius, abs=1e-6)
    s = check_rule(RULES["sarcoma-5mm"], res)
    r = check_rule(RULES["renal-6mm"], res)
    # at exactly 5.0 the computed margin sits a rounding error either side of the limit: the check compares with
    # the rounding tolerance (rules.ROUNDING_FLOOR_MM), so the limit is met
    assert s.passed is sarcoma
    assert r.passed is renal
    assert ("PASS" if r.passed else "FAIL") in r.reason and f"{12.5 - radius:.2f} mm" in r.reason


def test_failing_fraction_is_the_surface_area_below_the_threshold():
    tumor = Ellipsoid.sphere([2.0, 0, 0], 7.0)  # pushed towards +x: thin margin on that side
    res = measure_margin(tumor, ICE_BALL)
    c = check_rule(RULES["sarcoma-5mm"], res)
    m = res.margin_map
    expected = m.area_mm2[m.margins_mm < 5.0].sum() / m.area_mm2.sum()
    assert c.failing_surface_fraction == pytest.approx(expected)
    assert 0.0 < c.failing_surface_fraction < 0.5
    assert np.allclose(c.thinnest_point_mm, np.round(res.thinnest_point_mm, 1))
    assert c.thinnest_point_mm[0] > 8.9  # on the +x side


def test_protrusion_reason():
    res = measure_margin(Ellipsoid.sphere([8.0, 0, 0], 7.0), ICE_BALL)
    c = check_rule(RULES["sarcoma-5mm"], res, zone_label="ice ball")
    # the sphere reaches x = 15, the ice ball 12.5: protrudes 2.5 mm
    assert not c.passed and "protrudes 2.50 mm beyond the ice ball" in c.reason


@pytest.mark.parametrize("diameter, label, rate", [(39.0, "< 40 mm", 213 / 228), (41.0, ">= 40 mm", 18 / 30)])
def test_liver_size_bins(diameter, label, rate):
    tumor = Ellipsoid.from_diameters([0, 0, 0], [diameter, 20, 20])
    big = Ellipsoid([0, 0, 0], [30, 30, 30])
    c = check_rule(RULES["liver-cryo-size"], measure_margin(tumor, big), tumor)
    assert c.passed and c.size_bin == label and c.observed_rate == pytest.approx(rate)
    assert f"{100 * rate:.1f} %" in c.reason


def test_custom_rules_from_a_file_and_unknown_names(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text(
        '[rules.lung-lethal]\nmodality = "cryo"\nisotherm_c = -20.0\nmin_margin_mm = 3.0\nsource = "our protocol"\n'
    )
    rs = RuleSet.from_toml(path)
    assert rs["lung-lethal"].isotherm_c == -20.0 and "sarcoma-5mm" in rs.names()
    with pytest.raises(UnknownNameError) as err:
        rs["sarcoma-6mm"]
    assert "sarcoma-5mm" in str(err.value)
    path.write_text("[rules.x]\nmin_margin_mm = 3.0\nthreshold = 2\n")
    with pytest.raises(ScenarioError, match="unknown key"):
        RuleSet.from_toml(path)


def test_rule_from_python():
    res = measure_margin(Ellipsoid.sphere([0, 0, 0], 5.0), ICE_BALL)
    assert check_rule(Rule("mine", 7.0), res).passed  # 12.5 - 5 = 7.5
