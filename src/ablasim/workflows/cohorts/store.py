"""Checkpoints and result tables.

A cohort run with an output path keeps ``<out>.parts/``: ``manifest.json`` (the spec's digest, case count, chunk
size, ablasim version) and one ``chunk_NNNNNN.npz`` per finished chunk, each written atomically. A rerun with the
same spec loads the finished chunks and computes only the rest; a changed spec is refused (``fresh=True`` starts
over). The final table is Parquet (``.parquet``, needs pyarrow) or CSV, also written atomically.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np

from ..._io import atomic_write_bytes, atomic_write_json
from ..._version import __version__
from ...errors import ScenarioError
from .cases import COLUMNS

__all__ = ["CheckpointStore", "read_table", "write_table"]


class CheckpointStore:
    def __init__(self, out_path, spec, *, fresh: bool = False):

        self.dir = Path(str(out_path) + ".parts")
        self.spec = spec
        manifest = {
            "digest": spec.digest(),
            "n_cases": spec.n_cases,
            "chunk_size": spec.chunk_size,
            "ablasim_version": __version__,
        }
        mpath = self.dir / "manifest.json"
        if fresh and self.dir.exists():
            shutil.rmtree(self.dir)
        if mpath.exists():
            old = json.loads(mpath.read_text())
            if old.get("digest") != manifest["digest"] or old.get("n_cases") != manifest["n_cases"]:
                raise ScenarioError(
                    "the checkpoints belong to a different cohort spec; rerun with --fresh to discard them", self.dir
                )
            if old.get("chunk_size") != manifest["chunk_size"]:
                raise ScenarioError(
                    f"the checkpoints were written with chunk_size {old.get('chunk_size')}; keep it "
                    "to resume, or rerun with --fresh",
                    self.dir,
                )
        else:
            atomic_write_json(mpath, manifest)

    def path(self, k: int) -> Path:
        return self.dir / f"chunk_{k:06d}.npz"

    def done(self) -> set[int]:
        return {int(p.stem.split("_")[1]) for p in self.dir.glob("chunk_*.npz")}

    def save(self, k: int, cols: dict) -> None:
        buf = io.BytesIO()
        np.savez(buf, **cols)
        atomic_write_bytes(self.path(k), buf.getvalue())

    def load(self, k: int) -> dict:
        with np.load(self.path(k)) as f:
            cols = {name: f[name] for name in COLUMNS}
        start, stop = self.spec.chunk_range(k)
        if len(cols["case"]) != stop - start or cols["case"][0] != start:
            raise ScenarioError(f"checkpoint {self.path(k).name} does not hold cases {start}-{stop - 1}", self.dir)
        return cols


def write_table(path, cols: dict) -> Path:
    """Parquet for ``.parquet`` (pyarrow), CSV otherwise; atomically."""
    p = Path(path)
    if p.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        buf = io.BytesIO()
        pq.write_table(pa.table({k: np.asarray(v) for k, v in cols.items()}), buf)
        return atomic_write_bytes(p, buf.getvalue())
    names = list(cols)
    lines = [",".join(names)]
    for row in zip(*(np.asarray(cols[n]) for n in names)):
        lines.append(",".join(repr(float(v)) if isinstance(v, (float, np.floating)) else str(int(v)) for v in row))
    return atomic_write_bytes(p, ("\n".join(lines) + "\n").encode())


def read_table(path) -> dict:
    p = Path(path)
    if p.suffix == ".parquet":
        import pyarrow.parquet as pq

        t = pq.read_table(p)
        return {name: t.column(name).to_numpy() for name in t.column_names}
    data = np.genfromtxt(p, delimiter=",", names=True, dtype=None, encoding="utf-8")
    return {name: np.asarray(data[name], dtype=COLUMNS.get(name, float)) for name in data.dtype.names or ()}
