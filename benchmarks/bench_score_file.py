"""``dualuse score --jobs N`` on a file of all-distinct rows, beside a reference checkout, with the
peak memory of the whole process tree.

    python benchmarks/bench_score_file.py --rows 1000000 --jobs 2 --reference REFERENCE_CHECKOUT

The input comes from ``benchmarks/generate_records.py --distinct`` (no two non-blank
descriptions alike, so a memo of repeated descriptions cannot flatter the figure). Each tree
scores the same file in a fresh ``python -m dualuse score`` process with that tree first on
``sys.path``, this checkout and the reference in alternation (``--repeats``), and the median
wall time is reported. Memory: every 50 ms the resident set size (RSS) of the process and of
all its descendants (the worker pool) is summed; the peak of that sum is the figure.
RSS counts pages shared between the parent and forked workers once per process, so it
overstates the tree's real footprint: an upper bound. Results are printed and, with
``--json``, written as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from generate_records import write_csv


def tree_rss(proc: psutil.Process) -> int:
    """RSS of a process and all its descendants, in bytes (processes that vanish count 0)."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def score_once(tree: Path, source: Path, jobs: int, workdir: Path) -> dict[str, float]:
    """Wall time and peak tree RSS of one ``dualuse score`` run of ``tree`` on ``source``."""
    out = workdir / "scored.csv"
    cmd = [sys.executable, "-m", "dualuse", "score", str(source), "-o", str(out), "--text-column", "description"]
    cmd += ["--hs-column", "hs_code", "--jobs", str(jobs), "--progress", "never"]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    watched = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(watched))
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    if proc.returncode not in (0, 1):  # 1: rows with a status other than ok (empty descriptions)
        raise RuntimeError(f"{tree}: exit {proc.returncode}: {err[-2000:]}")
    with open(out, "rb") as fh:
        rows = sum(1 for _ in fh) - 1
    return {"seconds": elapsed, "peak_tree_rss_mib": peak / 2**20, "rows_out": rows}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--reference", default=None, help="a checkout of an older commit (git worktree)")
    p.add_argument("--input", default=None, help="score this file instead of generating one")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    trees = {"this": ROOT}
    if args.reference:
        trees["reference"] = Path(args.reference).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(args.input) if args.input else write_csv(Path(tmp) / "distinct.csv", args.rows, args.seed, False, True)
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
        for _ in range(args.repeats):
            for name, tree in trees.items():
                runs[name].append(score_once(tree, source, args.jobs, Path(tmp)))
                print(name, runs[name][-1], file=sys.stderr)
    table = {}
    for name, got in runs.items():
        seconds = statistics.median(r["seconds"] for r in got)
        table[name] = {
            "seconds": seconds,
            "rows_per_s": got[0]["rows_out"] / seconds,
            "peak_tree_rss_mib": max(r["peak_tree_rss_mib"] for r in got),
        }
    if "reference" in table:
        table["speed_up"] = table["reference"]["seconds"] / table["this"]["seconds"]  # type: ignore[assignment]
    print(json.dumps(table, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": args.rows, "jobs": args.jobs, "table": table}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
