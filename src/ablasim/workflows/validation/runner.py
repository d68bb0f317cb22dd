"""Running a virtual series (:mod:`ablasim.outcomes`) through the cohort machinery: one task per chunk of cases, in
this process or on a dask ``Client`` the caller provides, each finished chunk checkpointed in the cohorts'
:class:`~ablasim.workflows.cohorts.store.CheckpointStore` (a rerun resumes; a changed series is refused). Every chunk
is a pure function of (series, case range), so results do not depend on where or in which order chunks ran."""

from __future__ import annotations

import numpy as np

from ...errors import ScenarioError
from ...outcomes.cases import COLUMNS, run_series_chunk
from ..cohorts.store import CheckpointStore

__all__ = ["SeriesStore", "run_series"]


class SeriesStore(CheckpointStore):
    """The cohorts' checkpoint store holding series columns."""

    def load(self, k: int) -> dict:
        with np.load(self.path(k)) as f:
            cols = {name: f[name] for name in COLUMNS}
        start, stop = self.spec.chunk_range(k)
        if len(cols["case"]) != stop - start or cols["case"][0] != start:
            raise ScenarioError(f"checkpoint {self.path(k).name} does not hold cases {start}-{stop - 1}", self.dir)
        return cols


def run_series(spec, client=None, *, parts=None, fresh: bool = False, progress=None) -> dict:
    """The columns (:data:`ablasim.outcomes.cases.COLUMNS`) of every case of ``spec``, in case order.

    ``parts``: a path; chunks are checkpointed in ``<parts>.parts/``. ``progress(done_cases, n_cases)`` after each
    chunk.
    """
    store = SeriesStore(parts, spec, fresh=fresh) if parts is not None else None
    chunks: dict[int, dict] = {}
    if store is not None:
        for k in sorted(store.done()):
            chunks[k] = store.load(k)
    todo = [k for k in range(spec.n_chunks) if k not in chunks]
    done = sum(len(c["case"]) for c in chunks.values())

    def finish(k, cols):
        nonlocal done
        chunks[k] = cols
        if store is not None:
            store.save(k, cols)
        done += len(cols["case"])
        if progress:
            progress(done, spec.n_cases)

    if progress:
        progress(done, spec.n_cases)
    if client is None:
        for k in todo:
            finish(k, run_series_chunk(spec, *spec.chunk_range(k)))
    elif todo:
        from distributed import as_completed

        futures = {
            client.submit(
                run_series_chunk, spec, *spec.chunk_range(k), key=f"ablasim-series-{spec.digest()}-{k}", pure=False
            ): k
            for k in todo
        }
        for fut in as_completed(futures):
            finish(futures[fut], fut.result())
            fut.release()
    return {
        name: np.concatenate([chunks[k][name] for k in range(spec.n_chunks)]).astype(dt, copy=False)
        for name, dt in COLUMNS.items()
    }
