"""A small TOML writer for the documents ablasim writes (scenario files): tables, arrays of tables, inline arrays
and inline tables of strings, booleans, integers and floats. Python's ``tomllib`` reads what it writes back into
the same data (floats round-trip exactly: ``repr``)."""

from __future__ import annotations

import json
import math
import re

from ..errors import ValidationError

__all__ = ["dumps"]

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def dumps(doc: dict, header: str = "") -> str:
    """The TOML text of ``doc``, after ``header`` (lines written as comments)."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()] if header else []
    if lines:
        lines.append("")
    _table(doc, [], lines)
    return "\n".join(lines).rstrip() + "\n"


def _key(k: str) -> str:
    return k if _BARE.match(k) else json.dumps(k)


def _is_table_array(v) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(i, dict) for i in v)


def _table(d: dict, path: list[str], lines: list[str]) -> None:
    plain = [(k, v) for k, v in d.items() if not isinstance(v, dict) and not _is_table_array(v)]
    for k, v in plain:
        lines.append(f"{_key(k)} = {_value(v)}")
    for k, v in d.items():
        if isinstance(v, dict):
            lines.append("")
            lines.append("[" + ".".join(_key(p) for p in [*path, k]) + "]")
            _table(v, [*path, k], lines)
        elif _is_table_array(v):
            for item in v:
                lines.append("")
                lines.append("[[" + ".".join(_key(p) for p in [*path, k]) + "]]")
                _table(item, [*path, k], lines)


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(i) for i in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(i)}" for k, i in v.items()) + "}"
    if hasattr(v, "item"):  # numpy scalars
        return _value(v.item())
    raise ValidationError("toml value", v, "expected a string, boolean, number, array or table")
