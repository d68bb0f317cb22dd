"""Grid: index <-> world, anisotropic spacing, direction matrices, memory checks."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from ablasim import Grid, GridTooLargeError, ValidationError


def test_index_world_round_trip_with_direction_and_anisotropy():
    rot = Rotation.from_euler("xyz", [10, 20, 30], degrees=True).as_matrix()
    g = Grid((10, 20, 30), (0.7, 0.7, 2.5), (1.0, -2.0, 3.0), rot)
    idx = np.random.default_rng(0).uniform(0, 10, (50, 3))
    assert np.allclose(g.world_to_index(g.index_to_world(idx)), idx)
    # one step along axis k moves spacing[k] mm along column k of the direction matrix
    step = g.index_to_world([0, 0, 1]) - g.index_to_world([0, 0, 0])
    assert np.allclose(step, 2.5 * rot[:, 2])
    assert np.allclose(g.affine[:3, :3], rot * [0.7, 0.7, 2.5])


def test_reflection_direction_allowed():
    g = Grid((2, 2, 2), 1.0, direction=np.diag([-1.0, -1.0, 1.0]))  # LPS-style flip
    assert np.allclose(g.index_to_world([1, 1, 1]), [-1, -1, 1])


def test_covering_grid_contains_box():
    rot = Rotation.from_euler("z", 30, degrees=True).as_matrix()
    g = Grid.covering([-5, -6, -7], [5, 6, 7], (0.5, 1.0, 2.0), padding_mm=1.0, direction=rot)
    corners = np.array([[x, y, z] for x in (-6, 6) for y in (-7, 7) for z in (-8, 8)])
    idx = g.world_to_index(corners)
    assert np.all(idx >= -1e-9) and np.all(idx <= np.asarray(g.shape) - 1 + 1e-9)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(shape=(0, 2, 2)), "grid.shape"),
        (dict(shape=(2, 2)), "grid.shape"),
        (dict(shape=(2, 2, 2), spacing_mm=(1, 0, 1)), "grid.spacing_mm"),
        (dict(shape=(2, 2, 2), spacing_mm=(1, np.nan, 1)), "grid.spacing_mm"),
        (dict(shape=(2, 2, 2), origin_mm=(0, np.inf, 0)), "grid.origin_mm"),
        (dict(shape=(2, 2, 2), direction=np.ones((3, 3))), "grid.direction"),
    ],
)
def test_bad_grid_input_names_the_field(kwargs, field):
    with pytest.raises(ValidationError) as err:
        Grid(**kwargs)
    assert err.value.field == field
    assert field in str(err.value)


def test_memory_check_raises_before_allocating():
    g = Grid((100_000, 100_000, 100_000), 0.1)
    with pytest.raises(GridTooLargeError) as err:
        g.check_fits(1, "a boolean mask")
    assert "grid.shape=(100000, 100000, 100000)" in str(err.value)
    assert isinstance(err.value, MemoryError)
