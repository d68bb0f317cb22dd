"""The QAM-like sphere suite for mask margins, its analytic truth, and a QAM-style baseline.

Geometry (mm) follows the published test cases of the Quantitative Ablation Margin tool (QAM; Sandu, Paolucci et
al., University of Bern; described in docs/references.md): spheres on a 100 mm cube, tumour and ablation zone
concentric, offset along x, y, z and xy, protruding, disjoint, and subcapsular (tumour against the capsule of a
40 mm "liver" sphere, 5 mm exclusion). Spheres are rasterised as in QAM: a voxel is set when its centre lies inside
or on the sphere. The same millimetre geometry is put on three grids: 1 mm (100^3, voxel centres on the integer
millimetres, as QAM), 0.5 mm (200^3) and 0.7 x 0.7 x 2.5 mm (143 x 143 x 40).

Truth: for two spheres the minimum signed margin is ``R - r - |c_zone - c_tumour|`` (conventions.md: the
tumour point farthest from the zone centre). With a capsule exclusion it is the minimum of ``R - |p - c_zone|``
over the tumour-surface points farther than the exclusion distance from the liver sphere: the farthest point when
it is included, else a point of the circle bounding the excluded part (sampled at 2**16 points, within 1e-6 mm).

The QAM-style baseline is written from QAM's published description, not its code: border voxels of a mask are the
mask minus its erosion (6-connectivity); the distance map of the zone border (scipy's exact EDT with the spacing)
is signed positive inside the zone and sampled at the tumour border voxels; everything is cropped to the bounding
box of the masks; border voxels closer than the exclusion distance to the liver border are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ablasim import CapsuleExclusion, Ellipsoid, Grid

GRIDS = {
    "1mm": Grid((100, 100, 100), 1.0),
    "0.5mm": Grid((200, 200, 200), 0.5),
    "0.7x0.7x2.5mm": Grid((143, 143, 40), (0.7, 0.7, 2.5)),
}
LIVER = Ellipsoid.sphere((80.0, 50.0, 50.0), 40.0)
EXCLUDE_MM = 5.0


@dataclass(frozen=True)
class Case:
    name: str
    tumor_r: float
    tumor_c: tuple
    zone_r: float
    zone_c: tuple
    subcapsular: bool = False


CASES = [
    Case("disjoint", 5, (50, 50, 50), 5, (70, 50, 50)),
    Case("identical", 5, (50, 50, 50), 5, (50, 50, 50)),
    Case("concentric-10mm", 5, (50, 50, 50), 15, (50, 50, 50)),
    Case("concentric-5mm", 5, (50, 50, 50), 10, (50, 50, 50)),
    Case("protruding-5mm", 10, (50, 50, 50), 5, (50, 50, 50)),
    Case("offset-xy", 5, (50, 50, 50), 10, (55, 55, 50)),
    Case("offset-z", 5, (50, 50, 50), 10, (50, 50, 55)),
    Case("offset-y", 5, (50, 50, 50), 10, (50, 55, 50)),
    Case("offset-x", 5, (50, 50, 50), 10, (55, 50, 50)),
    Case("sub-identical", 5, (45, 50, 50), 5, (45, 50, 50), True),
    Case("sub-5mm", 5, (45, 50, 50), 7.5, (47.5, 50, 50), True),
    Case("sub-protruding", 7.5, (47.5, 50, 50), 5, (45, 50, 50), True),
    Case("sub-4mm-shift", 5, (49, 50, 50), 7.5, (51.5, 50, 50), True),
    Case("sub-2mm-shift", 5, (47, 50, 50), 7.5, (49.5, 50, 50), True),
    Case("sub-offset-xy", 5, (45, 50, 50), 7.5, (50, 55, 50), True),
    Case("sub-offset-z", 5, (45, 50, 50), 7.5, (47.5, 50, 55), True),
    Case("sub-offset-y", 5, (45, 50, 50), 7.5, (47.5, 55, 50), True),
    Case("sub-offset-x", 5, (45, 50, 50), 7.5, (52.5, 50, 50), True),
]


def shapes(case: Case):
    return Ellipsoid.sphere(case.tumor_c, case.tumor_r), Ellipsoid.sphere(case.zone_c, case.zone_r)


def masks(case: Case, grid: Grid):
    """Tumour, zone and (subcapsular cases) liver masks on ``grid``; None for the liver otherwise."""
    t, z = shapes(case)
    return t.to_mask(grid), z.to_mask(grid), (LIVER.to_mask(grid) if case.subcapsular else None)


def fibonacci_sphere(n: int) -> np.ndarray:
    i = np.arange(n) + 0.5
    phi = np.arccos(1.0 - 2.0 * i / n)
    theta = np.pi * (1.0 + 5.0**0.5) * i
    return np.stack([np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi), np.cos(phi)], axis=1)


def truth(case: Case) -> float:
    """Analytic minimum margin (module docstring)."""
    t, z = shapes(case)
    gap = float(np.linalg.norm(z.center_mm - t.center_mm))
    if not case.subcapsular:
        return case.zone_r - case.tumor_r - gap
    # on the tumour sphere the margin R - |p - c_zone| has one minimum (the point farthest from the zone centre);
    # restricted to the points farther than the exclusion distance from the liver surface, the minimum is that
    # point when it is included, else it lies on a boundary circle where the tumour sphere meets a sphere of radius
    # 40 -/+ 5 mm about the liver centre, sampled here at 2**16 points (spacing < 1e-3 mm: error < 1e-6 mm)
    ct, r, cz, big = t.center_mm, case.tumor_r, z.center_mm, case.zone_r
    cl, rl = LIVER.center_mm, float(LIVER.semi_axes_mm[0])

    def included(p):
        return np.abs(np.linalg.norm(p - cl, axis=-1) - rl) > EXCLUDE_MM

    d = float(np.linalg.norm(cl - ct))
    axis = (cl - ct) / d
    # the farthest point; with concentric spheres every point is, among them the one deepest in the liver
    far = ct + r * ((ct - cz) / gap if gap > 0 else axis)
    cands = [far] if included(far) else []
    helper = np.eye(3)[int(np.argmin(np.abs(axis)))]
    u = np.cross(axis, helper)
    u /= np.linalg.norm(u)
    v = np.cross(axis, u)
    phi = np.linspace(0.0, 2.0 * np.pi, 2**16, endpoint=False)
    for radius in (rl - EXCLUDE_MM, rl + EXCLUDE_MM):
        a = (d * d + r * r - radius * radius) / (2.0 * d)  # the circle's plane, along the axis from the tumour centre
        if abs(a) < r:
            rho = np.sqrt(r * r - a * a)
            cands.extend(ct + a * axis + rho * (np.outer(np.cos(phi), u) + np.outer(np.sin(phi), v)))
    pts = np.asarray(cands)
    return float((big - np.linalg.norm(pts - cz, axis=1)).min())


def exclusion(case: Case, liver_mask):
    return CapsuleExclusion(liver_mask, EXCLUDE_MM) if case.subcapsular else None


def qam_style(tumor, zone, liver, spacing_mm, exclude_mm: float = EXCLUDE_MM) -> float:
    """QAM-style minimum margin of boolean arrays (module docstring)."""
    from scipy import ndimage

    arrays = [a for a in (tumor, zone, liver) if a is not None]
    union = np.logical_or.reduce(arrays)
    nz = [np.flatnonzero(union.any(axis=tuple(b for b in range(3) if b != a))) for a in range(3)]
    sl = tuple(slice(max(n[0] - 1, 0), n[-1] + 2) for n in nz)
    t, z = tumor[sl], zone[sl]
    st = ndimage.generate_binary_structure(3, 1)

    def border(m):
        return m & ~ndimage.binary_erosion(m, structure=st)

    bt, bz = border(t), border(z)
    dz = ndimage.distance_transform_edt(~bz, sampling=spacing_mm)
    dz = np.where(z, dz, -dz)
    if liver is not None:
        lv = liver[sl]
        dl = ndimage.distance_transform_edt(~border(lv), sampling=spacing_mm)
        bt = bt & (dl >= exclude_mm)
    return float(dz[bt].min())
