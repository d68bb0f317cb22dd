"""Colours with a meaning: the signed-margin map and the zone shells (numpy only; no matplotlib, no VTK).

The margin map is a diverging colour scale centred on the rule's threshold: the threshold maps to the neutral
colour, margins below it ("thin") to the red side, margins above it ("thick") to the blue side, with colour limits
symmetric about the threshold. :func:`margin_colors` is exactly what the 3D renderer shows: VTK looks the same
lookup table up with the same limits (an odd number of entries puts the threshold in the middle of one entry).
"""

from __future__ import annotations

import numpy as np

from .._validation import as_float
from ..errors import ValidationError

__all__ = [
    "LUT_SIZE",
    "MARGIN_PALETTE",
    "NAN_RGB",
    "NEUTRAL_RGB",
    "ORGAN_COLOR",
    "hex_to_rgb",
    "line_color",
    "margin_colors",
    "margin_limits",
    "margin_lut",
    "shell_color",
]

# ColorBrewer RdBu (11 classes), red (thin) -> neutral -> blue (thick).
MARGIN_PALETTE = (
    "#67001f",
    "#b2182b",
    "#d6604d",
    "#f4a582",
    "#fddbc7",
    "#f7f7f7",
    "#d1e5f0",
    "#92c5de",
    "#4393c3",
    "#2166ac",
    "#053061",
)
LUT_SIZE = 255  # odd: the threshold falls in the middle of entry 127, the neutral colour
NAN_RGB = (0.55, 0.55, 0.55)  # surface left out of the statistics (capsule exclusion)
MIN_HALF_RANGE_MM = 1.0

# Zone shells: one colour per isotherm (cryo), one for heat-based zones; none on the red-blue margin axis.
_ISOTHERM_COLORS = {0.0: "#9fd8ff", -20.0: "#ffc23d", -40.0: "#7be38c"}
_EXTRA_COLORS = ("#e59bff", "#ff9f80", "#c0c0c0")
HEAT_ZONE_COLOR = "#ffd27f"


def _hex(c: str) -> np.ndarray:
    return np.array([int(c[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.float64) / 255.0


_PALETTE_RGB = np.array([_hex(c) for c in MARGIN_PALETTE])
NEUTRAL_RGB = tuple(float(v) for v in _PALETTE_RGB[len(MARGIN_PALETTE) // 2])


def margin_lut(n: int = LUT_SIZE) -> np.ndarray:
    """``(n, 3)`` RGB table in [0, 1], red (lowest margin) to blue; with odd ``n`` the middle entry is neutral."""
    x = np.linspace(0.0, 1.0, int(n))
    xp = np.linspace(0.0, 1.0, len(_PALETTE_RGB))
    return np.stack([np.interp(x, xp, _PALETTE_RGB[:, k]) for k in range(3)], axis=1)


def margin_limits(margins_mm, threshold_mm: float, half_range_mm: float | None = None) -> tuple[float, float]:
    """Colour limits ``(threshold - h, threshold + h)``: symmetric about the threshold.

    ``h`` defaults to the larger distance from the threshold of the minimum and of the median margin (finite
    values), at least 1 mm: the thinnest spot sits at or inside the red end, and thick regions beyond the blue end
    saturate instead of washing the thin side out.
    """
    t = as_float(threshold_mm, "threshold_mm")
    if half_range_mm is not None:
        h = as_float(half_range_mm, "half_range_mm", positive=True)
    else:
        m = np.asarray(margins_mm, dtype=np.float64)
        m = m[np.isfinite(m)]
        h = max(abs(float(m.min()) - t), abs(float(np.median(m)) - t)) if m.size else 0.0
        h = max(h, MIN_HALF_RANGE_MM)
    return t - h, t + h


def margin_colors(margins_mm, threshold_mm: float, half_range_mm: float | None = None) -> np.ndarray:
    """``(N, 3)`` RGB in [0, 1] of each margin, as the renderer shows it (NaN -> grey).

    The value is placed on ``[threshold - h, threshold + h]`` and looked up in :func:`margin_lut` the way VTK does
    (``floor`` of the scaled position, clipped at both ends): a margin equal to the threshold gets
    :data:`NEUTRAL_RGB`, thinner margins the red side, thicker the blue side.
    """
    m = np.asarray(margins_mm, dtype=np.float64)
    if m.ndim > 1:
        raise ValidationError("margins_mm", f"array of shape {m.shape}", "expected a scalar or a 1-D array")
    lo, hi = margin_limits(m, threshold_mm, half_range_mm)
    lut = margin_lut()
    flat = np.atleast_1d(m)
    pos = (np.nan_to_num(flat, nan=0.0) - lo) / (hi - lo) * len(lut)
    idx = np.clip(np.floor(pos).astype(np.int64), 0, len(lut) - 1)
    out = lut[idx]
    out[~np.isfinite(flat)] = NAN_RGB
    return out


ORGAN_COLOR = "#ff9f80"  # organs at risk: salmon, one of the spare shell colours (its darker twin exists for lines)


def shell_color(isotherm_c: float | None, index: int = 0) -> str:
    """Colour of a zone shell: the isotherm's own colour for 0 / -20 / -40 degC, else a distinct spare colour;
    heat-based zones (``isotherm_c is None``) are pale amber."""
    if isotherm_c is None:
        return HEAT_ZONE_COLOR if index == 0 else _EXTRA_COLORS[index % len(_EXTRA_COLORS)]
    for level, color in _ISOTHERM_COLORS.items():
        if abs(float(isotherm_c) - level) < 1e-9:
            return color
    return _EXTRA_COLORS[index % len(_EXTRA_COLORS)]


_DARK = {
    "#9fd8ff": "#1f7fc4",
    "#ffc23d": "#c98a00",
    "#7be38c": "#248f3a",
    "#e59bff": "#9b3fc0",
    "#ff9f80": "#d2542c",
    "#c0c0c0": "#666666",
    HEAT_ZONE_COLOR: "#c46a00",
}


def line_color(isotherm_c: float | None, index: int = 0) -> str:
    """A darker twin of :func:`shell_color` for lines on light backgrounds (slice views)."""
    return _DARK[shell_color(isotherm_c, index)]


def hex_to_rgb(color: str) -> tuple[float, float, float]:
    """``"#rrggbb"`` -> floats in [0, 1]."""
    if not (isinstance(color, str) and len(color) == 7 and color.startswith("#")):
        raise ValidationError("color", color, "expected '#rrggbb'")
    r, g, b = _hex(color)
    return float(r), float(g), float(b)
