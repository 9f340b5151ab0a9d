"""score_file and ``dualuse score``: formats, streaming, kept malformed rows, atomic output, exit codes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from dualuse.batch import OUTPUT_COLUMNS, score_frame
from dualuse.cli import EXIT_OK, EXIT_OUTPUT, EXIT_ROW_PROBLEMS, EXIT_USAGE, main
from dualuse.engine import Engine
from dualuse.errors import ColumnNotFoundError, InputFileError, OptionError, OutputWriteError
from dualuse.files import MAX_AUTO_JOBS, auto_jobs, score_file

pq = pytest.importorskip("pyarrow.parquet")

RECORDS = [
    {"record_id": "R1", "description": "5-axis CNC vertical machining center VMC850", "hs_code": "8457.10", "origin": "TW"},
    {"record_id": "R2", "description": "Xilinx FPGA XC7K325T-2FFG900I, tray", "hs_code": "8542.31", "origin": "CN"},
    {"record_id": "R3", "description": 'LCD monitor 27", black', "hs_code": "8528.52", "origin": "KR"},
    {"record_id": "R4", "description": "Станок токарный с ЧПУ 16К20Ф3", "hs_code": "", "origin": "RU"},
    {"record_id": "R5", "description": "", "hs_code": "8458.11", "origin": "CN"},
    {"record_id": "R6", "description": "NA", "hs_code": "NA", "origin": "NA"},
    {"record_id": "R7", "description": "红外热像仪 镜头 germanium lens", "hs_code": "9002.11", "origin": "CN"},
    {
        "record_id": "R8",
        "description": "Men's cotton T-shirt\nsecond line of the description",
        "hs_code": "6109.10",
        "origin": "BD",
    },
    {"record_id": "R9", "description": "   ", "hs_code": "", "origin": ""},
    {"record_id": "R10", "description": "spare parts for lathe", "hs_code": "84x", "origin": "DE"},
]
FORMATS = ["csv", "tsv", "parquet", "jsonl"]


def write_records(path: Path, fmt: str, records=RECORDS) -> Path:
    frame = pd.DataFrame(records, dtype=object)
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "tsv":
        frame.to_csv(path, index=False, sep="\t")
    elif fmt == "parquet":
        frame.astype("string").to_parquet(path, index=False)
    else:
        with open(path, "w", encoding="utf-8") as fh:
            for r in records:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path


def read_output(path: Path, fmt: str) -> pd.DataFrame:
    if fmt in ("csv", "tsv"):
        return pd.read_csv(path, sep="," if fmt == "csv" else "\t", dtype=str, keep_default_na=False)
    if fmt == "parquet":
        return pd.read_parquet(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    return pd.DataFrame([json.loads(line) for line in lines], dtype=object)


def _text(v) -> str:
    return "" if v is None or v is pd.NA or (isinstance(v, float) and v != v) else str(v)


@pytest.mark.parametrize("in_fmt", FORMATS)
@pytest.mark.parametrize("out_fmt", FORMATS)
def test_round_trip_keeps_rows_order_and_equals_score_frame(tmp_path, keyword_engine, in_fmt, out_fmt) -> None:
    src = write_records(tmp_path / f"in.{in_fmt}", in_fmt)
    dst = tmp_path / f"out.{out_fmt}"
    summary = score_file(
        src, dst, text_column="description", hs_column="hs_code", engine=keyword_engine, chunk_size=3, progress="never"
    )
    assert summary.rows == len(RECORDS)
    out = read_output(dst, out_fmt)
    assert list(out.columns) == ["record_id", "description", "hs_code", "origin", *OUTPUT_COLUMNS]
    assert out["record_id"].tolist() == [r["record_id"] for r in RECORDS]
    assert [_text(v) for v in out["description"]] == [r["description"] for r in RECORDS]  # '' and 'NA' kept as text
    expected = score_frame(pd.DataFrame(RECORDS, dtype=object), "description", hs_column="hs_code", engine=keyword_engine)
    assert [_text(v) for v in out["status"]] == expected["status"].tolist()
    assert [_text(v) for v in out["category"]] == [_text(v) for v in expected["category"]]
    assert [_text(v) for v in out["matched_terms"]] == [_text(v) for v in expected["matched_terms"]]
    got_conf = [float(v) if _text(v) else None for v in out["confidence"]]
    assert got_conf == [None if v != v else v for v in expected["confidence"]]  # repr round-trips exactly
    assert summary.statuses == expected["status"].value_counts().to_dict()


def test_summary_counts(tmp_path, keyword_engine) -> None:
    src = write_records(tmp_path / "in.csv", "csv")
    s = score_file(
        src, tmp_path / "out.csv", text_column="description", hs_column="hs_code", engine=keyword_engine, progress="never"
    )
    assert s.rows == 10
    assert sum(s.categories.values()) == s.rows - s.statuses.get("empty_text", 0)
    assert s.problem_rows == 4  # two empty texts, two invalid HS codes ('84x' and 'NA')
    text = s.format()
    assert "scored 10 rows" in text and "empty_text 2" in text and "invalid_hs_code 2" in text
    assert "line 6: empty_text" in text  # R5 is on physical line 6 of the file


def test_parquet_keeps_column_types(tmp_path, keyword_engine) -> None:
    frame = pd.DataFrame({"id": [1, 2, 3], "description": ["CNC lathe", None, "FPGA"], "weight": [1.5, 2.0, None]})
    frame.to_parquet(tmp_path / "in.parquet", index=False)
    score_file(
        tmp_path / "in.parquet", tmp_path / "out.parquet", text_column="description", engine=keyword_engine, progress="never"
    )
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert out["id"].tolist() == [1, 2, 3]
    assert str(out["id"].dtype) == "int64"
    assert out["status"].tolist() == ["ok", "empty_text", "ok"]
    assert out["confidence"].dtype == "float64"


# ------------------------------------------------------------------ malformed input is kept


def _csv_bytes() -> bytes:
    return (
        b"record_id,description,hs_code\n"  # line 1
        b"A1,CNC lathe,8458.11\n"  # line 2
        b"A2,too,many,fields\n"  # line 3: wrong field count
        b'A3,"multi\nline FPGA",8542\n'  # lines 4-5: a quoted field over two lines
        b'A4,"Best" drill press,8459\n'  # line 6: bad quoting, recoverable
        b"A5,\xff\xfe broken bytes lathe,8458\n"  # line 7: not UTF-8
        b"\n"  # line 8: blank, not a record
        b'A6,"never closed,8542\n'  # line 9: unterminated quote, recoverable by split
        b"A7,only two\n"  # line 10: too few fields
        b"A8,last row,\n"  # line 11
    )


def test_malformed_csv_lines_are_kept_with_line_numbers(tmp_path, keyword_engine) -> None:
    src = tmp_path / "in.csv"
    src.write_bytes(_csv_bytes())
    s = score_file(
        src,
        tmp_path / "out.csv",
        text_column="description",
        hs_column="hs_code",
        engine=keyword_engine,
        chunk_size=2,
        progress="never",
    )
    out = read_output(tmp_path / "out.csv", "csv")
    assert len(out) == s.rows == 8
    assert out["status"].tolist() == [
        "ok",
        "malformed_line",
        "ok",
        "malformed_line",
        "undecodable_text",
        "malformed_line",
        "malformed_line",
        "ok",
    ]
    by_status = list(zip(out["record_id"], out["status"], out["error"]))
    assert by_status[0][:2] == ("A1", "ok")
    assert by_status[1][0] == "" and by_status[1][1] == "malformed_line" and "line 3" in by_status[1][2]
    assert "expected 3 fields, got 4" in by_status[1][2]
    assert by_status[2][:2] == ("A3", "ok") and out["description"][2] == "multi\nline FPGA"
    assert by_status[3][:2] == ("A4", "malformed_line") and "line 6" in by_status[3][2]
    assert out["category"][3] != ""  # recovered by a literal split: still screened
    assert by_status[4][:2] == ("A5", "undecodable_text") and "line 7" in by_status[4][2]
    assert "\ufffd" in out["description"][4] and out["category"][4] != ""
    assert by_status[5][:2] == ("A6", "malformed_line") and "line 9" in by_status[5][2]
    assert by_status[6][1] == "malformed_line" and "line 10" in by_status[6][2] and out["category"][6] == ""
    assert by_status[7][:2] == ("A8", "ok")
    assert s.blank_lines == 1
    assert s.statuses == {"ok": 3, "malformed_line": 4, "undecodable_text": 1}
    assert any("line 3" in p for p in s.problems)


def test_invalid_json_lines_are_kept_with_line_numbers(tmp_path, keyword_engine) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(
        b"{not json}\n"  # line 1: invalid before the first object
        b'{"id": "J1", "text": "CNC lathe"}\n'
        b'{"id": "J2", "text": "FPGA", \n'  # line 3: truncated object
        b"[1, 2]\n"  # line 4: not an object
        b'{"id": "J3", "text": "\xff lathe"}\n'  # line 5: bytes that are not UTF-8
        b'{"id": 4, "text": 12345}\n'  # line 6: non-string values
        b'{"id": "J5", "text": "lens", "extra": 1}\n'  # line 7: extra key
        b"\n"
    )
    s = score_file(src, tmp_path / "out.jsonl", text_column="text", engine=keyword_engine, progress="never")
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["status"] for r in rows] == [
        "malformed_line",
        "ok",
        "malformed_line",
        "malformed_line",
        "undecodable_text",
        "invalid_text_type",
        "ok",
    ]
    assert "line 1" in rows[0]["error"] and "invalid JSON" in rows[0]["error"]
    assert "line 3" in rows[2]["error"]
    assert "line 4" in rows[3]["error"] and "expected a JSON object" in rows[3]["error"]
    assert "line 5" in rows[4]["error"]
    assert rows[5]["id"] == 4 and rows[5]["category"] is None
    assert "extra" not in rows[6] and s.dropped_keys == 1
    assert s.blank_lines == 1


def test_bom_header_only_and_crlf(tmp_path, keyword_engine) -> None:
    src = tmp_path / "in.csv"
    src.write_bytes(b"\xef\xbb\xbfid,description\r\n")
    s = score_file(src, tmp_path / "out.csv", text_column="description", engine=keyword_engine, progress="never")
    assert s.rows == 0
    assert (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()[0].startswith("id,description,category")
    src.write_bytes(b"\xef\xbb\xbfid,description\r\n1,CNC lathe\r\n2,\r\n")
    score_file(src, tmp_path / "out.csv", text_column="description", engine=keyword_engine, progress="never")
    out = read_output(tmp_path / "out.csv", "csv")
    assert out["description"].tolist() == ["CNC lathe", ""]
    assert out["status"].tolist() == ["ok", "empty_text"]


def test_jobs_give_identical_output(tmp_path, keyword_engine) -> None:
    src = write_records(tmp_path / "in.csv", "csv", RECORDS * 30)
    score_file(
        src,
        tmp_path / "one.csv",
        text_column="description",
        hs_column="hs_code",
        engine=keyword_engine,
        chunk_size=7,
        progress="never",
    )
    score_file(
        src,
        tmp_path / "two.csv",
        text_column="description",
        hs_column="hs_code",
        engine=keyword_engine,
        chunk_size=7,
        jobs=2,
        progress="never",
    )
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "two.csv").read_bytes()
    score_file(
        src,
        tmp_path / "auto.csv",
        text_column="description",
        hs_column="hs_code",
        engine=keyword_engine,
        chunk_size=7,
        jobs="auto",
        progress="never",
    )
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "auto.csv").read_bytes()


def test_auto_jobs_is_the_usable_cpus_capped() -> None:
    expected = min(MAX_AUTO_JOBS, len(os.sched_getaffinity(0)))
    assert auto_jobs() == expected >= 1


@pytest.mark.parametrize(
    ("mode", "shown"), [("always", True), ("never", False), ("auto", False)], ids=["always", "never", "auto-not-a-tty"]
)
def test_progress_goes_to_stderr_only(tmp_path, keyword_engine, capsys, mode, shown) -> None:
    src = write_records(tmp_path / "in.csv", "csv")
    score_file(src, tmp_path / "out.csv", text_column="description", engine=keyword_engine, progress=mode)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert ("rows/s" in captured.err) is shown
    if shown:
        assert "10 rows" in captured.err and "100%" in captured.err


# ------------------------------------------------------------------ errors before work, atomic output


@pytest.mark.parametrize(
    ("kwargs", "exc", "needle"),
    [
        pytest.param(
            {"text_column": "desc"}, ColumnNotFoundError, "'record_id', 'description', 'hs_code', 'origin'", id="missing-column"
        ),
        pytest.param(
            {"text_column": "description", "hs_column": "hs"}, ColumnNotFoundError, "available columns", id="missing-hs-column"
        ),
        pytest.param({"text_column": "description", "chunk_size": 0}, OptionError, "chunk_size", id="chunk-size-0"),
        pytest.param({"text_column": "description", "jobs": 0}, OptionError, "jobs", id="jobs-0"),
        pytest.param(
            {"text_column": "description", "jobs": "all"},
            OptionError,
            "jobs: expected an int >= 1 (worker processes) or 'auto', got 'all'",
            id="jobs-word",
        ),
        pytest.param({"text_column": "description", "progress": "sometimes"}, OptionError, "progress", id="bad-progress"),
        pytest.param({"text_column": "description", "input_format": "xlsx"}, OptionError, "input_format", id="bad-format"),
    ],
)
def test_bad_options_fail_before_writing(tmp_path, keyword_engine, kwargs, exc, needle) -> None:
    src = write_records(tmp_path / "in.csv", "csv")
    with pytest.raises(exc) as info:
        score_file(src, tmp_path / "out.csv", engine=keyword_engine, progress=kwargs.pop("progress", "never"), **kwargs)
    assert needle in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("missing.csv", None, "not found"),
        ("empty.csv", b"", "empty"),
        ("dupe.csv", b"a,a\n1,2\n", "duplicate"),
        ("records.xlsx", b"x", "extension"),
    ],
    ids=["missing", "empty", "duplicate-header", "unknown-extension"],
)
def test_unreadable_inputs(tmp_path, keyword_engine, name, content, needle) -> None:
    src = tmp_path / name
    if content is not None:
        src.write_bytes(content)
    with pytest.raises((InputFileError, OptionError), match=needle):
        score_file(src, tmp_path / "out.csv", text_column="a", engine=keyword_engine, progress="never")
    assert not (tmp_path / "out.csv").exists()


def test_unwritable_output_leaves_nothing(tmp_path, keyword_engine) -> None:
    src = write_records(tmp_path / "in.csv", "csv")
    with pytest.raises(OutputWriteError, match="cannot write"):
        score_file(
            src, tmp_path / "no" / "such" / "dir" / "out.csv", text_column="description", engine=keyword_engine, progress="never"
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


class _FailingEngine(Engine):
    """Scores the first chunk, then fails (a crash half-way through a file)."""

    def __init__(self, inner: Engine) -> None:
        self.__dict__.update(inner.__dict__)
        self.calls = 0

    def score(self, texts, hs_codes=None):
        self.calls += 1
        if self.calls > 1:
            raise RuntimeError("simulated crash")
        return super().score(texts, hs_codes)


@pytest.mark.parametrize("fmt", FORMATS)
def test_crash_midway_removes_temp_file_and_keeps_old_output(tmp_path, keyword_engine, fmt) -> None:
    src = write_records(tmp_path / "in.csv", "csv")
    dst = tmp_path / f"out.{fmt}"
    dst.write_bytes(b"previous complete output")
    with pytest.raises(RuntimeError, match="simulated crash"):
        score_file(src, dst, text_column="description", engine=_FailingEngine(keyword_engine), chunk_size=3, progress="never")
    assert dst.read_bytes() == b"previous complete output"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["in.csv", dst.name])


def test_output_permissions_follow_umask(tmp_path, keyword_engine) -> None:
    src = write_records(tmp_path / "in.csv", "csv")
    score_file(src, tmp_path / "out.csv", text_column="description", engine=keyword_engine, progress="never")
    old = os.umask(0o022)
    os.umask(old)
    assert (tmp_path / "out.csv").stat().st_mode & 0o777 == 0o666 & ~old


# ------------------------------------------------------------------ the CLI


def test_cli_ok_prints_summary(tmp_path, cli_engine, capsys) -> None:
    src = write_records(
        tmp_path / "in.csv", "csv", [r for r in RECORDS if r["description"].strip() and r["hs_code"] not in ("84x", "NA")]
    )
    code = main(
        [
            "score",
            str(src),
            "-o",
            str(tmp_path / "out.parquet"),
            "--text-column",
            "description",
            "--hs-column",
            "hs_code",
            "--progress",
            "never",
        ]
    )
    out = capsys.readouterr().out
    assert code == EXIT_OK
    assert "scored 6 rows" in out and "flagged:" in out and "status: ok 6" in out
    assert len(pd.read_parquet(tmp_path / "out.parquet")) == 6


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param(["{src}", "-o", "{dir}/out.csv", "--text-column", "description"], EXIT_ROW_PROBLEMS, id="row-problems"),
        pytest.param(
            ["{src}", "-o", "{dir}/out.tsv", "--text-column", "description", "--jobs", "2"], EXIT_ROW_PROBLEMS, id="jobs-2"
        ),
        pytest.param(["{src}", "-o", "{dir}/out.csv", "--text-column", "nope"], EXIT_USAGE, id="missing-column"),
        pytest.param(
            ["{dir}/missing.csv", "-o", "{dir}/out.csv", "--text-column", "description"], EXIT_USAGE, id="missing-input"
        ),
        pytest.param(["{src}", "-o", "{dir}/out.xyz", "--text-column", "description"], EXIT_USAGE, id="unknown-output-format"),
        pytest.param(
            ["{src}", "-o", "{dir}/out.csv", "--text-column", "description", "--chunk-size", "0"], EXIT_USAGE, id="chunk-size-0"
        ),
        pytest.param(
            ["{src}", "-o", "{dir}/out.csv", "--text-column", "description", "--jobs", "auto"], EXIT_ROW_PROBLEMS, id="jobs-auto"
        ),
        pytest.param(
            ["{src}", "-o", "{dir}/out.csv", "--text-column", "description", "--jobs", "1"], EXIT_ROW_PROBLEMS, id="jobs-1"
        ),
        pytest.param(
            ["{src}", "-o", "{dir}/missing/out.csv", "--text-column", "description"], EXIT_OUTPUT, id="output-not-writable"
        ),
        pytest.param(
            ["{src}", "-o", "{dir}/out.json", "--output-format", "jsonl", "--text-column", "description"],
            EXIT_ROW_PROBLEMS,
            id="format-option",
        ),
    ],
)
def test_cli_exit_codes(tmp_path, cli_engine, capsys, argv, expected) -> None:
    src = write_records(tmp_path / "in.csv", "csv")
    args = ["score"] + [a.format(src=src, dir=tmp_path) for a in argv] + ["--progress", "never"]
    assert main(args) == expected
    err = capsys.readouterr().err
    if expected in (EXIT_USAGE, EXIT_OUTPUT):
        assert err.startswith("dualuse: error:")
        assert not any(p.name.startswith(".out") for p in tmp_path.iterdir())


def test_output_that_is_a_directory_is_refused_before_work(tmp_path, keyword_engine) -> None:
    src = write_records(tmp_path / "in.csv", "csv")
    (tmp_path / "out.csv").mkdir()
    with pytest.raises(OutputWriteError, match="is a directory"):
        score_file(src, tmp_path / "out.csv", text_column="description", engine=keyword_engine, progress="never")


class _FakeTTY:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def isatty(self) -> bool:
        return True

    def write(self, s: str) -> None:
        self.parts.append(s)

    def flush(self) -> None:
        pass


@pytest.mark.parametrize(
    ("total", "unit", "position", "needle"),
    [(1000, "rows", None, "50%"), (10_000, "bytes", 2_500, "25%"), (None, "rows", None, "elapsed")],
    ids=["rows-total", "bytes-total", "no-total"],
)
def test_progress_line_on_a_terminal(total, unit, position, needle) -> None:
    from dualuse.progress import Progress

    tty = _FakeTTY()
    bar = Progress("auto", total=total, total_unit=unit, stream=tty, min_interval=0.0)
    bar.update(500, position)
    bar.close()
    text = "".join(tty.parts)
    assert text.startswith("\r") and text.endswith("\n")
    assert "500 rows" in text and "rows/s" in text and needle in text
    assert ("ETA" in text) is (total is not None)


def test_progress_rejects_unknown_mode() -> None:
    from dualuse.progress import Progress

    with pytest.raises(OptionError, match="progress"):
        Progress("loud")
