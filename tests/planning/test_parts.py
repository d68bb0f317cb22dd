"""The planner's parts against references: segment distances, clearances, the parametrisation, the delivery
draws, the volume bound and the TOML writer."""

import math
import tomllib
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ablasim import Ellipsoid, Probe, Rule, compose, rotation_from_euler_deg
from ablasim.placement import segment_distance
from ablasim.planning import Device, PlanProblem
from ablasim.planning.clearance import OrganSurface, clearance
from ablasim.planning.feasibility import grown_volume_lower_bound
from ablasim.planning.layout import Layout
from ablasim.planning.objective import crn_draws
from ablasim.workflows._toml import dumps
from reference.planning_reference import fibonacci_sphere, segment_distance_brute

vec = st.tuples(*[st.floats(-20.0, 20.0)] * 3).map(np.array)


@settings(max_examples=60)
@given(vec, vec, vec, vec)
def test_segment_distance_is_exact(p0, p1, q0, q1):
    exact = segment_distance(p0, p1, q0, q1)
    brute = segment_distance_brute(p0, p1, q0, q1)
    # the brute force overestimates by at most half a grid step on each segment (length / 800 / 2 each)
    step = (np.linalg.norm(p1 - p0) + np.linalg.norm(q1 - q0)) / 1600.0
    assert exact <= brute + 1e-9 and exact >= brute - step - 1e-9


def test_segment_distance_of_parallel_and_degenerate_segments():
    z = np.zeros(3)
    assert segment_distance(z, np.array([0, 0, 10.0]), np.array([3.0, 4, 2]), np.array([3.0, 4, 8])) == 5.0
    assert segment_distance(z, z, np.array([3.0, 4, 0]), np.array([3.0, 4, 0])) == 5.0
    # parallel, not overlapping along their direction: end to end, sqrt(5^2 + 2^2)
    d = segment_distance(z, np.array([0, 0, 10.0]), np.array([3.0, 4, 12]), np.array([3.0, 4, 20]))
    assert d == pytest.approx(math.sqrt(29.0), abs=1e-12)


def test_clearance_of_spheres_is_the_gap_between_them():
    organ = OrganSurface(Ellipsoid([30.0, 0, 0], [6.0, 6.0, 6.0]))
    zones = [Ellipsoid([0, 0, 0], [10.0] * 3), Ellipsoid([5.0, 8.0, 0], [10.0] * 3)]
    gap = min(np.linalg.norm(np.array([30.0, 0, 0]) - z.center_mm) - 16.0 for z in zones)  # centre distance - radii
    assert clearance(organ, zones) == pytest.approx(gap, abs=1e-9)
    assert clearance(organ, [Ellipsoid([26.0, 0, 0], [5.0] * 3)]) < 0  # overlapping: negative


@settings(max_examples=15)
@given(st.tuples(*[st.floats(4.0, 15.0)] * 3), st.tuples(*[st.floats(-90, 90)] * 3), st.floats(0.5, 15.0))
def test_clearance_of_ellipsoids_matches_dense_sampling(axes, angles, gap):
    organ = Ellipsoid([0, 0, 0], axes, rotation_from_euler_deg(angles))
    zone = Ellipsoid([0, 0, 0], [8.0, 8.0, 12.0])
    shift = max(axes) + 12.0 + gap
    zone = zone.moved(translation_mm=[shift, 0, 0])
    c = clearance(OrganSurface(organ), [zone])
    # reference: the smallest exact distance from 40 000 organ-surface points to the zone (an upper bound that
    # converges from above; its excess is below ~0.05 mm at this density for these sizes)
    pts = organ.center_mm + fibonacci_sphere(40000) @ organ.linear_map.T
    ref = float(zone.signed_distance(pts).min())
    assert ref - 0.05 <= c <= ref + 1e-9


def test_clearance_to_the_merged_ice_ball():
    # one cryoprobe: the merged ice ball is exactly the catalog ice ball, whose clearance is exact
    probe = Probe([0, 0, 5.0], [0, 0, 1], "IceRod")
    organ = OrganSurface(Ellipsoid([30.0, 3.0, 0], [6.0, 8.0, 5.0]))
    union = clearance(organ, [probe.zone()])
    merged = clearance(organ, compose([probe], composition="synergy"))
    assert merged == pytest.approx(union, abs=1e-3)  # bisection to 1e-9 mm; polish on the surface to ~1e-4
    # several probes: the merged ball contains the union, so it comes at least as close
    probes = [Probe([x, 0, 5.0], [0, 0, 1], "IceRod") for x in (-6.0, 6.0)]
    assert clearance(organ, compose(probes, composition="synergy")) <= clearance(organ, compose(probes)) + 1e-9


