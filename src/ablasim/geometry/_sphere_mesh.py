"""Geodesic (icosahedral) meshes of the unit sphere, used to sample ellipsoid surfaces.

An ellipsoid surface is the image of the unit sphere under ``u -> c + R diag(a) u``; sampling it through a
subdivided icosahedron gives near-uniform triangles with known connectivity (for local-minimum detection and for
finding where a surface crosses another one along mesh edges) and per-vertex area weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

__all__ = ["MAX_LEVEL", "MeshHierarchy", "SphereMesh", "hierarchy", "icosphere", "level_for_cover"]

MAX_LEVEL = 7


@dataclass(frozen=True)
class SphereMesh:
    vertices: np.ndarray  # (V, 3) unit vectors
    faces: np.ndarray  # (F, 3) int64, counter-clockwise seen from outside
    edges: np.ndarray  # (E, 2) int64, each undirected edge once
    nbr_ptr: np.ndarray  # CSR offsets into nbr_idx, (V + 1,)
    nbr_idx: np.ndarray  # neighbours of each vertex
    max_edge_angle: float  # largest edge, radians on the unit sphere
    max_cover_angle: float  # largest triangle circumradius (angle): every point is this close to a vertex


def _base():
    t = (1.0 + 5.0**0.5) / 2.0
    v = np.array(
        [
            [-1, t, 0],
            [1, t, 0],
            [-1, -t, 0],
            [1, -t, 0],
            [0, -1, t],
            [0, 1, t],
            [0, -1, -t],
            [0, 1, -t],
            [t, 0, -1],
            [t, 0, 1],
            [-t, 0, -1],
            [-t, 0, 1],
        ],
        dtype=float,
    )
    v /= np.linalg.norm(v, axis=1)[:, None]
    f = np.array(
        [
            [0, 11, 5],
            [0, 5, 1],
            [0, 1, 7],
            [0, 7, 10],
            [0, 10, 11],
            [1, 5, 9],
            [5, 11, 4],
            [11, 10, 2],
            [10, 7, 6],
            [7, 1, 8],
            [3, 9, 4],
            [3, 4, 2],
            [3, 2, 6],
            [3, 6, 8],
            [3, 8, 9],
            [4, 9, 5],
            [2, 4, 11],
            [6, 2, 10],
            [8, 6, 7],
            [9, 8, 1],
        ],
        dtype=np.int64,
    )
    return v, f


def _edge_keys(f, nv):
    """Sorted undirected edges of the faces as 1-D keys ``a * nv + b`` (a < b), in (v0v1, v1v2, v2v0) blocks."""
    e = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    e.sort(axis=1)
    return e[:, 0] * nv + e[:, 1]


def _subdivide(v, f):
    nv = len(v)
    uniq, inverse = np.unique(_edge_keys(f, nv), return_inverse=True)  # 1-D keys: same order as unique rows
    inverse = inverse.reshape(-1)
    mid = v[uniq // nv] + v[uniq % nv]
    mid /= np.linalg.norm(mid, axis=1)[:, None]
    nf = len(f)
    m01, m12, m20 = (inverse[:nf] + nv, inverse[nf : 2 * nf] + nv, inverse[2 * nf :] + nv)
    a, b, c = f[:, 0], f[:, 1], f[:, 2]
    # child j of face i is face j * nf + i of the next level (the hierarchy below relies on this order)
    new_f = np.concatenate(
        [
            np.stack([a, m01, m20], 1),
            np.stack([b, m12, m01], 1),
            np.stack([c, m20, m12], 1),
            np.stack([m01, m12, m20], 1),
        ]
    )
    return np.concatenate([v, mid]), new_f


@cache
def icosphere(level: int) -> SphereMesh:
    """Icosahedron subdivided ``level`` times (``10 * 4**level + 2`` vertices). Arrays are read-only.

    The vertices of a level come first, in the same order, in every finer level."""
    if not 0 <= level <= MAX_LEVEL:
        raise ValueError(f"level must be in 0..{MAX_LEVEL}")
    if level == 0:
        v, f = _base()
    else:
        coarse = icosphere(level - 1)
        v, f = _subdivide(coarse.vertices, coarse.faces)
    nv = len(v)
    keys = np.unique(_edge_keys(f, nv))
    edges = np.stack([keys // nv, keys % nv], axis=1)
    both = np.concatenate([edges, edges[:, ::-1]])
    order = np.argsort(both[:, 0], kind="stable")
    both = both[order]
    ptr = np.concatenate([[0], np.cumsum(np.bincount(both[:, 0], minlength=nv))]).astype(np.int64)
    ang = np.arccos(np.clip(np.einsum("ij,ij->i", v[edges[:, 0]], v[edges[:, 1]]), -1, 1))
    # Circumradius angle of each spherical triangle: angle between the circumcentre direction and a vertex.
    p0, p1, p2 = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    cc = np.cross(p1 - p0, p2 - p0)
    cc /= np.linalg.norm(cc, axis=1)[:, None]
    cover = np.arccos(np.clip(np.einsum("ij,ij->i", cc, p0), -1, 1))
    mesh = SphereMesh(
        v,
        f.astype(np.int64),
        edges.astype(np.int64),
        ptr,
        both[:, 1].astype(np.int64).copy(),
        float(ang.max()),
        float(cover.max()),
    )
    for arr in (mesh.vertices, mesh.faces, mesh.edges, mesh.nbr_ptr, mesh.nbr_idx):
        arr.setflags(write=False)
    return mesh


@dataclass(frozen=True)
class MeshHierarchy:
    """Levels 0..``level`` of the icosphere for coarse-to-fine searches (arrays read-only, C-contiguous).

    ``faces[face_offset[l]:face_offset[l + 1]]`` are the faces of level ``l``; child ``j`` (0..3) of face ``i`` of
    level ``l`` is face ``face_offset[l + 1] + j * n_l + i`` (``n_l`` faces at level ``l``). ``cover[l]`` and
    ``edge[l]`` are the largest covering and edge angles of level ``l``. ``edges``, ``face_edges`` (the edges
    v0v1, v1v2, v2v0 of each finest face), ``nbr_ptr`` and ``nbr_idx`` belong to the finest level.
    """

    level: int
    vertices: np.ndarray
    faces: np.ndarray
    face_offset: np.ndarray
    cover: np.ndarray
    edge: np.ndarray
    edges: np.ndarray
    face_edges: np.ndarray
    nbr_ptr: np.ndarray
    nbr_idx: np.ndarray


@cache
def hierarchy(level: int) -> MeshHierarchy:
    meshes = [icosphere(lv) for lv in range(level + 1)]
    fine = meshes[-1]
    nv = len(fine.vertices)
    keys = fine.edges[:, 0] * nv + fine.edges[:, 1]
    face_edges = np.searchsorted(keys, _edge_keys(fine.faces, nv)).reshape(3, -1).T
    out = MeshHierarchy(
        level,
        fine.vertices,
        np.ascontiguousarray(np.concatenate([m.faces for m in meshes])),
        np.concatenate([[0], np.cumsum([len(m.faces) for m in meshes])]).astype(np.int64),
        np.array([m.max_cover_angle for m in meshes]),
        np.array([m.max_edge_angle for m in meshes]),
        fine.edges,
        np.ascontiguousarray(face_edges, dtype=np.int64),
        fine.nbr_ptr,
        fine.nbr_idx,
    )
    for arr in (out.faces, out.face_offset, out.cover, out.edge, out.face_edges):
        arr.setflags(write=False)
    return out


# Largest covering angle per level, read off the meshes (cheap up to level 5; each further subdivision halves it to
# within 1 %, so beyond level 5 we extrapolate with that 1 % margin).
@cache
def _cover_angle(level: int) -> float:
    if level <= 5:
        return icosphere(level).max_cover_angle
    return _cover_angle(5) / 2 ** (level - 5) * 1.01


def level_for_cover(max_radius_mm: float, cover_mm: float, min_level: int = 2) -> int:
    """Smallest level at which every point of an ellipsoid with largest semi-axis ``max_radius_mm`` lies within
    ``cover_mm`` of a mesh vertex (the map ``u -> c + R diag(a) u`` stretches distances by at most ``a_max``)."""
    for level in range(min_level, MAX_LEVEL + 1):
        if max_radius_mm * _cover_angle(level) <= cover_mm:
            return level
    return MAX_LEVEL
