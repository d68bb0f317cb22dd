"""Regression tests for the wiring between scenario, run, sampling, output and report (each failed before the
typed scenario model and the workflows layer; the defect is named in each test)."""

import json
import os
import stat
import subprocess
import sys
import tomllib

import pytest

import ablasim
from ablasim import (
    Ellipsoid,
    ScenarioError,
    ValidationError,
    check_rule,
    load_scenario,
    measure_margin,
    parse_scenario,
    run_scenario,
    sample_scenario,
)
from ablasim._io import atomic_write_bytes, atomic_write_json
from ablasim.cli import main
from conftest import EXAMPLES

ICESPHERE = """
name = "icesphere-20"
rules = ["clm-5mm"]
[[tumors]]
name = "lesion"
center_mm = [0, 0, 0]
radius_mm = 3.0
[[probes]]
model = "IceSphere"
protocol = "lung-model"
tip_mm = [0, 0, 8.0]
direction = [0, 0, 1]
[zone_model]
isotherm_c = -20.0
"""
TINY_UNCERTAINTY = "[uncertainty]\nregistration_shift_sd_mm = 1e-9\n"


def test_one_isotherm_for_run_sampling_and_json(tmp_path):
    # Before: the run measured clm-5mm (no isotherm of its own) on the zone model's -20 degC isotherm, but sampling
    # fell back to the 0 degC ice edge: -0.62 mm deterministically, +1.79 mm in every draw, JSON isotherm_c None.
    sc = parse_scenario(tomllib.loads(ICESPHERE + TINY_UNCERTAINTY))
    assert sc.isotherm_for(sc.rules[0]) == -20.0
    (outcome,) = run_scenario(sc).outcomes
    (check,) = outcome.checks
    assert check.isotherm_c == -20.0 and "-20 degC isotherm" in check.reason
    (row,) = sample_scenario(sc, 10, seed=3)
    assert row.isotherm_c == -20.0
    # a vanishing uncertainty delivers the plan: the sampled margin is the deterministic one
    assert abs(row.margin_percentiles_mm["50"] - outcome.result.min_margin_mm) < 1e-6
    path = tmp_path / "sc.toml"
    path.write_text(ICESPHERE + TINY_UNCERTAINTY)
    out = tmp_path / "r.json"
    assert main(["run", str(path), "--samples", "5", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["tumors"][0]["checks"][0]["isotherm_c"] == -20.0
    assert data["uncertainty"][0]["isotherm_c"] == -20.0


def test_a_margin_exactly_at_the_threshold_passes():
    # Before: concentric spheres R = 15, r = 10 gave 4.9999999999999964 mm and FAIL against 5 mm.
    res = measure_margin(Ellipsoid([0, 0, 0], [10, 10, 10]), Ellipsoid([0, 0, 0], [15, 15, 15]))
    assert abs(res.min_margin_mm - 5.0) < 1e-12
    check = check_rule(ablasim.Rule("five", 5.0), res)
    assert check.passed and check.reason.startswith("PASS")
    # a real shortfall of 1e-6 mm (far above rounding, 1e-9 mm) still fails
    res_short = measure_margin(Ellipsoid([0, 0, 0], [10.000001, 10.000001, 10.000001]), Ellipsoid([0, 0, 0], [15] * 3))
    assert not check_rule(ablasim.Rule("five", 5.0), res_short).passed


def test_within_the_error_bound_is_said():
    # a voxel measurement overestimates by up to about a voxel: a pass that close to the threshold says so
    tumor = Ellipsoid([0, 0, 0], [10, 10, 10])
    grid = ablasim.Grid.covering([-16] * 3, [16] * 3, 1.0)
    res = measure_margin(tumor, Ellipsoid([0, 0, 0], [15.3, 15.3, 15.3]), grid=grid, method="voxel")
    check = check_rule(ablasim.Rule("five", 5.0), res)
    assert check.passed and check.within_error_bound and "error bound" in check.reason


def test_rendering_a_result_without_a_map_is_a_clear_error():
    # Before: measure_margin(..., map_resolution_mm=None) then make_scene raised a raw AttributeError.
    from ablasim.render import make_scene
    from ablasim.render.plots import margin_histogram

    res = measure_margin(Ellipsoid([0, 0, 0], [5, 5, 5]), Ellipsoid([0, 0, 0], [9, 9, 9]), map_resolution_mm=None)
    for call in (lambda: make_scene(res), lambda: margin_histogram(res)):
        with pytest.raises(ValidationError, match="map_resolution_mm"):
            call()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are a POSIX feature")
def test_outputs_write_through_links_and_refuse_special_files(tmp_path):
    # Before: os.replace replaced a symlink, a FIFO or a device node given as --json by a regular file.
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    atomic_write_json(link, {"a": 1})
    assert link.is_symlink() and json.loads(real.read_text()) == {"a": 1}
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "made.json")
    atomic_write_bytes(dangling, b"x")
    assert dangling.is_symlink() and (tmp_path / "made.json").read_bytes() == b"x"
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ValidationError, match="a FIFO"):
        atomic_write_bytes(fifo, b"x")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    with pytest.raises(ValidationError, match="a device node"):
        atomic_write_bytes("/dev/null", b"x")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    real.chmod(0o640)
    atomic_write_bytes(real, b"new")
    assert stat.S_IMODE(os.stat(real).st_mode) == 0o640  # an existing file keeps its permissions


