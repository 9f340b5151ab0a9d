"""The HTML review report (dualuse.reporting), read back with a plain HTML parser.

Expectations come from the scored file itself, read with pandas: which rows need review, and
the characters every highlighted span must cover. The browser test (filtering, console
errors) is tests/test_report_browser.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

import dualuse
from dualuse.cli import EXIT_OK, EXIT_OUTPUT, EXIT_USAGE, main
from dualuse.errors import ColumnNotFoundError, InputFileError, InputTypeError, OptionError, OutputWriteError
from dualuse.files import score_file
from dualuse.reporting import report

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample" / "trade_records.csv"


class Page(HTMLParser):
    """The parts of a report page the tests look at: table rows, marks, scripts, attributes."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[dict] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.metas: list[dict] = []
        self.event_attrs: list[tuple[str, str]] = []
        self.tags: list[str] = []
        self.notices: list[str] = []
        self._in_tbody = self._in_script = self._in_style = False
        self._cell: list[str] | None = None
        self._mark: dict | None = None
        self._notice: list[str] | None = None
        self._depth_notice = 0
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        self.event_attrs += [(tag, k) for k, _ in attrs if k.lower().startswith("on")]
        if tag == "meta":
            self.metas.append(a)
        if tag == "script":
            self._in_script = True
            self.scripts.append("")
        if tag == "style":
            self._in_style = True
            self.styles.append("")
        if tag == "div" and a.get("class") == "notice":
            self._notice = []
        elif tag == "div" and self._notice is not None:
            self._depth_notice += 1
        if tag == "tbody" and self._table_is_review:
            self._in_tbody = True
        if tag == "table":
            self._table_is_review = a.get("id") == "review"
        if self._in_tbody and tag == "tr":
            self.rows.append({"cells": [], "marks": [], "attrs": a})
        if self._in_tbody and tag == "td":
            self._cell = []
        if self._in_tbody and tag == "mark":
            self._mark = {"class": a.get("class"), "start": int(a["data-start"]), "end": int(a["data-end"]), "text": ""}

    _table_is_review = False

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False
        if tag == "style":
            self._in_style = False
        if tag == "div" and self._notice is not None:
            if self._depth_notice:
                self._depth_notice -= 1
            else:
                self.notices.append("".join(self._notice))
                self._notice = None
        if tag == "tbody":
            self._in_tbody = False
        if tag == "td" and self._cell is not None:
            self.rows[-1]["cells"].append("".join(self._cell))
            self._cell = None
        if tag == "mark" and self._mark is not None:
            self.rows[-1]["marks"].append(self._mark)
            self._mark = None

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data
        if self._in_style:
            self.styles[-1] += data
        if self._notice is not None:
            self._notice.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._mark is not None:
            self._mark["text"] += data


def _scored(tmp_path: Path, name: str = "scored.csv", explain: bool = True, source: Path = SAMPLE, **kw) -> Path:
    out = tmp_path / name
    kw.setdefault("jobs", 1)
    score_file(source, out, text_column="description", hs_column=kw.pop("hs_column", "hs_code"), explain=explain, **kw)
    return out


