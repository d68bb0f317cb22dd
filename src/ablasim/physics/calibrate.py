"""Calibration as code: fit each cryoprobe device's free parameters to single-probe measurements.

The measurements, their sources, weights and the fixed numerical setup are in ``ablasim/data/calibration.toml``;
the devices in ``ablasim/data/cryoprobes.toml``. Every fit runs the bioheat solver on the same quarter domain
(symmetry planes through the probe axis, the tip on a voxel face), so it is deterministic: :func:`calibrate`
reproduces the stored values of ``ablasim/data/calibration_fits.toml`` bit for bit (``ablasim calibrate``).

Least squares: minimise ``sum(((simulated - value) / sigma)^2)``; one parameter and one datum: the root of
``simulated = value`` (Brent on the log of the parameter); one parameter and several data: bounded Brent
minimisation; two parameters (power and active length): the best point of a 6 x 6 grid over the logs of the power per
unit length and the length, refined by Nelder-Mead (derivative-free: where the wall sits at its floor more power
changes nothing, a plateau without a gradient) from a fixed simplex. Fitted values are
rounded to ``rounding_digits`` significant digits and the residuals reported at the rounded values.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import ScenarioError, UnknownNameError, ValidationError
from ..geometry.grid import Grid
from .bioheat import ProtocolRun
from .devices import Device, device_from_values
from .protocol import Protocol

__all__ = ["QUANTITIES", "Datum", "FitResult", "FitSpec", "calibrate", "fit", "fit_specs", "fits_toml", "settings"]

QUANTITIES = ("width_mm", "length_mm", "beyond_tip_mm")
_SPEC = "data/calibration.toml"


@dataclass(frozen=True)
class Datum:
    """One measured number: ``quantity`` of the ``isotherm_c`` isotherm at the end of the protocol."""

    quantity: str
    isotherm_c: float
    value: float
    sigma: float = 1.0
    derivation: str = ""


@dataclass(frozen=True)
class FitSpec:
    device: str
    parameters: dict  # name -> (lower, upper)
    medium: str
    initial_temperature_c: float
    protocol: str
    data: tuple
    checks: tuple
    source: str
    assumptions: str


@dataclass(frozen=True)
class FitResult:
    """A fit's outcome: the rounded ``parameters``, the data with their ``simulated`` values, the ``checks`` with
    theirs, ``chi2`` at the rounded values and the number of solver runs."""

    spec: FitSpec
    parameters: dict
    simulated: tuple
    checked: tuple
    chi2: float
    evaluations: int

    def residuals(self) -> list[float]:
        return [s - d.value for s, d in zip(self.simulated, self.spec.data)]


def settings() -> dict:
    """The fixed numerical setup (``[settings]`` of calibration.toml)."""
    return dict(_doc()["settings"])


def fit_specs() -> dict[str, FitSpec]:
    """Every ``[[fits]]`` of calibration.toml, by device name."""
    out = {}
    for i, f in enumerate(_doc().get("fits", [])):
        where = f"fits[{i}]"
        try:
            data = tuple(_datum(d, f"{where}.data[{j}]") for j, d in enumerate(f.get("data", [])))
            checks = tuple(_datum(d, f"{where}.checks[{j}]") for j, d in enumerate(f.get("checks", [])))
            params = {k: (float(v[0]), float(v[1])) for k, v in f["parameters"].items()}
            spec = FitSpec(
                str(f["device"]),
                params,
                str(f["medium"]),
                float(f["initial_temperature_c"]),
                str(f["protocol"]),
                data,
                checks,
                str(f["source"]),
                str(f.get("assumptions", "")),
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ScenarioError(f"{where}: {exc}", f"ablasim/{_SPEC}") from None
        if not data or len(params) > len(data):
            raise ScenarioError(f"{where}: needs at least as many data as parameters", f"ablasim/{_SPEC}")
        out[spec.device] = spec
    return out


def simulate_quantities(dev: Device, spec: FitSpec, items, *, spacing_mm: float | None = None) -> list[float]:
    """The device's simulated ``items`` (Datum-like: quantity, isotherm_c) at the end of ``spec``'s protocol on
    the calibration's quarter domain."""
    cfg = settings()
    h = float(cfg["spacing_mm"] if spacing_mm is None else spacing_mm)
    margin = float(cfg["margin_mm"])
    length = dev.values["active_length_mm"]
    reach = dev.values["radius_mm"] + margin
    n_lat = math.ceil(reach / h)
    n_back = math.ceil((length + margin) / h)
    n_fwd = math.ceil(margin / h)
    grid = Grid((n_lat, n_lat, n_back + n_fwd), h, origin_mm=(h / 2, h / 2, -n_back * h + h / 2))
    probe = dev.cryoprobe([0.0, 0.0, 0.0], [0.0, 0.0, 1.0])
    boundary = ("adiabatic", "fixed", "adiabatic", "fixed", "fixed", "fixed")  # symmetry planes x = 0, y = 0
    run = ProtocolRun(
        grid,
        spec.medium,
        probe,
        Protocol.parse(spec.protocol),
        initial_temperature_c=spec.initial_temperature_c,
        boundary=boundary,
        precision=str(cfg["precision"]),
    )
    run.advance_to(run.duration_s)
    out = []
    for item in items:
        e = run.solver.isotherm_extent(item.isotherm_c, probe.tip_mm, probe.direction)
        if item.quantity == "width_mm":
            out.append(2.0 * e.max_radius_mm)
        elif item.quantity == "length_mm":
            out.append(e.length_mm)
        else:
            out.append(e.axial_max_mm if e.volume_mm3 > 0 else 0.0)
    return out