@settings(max_examples=40)
@given(st.floats(0.0, 60.0), st.booleans(), st.lists(st.floats(-3.0, 3.0), min_size=11, max_size=11))
def test_layout_round_trips_and_respects_the_cone(max_angle, parallel, values):
    lay = Layout(
        Ellipsoid([1, 2, 3], [5, 6, 7]),
        3,
        np.array([0.2, -0.1, 1.0]) / np.linalg.norm([0.2, -0.1, 1]),
        max_angle,
        parallel,
    )
    x = np.array(values[: lay.dim] + [0.0] * max(0, lay.dim - len(values)))
    centres, dirs = lay.decode(x)
    for d in dirs:
        assert np.degrees(np.arctan2(np.linalg.norm(np.cross(d, lay.entry)), d @ lay.entry)) <= max_angle + 1e-9
    c2, d2 = lay.decode(lay.encode(centres, dirs))
    assert np.allclose(c2, centres) and np.allclose(d2, dirs, atol=1e-9)


def test_deliveries_of_n_probes_are_a_prefix_of_those_of_n_plus_one():
    a, b = crn_draws(5, 10, 2), crn_draws(5, 10, 3)
    assert np.array_equal(a[:, :10], b[:, :10])  # the first two probes' perturbations
    assert np.array_equal(a[:, 10:], b[:, 15:])  # the per-case numbers


def test_the_robust_objective_reads_the_required_probability(sphere_catalog):
    # N = 100, p = 0.9: k = 90 deliveries must meet the target; Q is the 90th largest = index 10 ascending
    problem = PlanProblem(
        Ellipsoid([0, 0, 0], [5, 5, 5]), (Device("Sphere12"),), Rule("t", 1.0), catalog=sphere_catalog
    )
    assert problem.quantile_index(100) == 10
    margins = np.arange(100.0)  # 90 of them >= 10
    assert np.sort(margins)[problem.quantile_index(100)] == 10.0
    assert replace(problem, probability=1.0).quantile_index(20) == 0  # all 20 must meet it


def test_the_volume_bound_is_exact_for_a_sphere_and_below_otherwise():
    t = 3.0
    sphere = Ellipsoid([0, 0, 0], [7.0] * 3)
    assert grown_volume_lower_bound(sphere, t) == pytest.approx(4.0 / 3.0 * math.pi * 10.0**3, rel=1e-12)
    ell = Ellipsoid([0, 0, 0], [12.0, 7.0, 4.0])
    pts = np.random.default_rng(0).uniform(-16, 16, (400_000, 3))
    inside = ell.signed_distance(pts) <= t  # Monte Carlo volume of the grown ellipsoid
    mc = inside.mean() * 32.0**3
    assert grown_volume_lower_bound(ell, t) <= mc * (1 + 4 / math.sqrt(inside.sum()))


def test_toml_writer_round_trips():
    doc = {
        "name": 'x "quoted" é',
        "n": 3,
        "f": 0.1 + 0.2,
        "flag": True,
        "rules": ["a", "b"],
        "rot": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        "tumors": [{"name": "t", "center_mm": [0.0, 1e-17, -2.5]}],
        "zone_model": {"composition": "union"},
        "plan": {"models": ["IceRod"], "approach": {"direction": [0, 0, 1]}, "organs_at_risk": [{"radius_mm": 3.0}]},
        "custom_rules": {"my rule": {"min_margin_mm": 2.0}},
        "inline": [{"a": 1}, 2],
    }
    assert tomllib.loads(dumps(doc, "a header\nsecond line")) == doc


def test_required_successes_with_and_without_confidence():
    from ablasim.planning.problem import required_successes

    assert required_successes(100, 0.9) == 90
    # Wilson 95 % lower bound (z = 1.96): 96 / 100 gives 0.9016, 95 / 100 gives 0.8882, so 96 are needed
    assert required_successes(100, 0.9, 0.95) == 96
    # 20 / 20 gives 20 / (20 + z^2) = 0.839 < 0.9: no number of successes out of 20 confirms 90 %
    assert required_successes(20, 0.9, 0.95) == 21
