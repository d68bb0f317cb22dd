"""Probe catalog: every model reproduces its table dimensions (measured from the zone it produces), the tip
relation, interpolation between table points, and clear errors outside the table or for unknown names."""

import numpy as np
import pytest

from ablasim import ScenarioError, UnknownNameError, ValidationError
from ablasim.catalog import ProbeCatalog, default_catalog
from ablasim.probes import Probe

DIRECTION = np.array([1.0, 2.0, -2.0]) / 3.0  # an oblique shaft, so no axis alignment hides a mistake
TIP = np.array([3.0, -4.0, 5.0])


def _edge(contains, origin, direction, far=200.0):
    """Distance from origin (inside) to the boundary along direction, by bisection on the zone's own test."""
    lo, hi = 0.0, far
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if contains(origin + mid * direction):
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def measured_extents(contains, tip, d):
    """(distal end beyond the tip, full length, smallest and largest full width across the shaft) measured by
    bisection, never read from a table. Widths: over directions around the shaft every 0.25 degrees, then refined
    by golden-section search on the angle."""
    beyond = _edge(contains, tip - 0.5 * d, d) - 0.5  # start just behind the tip, inside every catalog zone
    behind = _edge(contains, tip - 0.5 * d, -d) + 0.5
    length = beyond + behind
    center = tip + d * (beyond - length / 2)
    e1 = np.cross(d, [0.0, 0.0, 1.0])
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(d, e1)

    def width(a):
        e = np.cos(a) * e1 + np.sin(a) * e2
        return _edge(contains, center, e) + _edge(contains, center, -e)

    angles = np.deg2rad(np.arange(0.0, 180.0, 0.25))
    w = np.array([width(a) for a in angles])
    out = []
    for sign in (1.0, -1.0):  # minimum, then maximum
        a0 = angles[int(np.argmin(sign * w))]
        lo, hi = a0 - np.deg2rad(0.25), a0 + np.deg2rad(0.25)
        for _ in range(40):
            m1, m2 = lo + 0.382 * (hi - lo), hi - 0.382 * (hi - lo)
            if sign * width(m1) < sign * width(m2):
                hi = m2
            else:
                lo = m1
        out.append(width(0.5 * (lo + hi)))
    return beyond, length, out


def _cases():
    for model in default_catalog():
        for z in model.zones:
            yield model.name, dict(protocol=z.protocol, isotherm_c=z.isotherm_c), z.semi_axes_mm, z.distal_beyond_tip_mm
        for r in model.table:
            yield (
                model.name,
                dict(power_w=r.power_w, duration_s=r.duration_s),
                tuple(r.semi_axes),
                r.semi_axes[2] - r.offset,
            )


@pytest.mark.parametrize("name, kwargs, semi, beyond", list(_cases()))
def test_each_model_reproduces_its_table_dimensions(name, kwargs, semi, beyond):
    zone = Probe(TIP, DIRECTION, name).zone(**kwargs)
    contains = lambda x: bool(zone.contains(np.asarray(x)[None, :])[0])
    m_beyond, m_length, m_widths = measured_extents(contains, TIP, DIRECTION)
    assert m_length == pytest.approx(2 * semi[2], abs=1e-9)
    assert m_widths == pytest.approx(sorted([2 * semi[0], 2 * semi[1]]), abs=1e-6)
    assert m_beyond == pytest.approx(beyond, abs=1e-9)


def test_table_points_as_written_in_the_catalog_file():
    # Spot checks against the vendor profiles cited in docs/references.md (full diameters): Emprint 100 W 10 min
    # 36 x 36 x 42 mm; IceRod 0 degC radii 12.5 x 12.5 x 17.5 centred 5 mm proximal to the tip; IceSphere lung
    # model -40 degC 8.5 x 23.6 mm extending 1.5 mm beyond the tip.
    cat = default_catalog()
    s = cat["Emprint"].zone_spec(power_w=100, duration_s=600)
    assert [2 * a for a in s.semi_axes_mm] == [36.0, 36.0, 42.0]
    s = cat["IceRod"].zone_spec()
    assert s.semi_axes_mm == (12.5, 12.5, 17.5) and s.center_offset_mm == 5.0 and s.isotherm_c == 0.0
    s = cat["IceSphere"].zone_spec(protocol="lung-model", isotherm_c=-40)
    assert [2 * a for a in s.semi_axes_mm] == pytest.approx([8.5, 8.5, 23.6])
    assert s.distal_beyond_tip_mm == pytest.approx(1.5)


