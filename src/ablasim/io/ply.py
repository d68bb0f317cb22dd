"""Binary PLY meshes with per-vertex arrays: written by :func:`ablasim.io.export.write_mesh`, read back exactly by
:func:`read_ply`.

ablasim writes little-endian binary PLY with the vertex coordinates and every per-vertex array (such as
``margin_mm``) as 64-bit floats, so a round trip through :func:`read_ply` returns the same numbers. Other readers
differ in what they keep: VTK's PLY reader (pyvista, 3D Slicer) loads the geometry but drops the extra vertex
arrays; use ``.vtp`` to carry them into those tools (docs/images.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ValidationError
from ..geometry.surfaces import SurfaceMesh

__all__ = ["ply_bytes", "read_ply"]

_TYPES = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1", "short": "i2", "int16": "i2", "ushort": "u2",
    "uint16": "u2", "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4", "float": "f4", "float32": "f4",
    "double": "f8", "float64": "f8",
}  # fmt: skip


def ply_bytes(mesh: SurfaceMesh, data: dict[str, np.ndarray]) -> bytes:
    """The binary PLY file of ``mesh`` with the per-vertex arrays ``data`` (LPS millimetres)."""
    v = mesh.vertices_mm
    names = list(data)
    props = "".join(f"property double {n}\n" for n in names)
    head = (
        "ply\nformat binary_little_endian 1.0\ncomment SPACE=LPS\ncomment lengths in mm, written by ablasim\n"
        f"element vertex {len(v)}\nproperty double x\nproperty double y\nproperty double z\n{props}"
        f"element face {len(mesh.faces)}\nproperty list uchar int vertex_indices\nend_header\n"
    )
    vert = np.zeros(len(v), dtype=[("p", "<f8", 3)] + [(n, "<f8") for n in names])
    vert["p"] = v
    for n in names:
        vert[n] = data[n]
    face = np.zeros(len(mesh.faces), dtype=[("k", "u1"), ("i", "<i4", 3)])
    face["k"], face["i"] = 3, mesh.faces
    return head.encode("ascii") + vert.tobytes() + face.tobytes()


def read_ply(path) -> tuple[SurfaceMesh, dict[str, np.ndarray]]:
    """A triangle mesh and its per-vertex arrays (other than x, y, z) from a binary little-endian PLY file.

    Raises ValidationError naming the file and the header field for other PLY variants, faces that are not
    triangles, and truncated files."""
    src = str(path)
    raw = Path(path).read_bytes()
    end = raw.find(b"end_header\n")
    if not raw.startswith(b"ply\n") or end < 0:
        raise ValidationError(f"{src} [header]", raw[:16], "not a PLY file (no 'ply' ... 'end_header')")
    lines = raw[:end].decode("ascii", errors="replace").splitlines()
    if "format binary_little_endian 1.0" not in lines:
        raise ValidationError(f"{src} [format]", lines[1:2], "only binary_little_endian 1.0 is read")
    elements: list[tuple[str, int, list]] = []
    for line in lines:
        words = line.split()
        if words[:1] == ["element"] and len(words) == 3:
            elements.append((words[1], int(words[2]), []))
        elif words[:1] == ["property"] and elements:
            if words[1] == "list" and len(words) == 5 and words[2] in _TYPES and words[3] in _TYPES:
                elements[-1][2].append((words[4], ("list", _TYPES[words[2]], _TYPES[words[3]])))
            elif len(words) == 3 and words[1] in _TYPES:
                elements[-1][2].append((words[2], "<" + _TYPES[words[1]]))
            else:
                raise ValidationError(f"{src} [property]", line, "unknown property type")
    pos = end + len(b"end_header\n")
    verts = faces = None
    data: dict[str, np.ndarray] = {}
    for name, count, props in elements:
        if any(isinstance(t, tuple) for _, t in props):
            if name != "face" or len(props) != 1:
                raise ValidationError(f"{src} [element {name}]", props, "lists are read only as the faces")
            _, count_t, index_t = props[0][1]
            dtype = np.dtype([("k", count_t), ("i", "<" + index_t, 3)])
            block = _take(raw, pos, dtype, count, src, name)
            if np.any(block["k"] != 3):
                raise ValidationError(f"{src} [element face]", "polygons", "only triangles are read")
            faces = block["i"].astype(np.int64)
        else:
            dtype = np.dtype(list(props))
            block = _take(raw, pos, dtype, count, src, name)
            if name == "vertex":
                verts = np.stack([block[c].astype(np.float64) for c in ("x", "y", "z")], axis=1)
                data = {n: block[n].astype(np.float64) for n, _ in props if n not in ("x", "y", "z")}
        pos += dtype.itemsize * count
    if verts is None or faces is None:
        raise ValidationError(f"{src} [element]", [e[0] for e in elements], "needs a vertex and a face element")
    return SurfaceMesh(verts, faces), data


def _take(raw: bytes, pos: int, dtype: np.dtype, count: int, src: str, name: str) -> np.ndarray:
    if pos + dtype.itemsize * count > len(raw):
        raise ValidationError(f"{src} [element {name}]", count, "the file is truncated")
    return np.frombuffer(raw, dtype=dtype, count=count, offset=pos)
