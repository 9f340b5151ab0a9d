"""The ``explain`` switch of the batch paths, ``Classification._repr_html_`` and ``score_frame(progress=True)``.

Lean output (``explain=False``, the default) must stay byte for byte what it was: the files
under tests/fixtures/lean_outputs/ were written by the library before the switch existed,
with the mini test taxonomy (so a change of the packaged taxonomy or model does not move
them). With the switch on, every ``ok`` row's ``review_reasons``, ``references`` and
``evidence`` must equal what ``classify`` returns for that row.
"""

from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path

import pandas as pd
import pytest
from test_files import RECORDS, read_output, write_records

from dualuse import classify
from dualuse.batch import EXPLAIN_COLUMNS, OUTPUT_COLUMNS, score_frame
from dualuse.cli import main
from dualuse.errors import OptionError
from dualuse.files import score_file
from dualuse.results import highlighted_html

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "lean_outputs"
TEXT_FORMATS = ["csv", "tsv", "jsonl"]

#: more rows than RECORDS: an exclusion, a part number, a long text cut at max_chars is not needed here
EXTRA = [
    {"record_id": "X1", "description": "tool trolley for CNC workshop, 7 drawers", "hs_code": "", "origin": "DE"},
    {"record_id": "X2", "description": "Okuma MA-600HII horizontal machining center", "hs_code": "8457.10", "origin": "JP"},
    {"record_id": "X3", "description": "germanium window AR coated 8-12um", "hs_code": "9001.90", "origin": "CN"},
    {"record_id": "X4", "description": "Potato chips, salted", "hs_code": "2005.20", "origin": "US"},
]
ALL_RECORDS = RECORDS + EXTRA


def _frame(records=ALL_RECORDS) -> pd.DataFrame:
    return pd.DataFrame(records, dtype=object)


def _code(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _expected(text: str, code: str | None, engine) -> tuple[list[str], list[str], list[dict]]:
    c = classify(text, hs_code=code, engine=engine)
    return list(c.review_reasons), list(c.references), [e.model_dump(mode="json") for e in c.evidence]


# ---------------------------------------------------------------- lean output unchanged


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_lean_file_output_is_byte_identical_to_before(tmp_path, mini_engine, fmt) -> None:
    out = tmp_path / f"scored.{fmt}"
    score_file(
        FIXTURES / "records.jsonl", out, text_column="description", hs_column="hs_code", engine=mini_engine, progress="never"
    )
    assert out.read_bytes() == (FIXTURES / f"scored.{fmt}").read_bytes()


def test_lean_frame_is_unchanged(mini_engine) -> None:
    out = score_frame(_frame(RECORDS), "description", hs_column="hs_code", engine=mini_engine)
    assert list(out.columns) == list(RECORDS[0]) + list(OUTPUT_COLUMNS)
    assert out.to_csv(index=False).encode() == (FIXTURES / "frame.csv").read_bytes()


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "parquet"])
def test_explain_only_adds_columns(tmp_path, keyword_engine, fmt) -> None:
    src = write_records(tmp_path / f"in.{fmt}", fmt, ALL_RECORDS)
    lean, full = tmp_path / f"lean.{fmt}", tmp_path / f"full.{fmt}"
    for out, explain in ((lean, False), (full, True)):
        score_file(
            src, out, text_column="description", hs_column="hs_code", engine=keyword_engine, progress="never", explain=explain
        )
    a, b = read_output(lean, fmt), read_output(full, fmt)
    assert list(b.columns) == list(a.columns) + list(EXPLAIN_COLUMNS)
    pd.testing.assert_frame_equal(a, b[list(a.columns)])


# ---------------------------------------------------------------- batch == classify


