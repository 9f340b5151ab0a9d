"""``dualuse score`` on hostile files: clear messages, documented exit codes, no partial output.

Exit codes (dualuse/cli.py): 1 rows with problems (output written, every row kept),
2 bad input or usage, 3 integrity, 4 output not writable. tests/test_batchfile.py covers the
ordinary paths (missing file, missing column, bad options, missing output directory); this
file covers what a hostile or broken file adds: directories, encodings, binary garbage,
malformed lines through the CLI, outputs that cannot be replaced, the input as its own output.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from dualuse.cli import EXIT_INTEGRITY, EXIT_OUTPUT, EXIT_ROW_PROBLEMS, EXIT_USAGE, main

HEADER = "record_id,description,hs_code\n"
GOOD = ["R1,CNC lathe,8458.11\n", "R2,FPGA XC7Z020,8542.31\n", "R3,cotton t-shirt,6109.10\n"]


def _score(src: Path, out: Path, *extra: str) -> int:
    return main(["score", str(src), "-o", str(out), "--text-column", "description", "--progress", "never", *extra])


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.rglob("*") if p.name.endswith(".part") or p.name.startswith(".out"))


# ---------------------------------------------------------------------------- bad input: exit 2


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        pytest.param("utf16.csv", (HEADER + "".join(GOOD)).encode("utf-16"), "header is not valid UTF-8", id="utf-16"),
        pytest.param(
            "latin1-header.csv",
            "récord,description\nR1,lathe\n".encode("latin-1"),
            "header is not valid UTF-8",
            id="latin-1-header",
        ),
        pytest.param("gzip.csv", b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4, "header is not valid UTF-8", id="binary-garbage"),
        pytest.param("blank.csv", b"\n\n\n", "is empty", id="only-blank-lines"),
        pytest.param("nocol.csv", b"record_id,hs_code\nR1,8458.11\n", "column 'description' not found", id="missing-column"),
        pytest.param(
            "nocol.jsonl",
            b'{"record_id": "R1", "text": "lathe"}\n',
            "available columns: 'record_id', 'text'",
            id="missing-key-jsonl",
        ),
        pytest.param("noobj.jsonl", b'[1, 2]\n"lathe"\n', "has no JSON object line", id="jsonl-without-objects"),
        pytest.param("fake.parquet", b"PAR1 this is not parquet", "cannot read", id="not-parquet"),
        pytest.param(
            "clash.csv", b"description,category\nlathe,x\n", "already has output column(s) 'category'", id="output-column-clash"
        ),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(tmp_path, cli_engine, capsys, name, content, needle) -> None:
    src = tmp_path / name
    src.write_bytes(content)
    assert _score(src, tmp_path / "out.csv") == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("dualuse: error: ") and needle in err
    assert "Traceback" not in err
    assert not (tmp_path / "out.csv").exists() and _leftovers(tmp_path) == []


def test_input_that_is_a_directory(tmp_path, cli_engine, capsys) -> None:
    (tmp_path / "dir.csv").mkdir()
    assert _score(tmp_path / "dir.csv", tmp_path / "out.csv") == EXIT_USAGE
    assert "expected a file, got a directory" in capsys.readouterr().err
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_input(tmp_path, cli_engine, capsys) -> None:
    src = tmp_path / "in.csv"
    src.write_text(HEADER + "".join(GOOD), encoding="utf-8")
    src.chmod(0)
    try:
        assert _score(src, tmp_path / "out.csv") == EXIT_USAGE
    finally:
        src.chmod(0o644)
    assert "cannot open" in capsys.readouterr().err
    assert not (tmp_path / "out.csv").exists()


def test_output_that_is_the_input_is_refused_and_input_untouched(tmp_path, cli_engine, capsys) -> None:
    src = tmp_path / "in.csv"
    src.write_text(HEADER + "".join(GOOD), encoding="utf-8")
    before = src.read_bytes()
    assert _score(src, src) == EXIT_USAGE
    assert "is the input file" in capsys.readouterr().err
    assert src.read_bytes() == before and _leftovers(tmp_path) == []


# ---------------------------------------------------------------------------- bad rows: exit 1, every row kept


def test_latin1_bytes_in_rows_are_kept_and_reported(tmp_path, cli_engine, capsys) -> None:
    src = tmp_path / "in.csv"
    src.write_bytes(
        HEADER.encode() + GOOD[0].encode() + "R9,tour à métaux CNC lathe,8458.11\n".encode("latin-1") + GOOD[1].encode()
    )
    out = tmp_path / "out.csv"
    assert _score(src, out) == EXIT_ROW_PROBLEMS
    stdout = capsys.readouterr().out
    assert "undecodable_text 1" in stdout and "line 3: bytes that are not UTF-8" in stdout
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert frame["record_id"].tolist() == ["R1", "R9", "R2"]
    row = frame.iloc[1]
    assert row["status"] == "undecodable_text" and "\ufffd" in row["description"]
    assert row["category"] == "machine_tools"  # the rest of the text is still screened


def test_malformed_lines_are_kept_with_line_numbers(tmp_path, cli_engine, capsys) -> None:
    src = tmp_path / "in.csv"
    src.write_text(
        HEADER
        + GOOD[0]
        + "R5,too,many,fields,here\n"
        + 'R6,"unterminated quote,8458.11\n'
        + "R7\n"
        + GOOD[1]
        + "\x00,\x00,\x00\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    assert _score(src, out) == EXIT_ROW_PROBLEMS
    stdout = capsys.readouterr().out
    assert "line 3: expected 3 fields, got 5" in stdout and "line 5: expected 3 fields, got 1" in stdout
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(frame) == 6  # every record, in order, kept
    assert frame["status"].tolist()[:1] == ["ok"] and frame["status"].tolist()[1] == "malformed_line"
    assert frame["status"].tolist()[-1] == "empty_text"  # NUL-only text: nothing visible to screen


def test_jsonl_with_hostile_values(tmp_path, cli_engine, capsys) -> None:
    src = tmp_path / "in.jsonl"
    lines = [
        {"record_id": "R1", "description": "CNC lathe"},
        {"record_id": "R2", "description": {"nested": ["object"]}},
        {"record_id": "R3", "description": 12345},
        {"record_id": "R4", "description": None},
        {"record_id": "R5", "description": "m1crocontroller \u202e\u200b"},
    ]
    src.write_text("\n".join(json.dumps(x) for x in lines) + "\n{not json}\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert _score(src, out) == EXIT_ROW_PROBLEMS
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [r["status"] for r in rows] == ["ok", "invalid_text_type", "invalid_text_type", "empty_text", "ok", "malformed_line"]
    assert rows[4]["category"] == "microelectronics"
    assert "line 6: invalid JSON" in capsys.readouterr().out


# ---------------------------------------------------------------------------- output not writable: exit 4


@pytest.mark.parametrize("where", ["existing-directory", "parent-is-a-file"])
def test_output_not_writable_exits_4_and_leaves_nothing(tmp_path, cli_engine, capsys, where) -> None:
    src = tmp_path / "in.csv"
    src.write_text(HEADER + "".join(GOOD), encoding="utf-8")
    if where == "existing-directory":
        out = tmp_path / "out.csv"
        out.mkdir()
    else:
        out = src / "out.csv"
    assert _score(src, out) == EXIT_OUTPUT
    err = capsys.readouterr().err
    assert err.startswith("dualuse: error: output:") and "Traceback" not in err
    assert _leftovers(tmp_path) == []
    if where == "existing-directory":
        assert out.is_dir() and list(out.iterdir()) == []


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc (a file system nobody can create files in)")
def test_output_on_a_file_system_that_refuses_files(tmp_path, cli_engine, capsys) -> None:
    # works as root too (root ignores directory modes, not /proc's refusal)
    src = tmp_path / "in.csv"
    src.write_text(HEADER + "".join(GOOD), encoding="utf-8")
    assert _score(src, Path("/proc/dualuse-out.csv")) == EXIT_OUTPUT
    assert capsys.readouterr().err.startswith("dualuse: error: output: cannot write")
    assert not Path("/proc/dualuse-out.csv").exists()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only directories")
def test_read_only_output_directory(tmp_path, cli_engine, capsys) -> None:
    src = tmp_path / "in.csv"
    src.write_text(HEADER + "".join(GOOD), encoding="utf-8")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        assert _score(src, ro / "out.csv") == EXIT_OUTPUT
    finally:
        ro.chmod(0o755)
    assert list(ro.iterdir()) == []


# ---------------------------------------------------------------------------- engine files: exit 3


def test_bad_taxonomy_file_exits_3(tmp_path, cli_engine, capsys) -> None:
    src = tmp_path / "in.csv"
    src.write_text(HEADER + "".join(GOOD), encoding="utf-8")
    tax = tmp_path / "tax.toml"
    tax.write_text("import os\n", encoding="utf-8")
    assert _score(src, tmp_path / "out.csv", "--taxonomy", str(tax)) == EXIT_INTEGRITY
    assert "not valid TOML" in capsys.readouterr().err
    assert not (tmp_path / "out.csv").exists()


def test_taxonomy_that_is_a_directory_exits_3(tmp_path, cli_engine, capsys) -> None:
    src = tmp_path / "in.csv"
    src.write_text(HEADER + "".join(GOOD), encoding="utf-8")
    assert _score(src, tmp_path / "out.csv", "--taxonomy", str(tmp_path)) == EXIT_INTEGRITY
