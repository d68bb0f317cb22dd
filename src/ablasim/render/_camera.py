"""Cameras without VTK: presets, framing and the world -> pixel projection the renderer uses.

A :class:`Camera` is what VTK's camera needs (position, focal point, view-up, vertical view angle) and nothing else,
so the projection of a world point onto the image can be computed here, in numpy, and checked against VTK.

Presets (world frame in mm; ablasim gives the axes no anatomical meaning, but for LPS data, as from DICOM, these
are the radiological views):

* ``"axial"``: looking along +z (from -z), -y up: +x to the right;
* ``"coronal"``: looking along +y (from -y), +z up: +x to the right;
* ``"sagittal"``: looking along -x (from +x), +z up: +y to the right;
* ``"iso"``: from the (+x, -y, +z) octant, +z up;
* ``"probe"``: looking along the first probe's shaft (skin -> tip);
* ``"thinnest"``: from outside the tumour towards its thinnest point, tilted 25 degrees towards ``"iso"``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_vector3
from ..errors import ValidationError

__all__ = ["CAMERA_PRESETS", "Camera", "check_window_size", "parse_window_size", "preset_camera"]

CAMERA_PRESETS = ("iso", "axial", "coronal", "sagittal", "probe", "thinnest")
VIEW_ANGLE_DEG = 30.0

# (view direction = from the camera towards the scene, view-up)
_FIXED = {
    "axial": ((0.0, 0.0, 1.0), (0.0, -1.0, 0.0)),
    "coronal": ((0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
    "sagittal": ((-1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
    "iso": ((-1.0, 1.0, -0.8), (0.0, 0.0, 1.0)),
}

# Part of the image the framed geometry may fill, in normalised device coordinates: the text block takes the top
# left, the colour bar the right edge.
FRAME_NDC = (-0.92, 0.70, -0.90, 0.72)  # x_min, x_max, y_min, y_max


def check_window_size(window_size) -> tuple[int, int]:
    """``(width, height)`` in pixels, each an integer from 16 to 8192."""
    try:
        w, h = window_size
    except (TypeError, ValueError):
        raise ValidationError("window_size", window_size, "expected (width, height) in pixels") from None
    for v in (w, h):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 16 <= int(v) <= 8192:
            raise ValidationError("window_size", window_size, "expected two integers from 16 to 8192 (pixels)")
    return int(w), int(h)


def parse_window_size(text: str) -> tuple[int, int]:
    """``"800x600"`` -> ``(800, 600)`` pixels (checked as :func:`check_window_size`)."""
    parts = str(text).lower().split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ValidationError("size", text, "expected WIDTHxHEIGHT in pixels, e.g. 800x600")
    return check_window_size((int(parts[0]), int(parts[1])))


@dataclass(frozen=True)
class Camera:
    """A perspective camera: ``position_mm`` looking at ``focal_point_mm``, ``view_up`` pointing up on the image,
    ``view_angle_deg`` the vertical field of view (VTK's convention)."""

    position_mm: tuple
    focal_point_mm: tuple
    view_up: tuple
    view_angle_deg: float = VIEW_ANGLE_DEG
    name: str = "custom"

    def _frame(self):
        pos = np.asarray(self.position_mm, dtype=float)
        fwd = np.asarray(self.focal_point_mm, dtype=float) - pos
        fwd /= np.linalg.norm(fwd)
        right = np.cross(fwd, np.asarray(self.view_up, dtype=float))
        right /= np.linalg.norm(right)
        return pos, fwd, right, np.cross(right, fwd)

    def to_ndc(self, points_mm, window_size) -> np.ndarray:
        """``(N, 3)``: normalised device x, y in [-1, 1] on the image, and the depth along the view (mm)."""
        w, h = check_window_size(window_size)
        pts = np.asarray(points_mm, dtype=float).reshape(-1, 3)
        pos, fwd, right, up = self._frame()
        d = pts - pos
        z = d @ fwd
        t = np.tan(np.radians(self.view_angle_deg) / 2.0)
        return np.stack([(d @ right) / (z * t * (w / h)), (d @ up) / (z * t), z], axis=1)

    def project(self, points_mm, window_size) -> np.ndarray:
        """``(N, 2)`` pixel coordinates ``(column, row)`` of world points on an image of ``window_size``
        ``(width, height)`` pixels; row 0 is the top row, as in the image array. Pixel ``(c, r)`` covers
        ``[c, c + 1) x [r, r + 1)``."""
        w, h = check_window_size(window_size)
        ndc = self.to_ndc(points_mm, window_size)
        return np.stack([(ndc[:, 0] + 1.0) * 0.5 * w, h - (ndc[:, 1] + 1.0) * 0.5 * h], axis=1)


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


def _perp_up(view: np.ndarray, preferred) -> np.ndarray:
    for cand in (preferred, (0.0, -1.0, 0.0), (1.0, 0.0, 0.0)):
        c = np.asarray(cand, dtype=float)
        u = c - view * float(c @ view)
        if np.linalg.norm(u) > 0.2:
            return _unit(u)
    raise AssertionError("unreachable")  # pragma: no cover


def preset_camera(
    preset: str, focus_points_mm, window_size, *, probe_direction=None, thinnest_point_mm=None, tumor_center_mm=None
) -> Camera:
    """The camera of ``preset`` framing ``focus_points_mm`` (tumour and zone surfaces) on the image.

    The distance and a sideways shift are the smallest that put every focus point inside the framed part of the
    image (:data:`FRAME_NDC`), solved exactly for the perspective projection (bisection on the distance).
    """
    if preset not in CAMERA_PRESETS:
        raise ValidationError("camera", preset, f"expected a Camera or one of {', '.join(CAMERA_PRESETS)}")
    pts = np.asarray(focus_points_mm, dtype=float).reshape(-1, 3)
    if len(pts) == 0 or not np.all(np.isfinite(pts)):
        raise ValidationError("focus_points_mm", f"{len(pts)} points", "need finite points to frame")
    view: np.ndarray
    up: np.ndarray
    if preset in _FIXED:
        fixed_view, fixed_up = _FIXED[preset]
        view = _unit(fixed_view)
        up = _perp_up(view, fixed_up)
    elif preset == "probe":
        if probe_direction is None:
            raise ValidationError("camera", preset, "the 'probe' view needs a probe in the scene")
        view = _unit(as_vector3(probe_direction, "probe.direction"))
        up = _perp_up(view, (0.0, 0.0, 1.0))
    else:  # thinnest
        if thinnest_point_mm is None or tumor_center_mm is None:
            raise ValidationError("camera", preset, "the 'thinnest' view needs a margin result")
        out = np.asarray(thinnest_point_mm, dtype=float) - np.asarray(tumor_center_mm, dtype=float)
        out = _unit(out) if np.linalg.norm(out) > 1e-9 else -_unit(_FIXED["iso"][0])
        iso = -_unit(_FIXED["iso"][0])
        side = iso - out * float(iso @ out)
        side = _unit(side) if np.linalg.norm(side) > 1e-6 else _perp_up(out, (0.0, 0.0, 1.0))
        ang = np.radians(25.0)
        view = -(np.cos(ang) * out + np.sin(ang) * side)
        up = _perp_up(view, (0.0, 0.0, 1.0))
    center = 0.5 * (pts.min(axis=0) + pts.max(axis=0))
    right = _unit(np.cross(view, up))
    rel = pts - center
    xs, ys, zs = rel @ right, rel @ up, rel @ view
    w, h = check_window_size(window_size)
    t = np.tan(np.radians(VIEW_ANGLE_DEG) / 2.0)
    tx, ty = t * (w / h), t
    x0, x1, y0, y1 = FRAME_NDC

    def shift(dist, coord, tan, a, b):
        """Sideways shift that fits every point at this distance, or None."""
        depth = dist + zs
        if np.any(depth <= 1e-6):
            return None
        lo = float(np.max(coord - b * tan * depth))
        hi = float(np.min(coord - a * tan * depth))
        return 0.5 * (lo + hi) if lo <= hi else None

    radius = float(np.linalg.norm(rel, axis=1).max()) + 1e-6
    lo_d, hi_d = radius * 1.01, radius * 2.0
    while shift(hi_d, xs, tx, x0, x1) is None or shift(hi_d, ys, ty, y0, y1) is None:
        hi_d *= 2.0
    for _ in range(40):
        mid = 0.5 * (lo_d + hi_d)
        ok = shift(mid, xs, tx, x0, x1) is not None and shift(mid, ys, ty, y0, y1) is not None
        lo_d, hi_d = (lo_d, mid) if ok else (mid, hi_d)
    sx, sy = shift(hi_d, xs, tx, x0, x1), shift(hi_d, ys, ty, y0, y1)
    focal = center + sx * right + sy * up
    position = focal - hi_d * view
    return Camera(tuple(position.tolist()), tuple(focal.tolist()), tuple(up.tolist()), VIEW_ANGLE_DEG, preset)