def test_score_frame_explain_equals_classify(default_engine) -> None:
    df = _frame()
    out = score_frame(df, "description", hs_column="hs_code", engine=default_engine, explain=True, chunk_size=5)
    assert list(out.columns) == list(df.columns) + list(OUTPUT_COLUMNS) + list(EXPLAIN_COLUMNS)
    ok = out[out["status"] == "ok"]
    assert len(ok) >= 8
    seen_features = False
    for _, row in ok.iterrows():
        reasons, refs, evidence = _expected(row["description"], _code(row["hs_code"]), default_engine)
        assert row["review_reasons"] == reasons
        assert row["references"] == refs
        assert json.loads(row["evidence"]) == evidence
        seen_features |= any(e["kind"] == "model_feature" for e in evidence)
    assert seen_features  # the model features are there, not only keyword evidence
    bad = out[out["category"].isna()]
    assert len(bad) and bad["review_reasons"].isna().all() and bad["evidence"].isna().all()


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "parquet"])
def test_score_file_explain_equals_classify(tmp_path, default_engine, fmt) -> None:
    src = write_records(tmp_path / f"in.{fmt}", fmt, ALL_RECORDS)
    out = tmp_path / f"out.{fmt}"
    score_file(src, out, text_column="description", hs_column="hs_code", engine=default_engine, progress="never", explain=True)
    got = read_output(out, fmt)
    for _, row in got[got["status"] == "ok"].iterrows():
        reasons, refs, evidence = _expected(row["description"], _code(row["hs_code"]), default_engine)
        if fmt in ("csv", "tsv"):
            assert row["review_reasons"] == "|".join(reasons)
            assert row["references"] == "|".join(refs)
            assert json.loads(row["evidence"]) == evidence
        elif fmt == "jsonl":  # nested JSON, not JSON in a string
            assert row["review_reasons"] == reasons and row["references"] == refs and row["evidence"] == evidence
        else:
            assert list(row["review_reasons"]) == reasons and list(row["references"]) == refs
            assert json.loads(row["evidence"]) == evidence
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pq.read_schema(out)
        assert schema.field("review_reasons").type == pa.list_(pa.string())
        assert schema.field("references").type == pa.list_(pa.string())
        assert schema.field("evidence").type == pa.string()


def test_explain_with_worker_processes_equals_one_process(tmp_path, keyword_engine) -> None:
    src = write_records(tmp_path / "in.jsonl", "jsonl", ALL_RECORDS * 3)
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    for out, jobs in ((one, 1), (two, 2)):
        score_file(
            src, out, text_column="description", hs_column="hs_code", engine=keyword_engine, progress="never", jobs=jobs,
            chunk_size=4, explain=True,
        )  # fmt: skip
    assert one.read_bytes() == two.read_bytes()


def test_cli_explain(tmp_path, cli_engine) -> None:
    src = write_records(tmp_path / "in.csv", "csv")
    out = tmp_path / "out.jsonl"
    args = ["score", str(src), "-o", str(out), "--text-column", "description", "--hs-column", "hs_code"]
    main([*args, "--explain", "--progress", "never", "--jobs", "1"])
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert all(set(EXPLAIN_COLUMNS) <= set(r) for r in rows)
    first = rows[0]
    assert first["status"] == "ok" and isinstance(first["evidence"], list) and first["evidence"][0]["kind"] == "term"
    main([*args, "--progress", "never", "--jobs", "1"])
    assert not set(EXPLAIN_COLUMNS) & set(json.loads(out.read_text(encoding="utf-8").splitlines()[0]))


def test_score_dask_explain_equals_score_frame() -> None:
    dd = pytest.importorskip("dask.dataframe")
    import dask

    from dualuse.dask import score_dask
    from dualuse.defaults import keyword_engine

    ddf = dd.from_pandas(_frame(), npartitions=3)
    scored = score_dask(ddf, "description", hs_column="hs_code", engine_factory=keyword_engine, explain=True)
    with dask.config.set(scheduler="synchronous"):
        got = scored.compute()
        want = score_frame(ddf.compute(), "description", hs_column="hs_code", engine=keyword_engine(), explain=True)
    pd.testing.assert_frame_equal(got, want)
    assert list(scored.dtypes.items()) == list(got.dtypes.items())  # the meta announces the explain columns


def test_explain_switch_is_validated_and_its_columns_are_guarded(keyword_engine) -> None:
    df = _frame(RECORDS)
    with pytest.raises(OptionError, match="explain"):
        score_frame(df, "description", engine=keyword_engine, explain="yes")  # type: ignore[arg-type]
    clashing = df.assign(evidence="x")
    with pytest.raises(OptionError, match="evidence"):
        score_frame(clashing, "description", engine=keyword_engine, explain=True)
    assert "evidence" in score_frame(clashing, "description", engine=keyword_engine).columns  # lean: no clash