def test_interpolation_between_table_points():
    em = default_catalog()["Emprint"]
    # in time at 100 W: halfway between 300 s (35 x 35 x 37) and 600 s (36 x 36 x 42)
    s = em.zone_spec(power_w=100, duration_s=450)
    assert [2 * a for a in s.semi_axes_mm] == pytest.approx([35.5, 35.5, 39.5])
    # in power at 600 s: halfway between 100 W (36 x 36 x 42) and 150 W (39 x 39 x 42)
    s = em.zone_spec(power_w=125, duration_s=600)
    assert [2 * a for a in s.semi_axes_mm] == pytest.approx([37.5, 37.5, 42.0])
    assert not s.extrapolated


@pytest.mark.parametrize("power, duration", [(125, 300), (200, 600), (100, 700), (75, 600), (50, 300)])
def test_outside_the_table_is_an_error_listing_the_table(power, duration):
    with pytest.raises(ValidationError) as err:
        default_catalog()["Emprint"].zone_spec(power_w=power, duration_s=duration)
    msg = str(err.value)
    assert "outside the table" in msg and "100 W x 600 s" in msg and "extrapolate=True" in msg


def test_extrapolation_only_when_asked_and_flagged():
    s = default_catalog()["Emprint"].zone_spec(power_w=100, duration_s=700, extrapolate=True)
    assert s.extrapolated
    # the 300 -> 600 s segment extended: long axis 37 + (42 - 37) * 400 / 300 mm
    assert 2 * s.semi_axes_mm[2] == pytest.approx(37 + 5 * 400 / 300)


@pytest.mark.parametrize(
    "model, kwargs, listed",
    [
        ("IceRod", dict(protocol="10-5-10"), "standard"),
        ("IceRod", dict(isotherm_c=-40), "0"),
        ("IceSphere", dict(protocol="lung"), "lung-model"),
    ],
)
def test_unknown_protocol_or_isotherm_lists_valid_choices(model, kwargs, listed):
    with pytest.raises(UnknownNameError) as err:
        default_catalog()[model].zone_spec(**kwargs)
    assert listed in err.value.choices


def test_wrong_kind_of_settings_is_refused():
    cat = default_catalog()
    with pytest.raises(ValidationError, match="cryoprobe"):
        cat["IceRod"].zone_spec(power_w=100, duration_s=600)
    with pytest.raises(ValidationError, match="RF/MW device"):
        cat["Emprint"].zone_spec(protocol="standard")
    with pytest.raises(ValidationError, match="duration only"):
        cat["Cool-tip"].zone_spec(power_w=50, duration_s=720)
    with pytest.raises(UnknownNameError) as err:
        cat["IceRodd"]
    assert "IceRod" in str(err.value) and "Emprint" in str(err.value)


def test_zone_scale_shrinks_about_the_centre():
    p = Probe(TIP, DIRECTION, "Emprint")
    full = p.zone(power_w=100, duration_s=600)
    small = p.zone(power_w=100, duration_s=600, zone_scale=(0.8, 0.9))
    assert np.allclose(small.center_mm, full.center_mm)
    assert np.allclose(small.semi_axes_mm, full.semi_axes_mm * [0.8, 0.8, 0.9])
    with pytest.raises(ValidationError):
        p.zone(power_w=100, duration_s=600, zone_scale=-1)


BAD = {
    "not nested": """[models.X]
modality = "cryo"
source = "s"
kind = "model"
verified = false
[[models.X.zones]]
isotherm_c = 0.0
semi_axes_mm = [5, 5, 8]
center_offset_mm = 2
[[models.X.zones]]
isotherm_c = -40.0
semi_axes_mm = [6, 6, 6]
center_offset_mm = 2
""",
    "tip relation": """[models.X]
modality = "cryo"
source = "s"
kind = "model"
verified = false
[[models.X.zones]]
semi_axes_mm = [5, 5, 8]
""",
    "duplicate": """[models.X]
modality = "microwave"
source = "s"
kind = "phantom"
verified = false
[[models.X.table]]
power_w = 60
duration_s = 300
diameters_mm = [20, 20, 30]
center_offset_mm = 10
[[models.X.table]]
power_w = 60
duration_s = 300
diameters_mm = [22, 22, 30]
center_offset_mm = 10
""",
}


@pytest.mark.parametrize("label", list(BAD))
def test_malformed_catalog_entries_are_refused(tmp_path, label):
    path = tmp_path / "bad.toml"
    path.write_text(BAD[label])
    with pytest.raises(ScenarioError) as err:
        ProbeCatalog.from_toml(path)
    assert {"not nested": "not inside", "tip relation": "tip relation", "duplicate": "duplicate"}[label] in str(
        err.value
    )
