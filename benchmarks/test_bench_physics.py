"""Bioheat kernels on 128^3: voxel updates per second beside the memory bandwidth measured in the same run.

Groups (pytest-benchmark; ``make bench``):
  * "STREAM triad": ``a = b + s c`` on three float64 arrays of 2^24 (384 MiB, far beyond the 32 MiB L3), numba
    with the same threads as the kernels. Bandwidth = 24 B x n / best time (STREAM's count, no write-allocate).
  * "Pennes stencil, 128^3": the linear variable-coefficient step (pennes_step) vs numpy. Bytes per voxel update
    assumed: read T and the three face-conductance arrays, write T_new = 5 x 8 = 40 B.
  * "phase-change step, 128^3": the fused enthalpy step (enthalpy_step) vs numpy. Bytes per voxel update: read T
    and H, write H and T_new = 4 x 8 = 32 B in double precision, 16 B in single. Neighbour reads are assumed to
    come from cache (one read of T per voxel). Beside it, the general step with the perfusion response
    (enthalpy_step_general: also reads the lowest temperature reached, 20 B in single), which perfused tissues
    with stasis after freezing use.
  * "10-5-10, one probe, 1 mm, 128^3": the whole simulate() call in liver, double and single precision.
Achieved fraction of bandwidth = bytes per update x updates / best time / triad bandwidth. Timings are the best
of the rounds (the machine is shared). With ``--benchmark-disable`` (``make test``) each body runs once: the
kernels are checked against numpy and the protocol case runs a 0.5 min protocol instead of 25 min.

Standalone report, interleaving every kernel with the triad so that both see the same machine state:
``.venv/bin/python -m benchmarks.test_bench_physics [--protocol]``.
"""

import sys
import time

import numba
import numpy as np
import pytest

from ablasim import Grid
from ablasim._jit import kernel
from ablasim.physics import BioheatSolver, Cryoprobe, simulate
from ablasim.physics import _stencils as K
from benchmarks.conftest import record
from physics.reference import naive

N = 128
TRIAD_N = 2**24
BYTES_PER_UPDATE = {"pennes": 40, "double": 32, "single": 16, "general": 20}
_BANDWIDTH = {}


@kernel(entry=True, parallel=True)
def triad(a, b, c, s):
    for i in numba.prange(a.size):
        a[i] = b[i] + s * c[i]


def triad_arrays():
    return np.zeros(TRIAD_N), np.ones(TRIAD_N), np.full(TRIAD_N, 2.0)


def step_case(kind):
    """Solver state on 128^3 with an ice ball in the middle (frozen, mushy and unfrozen voxels all present)."""
    grid = Grid((N, N, N), 1.0, origin_mm=[-63.5] * 3)
    precision = "single" if kind == "single" else "double"
    solver = BioheatSolver(grid, "liver", precision=precision, phase_change=kind != "pennes")
    x = np.arange(-64.5, 65.0)
    r = np.sqrt(x[:, None, None] ** 2 + x[None, :, None] ** 2 + x[None, None, :] ** 2)
    T = np.clip(-150.0 + 187.0 * r / 40.0, -150.0, 37.0)
    c = solver._coefficients(solver.dt_s)
    if kind == "pennes":
        T = np.maximum(T, 20.0)  # linear mode: unfrozen
        return solver, (T.astype(solver._dtype), T.astype(solver._dtype), *solver._G, c)
    H = solver.tissue.enthalpy_j_per_m3(T).astype(solver._dtype)
    T = solver.tissue.temperature_c(H).astype(solver._dtype)
    return solver, (H, T, T.copy(), c)


def _best(benchmark):
    stats = getattr(benchmark, "stats", None)
    return None if stats is None else stats.stats.min


