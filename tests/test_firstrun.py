"""First runs: the notice, and compiling kernel groups in a background process."""

import io
from types import SimpleNamespace

import pytest

import ablasim._jit as jit
import ablasim.cli._firstrun as fr


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    monkeypatch.setattr(fr, "_PREPARED", set())


def test_a_cached_command_prints_nothing(monkeypatch):
    monkeypatch.setattr(jit, "is_cached", lambda k: True)
    out = io.StringIO()
    assert fr.prepare(SimpleNamespace(command="run", samples=None), stream=out) is False
    assert out.getvalue() == ""


def test_a_first_run_says_so_and_compiles_the_map_elsewhere(monkeypatch):
    started, here = [], []
    monkeypatch.setattr(jit, "is_cached", lambda k: False)
    monkeypatch.setattr(jit, "compile_in_background", lambda groups, code: started.append((groups, code)))
    monkeypatch.setattr(jit, "await_background", lambda g: here.append(("awaited", g)))
    monkeypatch.setattr(fr, "compile_groups", lambda groups, report=True: here.extend(groups))
    out = io.StringIO()
    assert fr.prepare(SimpleNamespace(command="run", samples=None), stream=out) is True
    assert out.getvalue() == fr.NOTICE + "\n"
    assert [g for g, _ in started] == [["map"]]
    assert started[0][1] == "from ablasim.metrics._warm import compile_groups; compile_groups(['map'])"
    assert here == ["exact", ("awaited", "map")]  # this process compiles the margin search, then waits for the map


def test_the_shared_kernels_are_compiled_with_the_signature_both_groups_use():
    # compile_shared gives the crease graph an explicit signature; had it differed from the one the exact and map
    # searches call it with, they would have compiled a second version
    from ablasim import Ellipsoid, measure_margin
    from ablasim.metrics._features import crease_graph
    from ablasim.metrics._warm import compile_shared

    compile_shared()
    zones = [Ellipsoid.sphere(c, 6.0) for c in ([3, 0, 0], [-3, 0, 0], [0, 4, 0])]
    res = measure_margin(Ellipsoid.sphere([0, 0, 0], 2.0), zones, map_resolution_mm=1.0)
    assert res.feature == "crease" and res.margin_map is not None  # both callers ran through the crease graph
    assert len(crease_graph.signatures) == 1
    # the callers may have loaded from the cache here; whichever process compiled them saved every version of the
    # crease graph it compiled in the cache index too
    assert len(crease_graph._cache._cache_file._load_index()) == 1


def test_a_cohort_compiles_everything_before_its_workers_start(monkeypatch):
    here, there = [], []
    monkeypatch.setattr(jit, "is_cached", lambda k: False)
    monkeypatch.setattr(jit, "compile_in_background", lambda groups, code: there.extend(groups))
    monkeypatch.setattr(jit, "await_background", lambda g: here.append(("awaited", g)))
    monkeypatch.setattr(fr, "compile_groups", lambda groups, report=True: here.extend(groups))
    assert fr.prepare(SimpleNamespace(command="cohort"), stream=io.StringIO())
    assert here == ["exact", "cases", "interior", ("awaited", "uncovered")] and there == ["uncovered"]


def test_commands_without_kernels_are_left_alone():
    assert fr.prepare(SimpleNamespace(command="probes"), stream=io.StringIO()) is False


def test_waiting_for_a_background_group(monkeypatch):
    # the child reports each group when done; waiting for the second reads past the first
    monkeypatch.setattr(jit, "_BACKGROUND", {})
    monkeypatch.setattr(jit, "_DONE", set())
    jit.compile_in_background(["a", "b"], "print('a', flush=True); print('b', flush=True)")
    jit.await_background("b")
    assert {"a", "b"} == jit._DONE and jit._BACKGROUND == {}
    jit.await_background("a")  # already done: returns at once


def test_the_command_line_prepares_before_the_command(monkeypatch, capsys):
    # ablasim.cli.main calls prepare once with the parsed arguments, before the sub-command runs
    import ablasim.cli as cli

    seen = []
    monkeypatch.setattr(fr, "prepare", lambda args, stream=None: seen.append(args.command))
    assert cli.main(["rules"]) == 0
    assert seen == ["rules"]


def test_a_first_confirm_compiles_the_surfaces_here_and_the_meshes_elsewhere(monkeypatch):
    here, there = [], []
    monkeypatch.setattr(jit, "is_cached", lambda k: False)
    monkeypatch.setattr(jit, "compile_in_background", lambda groups, code: there.extend(groups))
    monkeypatch.setattr(jit, "await_background", lambda g: here.append(("awaited", g)))
    monkeypatch.setattr(fr, "compile_groups", lambda groups, report=True: here.extend(groups))
    assert fr.prepare(SimpleNamespace(command="confirm", method="mesh"), stream=io.StringIO())
    assert here == ["surface", ("awaited", "mesh")] and there == ["mesh"]
    monkeypatch.setattr(fr, "_PREPARED", set())
    assert fr.prepare(SimpleNamespace(command="confirm", method="voxel"), stream=io.StringIO()) is False


MASK_CHECK = """
import importlib
from ablasim import CapsuleExclusion, Ellipsoid, Grid, measure_margin
from ablasim._jit import InternalKernel
from ablasim.metrics._warm import compile_group, entry_points

compile_group("surface")
compile_group("mesh")
kernels = []
for name in ("bvh", "distance", "fields", "meshing", "sections", "slices", "smoothing", "triangles"):
    module = importlib.import_module(f"ablasim.geometry._kernels.{name}")
    kernels += [k for k in vars(module).values() if hasattr(k, "signatures") and not isinstance(k, InternalKernel)]
listed = {k for g in ("surface", "mesh") for k in entry_points(g)}
assert listed <= set(kernels)
missing = [k.py_func.__name__ for k in listed if len(k.signatures) != 1]
before = {k: list(k.signatures) for k in kernels}
grid = Grid((30, 30, 12), (0.8, 0.8, 2.5))
tumor = Ellipsoid.sphere((12, 12, 14), 4).to_mask(grid)
zone = Ellipsoid.sphere((14, 12, 14), 4.5).to_mask(grid)  # the tumour protrudes: interior screening too
liver = Ellipsoid.sphere((24, 12, 14), 9).to_mask(grid)
measure_margin(tumor, zone, method="mesh", exclude=CapsuleExclusion(liver, 3.0))  # thick slices, organ mask
iso = Grid((24, 24, 24), 1.0)
measure_margin(Ellipsoid.sphere((12, 12, 12), 4).to_mask(iso), Ellipsoid.sphere((13, 12, 12), 6).to_mask(iso))
added = [k.py_func.__name__ for k in kernels if k.signatures != before[k]]
print(missing, added)
"""


def test_the_mask_groups_compile_the_versions_a_mask_margin_uses():
    # in a fresh process: the groups' tiny cases compile one version of each listed kernel, and real mask margins
    # then need no other version of any kernel of the method (a read-only array, say, would be another)
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", MASK_CHECK], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[] []"


def test_compile_all_compiles_every_group_the_meshes_in_the_background(monkeypatch):
    here, there = [], []
    monkeypatch.setattr(jit, "compile_in_background", lambda groups, code: there.extend(groups))
    monkeypatch.setattr(jit, "await_background", lambda g: here.append(("awaited", g)))
    monkeypatch.setattr(fr, "compile_groups", lambda groups, report=True: here.extend(groups))
    fr.compile_all()
    assert there == ["mesh"] and here[-1] == ("awaited", "mesh")
    assert sorted(here[:-1] + there) == sorted(fr.ALL_GROUPS)
