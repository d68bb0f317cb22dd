"""Plan inputs for which no plan exists get one clear line saying why (exit status 2), never a traceback or a
silent bad plan."""

import pytest

from ablasim import Ellipsoid, PlanningError, Rule, Uncertainty
from ablasim.cli import main
from ablasim.planning import Approach, Device, PlanProblem, plan

BASE = """
name = "bad"
[[tumors]]
center_mm = [0, 0, 0]
radius_mm = {radius}
[plan]
models = ["{model}"]
margin_mm = {margin}
probability = 0.9
max_probes = {max_probes}
{extra}
"""


def _run(tmp_path, capsys, *, radius=10.0, model="IceRod", margin=5.0, max_probes=4, extra=""):
    path = tmp_path / "bad.toml"
    path.write_text(BASE.format(radius=radius, model=model, margin=margin, max_probes=max_probes, extra=extra))
    code = main(["plan", str(path), "--quiet", "--out", str(tmp_path / "out.toml")])
    captured = capsys.readouterr()
    assert code == 2 and not (tmp_path / "out.toml").exists()
    assert captured.err.startswith("ablasim: error: ") and "Traceback" not in captured.err
    assert captured.err.count("\n") == 1
    return captured.err


def test_an_organ_at_risk_inside_the_tumour(tmp_path, capsys):
    organ = '[[plan.organs_at_risk]]\nname = "duct"\ncenter_mm = [2, 0, 0]\nradius_mm = 3\nmin_distance_mm = 2\n'
    err = _run(tmp_path, capsys, extra=organ)
    assert "organ at risk duct overlaps the tumour" in err


def test_an_organ_at_risk_too_close_for_the_target(tmp_path, capsys):
    # tumour radius 10, organ radius 5 centred 19 mm away: 4 mm apart, but 5 mm margin + 3 mm clearance need 8 mm
    organ = '[[plan.organs_at_risk]]\nname = "bowel"\ncenter_mm = [19, 0, 0]\nradius_mm = 5\nmin_distance_mm = 3\n'
    err = _run(tmp_path, capsys, extra=organ)
    assert "bowel is 4.0 mm from the tumour" in err and "needs at least 8 mm" in err


def test_a_target_isotherm_no_allowed_device_has(tmp_path, capsys):
    err = _run(tmp_path, capsys, extra="isotherm_c = -40.0\n")
    assert "-40 degC isotherm" in err and "IceRod" in err


def test_a_target_beyond_any_allowed_zone(tmp_path, capsys):
    # a 60 mm tumour grown by 10 mm holds > 4/3 pi 40^3 = 268 cm3; two IceSeed balls (10 x 10 x 12.5 mm) hold 10 cm3
    err = _run(tmp_path, capsys, radius=30.0, model="IceSeed", margin=10.0, max_probes=2)
    assert "no plan exists" in err and "allow more probes" in err


def test_contradictory_spacing_is_no_feasible_placement(tmp_path, capsys):
    err = _run(tmp_path, capsys, extra="[plan.approach]\nmin_spacing_mm = 25\nmax_spacing_mm = 20\n")
    assert "no feasible placement" in err and "min_spacing_mm=25" in err


def test_a_misspelt_key_names_the_table(tmp_path, capsys):
    err = _run(tmp_path, capsys, extra="[plan.approach]\nmax_angle = 10\n")
    assert "bad.toml" in err and "plan.approach" in err and "max_angle_deg" in err


def test_a_tip_depth_limit_that_keeps_every_zone_short(tmp_path, capsys):
    # IceRod: the ice ball reaches 12.5 mm beyond the tip (17.5 mm axial semi-axis, centre 5 mm proximal); tips
    # may stop 10 mm before the far side: the margin there is at most 2.5 mm < 5 mm
    err = _run(tmp_path, capsys, extra="[plan.approach]\nmax_tip_beyond_tumor_mm = -10\n")
    assert "no feasible placement" in err and "at most 2.5 mm" in err


def test_a_tip_depth_limit_is_kept_by_the_plan(sphere_catalog):
    # spherical 12 mm zone centred on the tip, tumour radius 8: tips must stop 10 mm before the far side (z <= -2).
    # Best: the tip (zone centre) at z = -2, margin 12 - 8 - 2 = 2 mm, limited by the near side.
    problem = PlanProblem(
        tumor=Ellipsoid([0, 0, 0], [8, 8, 8]),
        devices=(Device("Sphere12"),),
        target=Rule("one and a half", 1.5),
        max_probes=1,
        uncertainty=Uncertainty(),
        approach=Approach(max_tip_beyond_tumor_mm=-10.0),
        catalog=sphere_catalog,
    )
    pl = plan(problem, seed=0)
    assert pl.met and pl.probes[0].tip_mm[2] <= -2.0 + 1e-9
    assert pl.nominal.min_margin_mm == pytest.approx(2.0, abs=0.05)


def test_bad_python_inputs_name_the_field():
    with pytest.raises(PlanningError, match="no feasible placement"):
        Approach(min_spacing_mm=30, max_spacing_mm=10)
    with pytest.raises(Exception, match="probability"):
        PlanProblem(Ellipsoid([0, 0, 0], [5, 5, 5]), (Device("IceRod"),), Rule("t", 1.0), probability=1.5)
    with pytest.raises(Exception, match="max_probes"):
        PlanProblem(Ellipsoid([0, 0, 0], [5, 5, 5]), (Device("IceRod"),), Rule("t", 1.0), max_probes=0)
    with pytest.raises(Exception, match="synergy"):
        PlanProblem(
            Ellipsoid([0, 0, 0], [5, 5, 5]),
            (Device("Emprint", power_w=100, duration_s=600),),
            Rule("t", 1.0),
            composition="synergy",
        )
