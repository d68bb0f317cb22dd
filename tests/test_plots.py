"""matplotlib plots and slice views: the artists carry the expected values."""

import numpy as np
import pytest

from ablasim import Ellipsoid, Grid, Mask, measure_margin
from ablasim.errors import ValidationError
from ablasim.metrics.result import MarginMap
from ablasim.render import (
    cumulative_margin,
    efficacy_vs_size,
    margin_colors,
    margin_histogram,
    margin_vs_time,
    slice_views,
)
from ablasim.zones import GridFieldZone

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def result():
    # sphere r = 8 mm, 3 mm off the centre of a 14 mm zone: margins 3 .. 9 mm
    return measure_margin(Ellipsoid.sphere([3, 0, 0], 8), Ellipsoid.sphere([0, 0, 0], 14))


def toy_map():
    # four points, areas 1, 1, 2, 4 mm2: 12.5 % of the area below 1.5 mm, 25 % below 2.5 mm, 50 % below 3.5 mm
    pts = np.eye(3).tolist() + [[1.0, 1.0, 1.0]]
    return MarginMap(pts, [1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 2.0, 4.0], [True] * 4)


def _gid(ax, gid):
    return [a for a in ax.get_children() if a.get_gid() == gid]


def test_histogram_is_area_weighted_and_marks_thresholds(result, tmp_path):
    path = tmp_path / "h.png"
    fig = margin_histogram(result, thresholds_mm={"sarcoma-5mm": 5.0, "renal-6mm": 6.0}, path=path)
    ax = fig.axes[0]
    assert sum(p.get_height() for p in ax.patches) == pytest.approx(100.0)
    assert sorted(line.get_xdata()[0] for line in _gid(ax, "threshold")) == [5.0, 6.0]
    (minimum,) = _gid(ax, "minimum")
    assert minimum.get_xdata()[0] == pytest.approx(result.min_margin_mm)  # the result's exact minimum
    # bins start at the colour threshold (the largest, 6 mm): the bar just above it is neutral-coloured
    above = [p for p in ax.patches if p.get_x() == pytest.approx(6.0)]
    assert len(above) == 1 and above[0].get_facecolor()[:3] == pytest.approx(
        tuple(margin_colors(6.0 + above[0].get_width() / 2, 6.0, 3.0)[0]), abs=0.02
    )
    assert path.read_bytes().startswith(PNG) and not list(tmp_path.glob(".*.tmp"))
    toy = margin_histogram(toy_map(), bin_width_mm=1.0, color_threshold_mm=0.5).axes[0]
    assert [p.get_height() for p in toy.patches] == pytest.approx([12.5, 12.5, 25.0, 50.0])


def test_cumulative_curve_reaches_100_percent_and_matches_fraction_below(result):
    mm = result.margin_map
    fig = cumulative_margin(result, thresholds_mm=[5.0, 6.0])
    ax = fig.axes[0]
    (curve,) = _gid(ax, "cumulative")
    y = np.asarray(curve.get_ydata())
    assert y[0] == 0.0 and y[-1] == pytest.approx(100.0) and np.all(np.diff(y) >= 0)
    assert sorted(line.get_xdata()[0] for line in _gid(ax, "threshold")) == [5.0, 6.0]
    for point in _gid(ax, "threshold-value"):
        t = point.get_xdata()[0]
        assert point.get_ydata()[0] == pytest.approx(100 * mm.fraction_below(t))
    toy = cumulative_margin(toy_map(), thresholds_mm=2.5).axes[0]
    (pt,) = _gid(toy, "threshold-value")
    assert pt.get_ydata()[0] == pytest.approx(25.0)
    (c,) = _gid(toy, "cumulative")
    assert list(c.get_ydata()) == pytest.approx([0, 12.5, 25, 50, 100, 100])


def test_margin_vs_time_in_minutes_with_time_to_threshold(tmp_path):
    t = np.arange(0, 1201, 60.0)  # 0..20 min
    m = -5.0 + t / 60.0  # 1 mm per minute: reaches 5 mm at 10 min
    fig = margin_vs_time(
        t, np.stack([m, m - 3]), labels=["0 degC", "-20 degC"], thresholds_mm=5.0, path=tmp_path / "t.png"
    )
    ax = fig.axes[0]
    curves = _gid(ax, "margin")
    assert len(curves) == 2 and curves[0].get_xdata()[-1] == pytest.approx(20.0)
    (th,) = _gid(ax, "threshold")
    assert th.get_ydata()[0] == 5.0
    (reached,) = _gid(ax, "threshold-reached")
    assert reached.get_xdata()[0] == pytest.approx(10.0)
    assert ax.get_xlabel() == "freezing time (min)" and "mm" in ax.get_ylabel()
    with pytest.raises(ValidationError, match="time_s"):
        margin_vs_time([0, 10, 5], [1, 2, 3])
    with pytest.raises(ValidationError, match="margin_mm"):
        margin_vs_time([0, 10, 20], [1, 2])


