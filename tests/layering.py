"""The import graph of ablasim, read from the source (module- and function-level imports alike), and its layers.

Used by tests/test_layering.py; kept apart so the check itself can be tested on synthetic sources."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "ablasim"

# Bottom to top: a module may import its own layer or any layer below, never one above.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "base",
        (
            "ablasim.errors",
            "ablasim._validation",
            "ablasim._jit",
            "ablasim._io",
            "ablasim._named",
            "ablasim._version",
            "ablasim.stats",
            "ablasim.distributions",
        ),
    ),
    ("geometry", ("ablasim.geometry",)),
    ("data", ("ablasim.catalog", "ablasim.probes", "ablasim.literature", "ablasim.io")),
    ("zones, physics", ("ablasim.zones", "ablasim.physics", "ablasim.uncertainty", "ablasim.placement")),
    ("metrics", ("ablasim.metrics", "ablasim.sampling")),
    ("rules", ("ablasim.rules",)),
    ("outcomes", ("ablasim.outcomes",)),
    ("scenario", ("ablasim.scenario",)),
    ("workflows", ("ablasim.workflows",)),
    ("cli, render", ("ablasim.cli", "ablasim.render")),
    ("package", ("ablasim",)),
]


def layer_of(module: str) -> int:
    best, best_len = None, -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > best_len:
                best, best_len = i, len(p)
    if best is None:
        raise KeyError(f"module {module} is in no layer: add it to tests/layering.py")
    return best


def module_name(path: Path, root: Path = SRC) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports(source: str, module: str, is_package: bool) -> list[tuple[str, int, bool]]:
    """``(imported ablasim module, line, at function level)`` for every import statement of ``source``."""
    tree = ast.parse(source)
    package = module if is_package else module.rsplit(".", 1)[0]
    out = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                out.extend((a.name, child.lineno, in_function) for a in child.names if a.name.startswith("ablasim"))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - (child.level - 1)]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                if target.startswith("ablasim"):
                    # "from . import x" imports submodule x when x is one
                    for a in child.names:
                        sub = f"{target}.{a.name}"
                        out.append((sub if _is_module(sub) else target, child.lineno, in_function))
            visit(child, nested)

    visit(tree, False)
    return out


def _is_module(name: str) -> bool:
    rel = Path(*name.split(".")[1:])
    return (SRC / rel).with_suffix(".py").is_file() or (SRC / rel / "__init__.py").is_file()


def violations(root: Path = SRC) -> list[str]:
    out = []
    for path in sorted(root.rglob("*.py")):
        mod = module_name(path, root)
        for target, line, _ in imports(path.read_text(), mod, path.name == "__init__.py"):
            if (target.startswith("ablasim.") or target == "ablasim") and layer_of(target) > layer_of(mod):
                out.append(
                    f"{path.relative_to(root.parent)}:{line}: {mod} ({LAYERS[layer_of(mod)][0]}) imports "
                    f"{target} ({LAYERS[layer_of(target)][0]})"
                )
    return out
