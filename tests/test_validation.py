"""Bad input: a clear ablasim error naming the field and value, raised before any numba kernel runs."""

import math

import numpy as np
import pytest

import ablasim
from ablasim import (
    AblasimError,
    CapsuleExclusion,
    Ellipsoid,
    Grid,
    GridTooLargeError,
    Mask,
    ValidationError,
    measure_margin,
)
from ablasim.probes import Probe


class KernelCalled(Exception):
    pass


@pytest.fixture
def no_kernels(monkeypatch):
    """Every kernel entry point raises if called (and edt too): validation must fail first."""
    import edt

    import ablasim.geometry._kernels.ellipsoid as ek
    import ablasim.metrics.coverage as cov
    import ablasim.metrics.exact as ex

    def boom(*args, **kwargs):
        raise KernelCalled

    for mod, names in [
        (ek, ["rasterize", "signed_distance_many"]),
        (ex, ["covered_search", "uncovered_search", "interior_search", "margin_map"]),
        (cov, ["_coverage_kernel"]),
        (edt, ["edt"]),
    ]:
        for name in names:
            monkeypatch.setattr(mod, name, boom)


T = Ellipsoid.sphere([0, 0, 0], 5.0)
Z = Ellipsoid.sphere([0, 0, 0], 9.0)


@pytest.mark.parametrize(
    "make, field",
    [
        (lambda: Ellipsoid([0, math.nan, 0], [1, 2, 3]), "center_mm"),
        (lambda: Ellipsoid([0, 0, 0], [1, -2, 3]), "semi_axes_mm"),
        (lambda: Ellipsoid([0, 0, 0], [1, 0, 3]), "semi_axes_mm"),
        (lambda: Ellipsoid([0, 0, 0], [1, math.inf, 3]), "semi_axes_mm"),
        (lambda: Ellipsoid.sphere([0, 0, 0], -1.0), "radius_mm"),
        (lambda: Ellipsoid([0, 0, 0], [1, 2, 3], np.diag([1.0, 1.0, -1.0])), "rotation"),
        (lambda: Grid((10, 10, 10), (1.0, 0.0, 1.0)), "grid.spacing_mm"),
        (lambda: Probe([0, 0, 0], [0, 0, 0], "IceRod"), "probe.direction"),
        (lambda: Probe([0, 0, 0], [0, math.nan, 1], "IceRod"), "probe.direction"),
        (lambda: Probe([0, 0, 0], [0, 0, 1], "NoSuchProbe").zone(), "probe model"),
        (lambda: measure_margin(T, Z, resolution_mm=math.nan), "resolution_mm"),
        (lambda: measure_margin(T, Z, resolution_mm=0.0), "resolution_mm"),
        (lambda: measure_margin(T, Z, method="fast"), "method"),
        (lambda: measure_margin(T, [], method="exact"), "zone"),
        (lambda: measure_margin(T, [Z, "x"]), "zone[1]"),
        (lambda: measure_margin("tumour", Z), "tumor"),
        (lambda: measure_margin(T, Z, method="voxel"), "grid"),
        (lambda: CapsuleExclusion(Z, -1.0), "exclude.distance_mm"),
        (lambda: measure_margin(T, Z, exclude=(Z, 2.0)), "exclude"),
    ],
)
def test_bad_input_is_refused_before_any_kernel(no_kernels, make, field):
    with pytest.raises(ValidationError) as err:
        make()
    assert err.value.field == field
    assert str(err.value).startswith(field)


def test_unknown_probe_model_lists_the_choices():
    with pytest.raises(ablasim.UnknownNameError) as err:
        Probe([0, 0, 0], [0, 0, 1], "IceRd").zone()
    assert "IceRod" in str(err.value) and "IceSeed" in str(err.value)


def test_grid_too_large_for_memory(no_kernels):
    # 2 micrometre voxels: even the crop around the tumour (2 x 5 mm + padding) needs terabytes.
    huge = Grid.covering([-12] * 3, [12] * 3, 0.002)
    with pytest.raises(GridTooLargeError) as err:
        measure_margin(T, Z, grid=huge, method="voxel")
    assert str(err.value).startswith("grid.shape=(")
    assert "GiB" in str(err.value)
    with pytest.raises(GridTooLargeError) as err:
        T.to_mask(huge)
    assert f"grid.shape={huge.shape}" in str(err.value)


def test_empty_masks_are_refused(no_kernels):
    g = Grid((8, 8, 8), 1.0)
    with pytest.raises(ValidationError, match="empty"):
        measure_margin(Mask(np.zeros(g.shape, bool), g), Z)


def test_mask_shape_must_match_grid():
    with pytest.raises(ValidationError) as err:
        Mask(np.zeros((3, 3, 3), bool), Grid((4, 4, 4), 1.0))
    assert err.value.field == "mask.array"


def test_every_error_is_an_ablasim_error():
    for exc in (
        ValidationError("f", 1, "x"),
        GridTooLargeError("f", (1, 1, 1), 2, 1, "y"),
        ablasim.ScenarioError("z"),
        ablasim.UnknownNameError("f", "v", ["a"]),
    ):
        assert isinstance(exc, AblasimError)
