"""Scenario files and the command line, run as a user would."""

import json
import subprocess
import sys

import pytest

from ablasim import ScenarioError
from ablasim.cli import main
from ablasim.scenario.parse import load_scenario
from ablasim.workflows.run import run_scenario
from conftest import EXAMPLES


def test_examples_run_and_agree_with_the_hand_arithmetic():
    res = run_scenario(load_scenario(EXAMPLES / "single_probe_sphere.toml"))
    # IceRod radial semi-axis 12.5 mm, lesion radius 7 mm centred on the ice ball: 12.5 - 7 = 5.5 mm.
    ((_, r),) = res.results
    assert r.min_margin_mm == pytest.approx(5.5, abs=1e-6)
    assert res.passed() is True
    three = run_scenario(load_scenario(EXAMPLES / "three_probes.toml"))
    assert three.results[0][1].coverage == 1.0


def test_cli_table_and_json(tmp_path, capsys):
    out = tmp_path / "sub" / "res.json"
    assert main(["run", str(EXAMPLES / "three_probes.toml"), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "min margin" in text and "lesion" in text and "FAIL" in text
    data = json.loads(out.read_text())
    (check,) = data["tumors"][0]["checks"]
    assert check["rule"] == "required-margin" and check["passed"] is False and check["required_margin_mm"] == 5.0
    assert data["tumors"][0]["method"] == "exact"
    assert len(data["zone"]["probes"]) == 3
    assert not list(out.parent.glob(".*.tmp"))  # atomic write leaves no temporary file
    assert main(["run", str(EXAMPLES / "three_probes.toml"), "--strict"]) == 1


def _write(tmp_path, text):
    p = tmp_path / "s.toml"
    p.write_text(text)
    return p


GOOD = """
[[tumors]]
center_mm = [0, 0, 0]
radius_mm = 5
[[zones]]
center_mm = [0, 0, 0]
radius_mm = 9
"""


@pytest.mark.parametrize(
    "text, message",
    [
        (GOOD.replace("radius_mm = 5", "radius_mm = 5\nradius = 5"), "tumors[0]=['radius']: unknown key(s)"),
        (GOOD + "\n[measure]\nresolution = 1\n", "[measure]=['resolution']: unknown key(s)"),
        (GOOD.replace("radius_mm = 5", "radius_mm = -5"), "tumors[0].radius_mm=-5"),
        (
            GOOD.replace("center_mm = [0, 0, 0]\nradius_mm = 9", "center_mm = [0, 0]\nradius_mm = 9"),
            "zones[0].center_mm",
        ),
        (GOOD + "\n[grid]\nspacing_mm = [1, 0, 1]\n", "grid.spacing_mm"),
        (GOOD + "\n[[probes]]\nmodel = 'Nope'\ntip_mm = [0,0,0]\ndirection = [0,0,1]\n", "IceRod"),
        (GOOD + "\n[[probes]]\nmodel = 'IceRod'\ntip_mm = [0,0,0]\ndirection = [0,0,0]\n", "probes[0]"),
        ("[[tumors]]\ncenter_mm = [0,0,0]\nradius_mm = 5\n", "needs at least one [[zones]] or [[probes]]"),
        ("this is not toml", "not valid TOML"),
    ],
)
def test_malformed_scenarios_name_the_problem(tmp_path, text, message):
    with pytest.raises(ScenarioError) as err:
        load_scenario(_write(tmp_path, text))
    assert message in str(err.value)


def test_cli_errors_are_one_line_without_traceback(tmp_path):
    bad = _write(tmp_path, GOOD.replace("radius_mm = 5", "radius_mm = 5\nradius = 5"))
    proc = subprocess.run([sys.executable, "-m", "ablasim.cli", "run", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ablasim: error:") and "radius" in lines[0]
    missing = subprocess.run(
        [sys.executable, "-m", "ablasim.cli", "run", str(tmp_path / "none.toml")], capture_output=True, text=True
    )
    assert missing.returncode == 2 and "cannot read" in missing.stderr and "Traceback" not in missing.stderr


def test_cli_help_describes_the_commands():
    proc = subprocess.run([sys.executable, "-m", "ablasim.cli", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "run" in proc.stdout and "margin" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "ablasim.cli", "run", "--help"], capture_output=True, text=True)
    assert "--json" in proc.stdout


def test_voxel_method_from_the_command_line(capsys):
    assert main(["run", str(EXAMPLES / "single_probe_sphere.toml"), "--method", "voxel"]) == 2
    assert "grid" in capsys.readouterr().err  # no [grid] table: the voxel method says what it needs


def test_outputs_follow_the_umask(tmp_path):
    import os

    from ablasim._io import atomic_write_text

    old = os.umask(0o022)
    try:
        path = atomic_write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert (path.stat().st_mode & 0o777) == 0o644 and path.read_text() == "x"
    assert not list(tmp_path.glob(".*.tmp"))
