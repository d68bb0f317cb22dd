"""Tissue table, overrides, the enthalpy formulation and the stable time step (closed forms)."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ablasim.errors import UnknownNameError, ValidationError
from ablasim.physics import STABILITY_SAFETY, Tissue, tissue_names
from ablasim.physics.tissue import _PROPERTIES


def test_bundled_tissues_have_a_source_for_every_property():
    assert {"liver", "kidney", "muscle", "fat", "gel"} <= set(tissue_names())
    for name in tissue_names():
        tissue = Tissue.from_name(name)
        assert set(tissue.sources) == set(_PROPERTIES)
        assert all(isinstance(s, str) and len(s) > 5 for s in tissue.sources.values())


def test_table_values_match_the_reference_products():
    # docs/references.md (tissue physics): liver k 0.52, rho 1079, c 3540 -> C = rho c; ice k 2.22, c 2090, rho 917.
    liver = Tissue.from_name("liver")
    assert liver.k_unfrozen_w_per_m_k == 0.52
    assert liver.c_unfrozen_j_per_m3_k == pytest.approx(1079 * 3540, rel=1e-4)
    gel = Tissue.from_name("gel")
    assert gel.c_frozen_j_per_m3_k == pytest.approx(2090 * 917, rel=1e-4)
    assert gel.perfusion_per_s == 0.0


def test_overrides_and_replace_are_validated_copies():
    liver = Tissue.from_name("liver")
    still = Tissue.from_name("liver", perfusion_per_s=0.0)
    assert still.perfusion_per_s == 0.0 and liver.perfusion_per_s > 0
    assert still.sources["perfusion_per_s"] == "override"
    assert liver.replace(latent_heat_j_per_m3=2.5e8).latent_heat_j_per_m3 == 2.5e8
    with pytest.raises(ValidationError, match="^tissue.k_frozen_w_per_m_k"):
        liver.replace(k_frozen_w_per_m_k=-2.0)


@pytest.mark.parametrize(
    "changes, field",
    [
        (dict(k_unfrozen_w_per_m_k=-0.5), "tissue.k_unfrozen_w_per_m_k"),
        (dict(k_unfrozen_w_per_m_k=0.0), "tissue.k_unfrozen_w_per_m_k"),
        (dict(c_frozen_j_per_m3_k=math.nan), "tissue.c_frozen_j_per_m3_k"),
        (dict(latent_heat_j_per_m3=-1.0), "tissue.latent_heat_j_per_m3"),
        (dict(perfusion_per_s=-0.01), "tissue.perfusion_per_s"),
        (dict(solidus_c=-1.0, liquidus_c=-8.0), "tissue.liquidus_c"),
        (dict(arterial_temperature_c=-5.0), "tissue.arterial_temperature_c"),
        (dict(metabolic_heat_w_per_m3="a lot"), "tissue.metabolic_heat_w_per_m3"),
    ],
)
def test_bad_properties_are_refused_naming_the_field(changes, field):
    with pytest.raises(ValidationError) as err:
        Tissue.from_name("kidney").replace(**changes)
    assert str(err.value).startswith(field)


def test_unknown_names_list_the_choices():
    with pytest.raises(UnknownNameError, match="liver") as err:
        Tissue.from_name("spleen")
    assert str(err.value).startswith("tissue='spleen'")
    with pytest.raises(UnknownNameError, match="perfusion_per_s"):
        Tissue.from_name("liver", perfusion=0.0)


def test_enthalpy_is_piecewise_linear_with_latent_heat_across_the_mushy_range():
    t = Tissue.from_name("liver")
    # H(T_s) = 0; H(T_l) - H(T_s) = L + mean C * range; slopes C_f below, C_u above (module docstring).
    assert t.enthalpy_j_per_m3(t.solidus_c) == 0.0
    assert t.enthalpy_j_per_m3(t.liquidus_c) == pytest.approx(
        t.latent_heat_j_per_m3 + 0.5 * (t.c_frozen_j_per_m3_k + t.c_unfrozen_j_per_m3_k) * t.mushy_range_c
    )
    assert t.enthalpy_j_per_m3(-50.0) - t.enthalpy_j_per_m3(-60.0) == pytest.approx(10 * t.c_frozen_j_per_m3_k)
    assert t.enthalpy_j_per_m3(37.0) - t.enthalpy_j_per_m3(27.0) == pytest.approx(10 * t.c_unfrozen_j_per_m3_k)
    assert t.liquid_fraction([-20.0, -4.5, 10.0]).tolist() == [0.0, 0.5, 1.0]
    assert t.conductivity_w_per_m_k(-4.5) == pytest.approx(0.5 * (t.k_frozen_w_per_m_k + t.k_unfrozen_w_per_m_k))


@given(st.floats(-196.0, 90.0))
def test_temperature_inverts_enthalpy(temperature):
    t = Tissue.from_name("muscle")
    assert float(t.temperature_c(t.enthalpy_j_per_m3(temperature))) == pytest.approx(temperature, abs=1e-9)


def test_stable_time_step_closed_form():
    # dt_max = min(C_f, C_u) / (2 k_max sum 1/h^2 + omega C_b); liver, h = (1, 1, 2) mm.
    t = Tissue.from_name("liver")
    h = np.array([1e-3, 1e-3, 2e-3])
    expected = 1.8e6 / (2 * 2.0 * np.sum(1 / h**2) + t.perfusion_per_s * 3.8e6)
    assert t.max_stable_dt_s((1, 1, 2)) == pytest.approx(expected, rel=1e-12)
    assert t.stable_dt_s((1, 1, 2)) == pytest.approx(STABILITY_SAFETY * expected, rel=1e-12)
    # ~h^2: liver perfusion (omega C_b = 2.4e4) is 0.2 % of the diffusion term 2 k sum 1/h^2 = 1.2e7 at 1 mm
    assert t.stable_dt_s(0.5) == pytest.approx(t.stable_dt_s(1.0) / 4, rel=5e-3)


def test_steady_temperature_balances_metabolism_and_perfusion():
    t = Tissue.from_name("liver", metabolic_heat_w_per_m3=30000.0)
    # omega C_b (T_a - T) + Q_m = 0
    assert t.steady_temperature_c == pytest.approx(37.0 + 30000.0 / (t.perfusion_per_s * 3.8e6))
    assert Tissue.from_name("gel").steady_temperature_c == 37.0