def _report(benchmark, group, name, kind, baseline=False):
    best = _best(benchmark)
    if best is None:
        return
    rate = N**3 / best
    extra = {"voxel_updates_per_s": rate, "bytes_per_update": BYTES_PER_UPDATE[kind]}
    if "bw" in _BANDWIDTH and not baseline:
        extra["bandwidth_fraction"] = rate * BYTES_PER_UPDATE[kind] / _BANDWIDTH["bw"]
    record(benchmark, group, name, baseline=baseline, **extra)


def test_stream_triad(benchmark):
    a, b, c = triad_arrays()
    triad(a, b, c, 3.0)
    benchmark.pedantic(triad, args=(a, b, c, 3.0), rounds=20, iterations=1, warmup_rounds=2)
    assert a[0] == 7.0
    best = _best(benchmark)
    if best is not None:
        _BANDWIDTH["bw"] = 24 * TRIAD_N / best
        record(
            benchmark,
            "STREAM triad",
            f"numba triad, {numba.get_num_threads()} threads",
            bandwidth_gb_per_s=_BANDWIDTH["bw"] / 1e9,
        )


def test_pennes_step_numpy(benchmark):
    _, (T, Tn, gx, gy, gz, c) = step_case("pennes")
    benchmark.pedantic(naive.pennes_step, args=(T, Tn, gx, gy, gz, c), rounds=3, iterations=1)
    _report(benchmark, "Pennes stencil, 128^3", "numpy", "pennes", baseline=True)


def test_pennes_step_numba(benchmark):
    _, (T, Tn, gx, gy, gz, c) = step_case("pennes")
    K.pennes_step(T, Tn, gx, gy, gz, c)
    benchmark.pedantic(K.pennes_step, args=(T, Tn, gx, gy, gz, c), rounds=30, iterations=1, warmup_rounds=2)
    ref = Tn.copy()
    naive.pennes_step(T, ref, gx, gy, gz, c)
    assert np.allclose(Tn, ref, rtol=1e-13, atol=1e-11)
    _report(benchmark, "Pennes stencil, 128^3", f"numba, {numba.get_num_threads()} threads", "pennes")


def test_enthalpy_step_numpy(benchmark):
    _, (H, T, Tn, c) = step_case("double")
    benchmark.pedantic(naive.enthalpy_step, args=(H, T, Tn, c), rounds=3, iterations=1)
    _report(benchmark, "phase-change step, 128^3", "numpy", "double", baseline=True)


@pytest.mark.parametrize("precision", ["double", "single"])
def test_enthalpy_step_numba(benchmark, precision):
    _, (H, T, Tn, c) = step_case(precision)
    H0 = H.copy()
    K.enthalpy_step(H, T, Tn, c)
    benchmark.pedantic(K.enthalpy_step, args=(H, T, Tn, c), rounds=30, iterations=1, warmup_rounds=2)
    H_ref, Tn_ref = H0.astype(np.float64), np.empty(H.shape)
    naive.enthalpy_step(H_ref, T.astype(np.float64), Tn_ref, c)
    once = H0.copy()
    K.enthalpy_step(once, T, Tn, c)
    tol = 1e-12 if precision == "double" else 2e-5
    assert np.allclose(once, H_ref, rtol=0, atol=tol * np.abs(H_ref).max())
    _report(benchmark, "phase-change step, 128^3", f"numba {precision}, {numba.get_num_threads()} threads", precision)


def test_enthalpy_step_general_numba(benchmark):
    # single precision, liver with stasis after freezing (the default); Tmin: the current field, so the check
    # below compares with the numpy step of the same perfusion factor
    solver, (H, T, Tn, c) = step_case("single")
    assert solver.tissue.has_perfusion_response
    Tmin = np.ascontiguousarray(T[1:-1, 1:-1, 1:-1])
    H0 = H.copy()
    K.enthalpy_step_general(H, T, Tn, Tmin, c)
    benchmark.pedantic(K.enthalpy_step_general, args=(H, T, Tn, Tmin, c), rounds=30, iterations=1, warmup_rounds=2)
    H_ref, Tn_ref = H0.astype(np.float64), np.empty(H.shape)
    naive.enthalpy_step(H_ref, T.astype(np.float64), Tn_ref, c, solver.tissue, Tmin.astype(np.float64))
    once = H0.copy()
    K.enthalpy_step_general(once, T, Tn, Tmin, c)
    assert np.allclose(once, H_ref, rtol=0, atol=2e-5 * np.abs(H_ref).max())
    _report(benchmark, "phase-change step, 128^3", f"numba general, {numba.get_num_threads()} threads", "general")


