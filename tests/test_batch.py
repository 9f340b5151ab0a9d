"""score_frame: statuses of bad rows, index/order preservation, equality with classify, errors first."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dualuse import classify
from dualuse.batch import OUTPUT_COLUMNS, score_frame
from dualuse.errors import ColumnNotFoundError, InputTypeError, OptionError

BIG = "CNC lathe spare parts " * 50_000  # ~1 MB


@pytest.fixture(scope="module", params=["keyword_engine", "small_engine", "default_engine"])
def any_engine(request):
    """Each engine kind in turn: no model, the small trained model, the embedded default model."""
    return request.getfixturevalue(request.param)


ROWS = [
    # (id, text, hs_code, expected status)
    ("none", None, None, "empty_text"),
    ("nan", float("nan"), None, "empty_text"),
    ("empty", "", None, "empty_text"),
    ("whitespace", "   ", None, "empty_text"),
    ("int", 123, None, "invalid_text_type"),
    ("one-megabyte", BIG, None, "ok"),
    ("cnc", "5-axis CNC vertical machining center VMC850", "8457.10", "ok"),
    ("fpga", "Xilinx FPGA XC7K325T-2FFG900I", None, "ok"),
    ("lens", "Germanium infrared lens 25mm f/1.0", "9002.11", "ok"),
    ("russian", "Станок токарный с ЧПУ 16К20Ф3", None, "ok"),
    ("chinese", "数控车床 CK6150", None, "ok"),
    ("shirt", "Men's cotton T-shirt, size L", "6109.10", "ok"),
    ("text-NA", "NA", None, "ok"),
    ("bad-hs", "CNC lathe", "84x5", "invalid_hs_code"),
    ("hs-empty-string", "CNC lathe", "", "ok"),
]
OK_IDS = [r[0] for r in ROWS if r[3] == "ok"]


def _frame(index=None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "record_id": [r[0] for r in ROWS],
            "description": np.array([r[1] for r in ROWS], dtype=object),
            "hs_code": np.array([r[2] for r in ROWS], dtype=object),
            "origin": ["CN"] * len(ROWS),
        },
        index=index,
    )


INDEXES = {
    "range": None,
    "non-unique": [7] * len(ROWS),
    "strings": [f"r{i}" for i in range(len(ROWS))][::-1],
    "multiindex": pd.MultiIndex.from_tuples([("a", i % 3) for i in range(len(ROWS))], names=["batch", "pos"]),
}


@pytest.mark.parametrize("index_kind", list(INDEXES), ids=list(INDEXES))
def test_rows_keep_index_order_and_get_their_status(any_engine, index_kind) -> None:
    df = _frame(INDEXES[index_kind])
    out = score_frame(df, "description", hs_column="hs_code", engine=any_engine, chunk_size=4)
    assert len(out) == len(df)
    assert out.index.equals(df.index)
    assert list(out.columns) == list(df.columns) + list(OUTPUT_COLUMNS)
    assert out["record_id"].tolist() == df["record_id"].tolist()
    assert out["status"].tolist() == [r[3] for r in ROWS]
    for row_id, st in zip(out["record_id"], out["status"]):
        row = out[out["record_id"] == row_id].iloc[0]
        if st in ("ok", "invalid_hs_code"):
            assert row["category"] in ("machine_tools", "microelectronics", "optics", "none")
            assert isinstance(row["matched_terms"], str)
        else:  # no silent defaults: a row that was not screened has no category
            assert row["category"] is pd.NA
            assert math.isnan(row["confidence"])
            assert row["needs_review"] is pd.NA
            assert row["matched_terms"] is pd.NA
        if st == "ok":
            assert row["error"] is pd.NA
        else:
            assert isinstance(row["error"], str) and row["error"]


@pytest.mark.parametrize("row_id", OK_IDS, ids=OK_IDS)
def test_ok_rows_equal_classify(any_engine, row_id) -> None:
    df = _frame(INDEXES["strings"])
    out = score_frame(df, "description", hs_column="hs_code", engine=any_engine, chunk_size=5)
    row = out[out["record_id"] == row_id].iloc[0]
    _, text, hs, _ = next(r for r in ROWS if r[0] == row_id)
    expected = classify(text, hs_code=hs, engine=any_engine)
    assert row["category"] == expected.category
    assert row["confidence"] == expected.confidence
    assert (None if row["subcategory"] is pd.NA else row["subcategory"]) == expected.subcategory
    assert row["risk_level"] == expected.risk_level
    assert bool(row["needs_review"]) is expected.needs_review
    assert (None if row["chpl_tier"] is pd.NA else row["chpl_tier"]) == expected.chpl_tier
    terms = list(dict.fromkeys(e.term for e in expected.matched_terms()))
    assert row["matched_terms"] == "|".join(terms[:8] + (["..."] if len(terms) > 8 else []))


def test_dtypes_and_empty_frame(any_engine) -> None:
    out = score_frame(_frame(), "description", hs_column="hs_code", engine=any_engine)
    empty = score_frame(_frame().iloc[:0], "description", hs_column="hs_code", engine=any_engine)
    assert len(empty) == 0
    for col in OUTPUT_COLUMNS:
        assert out[col].dtype == empty[col].dtype, col
    assert out["confidence"].dtype == np.float64
    assert out["needs_review"].dtype == "boolean"
    for col in ("category", "subcategory", "risk_level", "chpl_tier", "matched_terms", "status", "error"):
        assert isinstance(out[col].dtype, pd.StringDtype), col


def test_input_frame_is_not_modified(any_engine) -> None:
    df = _frame()
    before = df.copy()
    score_frame(df, "description", engine=any_engine)
    pd.testing.assert_frame_equal(df, before)


@pytest.mark.parametrize("chunk_size", [1, 7, 1000], ids=["chunk-1", "chunk-7", "chunk-1000"])
def test_chunk_size_invariance(any_engine, chunk_size) -> None:
    df = _frame(INDEXES["non-unique"])
    reference = score_frame(df, "description", hs_column="hs_code", engine=any_engine, chunk_size=len(df))
    pd.testing.assert_frame_equal(
        score_frame(df, "description", hs_column="hs_code", engine=any_engine, chunk_size=chunk_size), reference
    )


def test_without_hs_column_codes_are_not_used(any_engine) -> None:
    df = pd.DataFrame({"description": ["spare parts"], "hs_code": ["8458.11"]})
    out = score_frame(df, "description", engine=any_engine)
    assert out["chpl_tier"].isna().all()
    assert out["status"].tolist() == ["ok"]


# ------------------------------------------------------------------ errors before any work


@pytest.mark.parametrize(
    ("kwargs", "exc", "needle"),
    [
        pytest.param(
            {"text_column": "desc"},
            ColumnNotFoundError,
            "'record_id', 'description', 'hs_code', 'origin'",
            id="missing-text-column",
        ),
        pytest.param(
            {"text_column": "description", "hs_column": "hs"}, ColumnNotFoundError, "available columns", id="missing-hs-column"
        ),
        pytest.param({"text_column": "description", "chunk_size": 0}, OptionError, "chunk_size", id="chunk-size-0"),
        pytest.param({"text_column": "description", "chunk_size": -5}, OptionError, "chunk_size", id="chunk-size-negative"),
        pytest.param({"text_column": "description", "chunk_size": 2.5}, OptionError, "chunk_size", id="chunk-size-float"),
        pytest.param({"text_column": "description", "chunk_size": True}, OptionError, "chunk_size", id="chunk-size-bool"),
    ],
)
def test_bad_options_raise_before_work(kwargs, exc, needle) -> None:
    from dualuse.engine import Engine

    class Spy(Engine):
        def __init__(self) -> None:  # no taxonomy needed: score must never be called
            pass

        def score(self, *a, **k):  # pragma: no cover - the point is that it is not called
            raise AssertionError("scored before validating the options")

    with pytest.raises(exc) as info:
        score_frame(_frame(), engine=Spy(), **kwargs)
    assert needle in str(info.value)


@pytest.mark.parametrize(
    "value",
    [pd.Series(["CNC lathe"], name="description"), ["CNC lathe"], {"description": ["CNC lathe"]}, None],
    ids=["series", "list", "dict", "none"],
)
def test_non_dataframe_input_is_refused(any_engine, value) -> None:
    with pytest.raises(InputTypeError, match="expected a pandas DataFrame"):
        score_frame(value, "description", engine=any_engine)


def test_output_column_clash_is_refused(any_engine) -> None:
    df = _frame().assign(category="x")
    with pytest.raises(OptionError, match="'category'"):
        score_frame(df, "description", engine=any_engine)


def test_duplicate_text_column_is_refused(any_engine) -> None:
    df = pd.DataFrame([["a", "b"]], columns=["description", "description"])
    with pytest.raises(OptionError, match="more than once"):
        score_frame(df, "description", engine=any_engine)


def test_pandas_string_and_nullable_columns(any_engine) -> None:
    df = pd.DataFrame(
        {
            "description": pd.array(["CNC lathe", pd.NA, "  ", "FPGA"], dtype="string"),
            "hs_code": pd.array(["8458.11", pd.NA, "", "bad"], dtype="string"),
        }
    )
    out = score_frame(df, "description", hs_column="hs_code", engine=any_engine)
    assert out["status"].tolist() == ["ok", "empty_text", "empty_text", "invalid_hs_code"]


# ------------------------------------------------------------------ the PySpark recipe of the README


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")
@pytest.mark.filterwarnings("ignore::DeprecationWarning:pyspark.*")
def test_pyspark_map_in_pandas_recipe_equals_score_frame() -> None:
    """The README recipe, run for real on a local Spark (skipped without pyspark / Java)."""
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install pyspark; needs Java 17+)")
    import shutil

    if shutil.which("java") is None and not __import__("os").environ.get("JAVA_HOME"):
        pytest.skip("no Java runtime for Spark")
    from pyspark.sql import SparkSession
    from pyspark.sql.types import BooleanType, DoubleType, StringType, StructField, StructType

    from dualuse.dask import keyword_engine

    output_fields = [
        StructField("category", StringType()),
        StructField("subcategory", StringType()),
        StructField("confidence", DoubleType()),
        StructField("risk_level", StringType()),
        StructField("needs_review", BooleanType()),
        StructField("chpl_tier", StringType()),
        StructField("matched_terms", StringType()),
        StructField("status", StringType()),
        StructField("error", StringType()),
    ]

    def score_batches(batches):
        from dualuse.batch import score_frame
        from dualuse.dask import cached_engine

        any_engine = cached_engine(keyword_engine)  # once per Python worker process
        for pdf in batches:
            yield score_frame(pdf, "description", hs_column="hs_code", engine=any_engine)

    pdf = pd.DataFrame(
        {
            "record_id": [r[0] for r in ROWS if not isinstance(r[1], int)],
            "description": [r[1] if isinstance(r[1], str) else None for r in ROWS if not isinstance(r[1], int)],
            "hs_code": [r[2] for r in ROWS if not isinstance(r[1], int)],
        }
    )
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("dualuse-recipe-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    try:
        sdf = spark.createDataFrame(pdf, schema="record_id string, description string, hs_code string").repartition(2)
        schema = StructType(sdf.schema.fields + output_fields)
        got = sdf.mapInPandas(score_batches, schema=schema).toPandas()
    finally:
        spark.stop()
    expected = score_frame(pdf, "description", hs_column="hs_code", engine=keyword_engine())
    got = got.set_index("record_id").loc[pdf["record_id"]]
    expected = expected.set_index("record_id")

    def norm(values):
        return [None if (v is None or v is pd.NA or (isinstance(v, float) and v != v)) else v for v in values]

    for col in OUTPUT_COLUMNS:
        assert norm(got[col].tolist()) == norm(expected[col].tolist()), col
