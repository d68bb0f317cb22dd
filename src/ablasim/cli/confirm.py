"""``ablasim confirm``: margin confirmation on segmentations (one case, or a batch over a folder or CSV)."""

from __future__ import annotations

import sys

from .._io import atomic_write_json
from ..errors import ValidationError
from ..geometry.surfaces import SurfaceMesh, surface_from_mask
from ..io.export import margin_volume, write_mesh
from ..io.nifti import write_nifti
from ..io.nrrd import write_seg_nrrd
from ..workflows.confirm import ConfirmCase, confirm_batch, confirm_case

__all__ = ["add_parser", "run_command"]


def add_parser(sub) -> None:
    p = sub.add_parser(
        "confirm",
        help="confirm an ablation on images: tumour and zone segmentations (NIfTI, NRRD, .seg.nrrd, DICOM-SEG)",
        description="Measure the minimum margin and coverage of a segmented tumour by a segmented ablation zone "
        "with sub-voxel surfaces (docs/images.md). Lengths in mm, world frame LPS. Give --tumor and --zone for one "
        "case, or --batch FOLDER|CSV for many.",
    )
    p.add_argument("--tumor", metavar="FILE", help="tumour segmentation")
    p.add_argument("--zone", metavar="FILE", help="ablation-zone (or ice-ball) segmentation")
    p.add_argument("--organ", metavar="FILE", help="organ segmentation for capsule exclusion")
    p.add_argument("--segment", metavar="NAME", help="segment of --tumor (files with several segments)")
    p.add_argument("--zone-segment", metavar="NAME", help="segment of --zone")
    p.add_argument("--organ-segment", metavar="NAME", help="segment of --organ")
    p.add_argument("--exclude-mm", type=float, default=5.0, metavar="MM", help="capsule exclusion (default 5)")
    p.add_argument("--method", choices=("mesh", "voxel"), default="mesh", help="mesh (default) or voxel (edt)")
    p.add_argument("--json", metavar="OUT", help="write the result as JSON")
    p.add_argument("--export", metavar="DIR", help="write meshes (VTP with margins), zone .seg.nrrd, margin NIfTI")
    p.add_argument("--batch", metavar="SOURCE", help="folder of case folders, or a CSV of cases")
    p.add_argument("--out", metavar="FILE", help="batch summary table (.csv or .parquet)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _progress(quiet):
    def show(done, total):
        if quiet:
            return
        bar = "#" * int(30 * done / max(total, 1))
        sys.stderr.write(f"\rconfirm: [{bar:<30}] {done}/{total} cases")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


def run_command(args) -> int:

    if args.batch:
        if not args.out:
            raise ValidationError("--out", None, "a batch needs --out FILE.csv or FILE.parquet")
        rows = confirm_batch(
            args.batch, args.out, method=args.method, exclude_mm=args.exclude_mm, progress=_progress(args.quiet)
        )
        print(f"{'case':<16} {'min margin':>11} {'coverage':>9}  error")
        for r in rows:
            if r.get("error"):
                print(f"{r['case']:<16} {'-':>11} {'-':>9}  {r['error']}")
            else:
                print(f"{r['case']:<16} {r['min_margin_mm']:>+8.2f} mm {100 * r['coverage']:>8.2f}%")
        print(f"wrote {args.out}")
        return 0
    if not (args.tumor and args.zone):
        raise ValidationError("--tumor/--zone", None, "give both for one case, or --batch")
    case = ConfirmCase("case", args.tumor, args.zone, args.organ, args.segment, args.zone_segment, args.organ_segment)
    res = confirm_case(case, method=args.method, exclude_mm=args.exclude_mm)
    r = res.result
    p = ", ".join(f"{v:.1f}" for v in r.thinnest_point_mm)
    print(f"tumour {args.tumor}: {r.tumor_volume_mm3 / 1000:.2f} ml")
    print(f"min margin {r.min_margin_mm:+.2f} mm ({r.method}, error bound {r.error_bound_mm:.2f} mm) at ({p}) LPS")
    print(f"coverage {100 * r.coverage:.2f} %, uncovered {r.uncovered_volume_mm3:.1f} mm3")
    mm = r.margin_map
    print(
        f"surface margin 5th/50th percentile {mm.percentile(5):.2f}/{mm.percentile(50):.2f} mm; "
        f"{100 * mm.fraction_below(5.0):.1f} % of the surface below 5 mm"
        + (f"; {100 * r.excluded_area_fraction:.1f} % excluded at the capsule" if r.excluded_area_fraction else "")
    )
    if args.json:
        atomic_write_json(args.json, {"case": res.summary(), "result": r.summary()})
        print(f"wrote {args.json}")
    if args.export:
        from pathlib import Path

        out = Path(args.export)
        tmesh = SurfaceMesh(r.margin_map.points_mm, r.margin_map.faces)
        tmesh_file = write_mesh(out / "tumor.vtp", tmesh, {"margin_mm": r.margin_map.margins_mm})
        zmesh_file = write_mesh(out / "zone.vtp", surface_from_mask(res.zone, name="zone"))
        seg = write_seg_nrrd(out / "zone.seg.nrrd", {"zone": res.zone})
        nii = write_nifti(out / "margin.nii.gz", margin_volume(r, res.tumor.grid, res.tumor), res.tumor.grid)
        for f in (tmesh_file, zmesh_file, seg, nii):
            print(f"wrote {f}")
    return 0
