"""The worker-process pool of ``score_file(..., jobs=N)``: one engine per worker, chunks in order.

Each worker gets the engine once (inherited after ``fork``; otherwise the default engine is
rebuilt in the worker and a custom one is pickled once), never per chunk.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from ..batch import score_columns
from ..decisions import Decisions
from ..defaults import default_engine, is_default_engine
from ..engine import Engine

__all__ = ["MAX_AUTO_JOBS", "auto_jobs", "start_pool", "stop_pool"]

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


#: How often a worker checks that the process that started it is still alive (seconds).
WATCHDOG_SECONDS = 1.0
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent_pid: int) -> None:
    """End this worker when the scoring process ends, however it ends (even by SIGKILL).

    A worker blocked on its task pipe would otherwise live on, holding its memory, after its
    parent was killed. On Linux the kernel sends SIGKILL when the parent dies
    (``PR_SET_PDEATHSIG``); everywhere, a daemon thread polls the parent and exits the worker
    when it is gone (the fallback, and the guard for a parent that died before the call).
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no prctl: the watchdog suffices
            pass

    def alive() -> bool:
        try:
            os.kill(parent_pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # pragma: no cover - the pid was reused by another user
            return False
        return True

    def watch() -> None:
        while alive():
            time.sleep(WATCHDOG_SECONDS)
        os._exit(1)

    if not alive():
        os._exit(1)
    threading.Thread(target=watch, name="dualuse-parent-watchdog", daemon=True).start()


def init_worker(engine: Engine | None, parent_pid: int | None = None, decisions: Decisions | None = None) -> None:
    """Process-pool initializer: the engine is built (or received) once per worker.

    Ctrl-C reaches every process of the terminal's process group: workers ignore SIGINT and
    let the parent stop them, so an interrupted run prints no worker tracebacks.
    """
    global _WORKER_ENGINE
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a forked worker must not run the CLI's handler
    if parent_pid is not None:
        _die_with_parent(parent_pid)
    _WORKER_ENGINE = engine if engine is not None else default_engine().with_decisions(decisions)


def score_in_worker(
    texts: list[Any], codes: list[Any] | None, explain: bool = False, destinations: list[Any] | None = None
) -> dict[str, Any]:
    """Score one chunk with this worker's engine (output columns as :func:`dualuse.batch.score_columns`)."""
    if _WORKER_ENGINE is None:  # only reachable if the pool was started without init_worker
        raise RuntimeError("score_in_worker: the worker engine was not initialised")
    return score_columns(_WORKER_ENGINE, texts, codes, explain, destinations)


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
    return ProcessPoolExecutor(
        max_workers=jobs, mp_context=ctx, initializer=init_worker, initargs=(init_engine, os.getpid(), engine.decisions)
    )


def stop_pool(pool: ProcessPoolExecutor, *, kill: bool) -> None:
    """Shut ``pool`` down; with ``kill``, end its workers at once instead of finishing their chunks.

    ``ProcessPoolExecutor`` has no public way to end busy workers; its ``_processes`` map is
    read defensively so that a change of that detail degrades to a normal shutdown.
    """
    if kill:
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            try:
                proc.kill()
            except (OSError, ValueError, AttributeError):  # already gone
                pass
        try:
            pool.shutdown(wait=True, cancel_futures=True)
        except Exception:  # the failure being handled matters, not this one
            # A signal can interrupt the pool half-built (SIGTERM while its manager thread
            # starts: "cannot join thread before it is started"). Its workers are killed
            # above; an error here must not replace the interruption being handled.
            pass
        return
    pool.shutdown(wait=True, cancel_futures=True)
