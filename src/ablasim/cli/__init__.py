"""Command line: ``ablasim run``, ``report``, ``confirm``, ``cohort``, ``validate``, ``calibrate``, ``probes``,
``rules``, ``plan``. Thin: parse, call the workflows, print. Each sub-command lives in its own module with
``add_parser(sub)`` and ``run_command(args)``.

Errors are one line on stderr (``ablasim: error: ...``) with exit status 2; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .._version import __version__
from ..errors import AblasimError
from . import _firstrun, calibrate, cohort, confirm, listings, plan, run, validate

__all__ = ["main"]

COMMANDS = {
    "run": run,
    "report": run,
    "plan": plan,
    "confirm": confirm,
    "cohort": cohort,
    "validate": validate,
    "calibrate": calibrate,
    "probes": listings,
    "rules": listings,
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ablasim",
        description="Ablation-zone margins and ice-ball coverage. Lengths in mm; margin > 0: the zone extends that "
        "far beyond the tumour surface at its thinnest; margin < 0: the tumour protrudes that far.",
        epilog="Scenario format: docs/scenarios.md. Example: ablasim run examples/three_probes.toml --json out.json",
    )
    p.add_argument("--version", action="version", version=f"ablasim {__version__}")
    p.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for module in dict.fromkeys(COMMANDS.values()):
        module.add_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ablasim`` command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    _firstrun.prepare(args)  # a first run says it is compiling, and compiles on both cores
    try:
        return int(COMMANDS[args.command].run_command(args))
    except AblasimError as exc:
        if args.debug:
            raise
        print(f"ablasim: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into a program that stopped reading (e.g. head)
        sys.stderr.close()
        return 0
    except OSError as exc:
        if args.debug:
            raise
        print(f"ablasim: error: {exc.filename or ''}: {exc.strerror}", file=sys.stderr)
        return 2
