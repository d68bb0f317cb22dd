"""The rule-set examples, run as a user would, against the arithmetic written in their comments; and the
scenario features that issue brought (zone model, rule sets, probe settings)."""

import json
import math
import tomllib

import pytest

from ablasim import ScenarioError
from ablasim.cli import main
from ablasim.scenario.parse import load_scenario, parse_scenario
from ablasim.workflows.run import run_scenario
from conftest import EXAMPLES


def _run(name):
    return run_scenario(load_scenario(EXAMPLES / name))


def test_sarcoma_chest_wall_fails_at_the_crease():
    (o,) = _run("sarcoma_chest_wall.toml").outcomes
    # crease of two IceRod balls (12.5 x 12.5 x 17.5, centres 7 mm either side) reaches z = 17.5 sqrt(1 - (7/12.5)^2)
    assert o.result.min_margin_mm == pytest.approx(17.5 * math.sqrt(1 - (7 / 12.5) ** 2) - 12.0, abs=1e-6)
    assert o.result.feature == "crease"
    (c,) = o.checks
    assert c.rule == "sarcoma-5mm" and not c.passed and "2.50 mm" in c.reason


def test_renal_metastasis_misses_six_mm_by_a_hair():
    (o,) = _run("renal_metastasis.toml").outcomes
    a = 6.928  # probe distance from the centre
    reach = a * math.cos(math.pi / 3) + math.sqrt(12.5**2 - (a * math.sin(math.pi / 3)) ** 2)
    assert o.result.min_margin_mm == pytest.approx(reach - 8.5, abs=1e-3)
    assert not o.checks[0].passed and o.checks[0].required_margin_mm == 6.0


def test_microwave_liver_with_scaled_vendor_zone():
    (o,) = _run("microwave_liver.toml").outcomes
    assert o.result.min_margin_mm == pytest.approx(0.85 * 18 - 11, abs=1e-6)  # 4.3 mm
    assert not o.checks[0].passed


def test_cli_prints_rule_reasons_and_provenance(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["run", str(EXAMPLES / "renal_metastasis.toml"), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "FAIL (renal-6mm)" in text and "5.93 mm" in text
    data = json.loads(out.read_text())
    prov = data["zone"]["probes"][0]["provenance"]
    assert prov["kind"] == "model" and prov["verified"] is False and "Slicer" in prov["source"]
    assert data["tumors"][0]["checks"][0]["failing_surface_fraction"] > 0


def test_cli_lists_probes_and_rules(capsys):
    assert main(["probes"]) == 0
    text = capsys.readouterr().out
    assert "Emprint" in text and "verified: no" in text and "100 W, 600 s" in text and "-40 degC" in text
    assert main(["rules"]) == 0
    text = capsys.readouterr().out
    assert "sarcoma-5mm: margin >= 5 mm" in text and "93.4 % (213/228)" in text


BASE = """
rules = ["sarcoma-5mm"]
[[tumors]]
center_mm = [0, 0, 0]
radius_mm = 6
[[probes]]
model = "IceRod"
tip_mm = [-6, 0, 5]
direction = [0, 0, 1]
[[probes]]
model = "IceRod"
tip_mm = [6, 0, 5]
direction = [0, 0, 1]
"""


def test_synergy_zone_model_from_a_scenario():
    union = run_scenario(parse_scenario(tomllib.loads(BASE)))
    synergy = run_scenario(parse_scenario(tomllib.loads(BASE + '[zone_model]\ncomposition = "synergy"\n')))
    assert synergy.outcomes[0].result.method == "isosurface"
    assert synergy.outcomes[0].result.min_margin_mm > union.outcomes[0].result.min_margin_mm


def test_custom_rule_at_a_lethal_isotherm(tmp_path):
    text = (
        BASE.replace('"IceRod"', '"IceSphere"').replace('rules = ["sarcoma-5mm"]', "rules = []")
        + """
[custom_rules.lethal-3mm]
modality = "cryo"
isotherm_c = -40.0
min_margin_mm = 3.0
source = "test"
"""
    )
    text = text.replace("direction = [0, 0, 1]", 'direction = [0, 0, 1]\nprotocol = "lung-model"')
    res = run_scenario(parse_scenario(tomllib.loads(text)))
    (c,) = res.outcomes[0].checks
    assert c.rule == "lethal-3mm" and "-40 degC" in c.reason


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: t.replace('"sarcoma-5mm"', '"sarcoma-6mm"'), "valid choices"),
        (lambda t: t + '[zone_model]\ncomposition = "merge"\n', "zone_model.composition"),
        (lambda t: t + "[zone_model]\nscale = 0.8\n", "[zone_model]=['scale']: unknown key(s)"),
        (
            lambda t: t.replace(
                'model = "IceRod"\ntip_mm = [-6, 0, 5]',
                'model = "Emprint"\npower_w = 200\nduration_s = 600\ntip_mm = [-6, 0, 5]',
            ),
            "outside the table",
        ),
        (
            lambda t: t.replace(
                'model = "IceRod"\ntip_mm = [-6, 0, 5]', 'model = "IceRod"\nprotocol = "x"\ntip_mm = [-6, 0, 5]'
            ),
            "protocol",
        ),
    ],
)
def test_scenario_errors_name_the_problem(edit, message):
    with pytest.raises(ScenarioError) as err:
        parse_scenario(tomllib.loads(edit(BASE)))
    assert message in str(err.value)


def test_rule_modality_must_match_the_probes():
    text = BASE.replace('model = "IceRod"', 'model = "Emprint"\npower_w = 100\nduration_s = 600')
    with pytest.raises(ScenarioError, match="is for cryo"):
        run_scenario(parse_scenario(tomllib.loads(text)))
