"""Probe placement helpers: parallel arrays around a tumour, and checks of a placement.

The checks encode common ablation practice, with thresholds as parameters: zones (ice balls) of probes more than
20 mm apart may not merge (a gap; cryoprobes 1-2 cm apart merge into one ice ball: in-vitro isotherm study PMC4850244,
docs/references.md); a probe more than 10 mm from the tumour edge leaves the periphery it faces to the rim of its
zone; probes closer than 5 mm add little; and a zone whose distal end stops short of the tumour's distal edge
leaves it untreated. Messages name ice balls for cryoprobes and ablation zones for RF / MW devices. Distance to
the tumour edge is measured across the shaft: in the view along it, from the probe to the tumour's outline.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from ._validation import as_float, as_unit_vector
from .catalog import ProbeCatalog, default_catalog
from .errors import ValidationError
from .geometry.shapes import Ellipsoid, rotation_with_z_axis
from .probes import Probe

__all__ = ["MAX_ARRAY_PROBES", "PlacementWarning", "check_placement", "parallel_array"]

MAX_ARRAY_PROBES = 12  # the layouts of parallel_array go up to a ring of 12


@dataclass(frozen=True)
class PlacementWarning:
    code: str  # "too-far-apart" | "too-close" | "far-from-edge" | "distal-short"
    probes: tuple  # indices of the probes concerned
    value_mm: float
    message: str


def parallel_array(
    tumor: Ellipsoid,
    n_probes: int,
    model: str,
    *,
    spacing_mm: float,
    direction=(0.0, 0.0, 1.0),
    catalog: ProbeCatalog | None = None,
    **zone_kwargs,
) -> list[Probe]:
    """``n_probes`` parallel probes along ``direction`` around the tumour centre.

    Layout in the plane across the shaft: 1 probe at the centre; 2 on the tumour's widest transverse axis,
    ``spacing_mm`` apart; 3 on an equilateral triangle and 4 on a square with sides ``spacing_mm``; more on a ring
    whose neighbours are ``spacing_mm`` apart. Depth: each zone (from the catalog, ``zone_kwargs`` as for
    :meth:`Probe.zone_spec`) is centred on the tumour centre's level along the shaft.
    """
    if (
        isinstance(n_probes, bool)
        or not isinstance(n_probes, (int, np.integer))
        or not 1 <= n_probes <= MAX_ARRAY_PROBES
    ):
        raise ValidationError("n_probes", n_probes, f"expected an integer from 1 to {MAX_ARRAY_PROBES}")
    s = as_float(spacing_mm, "spacing_mm", positive=True)
    d = as_unit_vector(direction, "direction")
    cat = catalog if catalog is not None else default_catalog()
    offset = Probe(tumor.center_mm, d, model).zone_spec(cat, **zone_kwargs).center_offset_mm
    # transverse frame: first axis = the tumour's widest extent across the shaft
    frame = rotation_with_z_axis(d)
    m = tumor.linear_map
    across = frame[:, :2]
    widths = np.linalg.svd(across.T @ m, full_matrices=False)
    e1 = across @ widths[0][:, 0]
    e2 = np.cross(d, e1)
    if n_probes == 1:
        offsets = [(0.0, 0.0)]
    elif n_probes == 2:
        offsets = [(-s / 2, 0.0), (s / 2, 0.0)]
    elif n_probes == 4:
        offsets = [(-s / 2, -s / 2), (s / 2, -s / 2), (s / 2, s / 2), (-s / 2, s / 2)]
    else:
        r = s / (2 * np.sin(np.pi / n_probes))
        offsets = [
            (r * np.cos(2 * np.pi * k / n_probes), r * np.sin(2 * np.pi * k / n_probes)) for k in range(n_probes)
        ]
    tips = [tumor.center_mm + a * e1 + b * e2 + offset * d for a, b in offsets]
    return [Probe(t, d, model) for t in tips]


def _segment_distance(p0, p1, q0, q1, n=200):
    """Minimum distance between segments p0-p1 and q0-q1 (dense sampling of one, exact projection on the other)."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    pts = p0 + t * (p1 - p0)
    u = q1 - q0
    lam = np.clip(((pts - q0) @ u) / max(u @ u, 1e-12), 0.0, 1.0)
    return float(np.linalg.norm(pts - (q0 + lam[:, None] * u), axis=1).min())


