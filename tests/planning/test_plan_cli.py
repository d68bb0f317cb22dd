"""``ablasim plan``: the examples' planning questions with small search budgets; the written scenario is accepted
by ``ablasim run`` unchanged and reproduces the planned margin; JSON and report outputs."""

import json
import tomllib

import pytest

from ablasim.cli import main
from ablasim.workflows._toml import dumps
from conftest import EXAMPLES


def _small(example: str, tmp_path, *, max_probes: int, extra_plan: dict | None = None, **search) -> str:
    """The example with a small search budget (the example's own settings take minutes)."""
    doc = tomllib.loads((EXAMPLES / example).read_text())
    doc["plan"]["max_probes"] = max_probes
    doc["plan"]["search"] = {**doc["plan"].get("search", {}), **search}
    doc["plan"].update(extra_plan or {})
    path = tmp_path / example
    path.write_text(dumps(doc))
    return str(path)


def _planned_vs_run(tmp_path, capsys, src: str) -> tuple[dict, dict]:
    out, pj, rj = tmp_path / "planned.toml", tmp_path / "plan.json", tmp_path / "run.json"
    code = main(["plan", src, "--quiet", "--out", str(out), "--json", str(pj)])
    assert code in (0, 1)
    printed = capsys.readouterr().out
    assert "Answer:" in printed and "P(margin >=" in printed and f"wrote {out}" in printed
    assert main(["run", str(out), "--json", str(rj)]) == 0
    return json.loads(pj.read_text()), json.loads(rj.read_text())


def test_union_plan_round_trips_through_ablasim_run(tmp_path, capsys):
    # 25 mm renal tumour, IceRod, union: 1 and 2 probes are ruled out by the volume bound, 3 are searched
    src = _small("renal_plan_union.toml", tmp_path, max_probes=3, n_samples=20, search_samples=8, polish_evals=40)
    plan, run = _planned_vs_run(tmp_path, capsys, src)
    assert [s["outcome"] for s in plan["history"]][:2] == ["ruled out", "ruled out"]
    (tumor,) = run["tumors"]
    # the same exact measurement (0.5 mm resolution) of the same probes: the same margin, to rounding
    assert tumor["min_margin_mm"] == pytest.approx(plan["nominal"]["min_margin_mm"], abs=1e-9)
    assert len(run["zone"]["probes"]) == 3 and run["zone"]["probes"][0]["model"] == "IceRod"
    assert tumor["checks"][0]["rule"] == "renal-6mm"


def test_synergy_plan_round_trips_through_ablasim_run(tmp_path, capsys):
    # the merged ice ball (isosurface path, about 0.1-0.3 s a margin): one probe, the smallest search
    src = _small("renal_plan_synergy.toml", tmp_path, max_probes=1, n_samples=4, search_samples=2, polish_evals=0)
    plan, run = _planned_vs_run(tmp_path, capsys, src)
    assert plan["composition"] == "synergy"
    (tumor,) = run["tumors"]
    assert tumor["min_margin_mm"] == pytest.approx(plan["nominal"]["min_margin_mm"], abs=1e-6)


def test_plan_report_draws_the_organ_at_risk(tmp_path, capsys):
    organ = {
        "organs_at_risk": [{"name": "colon", "center_mm": [0.0, 40.0, 0.0], "radius_mm": 8.0, "min_distance_mm": 5.0}]
    }
    src = _small(
        "renal_plan_union.toml",
        tmp_path,
        max_probes=3,
        extra_plan=organ,
        n_samples=12,
        search_samples=6,
        polish_evals=30,
    )
    code = main(["plan", src, "--quiet", "--report", str(tmp_path / "rep")])
    assert code in (0, 1)
    out = capsys.readouterr().out
    assert "Organ at risk colon: the zone stays" in out
    html = (tmp_path / "rep" / "renal-plan-union.html").read_text()
    assert "<h2>Plan</h2>" in html and "clearance to colon" in html and "organ at risk: colon" in html
