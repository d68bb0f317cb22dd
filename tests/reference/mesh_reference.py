"""Slow, obviously correct point-to-mesh distances: every triangle, closest point by projection and clamping."""

import numpy as np


def point_triangle_distance(p, a, b, c) -> float:
    """Distance from p to triangle abc: the face projection if it falls inside, else the nearest of the edges."""
    n = np.cross(b - a, c - a)
    n = n / np.linalg.norm(n)
    q = p - np.dot(p - a, n) * n
    # barycentric test of the projection
    v0, v1, v2 = b - a, c - a, q - a
    d00, d01, d11, d20, d21 = v0 @ v0, v0 @ v1, v1 @ v1, v2 @ v0, v2 @ v1
    den = d00 * d11 - d01 * d01
    v = (d11 * d20 - d01 * d21) / den
    w = (d00 * d21 - d01 * d20) / den
    if v >= 0 and w >= 0 and v + w <= 1:
        return float(np.linalg.norm(p - q))
    best = np.inf
    for s, e in ((a, b), (b, c), (c, a)):
        t = np.clip(np.dot(p - s, e - s) / np.dot(e - s, e - s), 0.0, 1.0)
        best = min(best, float(np.linalg.norm(p - (s + t * (e - s)))))
    return best


def point_mesh_distance(p, vertices, faces) -> float:
    return min(point_triangle_distance(p, *vertices[f]) for f in faces)


def point_mesh_distances(points, vertices, faces) -> np.ndarray:
    """The same for many points, each against all triangles at once (numpy): the face projection where it falls
    inside the triangle, else the nearest point of the three edges (segment projection clamped to its ends)."""
    a, b, c = (vertices[faces[:, k]] for k in range(3))
    n = np.cross(b - a, c - a)
    n /= np.linalg.norm(n, axis=1)[:, None]
    v0, v1 = b - a, c - a
    d00, d01, d11 = (np.einsum("ij,ij->i", x, y) for x, y in ((v0, v0), (v0, v1), (v1, v1)))
    den = d00 * d11 - d01 * d01
    out = np.empty(len(points))
    for i, p in enumerate(np.asarray(points, dtype=float)):
        q = p - np.einsum("ij,ij->i", p - a, n)[:, None] * n
        v2 = q - a
        d20, d21 = np.einsum("ij,ij->i", v2, v0), np.einsum("ij,ij->i", v2, v1)
        v = (d11 * d20 - d01 * d21) / den
        w = (d00 * d21 - d01 * d20) / den
        inside = (v >= 0) & (w >= 0) & (v + w <= 1)
        best = np.where(inside, np.linalg.norm(p - q, axis=1), np.inf)
        for s_, e_ in ((a, b), (b, c), (c, a)):
            t = np.clip(np.einsum("ij,ij->i", p - s_, e_ - s_) / np.einsum("ij,ij->i", e_ - s_, e_ - s_), 0.0, 1.0)
            best = np.minimum(best, np.linalg.norm(p - (s_ + t[:, None] * (e_ - s_)), axis=1))
        out[i] = best.min()
    return out