def _frame(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".jsonl":
        return pd.read_json(path, lines=True, dtype=False)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _review_mask(df: pd.DataFrame) -> pd.Series:
    flag = df["needs_review"].map(lambda v: v is True or str(v).lower() == "true")
    return flag | (df["status"] != "ok")


@pytest.fixture(scope="module")
def sample_scored(tmp_path_factory, keyword_engine) -> Path:
    return _scored(tmp_path_factory.mktemp("scored"), engine=keyword_engine)


def test_the_table_holds_every_row_needing_review_and_no_other(sample_scored, tmp_path):
    out = tmp_path / "r.html"
    summary = report(sample_scored, out)
    df = _frame(sample_scored)
    expected = [i + 1 for i in df.index[_review_mask(df)]]
    page = Page(out.read_text(encoding="utf-8"))
    assert [int(r["cells"][0]) for r in page.rows] == expected
    assert (summary.rows, summary.review_rows, summary.table_rows) == (len(df), len(expected), len(expected))
    assert summary.explained and summary.text_column == "description"


def test_every_highlight_marks_the_characters_its_span_names(sample_scored, tmp_path):
    out = tmp_path / "r.html"
    report(sample_scored, out)
    df = _frame(sample_scored)
    page = Page(out.read_text(encoding="utf-8"))
    marked = 0
    for row in page.rows:
        i = int(row["cells"][0]) - 1
        text = df.at[i, "description"]
        spans = [
            (e["start"], e["end"])
            for e in json.loads(df.at[i, "evidence"] or "[]")
            if e["kind"] in ("term", "pattern", "exclusion")
        ]
        for m in row["marks"]:
            marked += 1
            assert m["text"] == text[m["start"] : m["end"]]
            # a mark is the union of evidence spans: each of its characters is inside one of them
            assert all(any(s <= k < e for s, e in spans) for k in range(m["start"], m["end"]))
        # and every span's characters are inside a mark
        covered = {k for m in row["marks"] for k in range(m["start"], m["end"])}
        assert all(k in covered for s, e in spans for k in range(s, e))
    assert marked > 50


@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "tsv"])
def test_every_scored_format_gives_the_same_table(sample_scored, tmp_path, fmt, keyword_engine):
    other = _scored(tmp_path, f"scored.{fmt}", engine=keyword_engine)
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    report(sample_scored, a)
    report(other, b)
    pa, pb = Page(a.read_text(encoding="utf-8")), Page(b.read_text(encoding="utf-8"))
    assert [(r["cells"], r["marks"]) for r in pa.rows] == [(r["cells"], r["marks"]) for r in pb.rows]


def test_streamed_in_small_chunks_the_page_is_the_same(sample_scored, tmp_path):
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    report(sample_scored, a)
    report(sample_scored, b, chunk_size=7)
    strip = re.compile(r"generated [^·]* by")
    assert strip.sub("", a.read_text(encoding="utf-8")) == strip.sub("", b.read_text(encoding="utf-8"))


def test_a_capped_table_says_how_many_rows_it_left_out(sample_scored, tmp_path):
    out = tmp_path / "r.html"
    summary = report(sample_scored, out, max_rows=10)
    page = Page(out.read_text(encoding="utf-8"))
    df = _frame(sample_scored)
    total = int(_review_mask(df).sum())
    assert len(page.rows) == 10 == summary.table_rows and summary.review_rows == total
    assert any(f"first 10 of the {total} rows needing review" in n for n in page.notices)


def test_without_explain_the_page_says_so_and_still_lists_the_rows(tmp_path, keyword_engine):
    lean = _scored(tmp_path, explain=False, engine=keyword_engine)
    out = tmp_path / "r.html"
    summary = report(lean, out)
    page = Page(out.read_text(encoding="utf-8"))
    df = _frame(lean)
    assert len(page.rows) == int(_review_mask(df).sum()) and not summary.explained
    assert all(not r["marks"] for r in page.rows)
    assert any("without --explain" in n for n in page.notices)


HOSTILE = [
    "<script>window.__pwned = 1</script> CNC lathe",
    '<img src=x onerror="window.__pwned=2"> machining centre',
    '"><svg onload=window.__pwned=3> FPGA',
    "</td></tr></table><script>window.__pwned=4</script> wafer stepper",
    "javascript:alert(1) &lt;b&gt; germanium lens &amp; <!-- comment --> ]]>",
    "<style>body{display:none}</style><base href='http://example.invalid/'> Xilinx FPGA",
    "line\u2028separator \x00 nul \x1b esc <meta http-equiv=refresh content=0> CNC",
]


@pytest.fixture()
def hostile_scored(tmp_path, keyword_engine) -> Path:
    src = tmp_path / "hostile.csv"
    pd.DataFrame(
        {
            "record_id": [f"<b id=x{i}>{i}</b>" for i in range(len(HOSTILE))],
            "description": HOSTILE,
            "hs_code": ["8458.11"] * len(HOSTILE),
        }
    ).to_csv(src, index=False)
    return _scored(tmp_path, source=src, name="hostile_scored.jsonl", engine=keyword_engine)


