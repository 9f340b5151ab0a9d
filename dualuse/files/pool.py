"""The worker-process pool of ``score_file(..., jobs=N)``: one engine per worker, chunks in order.

Each worker gets the engine once (inherited after ``fork``; otherwise the default engine is
rebuilt in the worker and a custom one is pickled once), never per chunk.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from ..batch import score_columns
from ..defaults import default_engine, is_default_engine
from ..engine import Engine

__all__ = ["MAX_AUTO_JOBS", "auto_jobs", "start_pool"]

#: ``jobs="auto"`` never starts more workers than this: each holds its own copy of the
#: model's scoring caches (~300 MiB resident per worker with the embedded model)
MAX_AUTO_JOBS = 8

_WORKER_ENGINE: Engine | None = None


def auto_jobs() -> int:
    """Worker processes for ``jobs="auto"``: the CPUs this process may run on, at most :data:`MAX_AUTO_JOBS`."""
    try:
        usable = len(os.sched_getaffinity(0))  # honours taskset / container CPU sets
    except AttributeError:  # pragma: no cover - macOS, Windows
        usable = os.cpu_count() or 1
    return max(1, min(MAX_AUTO_JOBS, usable))


def init_worker(engine: Engine | None) -> None:
    """Process-pool initializer: the engine is built (or received) once per worker."""
    global _WORKER_ENGINE
    _WORKER_ENGINE = engine if engine is not None else default_engine()


def score_in_worker(texts: list[Any], codes: list[Any] | None) -> dict[str, Any]:
    """Score one chunk with this worker's engine (output columns as :func:`dualuse.batch.score_columns`)."""
    if _WORKER_ENGINE is None:  # only reachable if the pool was started without init_worker
        raise RuntimeError("score_in_worker: the worker engine was not initialised")
    return score_columns(_WORKER_ENGINE, texts, codes)


def start_pool(jobs: int, engine: Engine) -> ProcessPoolExecutor:
    """A pool of ``jobs`` workers, each holding ``engine`` (or the default engine rebuilt)."""
    methods = multiprocessing.get_all_start_methods()
    # fork shares the loaded engine with the workers for free; from Python 3.12 on,
    # forking a threaded process is deprecated, so use forkserver there.
    if "fork" in methods and sys.version_info < (3, 12):
        method = "fork"
    else:
        method = "forkserver" if "forkserver" in methods else "spawn"
    ctx = multiprocessing.get_context(method)
    init_engine = None if (method != "fork" and is_default_engine(engine)) else engine
    return ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=init_worker, initargs=(init_engine,))
