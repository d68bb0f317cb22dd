"""Mask margins on the QAM-like sphere suite (tests/reference/mask_suite.py): the mesh method (the default for
masks) beside a QAM-style baseline (border-voxel EDT, cropped; the baseline of each group) and the edt voxel path,
for three cases per grid (one concentric, one offset, one subcapsular with capsule exclusion).

Each benchmark records its error against the analytic truth. The whole suite, timed interleaved (the comparison
docs/images.md tabulates): ``python -m benchmarks.mask_suite_timing``.
"""

import pytest

from ablasim import measure_margin
from benchmarks.conftest import record
from reference.mask_suite import CASES, GRIDS, exclusion, masks, qam_style, truth

PICKED = ["concentric-5mm", "offset-x", "sub-5mm"]


@pytest.fixture(scope="module", params=list(GRIDS))
def grid_name(request):
    return request.param


@pytest.mark.parametrize("name", PICKED)
@pytest.mark.parametrize("method", ["qam-style", "voxel", "mesh"])
def test_mask_margin(benchmark, grid_name, name, method):
    case = next(c for c in CASES if c.name == name)
    tm, zm, lm = masks(case, GRIDS[grid_name])
    ex = exclusion(case, lm)
    if method == "qam-style":
        sp = GRIDS[grid_name].spacing_mm

        def run():
            return qam_style(tm.array, zm.array, None if lm is None else lm.array, sp)
    else:

        def run():
            return measure_margin(tm, zm, method=method, exclude=ex).min_margin_mm

    value = benchmark(run)
    record(benchmark, f"mask margin {grid_name} {name}", method, baseline=method == "qam-style",
           error_mm=round(value - truth(case), 3))  # fmt: skip
