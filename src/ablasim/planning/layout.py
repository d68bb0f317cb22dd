"""Plan parameters: a vector ``x`` <-> probe zone centres and directions, and structured starting layouts.

``x`` holds the direction parameters first (none when the approach fixes the direction; two shared ones for
parallel probes; two per probe otherwise), then three coordinates per probe: the centre of its zone at the target
isotherm, relative to the tumour centre (mm). A direction is the entry direction turned by the rotation vector
``a u + b v`` (radians; ``u``, ``v`` span the plane across the entry direction), clipped to the cone: every ``x``
decodes to probes that respect the approach's angle by construction.
"""

from __future__ import annotations

import numpy as np

from ..geometry.shapes import Ellipsoid, _frame

__all__ = ["Layout", "rotvec_matrix", "shadow_axes"]


def rotvec_matrix(v) -> np.ndarray:
    """Rotation matrix of the rotation vector ``v`` (Rodrigues' formula)."""
    theta = float(np.linalg.norm(v))
    if theta < 1e-15:
        return np.eye(3)
    k = np.asarray(v, dtype=float) / theta
    kx = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    return np.eye(3) + np.sin(theta) * kx + (1.0 - np.cos(theta)) * (kx @ kx)


def shadow_axes(tumor: Ellipsoid, direction: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float, float]:
    """The tumour seen along ``direction``: ``(e1, e2, s1, s2, h)``, the axes of its outline (an ellipse) with
    semi-axes ``s1 >= s2``, and ``h``, its half-extent along ``direction``."""
    frame = _frame(direction)[:, :2]
    shadow = frame.T @ tumor.linear_map
    w, v = np.linalg.eigh(shadow @ shadow.T)
    order = np.argsort(w)[::-1]
    s = np.sqrt(np.maximum(w[order], 0.0))
    e1 = frame @ v[:, order[0]]
    e2 = np.cross(direction, e1)
    h = float(np.linalg.norm(tumor.linear_map.T @ direction))
    return e1, e2, float(s[0]), float(s[1]), h


