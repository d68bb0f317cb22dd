"""Slow, obviously correct point-to-mesh distances: every triangle, closest point by projection and clamping."""

import numba
import numpy as np

from ablasim.geometry._kernels.triangles import _closest


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


def nearest_by_loop(points, vertices, faces) -> np.ndarray:
    """Distance from each point to the mesh as the minimum of ablasim's per-triangle closest-point kernel over every
    triangle, one after the other: what a search through the bounding-volume hierarchy must return to the last bit
    (it evaluates the same kernel on the triangles it does not rule out)."""
    return np.sqrt(_nearest_d2(np.ascontiguousarray(points, dtype=float), vertices, faces))


@numba.njit
def _nearest_d2(points, v, faces):
    q = np.empty(4)
    out = np.empty(points.shape[0])
    for i in range(points.shape[0]):
        best = np.inf
        for f in range(faces.shape[0]):
            a, b, c = faces[f, 0], faces[f, 1], faces[f, 2]
            d2 = _closest(
                points[i, 0], points[i, 1], points[i, 2],
                v[a, 0], v[a, 1], v[a, 2], v[b, 0], v[b, 1], v[b, 2], v[c, 0], v[c, 1], v[c, 2],
                q,
            )  # fmt: skip
            best = min(best, d2)
        out[i] = best
    return out


def winding_numbers(points, vertices, faces) -> np.ndarray:
    """Generalised winding number of a closed, outward-oriented mesh around each point (1 inside, 0 outside): the
    solid angles of its triangles summed over 4 pi (Van Oosterom & Strackee 1983, IEEE Trans. Biomed. Eng. 30:125)."""
    out = np.empty(len(points))
    for i, p in enumerate(np.asarray(points, dtype=float)):
        a, b, c = (vertices[faces[:, k]] - p for k in range(3))
        la, lb, lc = (np.linalg.norm(x, axis=1) for x in (a, b, c))
        det = np.einsum("ij,ij->i", a, np.cross(b, c))
        den = la * lb * lc + np.einsum("ij,ij->i", a, b) * lc + np.einsum("ij,ij->i", b, c) * la
        den += np.einsum("ij,ij->i", c, a) * lb
        out[i] = 2.0 * np.arctan2(det, den).sum() / (4.0 * np.pi)
    return out


def face_neighbours_by_definition(faces) -> np.ndarray:
    """For the edge k -> k+1 (ends a, b) of each face f: the faces g != f that contain b, listed once for each corner
    of g at a; the neighbour is g when the list holds exactly one entry, else -1 (a rim, or an edge shared by more
    than two faces)."""
    faces = np.asarray(faces).tolist()
    nbr = np.full((len(faces), 3), -1, dtype=np.int64)
    for f, face in enumerate(faces):
        for k in range(3):
            a, b = face[k], face[(k + 1) % 3]
            hits = [g for g, other in enumerate(faces) if g != f and b in other for corner in other if corner == a]
            if len(hits) == 1:
                nbr[f, k] = hits[0]
    return nbr
