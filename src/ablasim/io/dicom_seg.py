"""DICOM Segmentation objects (DICOM-SEG, BINARY or FRACTIONAL) read with pydicom.

Each frame is one plane of one segment: its position is the Image Position (Patient) of its Plane Position
Sequence, its orientation the Image Orientation (Patient) and its pixel spacing the Pixel Measures of the shared
(or per-frame) functional groups, its segment the Referenced Segment Number. DICOM patient coordinates are LPS.
Array axis i runs along the rows' direction (column index), j along the columns' direction (row index), k along
the plane normal, ordered by position; planes missing between the first and last are empty.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import UnknownNameError, ValidationError
from ..geometry.mask import Mask
from ._frames import grid_from_axes

__all__ = ["read_dicom_seg"]


def _item(ds, frame, name):
    for groups in (getattr(ds, "PerFrameFunctionalGroupsSequence", None), None):
        if groups is not None:
            fg = groups[frame]
            if name in fg:
                return fg[name].value[0]
    shared = getattr(ds, "SharedFunctionalGroupsSequence", None)
    if shared is not None and name in shared[0]:
        return shared[0][name].value[0]
    return None


def read_dicom_seg(path, names=None, *, level: float = 0.5) -> dict[str, Mask]:
    """Masks of the segments (by Segment Label; all, or those named) of a DICOM-SEG file.

    FRACTIONAL segmentations are thresholded at ``level`` times the Maximum Fractional Value."""
    import pydicom

    src = str(path)
    if not Path(src).is_file():
        raise ValidationError(src, "missing", "no such file")
    try:
        ds = pydicom.dcmread(src)
        frames = ds.pixel_array
    except Exception as exc:
        raise ValidationError(f"{src} [PixelData]", type(exc).__name__, f"could not be read as DICOM: {exc}") from None
    if str(getattr(ds, "SOPClassUID", "")) != "1.2.840.10008.5.1.4.1.1.66.4":
        raise ValidationError(f"{src} [SOPClassUID]", getattr(ds, "SOPClassUID", None), "is not a DICOM Segmentation")
    n = int(getattr(ds, "NumberOfFrames", 1))
    frames = np.asarray(frames).reshape(n, int(ds.Rows), int(ds.Columns))
    seg_type = str(getattr(ds, "SegmentationType", "BINARY")).upper()
    if seg_type == "FRACTIONAL":
        frames = frames.astype(np.float64) / float(getattr(ds, "MaximumFractionalValue", 255))
        frames = frames >= level
    else:
        frames = frames != 0

    orient = _item(ds, 0, "PlaneOrientationSequence")
    measures = _item(ds, 0, "PixelMeasuresSequence")
    if orient is None or measures is None:
        raise ValidationError(f"{src} [SharedFunctionalGroupsSequence]", None, "no plane orientation or pixel spacing")
    iop = np.asarray(orient.ImageOrientationPatient, dtype=float)
    row_dir, col_dir = iop[:3], iop[3:]
    if abs(float(row_dir @ col_dir)) > 1e-4 or abs(np.linalg.norm(row_dir) - 1) > 1e-4:
        raise ValidationError(
            f"{src} [ImageOrientationPatient]", iop.tolist(), "row and column directions must be orthonormal"
        )
    normal = np.cross(row_dir, col_dir)
    dy, dx = (float(v) for v in measures.PixelSpacing)  # between rows, between columns

    labels = {int(s.SegmentNumber): str(s.SegmentLabel) for s in ds.SegmentSequence}
    seg_of = np.empty(n, dtype=np.int64)
    pos = np.empty((n, 3))
    for f in range(n):
        ident = _item(ds, f, "SegmentIdentificationSequence")
        plane = _item(ds, f, "PlanePositionSequence")
        if ident is None or plane is None:
            raise ValidationError(f"{src} [PerFrameFunctionalGroupsSequence]", f, "a frame has no segment or position")
        seg_of[f] = int(ident.ReferencedSegmentNumber)
        pos[f] = np.asarray(plane.ImagePositionPatient, dtype=float)
    along = pos @ normal
    order = np.argsort(along, kind="stable")
    uniq = np.unique(np.round(along, 4))
    inplane = pos - along[:, None] * normal  # the in-plane part must be the same for every plane
    if np.abs(inplane - inplane[order[0]]).max() > 1e-3 * max(dx, dy):
        raise ValidationError(
            f"{src} [PlanePositionSequence]",
            "shifted planes",
            "the planes are not stacked along the normal (a tilted gantry?): resample first",
        )
    if len(uniq) > 1:
        steps = np.diff(uniq)
        dz = float(steps.min())
        k_float = (uniq - uniq[0]) / dz
        if np.abs(k_float - np.round(k_float)).max() > 1e-3:
            raise ValidationError(f"{src} [PlanePositionSequence]", steps.tolist(), "planes are not evenly spaced")
        nk = int(round(k_float[-1])) + 1  # noqa: RUF046
    else:
        sm = getattr(measures, "SpacingBetweenSlices", None) or getattr(measures, "SliceThickness", 1.0)
        dz, nk = float(sm), 1
    origin = pos[order[0]]
    grid = grid_from_axes(
        (int(ds.Columns), int(ds.Rows), nk),
        np.vstack([row_dir * dx, col_dir * dy, normal * dz]),
        origin,
        source=src,
        field="ImageOrientationPatient/PixelSpacing",
    )
    wanted = list(labels.values()) if names is None else ([names] if isinstance(names, str) else list(names))
    by_label = {v: k for k, v in labels.items()}
    out = {}
    for name in wanted:
        if name not in by_label:
            raise UnknownNameError(f"{src} [SegmentLabel]", name, list(by_label))
        arr = np.zeros(grid.shape, dtype=np.bool_)
        for f in np.flatnonzero(seg_of == by_label[name]):
            k = int(round((along[f] - uniq[0]) / dz))  # noqa: RUF046
            arr[:, :, k] |= frames[f].T
        out[name] = Mask(arr, grid)
    return out
