"""The validation workflow wired end to end on a few cases, the fit / predict rules, and the command line."""

import json

import numpy as np
import pytest

from ablasim.cli import main
from ablasim.errors import ValidationError
from ablasim.outcomes.data import FitPredictSplit, Parameter
from ablasim.render.validation import write_validation_report
from ablasim.workflows.validate import ValidationSettings, run_validation


def split(params, preds):
    return FitPredictSplit(tuple(params), tuple(preds), ())


def p(name, doc, endpoint=None):
    return Parameter(name, "", "", doc, endpoint)


def test_split_rules():
    ids = ["a.x", "a.y", "b.z"]
    split([p("d", "A", "a.x")], ["a.y", "b.z"]).check(ids)
    with pytest.raises(ValidationError, match="cannot be a prediction"):
        split([p("d", "A", "a.x")], ["a.x", "a.y", "b.z"]).check(ids)
    with pytest.raises(ValidationError, match="at most two"):
        split([p("d", "A", "a.x"), p("e", "A", "a.x"), p("f", "A", "a.x")], ["a.y", "b.z"]).check(ids)
    with pytest.raises(ValidationError, match="one pooled number"):
        split([p("d", "A", "a.x"), p("e", "A", "a.y")], ["b.z"]).check(ids)
    with pytest.raises(ValidationError, match="neither fitted nor predicted"):
        split([p("d", "A", "a.x")], ["a.y"]).check(ids)


@pytest.fixture(scope="module")
def result():
    return run_validation(ValidationSettings(quick=True, n_cases=3, n_boot=20))


def test_every_endpoint_has_a_row_with_its_role(result):
    rows = {r["id"]: r for r in result.summary["rows"]}
    series_ids = {e.id for r in result.runs for e in r.spec.endpoints}
    assert series_ids | {"check.meta_rr"} == set(rows)
    assert rows["liver.ltp"]["role"] == "fitted"
    assert {r["role"] for k, r in rows.items() if k not in ("liver.ltp", "check.meta_rr")} == {"prediction"}
    assert rows["renal.cycles"]["predicted"] is None  # quick mode: no solver, said so
    assert any("full mode" in n for n in rows["renal.cycles"]["notes"])
    names = [q["name"] for q in result.summary["parameters"]]
    assert names == ["beta0", "beta1", "delta"]
    assert all(q["fitted_on"] for q in result.summary["parameters"])


def test_the_fitted_number_is_reproduced_unless_delta_is_at_a_bound(result):
    row = next(r for r in result.summary["rows"] if r["id"] == "liver.ltp")
    if not result.summary["delta_at_bound"]:
        assert row["predicted"] == pytest.approx(row["reported"], abs=1e-6)
    else:
        assert result.summary["parameters"][2]["value"] in (-10.0, 10.0)


def test_sensitivity_reruns_every_post_item(result):
    items = {e["item"] for e in result.summary["sensitivity"]["items"]}
    assert {"lethal offset", "visible-margin reading error", "time course of local progression"} <= items
    for e in result.summary["sensitivity"]["items"]:
        assert all(len(v) == 2 for v in e["values"].values())


def test_report_files_are_self_contained(result, tmp_path):
    files = write_validation_report(result, tmp_path)
    text = files.html.read_text()
    assert "<script" not in text and 'src="http' not in text and "data:image/png;base64," in text
    data = json.loads(files.json.read_text())
    assert data["rows"] and data["mode"] == "quick"
    assert all(p.suffix == ".png" and p.stat().st_size > 0 for p in files.images)


def test_cli_quick_run(tmp_path, capsys):
    rc = main(
        ["validate", "--quick", "--cases", "1", "--boot", "10", "--in-process", "--quiet", "--out", str(tmp_path)]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "predictions agree" in out and "liver.te.ge40" in out
    assert (tmp_path / "validation.html").is_file() and (tmp_path / "parts").is_dir()
    rc = main(["validate", "--quick", "--cases", "0", "--in-process", "--out", str(tmp_path)])
    assert rc == 2
    assert "--cases" in capsys.readouterr().err


def test_bootstrap_intervals_contain_the_point_estimates_mostly(result):
    rows = [r for r in result.summary["rows"] if r["role"] == "prediction" and r["low"] is not None]
    assert rows
    for r in rows:
        assert np.isfinite(r["low"]) and r["low"] <= r["high"]
