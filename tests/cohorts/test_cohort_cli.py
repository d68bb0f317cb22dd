"""``ablasim cohort`` and ``ablasim run --samples`` as a user runs them."""

import json
import signal
import subprocess
import sys
from pathlib import Path

from ablasim.cli import main
from ablasim.workflows.cohorts import load_cohort_spec, read_table, run_cohort
from conftest import EXAMPLES

from .conftest import assert_identical
from .gate import wait_for

GATE = Path(__file__).with_name("gate.py")

SPEC = """
name = "cli"
seed = 5
n_cases = {n}
chunk_size = {chunk}
[tumor]
diameter_mm = {{ distribution = "uniform", min = 10.0, max = 30.0 }}
[[strategy]]
model = "IceRod"
n_probes = 2
spacing_mm = 12.0
[uncertainty]
registration_shift_sd_mm = 1.0
"""


def _spec(tmp_path, n=40, chunk=5):
    p = tmp_path / "spec.toml"
    p.write_text(SPEC.format(n=n, chunk=chunk))
    return p


def test_cohort_in_process(tmp_path, capsys):
    spec = _spec(tmp_path)
    out = tmp_path / "r.csv"
    summary = tmp_path / "s.json"
    png = tmp_path / "eff.png"
    assert (
        main(
            [
                "cohort",
                str(spec),
                "--out",
                str(out),
                "--in-process",
                "--quiet",
                "--summary",
                str(summary),
                "--plot",
                str(png),
            ]
        )
        == 0
    )
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = capsys.readouterr().out
    assert "40 cases" in text and "P(margin >= 0 mm)" in text and "no cases" in text  # no tumour >= 40 mm
    assert_identical(read_table(out), run_cohort(load_cohort_spec(spec)).table)
    assert json.loads(summary.read_text())["n_cases"] == 40


def test_a_malformed_spec_stops_before_any_work(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(SPEC.format(n=40, chunk=5).replace("max = 30.0", "max = 5.0"))
    proc = subprocess.run(
        [sys.executable, "-m", "ablasim.cli", "cohort", str(bad), "--out", str(tmp_path / "x.csv")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("ablasim: error:") and "tumor.diameter_mm.max" in proc.stderr
    assert not (tmp_path / "x.csv.parts").exists()  # no checkpoint, no cluster: nothing started


def test_ctrl_c_then_resume(tmp_path):
    # The run is stopped by the test, not by the clock: the gate lets exactly three chunks finish, then holds the
    # fourth until the SIGINT arrives (tests/cohorts/gate.py), so the outcome does not depend on machine speed.
    spec = _spec(tmp_path, n=400, chunk=4)
    out = tmp_path / "r.parquet"
    args = ["cohort", str(spec), "--out", str(out), "--in-process", "--quiet"]
    flags = tmp_path / "flags"
    flags.mkdir()
    proc = subprocess.Popen(
        [sys.executable, str(GATE), str(flags), "3", "--", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(flags / "paused-*", proc)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=600)
    finally:  # a failure here must not leave the run (and its pipes) behind for the next test
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130 and "run the same command again to resume" in err
    parts = Path(str(out) + ".parts")
    assert len(list(parts.glob("chunk_*.npz"))) == 3  # exactly the chunks finished before the interruption
    assert not out.exists()
    done = subprocess.run([sys.executable, "-m", "ablasim.cli", *args], capture_output=True, text=True)
    assert done.returncode == 0 and "97 chunks computed now" in done.stdout
    assert_identical(read_table(out), run_cohort(load_cohort_spec(spec)).table)


def test_run_with_samples(tmp_path, capsys):
    text = (EXAMPLES / "renal_metastasis.toml").read_text() + (
        "\n[uncertainty]\nregistration_shift_sd_mm = 1.0\nzone_scale_sd = 0.1\n"
    )
    sc = tmp_path / "renal.toml"
    sc.write_text(text)
    out = tmp_path / "r.json"
    assert main(["run", str(sc), "--samples", "100", "--seed", "2", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "100 sampled deliveries (seed 2)" in printed and "renal-6mm (>= 6 mm): P =" in printed
    (row,) = json.loads(out.read_text())["uncertainty"]
    assert row["n_samples"] == 100 and 0.0 < row["probability"] < 1.0
    assert main(["run", str(sc), "--samples", "0"]) == 2
