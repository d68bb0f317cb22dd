"""Reported values with their intervals, case selection and predictions computed by hand."""

import numpy as np
import pytest

from ablasim.literature import load_records
from ablasim.outcomes.endpoints import case_mask, predict, reported
from ablasim.outcomes.model import OutcomeModel
from ablasim.outcomes.monitor import Finished
from ablasim.outcomes.series import default_series
from ablasim.stats import wilson


@pytest.fixture(scope="module")
def series():
    return {s.id: s for s in default_series()}


@pytest.fixture(scope="module")
def records():
    return load_records()


def test_counts_get_wilson_intervals_and_assumed_denominators_say_so(series, records):
    liver = series["liver"]
    rep = reported(liver.endpoint("liver.te.ge40"), records[liver.record])
    assert (rep.k, rep.n) == (18, 30) and (rep.low, rep.high) == pytest.approx(wilson(18, 30)[1:])
    adrenal = series["adrenal"]
    rep = reported(adrenal.endpoint("adrenal.pe"), records[adrenal.record])
    # 72 % of an assumed 46 tumours: k = round(33.12) = 33
    assert (rep.k, rep.n) == (33, 46) and "assumed" in rep.interval


def test_record_intervals_are_used_and_missing_denominators_give_none(series, records):
    renal = series["renal"]
    rep = reported(renal.endpoint("renal.lc1"), records[renal.record])
    assert (rep.low, rep.high) == pytest.approx((0.807, 1.0))  # the record's Kaplan-Meier interval
    bone = series["bone"]
    rep = reported(bone.endpoint("bone.success"), records[bone.record])
    assert rep.value == pytest.approx(0.95) and rep.low is None
    cyc = reported(renal.endpoint("renal.cycles"), records[renal.record])
    # 2 +- 1.96 * 0.26 / sqrt(14)
    assert cyc.low == pytest.approx(2 - 1.96 * 0.26 / np.sqrt(14))


def test_size_bins_select_cases_by_the_records_bin(series, records):
    liver = series["liver"]
    table = {"case": np.arange(4), "arm": np.zeros(4, int), "diameter_mm": np.array([10.0, 39.9, 40.0, 70.0])}
    rec = records[liver.record]
    assert list(case_mask(liver.endpoint("liver.te.lt40"), liver, table, rec)) == [True, True, False, False]
    assert list(case_mask(liver.endpoint("liver.te.ge40"), liver, table, rec)) == [False, False, True, True]


def test_predictions_by_hand(series):
    liver = series["liver"]
    lethal = np.array([-1.0, 0.0, 5.0, 10.0])
    fin = Finished(lethal + 4, np.array([-0.5, 1.0, 2.0, 3.0]), lethal, np.zeros(4, bool), np.zeros(4), np.zeros(4))
    mask = np.array([True, True, True, False])
    model = OutcomeModel(-1.0, 0.2, 0.5)  # 2-year control: 0, sigmoid(-0.5), sigmoid(0.5) on the masked cases
    p2 = (0.0 + 1 / (1 + np.exp(0.5)) + 1 / (1 + np.exp(-0.5))) / 3
    ltp = liver.endpoint("liver.ltp")  # progression at 2.5 y; g = 1 after 2 y
    assert predict(ltp, fin, mask, OutcomeModel(-1.0, 0.2, 0.5, _tc()))[0] == pytest.approx(1 - p2)
    ts = liver.endpoint("liver.ts")  # read margins -0.5, 1, 2 on the masked cases: 2 of 3 read as covered
    assert predict(ts, fin, mask, model)[0] == pytest.approx(2 / 3)
    idx = np.array([[1, 1, 1, 1]])  # a bootstrap resample of case 1 only
    assert predict(ts, fin, mask, model, idx)[0] == 1.0


def _tc():
    from ablasim.outcomes.data import load_margin_outcome

    return load_margin_outcome().time_course