def test_efficacy_vs_size_with_ci_and_literature():
    fig = efficacy_vs_size(
        ["< 40 mm", ">= 40 mm"],
        [0.9, 0.55],
        ci_low=[0.85, 0.4],
        ci_high=[0.94, 0.7],
        literature=[("< 40 mm", 0.934, "Glazer 2017"), {"size": ">= 40 mm", "rate": 0.6, "label": "Glazer 2017"}],
    )
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["< 40 mm", ">= 40 mm"]
    line, caps, _ = ax.containers[0].lines  # the errorbar's data line, caps, bars
    assert list(line.get_ydata()) == pytest.approx([90.0, 55.0])
    assert sorted(np.concatenate([c.get_ydata() for c in caps])) == pytest.approx([40.0, 70.0, 85.0, 94.0])
    lit = _gid(ax, "literature")
    assert [p.get_ydata()[0] for p in lit] == pytest.approx([93.4, 60.0])
    assert [round(p.get_xdata()[0]) for p in lit] == [0, 1]
    numeric = efficacy_vs_size([15.0, 30.0, 50.0], [0.95, 0.9, 0.6], literature=[(20.0, 0.93)]).axes[0]
    assert [p.get_xdata()[0] for p in _gid(numeric, "literature")] == [20.0]
    with pytest.raises(ValidationError, match="rates"):
        efficacy_vs_size([10, 20], [0.5, 1.5])
    with pytest.raises(ValidationError, match="ci_low"):
        efficacy_vs_size([10, 20], [0.5, 0.6], ci_low=[0.6, 0.5], ci_high=[0.7, 0.7])
    with pytest.raises(ValidationError, match="literature"):
        efficacy_vs_size(["a"], [0.5], literature=[("b", 0.5)])


def test_plot_inputs_are_validated():
    with pytest.raises(ValidationError, match="margin_map"):
        margin_histogram([1, 2, 3])
    empty = MarginMap([[0, 0, 0]], [1.0], [1.0], [False])
    with pytest.raises(ValidationError, match="margin_map"):
        cumulative_margin(empty)
    with pytest.raises(ValidationError, match="thresholds_mm"):
        margin_histogram(toy_map(), thresholds_mm=["five"])


def _temperature(grid):
    idx = np.stack(np.meshgrid(*[np.arange(n) for n in grid.shape], indexing="ij"), -1).reshape(-1, 3)
    r = np.linalg.norm(grid.index_to_world(idx), axis=1)
    return np.clip(-150 + 187 * r / 25.0, -150, 37).reshape(grid.shape)  # 0 degC at 20.05 mm, -20 at 17.4 mm


def test_slice_views_of_a_temperature_field_with_isotherms_and_outline(tmp_path):
    grid = Grid((40, 40, 40), 1.0, (-19.5, -19.5, -19.5))
    temp = _temperature(grid)
    tumor = Ellipsoid.sphere([0, 0, 0], 7)
    fig = slice_views(
        temp, grid, tumor=tumor, thinnest_point_mm=[0, 0, 0], isotherms_c=(0.0, -20.0), path=tmp_path / "s.png"
    )
    axes = [a for a in fig.axes if a.get_label() != "<colorbar>"]
    assert [a.get_title().split()[0] for a in axes[:3]] == ["axial", "coronal", "sagittal"]
    ax = axes[0]
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # axial: -y up
    assert axes[1].get_ylim()[0] < axes[1].get_ylim()[1]  # coronal: +z up
    assert len(_gid(ax, "thinnest")) == 1
    # the -20 degC contour lies at r = 17.4 mm (0 degC at 20.05 mm is just outside the grid: not drawn)
    contours = [c for c in ax.collections if hasattr(c, "get_paths") and c.get_paths()]
    radii = [np.median(np.linalg.norm(c.get_paths()[0].vertices, axis=1)) for c in contours]
    assert any(abs(r - 17.4) < 0.5 for r in radii) and any(abs(r - 7.0) < 0.5 for r in radii)
    assert (tmp_path / "s.png").read_bytes().startswith(PNG)


def test_slice_views_of_masks_zones_and_rotated_grids():
    rot = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    grid = Grid((30, 30, 30), (1.0, 0.8, 1.2), (14.5, -11.6, -17.4), rot)
    mask = Ellipsoid.sphere([0, 0, 0], 8).to_mask(grid)
    fig = slice_views(
        mask, tumor=Mask(mask.array, grid), zones={0.0: [Ellipsoid.sphere([0, 0, 0], 11)]}, planes="coronal"
    )
    assert len(fig.axes) == 1
    field = GridFieldZone(
        _temperature(Grid((30, 30, 30), 1.0, (-14.5, -14.5, -14.5))),
        Grid((30, 30, 30), 1.0, (-14.5, -14.5, -14.5)),
        -40.0,
    )
    assert slice_views(field, planes=["axial"]).axes
    assert slice_views(tumor=Ellipsoid.sphere([0, 0, 0], 5)).axes
    with pytest.raises(ValidationError, match="nothing to show"):
        slice_views()
    with pytest.raises(ValidationError, match="planes"):
        slice_views(tumor=Ellipsoid.sphere([0, 0, 0], 5), planes=["top"])
    with pytest.raises(ValidationError, match="grid"):
        slice_views(np.zeros((3, 3, 3)))
