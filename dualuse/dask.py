"""Scoring Dask DataFrames on a cluster: :func:`score_dask` (``pip install 'dualuse[dask]'``).

Each partition is scored by :func:`dualuse.batch.score_frame` with ``map_partitions``. The
engine is **not** shipped in the task graph: each task carries only a small *engine factory*
(a function such as :func:`dualuse.default_engine`), and every worker process builds the
engine once and keeps it in a module-level cache, so the model is loaded once per worker
process whatever the number of partitions.

>>> from distributed import Client                      # doctest: +SKIP
>>> client = Client("tcp://scheduler:8786")              # doctest: +SKIP
>>> ddf = dd.read_parquet("s3://bucket/records/*.parquet")  # doctest: +SKIP
>>> scored = score_dask(ddf, "description", hs_column="hs_code")  # doctest: +SKIP
>>> scored.to_parquet("s3://bucket/scored/")             # doctest: +SKIP

The factory must be importable on the workers (a module-level function of an installed
package is shipped by reference); ``dualuse`` itself must be installed on every worker.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .batch import check_chunk_size, score_frame
from .decisions import Decisions, as_decisions
from .defaults import cached_engine, default_engine, factory_key, keyword_engine
from .engine import Engine
from .errors import InputTypeError, OptionError, describe

if TYPE_CHECKING:  # pragma: no cover
    import dask.dataframe as dd
    import pandas as pd

__all__ = ["score_dask", "keyword_engine", "cached_engine"]  # the engine helpers live in dualuse.defaults


def _score_partition(
    part: pd.DataFrame,
    text_column: str,
    hs_column: str | None,
    chunk_size: int,
    factory: Callable[[], Engine],
    key: str,
    explain: bool = False,
    decisions: Decisions | None = None,
) -> pd.DataFrame:
    engine = None if len(part) == 0 else cached_engine(factory, key)
    if decisions is not None:  # once per worker process too: keyed by the factory and the file's hash
        base = engine if engine is not None else cached_engine(factory, key)
        engine = cached_engine(lambda: base.with_decisions(decisions), f"{key}+decisions:{decisions.sha256}")
    return score_frame(part, text_column, hs_column=hs_column, chunk_size=chunk_size, engine=engine, explain=explain)


def score_dask(
    ddf: dd.DataFrame,
    text_column: str,
    *,
    hs_column: str | None = None,
    engine_factory: Callable[[], Engine] | None = None,
    chunk_size: int = 20_000,
    explain: bool = False,
    decisions: Decisions | str | os.PathLike[str] | None = None,
) -> dd.DataFrame:
    """Lazily screen a Dask DataFrame; each partition gets :func:`~dualuse.batch.score_frame`.

    Args:
        ddf: the records; ``text_column`` (and ``hs_column``) must be among its columns.
        engine_factory: a picklable zero-argument callable returning an
            :class:`~dualuse.engine.Engine`, called once per worker process (default:
            :func:`dualuse.default_engine`, the packaged model).
        chunk_size: rows per ``Engine.score`` call inside a partition.
        explain: add ``review_reasons``, ``references`` and ``evidence`` (see
            :func:`~dualuse.batch.score_frame`).
        decisions: a reviewed-decisions file (or loaded :class:`~dualuse.decisions.Decisions`),
            validated here, shipped with the graph and attached to each worker's engine; adds
            the columns ``decided`` and ``screened_category`` (see :mod:`dualuse.decisions`).

    Returns a Dask DataFrame with the same partitions, index and columns as ``ddf`` plus
    :data:`~dualuse.batch.OUTPUT_COLUMNS`; ``.compute()`` equals ``score_frame`` on the
    computed input. Raises before building the graph for a missing column
    (:class:`~dualuse.errors.ColumnNotFoundError`) or a bad option.
    """
    try:
        import dask.dataframe as dd
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise OptionError("score_dask needs Dask: pip install 'dualuse[dask]'") from None
    if not isinstance(ddf, dd.DataFrame):
        raise InputTypeError(f"ddf: expected a dask.dataframe.DataFrame, got {describe(ddf)}")
    chunk_size = check_chunk_size(chunk_size)
    if engine_factory is None:
        engine_factory = default_engine
    if not callable(engine_factory) or isinstance(engine_factory, Engine):
        raise InputTypeError(
            f"engine_factory: expected a zero-argument callable returning an Engine (e.g. dualuse.default_engine), "
            f"got {describe(engine_factory)}"
        )
    meta_in: Any = ddf._meta
    # score_frame validates columns and clashes and, on an empty frame, builds the exact
    # output dtypes without loading any model: that is the meta.
    meta = score_frame(meta_in.iloc[:0], text_column, hs_column=hs_column, chunk_size=chunk_size, explain=explain)
    loaded = None if decisions is None else as_decisions(decisions)
    if loaded is not None:
        import pandas as pd

        meta = meta.assign(decided=pd.array([], dtype="boolean"), screened_category=pd.array([], dtype="string"))
    key = factory_key(engine_factory)
    return ddf.map_partitions(
        _score_partition,
        text_column,
        hs_column,
        chunk_size,
        engine_factory,
        key,
        explain,
        loaded,
        meta=meta,
        align_dataframes=False,
    )
