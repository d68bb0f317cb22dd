"""HTML reports: self-contained (images as data URIs, no external resources), JSON beside them, atomic writes."""

import base64
import html
import json
import re
from datetime import UTC, datetime

import pytest

from ablasim import __version__
from ablasim.catalog import default_catalog
from ablasim.cli import main
from ablasim.errors import ValidationError
from ablasim.render import write_report
from ablasim.scenario.parse import load_scenario
from ablasim.workflows.run import run_scenario
from conftest import EXAMPLES

SMALL = (320, 240)
WHEN = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def three():
    return run_scenario(load_scenario(EXAMPLES / "three_probes.toml"))


def _external_refs(text):
    return re.findall(r"""(?:src|href|url)\s*[=(]\s*["']?\s*(?:https?:)?//""", text, flags=re.I)


def test_report_is_self_contained_with_reasons_and_provenance(three, tmp_path):
    files = write_report(three, tmp_path, window_size=SMALL, cameras=("thinnest",), generated=WHEN)
    assert files.html == tmp_path / "three-probes.html" and files.json == tmp_path / "three-probes.json"
    text = files.html.read_text(encoding="utf-8")
    assert not _external_refs(text) and "<script" not in text.lower() and "<link" not in text.lower()
    srcs = re.findall(r'<img [^>]*src="([^"]+)"', text)
    assert len(srcs) == 4  # 3D view, histogram, cumulative, slices
    for s in srcs:
        assert s.startswith("data:image/png;base64,")
        assert base64.b64decode(s.split(",", 1)[1]).startswith(b"\x89PNG")
    outcome = three.outcomes[0]
    for check in outcome.checks:
        assert html.escape(check.reason) in text
    model = default_catalog()["IceRod"]
    assert html.escape(model.source) in text and model.kind in text
    assert "FAIL" in text and f"ablasim {__version__}" in text and "2025-03-14 09:30 UTC" in text
    assert "+1.70 mm" in text and "triple-point" in text and "uncovered volume" in text and "exact" in text
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporary file


def test_report_json_is_the_run_plus_the_images(three, tmp_path):
    files = write_report(
        three, tmp_path / "sub" / "case.html", window_size=SMALL, cameras=("iso", "axial"), slices=False, generated=WHEN
    )
    assert files.json == tmp_path / "sub" / "case.json"
    data = json.loads(files.json.read_text())
    assert data["scenario"] == three.to_dict()["scenario"] and data["passed"] is False
    assert data["zone"]["probes"][0]["provenance"]["verified"] is False
    rep = data["report"]
    assert rep["html"] == "case.html" and rep["ablasim_version"] == __version__
    assert rep["generated_utc"].startswith("2025-03-14T09:30")
    kinds = [(i["kind"], i["camera"]) for i in rep["images"]]
    assert kinds == [("scene_iso", "iso"), ("scene_axial", "axial"), ("histogram", None), ("cumulative", None)]
    for item in rep["images"]:
        assert (tmp_path / "sub" / item["file"]).read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in files.images) == sorted(i["file"] for i in rep["images"])
    assert not list((tmp_path / "sub").glob(".*.tmp"))


def test_report_of_cryo_isotherm_shells_and_several_tumours(tmp_path):
    scen = tmp_path / "lung.toml"
    scen.write_text("""
name = "lung <isotherms>"
required_margin_mm = 2.0
[[tumors]]
name = "upper"
center_mm = [0.0, 0.0, 0.0]
diameters_mm = [12.0, 10.0, 14.0]
[[tumors]]
name = "lower"
center_mm = [0.0, 0.0, -14.0]
radius_mm = 3.0
[[probes]]
model = "IceSphere"
protocol = "lung-model"
tip_mm = [0.0, 0.0, 7.0]
direction = [0.0, 0.0, 1.0]
""")
    files = write_report(
        run_scenario(load_scenario(scen)), tmp_path, window_size=SMALL, cameras=("iso",), save_images=False
    )
    text = files.html.read_text()
    assert "lung &lt;isotherms&gt;" in text and "<isotherms>" not in text  # names are escaped
    assert "0 degC isotherm, -20 degC isotherm, -40 degC isotherm" in text
    assert text.count("<h2 id=") == 2 and files.images == ()
    assert not _external_refs(text)
    data = json.loads(files.json.read_text())
    assert [i["file"] for i in data["report"]["images"]] == [None] * 8


def test_report_inputs_are_validated(three, tmp_path):
    with pytest.raises(ValidationError, match="scenario_result"):
        write_report("run", tmp_path)
    with pytest.raises(ValidationError, match="cameras"):
        write_report(three, tmp_path, cameras=("top",))
    with pytest.raises(ValidationError, match="window_size"):
        write_report(three, tmp_path, window_size=(10, 10000))
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValidationError, match="out"):
        write_report(three, tmp_path / "file")


def test_cli_report_and_run_report(tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["report", str(EXAMPLES / "single_probe_sphere.toml"), "--out", str(out), "--size", "320x240"]) == 0
    assert "single-probe-sphere.html" in capsys.readouterr().out
    assert (out / "single-probe-sphere.html").exists() and (out / "single-probe-sphere.json").exists()
    assert main(["report", str(EXAMPLES / "single_probe_sphere.toml"), "--size", "big"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ablasim: error: size='big'") and err.count("\n") == 1
    assert main(["run", str(EXAMPLES / "renal_metastasis.toml"), "--report", str(out)]) == 0
    text = capsys.readouterr().out
    assert "FAIL (renal-6mm)" in text and "renal-metastasis.html" in text
    assert json.loads((out / "renal-metastasis.json").read_text())["tumors"][0]["checks"][0]["rule"] == "renal-6mm"
