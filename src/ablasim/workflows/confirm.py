"""Margin confirmation on patient images: a tumour segmentation against an ablation-zone segmentation.

:func:`confirm_case` reads the masks (any reader of :mod:`ablasim.io`; the files may be different images of the same
patient frame), measures the margin with the mesh method (or another, ``method=``), optionally with a capsule
exclusion from an organ mask, and returns a :class:`ConfirmResult` whose ``summary()`` is one row of a table.
:func:`confirm_batch` runs the cases of a folder (one sub-folder per case holding ``tumor.*``, ``zone.*`` and
optionally ``organ.*``) or of a CSV file (columns ``case, tumor, zone[, organ, tumor_segment, zone_segment,
organ_segment, exclude_mm]``; relative paths are taken from the CSV's folder), writes a CSV or Parquet summary
atomically and reports progress through a callback.
"""

from __future__ import annotations

import csv
import io as _stdio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .._io import atomic_write_bytes, atomic_write_text
from ..errors import AblasimError, ValidationError
from ..geometry.mask import Mask
from ..io import read_mask, resample_mask
from ..metrics.exclusion import CapsuleExclusion
from ..metrics.measure import measure_margin
from ..metrics.result import MarginResult

__all__ = ["ConfirmCase", "ConfirmResult", "confirm_batch", "confirm_case", "find_cases"]

_EXTS = (".seg.nrrd", ".nii.gz", ".nii", ".nrrd", ".dcm")


@dataclass(frozen=True)
class ConfirmCase:
    name: str
    tumor: str
    zone: str
    organ: str | None = None
    tumor_segment: str | None = None
    zone_segment: str | None = None
    organ_segment: str | None = None
    exclude_mm: float | None = None


@dataclass(frozen=True, eq=False)
class ConfirmResult:
    case: ConfirmCase
    result: MarginResult
    tumor: Mask = field(repr=False)
    zone: Mask = field(repr=False)

    def summary(self) -> dict:
        r = self.result
        row = {"case": self.case.name, "tumor": self.case.tumor, "zone": self.case.zone, "organ": self.case.organ or ""}
        s = r.summary()
        row.update({k: s[k] for k in ("min_margin_mm", "coverage", "uncovered_volume_mm3", "tumor_volume_mm3")})
        row.update({"method": r.method, "error_bound_mm": s["error_bound_mm"], "feature": r.feature})
        row["excluded_area_fraction"] = s["excluded_area_fraction"]
        for q in ("5", "50"):
            row[f"margin_p{q}_mm"] = s.get("margin_percentiles_mm", {}).get(q, float("nan"))
        row["surface_fraction_below_5mm"] = s.get("surface_fraction_below_mm", {}).get("5.0", float("nan"))
        row["thinnest_point_lps_mm"] = " ".join(f"{v:.2f}" for v in r.thinnest_point_mm)
        return row


def _read(path, segment, what):

    return read_mask(path, segment=segment)


def confirm_case(case: ConfirmCase, *, method: str = "mesh", exclude_mm: float = 5.0) -> ConfirmResult:
    """Measure one case. ``exclude_mm``: capsule exclusion distance when the case has an organ (its own
    ``exclude_mm`` wins). The mesh method takes masks on different grids; the voxel method resamples the zone and
    organ onto the tumour's grid (:func:`ablasim.io.resample_mask`)."""

    tumor = _read(case.tumor, case.tumor_segment, "tumor")
    zone = _read(case.zone, case.zone_segment, "zone")
    exclusion = None
    if case.organ:
        organ = _read(case.organ, case.organ_segment, "organ")
        if method != "mesh":
            organ = resample_mask(organ, tumor.grid, name=f"{case.organ} (organ)")
        dist = case.exclude_mm if case.exclude_mm is not None else exclude_mm
        exclusion = CapsuleExclusion(organ, dist)
    if method != "mesh":
        zone = resample_mask(zone, tumor.grid, name=f"{case.zone} (zone)")
    res = measure_margin(tumor, zone, method=method, exclude=exclusion)
    return ConfirmResult(case, res, tumor, zone)


def _pick(folder: Path, stem: str) -> str | None:
    for ext in _EXTS:
        hits = sorted(folder.glob(f"{stem}*{ext}"))
        if hits:
            return str(hits[0])
    return None


def find_cases(source) -> list[ConfirmCase]:
    """Cases of a folder (sub-folders with tumor.*, zone.*, organ.*) or a CSV file (module docstring)."""
    src = Path(source)
    if src.is_file() and src.suffix.lower() == ".csv":
        with src.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        cases = []
        for i, row in enumerate(rows):
            for col in ("tumor", "zone"):
                if not row.get(col):
                    raise ValidationError(f"{src} [row {i + 2}, {col}]", row.get(col), "is required")

            def path(v):
                return None if not v else str((src.parent / v) if not Path(v).is_absolute() else Path(v))

            ex = row.get("exclude_mm") or None
            cases.append(
                ConfirmCase(
                    row.get("case") or f"case{i + 1}",
                    path(row["tumor"]),
                    path(row["zone"]),
                    path(row.get("organ")),
                    row.get("tumor_segment") or None,
                    row.get("zone_segment") or None,
                    row.get("organ_segment") or None,
                    float(ex) if ex else None,
                )
            )
        return cases
    if src.is_dir():
        cases = []
        for sub in sorted(p for p in src.iterdir() if p.is_dir()):
            tumor, zone = _pick(sub, "tumor"), _pick(sub, "zone")
            if tumor and zone:
                cases.append(ConfirmCase(sub.name, tumor, zone, _pick(sub, "organ")))
        if not cases:
            raise ValidationError(str(src), "folder", "holds no case sub-folder with tumor.* and zone.* images")
        return cases
    raise ValidationError(str(src), "batch source", "expected a folder of cases or a .csv file")


def confirm_batch(
    source, out, *, method: str = "mesh", exclude_mm: float = 5.0, progress: Callable | None = None
) -> list[dict]:
    """Run every case of ``source``; write the summary rows to ``out`` (``.csv`` or ``.parquet``). A case that fails
    on its input gets a row with its error message (column ``error``) and the batch goes on."""
    cases = find_cases(source)
    rows = []
    for i, case in enumerate(cases):
        try:
            row = confirm_case(case, method=method, exclude_mm=exclude_mm).summary()
            row["error"] = ""
        except AblasimError as exc:
            row = {
                "case": case.name,
                "tumor": case.tumor,
                "zone": case.zone,
                "organ": case.organ or "",
                "error": str(exc),
            }
        rows.append(row)
        if progress is not None:
            progress(i + 1, len(cases))
    write_table(rows, out)
    return rows


def write_table(rows: list[dict], out) -> Path:
    cols = []
    for r in rows:
        cols += [k for k in r if k not in cols]
    path = Path(out)
    if path.suffix.lower() == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table({c: [r.get(c) for r in rows] for c in cols})
        buf = pa.BufferOutputStream()
        pq.write_table(table, buf)
        return atomic_write_bytes(path, buf.getvalue().to_pybytes())
    if path.suffix.lower() != ".csv":
        raise ValidationError("out", str(out), "expected a .csv or .parquet file name")
    text = _stdio.StringIO()
    w = csv.DictWriter(text, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return atomic_write_text(path, text.getvalue())
