"""Running a cohort: in-process, or on a dask.distributed ``Client`` the caller provides (one task per chunk of
cases; the library never starts a cluster itself, the CLI does). Finished chunks are checkpointed on the caller's
side as they arrive, so an interrupted run resumes where it stopped and a lost worker only costs its chunk, which
dask recomputes elsewhere. Every chunk is a pure function of (spec, case range): results are bit-identical however
and wherever they were computed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ...stats import efficacy_by_bin, probability_curve
from .cases import COLUMNS, run_chunk
from .spec import CohortSpec
from .store import CheckpointStore, write_table

__all__ = ["CohortResult", "run_cohort"]


@dataclass(frozen=True)
class CohortResult:
    spec: CohortSpec
    table: dict  # column name -> array, one row per case, in case order
    seconds: float
    computed_chunks: int

    @property
    def n_cases(self) -> int:
        return len(self.table["case"])

    def efficacy_by_size(self, confidence: float = 0.95) -> list[dict]:
        rows = efficacy_by_bin(self.table["diameter_mm"], self.table["success"], self.spec.size_bins_mm, confidence)
        for r in rows:
            for label, rate, source in self.spec.compare:
                if label == r["bin"]:
                    r["literature_rate"], r["literature_source"] = rate, source
        return rows

    def margin_probabilities(self, confidence: float = 0.95) -> list[dict]:
        return probability_curve(self.table["min_margin_mm"], self.spec.thresholds_mm, confidence)

    def summary(self) -> dict:
        """JSON-ready numbers (an empty size bin's rate and interval are None)."""

        def clean(rows):
            return [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()} for r in rows]

        return {
            "name": self.spec.name,
            "n_cases": self.n_cases,
            "seed": self.spec.seed,
            "success_margin_mm": self.spec.success_margin_mm,
            "efficacy_by_size": clean(self.efficacy_by_size()),
            "margin_probabilities": clean(self.margin_probabilities()),
            "seconds": self.seconds,
            "cases_per_second": self.n_cases / self.seconds if self.seconds > 0 else float("nan"),
        }


def run_cohort(spec, client=None, *, out=None, fresh: bool = False, progress=None) -> CohortResult:
    """Run every case of ``spec``.

    ``client``: a ``dask.distributed.Client`` (None: in this process). ``out``: the result table's path (Parquet or
    CSV); with it, chunks are checkpointed in ``<out>.parts/`` and a rerun resumes. ``progress(done_cases,
    n_cases)`` is called after each chunk.
    """
    t0 = time.perf_counter()
    store = CheckpointStore(out, spec, fresh=fresh) if out is not None else None
    chunks: dict[int, dict] = {}
    if store is not None:
        for k in sorted(store.done()):
            chunks[k] = store.load(k)
    todo = [k for k in range(spec.n_chunks) if k not in chunks]
    done_cases = sum(len(c["case"]) for c in chunks.values())
    if progress:
        progress(done_cases, spec.n_cases)

    def finish(k, cols):
        nonlocal done_cases
        chunks[k] = cols
        if store is not None:
            store.save(k, cols)
        done_cases += len(cols["case"])
        if progress:
            progress(done_cases, spec.n_cases)

    if client is None:
        for k in todo:
            finish(k, run_chunk(spec, *spec.chunk_range(k)))
    elif todo:
        from distributed import as_completed

        # The spec (a few kB) travels with each task: no scattered copy whose lifetime another run could end.
        futures = {
            client.submit(
                run_chunk, spec, *spec.chunk_range(k), key=f"ablasim-chunk-{spec.digest()}-{k}", pure=False
            ): k
            for k in todo
        }
        for fut in as_completed(futures):
            finish(futures[fut], fut.result())
            fut.release()
    table: dict[str, np.ndarray] = {
        name: np.concatenate([chunks[k][name] for k in range(spec.n_chunks)]).astype(dt, copy=False)
        for name, dt in COLUMNS.items()
    }
    if out is not None:
        write_table(out, table)
    return CohortResult(spec, table, time.perf_counter() - t0, len(todo))
