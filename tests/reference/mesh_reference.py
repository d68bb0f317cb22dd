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
