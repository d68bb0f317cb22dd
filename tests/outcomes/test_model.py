"""The outcome model's closed forms: logistic at 2 years, the time course, residual tumour."""

import math

import numpy as np
import pytest

from ablasim.errors import ValidationError
from ablasim.outcomes.data import load_margin_outcome
from ablasim.outcomes.model import OutcomeModel, TimeCourse, logit, sigmoid


def test_sigmoid_and_logit_are_inverse_and_overflow_free():
    x = np.array([-800.0, -3.0, 0.0, 2.5, 800.0])
    p = sigmoid(x)
    assert p[0] == 0.0 and p[-1] == 1.0 and p[2] == 0.5
    np.testing.assert_allclose(logit(p[1:-1]), x[1:-1], rtol=1e-12)


def test_two_year_control_is_logistic_in_the_margin_and_zero_when_uncovered():
    m = OutcomeModel(-1.0, 0.2, 0.5)
    # sigmoid(-1 + 0.5 + 0.2 * 5) = sigmoid(0.5), by hand
    assert m.control_2y(5.0) == pytest.approx(1 / (1 + math.exp(-0.5)), rel=1e-12)
    assert m.control_2y(-0.01) == 0.0  # tumour outside the lethal zone: residual tumour
    assert m.control(3.0, 2.0, coverage=0.999) == 0.0  # coverage < 1 wins over a positive margin


def test_time_course_from_the_trial_arm():
    tc = load_margin_outcome().time_course
    # cryoablation arm, local progression 3 / 7 / 7 % at 1 / 2 / 3 y: g(1) = ln(0.97) / ln(0.93) = 0.41972
    assert tc.g(1.0) == pytest.approx(math.log(0.97) / math.log(0.93), rel=1e-12)
    assert tc.g(2.0) == pytest.approx(1.0) and tc.g(5.0) == pytest.approx(1.0)  # plateau after 3 y
    assert tc.g(0.25) == pytest.approx(0.25 * tc.g(1.0))  # linear before the first point
    model = OutcomeModel(0.3, 0.1, 0.0, tc)
    p2 = model.control_2y(4.0)
    assert model.control(4.0, 1.0) == pytest.approx(p2 ** tc.g(1.0), rel=1e-12)
    assert model.control(4.0, 0.0) == 1.0


def test_parameter_draws_broadcast_against_margins():
    b0 = np.array([-1.0, 0.0, 1.0])
    model = OutcomeModel(b0, np.full(3, 0.2), np.zeros(3))
    out = model.control_2y(np.array([[0.0, 5.0]] * 3))
    np.testing.assert_allclose(out, sigmoid(b0[:, None] + 0.2 * np.array([0.0, 5.0])))


def test_time_course_refuses_a_decreasing_hazard_and_a_missing_reference():
    with pytest.raises(ValidationError):
        TimeCourse((1.0, 2.0), (0.5, 0.4))
    with pytest.raises(ValidationError):
        TimeCourse.from_progression([3, 7], [1.0, 3.0])
    with pytest.raises(ValidationError):
        OutcomeModel(0.0, 0.1).control(1.0, 1.0)  # no time course: only 2 years
