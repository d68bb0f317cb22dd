"""Pennes bioheat with freezing (enthalpy method) on a voxel grid: the solver (the protocol driver is bioheat.py).

Model (SI inside; public arguments in mm, s, degC, W)::

    dH/dt = div(k(T) grad T) + f(T) [omega C_b (T_a - T) + Q_m]        H = H(T) as in ablasim.physics.tissue

Explicit Euler on a 7-point finite-volume stencil with harmonic-mean face conductivities, anisotropic spacing
allowed; cell-centred voxels, so a held voxel fixes the temperature at its centre. The time step is derived from
the physics (:meth:`Tissue.max_stable_dt_s`); the default is :data:`STABILITY_SAFETY` of the limit and a forced
``dt_s`` above the limit is refused. Domain faces are held at the initial temperature one voxel outside the grid
(``boundary="fixed"``) or adiabatic. The grid may have any orientation (``Grid.direction``): the stencil works in
the grid's own axes, and probes and isotherm extents are mapped through the grid's affine.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass

import numba
import numpy as np

from .._validation import as_float, as_unit_vector, as_vector3
from ..errors import SimulationError, UnknownNameError, ValidationError
from ..geometry.grid import Grid
from ..geometry.shapes import rotation_with_z_axis
from . import _advance as _a
from . import _stencils as _k
from ._coefficients import enthalpy_coefficients, pennes_coefficients
from ._near_field import ProbeBoundaries
from .tissue import STABILITY_SAFETY, Tissue

__all__ = ["BioheatSolver", "IsothermExtent"]

PRECISIONS = {"double": np.float64, "single": np.float32}
BOUNDARIES = ("fixed", "adiabatic")
#: Steps between updates of the running minimum (lethal map) and the finiteness check.
TRACK_EVERY = 32
#: Grids smaller than this run serial kernels on one thread: on 2 cores the cost of starting and joining a parallel
#: region every step exceeds the work, and when another process holds a core every region waits for a scheduler
#: time slice.
PARALLEL_MIN_VOXELS = 2**18


@contextmanager
def _threads(n_voxels):
    if n_voxels >= PARALLEL_MIN_VOXELS:
        yield
        return
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


@dataclass(frozen=True)
class IsothermExtent:
    """Size of the region at or below an isotherm, measured against a probe axis (mm, mm3).

    ``axial_min_mm``/``axial_max_mm``: extreme positions along the axis from the tip (positive = beyond the tip);
    ``length_mm`` = their difference; ``width_mm``: the larger of the two extents perpendicular to the axis;
    ``max_radius_mm``: largest distance from the axis line. All zero when no voxel is at or below the isotherm.
    Positions use voxel centres and linearly interpolated crossings between face neighbours; the volume counts
    voxels (a one-voxel-thick shell of uncertainty).
    """

    volume_mm3: float
    axial_min_mm: float
    axial_max_mm: float
    length_mm: float
    width_mm: float
    max_radius_mm: float


def as_tissue(tissue) -> Tissue:
    if isinstance(tissue, Tissue):
        return tissue
    if isinstance(tissue, str):
        return Tissue.from_name(tissue)
    raise ValidationError("tissue", tissue, "expected an ablasim.physics.Tissue or a tissue name")


def _as_boundary(boundary) -> np.ndarray:
    faces = [boundary] * 6 if isinstance(boundary, str) else list(boundary) if np.ndim(boundary) == 1 else None
    if faces is None or len(faces) != 6 or any(f not in BOUNDARIES for f in faces):
        raise ValidationError(
            "boundary",
            boundary,
            f"expected one of {list(BOUNDARIES)} or six of them (x-lo, x-hi, y-lo, y-hi, z-lo, z-hi)",
        )
    return np.array([f == "adiabatic" for f in faces], dtype=np.bool_)


class BioheatSolver:
    """Explicit bioheat solver on ``grid`` (lower level than :func:`ablasim.physics.simulate`).

    Parameters
    ----------
    grid : Grid
    tissue : Tissue or tissue name
    initial_temperature_c : uniform initial temperature (default: the tissue's steady temperature, 37 degC)
    boundary : ``"fixed"`` (held at the initial temperature) or ``"adiabatic"``, or six of them per face
    dt_s : time step; default ``STABILITY_SAFETY`` x the stability limit; above the limit is refused
    precision : ``"single"`` (default; float32 state, about twice as fast) or ``"double"``; docs/physics.md compares
        them (fronts agree to < 1e-3 mm on every validation case)
    phase_change : ``False`` solves linear Pennes with the unfrozen properties (no freezing)
    conductivity_w_per_m_k : per-voxel conductivity map, linear mode only (default: the tissue's ``k_unfrozen``)
    """

    def __init__(
        self,
        grid,
        tissue,
        *,
        initial_temperature_c=None,
        boundary="fixed",
        dt_s=None,
        precision="single",
        phase_change=True,
        conductivity_w_per_m_k=None,
    ):
        if not isinstance(grid, Grid):
            raise ValidationError("grid", grid, "expected an ablasim.Grid")
        self.grid = grid
        self.tissue = tissue = as_tissue(tissue)
        self._closed = _as_boundary(boundary)
        if precision not in PRECISIONS:
            raise UnknownNameError("precision", precision, PRECISIONS)
        self.precision = precision
        dtype = PRECISIONS[precision]
        self.phase_change = bool(phase_change)
        t0 = (
            tissue.steady_temperature_c
            if initial_temperature_c is None
            else as_float(initial_temperature_c, "initial_temperature_c", minimum=-273.15)
        )
        self.initial_temperature_c = t0
        if not self.phase_change and not t0 > tissue.liquidus_c:
            raise ValidationError(
                "initial_temperature_c",
                t0,
                "linear mode (phase_change=False) models unfrozen "
                f"tissue: must be above liquidus_c={tissue.liquidus_c:g}",
            )
        h2 = (grid.spacing_mm * 1e-3) ** 2
        kmap = None
        if conductivity_w_per_m_k is not None:
            if self.phase_change:
                raise ValidationError("conductivity_w_per_m_k", "<array>", "only supported with phase_change=False")
            try:
                kmap = np.asarray(conductivity_w_per_m_k, dtype=np.float64)
            except (TypeError, ValueError):
                kmap = np.zeros(0)
            if kmap.shape != grid.shape or not np.all(np.isfinite(kmap)) or not np.all(kmap > 0):
                raise ValidationError(
                    "conductivity_w_per_m_k",
                    "<array>",
                    f"expected finite values > 0 in an array of the grid's shape {grid.shape}",
                )
        if self.phase_change:
            self.max_stable_dt_s = tissue.max_stable_dt_s(grid.spacing_mm)
        else:
            k_max = tissue.k_unfrozen_w_per_m_k if kmap is None else float(kmap.max())
            rate = 2.0 * k_max * float(np.sum(1.0 / h2)) + tissue.perfusion_per_s * tissue.c_blood_j_per_m3_k
            self.max_stable_dt_s = tissue.c_unfrozen_j_per_m3_k / rate
        if dt_s is None:
            self.dt_s = STABILITY_SAFETY * self.max_stable_dt_s
        else:
            self.dt_s = as_float(dt_s, "dt_s", positive=True)
            if self.dt_s > self.max_stable_dt_s:
                raise ValidationError(
                    "dt_s",
                    dt_s,
                    f"exceeds the explicit stability limit {self.max_stable_dt_s:.6g} s"
                    f" for {tissue.name} on spacing {tuple(float(s) for s in grid.spacing_mm)} mm",
                )
        pad = float(np.prod(np.asarray(grid.shape) + 2.0)) / grid.size
        arrays = (5 if tissue.has_perfusion_response else 4) if self.phase_change else 6
        grid.check_fits(np.dtype(dtype).itemsize * arrays * pad + 16, "bioheat solver state")

        shape = tuple(int(n) + 2 for n in grid.shape)
        self._shape = shape
        self._dtype = dtype
        self._T = np.full(shape, t0, dtype=dtype)
        self._Tn = self._T.copy()
        self._Tmin = np.full(grid.shape, t0, dtype=dtype)
        # perfusion response: none (simple step), stasis alone (step with the weight W = f(T_min)) or a curve
        # (general step)
        response = tissue.has_perfusion_response and self.phase_change
        self._response_mode = 0 if not response else 2 if tissue.perfusion_curve else 4
        # W: a weight in [0, 1], float32 in both precisions (half the traffic of float64 in double precision)
        self._W = (
            np.full(shape, tissue.liquid_fraction(t0), dtype=np.float32)
            if self._response_mode == 4
            else np.zeros((1, 1, 1), dtype=np.float32)
        )
        if self.phase_change:
            self._H = np.full(shape, tissue.enthalpy_j_per_m3(t0), dtype=dtype)
        else:
            k = np.full(grid.shape, tissue.k_unfrozen_w_per_m_k) if kmap is None else kmap
            self._G = self._face_conductances(np.pad(k, 1, mode="edge"), h2)
        self._parallel = grid.size >= PARALLEL_MIN_VOXELS
        if self.phase_change:
            self._no_probes = ProbeBoundaries((), (), grid, lambda idx: self.voxel_ids(idx))
        self.time_s = 0.0
        self.steps = 0

    # -- state -----------------------------------------------------------------------------------------------------
    def _face_conductances(self, k, h2):
        out = []
        for axis in range(3):
            a = np.moveaxis(k, axis, 0)
            g = np.zeros_like(a)
            g[:-1] = 2.0 * a[:-1] * a[1:] / (a[:-1] + a[1:]) / h2[axis]
            g[0] *= not self._closed[2 * axis]
            g[-2] *= not self._closed[2 * axis + 1]
            out.append(np.ascontiguousarray(np.moveaxis(g, 0, axis), dtype=self._dtype))
        return out

    @property
    def temperature_c(self) -> np.ndarray:
        """Current temperature field on the grid (a float64 copy)."""
        return self._T[1:-1, 1:-1, 1:-1].astype(np.float64)

    @property
    def min_temperature_c(self) -> np.ndarray:
        """Lowest temperature each voxel has reached (sampled every ``TRACK_EVERY`` steps and at the end of every
        :meth:`run`; a float64 copy)."""
        return self._Tmin.astype(np.float64)

    def liquid_fraction(self) -> np.ndarray:
        """Liquid fraction of every voxel (1 everywhere in linear mode)."""
        return self.tissue.liquid_fraction(self.temperature_c) if self.phase_change else np.ones(self.grid.shape)

    def voxel_ids(self, indices, field: str = "indices") -> np.ndarray:
        """Flat ids (into the padded state arrays) of voxel indices ``(n, 3)``, checked to lie on the grid."""
        idx = np.asarray(indices)
        if idx.ndim != 2 or idx.shape[1] != 3 or not np.issubdtype(idx.dtype, np.integer):
            raise ValidationError(field, indices, "expected integer voxel indices of shape (n, 3)")
        if idx.size and (np.any(idx < 0) or np.any(idx >= np.asarray(self.grid.shape))):
            raise ValidationError(field, indices, f"voxel indices must lie on the grid of shape {self.grid.shape}")
        return np.ravel_multi_index(tuple((idx + 1).T), self._shape).astype(np.int64)

    # -- time stepping ---------------------------------------------------------------------------------------------
    def _coefficients(self, dt):
        """The kernels' named coefficient record for a step of ``dt`` seconds (``_coefficients.py``)."""
        if not self.phase_change:
            return pennes_coefficients(self.tissue, dt, self._dtype)
        return enthalpy_coefficients(self.tissue, self.grid.spacing_mm, dt, self._dtype)

    def probe_boundaries(self, probes, members=None) -> ProbeBoundaries:
        """The sub-cell model (``_near_field.py``) of ``probes`` (Cryoprobes) on this solver's grid, for
        :meth:`run`; ``members``: the positions of the probes to model (default all)."""
        if not self.phase_change:
            raise ValidationError("probes", probes, "cryoprobes need the phase-change solver (phase_change=True)")
        members = range(len(probes)) if members is None else members
        return ProbeBoundaries(probes, members, self.grid, lambda idx: self.voxel_ids(idx, "probes"))

    def run(self, duration_s, *, held=(), sinks=(), probes: ProbeBoundaries | None = None) -> None:
        """Advance by ``duration_s`` seconds.

        ``held``: ``[(voxel_indices (n, 3), temperature_c), ...]`` held fixed (Dirichlet) after every step;
        ``sinks``: ``[(voxel_indices, power_w), ...]`` removing ``power_w`` spread evenly over the voxels;
        ``probes``: sub-cell cryoprobes from :meth:`probe_boundaries`, configured for the phase
        (``ProbeBoundaries.configure``). The last step is shortened to land exactly on ``duration_s``. Raises
        :class:`SimulationError` if the field becomes non-finite.
        """
        duration = as_float(duration_s, "duration_s", positive=True)
        hold_ids, hold_t = self._collect(held, "held", "temperature_c", minimum=-273.15)
        sink_ids, sink_w = self._collect(sinks, "sinks", "power_w", positive=True)
        if probes is not None and not isinstance(probes, ProbeBoundaries):
            raise ValidationError("probes", probes, "expected the result of BioheatSolver.probe_boundaries()")
        n = max(1, math.ceil(duration / self.dt_s - 1e-9))
        dt_last = duration - (n - 1) * self.dt_s
        c, c_last = self._coefficients(self.dt_s), self._coefficients(dt_last)
        capacity = 1.0 if self.phase_change else self.tissue.c_unfrozen_j_per_m3_k
        with np.errstate(over="ignore"):  # an absurd power overflows here; the run then stops non-finite
            sink_amount = (-sink_w * self.dt_s / (self.grid.voxel_volume_mm3 * 1e-9) / capacity).astype(self._dtype)
        done, bad = self._advance(
            n, c, c_last, hold_ids, hold_t.astype(self._dtype), sink_ids, sink_amount, dt_last / self.dt_s, probes
        )
        if done % 2:
            self._T, self._Tn = self._Tn, self._T
        self.steps += done
        self.time_s += (done - 1) * self.dt_s + (dt_last if done == n else self.dt_s)
        if bad:
            raise SimulationError(
                f"the temperature field became non-finite in {bad} voxel(s) by t = "
                f"{self.time_s:.4g} s (step {self.steps}); check probe powers and tissue "
                "properties"
            )

    def _advance(self, n, c, c_last, hold_ids, hold_t, sink_ids, sink_amount, last_scale, probes):
        if self.phase_change:
            hold_h = self.tissue.enthalpy_j_per_m3(hold_t).astype(self._dtype)
            if probes is None:
                probes = self._no_probes
            arrays = probes.kernel_arrays(self._H.reshape(-1), self._dtype)
            mode = int(self._parallel) | self._response_mode
            if self._response_mode == 4:
                _a.perfusion_weight(self._W, self._Tmin, c)
            return _a.advance_enthalpy(
                n,
                self._H,
                self._T,
                self._Tn,
                c,
                c_last,
                self._closed,
                (hold_ids, hold_h, hold_t),
                (sink_ids, sink_amount),
                arrays,
                last_scale,
                self._Tmin,
                self._W,
                TRACK_EVERY,
                mode,
            )
        return _a.advance_pennes(
            n,
            self._T,
            self._Tn,
            *self._G,
            c,
            c_last,
            (hold_ids, hold_t),
            (sink_ids, sink_amount),
            last_scale,
            self._Tmin,
            TRACK_EVERY,
            self._parallel,
        )

    def _collect(self, items, field, what, **bounds):
        ids, values = [np.zeros(0, np.int64)], [np.zeros(0)]
        for m, item in enumerate(items):
            try:
                voxels, value = item
            except (TypeError, ValueError):
                raise ValidationError(f"{field}[{m}]", item, f"expected a (voxel_indices, {what}) pair") from None
            vid = self.voxel_ids(voxels, f"{field}[{m}]")
            val = as_float(value, f"{field}[{m}].{what}", **bounds)
            if what == "power_w" and vid.size:
                val /= vid.size  # per voxel
            ids.append(vid)
            values.append(np.full(vid.size, val))
        return np.concatenate(ids), np.concatenate(values)

    # -- measurements ----------------------------------------------------------------------------------------------
    def isotherm_extent(self, isotherm_c, tip_mm, direction) -> IsothermExtent:
        """Size of ``{T <= isotherm_c}`` against the axis through ``tip_mm`` along ``direction`` (world mm)."""
        iso = as_float(isotherm_c, "isotherm_c")
        g = self.grid
        frame = rotation_with_z_axis(as_unit_vector(direction, "direction"))
        to_local = g.direction.T  # world -> grid axes
        tip = to_local @ (as_vector3(tip_mm, "tip_mm") - g.origin_mm)
        axis, u, v = (np.ascontiguousarray(to_local @ frame[:, m]) for m in (2, 0, 1))
        out = np.empty((g.shape[0], 8))
        with _threads(g.size):
            _k.isotherm_stats(
                self._T, self._dtype(iso), np.asarray(g.spacing_mm, dtype=np.float64), tip, axis, u, v, out
            )
        count = float(out[:, 0].sum())
        if count == 0:
            return IsothermExtent(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        s_min, s_max = float(out[:, 1].min()), float(out[:, 2].max())
        width = max(out[:, 4].max() - out[:, 3].min(), out[:, 6].max() - out[:, 5].min())
        return IsothermExtent(
            count * g.voxel_volume_mm3, s_min, s_max, s_max - s_min, float(width), float(out[:, 7].max())
        )

    def __repr__(self) -> str:
        mode = "enthalpy" if self.phase_change else "linear"
        return (
            f"BioheatSolver({self.grid!r}, tissue={self.tissue.name!r}, {mode}, {self.precision}, "
            f"dt_s={self.dt_s:.4g}, time_s={self.time_s:.4g}, threads={numba.get_num_threads()})"
        )
