"""Calibration as code: devices, fit data, the stored fits, `ablasim calibrate` and the regenerated catalog zones."""

import argparse
import tomllib

import pytest

from ablasim.catalog import default_catalog
from ablasim.cli import calibrate as cli
from ablasim.errors import UnknownNameError, ValidationError
from ablasim.physics import Cryoprobe
from ablasim.physics import calibrate as cal
from ablasim.physics.devices import DEVICE_PARAMETERS, device, device_names


def _args(*argv):
    p = argparse.ArgumentParser(prog="ablasim")
    cli.add_parser(p.add_subparsers(dest="command"))
    return p.parse_args(["calibrate", *argv])


def test_every_device_parameter_has_a_source_and_every_fitted_one_a_stored_value():
    assert {"IceSphere", "IceRod", "IceSeed", "Littrup-2.4mm"} <= set(device_names())
    stored = cal.stored_fits()
    for name in device_names():
        dev = device(name)
        assert set(dev.sources) == set(DEVICE_PARAMETERS) and all(len(s) > 20 for s in dev.sources.values())
        for param in dev.fitted:
            assert dev.values[param] == stored[name]["parameters"][param]
        probe = dev.cryoprobe([0, 0, 0], [0, 0, 1])
        assert isinstance(probe, Cryoprobe) and probe.power_limit_w == dev.values["max_power_w"]
    with pytest.raises(UnknownNameError):
        device("IceCube")


def test_fits_use_single_probe_measurements_with_full_citations():
    specs = cal.fit_specs()
    assert set(specs) == {n for n in device_names() if device(n).fitted}
    for spec in specs.values():
        assert len(spec.source) > 60 and spec.assumptions
        assert set(spec.parameters) == set(device(spec.device).fitted)
        assert all(d.quantity in cal.QUANTITIES and d.sigma > 0 for d in spec.data)
        # the stored residuals are simulated - measured, at the stored parameters
        stored = cal.stored_fits()[spec.device]
        for row, d in zip(stored["data"], spec.data):
            assert row["measured"] == d.value and row["residual"] == row["simulated"] - d.value


def test_calibrate_reproduces_the_stored_fit_bit_for_bit(capsys):
    # one device (10 solver runs, ~15 s); `ablasim calibrate` without --device checks all four (~6 min)
    assert cli.run_command(_args("--device", "Littrup-2.4mm", "--quiet")) == 0
    out = capsys.readouterr().out
    assert "reproduces the stored values bit for bit" in out and "residual" in out


def test_calibrate_refuses_bad_requests():
    with pytest.raises(UnknownNameError):
        cli.run_command(_args("--device", "IceCube"))
    with pytest.raises(ValidationError, match="without --device"):
        cli.run_command(_args("--device", "IceRod", "--write"))


def test_the_fits_file_is_the_exact_text_of_the_stored_results():
    # writing back what is stored reproduces the file's content (floats round-trip through repr)
    text = cal.fits_path().read_text(encoding="utf-8")
    assert tomllib.loads(text)["fits"] == cal.stored_fits()


def test_catalog_has_solver_zones_for_each_calibrated_catalog_device():
    catalog = default_catalog()
    protocol = cal.ZONE_PROTOCOL[0]
    for name in device_names():
        model = device(name).catalog_model
        if model is None:
            continue
        zones = [z for z in catalog[model].zones if z.protocol == protocol]
        assert [z.isotherm_c for z in zones] == [0.0, -20.0, -40.0]  # nested: the catalog checks it on load
        assert all(z.kind == "model" and "calibrated device" in z.source for z in zones)
        # the original zones stay, first (the model's default protocol is unchanged)
        assert catalog[model].zones[0].protocol != protocol
