"""Cohorts on dask: bit-identical results on a local cluster, on a scheduler and a worker started as separate
processes, after a worker is killed mid-run, and after the whole run is killed and resumed."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ablasim.workflows.cohorts import parse_cohort_spec, read_table, run_cohort

from . import gate
from .conftest import DOC, assert_identical


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def local_client():
    import logging

    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    )
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_two_worker_local_cluster_is_bit_identical(spec, reference, local_client):
    res = run_cohort(spec, local_client)
    assert_identical(res.table, reference)


def test_killing_a_worker_loses_no_case(reference, local_client, tmp_path):
    spec = parse_cohort_spec({**DOC, "n_cases": 180, "chunk_size": 6})
    ref = run_cohort(spec).table
    flags = tmp_path / "flags"
    flags.mkdir()
    # Each worker runs one chunk, then holds its next one at the gate (tests/cohorts/gate.py): when the victim is
    # killed it provably holds an unfinished chunk, which dask must recompute elsewhere.
    pids = local_client.run(gate.install, str(flags), 1)
    victim = next(iter(pids.values()))
    killed = []

    def progress(done, total):
        if not killed and done > 0:
            gate.wait_for(flags / f"paused-{victim}")
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
            (flags / "release").touch()

    try:
        res = run_cohort(spec, local_client, out=tmp_path / "k.csv", progress=progress)
    finally:
        (flags / "release").touch()
        local_client.run(gate.uninstall)
    assert killed
    assert sorted(res.table["case"].tolist()) == list(range(180))  # none lost, none twice
    assert_identical(res.table, ref)


def test_scheduler_and_worker_as_separate_processes(spec, reference, tmp_path):
    from distributed import Client

    port = _free_port()
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    sched = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distributed.cli.dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-dashboard",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distributed.cli.dask_worker",
            f"tcp://127.0.0.1:{port}",
            "--nworkers",
            "1",
            "--nthreads",
            "1",
            "--no-dashboard",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        with Client(f"tcp://127.0.0.1:{port}", timeout="60s") as client:
            client.wait_for_workers(1, timeout=120)
            res = run_cohort(spec, client)
        assert_identical(res.table, reference)
    finally:
        for p in (worker, sched):
            p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


RUNNER = """
import sys, json
sys.path.insert(0, sys.argv[3])
import gate
gate.install(sys.argv[4], 5)
from ablasim.workflows.cohorts import parse_cohort_spec, run_cohort
spec = parse_cohort_spec(json.loads(sys.argv[1]))
run_cohort(spec, out=sys.argv[2])
"""


def test_a_killed_run_resumes_to_the_same_result(tmp_path):
    import json

    doc = {**DOC, "n_cases": 240, "chunk_size": 4}
    spec = parse_cohort_spec(doc)
    out = tmp_path / "resume.parquet"
    flags = tmp_path / "flags"
    flags.mkdir()
    # five chunks finish, the sixth is held at the gate until the SIGKILL (tests/cohorts/gate.py)
    proc = subprocess.Popen(
        [sys.executable, "-c", RUNNER, json.dumps(doc), str(out), str(Path(__file__).parent), str(flags)]
    )
    try:
        gate.wait_for(flags / "paused-*", proc)
    finally:
        proc.send_signal(signal.SIGKILL)  # killed mid-run, as by the OOM killer or a lost node
        proc.wait()
    parts = Path(str(out) + ".parts")
    done_before = len(list(parts.glob("chunk_*.npz")))
    assert done_before == 5
    # every checkpoint the killed run left is complete (written atomically); a half-written one would only exist
    # as a temporary file, which resumption ignores
    from ablasim.workflows.cohorts.store import CheckpointStore

    store = CheckpointStore(out, spec)
    for k in store.done():
        assert len(store.load(k)["case"]) == 4
    res = run_cohort(spec, out=out)
    assert res.computed_chunks == spec.n_chunks - done_before
    assert_identical(res.table, run_cohort(spec).table)
    assert_identical(read_table(out), res.table)
