"""``ablasim calibrate``: fit the cryoprobe devices to their single-probe measurements and check (or write) the
stored values."""

from __future__ import annotations

import sys
import time

from .._io import atomic_write_json, atomic_write_text
from ..errors import UnknownNameError, ValidationError
from ..physics import calibrate as cal
from ..physics.devices import device

__all__ = ["add_parser", "run_command"]


def add_parser(sub) -> None:
    p = sub.add_parser(
        "calibrate",
        help="fit the cryoprobe devices to single-probe measurements (docs/physics.md)",
        description="Fit every cryoprobe device of ablasim/data/cryoprobes.toml to the single-probe measurements "
        "of ablasim/data/calibration.toml (bioheat solver, fixed 1 mm grid, deterministic least squares), print "
        "the fitted values with their residuals and compare them with the stored ones (ablasim/data/"
        "calibration_fits.toml): exit status 1 if they differ. No multi-probe or clinical number is fitted.",
    )
    p.add_argument("--device", metavar="NAME", action="append", help="fit only this device (repeatable; default: all)")
    p.add_argument(
        "--write",
        action="store_true",
        help="store the fitted values in ablasim/data/calibration_fits.toml and regenerate the catalog's solver "
        "zones in ablasim/data/probes.toml (a developer's step; all devices only)",
    )
    p.add_argument("--json", metavar="OUT", help="also write the fits as JSON to OUT (written atomically)")
    p.add_argument("--quiet", action="store_true", help="no line per solver run")


def run_command(args) -> int:
    specs = cal.fit_specs()
    names = args.device or list(specs)
    for n in names:
        if n not in specs:
            raise UnknownNameError("--device", n, sorted(specs))
    if args.write and args.device:
        raise ValidationError("--write", "with --device", "stores every device: run it without --device")
    t0 = time.perf_counter()

    def progress(msg):
        if not args.quiet:
            sys.stderr.write(f"[{time.perf_counter() - t0:6.1f} s] {msg}\n")

    results = [cal.fit(n, progress) for n in names]
    for r in results:
        _print_fit(r)
    print(f"{len(results)} fit(s), {sum(r.evaluations for r in results)} solver runs, {time.perf_counter() - t0:.0f} s")
    if args.json:
        atomic_write_json(args.json, [_as_dict(r) for r in results])
    if args.write:
        atomic_write_text(cal.fits_path(), cal.fits_toml(results))
        print(f"wrote {cal.fits_path()}")
        catalog = cal.fits_path().with_name("probes.toml")
        block = cal.zones_block([device(r.spec.device) for r in results])
        atomic_write_text(catalog, cal.replace_zones_block(catalog.read_text(encoding="utf-8"), block))
        print(f"regenerated the solver zones in {catalog}")
        return 0
    diffs = cal.compare_with_stored(results)
    if diffs:
        print("differs from the stored values (ablasim/data/calibration_fits.toml):")
        for d in diffs:
            print(f"  {d}")
        return 1
    print("reproduces the stored values bit for bit (ablasim/data/calibration_fits.toml)")
    return 0


def _print_fit(r) -> None:
    s = r.spec
    params = ", ".join(f"{k} = {v:g}" for k, v in r.parameters.items())
    print(
        f"{s.device}: {params}  (chi2 {r.chi2:.3g}, {r.evaluations} runs; {s.medium} at "
        f"{s.initial_temperature_c:g} degC, protocol {s.protocol})"
    )
    for d, sim in zip(s.data, r.simulated):
        print(
            f"  fitted  {d.quantity:<14} {d.isotherm_c:>6g} degC: measured {d.value:7.2f} +- {d.sigma:g}, "
            f"simulated {sim:7.2f}, residual {sim - d.value:+7.2f}"
        )
    for d, sim in zip(s.checks, r.checked):
        print(
            f"  check   {d.quantity:<14} {d.isotherm_c:>6g} degC: derived  {d.value:7.2f}, simulated {sim:7.2f}, "
            f"difference {sim - d.value:+7.2f} (not fitted)"
        )
    print(f"  source: {s.source}")


def _as_dict(r) -> dict:
    s = r.spec
    return {
        "device": s.device,
        "parameters": r.parameters,
        "chi2": r.chi2,
        "evaluations": r.evaluations,
        "setting": {"medium": s.medium, "initial_temperature_c": s.initial_temperature_c, "protocol": s.protocol},
        "data": [
            {
                "quantity": d.quantity,
                "isotherm_c": d.isotherm_c,
                "measured": d.value,
                "sigma": d.sigma,
                "simulated": sim,
            }
            for d, sim in zip(s.data, r.simulated)
        ],
        "checks": [
            {
                "quantity": d.quantity,
                "isotherm_c": d.isotherm_c,
                "derived": d.value,
                "simulated": sim,
                "derivation": d.derivation,
            }
            for d, sim in zip(s.checks, r.checked)
        ],
        "source": s.source,
        "assumptions": s.assumptions,
    }