def test_hostile_text_is_shown_as_text_and_never_becomes_markup(hostile_scored, tmp_path):
    out = tmp_path / "r.html"
    report(hostile_scored, out, id_column="record_id", title="<script>alert(1)</script>")
    text = out.read_text(encoding="utf-8")
    page = Page(text)
    # the only script and style are the page's own, and the policy allows exactly them
    assert len(page.scripts) == 1 and len(page.styles) == 1
    assert page.event_attrs == [] and not {"img", "base", "iframe", "object"} & set(page.tags)
    assert page.tags.count("svg") <= 3  # the page's own charts
    assert page.tags.count("meta") == 3
    csp = next(m["content"] for m in page.metas if m.get("http-equiv") == "Content-Security-Policy")
    digest = base64.b64encode(hashlib.sha256(page.scripts[0].encode("utf-8")).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp and "default-src 'none'" in csp
    # each description comes back as its own text (characters HTML cannot hold shown as U+FFFD)
    df = _frame(hostile_scored)
    shown = {r["cells"][1]: r["cells"][2] for r in page.rows}
    assert len(shown) == len(df[_review_mask(df)])
    for rid, desc in zip(df["record_id"], df["description"]):
        if rid in shown:
            expected = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", "\ufffd", desc)
            assert shown[rid].startswith(expected)


def test_a_hostile_evidence_cell_is_escaped_or_refused(tmp_path):
    ev = [
        {
            "kind": "term",
            "term": "<script>x</script>",
            "family": "<i>",
            "subcategory": '"',
            "weight": 1,
            "start": 0,
            "end": 3,
            "matched_text": "CNC",
        },
        {"kind": "term", "term": "t", "start": 0, "end": 99, "matched_text": "CNC lathe"},  # span past the text: ignored
        {"kind": "model_feature", "feature": "<img src=x onerror=alert(1)>", "contribution": 1.0},
    ]
    rows = [
        {
            "description": "CNC lathe",
            "category": "machine_tools",
            "confidence": 0.9,
            "risk_level": "high",
            "needs_review": True,
            "chpl_tier": "<svg onload=alert(1)>",
            "status": "<b>odd</b>",
            "evidence": json.dumps(ev),
        },
        {
            "description": "x",
            "category": "none",
            "confidence": 0.9,
            "risk_level": "none",
            "needs_review": True,
            "chpl_tier": None,
            "status": "ok",
            "evidence": "[" * 100_000,
        },
    ]
    src = tmp_path / "crafted.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "r.html"
    report(src, out, text_column="description")
    page = Page(out.read_text(encoding="utf-8"))
    assert page.event_attrs == [] and "img" not in page.tags and page.tags.count("svg") == 3  # the three charts
    assert [(m["start"], m["end"], m["text"]) for m in page.rows[0]["marks"]] == [(0, 3, "CNC")]
    assert "<img src=x onerror=alert(1)>" in page.rows[0]["cells"][1]
    assert "not valid JSON" in page.rows[1]["cells"][1]


def test_the_csv_formula_guard_does_not_shift_the_highlights(tmp_path, keyword_engine):
    src = tmp_path / "f.csv"
    pd.DataFrame({"description": ["=CNC lathe", "-5-axis machining centre"], "hs_code": ["", ""]}).to_csv(src, index=False)
    scored = _scored(tmp_path, source=src, engine=keyword_engine)
    assert _frame(scored)["description"].str.startswith("'").all()  # the guard is there in the file
    out = tmp_path / "r.html"
    report(scored, out)
    page = Page(out.read_text(encoding="utf-8"))
    texts = ["=CNC lathe", "-5-axis machining centre"]
    for row in page.rows:
        text = texts[int(row["cells"][0]) - 1]
        assert row["cells"][1].startswith(text) and row["marks"]
        assert all(text[m["start"] : m["end"]] == m["text"] for m in row["marks"])


def test_the_text_column_is_found_from_the_spans(tmp_path, keyword_engine):
    src = tmp_path / "t.csv"
    pd.DataFrame({"note": ["lathe", "x"], "goods": ["CNC lathe", "Xilinx FPGA XC7K325T"]}).to_csv(src, index=False)
    scored = tmp_path / "s.csv"
    score_file(src, scored, text_column="goods", explain=True, engine=keyword_engine, jobs=1)
    assert report(scored, tmp_path / "r.html").text_column == "goods"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"text_column": "nope"}, ColumnNotFoundError, r"text_column: column 'nope' not found .* available columns: 'record_id'"),
        ({"id_column": "nope"}, ColumnNotFoundError, r"id_column: column 'nope' not found"),
        ({"max_rows": 0}, OptionError, r"max_rows: expected an int >= 1, got 0"),
        ({"page_size": "50"}, OptionError, r"page_size: expected an int >= 1, got '50'"),
        ({"title": 3}, InputTypeError, r"title: expected a str or None, got 3"),
        ({"input_format": "xlsx"}, OptionError, r"input_format: expected one of"),
    ],
    ids=["text-column", "id-column", "max-rows", "page-size", "title", "format"],
)
def test_bad_options_are_refused_by_name(sample_scored, tmp_path, kwargs, error, match):
    with pytest.raises(error, match=match):
        report(sample_scored, tmp_path / "r.html", **kwargs)
    assert not (tmp_path / "r.html").exists()


