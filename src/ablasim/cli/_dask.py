"""The dask client of the commands that run on a cluster (``cohort``, ``validate``): a scheduler given by address,
or a local cluster of single-threaded worker processes started here."""

from __future__ import annotations

import logging

from ..errors import ValidationError


def client_for(args):
    """``(client, cluster)`` for ``args.scheduler`` / ``args.workers``; ``cluster`` is None for a remote scheduler
    (the caller closes both)."""
    from distributed import Client, LocalCluster  # deferred: dask starts slowly and in-process runs never need it

    if args.scheduler:
        return Client(args.scheduler, timeout="30s"), None
    if args.workers < 1:
        raise ValidationError("--workers", args.workers, "expected at least 1")
    cluster = LocalCluster(
        n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    )
    return Client(cluster), cluster
