"""The project is self-contained: no shipped file or program output points outside the repository (a user has
none of the developers' material), and every outside fact has a citation in docs/references.md."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("src", "docs", "examples", "benchmarks", "README.md", "pyproject.toml", "Makefile")
# a developer-material path, a path on the developers' machines, or a source-document file name
FORBIDDEN = re.compile(
    r"\.\./shared|shared/reference|shared/seeds|\bseeds/|/work/|/tmp/|/root/|/home/|"
    r"\b00[0-4]_[0-9a-f]{16}\.txt"
)


def _files():
    for entry in SHIPPED:
        path = ROOT / entry
        paths = [path] if path.is_file() else sorted(path.rglob("*"))
        for p in paths:
            if (
                p.is_file()
                and p.suffix in (".py", ".toml", ".md", ".json", ".txt", "")
                and "__pycache__" not in p.parts
            ):
                yield p


def test_no_shipped_file_points_outside_the_repository():
    hits = []
    for p in _files():
        for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1):
            if FORBIDDEN.search(line):
                hits.append(f"{p.relative_to(ROOT)}:{n}: {line.strip()[:100]}")
    assert hits == []


@pytest.mark.parametrize("command", [["rules"], ["probes"]])
def test_listings_point_nowhere_outside(command):
    out = subprocess.run([sys.executable, "-m", "ablasim.cli", *command], capture_output=True, text=True, check=True)
    assert not FORBIDDEN.search(out.stdout + out.stderr)


def test_the_references_page_cites_every_source_document():
    text = (ROOT / "docs" / "references.md").read_text()
    from ablasim.literature import load_records

    for rid in load_records():
        assert f"`{rid}`" in text
