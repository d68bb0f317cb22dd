"""Exports for 3D Slicer and other viewers, all in LPS millimetres and written atomically.

* meshes: VTK XML PolyData (``.vtp``, with per-point arrays such as the margin), binary STL and binary PLY (with
  the per-point arrays as 64-bit floats, read back exactly by :func:`ablasim.io.ply.read_ply`); the
  header of each names the frame (``SPACE=LPS``, 3D Slicer's convention for model files);
* probes: 3D Slicer markups JSON, one Line (entry and tip control points, ``coordinateSystem: LPS``) per probe;
* zones: ``.seg.nrrd`` (:func:`ablasim.io.nrrd.write_seg_nrrd`); the margin map: a NIfTI volume
  (:func:`margin_volume` then :func:`ablasim.io.nifti.write_nifti`).
"""

from __future__ import annotations

import base64
import struct
from pathlib import Path

import numpy as np

from .._io import atomic_write_bytes, atomic_write_json
from ..errors import ValidationError
from ..geometry.grid import Grid
from ..geometry.mask import Mask
from ..geometry.surfaces import SurfaceMesh
from ..probes import Probe
from .ply import ply_bytes

__all__ = ["margin_volume", "write_mesh", "write_probe_markups"]

MARKUPS_SCHEMA = (
    "https://raw.githubusercontent.com/slicer/slicer/master/Modules/Loadable/Markups/Resources/Schema/"
    "markups-schema-v1.0.3.json#"
)


def write_mesh(path, mesh: SurfaceMesh, point_data: dict | None = None) -> Path:
    """Write ``mesh`` as ``.vtp`` or ``.ply`` (both with the ``point_data`` arrays, one value per vertex: float32 in
    VTP, float64 in PLY, which :func:`ablasim.io.ply.read_ply` reads back exactly; VTK's PLY reader drops them) or
    ``.stl`` (geometry only)."""
    if not isinstance(mesh, SurfaceMesh):
        raise ValidationError("mesh", mesh, "expected an ablasim SurfaceMesh")
    data = {}
    for name, values in (point_data or {}).items():
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
        if len(arr) != len(mesh.vertices_mm):
            raise ValidationError(
                f"point_data[{name!r}]", len(arr), f"expected one value per vertex ({len(mesh.vertices_mm)})"
            )
        data[name] = arr
    suffix = Path(path).suffix.lower()
    if suffix == ".vtp":
        return atomic_write_bytes(path, _vtp(mesh, data))
    if suffix == ".stl":
        return atomic_write_bytes(path, _stl(mesh))
    if suffix == ".ply":
        return atomic_write_bytes(path, ply_bytes(mesh, data))
    raise ValidationError("path", str(path), "expected a .vtp, .stl or .ply file name")


def _b64(arr: np.ndarray) -> str:
    raw = np.ascontiguousarray(arr).tobytes()
    return base64.b64encode(struct.pack("<Q", len(raw)) + raw).decode("ascii")


def _vtp(mesh, data) -> bytes:
    v = mesh.vertices_mm.astype("<f8")
    f = mesh.faces.astype("<i8")
    offsets = (np.arange(1, len(f) + 1) * 3).astype("<i8")
    arrays = "".join(
        f'<DataArray type="Float32" Name="{name}" format="binary">{_b64(arr.astype("<f4"))}</DataArray>'
        for name, arr in data.items()
    )
    xml = (
        '<?xml version="1.0"?>\n<!-- SPACE=LPS; lengths in mm; written by ablasim -->\n'
        '<VTKFile type="PolyData" version="1.0" byte_order="LittleEndian" header_type="UInt64">'
        f'<PolyData><Piece NumberOfPoints="{len(v)}" NumberOfVerts="0" NumberOfLines="0" NumberOfStrips="0" '
        f'NumberOfPolys="{len(f)}">'
        f"<PointData>{arrays}</PointData>"
        f'<Points><DataArray type="Float64" NumberOfComponents="3" format="binary">{_b64(v)}</DataArray></Points>'
        f'<Polys><DataArray type="Int64" Name="connectivity" format="binary">{_b64(f)}</DataArray>'
        f'<DataArray type="Int64" Name="offsets" format="binary">{_b64(offsets)}</DataArray></Polys>'
        "</Piece></PolyData></VTKFile>\n"
    )
    return xml.encode("ascii")


def _stl(mesh) -> bytes:
    v = mesh.vertices_mm
    tri = v[mesh.faces]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    n /= np.maximum(np.linalg.norm(n, axis=1), 1e-300)[:, None]
    rec = np.zeros(len(tri), dtype=[("n", "<f4", 3), ("v", "<f4", (3, 3)), ("attr", "<u2")])
    rec["n"], rec["v"] = n, tri
    header = b"SPACE=LPS; mm; ablasim".ljust(80, b" ")
    return header + struct.pack("<I", len(tri)) + rec.tobytes()


def write_probe_markups(path, probes, *, names=None, length_mm: float = 100.0) -> Path:
    """Probes as 3D Slicer markups JSON: one Line per probe, from the entry (``length_mm`` proximal to the tip,
    along the shaft) to the tip, in LPS."""

    items = [probes] if isinstance(probes, Probe) else list(probes)
    if not items or not all(isinstance(p, Probe) for p in items):
        raise ValidationError("probes", probes, "expected a Probe or a list of Probes")
    if not length_mm > 0:
        raise ValidationError("length_mm", length_mm, "must be > 0")
    labels = list(names) if names is not None else [f"{p.model}-{i + 1}" for i, p in enumerate(items)]
    markups = []
    for label, p in zip(labels, items):
        entry = p.tip_mm - length_mm * p.direction
        markups.append(
            {
                "type": "Line",
                "coordinateSystem": "LPS",
                "coordinateUnits": "mm",
                "name": label,
                "description": f"probe model {p.model}: entry -> tip",
                "controlPoints": [
                    {"id": "1", "label": f"{label}-entry", "position": [float(x) for x in entry]},
                    {"id": "2", "label": f"{label}-tip", "position": [float(x) for x in p.tip_mm]},
                ],
            }
        )
    return atomic_write_json(path, {"@schema": MARKUPS_SCHEMA, "markups": markups})


def margin_volume(result, grid: Grid, tumor: Mask | None = None) -> np.ndarray:
    """The margin map as a float32 volume on ``grid``: each voxel of ``tumor`` (or, without it, each voxel whose
    centre lies within one voxel diagonal of a map point) holds the signed margin of the nearest surface point of
    ``result.margin_map``; all other voxels are NaN."""
    from scipy.spatial import cKDTree

    mm = getattr(result, "margin_map", None)
    if mm is None:
        raise ValidationError("result.margin_map", None, "the result has no margin map")
    tree = cKDTree(mm.points_mm)
    out = np.full(grid.shape, np.nan, dtype=np.float32)
    if tumor is not None:
        if not tumor.grid.same_as(grid):
            raise ValidationError("tumor.grid", tumor.grid, "must be the grid of the volume")
        idx = np.argwhere(tumor.array)
    else:
        lo, hi = grid.index_box(mm.points_mm.min(axis=0), mm.points_mm.max(axis=0), padding_mm=grid.voxel_diagonal_mm)
        idx = np.argwhere(np.ones(tuple(hi - lo), dtype=bool)) + lo
    d, nearest = tree.query(grid.index_to_world(idx))
    keep = np.ones(len(idx), dtype=bool) if tumor is not None else d <= grid.voxel_diagonal_mm
    out[tuple(idx[keep].T)] = mm.margins_mm[nearest[keep]]
    return out