def fit(name: str, progress=None) -> FitResult:
    """Fit device ``name`` (see :func:`fit_specs`); ``progress(message)`` is called after every solver run."""
    from scipy.optimize import brentq, minimize, minimize_scalar

    specs = fit_specs()
    if name not in specs:
        raise UnknownNameError("device", name, sorted(specs))
    spec = specs[name]
    names = list(spec.parameters)
    lo = np.log([spec.parameters[n][0] for n in names])
    hi = np.log([spec.parameters[n][1] for n in names])
    cache: dict = {}

    def run(values) -> list[float]:
        key = tuple(float(v) for v in values)
        if key not in cache:
            dev = device_from_values(spec.device, dict(zip(names, key)))
            cache[key] = simulate_quantities(dev, spec, spec.data)
            if progress is not None:
                shown = ", ".join(f"{n}={v:.5g}" for n, v in zip(names, key))
                sims = ", ".join(f"{s:.3f}" for s in cache[key])
                progress(f"{spec.device}: {shown} -> {sims}")
        return cache[key]

    def residuals(logs) -> np.ndarray:
        sim = run(np.exp(logs))
        return np.array([(s - d.value) / d.sigma for s, d in zip(sim, spec.data)])

    if len(names) == 1 and len(spec.data) == 1:
        f_lo, f_hi = residuals(lo)[0], residuals(hi)[0]
        if f_lo * f_hi > 0:
            raise ValidationError(
                f"fits.{name}.parameters", spec.parameters, "the datum is out of reach within the bounds"
            )
        best = np.array([brentq(lambda x: residuals(np.array([x]))[0], lo[0], hi[0], xtol=1e-5)])
    elif len(names) == 1:
        res = minimize_scalar(
            lambda x: float(np.sum(residuals(np.array([x])) ** 2)),
            bounds=(lo[0], hi[0]),
            method="bounded",
            options={"xatol": 1e-5},
        )
        best = np.array([res.x])
    else:
        # search in (log power per unit length, log length) when both are free: the ice width follows the power
        # per unit length, so the valley of the objective runs along that axis
        per_length = {"max_power_w", "active_length_mm"} <= set(names)
        i_p = names.index("max_power_w") if per_length else 0
        i_l = names.index("active_length_mm") if per_length else 0

        def to_logs(u):
            x = np.array(u, dtype=float)
            if per_length:
                x[i_p] = u[i_p] + u[i_l]
            return np.clip(x, lo, hi)

        u_lo, u_hi = lo.copy(), hi.copy()
        if per_length:
            u_lo[i_p], u_hi[i_p] = lo[i_p] - hi[i_l], hi[i_p] - lo[i_l]
        # the best point of a coarse grid, refined by Nelder-Mead (derivative-free: where the wall sits at its
        # floor more power changes nothing, a plateau without a gradient) from a fixed simplex of +-10 % steps
        axes = [np.linspace(a + 0.05 * (b - a), b - 0.05 * (b - a), 6) for a, b in zip(u_lo, u_hi)]
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, len(names))

        def cost(u):
            return float(np.sum(residuals(to_logs(u)) ** 2))

        start = min(grid, key=cost)
        simplex = np.array([start] + [start + np.log(1.1) * np.eye(len(names))[k] for k in range(len(names))])
        res = minimize(
            cost,
            start,
            method="Nelder-Mead",
            options={"initial_simplex": simplex, "xatol": 1e-3, "fatol": 1e-3, "maxiter": 80},
        )
        best = to_logs(res.x)
    digits = int(settings()["rounding_digits"])
    values = {n: _round(float(np.exp(x)), digits) for n, x in zip(names, best)}
    dev = device_from_values(spec.device, values)
    simulated = tuple(run([values[n] for n in names]))
    checked = tuple(simulate_quantities(dev, spec, spec.checks)) if spec.checks else ()
    chi2 = float(sum(((s - d.value) / d.sigma) ** 2 for s, d in zip(simulated, spec.data)))
    return FitResult(spec, values, simulated, checked, chi2, len(cache))


