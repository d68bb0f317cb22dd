"""The layering of the package (docs/architecture in README): geometry -> devices and zones / physics -> metrics ->
rules -> scenario -> workflows -> cli, render. A lower layer never imports a higher one, at module or function
level; function-level imports of ablasim modules remain only where they defer heavy optional dependencies."""

import textwrap

import pytest

import layering

# (importing file, imported module): deferred because the target loads pyvista or VTK on import
DEFERRED_FOR_HEAVY_DEPENDENCIES = {
    ("cli/run.py", "ablasim.render._camera"),
    ("cli/run.py", "ablasim.render.report"),
    ("render/report.py", "ablasim.render.scene"),
    ("render/report.py", "ablasim.render.slices"),
}


def test_no_module_imports_a_higher_layer():
    assert layering.violations() == []


def test_function_level_imports_only_defer_heavy_dependencies():
    found = set()
    for path in sorted(layering.SRC.rglob("*.py")):
        mod = layering.module_name(path)
        for target, _, in_function in layering.imports(path.read_text(), mod, path.name == "__init__.py"):
            if in_function:
                found.add((str(path.relative_to(layering.SRC)), target))
    assert found <= DEFERRED_FOR_HEAVY_DEPENDENCIES


def test_every_module_has_a_layer():
    for path in layering.SRC.rglob("*.py"):
        layering.layer_of(layering.module_name(path))


@pytest.mark.parametrize(
    "module, source, upward",
    [
        ("ablasim.metrics.fake", "from ..workflows.run import run_scenario\n", True),
        ("ablasim.metrics.fake", "def f():\n    from ..scenario import Scenario\n", True),  # hidden in a function
        ("ablasim.geometry.fake", "import ablasim.render\n", True),
        ("ablasim.workflows.fake", "from ..metrics.measure import measure_margin\n", False),
        ("ablasim.zones.fake", "from ..geometry.shapes import Ellipsoid\n", False),
    ],
)
def test_the_check_sees_an_upward_import(tmp_path, module, source, upward):
    root = tmp_path / "ablasim"
    path = root / "/".join(module.split(".")[1:-1]) / "fake.py"
    path.parent.mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (path.parent / "__init__.py").write_text("")
    path.write_text(textwrap.dedent(source))
    found = [v for v in layering.violations(root) if "fake" in v]
    assert bool(found) is upward