def protocol_case(precision, protocol="10-5-10"):
    grid = Grid((N, N, N), 1.0, origin_mm=[-63.5] * 3)
    probe = Cryoprobe([0.3, -0.2, 12.0], [0, 0, 1], active_length_mm=22.0)
    return lambda: simulate(grid, "liver", probe, protocol, precision=precision)


@pytest.mark.parametrize("precision", ["double", "single"])
def test_protocol_10_5_10_on_128_cubed(benchmark, precision):
    protocol = "0.2-0.1-0.2" if benchmark.disabled else "10-5-10"
    result = benchmark.pedantic(protocol_case(precision, protocol), rounds=1, iterations=1)
    assert result.isotherm(0).final.volume_mm3 > 0
    best = _best(benchmark)
    if best is not None:
        record(
            benchmark,
            "10-5-10, one probe, 1 mm, 128^3",
            f"simulate, {precision}",
            wall_s=best,
            steps=result.steps,
            voxel_updates_per_s=result.steps * N**3 / best,
        )


def _interleaved(cases, seconds):
    for _, fn, args in cases:
        fn(*args)
    best = {name: np.inf for name, _, _ in cases}
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        for name, fn, args in cases:
            t = time.perf_counter()
            fn(*args)
            best[name] = min(best[name], time.perf_counter() - t)
    return best


def main(argv):
    """Print voxel updates per second and the achieved fraction of the triad bandwidth (best of an interleaved
    run), then optionally time the 10-5-10 protocol."""
    print(f"threads: {numba.get_num_threads()}  grid: {N}^3")
    cases = [("triad", triad, (*triad_arrays(), 3.0))]
    for kind, fn in (("pennes", K.pennes_step), ("double", K.enthalpy_step), ("single", K.enthalpy_step)):
        cases.append((kind, fn, step_case(kind)[1]))
    H, T, Tn, c = step_case("single")[1]
    cases.append(("general", K.enthalpy_step_general, (H, T, Tn, np.ascontiguousarray(T[1:-1, 1:-1, 1:-1]), c)))
    best = _interleaved(cases, seconds=20.0)
    bw = 24 * TRIAD_N / best["triad"]
    print(f"triad bandwidth: {bw / 1e9:.1f} GB/s")
    for kind in ("pennes", "double", "single", "general"):
        rate = N**3 / best[kind]
        label = "Pennes stencil (linear)" if kind == "pennes" else f"phase-change step ({kind})"
        print(
            f"{label:30s} {best[kind] * 1e3:7.2f} ms  {rate / 1e9:5.2f} Gvox/s  {BYTES_PER_UPDATE[kind]:2d} B/update"
            f"  {rate * BYTES_PER_UPDATE[kind] / 1e9:5.1f} GB/s  {rate * BYTES_PER_UPDATE[kind] / bw:6.1%} of triad"
        )
    if "--protocol" in argv:
        for precision in ("double", "single"):
            run = protocol_case(precision)
            t = time.perf_counter()
            res = run()
            wall = time.perf_counter() - t
            print(
                f"10-5-10 on 128^3 at 1 mm ({precision}): {wall:.1f} s, {res.steps} steps, dt {res.dt_s:.4f} s, "
                f"{res.steps * N**3 / wall / 1e9:.2f} Gvox/s"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
