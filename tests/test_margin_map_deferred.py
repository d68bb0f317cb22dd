"""The exact path's margin map is computed when first used (ablasim.metrics.result.DeferredMarginMap)."""

import pickle

import numpy as np
import pytest

from ablasim import Ellipsoid, MarginMap, measure_margin, rotation_from_euler_deg
from ablasim.metrics import exact

TUMOR = Ellipsoid.from_diameters([0, 0, 0], [20, 18, 22], rotation_from_euler_deg([10, -5, 20]))
ZONES = [Ellipsoid([x, y, 0], [12.5, 12.5, 17.5]) for x, y in [(8.66, 0), (-4.33, 7.5), (-4.33, -7.5)]]


def test_the_map_is_computed_once_and_only_when_used(monkeypatch):
    calls = []
    real = exact._map_and_exclusion
    monkeypatch.setattr(exact, "_map_and_exclusion", lambda *a: calls.append(1) or real(*a))
    res = measure_margin(TUMOR, ZONES)
    assert calls == [] and isinstance(res.margin_map, MarginMap)
    first = res.margin_map.fraction_below(5.0)
    assert calls == [1]
    # the same numbers on every later use, without computing again
    assert res.margin_map.fraction_below(5.0) == first and len(res.margin_map.margins_mm) > 0
    assert res.summary()["surface_fraction_below_mm"]["5.0"] == first and calls == [1]


def test_the_deferred_map_is_the_map_the_exact_path_computes():
    res = measure_margin(TUMOR, ZONES)
    pk = exact._Pack(TUMOR, ZONES)
    covered, best, zh = exact._margin(pk, 0.5)
    eager, _, _ = exact._map_and_exclusion(TUMOR, pk, zh, 1.0, None, covered, best)
    for f in ("points_mm", "margins_mm", "area_mm2", "included", "faces"):
        assert np.array_equal(getattr(res.margin_map, f), getattr(eager, f)), f
    # every map value is attained by a real pair of points: none lies below the exact minimum
    assert res.margin_map.margins_mm.min() >= res.min_margin_mm - 1e-12


def test_pickling_stores_a_plain_map():
    res = measure_margin(TUMOR, ZONES)
    back = pickle.loads(pickle.dumps(res))
    assert type(back.margin_map) is MarginMap
    assert np.array_equal(back.margin_map.margins_mm, res.margin_map.margins_mm)


def test_a_map_point_below_the_reported_minimum_is_reported():
    # a search that had missed a basin: pretend it reported 1 mm more than it found; the map then holds points
    # below the reported minimum, which cannot be corrected after the result was returned
    pk = exact._Pack(TUMOR, ZONES)
    covered, best, zh = exact._margin(pk, 0.5)
    best.value += 1.0
    with pytest.warns(RuntimeWarning, match="missed a basin"):
        exact._DeferredMap(TUMOR, pk, zh, 1.0, covered, best)()
