"""Monitoring, caps and the lethal offset on hand-made columns (every expected number worked out in the comments)."""

import copy

import numpy as np
import pytest

from ablasim.outcomes.lethal import lethal_offset_mm
from ablasim.outcomes.monitor import Overrides, finish_cases
from ablasim.outcomes.series import default_series


@pytest.fixture(scope="module")
def renal():
    return next(s for s in default_series() if s.id == "renal")  # arms: cryo (target 6), rf (target 5)


def table(**cols):
    n = len(cols["margin_mm"])
    base = {
        "case": np.arange(n),
        "arm": np.zeros(n, int),
        "z_read": np.zeros(n),
        "u_near": np.ones(n),
        "u_cap": np.zeros(n),
        "margin_plus_mm": np.full(n, np.nan),
    }
    base.update({k: np.asarray(v) for k, v in cols.items()})
    return base


def test_cryo_operator_extends_then_adds_a_cycle_then_a_probe(renal):
    # target 6 mm, reading error 0, no structure; actions: +1 mm, +1 mm, then the array with a probe added
    t = table(margin_mm=[7.0, 5.5, 4.5, 1.0], margin_plus_mm=[9.0, 9.0, 9.0, 5.0])
    f = finish_cases(renal, t)
    # 7.0: nothing to do; 5.5 -> 6.5 (one extension); 4.5 -> 5.5 -> 6.5 (extension, cycle);
    # 1.0 -> 2.0 -> 3.0 -> probe added: max(3.0, 5.0 + 2.0) = 7.0
    np.testing.assert_allclose(f.zone_margin_mm, [7.0, 6.5, 6.5, 7.0])
    np.testing.assert_array_equal(f.extensions, [0, 1, 2, 2])
    np.testing.assert_array_equal(f.probes_added, [0, 0, 0, 1])
    off = lethal_offset_mm("kidney", "cryo")
    np.testing.assert_allclose(f.lethal_margin_mm, f.zone_margin_mm - off)


def test_reading_error_decides_what_the_operator_does(renal):
    # true margin 6.5 mm read as 6.5 - 1.0 * 1.0 = 5.5 < 6: one extension to 7.5
    f = finish_cases(renal, table(margin_mm=[6.5], z_read=[-1.0]))
    assert f.zone_margin_mm[0] == pytest.approx(7.5)
    assert f.read_margin_mm[0] == pytest.approx(6.5)


def test_a_structure_caps_the_margin_and_stops_the_growth(renal):
    # structure nearby (u_near 0 < p_near 0.3) at 0.5 * 10 mm = 5 mm: the margin stops at 5, no action once m >= cap
    f = finish_cases(renal, table(margin_mm=[8.0, 3.0], u_near=[0.0, 0.0], u_cap=[0.5, 0.5]))
    np.testing.assert_allclose(f.zone_margin_mm, [5.0, 5.0])
    assert list(f.capped) == [True, True]
    # 3.0 -> 4.0 -> 5.0 (two growth actions), then m >= cap: no probe
    assert list(f.extensions) == [0, 2]


def test_heat_zones_have_no_offset_and_only_add_ablations(renal):
    t = table(margin_mm=[2.0], arm=[1], margin_plus_mm=[6.0])
    f = finish_cases(renal, t)
    assert f.zone_margin_mm[0] == 6.0 and f.extensions[0] == 0 and f.probes_added[0] == 1
    assert f.lethal_margin_mm[0] == 6.0


def test_overrides_replace_the_assumptions(renal):
    t = table(margin_mm=[5.0])
    f = finish_cases(renal, t, Overrides(lethal_offset_mm=1.0, gain_mm=0.0))
    assert f.zone_margin_mm[0] == 5.0  # no growth
    assert f.lethal_margin_mm[0] == pytest.approx(4.0)
    spec = copy.copy(renal)
    f2 = finish_cases(spec, table(margin_mm=[5.0], u_near=[0.2], u_cap=[0.1]), Overrides(p_near=0.1, cap_max_mm=20))
    assert not f2.capped[0]  # 0.2 >= p_near 0.1: no structure
