"""Partial volumes of binary masks from shape-based interpolation between slices (kernels in
``_kernels/slices.py``; the sections of each slice, their labels and in-plane distances, in ``_kernels/sections.py``).

:func:`column_partial_volume` resolves, along one axis, where each column of the mask crosses the surface between
two slices, and returns the fraction of each voxel (of a finer grid along that axis, when asked) lying inside.
:func:`partial_volume` combines the three axes of a (near-)isotropic grid, each weighted by the square of the
surface normal's component along it: a column crosses a surface most precisely where the surface faces along it,
and the squares of a unit normal's components sum to one. :func:`thick_slice_partial_volume` refines thick slices
and resolves the acquired slices in-plane (:func:`chord_partial_volume`, the 2-D form of the same construction).
"""

from __future__ import annotations

import numpy as np

from ._kernels.sections import section_distances, section_labels
from ._kernels.slices import chord_runs, fill_columns, neighbour_areas
from ._kernels.smoothing import gaussian3, normal_blend


def column_partial_volume(vol: np.ndarray, spacing, axis: int, fine_mm: float | None = None):
    """Partial volume of the boolean ``vol`` resolved along ``axis`` (of spacing ``spacing[axis]``), on the same
    grid or, with ``fine_mm``, on a grid refined along that axis to about ``fine_mm``.

    Returns the float32 volume and the refinement factor of each axis (old spacing / new spacing)."""
    v = np.ascontiguousarray(np.moveaxis(np.asarray(vol, dtype=np.bool_), axis, -1))
    sp = [float(s) for a, s in enumerate(spacing) if a != axis]
    h = min(sp)
    lab = np.empty(v.shape, dtype=np.int64)
    n, counts = section_labels(v, lab)  # the 4-connected sections of each slice
    area = counts.astype(np.float64) * sp[0] * sp[1]
    up, down, up2, down2 = neighbour_areas(lab, n + 1, area)
    d = np.empty(v.shape)
    # boundaries half-way between centres; a slice whose ring searches read more than 8 times its pixels is
    # transformed whole (far cheaper when sections change a lot from one slice to the next: 18x on a stepped mask)
    section_distances(v, lab, up, down, sp[0], sp[1], 8, d)
    f = 1.0 if fine_mm is None else float(spacing[axis]) / float(fine_mm)
    nf = round((v.shape[2] - 1) * f) + 1 if fine_mm is not None else v.shape[2]
    fine = np.arange(nf, dtype=np.float64) / f
    out = np.empty(v.shape[:2] + (nf,), dtype=np.float32)
    c_sphere = np.pi * float(spacing[axis]) ** 2  # a sphere's section area: A'' = -2 pi per mm2 of offset
    fill_columns(v, d, lab, area, up, down, up2, down2, fine, c_sphere, h, False, out)
    factor = np.ones(3)
    factor[axis] = f
    return np.moveaxis(out, -1, axis), factor


def partial_volume(vol: np.ndarray, spacing, sigma_mm: float) -> np.ndarray:
    """Partial volume of a (near-)isotropic boolean ``vol``: the three axes' column partial volumes weighted by
    the squared normal components, the normal taken from the mask smoothed by ``sigma_mm``."""
    sp = np.array(spacing, dtype=float)  # writable: one compiled version of the kernels
    pvs = [np.ascontiguousarray(column_partial_volume(vol, sp, a)[0]) for a in range(3)]
    g = gaussian(vol.astype(np.float32), sigma_mm / sp, truncate=2.0)
    out = np.empty(g.shape, dtype=np.float32)
    normal_blend(g, pvs[0], pvs[1], pvs[2], sp, out)  # numpy.gradient's differences, weights w_a = g_a^2
    return out


def gaussian_weights(sigma_voxels: float, truncate: float) -> np.ndarray:
    """The weights of a Gaussian of ``sigma_voxels`` cut at ``truncate`` standard deviations (radius rounded to
    the nearest voxel), normalised to sum one: those of ``scipy.ndimage.gaussian_filter``; a single weight 1 for
    sigma 0."""
    if sigma_voxels <= 1e-15:
        return np.ones(1)
    radius = int(truncate * float(sigma_voxels) + 0.5)
    x = np.arange(-radius, radius + 1)
    phi = np.exp(-0.5 / (float(sigma_voxels) * float(sigma_voxels)) * x**2)
    return phi / phi.sum()


