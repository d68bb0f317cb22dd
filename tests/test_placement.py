"""Placement helpers: parallel arrays and their warnings."""

import numpy as np
import pytest

from ablasim import Ellipsoid, ValidationError
from ablasim.placement import check_placement, parallel_array
from ablasim.probes import Probe

TUMOR = Ellipsoid([1, 2, 3], [14, 9, 11])


@pytest.mark.parametrize("n, side", [(2, 15.0), (3, 15.0), (4, 12.0), (5, 10.0)])
def test_parallel_arrays_keep_the_requested_spacing(n, side):
    probes = parallel_array(TUMOR, n, "IceRod", spacing_mm=side)
    tips = np.array([p.tip_mm for p in probes])
    d = np.linalg.norm(tips[:, None] - tips[None], axis=-1) + np.eye(n) * 1e9
    assert d.min(axis=1) == pytest.approx(np.full(n, side))  # every probe's nearest neighbour
    # parallel, along +z, and each ice ball centred on the tumour's level (IceRod centre 5 mm behind the tip)
    assert all(np.allclose(p.direction, [0, 0, 1]) for p in probes)
    assert np.allclose(tips[:, 2], TUMOR.center_mm[2] + 5.0)
    assert np.allclose(tips[:, :2].mean(axis=0), TUMOR.center_mm[:2])


def test_two_probes_go_along_the_widest_transverse_axis():
    probes = parallel_array(Ellipsoid([0, 0, 0], [6, 14, 10]), 2, "IceRod", spacing_mm=10)
    assert abs(probes[0].tip_mm[1] - probes[1].tip_mm[1]) == pytest.approx(10)  # the 14 mm (y) axis


def test_warnings():
    probes = [
        Probe([-13, 0, 0], [0, 0, 1], "IceRod"),
        Probe([13, 0, 0], [0, 0, 1], "IceRod"),
        Probe([14, 2, 0], [0, 0, 1], "IceRod"),
    ]
    tumor = Ellipsoid([0, 0, 0], [14, 9, 11])
    codes = {(w.code, w.probes) for w in check_placement(probes, tumor)}
    assert ("too-close", (1, 2)) in codes  # 2.2 mm apart
    assert ("too-far-apart", (0, 1)) in codes  # probe 0's nearest neighbour is 26 mm away
    # ice balls end 12.5 mm beyond tips at z = 0: the tumour reaches z = 11 -> not short
    assert not any(c == "distal-short" for c, _ in codes)
    short = [Probe([0, 0, -5], [0, 0, 1], "IceRod")]
    (w,) = [w for w in check_placement(short, tumor) if w.code == "distal-short"]
    assert w.value_mm == pytest.approx(11 - (-5 + 12.5))  # 3.5 mm short
    # a probe in the middle of a 32 x 24 mm outline (seen along z): 12 mm from its nearest edge
    central = [Probe([0, 0, 5], [0, 0, 1], "IceRod")]
    big = Ellipsoid([0, 0, 0], [16, 12, 20])
    (w,) = [w for w in check_placement(central, big) if w.code == "far-from-edge"]
    assert w.value_mm == pytest.approx(12.0, abs=1e-9)
    # a probe outside the outline, 14 mm from it
    outside = [Probe([30, 0, 5], [0, 0, 1], "IceRod")]
    (w,) = [w for w in check_placement(outside, big) if w.code == "far-from-edge"]
    assert w.value_mm == pytest.approx(14.0, abs=1e-9)


def test_bad_arguments():
    with pytest.raises(ValidationError):
        parallel_array(TUMOR, 0, "IceRod", spacing_mm=10)
    with pytest.raises(ValidationError):
        parallel_array(TUMOR, 2, "IceRod", spacing_mm=-1)
