"""NRRD images and 3D Slicer segmentations (``.seg.nrrd``), read and written with pynrrd.

A ``.seg.nrrd`` holds one or more *layers* (a 3D label map, or a 4D array whose first axis is the layer) and, in
its header, one entry per segment: ``SegmentN_ID``, ``SegmentN_Name``, ``SegmentN_LabelValue`` and
``SegmentN_Layer``. A segment is the set of voxels of its layer equal to its label value. The ``space`` field must
be LPS (Slicer's) or RAS, converted to LPS here; ``space directions`` rows are the world steps of the array axes.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from .._io import atomic_write_bytes
from ..errors import UnknownNameError, ValidationError
from ..geometry.grid import Grid
from ..geometry.mask import Mask
from ._frames import LPS_FROM_RAS, grid_from_axes

__all__ = ["read_nrrd", "read_segments", "segment_names", "write_seg_nrrd"]

_LPS = ("left-posterior-superior", "lps")
_RAS = ("right-anterior-superior", "ras")


def _read(path):
    import nrrd

    src = str(path)
    if not Path(src).is_file():
        raise ValidationError(src, "missing", "no such file")
    try:
        data, header = nrrd.read(src, index_order="F")
    except Exception as exc:  # pynrrd raises NRRDError, EOFError, zlib errors, ValueError ...
        raise ValidationError(f"{src} [data]", type(exc).__name__, f"could not be read as NRRD: {exc}") from None
    return src, data, header


def _grid(src, header, spatial_axes, shape) -> Grid:
    space = str(header.get("space", "")).lower()
    if space not in _LPS + _RAS:
        raise ValidationError(f"{src} [space]", header.get("space"), "expected left-posterior-superior or RAS")
    dirs = header.get("space directions")
    origin = header.get("space origin")
    if dirs is None or origin is None:
        raise ValidationError(f"{src} [space directions]", None, "the header gives no voxel-to-world geometry")
    axes = np.asarray([dirs[a] for a in spatial_axes], dtype=np.float64)
    org = np.asarray(origin, dtype=np.float64)
    if space in _RAS:
        axes, org = axes @ LPS_FROM_RAS, LPS_FROM_RAS @ org
    return grid_from_axes(shape, axes, org, source=src, field="space directions")


def read_nrrd(path) -> tuple[np.ndarray, Grid]:
    """Voxel values of a 3D NRRD image and their grid (LPS)."""
    src, data, header = _read(path)
    if data.ndim != 3:
        raise ValidationError(f"{src} [dimension]", data.ndim, "expected a 3D image (use read_segments for layers)")
    return data, _grid(src, header, (0, 1, 2), data.shape)


def _segments(src, header) -> dict:
    out = {}
    i = 0
    while f"Segment{i}_ID" in header:
        name = header.get(f"Segment{i}_Name", header[f"Segment{i}_ID"])
        try:
            label = int(header.get(f"Segment{i}_LabelValue", i + 1))
            layer = int(header.get(f"Segment{i}_Layer", 0))
        except ValueError:
            raise ValidationError(
                f"{src} [Segment{i}_LabelValue]", header.get(f"Segment{i}_LabelValue"), "expected an integer"
            ) from None
        out[name] = {"id": header[f"Segment{i}_ID"], "label": label, "layer": layer}
        i += 1
    return out


def segment_names(path) -> list[str]:
    """Names of the segments of a ``.seg.nrrd`` (header only is not enough for pynrrd: the file is read)."""
    src, _, header = _read(path)
    return list(_segments(src, header))


def read_segments(path, names=None) -> dict[str, Mask]:
    """Masks of the segments of a ``.seg.nrrd`` (all, or those named; a name may also be a segment ID).

    Raises UnknownNameError (listing the segments) for an unknown name."""
    src, data, header = _read(path)
    kinds = [str(k).lower() for k in header.get("kinds", ["domain"] * data.ndim)]
    if data.ndim == 4:
        layer_axis = next((a for a, k in enumerate(kinds) if k not in ("domain", "space")), None)
        if layer_axis is None:
            raise ValidationError(f"{src} [kinds]", header.get("kinds"), "a 4D segmentation needs one list axis")
        data = np.moveaxis(data, layer_axis, 0)
        spatial = tuple(a for a in range(4) if a != layer_axis)
    elif data.ndim == 3:
        data = data[None]
        spatial = (0, 1, 2)
    else:
        raise ValidationError(f"{src} [dimension]", data.ndim, "expected a 3D or 4D segmentation")
    grid = _grid(src, header, spatial, data.shape[1:])
    segs = _segments(src, header)
    if not segs:  # a plain label map: one segment per non-zero label
        segs = {str(int(v)): {"id": str(int(v)), "label": int(v), "layer": 0} for v in np.unique(data[0]) if v != 0}
    if names is None:
        wanted = list(segs)
    else:
        wanted = []
        by_id = {s["id"]: n for n, s in segs.items()}
        for n in [names] if isinstance(names, str) else list(names):
            if n in segs:
                wanted.append(n)
            elif n in by_id:
                wanted.append(by_id[n])
            else:
                raise UnknownNameError(f"{src} [segment]", n, list(segs))
    out = {}
    for n in wanted:
        s = segs[n]
        if not 0 <= s["layer"] < data.shape[0]:
            raise ValidationError(f"{src} [segment {n} layer]", s["layer"], f"the file has {data.shape[0]} layer(s)")
        out[n] = Mask(data[s["layer"]] == s["label"], grid)
    return out


def write_seg_nrrd(path, segments: dict, *, colors=None) -> Path:
    """Write masks (all on one grid) as a 3D Slicer segmentation, atomically.

    Segments that do not overlap share one label map (labels 1, 2, ...); if any two overlap, each segment gets its
    own layer (a 4D array, first axis the layer), as Slicer does."""
    import nrrd

    if not segments:
        raise ValidationError("segments", segments, "give at least one named Mask")
    items = list(segments.items())
    grid = items[0][1].grid
    for name, m in items:
        if not isinstance(m, Mask):
            raise ValidationError(f"segments[{name!r}]", m, "expected a Mask")
        if not m.grid.same_as(grid):
            raise ValidationError(f"segments[{name!r}].grid", m.grid, "every segment must lie on the same grid")
    total = np.zeros(grid.shape, dtype=np.int32)
    for _, m in items:
        total += m.array
    overlap = bool((total > 1).any())
    axes = (grid.direction * grid.spacing_mm[None, :]).T  # rows: world step of each array axis
    header = {
        "type": "unsigned char",
        "space": "left-posterior-superior",
        "encoding": "gzip",
        "space origin": np.asarray(grid.origin_mm, dtype=float),
        "Segmentation_MasterRepresentation": "Binary labelmap",
        "Segmentation_ContainedRepresentationNames": "Binary labelmap|",
        "Segmentation_ReferenceImageExtentOffset": "0 0 0",
    }
    if overlap:
        data = np.stack([m.array.astype(np.uint8) for _, m in items])
        header["kinds"] = ["list", "domain", "domain", "domain"]
        header["space directions"] = np.vstack([np.full(3, np.nan), axes])
    else:
        data = np.zeros(grid.shape, dtype=np.uint8)
        for k, (_, m) in enumerate(items):
            data[m.array] = k + 1
        header["kinds"] = ["domain", "domain", "domain"]
        header["space directions"] = axes
    palette = colors or {}
    for k, (name, m) in enumerate(items):
        lo, hi = m.index_bounds() if not m.is_empty() else (np.zeros(3, int), np.zeros(3, int))
        color = palette.get(name, _DEFAULT_COLORS[k % len(_DEFAULT_COLORS)])
        header.update(
            {
                f"Segment{k}_ID": name,
                f"Segment{k}_Name": name,
                f"Segment{k}_LabelValue": str(1 if overlap else k + 1),
                f"Segment{k}_Layer": str(k if overlap else 0),
                f"Segment{k}_Color": " ".join(f"{c:g}" for c in color),
                f"Segment{k}_Extent": " ".join(f"{a} {b - 1}" for a, b in zip(lo, hi)),
            }
        )
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".nrrd", dir=target.parent)
    os.close(fd)
    try:
        nrrd.write(tmp, data, header, index_order="F")
        blob = Path(tmp).read_bytes()
    finally:
        os.unlink(tmp)
    return atomic_write_bytes(target, blob)


_DEFAULT_COLORS = [(0.9, 0.3, 0.3), (0.3, 0.6, 0.9), (0.5, 0.8, 0.5), (0.9, 0.8, 0.3), (0.7, 0.5, 0.9)]