def gaussian(vol: np.ndarray, sigma_voxels, truncate: float, nearest: bool = False) -> np.ndarray:
    """Gaussian smoothing of a float32 volume with per-axis standard deviations (voxels), beyond the faces the
    nearest value (``nearest``) or zero; the values of ``scipy.ndimage.gaussian_filter`` with the same arguments."""
    src = np.ascontiguousarray(vol, dtype=np.float32)
    sig = np.broadcast_to(np.asarray(sigma_voxels, dtype=float), (3,))
    out = np.empty(src.shape, dtype=np.float32)
    gaussian3(src, *(gaussian_weights(float(s), truncate) for s in sig), bool(nearest), out)
    return out


def chord_partial_volume(vol: np.ndarray, spacing, normal: int, axis: int) -> np.ndarray:
    """Partial volume of the boolean ``vol`` resolved along ``axis`` within each slice normal to ``normal`` (2-D:
    nothing is shared between slices): a row along ``axis`` leaves the section between two pixels where the chords
    along the third axis say, the squared chord length following a quadratic through three rows (exact for every
    ellipse, as the areas of an ellipsoid's sections are along a column)."""
    other = 3 - normal - axis
    perm = (normal, other, axis)
    v = np.ascontiguousarray(np.transpose(np.asarray(vol, dtype=np.bool_), perm))
    h = float(spacing[other])
    d = np.empty(v.shape)
    lab = np.empty(v.shape, dtype=np.int64)
    n = chord_runs(v, h, d, lab)
    length = np.bincount(lab.ravel(), minlength=n + 1).astype(np.float64) * h
    sq = length * length
    sq[0] = 0.0
    up, down, up2, down2 = neighbour_areas(lab, n + 1, sq)
    out = np.empty(v.shape, dtype=np.float32)
    c_circle = 4.0 * float(spacing[axis]) ** 2  # a circle's chords: (L^2)'' = -8 per mm2 of offset
    fine = np.arange(v.shape[2], dtype=np.float64)
    fill_columns(v, d, lab, sq, up, down, up2, down2, fine, c_circle, h, True, out)
    return np.transpose(out, np.argsort(perm))


def thick_slice_partial_volume(vol: np.ndarray, spacing, limit: float, sigma_mm: float):
    """Refine every axis whose spacing exceeds ``limit`` times the finest, by the smallest whole factor that brings
    it within that limit (thickest first; an earlier refinement is thresholded at one half before the next).

    With one thick axis (slices), the acquired slices are resolved in-plane as well: on their planes of the refined
    grid the partial volume is the average of the refined one and the two in-plane :func:`chord_partial_volume`,
    weighted by the squared components of the normal of the refined volume smoothed by ``sigma_mm`` (as
    :func:`partial_volume` combines three axes). Returns the partial volume, the per-axis refinement factors and
    the refined spacing."""
    sp = np.asarray(spacing, dtype=float).copy()
    h = float(sp.min())
    factor = np.ones(3)
    out = np.asarray(vol, dtype=np.bool_)
    pv = None
    thick = [int(a) for a in np.argsort(-sp) if sp[a] > limit * h]
    for axis in thick:
        if pv is not None:
            out = pv > 0.5
        fine = sp[axis] / np.ceil(sp[axis] / (limit * h))
        pv, f = column_partial_volume(out, sp, axis, fine_mm=fine)
        factor *= f
        sp = sp / f
    if len(thick) == 1 and pv is not None:
        axis = thick[0]
        planes = (slice(None),) * axis + (slice(0, None, round(float(factor[axis]))),)  # the acquired slices
        g = gaussian(pv, sigma_mm / sp, truncate=2.0)
        w = [x[planes] ** 2 for x in np.gradient(g, *sp)]
        num = w[axis] * pv[planes]
        for a in range(3):
            if a != axis:
                num += w[a] * chord_partial_volume(vol, spacing, axis, a)
        total = w[0] + w[1] + w[2]
        pv[planes] = np.where(total > 0, num / np.where(total > 0, total, 1.0), pv[planes])
    return pv, factor, sp
