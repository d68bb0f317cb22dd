"""Three-probe margin at 0.5 mm on a 256^3 grid: exact path vs a naive voxel pipeline vs the edt voxel path.

Case: examples/three_probes.toml (three IceRod ice balls, 20 x 18 x 22 mm lesion). Reference value: the exact
path, which tests/test_margin_exact.py checks against the brute-force reference to <= 0.02 mm on this geometry
family. Errors are reported as (method - reference); voxel methods overestimate (the unsafe direction).
"""

import numpy as np
import pytest
from scipy import ndimage

from ablasim import Grid, measure_margin
from ablasim.scenario.parse import load_scenario
from benchmarks.conftest import record
from conftest import EXAMPLES

GROUP = "three-probe margin, 0.5 mm, 256^3"


@pytest.fixture(scope="module")
def case():
    sc = load_scenario(EXAMPLES / "three_probes.toml")
    tumor = sc.tumors[0].shape
    zones = sc.zone()
    center = tumor.center_mm
    grid = Grid((256, 256, 256), 0.5, center - 0.5 * 127.5)
    exact = measure_margin(tumor, zones)  # warms the kernels too
    measure_margin(tumor, zones, grid=grid, method="voxel")
    return tumor, zones, grid, exact.min_margin_mm


def naive_pipeline(tumor, zones, grid):
    """numpy rasterisation of every shape on the full grid, scipy EDT, sampled at tumour boundary voxels."""
    idx = np.indices(grid.shape, dtype=np.float64).reshape(3, -1).T
    world = grid.index_to_world(idx)
    del idx

    def inside(e):
        y = (world - e.center_mm) @ e.rotation / e.semi_axes_mm
        return (np.einsum("ij,ij->i", y, y) <= 1.0).reshape(grid.shape)

    t = inside(tumor)
    z = np.zeros(grid.shape, dtype=bool)
    for e in zones:
        z |= inside(e)
    boundary = t & ~ndimage.binary_erosion(t)
    if np.all(z[t]):  # covered: the inside distance transform is enough
        sd = ndimage.distance_transform_edt(z, sampling=grid.spacing_mm)
    else:  # protruding: the outside one too, for the signed margin
        sd = np.where(
            z,
            ndimage.distance_transform_edt(z, sampling=grid.spacing_mm),
            -ndimage.distance_transform_edt(~z, sampling=grid.spacing_mm),
        )
    return float(sd[boundary].min()), float(np.count_nonzero(t & z) / np.count_nonzero(t))


def test_naive_voxel_pipeline(benchmark, case):
    tumor, zones, grid, ref = case
    margin, _coverage = benchmark.pedantic(naive_pipeline, args=(tumor, zones, grid), rounds=3, iterations=1)
    record(benchmark, GROUP, "naive numpy + scipy EDT", baseline=True, error_mm=margin - ref)
    assert 0.0 <= margin - ref <= grid.voxel_diagonal_mm


def test_edt_voxel_path(benchmark, case):
    tumor, zones, grid, ref = case
    res = benchmark.pedantic(
        measure_margin, args=(tumor, zones), kwargs=dict(grid=grid, method="voxel"), rounds=5, iterations=1
    )
    record(benchmark, GROUP, "ablasim voxel path (edt, cropped)", error_mm=res.min_margin_mm - ref)
    assert 0.0 <= res.min_margin_mm - ref <= res.error_bound_mm


def test_exact_path(benchmark, case):
    tumor, zones, _grid, ref = case
    res = benchmark.pedantic(measure_margin, args=(tumor, zones), rounds=20, iterations=1, warmup_rounds=1)
    record(benchmark, GROUP, "ablasim exact path", error_mm=res.min_margin_mm - ref, error_bound_mm=res.error_bound_mm)
    assert res.min_margin_mm == ref
