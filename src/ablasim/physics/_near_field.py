"""Sub-cell model of cryoprobes on a voxel grid: the probe voxels, their near-field profile and the kernel arrays.

A probe of radius ``r_p`` (often thinner than a voxel) owns every voxel whose centre lies within ``r_p + 2 h`` of its
active segment (``h`` the largest spacing), so full rings of voxels surround the wall wherever the probe sits
between voxel centres. Voxels inside the wall (``d <= r_p``) are held at the wall temperature; the others at the
quasi-steady near-field temperature around a cylinder, ``T_wall + a ln(d / r_p)``, or around the hemispherical end
caps, ``T_wall + b (1 - r_p / d)``, where ``a = q' / (2 pi k)`` comes from the heat flow per unit length ``q'``
into the voxels beside the shaft and ``b = q'' r_p / k`` from the flux density ``q''`` into those beyond its ends
(the idea of Peaceman's well index: a thin source's wall value from its block values through the analytic near
field). The far field then sees the probe's true radius and position, not a staircase of voxels; the kernel is
``_advance.probe_update``. docs/physics.md gives the grid error.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["REACH", "ProbeBoundaries", "near_field"]

#: The probe owns the voxels within ``radius + REACH x h`` of its segment.
REACH = 2.0


def near_field(probe, grid) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple]:
    """``(indices (n, 3), profile (n,), beside_shaft (n,), coverage)`` of the voxels a probe owns on ``grid``:
    profile is ``ln(max(d, r_p)/r_p)`` beside the shaft and ``max(0, 1 - r_p/d)`` beyond its ends (``d``: distance
    from the active segment, mm); ``coverage`` the fractions of the voxels beside the shaft and beyond its ends that
    lie on the grid (the rest are cut off by the domain: a probe on a symmetry plane, or longer than the grid),
    which scale the heat flows."""
    h = float(np.max(grid.spacing_mm))
    reach = probe.radius_mm + REACH * h
    ends = grid.world_to_index(np.array([probe.tip_mm, probe.base_mm]))
    pad = reach / np.asarray(grid.spacing_mm) + 1.0
    lo = np.floor(ends.min(axis=0) - pad).astype(np.int64)
    hi = np.ceil(ends.max(axis=0) + pad).astype(np.int64) + 1
    idx = np.stack(np.meshgrid(*[np.arange(a, b) for a, b in zip(lo, hi)], indexing="ij"), -1).reshape(-1, 3)
    rel = grid.index_to_world(idx) - probe.base_mm
    s = rel @ probe.direction
    d = np.linalg.norm(rel - np.clip(s, 0.0, probe.active_length_mm)[:, None] * probe.direction, axis=1)
    keep = d <= reach
    idx, s, d = idx[keep], s[keep], d[keep]
    beside = (s > 0.0) & (s < probe.active_length_mm)
    on_grid = np.all((idx >= 0) & (idx < np.asarray(grid.shape)), axis=1)
    coverage = (
        float(np.count_nonzero(beside & on_grid)) / max(int(np.count_nonzero(beside)), 1),
        float(np.count_nonzero(~beside & on_grid)) / max(int(np.count_nonzero(~beside)), 1),
    )
    idx, d, beside = idx[on_grid], d[on_grid], beside[on_grid]
    r = probe.radius_mm
    with np.errstate(divide="ignore"):
        profile = np.where(beside, np.log(np.maximum(d, r) / r), np.maximum(0.0, 1.0 - r / np.maximum(d, 1e-300)))
    return idx.astype(np.int64), profile, beside, coverage


class ProbeBoundaries:
    """The kernel arrays of a set of sub-cell probes on one solver (built once; :meth:`configure` per phase).

    ``members``: positions (in the caller's probe list) of the probes modelled here. A voxel within reach of two
    probes belongs to the nearer one.
    """

    def __init__(self, probes, members, grid, voxel_ids):
        self.members = tuple(members)
        self.probes = tuple(probes[m] for m in self.members)
        parts = [near_field(p, grid) for p in self.probes]
        ids = [voxel_ids(ix) for ix, _, _, _ in parts]
        self.coverage = np.array([cov for _, _, _, cov in parts]).reshape(-1, 2)
        owner = np.concatenate([np.full(len(i), k) for k, i in enumerate(ids)]) if ids else np.zeros(0, int)
        flat = np.concatenate(ids) if ids else np.zeros(0, np.int64)
        prof = np.concatenate([p for _, p, _, _ in parts]) if parts else np.zeros(0)
        side = np.concatenate([b for _, _, b, _ in parts]) if parts else np.zeros(0, bool)
        dist = (
            np.concatenate([p.distance_mm(grid.index_to_world(ix)) for p, (ix, _, _, _) in zip(self.probes, parts)])
            if parts
            else np.zeros(0)
        )
        order = np.lexsort((dist, flat))  # per voxel id, nearest probe first
        first = np.ones(len(order), bool)
        first[1:] = flat[order][1:] != flat[order][:-1]
        keep = np.sort(order[first])
        keep = keep[np.argsort(owner[keep], kind="stable")]
        self.ids = flat[keep]
        self.profile = prof[keep]
        self.beside = side[keep].astype(np.float64)
        counts = np.bincount(owner[keep], minlength=len(self.probes))
        self.start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.counts = counts
        self.voxel_volume_m3 = float(grid.voxel_volume_mm3) * 1e-9
        n = len(self.probes)
        self.wall_c = np.zeros(n)
        self.cap = np.full(n, np.inf)
        self.flux_to_a = np.zeros((n, 2))
        self.a = np.zeros((n, 2))
        self.wall = np.zeros(n)
        self.active = np.zeros(n, np.bool_)
        self.energy = np.zeros(n)
        self.hprev = np.zeros(len(self.ids))
        self._kind = None

    def empty_voxels(self) -> list[int]:
        """Members that own no voxel (their segment misses the grid)."""
        return [m for m, c in zip(self.members, self.counts) if c == 0]

    def configure(self, kind: str, tissue) -> None:
        """Set every probe for a phase: ``freeze`` (wall at ``probe_temperature_c``, power cap ``max_power_w x
        flow_fraction`` or none), ``active_thaw`` (wall at ``thaw_temperature_c``, no cap) or ``thaw`` (released)."""
        if kind == self._kind:
            return
        self._kind = kind
        self.a[:] = 0.0
        for k, p in enumerate(self.probes):
            self.wall[k] = p.thaw_temperature_c if kind == "active_thaw" else p.probe_temperature_c
            self.active[k] = kind != "thaw"
            wall = p.thaw_temperature_c if kind == "active_thaw" else p.probe_temperature_c
            self.wall_c[k] = wall
            power = p.power_limit_w if kind == "freeze" else None
            # the modelled part of the probe (coverage) takes its share of the power
            self.cap[k] = np.inf if power is None else power * self.share(k) / self.voxel_volume_m3
            k_wall = float(tissue.conductivity_w_per_m_k(wall))
            length_m = p.active_length_mm * 1e-3 * max(self.coverage[k, 0], 1e-12)  # the part of the shaft modelled
            caps_m2 = 4.0 * math.pi * (p.radius_mm * 1e-3) ** 2 * max(self.coverage[k, 1], 1e-12)
            self.flux_to_a[k, 0] = self.voxel_volume_m3 / (2.0 * math.pi * k_wall * length_m)
            self.flux_to_a[k, 1] = self.voxel_volume_m3 * p.radius_mm * 1e-3 / (k_wall * caps_m2)

    def share(self, k: int) -> float:
        """The fraction of probe ``k`` on the grid (its wall area: shaft and end caps), which takes that share of
        the probe's power."""
        p = self.probes[k]
        side = 2.0 * math.pi * p.radius_mm * p.active_length_mm
        caps = 4.0 * math.pi * p.radius_mm**2
        return float((side * self.coverage[k, 0] + caps * self.coverage[k, 1]) / (side + caps))

    def kernel_arrays(self, H_flat, dtype):
        """The ``probes`` tuple of ``_advance.advance_enthalpy``, with ``hprev`` refreshed from ``H``; only the
        voxels beside the shaft measure the heat flow (their ``hprev`` is compared, the caps' is not)."""
        self.hprev[:] = H_flat[self.ids]
        return (
            self.ids,
            self.profile,
            self.beside,
            self.hprev,
            self.start,
            self.wall_c,
            self.cap,
            self.flux_to_a,
            self.a,
            self.wall,
            self.active,
            self.energy,
        )
