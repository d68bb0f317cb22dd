"""Malformed or inconsistent images get one clear error naming the file and the field."""

import gzip
import re

import numpy as np
import pytest

from ablasim import Grid, ValidationError, measure_margin
from ablasim.errors import UnknownNameError
from ablasim.io import read_mask
from ablasim.io.nifti import write_nifti

pytest.importorskip("nibabel")
nrrd = pytest.importorskip("nrrd")


def test_empty_mask(tmp_path):
    p = write_nifti(tmp_path / "empty.nii.gz", np.zeros((4, 4, 4), np.uint8), Grid((4, 4, 4)))
    with pytest.raises(ValidationError, match=r"empty\.nii\.gz.*no voxel set"):
        read_mask(p)


def test_unknown_segment(slicer_seg):
    with pytest.raises(UnknownNameError, match=r"tumor\.seg\.nrrd \[segment\].*Segment_1"):
        read_mask(slicer_seg, segment="Liver")


@pytest.mark.parametrize("name", ["t.nii.gz", "t.seg.nrrd"])
def test_truncated_file(tmp_path, slicer_seg, name):
    src = tmp_path / ("full" + name)
    if name.endswith(".nii.gz"):
        write_nifti(src, np.ones((30, 30, 30), np.uint8), Grid((30, 30, 30)))
    else:
        src.write_bytes(slicer_seg.read_bytes())
    blob = src.read_bytes()
    bad = tmp_path / name
    bad.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ValidationError, match=re.escape(name) + r" \[data\].*could not be read"):
        read_mask(bad)


def test_non_orthonormal_direction(tmp_path):
    data = np.ones((3, 3, 3), np.uint8)
    sheared = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.2, 1.0]])  # a tilted-gantry shear
    nrrd.write(
        str(tmp_path / "s.nrrd"),
        data,
        {"space": "left-posterior-superior", "space directions": sheared, "space origin": [0.0, 0, 0]},
    )
    with pytest.raises(ValidationError, match=r"s\.nrrd \[space directions\].*not orthogonal"):
        read_mask(tmp_path / "s.nrrd")


def test_grids_that_do_not_overlap():
    from ablasim import Ellipsoid

    g1 = Grid((30, 30, 30), 1.0, (0, 0, 0))
    g2 = Grid((30, 30, 30), 1.0, (500, 0, 0))
    t = Ellipsoid.sphere((15, 15, 15), 5).to_mask(g1)
    z = Ellipsoid.sphere((515, 15, 15), 8).to_mask(g2)
    with pytest.raises(ValidationError, match=r"zone\.grid.*does not overlap"):
        measure_margin(t, z, method="mesh")


def test_not_an_image(tmp_path):
    p = tmp_path / "x.nii"
    p.write_bytes(gzip.compress(b"not nifti"))
    with pytest.raises(ValidationError, match=r"x\.nii \[data\]"):
        read_mask(p)
