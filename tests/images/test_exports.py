"""Exports load back with identical geometry: through ablasim's readers and through pyvista for meshes."""

import json

import numpy as np
import pytest

from ablasim import Ellipsoid, Grid, Mask, ValidationError, measure_margin, rotation_from_euler_deg
from ablasim.geometry.surfaces import surface_from_mask
from ablasim.io import read_image, read_segments
from ablasim.io.export import margin_volume, write_mesh, write_probe_markups
from ablasim.io.nifti import write_nifti
from ablasim.io.nrrd import write_seg_nrrd
from ablasim.io.ply import read_ply
from ablasim.probes import Probe

pytest.importorskip("nibabel")
pytest.importorskip("nrrd")
GRID = Grid((40, 36, 30), (0.8, 0.8, 1.0), (-15, -14, -12), rotation_from_euler_deg([10, 20, -15]))


@pytest.fixture(scope="module")
def case():
    t = Ellipsoid((0, 0, 0), (6, 5, 4), rotation_from_euler_deg([5, 0, 30])).to_mask(GRID)
    z = Ellipsoid((1, 0, 0), (9, 8, 7)).to_mask(GRID)
    return t, z, measure_margin(t, z, method="mesh")


@pytest.mark.parametrize("suffix", [".vtp", ".stl", ".ply"])
def test_meshes_load_in_pyvista(tmp_path, case, suffix):
    pv = pytest.importorskip("pyvista")
    t, _, res = case
    mesh = surface_from_mask(t)
    data = {"margin_mm": res.margin_map.margins_mm} if suffix != ".stl" else None
    write_mesh(tmp_path / f"m{suffix}", mesh, data)
    back = pv.read(str(tmp_path / f"m{suffix}"))
    tol = 1e-5 * np.abs(mesh.vertices_mm).max() if suffix == ".stl" else 0  # float32 in STL
    if suffix == ".stl":  # STL stores each triangle's corners: compare the triangle corners
        corners = mesh.vertices_mm[mesh.faces].reshape(-1, 3)
        assert back.n_cells == len(mesh.faces)
        np.testing.assert_allclose(
            np.sort(np.unique(np.round(corners, 4), axis=0), axis=0),
            np.sort(np.unique(np.round(back.points, 4), axis=0), axis=0),
            atol=1e-3,
        )
        return
    np.testing.assert_allclose(back.points, mesh.vertices_mm, atol=tol)
    faces = back.faces.reshape(-1, 4)[:, 1:]
    assert np.array_equal(faces, mesh.faces)
    if suffix == ".ply":  # VTK's PLY reader drops extra vertex properties (read_ply keeps them, test below)
        assert "margin_mm" not in back.point_data
        return
    np.testing.assert_allclose(back.point_data["margin_mm"], res.margin_map.margins_mm, rtol=1e-6, atol=1e-6)


def test_ply_round_trip_is_exact(tmp_path, case):
    t, _, res = case
    mesh = surface_from_mask(t)
    margins = res.margin_map.margins_mm
    write_mesh(tmp_path / "m.ply", mesh, {"margin_mm": margins, "area_mm2": mesh.vertex_areas_mm2()})
    back, data = read_ply(tmp_path / "m.ply")
    assert np.array_equal(back.vertices_mm, mesh.vertices_mm) and np.array_equal(back.faces, mesh.faces)
    assert np.array_equal(data["margin_mm"], margins) and set(data) == {"margin_mm", "area_mm2"}
    raw = (tmp_path / "m.ply").read_bytes()
    (tmp_path / "cut.ply").write_bytes(raw[: len(raw) - 7])
    with pytest.raises(ValidationError, match=r"cut.ply \[element face\]"):
        read_ply(tmp_path / "cut.ply")


def test_seg_nrrd_round_trip_layers_and_labels(tmp_path, case):
    t, z, _ = case
    write_seg_nrrd(tmp_path / "overlap.seg.nrrd", {"tumour": t, "zone": z})  # overlapping: two layers
    disjoint = Mask(z.array & ~t.array, GRID)
    write_seg_nrrd(tmp_path / "labels.seg.nrrd", {"tumour": t, "rim": disjoint})  # one label map
    for path, expected in (
        (tmp_path / "overlap.seg.nrrd", {"tumour": t, "zone": z}),
        (tmp_path / "labels.seg.nrrd", {"tumour": t, "rim": disjoint}),
    ):
        back = read_segments(path)
        assert list(back) == list(expected)
        for n, original in expected.items():
            assert back[n].grid.same_as(GRID, tol=1e-9)
            assert np.array_equal(back[n].array, original.array)


def test_margin_volume_nifti_round_trip(tmp_path, case):
    t, _, res = case
    vol = margin_volume(res, GRID, t)
    assert np.isfinite(vol[t.array]).all() and np.isnan(vol[~t.array]).all()
    write_nifti(tmp_path / "margin.nii.gz", vol, GRID)
    back, g = read_image(tmp_path / "margin.nii.gz")
    assert g.same_as(GRID, tol=1e-5)
    np.testing.assert_array_equal(np.isnan(back), np.isnan(vol))
    np.testing.assert_allclose(back[t.array], vol[t.array], rtol=1e-6)


def test_probe_markups_lines(tmp_path):
    p = Probe([10.0, -5.0, 3.0], [0.0, 0.6, 0.8], "IceRod")
    write_probe_markups(tmp_path / "probes.mrk.json", [p], length_mm=50.0)
    doc = json.loads((tmp_path / "probes.mrk.json").read_text())
    (line,) = doc["markups"]
    assert line["type"] == "Line" and line["coordinateSystem"] == "LPS"
    entry, tip = (np.array(c["position"]) for c in line["controlPoints"])
    np.testing.assert_allclose(tip, p.tip_mm)
    np.testing.assert_allclose(entry, p.tip_mm - 50.0 * p.direction)  # entry -> tip along the shaft
