"""Triangle meshes as numpy arrays (vertices in mm, faces (F, 3) int64), for the renderer; no VTK here.

* ellipsoids: an icosphere mapped through ``center + linear_map``; for a union, each ellipsoid keeps only the
  triangles outside the others, so the shell drawn is the union's boundary;
* implicit zones ``{field <= level}``: marching cubes (scikit-image) on the field sampled over the zone's box (a
  grid field: on its own grid); masks: marching cubes at 0.5;
* every shell is oriented with its normals pointing out of the zone (positive enclosed volume), which the renderer
  relies on to cull the half of a shell that faces the camera.
"""

from __future__ import annotations

import numpy as np

from ..errors import ValidationError
from ..geometry._sphere_mesh import icosphere
from ..geometry.grid import Grid
from ..geometry.mask import Mask
from ..geometry.shapes import Ellipsoid
from ..zones.implicit import GridFieldZone, ImplicitZone

__all__ = [
    "as_zone_list",
    "clip_mesh",
    "ellipsoid_mesh",
    "field_isosurface",
    "implicit_mesh",
    "occluded",
    "probe_shaft",
    "union_shell",
    "vertex_normals",
    "zone_mesh",
]

MAX_SAMPLES = 96**3  # analytic implicit fields are sampled on at most this many points