def calibrate(names=None, progress=None) -> list[FitResult]:
    """Fit every device of calibration.toml (or ``names``), in file order."""
    specs = fit_specs()
    chosen = list(specs) if names is None else list(names)
    return [fit(n, progress) for n in chosen]


def fits_toml(results) -> str:
    """calibration_fits.toml for ``results`` (floats written exactly, ``repr``)."""
    lines = [
        "# Fitted cryoprobe parameters: generated by `ablasim calibrate --write` from ablasim/data/calibration.toml",
        "# (measurements, weights, setup) and ablasim/data/cryoprobes.toml (devices). Do not edit by hand: rerun the",
        "# calibration; `ablasim calibrate` reproduces these numbers bit for bit. Residuals = simulated - measured.",
        "",
    ]
    for r in results:
        s = r.spec
        lines.append(f"[fits.{_key(s.device)}]")
        lines.append(f"source = {_str(s.source)}")
        lines.append(f"assumptions = {_str(s.assumptions)}")
        lines.append(f"setting = {_str(f'{s.medium} at {s.initial_temperature_c:g} degC, protocol {s.protocol}')}")
        params = ", ".join(f"{k} = {v!r}" for k, v in r.parameters.items())
        lines.append(f"parameters = {{ {params} }}")
        lines.append(f"chi2 = {r.chi2!r}")
        lines.append(f"evaluations = {r.evaluations}")
        lines.append("data = [")
        for d, sim in zip(s.data, r.simulated):
            lines.append(
                f"  {{ quantity = {_str(d.quantity)}, isotherm_c = {d.isotherm_c!r}, measured = {d.value!r}, "
                f"sigma = {d.sigma!r}, simulated = {sim!r}, residual = {sim - d.value!r} }},"
            )
        lines.append("]")
        if s.checks:
            lines.append("checks = [")
            for d, sim in zip(s.checks, r.checked):
                lines.append(
                    f"  {{ quantity = {_str(d.quantity)}, isotherm_c = {d.isotherm_c!r}, derived = {d.value!r}, "
                    f"simulated = {sim!r}, difference = {sim - d.value!r} }},"
                )
            lines.append("]")
        lines.append("")
    return "\n".join(lines)


def stored_fits() -> dict:
    """The stored calibration_fits.toml as a dict (empty if absent)."""
    path = resources.files("ablasim").joinpath("data/calibration_fits.toml")
    return tomllib.loads(path.read_text(encoding="utf-8")).get("fits", {}) if path.is_file() else {}


def compare_with_stored(results) -> list[str]:
    """Differences between ``results`` and the stored fits (empty: identical, bit for bit)."""
    new = tomllib.loads(fits_toml(results)).get("fits", {})
    old = stored_fits()
    out = []
    for name, entry in new.items():
        if name not in old:
            out.append(f"{name}: no stored fit")
        elif entry != old[name]:
            keys = sorted(k for k in entry if entry.get(k) != old[name].get(k))
            out.append(f"{name}: differs in {', '.join(keys)}")
    return out