def test_a_file_that_is_not_a_scored_file_is_refused_and_the_old_report_kept(tmp_path):
    out = tmp_path / "r.html"
    out.write_text("old", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"not an output of 'dualuse score': missing column\(s\) category"):
        report(SAMPLE, out)
    assert out.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_the_output_is_written_atomically_with_the_mode_of_the_old_one(sample_scored, tmp_path):
    out = tmp_path / "r.html"
    out.write_text("old", encoding="utf-8")
    os.chmod(out, 0o640)
    report(sample_scored, out)
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert (os.stat(out).st_mode & 0o777) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]
    with pytest.raises(OutputWriteError, match="is a directory"):
        report(sample_scored, tmp_path)


def test_the_cli_writes_the_report_and_maps_errors_to_exit_codes(sample_scored, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", str(sample_scored), "-o", str(out)]) == EXIT_OK
    assert "need review" in capsys.readouterr().out and out.exists()
    assert main(["report", str(sample_scored), "-o", str(out), "--text-column", "nope"]) == EXIT_USAGE
    assert "text_column: column 'nope'" in capsys.readouterr().err
    assert main(["report", str(sample_scored), "-o", str(tmp_path / "missing" / "r.html")]) == EXIT_OUTPUT


def test_report_is_public():
    assert dualuse.report is report


def test_a_huge_description_is_cut_in_the_table_and_says_so(tmp_path):
    from dualuse.reporting.page import MAX_TEXT_CHARS

    text = "CNC lathe " + "x" * (3 * MAX_TEXT_CHARS)
    ev = [{"kind": "term", "term": "CNC lathe", "start": 0, "end": 9, "matched_text": "CNC lathe"}]
    row = {
        "description": text,
        "category": "machine_tools",
        "confidence": 0.9,
        "risk_level": "high",
        "needs_review": True,
        "chpl_tier": None,
        "status": "ok",
        "evidence": ev,
    }
    src = tmp_path / "big.jsonl"
    src.write_text(json.dumps(row) + "\n", encoding="utf-8")
    out = tmp_path / "r.html"
    report(src, out)
    cell = Page(out.read_text(encoding="utf-8")).rows[0]["cells"][1]
    assert cell.startswith(text[:MAX_TEXT_CHARS]) and f"and {len(text) - MAX_TEXT_CHARS:,} more characters" in cell
    assert len(out.read_bytes()) < 200_000


def test_a_scored_file_without_rows_gives_a_page_without_rows(sample_scored, tmp_path):
    header_only = tmp_path / "empty.csv"
    header_only.write_text(sample_scored.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    out = tmp_path / "r.html"
    summary = report(header_only, out)
    assert (summary.rows, summary.review_rows, summary.table_rows) == (0, 0, 0)
    assert Page(out.read_text(encoding="utf-8")).rows == []
