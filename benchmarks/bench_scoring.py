"""Throughput and memory benchmark of batch scoring (not a unit test).

    python benchmarks/bench_scoring.py                      # keyword-only engine, and the default model if built
    python benchmarks/bench_scoring.py --engine default --jobs 1 2 --file-rows 1000000
    python benchmarks/bench_scoring.py --engine default --jobs 2 --skip-frame --explain off on \
        --reference ../main --rounds 3          # explanations off / on, and the code of another checkout

Measures, each in a fresh subprocess:

* ``score_frame`` on ``--frame-rows`` rows (100,000) already in memory (read with pandas first,
  not timed);
* ``dualuse score`` end to end (read CSV, score, write CSV) on ``--file-rows`` rows (1,000,000),
  for each ``--jobs`` value.

Peak memory is reported two ways: the largest single process (``ru_maxrss`` of the children,
from ``getrusage(RUSAGE_CHILDREN)``) and the whole process tree (main process + workers),
sampled every 50 ms from ``/proc`` (RSS and PSS; PSS splits pages shared after ``fork`` fairly,
so it is the honest total when ``--jobs`` > 1). Sampling /proc every 50 ms costs CPU on a
2-core machine, so every measurement runs twice: once without the sampler for the time, once
with it for the tree memory (see :func:`measure_twice`). The output of ``dualuse score`` is checked:
exactly as many rows as input records, record ids in input order (a line broken on purpose by
the generator is kept as a ``malformed_line`` row with an empty id, in its place).

``--explain off on`` runs ``dualuse score`` without and with ``--explain``; ``--reference DIR``
also runs it (explanations off) with the code of another checkout (``DIR`` as working
directory, so that ``python -m dualuse.cli`` imports that checkout's package); ``--rounds N``
repeats the whole set N times, alternating the variants so that each sees the same machine.

Results go to ``benchmarks/results_scoring.md`` (date, machine, command, rows, seconds, rows/s,
peak memory, order check). The "keyword" engine is the packaged taxonomy without a model
(``Engine(default_taxonomy(), model=None)``); "default" is ``dualuse.default_engine()``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from generate_records import write_csv
from machine_probe import cpu_model, memory_bytes

RESULTS = HERE / "results_scoring.md"

_ENGINE_SNIPPET = {
    "keyword": (
        "from dualuse.api import set_default_engine\n"
        "from dualuse.engine import Engine\n"
        "from dualuse.taxonomy import default_taxonomy\n"
        "set_default_engine(Engine(default_taxonomy(), model=None))\n"
    ),
    "default": "from dualuse.api import default_engine\ndefault_engine()\n",
    # the I/O path alone: the real engine fed empty texts (every row empty_text, no matching)
    "io-only": (
        "from dualuse.api import set_default_engine\n"
        "from dualuse.engine import Engine\n"
        "from dualuse.taxonomy import default_taxonomy\n"
        "class IOOnly(Engine):\n"
        "    def score(self, texts, hs_codes=None):\n"
        "        return super().score([''] * len(texts), None)\n"
        "set_default_engine(IOOnly(default_taxonomy(), model=None))\n"
    ),
}

_FRAME_SNIPPET = """
import json, sys, time
import pandas as pd
{engine}
from dualuse.api import default_engine
from dualuse.batch import score_frame
df = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False)
eng = default_engine()
t0 = time.perf_counter()
out = score_frame(df, "description", hs_column="hs_code", engine=eng)
secs = time.perf_counter() - t0
assert len(out) == len(df) and out.index.equals(df.index)
print(json.dumps({{"rows": len(out), "seconds": secs}}))
"""

_CLI_SNIPPET = """
import sys
{engine}
from dualuse.cli import main
sys.exit(main(sys.argv[1:]))
"""


def machine() -> dict:
    cpu = cpu_model()
    mem = memory_bytes()
    import pandas

    import dualuse

    return {
        "cores": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": cpu,
        "memory_gib": None if mem is None else round(mem / 2**30, 1),
        "python": platform.python_version(),
        "pandas": pandas.__version__,
        "dualuse": dualuse.__version__,
        "load_before": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


class TreeSampler:
    """Samples the summed RSS and PSS of a process and all its descendants."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_rss = 0
        self.peak_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _children(self) -> dict[int, list[int]]:
        kids: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    stat = fh.read()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            kids.setdefault(ppid, []).append(int(entry))
        return kids

    def _tree(self) -> list[int]:
        kids = self._children()
        out, todo = [], [self.pid]
        while todo:
            p = todo.pop()
            out.append(p)
            todo.extend(kids.get(p, []))
        return out

    @staticmethod
    def _mem(pid: int) -> tuple[int, int]:
        rss = pss = 0
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Rss:"):
                        rss = int(line.split()[1]) * 1024
                    elif line.startswith("Pss:"):
                        pss = int(line.split()[1]) * 1024
        except OSError:
            pass
        return rss, pss

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = pss = 0
            for p in self._tree():
                r, s = self._mem(p)
                rss, pss = rss + r, pss + s
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_pss = max(self.peak_pss, pss)
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_measured(cmd: list[str], *, sample_tree: bool = True, cwd: Path = ROOT) -> dict:
    """Run ``cmd``; wall time, exit code, output, peak memory (single process and whole tree).

    The child is reaped with ``os.wait4`` so its own ``ru_maxrss`` (the largest of it and its
    waited-for descendants) is exact for this run, not a maximum over earlier runs. With
    ``sample_tree=False`` the /proc sampler does not run (tree figures are then 0).
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, cwd=cwd)
        sampler = TreeSampler(proc.pid)
        if sample_tree:
            with sampler:
                _, status, usage = os.wait4(proc.pid, 0)
        else:
            _, status, usage = os.wait4(proc.pid, 0)
        secs = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    return {
        "returncode": proc.returncode,
        "seconds": secs,
        "stdout": stdout,
        "stderr": stderr,
        "max_single_rss": usage.ru_maxrss * 1024,  # KiB on Linux
        "tree_rss": sampler.peak_rss,
        "tree_pss": sampler.peak_pss,
    }


def measure_twice(cmd: list[str], cwd: Path = ROOT) -> dict:
    """Time ``cmd`` in a run without the /proc sampler, then run it again to sample tree memory.

    The sampler reads /proc every 50 ms; on a 2-core machine that steals CPU from the run it
    watches, so the time comes from the first run and the tree memory from the second. The
    single-process peak is the larger of the two runs' ``ru_maxrss``. The second run writes
    the same output file over the first (checked afterwards by the caller).
    """
    timed = run_measured(cmd, sample_tree=False, cwd=cwd)
    if timed["returncode"] not in (0, 1):
        return timed
    sampled = run_measured(cmd, sample_tree=True, cwd=cwd)
    return {
        **timed,
        "max_single_rss": max(timed["max_single_rss"], sampled["max_single_rss"]),
        "tree_rss": sampled["tree_rss"],
        "tree_pss": sampled["tree_pss"],
        "returncode": max(timed["returncode"], sampled["returncode"]),
    }


def check_output(path: Path, n: int) -> tuple[bool, str, dict]:
    """Exactly ``n`` rows, ids ``TR0000001``... in order (malformed rows in their place)."""
    statuses: dict[str, int] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        id_i, st_i = header.index("record_id"), header.index("status")
        count = 0
        for count, row in enumerate(reader, 1):
            st = row[st_i]
            statuses[st] = statuses.get(st, 0) + 1
            rid = row[id_i]
            if rid != f"TR{count:07d}" and not (rid == "" and st == "malformed_line"):
                return False, f"row {count}: id {rid!r} out of order", statuses
    if count != n:
        return False, f"{count:,} rows, expected {n:,}", statuses
    return True, f"{count:,} rows, ids in input order", statuses


def _gib(b: int | None) -> str:
    return "n/a" if not b else f"{b / 2**20:,.0f} MiB"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="batch scoring benchmark")
    p.add_argument("--frame-rows", type=int, default=100_000)
    p.add_argument("--file-rows", type=int, default=1_000_000)
    p.add_argument(
        "--engine",
        nargs="+",
        default=None,
        choices=["keyword", "default", "io-only"],
        help="engines to run (default: keyword, plus default when the model is built); "
        "io-only measures reading, parsing, chunking and writing with an engine that screens nothing",
    )
    p.add_argument("--jobs", nargs="+", type=int, default=[1, 2])
    p.add_argument("--chunk-size", type=int, default=20_000)
    p.add_argument("--workdir", default=None, help="where the generated files go (default: a temp dir)")
    p.add_argument("--results", default=str(RESULTS))
    p.add_argument("--skip-frame", action="store_true")
    p.add_argument("--explain", nargs="+", choices=["off", "on"], default=["off"], help="dualuse score without / with --explain")
    p.add_argument("--reference", default=None, help="a checkout whose code also runs dualuse score (explain off)")
    p.add_argument("--rounds", type=int, default=1, help="repeat the dualuse score runs, variants alternating")
    args = p.parse_args(argv)
    reference = Path(args.reference).resolve() if args.reference else None

    info = machine()
    print(
        f"machine: {info['cores']} cores ({info['affinity']} usable), {info['cpu']}, {info['memory_gib']} GiB RAM, "
        f"Python {info['python']}, pandas {info['pandas']}, load {info['load_before']:.2f}",
        flush=True,
    )
    engines = args.engine
    if engines is None:
        from importlib import resources

        have_model = resources.files("dualuse").joinpath("data/model/manifest.json").is_file()
        engines = ["keyword"] + (["default"] if have_model else [])
    work = Path(args.workdir or tempfile.mkdtemp(prefix="dualuse-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    frame_csv = work / f"records_{args.frame_rows}_clean.csv"
    file_csv = work / f"records_{args.file_rows}.csv"
    for path, n, broken in ((frame_csv, args.frame_rows, False), (file_csv, args.file_rows, True)):
        if not path.exists():
            print(f"generating {n:,} rows -> {path.name}", flush=True)
            write_csv(path, n, seed=7, broken=broken)

    results = []
    for eng in engines:
        if not args.skip_frame:
            frame_cmd = [sys.executable, "-c", _FRAME_SNIPPET.format(engine=_ENGINE_SNIPPET[eng]), str(frame_csv)]
            r = measure_twice(frame_cmd)
            if r["returncode"] != 0:
                print(r["stderr"], file=sys.stderr)
                return 1
            inner = json.loads(r["stdout"].strip().splitlines()[-1])
            row = {
                "engine": eng,
                "what": "score_frame (in memory)",
                "command": f"score_frame(df, 'description', hs_column='hs_code')  # {eng} engine",
                "rows": inner["rows"],
                "seconds": inner["seconds"],
                "rate": inner["rows"] / inner["seconds"],
                "single": r["max_single_rss"],
                "tree_rss": r["tree_rss"],
                "tree_pss": r["tree_pss"],
                "check": "same length and index",
            }
            results.append(row)
            print(
                f"[{eng}] score_frame {row['rows']:,} rows: {row['seconds']:.1f} s, {row['rate']:,.0f} rows/s, "
                f"peak RSS {_gib(row['single'])}",
                flush=True,
            )
        variants = [(None, mode) for mode in args.explain]
        if reference is not None:
            variants.insert(0, (reference, "off"))
        for jobs, _, (ref, mode) in itertools.product(args.jobs, range(args.rounds), variants):
            out_csv = work / f"scored_{eng}_{jobs}.csv"
            cli = [
                "score",
                str(file_csv),
                "-o",
                str(out_csv),
                "--text-column",
                "description",
                "--hs-column",
                "hs_code",
                "--jobs",
                str(jobs),
                "--chunk-size",
                str(args.chunk_size),
                "--progress",
                "never",
                *(["--explain"] if mode == "on" else []),
            ]
            if eng == "default":
                cmd = [sys.executable, "-m", "dualuse.cli", *cli]
            else:
                cmd = [sys.executable, "-c", _CLI_SNIPPET.format(engine=_ENGINE_SNIPPET[eng]), *cli]
            r = measure_twice(cmd, cwd=ref or ROOT)
            if r["returncode"] not in (0, 1):
                print(r["stderr"], file=sys.stderr)
                return 1
            ok, msg, statuses = check_output(out_csv, args.file_rows)
            row = {
                "engine": eng + (" (reference checkout)" if ref else ""),
                "what": "dualuse score (end to end)",
                "command": "dualuse score records.csv -o scored.csv --text-column description --hs-column hs_code "
                f"--jobs {jobs}"
                + (" --explain" if mode == "on" else "")
                + ("" if eng == "default" else f"  # {eng} engine via set_default_engine"),
                "rows": args.file_rows,
                "seconds": r["seconds"],
                "rate": args.file_rows / r["seconds"],
                "single": r["max_single_rss"],
                "tree_rss": r["tree_rss"],
                "tree_pss": r["tree_pss"],
                "check": ("OK: " if ok else "FAILED: ") + msg,
                "statuses": statuses,
                "exit": r["returncode"],
            }
            results.append(row)
            print(
                f"[{row['engine']}] dualuse score --jobs {jobs} explain {mode}: {row['rows']:,} rows in {row['seconds']:.1f} s = "
                f"{row['rate']:,.0f} rows/s; peak RSS single {_gib(row['single'])}, tree RSS {_gib(row['tree_rss'])}, "
                f"tree PSS {_gib(row['tree_pss'])}; exit {row['exit']}; {row['check']}",
                flush=True,
            )
            out_csv.unlink()
    write_results(Path(args.results), info, results, args)
    print(f"results written to {args.results}")
    return 0


def write_results(path: Path, info: dict, results: list[dict], args: argparse.Namespace) -> None:
    """Append this run's section to ``path`` (the file keeps the history of runs)."""
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    head = [
        "# Batch scoring benchmark",
        "",
        "Generated by `python benchmarks/bench_scoring.py` (see its docstring); each run appends a section. "
        "Input: `benchmarks/generate_records.py` rows (seed 7; mixed families, Russian/Chinese lines, part "
        "numbers, empty texts, empty and invalid HS codes, stray quotes, and ~0.05% lines with a wrong field "
        "count).",
        "",
        "Engines: *keyword* = packaged taxonomy without a model (`Engine(default_taxonomy(), model=None)`); "
        "*default* = `dualuse.default_engine()` (embedded model); *io-only* = an engine that screens nothing "
        "(every row `empty_text`), to measure reading, parsing, chunking and writing alone.",
        "",
        "Peak memory: *single* = largest single process (`ru_maxrss` from `os.wait4`); *tree RSS / PSS* = "
        "main process + workers summed, sampled every 50 ms (PSS counts pages shared after fork once). "
        "From the 2026-11-29 12:20 run on, each measurement runs twice: the time comes from a run without "
        "the /proc sampler (which costs CPU on 2 cores), the tree memory from a second identical run with it.",
        "",
        "Targets (issue acceptance): `dualuse score` on 1,000,000 CSV rows with peak RSS under 1 GiB and at "
        "least 20,000 rows/s end to end on a 2-core machine; output exactly 1,000,000 rows in input order.",
        "",
    ]
    lines = [
        f"## Run of {now}",
        "",
        f"- machine: {info['cores']} cores ({info['affinity']} usable), {info['cpu']}, {info['memory_gib']} GiB RAM",
        f"- software: Python {info['python']}, pandas {info['pandas']}, dualuse {info['dualuse']}",
        f"- load average before the run: {info['load_before']:.2f} (other jobs on the machine slow every figure)",
        f"- chunk size: {args.chunk_size:,} rows",
        "",
        "| date | machine | engine | command | rows | seconds | rows/s | peak RSS single | peak tree RSS / PSS | output check |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    mach = f"{info['cores']}-core {info['cpu']}"
    for r in results:
        lines.append(
            f"| {now[:10]} | {mach} | {r['engine']} | `{r['command']}` | {r['rows']:,} | {r['seconds']:.1f} | "
            f"{r['rate']:,.0f} | {_gib(r['single'])} | {_gib(r['tree_rss'])} / {_gib(r['tree_pss'])} | {r['check']} |"
        )
    for r in results:
        if r.get("statuses"):
            lines += [
                "",
                f"Statuses in the scored {r['rows']:,}-row output ({r['engine']}, --jobs from the command): "
                + ", ".join(f"{k} {v:,}" for k, v in sorted(r["statuses"].items())),
            ]
            break
    lines.append("")
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    if not existing.startswith("# Batch scoring benchmark"):
        existing = "\n".join(head)
    path.write_text(existing.rstrip("\n") + "\n\n" + "\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
