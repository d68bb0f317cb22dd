"""Slow, obviously correct references for the planning tests."""

import numpy as np


def fibonacci_sphere(n: int) -> np.ndarray:
    """``n`` nearly evenly spread unit vectors (golden-angle spiral)."""
    k = np.arange(n) + 0.5
    z = 1.0 - 2.0 * k / n
    r = np.sqrt(1.0 - z * z)
    phi = np.pi * (3.0 - np.sqrt(5.0)) * k
    return np.column_stack([r * np.cos(phi), r * np.sin(phi), z])


def covered_margin_of_spheres(tumor, centres, radius: float, n: int = 20000) -> float:
    """Margin of a tumour covered by a union of equal spheres: the distance from the tumour to the union's
    boundary, i.e. the smallest distance from a sampled exposed sphere-surface point (outside every other sphere)
    to the tumour. Sampling only overestimates it (by less than the sample spacing)."""
    u = fibonacci_sphere(n)
    best = np.inf
    for i, c in enumerate(centres):
        pts = c + radius * u
        exposed = np.ones(len(pts), dtype=bool)
        for j, other in enumerate(centres):
            if j != i:
                exposed &= np.linalg.norm(pts - other, axis=1) >= radius
        if exposed.any():
            best = min(best, float(tumor.signed_distance(pts[exposed]).min()))
    return best


def segment_distance_brute(p0, p1, q0, q1, n: int = 801) -> float:
    """Minimum over a dense grid of both segments (overestimates by at most the grid step)."""
    t = np.linspace(0.0, 1.0, n)
    a = p0 + t[:, None] * (p1 - p0)
    b = q0 + t[:, None] * (q1 - q0)
    d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2)
    return float(np.sqrt(d2.min()))
