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
overstates the tree's real footprint: an upper bound. Where the system reports it (Linux),
the proportional set size (PSS: a shared page split between the processes sharing it) is
summed as well, which is the tree's real footprint. Results go to
``benchmarks/results_score_file.md`` (``--results``) and, with ``--json``, to a JSON file.
"""

from __future__ import annotations

import argparse
import datetime as dt
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
from machine_probe import cpu_model

RESULTS = HERE / "results_score_file.md"


def tree_memory(proc: psutil.Process) -> tuple[int, int]:
    """RSS and PSS (0 where not reported) of a process and all its descendants, in bytes."""
    rss = pss = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            info = p.memory_full_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        rss += info.rss
        pss += getattr(info, "pss", 0)
    return rss, pss


def score_once(tree: Path, source: Path, jobs: int, workdir: Path) -> dict[str, float]:
    """Wall time and peak tree RSS of one ``dualuse score`` run of ``tree`` on ``source``."""
    out = workdir / "scored.csv"
    cmd = [sys.executable, "-m", "dualuse", "score", str(source), "-o", str(out), "--text-column", "description"]
    cmd += ["--hs-column", "hs_code", "--jobs", str(jobs), "--progress", "never"]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    watched = psutil.Process(proc.pid)
    peak = peak_pss = 0
    while proc.poll() is None:
        rss, pss = tree_memory(watched)
        peak, peak_pss = max(peak, rss), max(peak_pss, pss)
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    if proc.returncode not in (0, 1):  # 1: rows with a status other than ok (empty descriptions)
        raise RuntimeError(f"{tree}: exit {proc.returncode}: {err[-2000:]}")
    with open(out, "rb") as fh:
        rows = sum(1 for _ in fh) - 1
    return {"seconds": elapsed, "peak_tree_rss_mib": peak / 2**20, "peak_tree_pss_mib": peak_pss / 2**20, "rows_out": rows}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--reference", default=None, help="a checkout of an older commit (git worktree)")
    p.add_argument("--input", default=None, help="score this file instead of generating one")
    p.add_argument("--json", default=None)
    p.add_argument("--results", default=str(RESULTS))
    args = p.parse_args(argv)
    load_before = os.getloadavg()[0]
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
            "peak_tree_pss_mib": max(r.get("peak_tree_pss_mib", 0.0) for r in got),
        }
    if "reference" in table:
        table["speed_up"] = table["reference"]["seconds"] / table["this"]["seconds"]  # type: ignore[assignment]
    print(json.dumps(table, indent=2))
    write_results(Path(args.results), args, table, load_before, trees)
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": args.rows, "jobs": args.jobs, "table": table}, indent=2) + "\n")
    return 0


def write_results(path: Path, args: argparse.Namespace, table: dict, load_before: float, trees: dict[str, Path]) -> None:
    shown = [f"--rows {args.rows}", f"--jobs {args.jobs}", f"--repeats {args.repeats}"]
    if "reference" in trees:
        shown.append("--reference REFERENCE_CHECKOUT")
        commit = subprocess.run(
            ["git", "-C", str(trees["reference"]), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    lines = [
        "# `dualuse score` on all-distinct rows (`benchmarks/bench_score_file.py`)",
        "",
        f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, {cpu_model()}, {os.cpu_count()} cores, "
        f"load average {load_before:.2f} before the run.",
        f"Command: `python benchmarks/bench_score_file.py {' '.join(shown)}`"
        + (f" (reference: a checkout of commit {commit})" if "reference" in trees else "")
        + f". {args.rows:,} rows from `generate_records.py --distinct` (no two non-blank descriptions alike), "
        f"`--jobs {args.jobs}`, median wall time of {args.repeats} alternating run(s); peak memory is the "
        "largest sum of the RSS of the process and its workers, sampled every 50 ms (an upper bound: "
        "pages shared by forked workers count once per process).",
        "",
        "| tree | seconds | rows/s | peak tree RSS, MiB | peak tree PSS, MiB |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in trees:
        row = table[name]
        lines.append(
            f"| {name} | {row['seconds']:.1f} | {row['rows_per_s']:,.0f} | {row['peak_tree_rss_mib']:,.0f} "
            f"| {row['peak_tree_pss_mib']:,.0f} |"
        )
    if "speed_up" in table:
        lines += ["", f"Speed-up (reference time over this checkout's): {table['speed_up']:.2f}x."]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
