"""Orthogonal slice views (axial, coronal, sagittal) of fields, masks and shapes, with contours (matplotlib).

Inputs are plain: an array on a :class:`~ablasim.geometry.grid.Grid` (e.g. a temperature field from the bioheat
solver), a
:class:`~ablasim.geometry.mask.Mask`, a :class:`~ablasim.zones.GridFieldZone`, or no field at all (outlines only). The
planes are world planes through ``center_mm``: any grid orientation is resampled onto them (trilinear).

Orientation (world mm; for LPS data the radiological views, as in the 3D presets): axial ``z = c``, x to the right,
-y up; coronal ``y = c``, x to the right, z up; sagittal ``x = c``, y to the right, z up.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_float, as_vector3
from ..errors import ValidationError
from ..geometry.grid import Grid
from ..geometry.mask import Mask
from ..geometry.shapes import Ellipsoid
from ..zones.implicit import GridFieldZone, ImplicitZone
from ._colors import line_color
from ._meshes import as_zone_list
from .plots import _figure, _finish

__all__ = ["PLANES", "slice_views"]

# plane -> (fixed axis, horizontal axis, vertical axis, vertical axis points down on screen)
PLANES = {"axial": (2, 0, 1, True), "coronal": (1, 0, 2, False), "sagittal": (0, 1, 2, False)}
_AXIS = "xyz"
TUMOR_COLOR = "#111111"
MAX_PIXELS = 400


def _field(field, grid):
    """(values, grid, kind) with kind 'field' or 'mask', or None."""

    if field is None:
        return None
    if isinstance(field, Mask):
        return field.array.astype(np.float32), field.grid, "mask"
    if isinstance(field, GridFieldZone):
        return field.field, field.grid, "field"
    if not isinstance(grid, Grid):
        raise ValidationError("grid", grid, "an array field needs its ablasim.Grid")
    arr = np.asarray(field)
    if arr.shape != grid.shape:
        raise ValidationError("field", f"array of shape {arr.shape}", f"must have the grid's shape {grid.shape}")
    if arr.dtype == np.bool_:
        return arr.astype(np.float32), grid, "mask"
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValidationError("field", "array with NaN or inf", "the field must be finite")
    return arr, grid, "field"


def _sample_grid(values, grid, pts):
    from scipy.ndimage import map_coordinates

    idx = grid.world_to_index(pts)
    return map_coordinates(values, idx.T, order=1, mode="constant", cval=np.nan)


def _shape_box(obj):

    if isinstance(obj, Ellipsoid):
        return obj.bounding_box()
    if isinstance(obj, Mask):
        return obj.world_bounds() if not obj.is_empty() else obj.grid.world_bounds()
    if isinstance(obj, list):
        boxes = [e.bounding_box() for e in obj]
        return np.min([b[0] for b in boxes], axis=0), np.max([b[1] for b in boxes], axis=0)
    if isinstance(obj, ImplicitZone):
        return obj.bounds()
    raise ValidationError("shape", obj, "expected an Ellipsoid, a Mask or an implicit zone")


def _level_values(obj, pts):
    """(values, level) whose contour at ``level`` is the boundary of ``obj``."""
    if isinstance(obj, Ellipsoid):
        local = (pts - obj.center_mm) @ obj.rotation / obj.semi_axes_mm
        return np.einsum("ij,ij->i", local, local), 1.0
    if isinstance(obj, list):  # union of ellipsoids: the smallest distance-like value, boundary at 0
        vals = [
            (np.linalg.norm((pts - e.center_mm) @ e.rotation / e.semi_axes_mm, axis=1) - 1.0)
            * float(e.semi_axes_mm.min())
            for e in obj
        ]
        return np.min(vals, axis=0), 0.0
    if isinstance(obj, Mask):
        return _sample_grid(obj.array.astype(np.float32), obj.grid, pts), 0.5
    return obj.values(pts), float(obj.level)


def _zone_items(zones):
    if zones is None:
        return []
    items = list(zones.items()) if isinstance(zones, dict) else [("ablation zone", zones)]
    out = []
    for i, (label, z) in enumerate(items):
        _kind, parts = as_zone_list(z)
        iso = label if isinstance(label, (int, float)) and not isinstance(label, bool) else None
        text = f"{iso:g} degC isotherm" if iso is not None else str(label)
        out.append((text, parts, line_color(iso, i)))
    return out


def slice_views(
    field=None,
    grid: Grid | None = None,
    *,
    center_mm=None,
    planes=("axial", "coronal", "sagittal"),
    isotherms_c=(0.0, -20.0, -40.0),
    tumor=None,
    zones=None,
    thinnest_point_mm=None,
    resolution_mm: float | None = None,
    field_label: str = "temperature (degC)",
    cmap: str = "RdYlBu_r",
    clim=None,
    path=None,
    title: str | None = None,
    dpi: int = 100,
):
    """Orthogonal slices through ``center_mm`` (default: the thinnest point, else the tumour's centre, else the
    field's centre), one panel per plane.

    field : None, an array on ``grid`` (a temperature field: shown with ``cmap`` and contoured at ``isotherms_c``;
        a boolean array: a mask), a Mask, or a GridFieldZone (its field, contoured at the isotherms and its level)
    tumor : Ellipsoid or Mask, drawn as a black outline
    zones : a zone or ``{isotherm_c or label: zone}`` (Ellipsoids, implicit zones, Masks), drawn as dashed
        outlines in the colours of the 3D shells
    thinnest_point_mm : marked with a yellow star on the planes that pass within one pixel of it
    resolution_mm : pixel size of the resampled planes (default: the grid's finest spacing, or the view / 250)
    """
    from matplotlib import patheffects
    from matplotlib.lines import Line2D

    halo = [patheffects.withStroke(linewidth=3.8, foreground="white")]

    fdata = _field(field, grid)
    plist = [planes] if isinstance(planes, str) else list(planes)
    if not plist or any(p not in PLANES for p in plist):
        raise ValidationError("planes", planes, f"expected some of {', '.join(PLANES)}")
    isos = [as_float(v, "isotherms_c") for v in np.atleast_1d(isotherms_c)] if isotherms_c is not None else []
    zitems = _zone_items(zones)
    if tumor is not None and not isinstance(tumor, (Ellipsoid, Mask)):
        raise ValidationError("tumor", tumor, "expected an Ellipsoid or a Mask")
    tp = None if thinnest_point_mm is None else as_vector3(thinnest_point_mm, "thinnest_point_mm")
    boxes = [_shape_box(tumor)] if tumor is not None else []
    boxes += [_shape_box(parts) for _, parts, _ in zitems]
    if fdata is not None:
        boxes = [fdata[1].world_bounds()]
    if not boxes:
        raise ValidationError("field", None, "nothing to show: give a field, a tumour or zones")
    lo = np.min([b[0] for b in boxes], axis=0)
    hi = np.max([b[1] for b in boxes], axis=0)
    if fdata is None:
        pad = 0.1 * float(np.max(hi - lo))
        lo, hi = lo - pad, hi + pad
    if center_mm is not None:
        center = as_vector3(center_mm, "center_mm")
    elif tp is not None:
        center = tp
    elif isinstance(tumor, Ellipsoid):
        center = tumor.center_mm
    else:
        center = 0.5 * (lo + hi)
    if resolution_mm is not None:
        res = as_float(resolution_mm, "resolution_mm", positive=True)
    elif fdata is not None:
        res = float(fdata[1].spacing_mm.min())
    else:
        res = float(np.max(hi - lo)) / 250.0
    res = max(res, float(np.max(hi - lo)) / MAX_PIXELS)

    levels = sorted(set(isos) | ({float(field.level)} if hasattr(field, "level") else set()), reverse=True)
    iso_colors = {lv: line_color(lv, i) for i, lv in enumerate(levels)}
    fig = _figure((4.3 * len(plist) + (0.8 if fdata and fdata[2] == "field" else 0.0), 4.6), dpi)
    axes = fig.subplots(1, len(plist), squeeze=False)[0]
    image = None
    for ax, name in zip(axes, plist):
        fixed, hu, hv, down = PLANES[name]
        u = np.arange(lo[hu], hi[hu] + 0.5 * res, res)
        v = np.arange(lo[hv], hi[hv] + 0.5 * res, res)
        uu, vv = np.meshgrid(u, v)  # rows: v, columns: u
        pts = np.zeros((uu.size, 3))
        pts[:, fixed], pts[:, hu], pts[:, hv] = center[fixed], uu.ravel(), vv.ravel()
        extent = (u[0] - res / 2, u[-1] + res / 2, v[0] - res / 2, v[-1] + res / 2)
        if fdata is not None:
            vals = _sample_grid(fdata[0], fdata[1], pts).reshape(uu.shape)
            if fdata[2] == "mask":
                ax.imshow(vals > 0.5, origin="lower", extent=extent, cmap="Greys", vmin=0, vmax=1.6, alpha=0.8)
            else:
                lim = clim if clim is not None else (float(np.nanmin(fdata[0])), float(np.nanmax(fdata[0])))
                image = ax.imshow(vals, origin="lower", extent=extent, cmap=cmap, vmin=lim[0], vmax=lim[1])
                for lv in levels:
                    if np.nanmin(vals) < lv < np.nanmax(vals):
                        ax.contour(
                            uu,
                            vv,
                            vals,
                            levels=[lv],
                            colors=[iso_colors[lv]],
                            linewidths=2.0,
                            linestyles="solid",
                            path_effects=halo,
                        )
        for _label, parts, color in zitems:
            zv, zl = _level_values(parts, pts)
            zv = zv.reshape(uu.shape)
            if np.nanmin(zv) < zl < np.nanmax(zv):
                ax.contour(uu, vv, zv, levels=[zl], colors=[color], linewidths=1.8, linestyles="--", path_effects=halo)
        if tumor is not None:
            tv, tl = _level_values(tumor, pts)
            tv = tv.reshape(uu.shape)
            if np.nanmin(tv) < tl < np.nanmax(tv):
                ax.contour(
                    uu, vv, tv, levels=[tl], colors=TUMOR_COLOR, linewidths=1.6, linestyles="solid", path_effects=halo
                )
        if tp is not None and abs(tp[fixed] - center[fixed]) <= res:
            ax.plot([tp[hu]], [tp[hv]], "*", color="#ffe14d", markeredgecolor="black", markersize=14, gid="thinnest")
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim((extent[3], extent[2]) if down else (extent[2], extent[3]))
        ax.set_aspect("equal")
        ax.set_facecolor("#f4f4f4")
        ax.set_title(f"{name} ({_AXIS[fixed]} = {center[fixed]:.1f} mm)", fontsize="medium")
        ax.set_xlabel(f"{_AXIS[hu]} (mm)")
        ax.set_ylabel(f"{_AXIS[hv]} (mm)")
    if image is not None:
        fig.colorbar(image, ax=list(axes), label=field_label, shrink=0.85)
    handles = []
    if tumor is not None:
        handles.append(Line2D([], [], color=TUMOR_COLOR, linewidth=1.6, label="tumour"))
    handles += [Line2D([], [], color=c, linewidth=1.8, linestyle="--", label=lab) for lab, _, c in zitems]
    if fdata is not None and fdata[2] == "field":
        handles += [Line2D([], [], color=iso_colors[lv], linewidth=2.0, label=f"{lv:g} degC") for lv in levels]
    if tp is not None:
        handles.append(
            Line2D(
                [],
                [],
                marker="*",
                color="#ffe14d",
                markeredgecolor="black",
                linestyle="none",
                markersize=12,
                label="thinnest point",
            )
        )
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 5), fontsize="small")
    return _finish(fig, path, title)