def ellipsoid_mesh(ellipsoid: Ellipsoid, level: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Surface of an ellipsoid: ``10 * 4**level + 2`` vertices, faces counter-clockwise seen from outside."""
    sphere = icosphere(level)
    verts = ellipsoid.center_mm + sphere.vertices @ ellipsoid.linear_map.T
    return verts, np.array(sphere.faces)


def union_shell(ellipsoids, level: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Boundary of a union of ellipsoids: each ellipsoid's surface clipped to the part outside all the others
    (triangles cut along the crease by linear interpolation of a distance-like function)."""
    verts, faces, offset = [], [], 0
    for i, ell in enumerate(ellipsoids):
        v, f = ellipsoid_mesh(ell, level)
        outside = np.full(len(v), np.inf)
        for j, other in enumerate(ellipsoids):
            if j != i:
                local = (v - other.center_mm) @ other.rotation / other.semi_axes_mm
                approx_mm = (np.linalg.norm(local, axis=1) - 1.0) * float(other.semi_axes_mm.min())
                outside = np.minimum(outside, approx_mm)
        v, f = clip_mesh(v, f, outside)
        verts.append(v)
        faces.append(f + offset)
        offset += len(v)
    return _compact(np.concatenate(verts), np.concatenate(faces))


def clip_mesh(verts, faces, scalar) -> tuple[np.ndarray, np.ndarray]:
    """The part of a triangle mesh where the per-vertex ``scalar`` (linear along edges) is >= 0; cut triangles
    keep their orientation. New vertices are not shared between triangles."""
    verts = np.asarray(verts, dtype=float)
    faces = np.asarray(faces, dtype=np.int64)
    s = np.asarray(scalar, dtype=float)
    keep = s[faces] >= 0
    count = keep.sum(axis=1)
    out_v, out_f = [verts], [faces[count == 3]]
    n = len(verts)

    def cut(a, b):  # points where the scalar crosses zero on edges a-b (a kept, b not, or the reverse)
        t = s[a] / (s[a] - s[b])
        return verts[a] + t[:, None] * (verts[b] - verts[a])

    roll = np.array([[0, 1, 2], [1, 2, 0], [2, 0, 1]])
    one = np.flatnonzero(count == 1)
    if len(one):  # kept vertex first: (a, b, c) -> (a, ab, ac)
        f = faces[one[:, None], roll[np.argmax(keep[one], axis=1)]]
        a, b, c = f.T
        m = len(one)
        out_v += [cut(a, b), cut(a, c)]
        ab, ac = n + np.arange(m), n + m + np.arange(m)
        out_f.append(np.stack([a, ab, ac], axis=1))
        n += 2 * m
    two = np.flatnonzero(count == 2)
    if len(two):  # dropped vertex first: (c, a, b) -> (a, b, bc), (a, bc, ca)
        f = faces[two[:, None], roll[np.argmin(keep[two], axis=1)]]
        c, a, b = f.T
        m = len(two)
        out_v += [cut(b, c), cut(a, c)]
        bc, ca = n + np.arange(m), n + m + np.arange(m)
        out_f += [np.stack([a, b, bc], axis=1), np.stack([a, bc, ca], axis=1)]
    return _compact(np.concatenate(out_v), np.concatenate(out_f))


def _compact(verts, faces):
    used = np.unique(faces)
    remap = np.full(len(verts), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return verts[used], remap[faces]


def vertex_normals(verts, faces) -> np.ndarray:
    """Unit vertex normals (area-weighted face normals), pointing out of the enclosed volume."""
    verts, faces = _oriented(np.asarray(verts, dtype=float), np.asarray(faces, dtype=np.int64))
    fn = np.cross(verts[faces[:, 1]] - verts[faces[:, 0]], verts[faces[:, 2]] - verts[faces[:, 0]])
    n = np.zeros_like(verts)
    for k in range(3):
        np.add.at(n, faces[:, k], fn)
    norm = np.linalg.norm(n, axis=1)
    return n / np.where(norm > 0, norm, 1.0)[:, None]


def _oriented(verts, faces):
    """Faces flipped if needed so that the enclosed (signed) volume is positive: normals point outwards."""
    if len(faces) == 0:
        return verts, faces
    a, b, c = verts[faces[:, 0]], verts[faces[:, 1]], verts[faces[:, 2]]
    ref = verts.mean(axis=0)
    vol = np.einsum("ij,ij->i", a - ref, np.cross(b - ref, c - ref)).sum()
    return (verts, faces) if vol >= 0 else (verts, faces[:, ::-1].copy())


def field_isosurface(values, grid: Grid, level: float, *, inside_below: bool = True):
    """Isosurface ``values == level`` of an array on ``grid``, in world mm, oriented out of the region
    ``values <= level`` (``inside_below``) or ``values >= level``. Empty arrays when the level is not crossed."""
    from skimage.measure import marching_cubes

    vals = np.asarray(values, dtype=np.float64)
    if vals.shape != grid.shape:
        raise ValidationError("values", f"array of shape {vals.shape}", f"must have the grid's shape {grid.shape}")
    if not np.all(np.isfinite(vals)):
        raise ValidationError("values", "array with NaN or inf", "the field must be finite")
    empty = (np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64))
    # Pad with a value on the outside of the region so that shells cut by the grid's edge are closed.
    pad_val = max(float(vals.max()), level + 1.0) if inside_below else min(float(vals.min()), level - 1.0)
    padded = np.pad(vals, 1, constant_values=pad_val)
    if not (padded.min() < level < padded.max()):
        return empty
    verts, faces, _, _ = marching_cubes(padded, level=float(level))
    world = grid.index_to_world(verts - 1.0)
    return _oriented(world, faces.astype(np.int64))


def implicit_mesh(zone, spacing_mm: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Boundary of an implicit zone ``{zone.values(x) <= zone.level}`` (a ``GridFieldZone`` on its own grid,
    anything else sampled over ``zone.bounds()`` at ``spacing_mm``, by default the box / 80, at least 0.25 mm)."""

    if isinstance(zone, GridFieldZone):
        return field_isosurface(zone.field, zone.grid, zone.level)
    lo, hi = (np.asarray(b, dtype=float) for b in zone.bounds())
    ext = hi - lo
    if np.any(ext <= 0):
        return np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64)
    h = float(spacing_mm) if spacing_mm is not None else max(float(ext.max()) / 80.0, 0.25)
    h = max(h, float(np.cbrt(np.prod(ext) / MAX_SAMPLES)))
    shape = tuple(int(v) for v in np.ceil(ext / h).astype(int) + 1)
    grid = Grid(shape, h, lo)
    axes = [lo[k] + h * np.arange(shape[k]) for k in range(3)]
    pts = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
    vals = np.asarray(zone.values(pts), dtype=np.float64).reshape(shape)
    return field_isosurface(vals, grid, zone.level)


def as_zone_list(zone):
    """A zone as the renderer takes it: ``("ellipsoids", [Ellipsoid, ...])``, ``("implicit", zone)`` or
    ``("mask", Mask)``."""

    if isinstance(zone, Ellipsoid):
        return "ellipsoids", [zone]
    if isinstance(zone, ImplicitZone):
        return "implicit", zone
    if isinstance(zone, Mask):
        return "mask", zone
    if isinstance(zone, (list, tuple)) and zone and all(isinstance(z, Ellipsoid) for z in zone):
        return "ellipsoids", list(zone)
    raise ValidationError(
        "zone",
        zone,
        "expected an Ellipsoid, a list of Ellipsoids (their union), an implicit "
        "zone (ablasim.zones.ImplicitZone, e.g. GridFieldZone) or a Mask",
    )


def zone_mesh(zone) -> tuple[np.ndarray, np.ndarray]:
    """Outward-oriented boundary mesh of a zone (see :func:`as_zone_list` for what a zone may be)."""
    kind, z = as_zone_list(zone)
    if kind == "ellipsoids":
        return union_shell(z) if len(z) > 1 else ellipsoid_mesh(z[0], 5)
    if kind == "mask":
        return field_isosurface(z.array.astype(np.float32), z.grid, 0.5, inside_below=False)
    return implicit_mesh(z)


def occluded(eye_mm, targets_mm, verts, faces) -> np.ndarray:
    """For each target point, whether the segment from ``eye_mm`` to it crosses a triangle of the mesh before
    reaching it (Moller-Trumbore, vectorised over the triangles)."""
    eye = np.asarray(eye_mm, dtype=float)
    targets = np.asarray(targets_mm, dtype=float).reshape(-1, 3)
    verts = np.asarray(verts, dtype=float)
    faces = np.asarray(faces, dtype=np.int64)
    out = np.zeros(len(targets), dtype=bool)
    if len(faces) == 0:
        return out
    v0 = verts[faces[:, 0]]
    e1, e2 = verts[faces[:, 1]] - v0, verts[faces[:, 2]] - v0
    s = eye - v0
    q = np.cross(s, e1)
    for i, tgt in enumerate(targets):
        d = tgt - eye
        p = np.cross(d, e2)
        det = np.einsum("ij,ij->i", e1, p)
        ok = np.abs(det) > 1e-12
        inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
        u = np.einsum("ij,ij->i", s, p) * inv
        v = (q @ d) * inv
        t = np.einsum("ij,ij->i", e2, q) * inv
        out[i] = bool(np.any(ok & (u >= 0) & (v >= 0) & (u + v <= 1) & (t > 1e-6) & (t < 1.0 - 1e-6)))
    return out


def probe_shaft(tip_mm, direction, length_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """``(skin_end, tip)``: the shaft runs ``length_mm`` back from the tip, against ``direction``."""
    tip = np.asarray(tip_mm, dtype=float)
    return tip - float(length_mm) * np.asarray(direction, dtype=float), tip
