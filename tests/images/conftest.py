from pathlib import Path

import pytest

SLICER = Path(__file__).resolve().parent.parent / "data" / "slicer"


@pytest.fixture(scope="session")
def slicer_seg():
    return SLICER / "tumor.seg.nrrd"


@pytest.fixture(scope="session")
def liver_seg():
    data = pytest.importorskip("pydicom.data", reason="pydicom (the images extra) is not installed")
    try:
        return Path(data.get_testdata_file("liver.dcm"))
    except Exception:  # pragma: no cover - pydicom-data absent
        # only outside the dev install: `make test` installs pydicom-data (dev extra), so CI never skips this
        pytest.skip("the DICOM-SEG liver.dcm of the pydicom-data package is not installed")


@pytest.fixture(scope="session")
def mni_gm():
    nilearn = pytest.importorskip("nilearn", reason="nilearn (dev extra) ships the MNI152 maps")
    path = Path(nilearn.__file__).parent / "datasets" / "data" / "mni_icbm152_gm_tal_nlin_sym_09a_converted.nii.gz"
    if not path.exists():  # pragma: no cover
        # only with a nilearn release that dropped the bundled map (releases since 0.10 ship it); CI has not skipped it
        pytest.skip(f"nilearn {nilearn.__version__} does not ship the MNI152 grey-matter map")
    return path