def _lateral_edge_distance(probe: Probe, tumor: Ellipsoid) -> float:
    """Distance, in the view along the shaft, from the probe to the edge of the tumour's outline (its shadow, an
    ellipse): how far inside the periphery (probe within the outline) or how far away (outside it)."""
    d = probe.direction
    frame = rotation_with_z_axis(d)[:, :2]
    shadow = frame.T @ tumor.linear_map  # 2x3: the outline is {c' + shadow u, |u| <= 1}
    w, v = np.linalg.eigh(shadow @ shadow.T)
    semi = np.sqrt(np.maximum(w, 1e-18))
    rel = v.T @ (frame.T @ (probe.tip_mm - tumor.center_mm))
    # A 2-D ellipse as an ellipsoid with a huge third semi-axis, queried in its mid-plane: the Lagrange condition
    # reduces exactly to the 2-D one (the third coordinate is 0).
    flat = Ellipsoid([0.0, 0.0, 0.0], [semi[0], semi[1], 1e6 * semi.max()])
    return float(abs(flat.signed_distance([rel[0], rel[1], 0.0])[0]))


def check_placement(
    probes,
    tumor: Ellipsoid,
    *,
    catalog: ProbeCatalog | None = None,
    max_spacing_mm: float = 20.0,
    min_spacing_mm: float = 5.0,
    max_edge_distance_mm: float = 10.0,
    **zone_kwargs,
) -> list[PlacementWarning]:
    """Warnings for a placement (an empty list when none applies). Each probe's working segment is the part of
    its shaft its catalog zone spans (``zone_kwargs`` as for :meth:`Probe.zone_spec`)."""
    plist = list(probes)
    if not plist:
        raise ValidationError("probes", probes, "give at least one Probe")
    cat = catalog if catalog is not None else default_catalog()
    hi_gap = as_float(max_spacing_mm, "max_spacing_mm", positive=True)
    lo_gap = as_float(min_spacing_mm, "min_spacing_mm", nonnegative=True)
    edge = as_float(max_edge_distance_mm, "max_edge_distance_mm", positive=True)
    specs = [p.zone_spec(cat, **zone_kwargs) for p in plist]
    cryo = all(cat[p.model].modality == "cryo" for p in plist)
    zone, zones, gap = (
        ("ice ball", "ice balls", "a warm gap")
        if cryo
        else ("ablation zone", "ablation zones", "untreated tissue between them")
    )
    segs = [
        (
            p.tip_mm + s.distal_beyond_tip_mm * p.direction,
            p.tip_mm - (s.center_offset_mm + s.semi_axes_mm[2]) * p.direction,
        )
        for p, s in zip(plist, specs)
    ]
    out = []
    n = len(plist)
    dist = np.full((n, n), np.inf)
    for i, j in combinations(range(n), 2):
        dist[i, j] = dist[j, i] = _segment_distance(*segs[i], *segs[j])
        if dist[i, j] < lo_gap:
            out.append(
                PlacementWarning(
                    "too-close",
                    (i, j),
                    dist[i, j],
                    f"probes {i} and {j} are {dist[i, j]:.1f} mm apart (< {lo_gap:g} mm): the "
                    "second probe adds little coverage",
                )
            )
    for i in range(n if n > 1 else 0):
        j = int(np.argmin(dist[i]))
        if dist[i, j] > hi_gap:
            out.append(
                PlacementWarning(
                    "too-far-apart",
                    (i, j),
                    dist[i, j],
                    f"probe {i}'s nearest neighbour (probe {j}) is {dist[i, j]:.1f} mm away "
                    f"(> {hi_gap:g} mm): their {zones} may not merge, leaving {gap}",
                )
            )
    for i, p in enumerate(plist):
        lateral = _lateral_edge_distance(p, tumor)
        if lateral > edge:
            out.append(
                PlacementWarning(
                    "far-from-edge",
                    (i,),
                    lateral,
                    f"probe {i} is {lateral:.1f} mm from the tumour edge across the shaft "
                    f"(> {edge:g} mm): the periphery it faces relies on the rim of its {zone}",
                )
            )
        reach = float(p.tip_mm @ p.direction + specs[i].distal_beyond_tip_mm)
        tumor_far = float(tumor.center_mm @ p.direction + np.linalg.norm(tumor.linear_map.T @ p.direction))
        if reach < tumor_far:
            out.append(
                PlacementWarning(
                    "distal-short",
                    (i,),
                    tumor_far - reach,
                    f"probe {i}'s zone ends {tumor_far - reach:.1f} mm short of the tumour's "
                    "distal edge along its shaft: advance the probe",
                )
            )
    return out
