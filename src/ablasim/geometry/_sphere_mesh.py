"""Geodesic (icosahedral) meshes of the unit sphere, used to sample ellipsoid surfaces.

An ellipsoid surface is the image of the unit sphere under ``u -> c + R diag(a) u``; sampling it through a
subdivided icosahedron gives near-uniform triangles with known connectivity (for local-minimum detection and for
finding where a surface crosses another one along mesh edges) and per-vertex area weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

__all__ = ["MAX_LEVEL", "SphereMesh", "icosphere", "level_for_cover"]

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


def _subdivide(v, f):
    edges = np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1)
    uniq, inverse = np.unique(edges, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    mid = v[uniq[:, 0]] + v[uniq[:, 1]]
    mid /= np.linalg.norm(mid, axis=1)[:, None]
    nf = len(f)
    m01, m12, m20 = (inverse[:nf] + len(v), inverse[nf : 2 * nf] + len(v), inverse[2 * nf :] + len(v))
    a, b, c = f[:, 0], f[:, 1], f[:, 2]
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
    """Icosahedron subdivided ``level`` times (``10 * 4**level + 2`` vertices). Arrays are read-only."""
    if not 0 <= level <= MAX_LEVEL:
        raise ValueError(f"level must be in 0..{MAX_LEVEL}")
    v, f = _base()
    for _ in range(level):
        v, f = _subdivide(v, f)
    edges = np.unique(np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1), axis=0)
    both = np.concatenate([edges, edges[:, ::-1]])
    order = np.argsort(both[:, 0], kind="stable")
    both = both[order]
    ptr = np.zeros(len(v) + 1, dtype=np.int64)
    np.add.at(ptr, both[:, 0] + 1, 1)
    ptr = np.cumsum(ptr)
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