# ---------------------------------------------------------------- notebook display


def _marked_spans(fragment: str) -> tuple[str, list[tuple[int, int]]]:
    """The unescaped text of a highlighted fragment and the [start, end) of each <mark>."""
    text, spans = "", []
    for piece in re.split(r"(<mark [^>]*>.*?</mark>)", fragment):
        inner = re.fullmatch(r"<mark [^>]*>(.*?)</mark>", piece)
        chunk = html.unescape(inner.group(1) if inner else piece)
        if inner:
            spans.append((len(text), len(text) + len(chunk)))
        text += chunk
    return text, spans


def test_repr_html_escapes_the_text_and_highlights_the_spans(default_engine) -> None:
    text = '<script>alert("x")</script> & 5-axis CNC vertical machining center'
    c = classify(text, hs_code="8457.10", engine=default_engine)
    fragment = c._repr_html_()
    assert "<script>" not in fragment and "&lt;script&gt;" in fragment and "&amp;" in fragment
    body = re.search(r'<p style="font-family:monospace;white-space:pre-wrap">(.*?)</p>', fragment, re.S)
    assert body is not None
    shown, spans = _marked_spans(body.group(1))
    assert shown == text  # nothing lost, nothing added, offsets comparable
    terms = sorted({(e.start, e.end) for e in c.matched_terms()})
    assert terms and spans == terms  # these terms do not overlap: one mark per term, at its offsets
    for field in ("machine_tools", "high", "family_flagged", *c.references):
        assert html.escape(field) in fragment
    feature = next(e for e in c.evidence if e.kind == "model_feature")
    assert html.escape(feature.feature) in fragment


def test_highlighting_cuts_overlapping_spans_and_escapes_titles() -> None:
    from dualuse.results import ExclusionEvidence, TermEvidence

    def term(start: int, end: int, name: str) -> TermEvidence:
        return TermEvidence(
            kind="term", term=name, subcategory="s", family="optics", language="en", weight=1.0,
            start=start, end=end, matched_text="",
        )  # fmt: skip

    text = "ab<cd>ef"
    ev = [term(0, 4, 'x"<y>'), term(2, 6, "z"), ExclusionEvidence(exclusion_id="e", phrase="p", families=("optics",),
          scope="text", start=6, end=99, matched_text="ef")]  # fmt: skip
    out = highlighted_html(text, ev)
    shown, spans = _marked_spans(out)
    assert shown == text
    assert spans == [(0, 2), (2, 4), (4, 6), (6, 8)]  # cut at every boundary; the exclusion clamped to the text
    assert 'title="x&quot;&lt;y&gt; (s, weight 1); z (s, weight 1)"' in out
    assert "line-through" in out.rsplit("<mark", 1)[1]


# ---------------------------------------------------------------- progress


def test_progress_uses_tqdm_when_installed(capsys, keyword_engine) -> None:
    pytest.importorskip("tqdm")
    score_frame(_frame(RECORDS * 3), "description", engine=keyword_engine, chunk_size=10, progress=True)
    err = capsys.readouterr().err
    assert "dualuse score_frame" in err and "30/30" in err


def test_progress_falls_back_to_the_plain_line_without_tqdm(capsys, monkeypatch, keyword_engine) -> None:
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import fails as if tqdm were not installed
    monkeypatch.setitem(sys.modules, "tqdm", None)
    score_frame(_frame(RECORDS * 3), "description", engine=keyword_engine, chunk_size=10, progress=True)
    err = capsys.readouterr().err
    assert "dualuse score_frame 30 rows" in err and "rows/s" in err


def test_no_progress_by_default(capsys, keyword_engine) -> None:
    score_frame(_frame(RECORDS), "description", engine=keyword_engine)
    assert capsys.readouterr().err == ""
    with pytest.raises(OptionError, match="progress"):
        score_frame(_frame(RECORDS), "description", engine=keyword_engine, progress="yes")  # type: ignore[arg-type]