def fits_path() -> Path:
    """Where the package's calibration_fits.toml lives (for ``ablasim calibrate --write``)."""
    return Path(str(resources.files("ablasim").joinpath("data/calibration_fits.toml")))


def _datum(d, where) -> Datum:
    q = d["quantity"]
    if q not in QUANTITIES:
        raise ValueError(f"{where}.quantity {q!r} is not one of {QUANTITIES}")
    sigma = float(d.get("sigma", 1.0))
    if not sigma > 0:
        raise ValueError(f"{where}.sigma must be > 0")
    return Datum(q, float(d["isotherm_c"]), float(d["value"]), sigma, str(d.get("derivation", "")))


def _doc() -> dict:
    return tomllib.loads(resources.files("ablasim").joinpath(_SPEC).read_text(encoding="utf-8"))


def _round(x: float, digits: int) -> float:
    return float(f"{x:.{digits}g}")


def _key(name: str) -> str:
    return name if name.replace("-", "").replace("_", "").isalnum() and "." not in name else _str(name)


def _str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


#: Protocol, medium and isotherms of the catalog zones regenerated from the calibrated solver (probes.toml).
ZONE_PROTOCOL = ("solver-gel-10-5-10", "gel", 37.0, "10-5-10", (0.0, -20.0, -40.0))
_ZONES_BEGIN = "# >>> solver zones: generated by `ablasim calibrate --write` (do not edit by hand)"
_ZONES_END = "# <<< end of generated solver zones"


def catalog_zone_rows(dev: Device) -> list[dict]:
    """The calibrated device's single-probe isotherm extents as catalog zones (ellipsoids with semi-axes
    ``[width/2, width/2, length/2]`` centred where the extent is), warmest first."""
    name, medium, t0, protocol, isotherms = ZONE_PROTOCOL
    spec = FitSpec(dev.name, {}, medium, t0, protocol, (), (), "", "")
    items = [Datum(q, iso, 0.0) for iso in isotherms for q in ("width_mm", "length_mm", "beyond_tip_mm")]
    values = simulate_quantities(dev, spec, items)
    rows = []
    for k, iso in enumerate(isotherms):
        width, length, beyond = values[3 * k : 3 * k + 3]
        if width <= 0 or length <= 0:
            continue
        rows.append(
            {
                "protocol": name,
                "isotherm_c": iso,
                "diameters_mm": [round(width, 2), round(width, 2), round(length, 2)],
                "distal_beyond_tip_mm": round(beyond, 2),
            }
        )
    return rows


def zones_block(devices) -> str:
    """The generated block of probes.toml: solver zones for every device with a ``catalog_model``."""
    _, medium, t0, protocol, _ = ZONE_PROTOCOL
    lines = [_ZONES_BEGIN]
    for dev in devices:
        if not dev.catalog_model:
            continue
        params = ", ".join(f"{p} {dev.values[p]:g}" for p in dev.fitted)
        source = (
            f"ablasim bioheat solver, calibrated device {dev.name} ({params}; ablasim/data/calibration_fits.toml): "
            f"single probe, {medium} at {t0:g} degC, protocol {protocol}, 1 mm grid"
        )
        for row in catalog_zone_rows(dev):
            lines += [
                "",
                f"[[models.{dev.catalog_model}.zones]]",
                f"protocol = {_str(row['protocol'])}",
                f"isotherm_c = {row['isotherm_c']!r}",
                f"diameters_mm = [{', '.join(repr(v) for v in row['diameters_mm'])}]",
                f"distal_beyond_tip_mm = {row['distal_beyond_tip_mm']!r}",
                'offset_basis = "solver: the isotherm\'s extent beyond the probe tip"',
                f"source = {_str(source)}",
                'kind = "model"',
                "verified = false",
            ]
    lines.append(_ZONES_END)
    return "\n".join(lines) + "\n"


def replace_zones_block(catalog_text: str, block: str) -> str:
    """``catalog_text`` with its generated block replaced by ``block`` (appended when absent)."""
    if _ZONES_BEGIN in catalog_text:
        head, rest = catalog_text.split(_ZONES_BEGIN, 1)
        _, tail = rest.split(_ZONES_END, 1)
        return head + block.rstrip("\n") + tail
    return catalog_text.rstrip("\n") + "\n\n" + block
