"""The confirm workflow and sub-command: one case, a batch over a folder, a CSV summary, errors per case."""

import argparse
import csv

import numpy as np
import pytest

from ablasim import Ellipsoid, Grid
from ablasim.cli.confirm import add_parser, run_command
from ablasim.io.nifti import write_nifti
from ablasim.workflows.confirm import ConfirmCase, confirm_batch, confirm_case

pytest.importorskip("nibabel")
GRID = Grid((40, 40, 40), 1.0, (-20, -20, -20))


def _case(folder, zone_radius):
    folder.mkdir(parents=True)
    write_nifti(folder / "tumor.nii.gz", Ellipsoid.sphere((0, 0, 0), 6).to_mask(GRID))
    write_nifti(folder / "zone.nii.gz", Ellipsoid.sphere((1, 0, 0), zone_radius).to_mask(GRID))


def test_single_case_and_batch(tmp_path, capsys):
    _case(tmp_path / "cases" / "a", 12.0)
    _case(tmp_path / "cases" / "b", 9.0)
    (tmp_path / "cases" / "c").mkdir()
    (tmp_path / "cases" / "c" / "tumor.nii.gz").write_bytes(b"broken")
    (tmp_path / "cases" / "c" / "zone.nii.gz").write_bytes(b"broken")
    one = confirm_case(ConfirmCase("a", str(tmp_path / "cases/a/tumor.nii.gz"), str(tmp_path / "cases/a/zone.nii.gz")))
    # spheres: margin = R - r - offset = 12 - 6 - 1 = 5 mm, within the method's bound
    assert abs(one.result.min_margin_mm - 5.0) <= one.result.error_bound_mm
    rows = confirm_batch(tmp_path / "cases", tmp_path / "out.csv")
    assert [r["case"] for r in rows] == ["a", "b", "c"]
    assert rows[2]["error"] and "tumor.nii.gz" in rows[2]["error"]
    with open(tmp_path / "out.csv") as fh:
        table = list(csv.DictReader(fh))
    assert abs(float(table[1]["min_margin_mm"]) - 2.0) <= 0.5 * np.sqrt(3)  # 9 - 6 - 1


def test_cli(tmp_path, capsys):
    _case(tmp_path / "a", 12.0)
    parser = argparse.ArgumentParser(prog="ablasim")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["confirm", "--tumor", str(tmp_path / "a/tumor.nii.gz"), "--zone", str(tmp_path / "a/zone.nii.gz"),
         "--json", str(tmp_path / "r.json"), "--export", str(tmp_path / "exp")]
    )  # fmt: skip
    assert run_command(args) == 0
    out = capsys.readouterr().out
    assert "min margin +" in out and "LPS" in out
    assert (tmp_path / "exp" / "tumor.vtp").exists() and (tmp_path / "exp" / "zone.seg.nrrd").exists()
