"""Readers on real files: header geometry (origin, spacing, direction, voxel count), LPS/RAS, oblique grids."""

import numpy as np
import pytest

from ablasim import Grid, Mask, rotation_from_euler_deg
from ablasim.io import read_image, read_mask, read_segments, resample_mask
from ablasim.io.nifti import write_nifti
from ablasim.io.nrrd import read_nrrd, write_seg_nrrd

pytest.importorskip("nibabel")
pytest.importorskip("nrrd")


def test_slicer_segmentation_geometry(slicer_seg):
    # expected numbers: the file's own header (space origin, space directions) and tests/data/slicer/README.md
    m = read_mask(slicer_seg)
    g = m.grid
    assert g.shape == (512, 512, 173)
    np.testing.assert_allclose(g.origin_mm, [-216.85499573, -195.15800476, -66.90100098], atol=1e-6)
    np.testing.assert_allclose(g.spacing_mm, [0.8217, 0.8217, 0.99798584], atol=1e-7)
    np.testing.assert_allclose(np.diag(g.direction), 1.0, atol=1e-12)
    assert 0 < abs(g.direction[1, 2]) < 1e-7  # the scanner's off-diagonal term survives
    assert m.count == 18950
    lo, hi = m.index_bounds()  # header Segment0_Extent: 341 379 227 266 43 72 (inclusive)
    assert lo.tolist() == [341, 227, 43] and (hi - 1).tolist() == [379, 266, 72]
    assert list(read_segments(slicer_seg)) == ["Segment_1"]


def test_dicom_seg_liver_geometry(liver_seg):
    import pydicom

    # independent expectations straight from the DICOM attributes
    ds = pydicom.dcmread(liver_seg)
    positions = [
        np.array(f.PlanePositionSequence[0].ImagePositionPatient, float) for f in ds.PerFrameFunctionalGroupsSequence
    ]
    ((name, m),) = read_segments(liver_seg).items()
    assert name == "Liver"
    g = m.grid
    assert g.shape == (ds.Columns, ds.Rows, 3)
    np.testing.assert_allclose(g.origin_mm, min(positions, key=lambda p: p[2]))
    np.testing.assert_allclose(g.spacing_mm, [0.810547, 0.810547, 1.0], atol=1e-6)
    np.testing.assert_allclose(g.direction, np.eye(3), atol=1e-12)
    assert m.count == int(np.count_nonzero(ds.pixel_array))
    # the voxel at row r, column c of the first frame sits at IPP + c * dx * row_dir + r * dy * col_dir
    first = int(np.argmin([p[2] for p in positions]))
    r, c = np.argwhere(ds.pixel_array[first])[0]
    assert m.array[c, r, 0]
    np.testing.assert_allclose(g.index_to_world([c, r, 0]), positions[first] + [c * 0.810547, r * 0.810547, 0.0])


def test_mni_probability_map_ras_to_lps(mni_gm):
    import nibabel as nib

    values, grid = read_image(mni_gm)
    img = nib.load(str(mni_gm))
    ijk = np.array([[0, 0, 0], [100, 120, 90], [196, 232, 188]])
    ras = nib.affines.apply_affine(img.affine, ijk)
    np.testing.assert_allclose(grid.index_to_world(ijk), ras * [-1, -1, 1])  # LPS = diag(-1, -1, 1) RAS
    mask = Mask(values >= 128, grid)  # the map stores probability * 255
    assert 0 < mask.count < values.size


@pytest.mark.parametrize("suffix", [".nii.gz", ".seg.nrrd"])
def test_oblique_reflected_grid_round_trip(tmp_path, suffix):
    rot = rotation_from_euler_deg([17.0, -31.0, 52.0])
    rot[:, 1] *= -1  # a reflection too
    g = Grid((20, 18, 9), (0.7, 0.8, 2.5), (-12.5, 40.25, 3.0), rot)
    arr = np.zeros(g.shape, bool)
    arr[3:11, 5:9, 2:5] = True
    path = tmp_path / f"m{suffix}"
    if suffix == ".nii.gz":
        write_nifti(path, Mask(arr, g))
        import nibabel as nib

        ras = nib.affines.apply_affine(nib.load(str(path)).affine, [3, 5, 2])
        np.testing.assert_allclose(ras * [-1, -1, 1], g.index_to_world([3, 5, 2]))  # written as RAS
    else:
        write_seg_nrrd(path, {"tumour": Mask(arr, g)})
    back = read_mask(path)
    assert back.grid.same_as(g, tol=1e-5)
    assert np.array_equal(back.array, arr)


def test_nrrd_ras_space_converted(tmp_path):
    import nrrd

    data = np.zeros((4, 5, 6), np.uint8)
    data[1, 2, 3] = 1
    hdr = {
        "space": "right-anterior-superior",
        "space directions": np.diag([1.0, 2.0, 3.0]),
        "space origin": [10.0, 20.0, 30.0],
    }
    nrrd.write(str(tmp_path / "ras.nrrd"), data, hdr)
    _, g = read_nrrd(tmp_path / "ras.nrrd")
    np.testing.assert_allclose(g.index_to_world([1, 2, 3]), [-(10 + 1), -(20 + 4), 30 + 9])


def test_resample_mask_to_another_grid():
    from ablasim import Ellipsoid

    e = Ellipsoid.sphere((0, 0, 0), 6.0)
    fine = Grid((40, 40, 40), 0.5, (-10, -10, -10))
    coarse = Grid((21, 21, 21), 1.0, (-10, -10, -10), rotation_from_euler_deg([0, 0, 30]))
    out = resample_mask(e.to_mask(fine), coarse)
    # 0.5 level of the partial-volume map: within one coarse voxel of the true sphere's rasterisation
    direct = e.to_mask(coarse).array
    assert abs(out.count - direct.sum()) <= 0.05 * direct.sum()
