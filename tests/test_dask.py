"""score_dask on a real multi-process LocalCluster equals score_frame on the same data."""

from __future__ import annotations

import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe", reason="dask is not installed (pip install 'dualuse[dask]')")
distributed = pytest.importorskip("distributed", reason="distributed is not installed (pip install 'dualuse[dask]')")

from dualuse.batch import OUTPUT_COLUMNS, score_frame  # noqa: E402
from dualuse.dask import cached_engine, keyword_engine, score_dask  # noqa: E402
from dualuse.errors import ColumnNotFoundError, InputTypeError, OptionError  # noqa: E402

TEXTS = [
    "5-axis CNC vertical machining center VMC850",
    None,
    "",
    "Xilinx FPGA XC7K325T-2FFG900I",
    "Станок токарный с ЧПУ 16К20Ф3",
    "红外热像仪 germanium lens",
    "Men's cotton T-shirt",
    "   ",
    "NA",
    "spare parts",
]
CODES = ["8457.10", "8458.11", None, "8542.31", "", "9002.11", "6109.10", "", "abc", "8458.11"]


def _frame(repeat: int = 12) -> pd.DataFrame:
    n = len(TEXTS) * repeat
    return pd.DataFrame(
        {
            "record_id": pd.array([f"R{i}" for i in range(n)], dtype="string"),
            "description": pd.array(TEXTS * repeat, dtype="string"),
            "hs_code": pd.array(CODES * repeat, dtype="string"),
            "qty": list(range(n)),
        },
        index=pd.Index([f"k{i:04d}" for i in range(n)], name="key", dtype="string"),
    )


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.mark.slow  # a two-process LocalCluster
def test_score_dask_equals_score_frame_on_a_process_cluster(client) -> None:
    pdf = _frame()
    ddf = dd.from_pandas(pdf, npartitions=6)
    scored = score_dask(ddf, "description", hs_column="hs_code", engine_factory=keyword_engine, chunk_size=7)
    assert list(scored.columns) == list(pdf.columns) + list(OUTPUT_COLUMNS)
    got = scored.compute()
    expected = score_frame(pdf, "description", hs_column="hs_code", engine=keyword_engine())
    pd.testing.assert_frame_equal(got, expected)


@pytest.mark.slow  # a two-process LocalCluster
def test_engine_is_built_once_per_worker_process(client) -> None:
    ddf = dd.from_pandas(_frame(), npartitions=8)
    score_dask(ddf, "description", engine_factory=keyword_engine).compute()

    def engine_ids():
        from dualuse import defaults as mod

        return sorted(id(e) for e in mod._CACHED.values())

    per_worker = client.run(engine_ids)
    assert len(per_worker) == 2
    for ids in per_worker.values():  # one cached engine per worker process, whatever the partitions
        assert len(ids) <= 1
    assert sum(len(ids) for ids in per_worker.values()) >= 1


@pytest.mark.slow  # a two-process LocalCluster
def test_meta_matches_computed_dtypes(client) -> None:
    ddf = dd.from_pandas(_frame(2), npartitions=2)
    scored = score_dask(ddf, "description", engine_factory=keyword_engine)
    got = scored.compute()
    assert dict(scored.dtypes) == dict(got.dtypes)


@pytest.mark.parametrize(
    ("kwargs", "exc", "needle"),
    [
        pytest.param({"text_column": "nope"}, ColumnNotFoundError, "available columns", id="missing-column"),
        pytest.param({"text_column": "description", "chunk_size": 0}, OptionError, "chunk_size", id="chunk-size-0"),
        pytest.param(
            {"text_column": "description", "engine_factory": "default"}, InputTypeError, "engine_factory", id="bad-factory"
        ),
    ],
)
def test_bad_arguments_raise_before_building_the_graph(kwargs, exc, needle) -> None:
    ddf = dd.from_pandas(_frame(1), npartitions=1)
    kwargs.setdefault("engine_factory", keyword_engine)
    with pytest.raises(exc, match=needle):
        score_dask(ddf, **kwargs)


def test_pandas_frame_is_refused() -> None:
    with pytest.raises(InputTypeError, match="dask.dataframe.DataFrame"):
        score_dask(_frame(1), "description", engine_factory=keyword_engine)


def test_cached_engine_is_reused_in_process() -> None:
    assert cached_engine(keyword_engine) is cached_engine(keyword_engine)
