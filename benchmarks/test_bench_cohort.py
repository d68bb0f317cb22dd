"""Cohort throughput with analytic zones: serial vs a 2-worker LocalCluster, and a 100 000-case cohort.

Cases: the test cohort of tests/cohorts/conftest.py (lognormal sizes 6-50 mm, 1-3 IceRod probes, every
uncertainty source on), and examples/cohort_liver.toml (sizes 3-78 mm, 1-6 probes). Throughput is reported in
cases per second (``extra_info``); no timing is asserted. The workers load the compiled kernels from the cache
(the fixture runs a few cases in each first, as the command line compiles them before it starts its cluster).
With ``--benchmark-disable`` (CI) the large cohorts shrink so the suite stays short.
"""

import logging
import tomllib

import pytest

from ablasim.workflows.cohorts import parse_cohort_spec, run_chunk, run_cohort
from benchmarks.conftest import record
from cohorts.conftest import DOC
from conftest import EXAMPLES

GROUP = "cohort throughput, analytic zones"


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    )
    c = Client(cluster)
    c.run(run_chunk, parse_cohort_spec({**DOC, "n_cases": 8}), 0, 8)  # load the kernels in each worker
    yield c
    c.close()
    cluster.close()


N = 2000  # the same cases for both, so the ratio column is the speed-up


def test_serial(benchmark):
    spec = parse_cohort_spec({**DOC, "n_cases": N, "chunk_size": 100})
    run_chunk(spec, 0, 10)
    res = benchmark.pedantic(run_cohort, args=(spec,), rounds=3, iterations=1)
    assert res.n_cases == N
    if benchmark.stats:
        record(benchmark, GROUP, f"in-process, {N} cases", baseline=True, cases_per_s=N / benchmark.stats.stats.median)


def test_local_cluster(benchmark, client):
    spec = parse_cohort_spec({**DOC, "n_cases": N, "chunk_size": 100})
    res = benchmark.pedantic(run_cohort, args=(spec, client), rounds=3, iterations=1)
    assert res.n_cases == N
    if benchmark.stats:
        record(benchmark, GROUP, f"LocalCluster 2 workers, {N} cases", cases_per_s=N / benchmark.stats.stats.median)


def test_large_cohort(benchmark, client, tmp_path):
    n = 2_000 if benchmark.disabled else 100_000
    spec = parse_cohort_spec({**DOC, "n_cases": n, "chunk_size": 250})
    res = benchmark.pedantic(
        run_cohort, args=(spec, client), kwargs={"out": tmp_path / "big.parquet"}, rounds=1, iterations=1
    )
    assert res.n_cases == n
    if benchmark.stats:
        record(
            benchmark,
            f"{n}-case cohort, LocalCluster 2 workers, checkpointed",
            "run",
            cases=n,
            seconds=benchmark.stats.stats.median,
            cases_per_s=n / benchmark.stats.stats.median,
        )


LIVER_GROUP = "cohort throughput, examples/cohort_liver.toml"


def _liver(benchmark):
    doc = tomllib.loads((EXAMPLES / "cohort_liver.toml").read_text())
    return parse_cohort_spec({**doc, "n_cases": 400 if benchmark.disabled else doc["n_cases"]})


def test_liver_in_process(benchmark):
    spec = _liver(benchmark)
    run_chunk(spec, 0, 50)
    res = benchmark.pedantic(run_cohort, args=(spec,), rounds=3, iterations=1)
    if benchmark.stats:
        n = res.n_cases
        record(
            benchmark,
            LIVER_GROUP,
            f"in-process, {n} cases",
            baseline=True,
            cases_per_s=n / benchmark.stats.stats.median,
        )


def test_liver_local_cluster(benchmark, client):
    spec = _liver(benchmark)
    client.run(run_chunk, spec, 0, 20)  # the liver cases' kernels (up to 6 probes) in each worker
    res = benchmark.pedantic(run_cohort, args=(spec, client), rounds=3, iterations=1)
    if benchmark.stats:
        n = res.n_cases
        record(
            benchmark, LIVER_GROUP, f"LocalCluster 2 workers, {n} cases", cases_per_s=n / benchmark.stats.stats.median
        )
