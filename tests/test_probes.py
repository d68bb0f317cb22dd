"""Probes: zone placement relative to the tip, catalog provenance, user catalogs."""

import numpy as np
import pytest

from ablasim import ScenarioError
from ablasim.probes import Probe, ProbeCatalog, default_catalog


def test_zone_is_placed_relative_to_the_tip_along_the_shaft():
    d = np.array([1.0, 2.0, 2.0]) / 3.0
    probe = Probe([10, 20, 30], d, "IceRod")
    zone = probe.zone()
    # IceRod (catalog): radii 12.5 x 12.5 x 17.5 mm, centre 5 mm proximal to the tip.
    assert np.allclose(zone.center_mm, np.array([10, 20, 30]) - 5.0 * d)
    assert np.allclose(zone.semi_axes_mm, [12.5, 12.5, 17.5])
    assert np.allclose(zone.rotation[:, 2], d)
    # the zone reaches 17.5 - 5 = 12.5 mm beyond the tip along the shaft, and 22.5 mm behind it
    tip_beyond = probe.tip_mm + 12.5 * d
    assert abs(zone.signed_distance(tip_beyond)[0]) < 1e-9
    assert abs(zone.signed_distance(probe.tip_mm - 22.5 * d)[0]) < 1e-9


def test_catalog_entries_carry_provenance():
    cat = default_catalog()
    assert {"IceRod", "IceSeed"} <= set(cat.names())
    for model in cat:
        assert model.source and model.kind in ("manufacturer chart", "phantom", "in vivo", "clinical", "model")
        assert isinstance(model.verified, bool)


def test_user_catalog_adds_and_overrides(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text("""
[models.MyProbe]
modality = "cryo"
source = "our phantom study"
kind = "phantom"
verified = true
[[models.MyProbe.zones]]
semi_axes_mm = [8, 8, 11]
center_offset_mm = 3
""")
    cat = ProbeCatalog.from_toml(path)
    assert "IceRod" in cat and "MyProbe" in cat
    zone = Probe([0, 0, 0], [0, 0, 1], "MyProbe").zone(cat)
    assert np.allclose(zone.center_mm, [0, 0, -3])


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "[models.X]\nmodality='cryo'\nkind='model'\nverified=false\n[[models.X.zones]]\nsemi_axes_mm=[1,1,1]",
            "models.X.source",
        ),
        ("[models.X]\nmodality='cryo'\nsource='s'\nkind='guess'\nverified=false", "kind"),
        ("[models.X]\nmodality='cryo'\nsource='s'\nkind='model'\nverified=false\ncolour='red'", "unknown key"),
        (
            "[models.X]\nmodality='cryo'\nsource='s'\nkind='model'\nverified=false\n[[models.X.zones]]\nsemi_axes_mm=[1,-1,1]",
            "semi_axes_mm",
        ),
        ("[models.X\n", "not valid TOML"),
    ],
)
def test_malformed_catalogs_are_refused(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=message):
        ProbeCatalog.from_toml(path)