class Layout:
    """The parametrisation of an ``n``-probe plan for a tumour and an approach."""

    def __init__(self, tumor: Ellipsoid, n: int, entry: np.ndarray, max_angle_deg: float, parallel: bool):
        self.tumor = tumor
        self.n = int(n)
        self.entry = np.asarray(entry, dtype=float)
        frame = _frame(self.entry)
        self.u, self.v = frame[:, 0], frame[:, 1]
        self.max_angle = float(np.deg2rad(max_angle_deg))
        self.n_dir = 0 if self.max_angle == 0.0 else (2 if parallel or self.n == 1 else 2 * self.n)
        self.dim = self.n_dir + 3 * self.n

    def direction(self, a: float, b: float) -> np.ndarray:
        w = np.array([a, b])
        norm = float(np.hypot(a, b))
        if norm > self.max_angle:
            w *= self.max_angle / norm
        d = rotvec_matrix(w[0] * self.u + w[1] * self.v) @ self.entry
        return d / np.sqrt(d @ d)

    def angles(self, d: np.ndarray) -> tuple[float, float]:
        """Inverse of :meth:`direction` for a direction inside the cone."""
        axis = np.cross(self.entry, d)
        s = float(np.linalg.norm(axis))
        theta = float(np.arctan2(s, float(self.entry @ d)))
        if s < 1e-15:
            return 0.0, 0.0
        r = theta * axis / s
        return float(r @ self.u), float(r @ self.v)

    def clip_direction(self, d: np.ndarray) -> np.ndarray:
        """The direction of the cone nearest to ``d``."""
        if self.max_angle == 0.0:
            return self.entry.copy()
        return self.direction(*self.angles(np.asarray(d, dtype=float) / np.linalg.norm(d)))

    def decode(self, x) -> tuple[np.ndarray, np.ndarray]:
        """``(centres (n, 3), directions (n, 3))`` in world coordinates."""
        x = np.asarray(x, dtype=float)
        if self.n_dir == 0:
            dirs = np.tile(self.entry, (self.n, 1))
        elif self.n_dir == 2:
            dirs = np.tile(self.direction(x[0], x[1]), (self.n, 1))
        else:
            dirs = np.array([self.direction(x[2 * i], x[2 * i + 1]) for i in range(self.n)])
        centres = self.tumor.center_mm + x[self.n_dir :].reshape(self.n, 3)
        return centres, dirs

    def encode(self, centres, directions) -> np.ndarray:
        centres = np.asarray(centres, dtype=float).reshape(self.n, 3)
        dirs = np.asarray(directions, dtype=float).reshape(self.n, 3)
        if self.n_dir == 0:
            head = []
        elif self.n_dir == 2:
            head = list(self.angles(dirs[0]))
        else:
            head = [a for d in dirs for a in self.angles(d)]
        return np.concatenate([np.asarray(head, dtype=float), (centres - self.tumor.center_mm).ravel()])

    def steps(self, length_mm: float) -> np.ndarray:
        """Initial simplex steps: ``length_mm`` for coordinates, 5 degrees (at most the cone) for angles."""
        ang = min(np.deg2rad(5.0), self.max_angle) if self.max_angle > 0 else 0.0
        return np.concatenate([np.full(self.n_dir, ang), np.full(3 * self.n, float(length_mm))])

    # ---- structured layouts ------------------------------------------------------------------------------------
    def patterns(self) -> list[tuple[str, np.ndarray]]:
        """Unit layouts of ``n`` zone centres: rows ``(across 1, across 2, along)`` in units of the tumour's
        shadow semi-axes and half-depth, before a spread factor scales them."""
        n = self.n
        out: list[tuple[str, np.ndarray]] = []
        if n == 1:
            return [("centre", np.zeros((1, 3)))]
        k = np.arange(n)
        line = -1.0 + (2.0 * k + 1.0) / n
        out.append(("line along the long axis", np.column_stack([line, 0 * line, 0 * line])))
        # layered patterns stagger their layers across the shaft: collinear parallel probes would share a working
        # segment (spacing 0), which the spacing limits forbid
        stagger = np.where(k % 2 == 0, -0.25, 0.25)
        out.append(("tandem along the shaft", np.column_stack([stagger, 0 * line, line])))
        ang = 2.0 * np.pi * k / n
        out.append(("ring", np.column_stack([np.cos(ang), np.sin(ang), 0 * ang])))
        if n >= 4:
            ang2 = 2.0 * np.pi * np.arange(n - 1) / (n - 1)
            ring = np.column_stack([np.cos(ang2), np.sin(ang2), 0 * ang2])
            out.append(("ring and centre", np.vstack([np.zeros((1, 3)), ring])))
        if n >= 5:
            ang3 = 2.0 * np.pi * np.arange(n - 2) / (n - 2)
            ring = np.column_stack([np.cos(ang3), np.sin(ang3), 0 * ang3])
            pair = [[-0.25, 0.0, -0.5], [0.25, 0.0, 0.5]]
            out.append(("ring and a staggered tandem pair", np.vstack([pair, ring])))
        if n >= 4 and n % 2 == 0:
            m = n // 2
            row = -1.0 + (2.0 * np.arange(m) + 1.0) / m
            out.append(
                (
                    "two rows",
                    np.vstack(
                        [np.column_stack([row, np.full(m, s), np.zeros(m)]) for s in (-0.5, 0.5)],
                    ),
                )
            )
            out.append(
                (
                    "two staggered layers",
                    np.vstack(
                        [
                            np.column_stack([row + dx, np.full(m, dy), np.full(m, s)])
                            for s, dx, dy in ((-0.5, 0.0, -0.25), (0.5, 1.0 / m, 0.25))
                        ]
                    ),
                )
            )
        return out

    def place(self, pattern: np.ndarray, spread: float, direction: np.ndarray) -> np.ndarray:
        """``x`` for a unit pattern scaled by ``spread`` on the tumour seen along ``direction``."""
        d = self.clip_direction(direction)
        e1, e2, s1, s2, h = shadow_axes(self.tumor, d)
        rel = spread * (pattern[:, :1] * s1 * e1 + pattern[:, 1:2] * s2 * e2 + pattern[:, 2:3] * h * d)
        return self.encode(self.tumor.center_mm + rel, np.tile(d, (self.n, 1)))
