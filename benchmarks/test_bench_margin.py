"""Margins: the exact path beside voxel pipelines, on the README's three-probe case and a QAM-like sphere suite.

* "three-probe margin, 0.5 mm, 256^3": examples/three_probes.toml (three IceRod ice balls, 20 x 18 x 22 mm lesion).
  Baseline: a naive voxel pipeline (numpy rasterisation of the full grid, scipy EDT). Contenders: a QAM-style
  pipeline (benchmarks/qam_baseline.py: EDT from the zone's border voxels read at the tumour's border voxels, on a
  crop around the tumour), the edt voxel path, and the exact path: its default call (the 1 mm surface map is
  computed when first used), the same with the map used, and without a map.
  Reference value: the exact path (tests/test_margin_exact.py checks it against the brute-force reference to its
  error bound + 1e-9 mm on this geometry family). Errors are (method - reference).
* "QAM-like spheres, 100^3 at 1 mm": 18 cases, tumour radius 6, 10 or 14 mm against a zone sphere concentric
  (+5, +10 mm), offset inside (3 mm), protruding (offset 7 with R = r + 5; offset 5 with R = r + 3) and disjoint.
  Analytic truth R - r - offset (the farthest or nearest points lie on the line of centres). Baseline: the
  QAM-style pipeline; contender: the exact path (default map).
"""

import numpy as np
import pytest
from scipy import ndimage

from ablasim import Ellipsoid, Grid, measure_margin
from ablasim.scenario.parse import load_scenario
from benchmarks.conftest import record
from benchmarks.qam_baseline import qam_margin
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
    qam_margin(tumor, zones, grid)
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


def test_qam_style_pipeline(benchmark, case):
    tumor, zones, grid, ref = case
    margin = benchmark.pedantic(qam_margin, args=(tumor, zones, grid), rounds=10, iterations=1)
    record(benchmark, GROUP, "QAM-style (border EDT, cropped)", error_mm=margin - ref)
    assert abs(margin - ref) <= grid.voxel_diagonal_mm


def test_edt_voxel_path(benchmark, case):
    tumor, zones, grid, ref = case
    res = benchmark.pedantic(
        measure_margin, args=(tumor, zones), kwargs=dict(grid=grid, method="voxel"), rounds=5, iterations=1
    )
    record(benchmark, GROUP, "ablasim voxel path (edt, cropped)", error_mm=res.min_margin_mm - ref)
    assert 0.0 <= res.min_margin_mm - ref <= res.error_bound_mm


def _default(tumor, zones):
    return measure_margin(tumor, zones)


def _with_map(tumor, zones):
    res = measure_margin(tumor, zones)
    res.margin_map.fraction_below(5.0)  # the README's next line: the 1 mm surface map is computed here
    return res


def _without_map(tumor, zones):
    return measure_margin(tumor, zones, map_resolution_mm=None)


@pytest.mark.parametrize(
    "name, call",
    [
        ("ablasim exact path (default: 1 mm map computed when first used)", _default),
        ("ablasim exact path, 1 mm map used", _with_map),
        ("ablasim exact path (no map)", _without_map),
    ],
    ids=["default", "map-used", "no-map"],
)
def test_exact_path(benchmark, case, name, call):
    tumor, zones, _grid, ref = case
    res = benchmark.pedantic(call, args=(tumor, zones), rounds=50, iterations=1, warmup_rounds=2)
    record(benchmark, GROUP, name, error_mm=res.min_margin_mm - ref, error_bound_mm=res.error_bound_mm)
    assert res.min_margin_mm == ref


SPHERES = [
    (r, big_r, offset)
    for r in (6.0, 10.0, 14.0)
    for big_r, offset in ((r + 5, 0.0), (r + 10, 0.0), (r + 5, 3.0), (r + 5, 7.0), (r + 3, 5.0), (r, 2 * r + 5))
]
DIRECTION = np.array([2.0, -1.0, 2.0]) / 3.0
GRID100 = Grid((100, 100, 100), 1.0, (-49.5, -49.5, -49.5))


def _spheres(r, big_r, offset):
    # the tumour sits off the grid's voxel centres (as a segmented one would): 0.3 mm along each axis
    c = np.array([0.3, 0.3, 0.3])
    return Ellipsoid.sphere(c, r), Ellipsoid.sphere(c + offset * DIRECTION, big_r), big_r - r - offset


@pytest.mark.parametrize("r, big_r, offset", SPHERES)
def test_spheres_qam_style(benchmark, r, big_r, offset):
    tumor, zone, truth = _spheres(r, big_r, offset)
    margin = benchmark.pedantic(qam_margin, args=(tumor, [zone], GRID100), rounds=5, iterations=1, warmup_rounds=1)
    record(
        benchmark,
        f"spheres 100^3 1 mm: r={r:g} R={big_r:g} offset={offset:g}",
        "QAM-style",
        baseline=True,
        error_mm=margin - truth,
    )
    assert abs(margin - truth) <= 2 * GRID100.voxel_diagonal_mm


@pytest.mark.parametrize("r, big_r, offset", SPHERES)
def test_spheres_exact(benchmark, r, big_r, offset):
    tumor, zone, truth = _spheres(r, big_r, offset)
    res = benchmark.pedantic(measure_margin, args=(tumor, zone), rounds=20, iterations=1, warmup_rounds=1)
    record(
        benchmark,
        f"spheres 100^3 1 mm: r={r:g} R={big_r:g} offset={offset:g}",
        "exact path (1 mm map)",
        error_mm=res.min_margin_mm - truth,
        error_bound_mm=res.error_bound_mm,
    )
    # concentric spheres are a degenerate minimum (every point): the sampled bound; otherwise converged
    assert abs(res.min_margin_mm - truth) <= res.error_bound_mm + 1e-9