def test_sampling_options_are_refused_before_any_work(tmp_path):
    # Before: --samples on a scenario without [uncertainty] sampled 50 identical deliveries; bad values were refused
    # only after the deterministic run had printed its table.
    src = str(EXAMPLES / "renal_metastasis.toml")
    for args, message in (
        (["--samples", "50"], "[uncertainty] table"),
        (["--samples", "0"], "--samples=0"),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "ablasim.cli", "run", src, *args, "--json", str(tmp_path / "x")],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 2 and message in proc.stderr
        assert proc.stdout == "" and not (tmp_path / "x").exists()
    with_unc = tmp_path / "u.toml"
    with_unc.write_text((EXAMPLES / "renal_metastasis.toml").read_text() + "[uncertainty]\nzone_scale_sd = 0.1\n")
    proc = subprocess.run(
        [sys.executable, "-m", "ablasim.cli", "run", str(with_unc), "--samples", "5", "--seed", "-1"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "--seed=-1" in proc.stderr and proc.stdout == ""


def test_a_tumour_outside_the_excluded_organ_is_warned_about():
    tumor = Ellipsoid([0, 0, 0], [5, 5, 5])
    zone = Ellipsoid([0, 0, 0], [9, 9, 9])
    outside = ablasim.CapsuleExclusion(Ellipsoid([40, 0, 0], [20, 20, 20]), 2.0)
    res = measure_margin(tumor, zone, exclude=outside)
    assert any("entirely outside the organ" in w for w in res.warnings)
    inside = ablasim.CapsuleExclusion(Ellipsoid([0, 0, 0], [30, 30, 30]), 2.0)
    assert measure_margin(tumor, zone, exclude=inside).warnings == ()


def test_placement_words_follow_the_modality():
    # Before: a microwave antenna got a warning about its "ice ball".
    tumor = Ellipsoid([0, 0, 0], [20, 20, 20])
    probes = [ablasim.Probe([x, 0, 0], [0, 0, 1], "Emprint") for x in (-15, 15)]
    warnings = ablasim.check_placement(probes, tumor, power_w=100, duration_s=600)
    text = " ".join(w.message for w in warnings)
    assert "ablation zones may not merge" in text and "ice ball" not in text
    cryo = [ablasim.Probe([x, 0, 0], [0, 0, 1], "IceRod") for x in (-15, 15)]
    assert "ice balls may not merge" in " ".join(w.message for w in ablasim.check_placement(cryo, tumor))


def test_a_merged_ice_ball_is_drawn_as_its_isotherm():
    # Before: through the API a cryo zone was labelled "ablation zone" and drawn amber (the heat-zone colour).
    from ablasim.render import make_scene
    from ablasim.render._colors import shell_color

    probes = [ablasim.Probe([x, 0, 10], [0, 0, 1], "IceRod") for x in (-6, 6)]
    zone = ablasim.compose(probes, composition="synergy")
    res = measure_margin(Ellipsoid([0, 0, 0], [6, 6, 6]), zone)
    (shell,) = make_scene(res, zones=zone).shells
    assert shell.label == "0 degC isotherm" and shell.color == shell_color(0.0)
    (explicit,) = make_scene(res, zones=[Ellipsoid([0, 0, 0], [9, 9, 9])], isotherm_c=0.0).shells
    assert explicit.label == "0 degC isotherm"


@pytest.mark.parametrize(
    "edit, words",
    [
        # zone_scale = -1 was accepted when a scenario had only [[zones]]
        (lambda t: t + "[zone_model]\nzone_scale = -1\n", ["zone_model.zone_scale=-1"]),
        # a custom -20 degC rule with an IceRod (which has only the 0 degC ice ball) named neither file nor rule
        (
            lambda t: t.replace(
                "[[zones]]",
                '[[probes]]\nmodel = "IceRod"\ntip_mm = [0, 0, 5]\ndirection = [0, 0, 1]\n'
                "[custom_rules.cold]\nisotherm_c = -20.0\nmin_margin_mm = 3.0\n[[zones]]",
            ),
            ["bad.toml", "rules.cold", "-20 degC isotherm"],
        ),
        # the out-of-table hint named the Python keyword, not the TOML key
        (
            lambda t: t.replace(
                "[[zones]]",
                '[[probes]]\nmodel = "Emprint"\npower_w = 500\nduration_s = 600\n'
                "tip_mm = [0, 0, 5]\ndirection = [0, 0, 1]\n[[zones]]",
            ),
            ["extrapolate = true", "[zone_model]", "probes[0]"],
        ),
    ],
)
def test_errors_keep_their_context(tmp_path, edit, words):
    base = "[[tumors]]\ncenter_mm = [0, 0, 0]\nradius_mm = 5\n[[zones]]\ncenter_mm = [0, 0, 0]\nradius_mm = 9\n"
    path = tmp_path / "bad.toml"
    path.write_text(edit(base))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    for w in words:
        assert w in str(err.value)


def test_method_voxel_without_a_grid_names_the_missing_table(tmp_path, capsys):
    # Before: "grid=None: the voxel method on analytic shapes needs a grid".
    assert main(["run", str(EXAMPLES / "three_probes.toml"), "--method", "voxel"]) == 2
    err = capsys.readouterr().err
    assert "three_probes.toml" in err and "[grid]" in err


def test_a_cohort_with_too_many_probes_names_file_and_strategy(tmp_path):
    spec = tmp_path / "c.toml"
    spec.write_text(
        'seed = 1\nn_cases = 2\n[tumor]\ndiameter_mm = 20.0\n[[strategy]]\nmodel = "IceRod"\nn_probes = 60\n'
    )
    with pytest.raises(ScenarioError) as err:
        ablasim.load_cohort_spec(spec)
    assert "c.toml" in str(err.value) and "strategy[0].n_probes=60" in str(err.value)


def test_results_print_a_compact_summary():
    # Before: print(run_scenario(...)) dumped ~25,000 characters of arrays.
    res = run_scenario(load_scenario(EXAMPLES / "three_probes.toml"))
    for obj in (res, res.outcomes[0], res.outcomes[0].result, res.outcomes[0].result.margin_map, res.scenario):
        assert len(repr(obj)) < 400
    assert "min margin +1.70 mm" in repr(res)


def test_rules_help_has_a_description(capsys):
    with pytest.raises(SystemExit):
        main(["rules", "--help"])
    assert "margin each requires" in capsys.readouterr().out


def test_the_licence_is_an_spdx_string():
    # Before: `project.license` as a table made every install print a setuptools deprecation warning.
    doc = tomllib.loads((EXAMPLES.parent / "pyproject.toml").read_text())
    assert doc["project"]["license"] == "BSD-3-Clause"
    assert any(r.startswith("setuptools>=77") for r in doc["build-system"]["requires"])


def test_the_public_api_is_reachable_from_the_top_level():
    for name in (
        "load_scenario",
        "run_scenario",
        "sample_scenario",
        "Probe",
        "default_catalog",
        "default_rules",
        "simulate",
        "cycles_to_rule",
        "run_cohort",
        "Scenario",
        "ValidationError",
        "SimulationError",
    ):
        assert hasattr(ablasim, name), name
    from ablasim import errors

    for name in errors.__all__:
        assert getattr(ablasim, name) is getattr(errors, name)
