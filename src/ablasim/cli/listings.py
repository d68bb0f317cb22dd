"""``ablasim probes`` and ``ablasim rules``: the probe catalog and the rule sets, with their sources."""

from __future__ import annotations

import argparse

from ..catalog import ProbeCatalog, default_catalog
from ..rules import RuleSet, default_rules

__all__ = ["add_parser", "run_command"]


def add_parser(sub) -> None:
    probes = sub.add_parser(
        "probes",
        help="list the probe catalog with provenance",
        description="List the probe models of the catalog: zones per protocol and isotherm (cryo) or power x time "
        "table points (RF / MW), each with its source, kind and whether it is verified.",
    )
    probes.add_argument(
        "--catalog",
        metavar="TOML",
        action="append",
        default=[],
        help="add or override models from this catalog file (repeatable)",
    )
    rules = sub.add_parser(
        "rules",
        help="list the rule sets with their sources",
        description="List the rules a scenario can check (rules = [...] in a scenario, docs/rules.md): the margin "
        "each requires, on which isotherm, for which modality and organ, with its source and any size bins.",
    )
    rules.add_argument(
        "--rules-file",
        metavar="TOML",
        action="append",
        default=[],
        help="add or override rules from this file (repeatable)",
    )


def run_command(args: argparse.Namespace) -> int:
    if args.command == "probes":
        _list_probes(args.catalog)
    else:
        _list_rules(args.rules_file)
    return 0


def _list_probes(files) -> None:
    cat = ProbeCatalog.from_toml(*files) if files else default_catalog()
    for m in cat:
        print(f"{m.name}  ({m.modality}; {m.manufacturer})")
        print(f"  source: {m.source}")
        print(f"  kind: {m.kind}; verified: {'yes' if m.verified else 'no'}")
        for z in m.zones:
            d = ", ".join(f"{2 * a:g}" for a in z.semi_axes_mm)
            extra = f"; {z.kind}, {z.source}" if z.source != m.source else ""
            print(
                f"  protocol {z.protocol}, {z.isotherm_c:g} degC: diameters {d} mm (radial, radial, axial), "
                f"centre {z.center_offset_mm:g} mm proximal to the tip [{z.offset_basis}]{extra}"
            )
        for r in m.table:
            d = ", ".join(f"{2 * a:g}" for a in r.semi_axes)
            p = f"{r.power_w:g} W, " if r.power_w is not None else ""
            print(f"  {p}{r.duration_s:g} s: diameters {d} mm, centre {r.offset:g} mm proximal to the tip [{r.basis}]")
        if m.notes:
            print(f"  notes: {m.notes}")
        print()


def _list_rules(files) -> None:
    rs = RuleSet.from_toml(*files) if files else default_rules()
    for r in rs:
        iso = f", at the {r.isotherm_c:g} degC isotherm" if r.isotherm_c is not None else ""
        print(f"{r.name}: margin >= {r.min_margin_mm:g} mm{iso} ({r.modality}, {r.organ})")
        print(f"  {r.description}")
        print(f"  source: {r.source}")
        for b in r.size_bins:
            print(f"  size bin {b.label}: {b.outcome} {100 * b.rate:.1f} % ({b.numerator}/{b.denominator})")
        if r.note:
            print(f"  note: {r.note}")
        print()
