"""Protocols and the cryoprobe discretisation (hand-checkable cases)."""

import numpy as np
import pytest

from ablasim import Grid, rotation_from_euler_deg
from ablasim.errors import ValidationError
from ablasim.physics import Cryoprobe, Phase, Protocol
from ablasim.probes import Probe


def test_parse_alternates_freeze_and_passive_thaw_in_minutes():
    p = Protocol.parse("10-5-10")
    assert [(ph.kind, ph.duration_s) for ph in p] == [("freeze", 600.0), ("thaw", 300.0), ("freeze", 600.0)]
    assert p.duration_s == 1500.0
    assert Protocol.parse("15").phases == (Phase("freeze", 900.0),)
    assert Protocol.parse("2.5 - 1").duration_s == 210.0
    assert Protocol.coerce("10-8-10") == Protocol([("freeze", 600), ("thaw", 480), ("freeze", 600)])
    assert Protocol.coerce([("freeze", 60), ("active_thaw", 30)]).phases[1].kind == "active_thaw"


@pytest.mark.parametrize("text", ["", "10--5", "ten", "10-0-10", "-5", "10,5"])
def test_bad_protocol_strings(text):
    with pytest.raises(ValidationError, match="^protocol"):
        Protocol.parse(text)


@pytest.mark.parametrize(
    "phases, field",
    [
        ([], "protocol"),
        ([("freeze", -60)], "protocol[0].duration_s"),
        ([("freeze", 60), ("boil", 60)], "protocol[1].kind"),
        ([("freeze",)], "protocol[0]"),
        (42, "protocol"),
    ],
)
def test_bad_phase_lists(phases, field):
    with pytest.raises(ValidationError) as err:
        Protocol(phases)
    assert str(err.value).startswith(field)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(active_length_mm=0.0), "probe.active_length_mm"),
        (dict(active_length_mm=20, radius_mm=-1), "probe.radius_mm"),
        (dict(active_length_mm=20, probe_temperature_c=-300), "probe.probe_temperature_c"),
        (dict(active_length_mm=20, heat_extraction_w=0.0), "probe.heat_extraction_w"),
    ],
)
def test_bad_probes(kwargs, field):
    with pytest.raises(ValidationError) as err:
        Cryoprobe([0, 0, 0], [0, 0, 1], **kwargs)
    assert str(err.value).startswith(field)
    with pytest.raises(ValidationError, match="^probe.direction"):
        Cryoprobe([0, 0, 0], [0, 0, 0], active_length_mm=10)


def test_probe_voxels_are_centres_within_the_radius_of_the_segment():
    # 0.5 mm grid, probe along z through voxel centres (x = y = 0), radius 0.6 mm: the centre column and its four
    # face neighbours (0.5 mm away); diagonal neighbours are 0.707 mm away. Segment z in [-4, 0] -> 9 centres.
    grid = Grid((11, 11, 21), 0.5, origin_mm=(-2.5, -2.5, -5))
    probe = Cryoprobe([0, 0, 0], [0, 0, 1], active_length_mm=4.0, radius_mm=0.6)
    vox = probe.voxels(grid)
    world = grid.index_to_world(vox)
    assert len(vox) == 5 * 9 + 2 * 1  # plus the two caps of the capsule (centres 0.5 mm beyond each end)
    assert np.all(probe.distance_mm(world) <= 0.6)


def test_thin_probe_on_coarse_grid_keeps_the_voxels_it_passes_through():
    # 1 mm grid, 0.2 mm probe running obliquely between centres: no centre is within 0.2 mm for most of the
    # length, but every voxel containing a point of the segment is kept, so the probe is a connected chain.
    grid = Grid((20, 20, 20), 1.0, origin_mm=(-9.5, -9.5, -9.5))
    probe = Cryoprobe([5.2, 3.1, 4.3], [1, 0.7, 0.4], active_length_mm=12.0, radius_mm=0.2)
    vox = probe.voxels(grid)
    pts = probe.tip_mm - np.linspace(0, 12, 400)[:, None] * probe.direction
    path = np.rint(grid.world_to_index(pts)).astype(int)
    kept = {tuple(v) for v in vox}
    assert {tuple(v) for v in path} <= kept
    assert np.all(np.abs(np.diff(path, axis=0)) <= 1)  # consecutive voxels along the segment touch: a chain
    near = {tuple(v) for v in vox[probe.distance_mm(grid.index_to_world(vox)) <= 0.2]}
    assert kept == {tuple(v) for v in path} | near


def test_probe_voxels_follow_a_rotated_anisotropic_grid():
    rot = rotation_from_euler_deg([20, -35, 50])
    grid = Grid((24, 24, 24), (0.8, 1.0, 1.2), origin_mm=[0, 0, 0], direction=rot)
    centre = grid.index_to_world([12, 12, 12])
    probe = Cryoprobe(centre, [0.3, -0.2, 1.0], active_length_mm=8.0, radius_mm=1.0)
    vox = probe.voxels(grid)
    d = probe.distance_mm(grid.index_to_world(vox))
    # every kept voxel is within the radius or contains a point of the segment (at most half a voxel diagonal)
    assert np.all(d <= max(1.0, 0.5 * grid.voxel_diagonal_mm) + 1e-9)
    assert np.count_nonzero(d <= 1.0) >= 8


def test_probe_outside_the_grid_has_no_voxels_and_from_probe_copies_geometry():
    grid = Grid((10, 10, 10), 1.0)
    assert len(Cryoprobe([50, 50, 50], [0, 0, 1], active_length_mm=5).voxels(grid)) == 0
    base = Probe([1, 2, 3], [0, 1, 1], "IceRod")
    cp = Cryoprobe.from_probe(base, active_length_mm=20, probe_temperature_c=-170)
    assert np.allclose(cp.tip_mm, [1, 2, 3]) and np.allclose(cp.direction, base.direction)
    assert np.allclose(cp.base_mm, cp.tip_mm - 20 * cp.direction)
