"""The numba kernels against their numpy twins (tests/physics/reference/naive.py) on random fields."""

import numpy as np
import pytest

from ablasim import Grid
from ablasim.physics import BioheatSolver, Tissue
from ablasim.physics import _advance as A
from ablasim.physics import _stencils as K
from physics.reference import naive

SHAPE = (9, 11, 13)  # padded: 7 x 9 x 11 interior


def _random_state(tissue, rng, dtype):
    T = rng.uniform(-60.0, 40.0, SHAPE)
    T[rng.random(SHAPE) < 0.2] = rng.uniform(tissue.solidus_c, tissue.liquidus_c)  # some mushy voxels
    H = tissue.enthalpy_j_per_m3(T)
    return H.astype(dtype), tissue.temperature_c(H).astype(dtype)


@pytest.mark.parametrize("precision, rtol", [("double", 1e-12), ("single", 2e-5)])
@pytest.mark.parametrize("parallel", [True, False])
def test_enthalpy_step_matches_numpy(precision, rtol, parallel):
    rng = np.random.default_rng(7)
    tissue = Tissue.from_name("liver", metabolic_heat_w_per_m3=5e4)
    solver = BioheatSolver(Grid((7, 9, 11), (0.7, 1.0, 1.3)), tissue, precision=precision)
    c = solver._coefficients(solver.dt_s)
    H, T = _random_state(tissue, rng, solver._dtype)
    H_ref, Tn_ref = H.astype(np.float64), T.astype(np.float64)
    naive.enthalpy_step(H_ref, T.astype(np.float64), Tn_ref, c)
    Tn = T.copy()
    (K.enthalpy_step if parallel else K.enthalpy_step_serial)(H, T, Tn, c)
    scale = np.abs(H_ref).max()
    assert np.allclose(H, H_ref, rtol=0, atol=rtol * scale)
    assert np.allclose(Tn, Tn_ref, rtol=0, atol=rtol * scale / tissue.c_frozen_j_per_m3_k)
    assert np.array_equal(Tn[0], T[0])  # ghosts untouched


@pytest.mark.parametrize("precision, rtol", [("double", 1e-12), ("single", 2e-5)])
@pytest.mark.parametrize("parallel", [True, False])
@pytest.mark.parametrize("stasis", [True, False])
def test_perfusion_response_step_matches_numpy(precision, rtol, parallel, stasis):
    # the general kernel against the numpy step with Tissue.perfusion_factor: a three-piece curve and, with
    # stasis, the liquid fraction at the lowest temperature reached (random, at or below the current one)
    rng = np.random.default_rng(11)
    curve = ((-1.0, 0.0), (5.0, 0.2), (15.0, 0.7), (30.0, 1.0))
    tissue = Tissue.from_name("kidney", metabolic_heat_w_per_m3=5e4).replace(
        perfusion_curve=curve, stasis_after_freezing=stasis
    )
    solver = BioheatSolver(Grid((7, 9, 11), (0.7, 1.0, 1.3)), tissue, precision=precision)
    c = solver._coefficients(solver.dt_s)
    H, T = _random_state(tissue, rng, solver._dtype)
    H0 = H.copy()
    Tmin = (T[1:-1, 1:-1, 1:-1] - rng.uniform(0.0, 30.0, (7, 9, 11))).astype(solver._dtype)
    H_ref, Tn_ref = H.astype(np.float64), T.astype(np.float64)
    naive.enthalpy_step(H_ref, T.astype(np.float64), Tn_ref, c, tissue, Tmin.astype(np.float64))
    Tn = T.copy()
    (K.enthalpy_step_general if parallel else K.enthalpy_step_general_serial)(H, T, Tn, Tmin, c)
    scale = np.abs(H_ref).max()
    assert np.allclose(H, H_ref, rtol=0, atol=rtol * scale)
    assert np.allclose(Tn, Tn_ref, rtol=0, atol=rtol * scale / tissue.c_frozen_j_per_m3_k)
    if stasis:  # the stasis kernel (no curve) against the same numpy step without the curve
        plain = tissue.replace(perfusion_curve=())
        W = np.zeros(SHAPE, solver._dtype)
        W[1:-1, 1:-1, 1:-1] = plain.liquid_fraction(Tmin.astype(np.float64))
        H2, Tn2 = H0.copy(), T.copy()
        (K.enthalpy_step_stasis if parallel else K.enthalpy_step_stasis_serial)(H2, T, Tn2, W, c)
        H2_ref = H0.astype(np.float64)
        naive.enthalpy_step(H2_ref, T.astype(np.float64), T.astype(np.float64), c, plain, Tmin.astype(np.float64))
        assert np.allclose(H2, H2_ref, rtol=0, atol=rtol * scale)
    # the response matters here: the plain step differs from it by far more than the tolerance
    H_plain = H_ref.copy()
    naive.enthalpy_step(H_plain, T.astype(np.float64), Tn_ref.copy(), c)
    assert not np.allclose(H_plain, H_ref, rtol=0, atol=100 * rtol * scale)


@pytest.mark.parametrize("parallel", [True, False])
def test_pennes_step_matches_numpy(parallel):
    rng = np.random.default_rng(3)
    k = rng.uniform(0.2, 0.6, (7, 9, 11))
    solver = BioheatSolver(
        Grid((7, 9, 11), (0.7, 1.0, 1.3)),
        "muscle",
        phase_change=False,
        precision="double",
        conductivity_w_per_m_k=k,
        boundary=("adiabatic", "fixed") * 3,
    )
    c = solver._coefficients(solver.dt_s)
    T = rng.uniform(20.0, 45.0, SHAPE)
    Tn, Tn_ref = T.copy(), T.copy()
    naive.pennes_step(T, Tn_ref, *solver._G, c)
    (K.pennes_step if parallel else K.pennes_step_serial)(T, Tn, *solver._G, c)
    assert np.allclose(Tn, Tn_ref, rtol=1e-13, atol=1e-12)
    # adiabatic low faces: the conductance to the ghost is zero; fixed high faces: k / h^2 (harmonic of equals)
    assert np.all(solver._G[0][0] == 0) and np.allclose(solver._G[0][-2, 1:-1, 1:-1], k[-1] / 0.7e-3**2)


def test_adiabatic_faces_mirror_the_ghosts_and_the_tracker_finds_nan_enthalpy():
    T = np.arange(np.prod(SHAPE), dtype=float).reshape(SHAPE)
    closed = np.array([True, False, False, True, True, False])
    A.mirror_ghosts(T, closed)
    assert np.array_equal(T[0], T[1]) and np.array_equal(T[:, -1], T[:, -2]) and np.array_equal(T[..., 0], T[..., 1])
    assert not np.array_equal(T[-1], T[-2])
    Tmin = np.full((7, 9, 11), 100.0)
    H = np.zeros(SHAPE)
    H[3, 4, 5] = np.nan  # T may look finite while H is not (min/max clamps can hide a NaN)
    assert A.track_minimum(Tmin, T, H) == 1 and A.track_minimum_serial(Tmin, T, H) == 1
    assert np.array_equal(Tmin, np.minimum(100.0, T[1:-1, 1:-1, 1:-1]))
