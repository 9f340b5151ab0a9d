"""Speed of every caller's path, as ratios to a reference checkout measured in the same run.

    python benchmarks/bench_speed.py --reference ../dualuse-0.1     # a worktree of an older commit
    python benchmarks/bench_speed.py                                  # this checkout alone

The machine is shared and noisy, so absolute figures drift by 15-25% between runs; what this
script reports is each figure of this checkout beside the same figure of ``--reference``
(e.g. ``git worktree add ../dualuse-0.1 da5586a``), measured in alternation (this, reference,
this, reference, ...) in fresh processes, medians over ``--repeats``. Inputs are as users have
them, all-distinct lines first (a memo of repeated descriptions would flatter the figure),
then a realistic file in which descriptions repeat:

* cold start: a fresh process that imports dualuse and classifies one line;
* ``classify`` warm, one line at a time: p50 and p99 over ``--single`` distinct lines;
* ``classify_batch`` on ``--batch`` distinct lines;
* ``score_frame`` on ``--frame`` distinct lines, and on a generated file's descriptions as they
  come (``benchmarks/generate_records.py``: most descriptions repeat);
* two floors measured on the same distinct lines in this checkout's environment: a plain
  scikit-learn pipeline (character 3-5 TF-IDF + logistic regression, trained on the corpus)
  and the compiled automaton alone (the taxonomy's folded terms scanned with ahocorasick-rs).

Results go to ``benchmarks/results_speed.md`` (and ``--json``).
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
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from generate_records import write_csv
from machine_probe import cpu_model

RESULTS = HERE / "results_speed.md"

# Each snippet runs in a fresh interpreter with the tree under test first on sys.path and
# prints one JSON object. LINES is the path of a file of lines, one per line.
_COLD = (
    "import time; t = time.perf_counter(); import dualuse; dualuse.classify('CNC lathe 16K20'); print(time.perf_counter() - t)"
)
_SINGLE = """
import json, sys, time
import dualuse
lines = open(sys.argv[1], encoding="utf-8").read().split("\\n")[: int(sys.argv[2])]
dualuse.classify("warm up")
times = []
for line in lines:
    t = time.perf_counter(); dualuse.classify(line); times.append(time.perf_counter() - t)
times.sort()
print(json.dumps({"p50_ms": 1e3 * times[len(times) // 2], "p99_ms": 1e3 * times[int(len(times) * 0.99)]}))
"""
_BATCH = """
import json, sys, time
import dualuse
lines = open(sys.argv[1], encoding="utf-8").read().split("\\n")[: int(sys.argv[2])]
dualuse.classify("warm up")
t = time.perf_counter(); dualuse.classify_batch(lines); dt = time.perf_counter() - t
print(json.dumps({"rows_per_s": len(lines) / dt}))
"""
_FRAME = """
import json, sys, time
import pandas as pd
import dualuse
from dualuse.batch import score_frame
lines = open(sys.argv[1], encoding="utf-8").read().split("\\n")[: int(sys.argv[2])]
frame = pd.DataFrame({"description": lines})
dualuse.classify("warm up")
t = time.perf_counter(); score_frame(frame, "description"); dt = time.perf_counter() - t
print(json.dumps({"rows_per_s": len(lines) / dt}))
"""
_SKLEARN_FLOOR = """
import json, sys, time
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
corpus = pd.read_csv(sys.argv[3], dtype=str, keep_default_na=False)
pipe = make_pipeline(TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2, max_features=300_000, sublinear_tf=True),
                     LogisticRegression(max_iter=300))
pipe.fit(corpus["text"], corpus["label"])
lines = open(sys.argv[1], encoding="utf-8").read().split("\\n")[: int(sys.argv[2])]
t = time.perf_counter(); pipe.predict_proba(lines); dt = time.perf_counter() - t
print(json.dumps({"rows_per_s": len(lines) / dt}))
"""
_AUTOMATON_FLOOR = """
import json, sys, time
import ahocorasick_rs
from dualuse.normalize import fold, term_key
from dualuse.taxonomy import default_taxonomy
tax = default_taxonomy()
keys = sorted({term_key(t.text) for t in tax.term_entries()} - {""})
automaton = ahocorasick_rs.AhoCorasick(keys)
lines = open(sys.argv[1], encoding="utf-8").read().split("\\n")[: int(sys.argv[2])]
folded = [fold(line) for line in lines]  # folding is the engine's first step; the floor is the scan
t = time.perf_counter()
for text in folded:
    automaton.find_matches_as_indexes(text, overlapping=True)
dt = time.perf_counter() - t
print(json.dumps({"rows_per_s": len(lines) / dt}))
"""


def run(tree: Path, code: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=tree, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{tree}: {out.stderr[-2000:]}")
    return out.stdout.strip().splitlines()[-1]


def distinct_lines(n: int, workdir: Path, seed: int) -> tuple[Path, Path]:
    """``n`` distinct descriptions from generated trade records, and the generated file itself."""
    records = workdir / "records.csv"
    rows = max(200_000, n * 6)
    write_csv(records, rows, seed=seed, broken=False)
    import csv

    seen: dict[str, None] = {}
    every: list[str] = []
    with open(records, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            text = row["description"].replace("\n", " ").strip()
            if text:
                every.append(text)
                seen.setdefault(text, None)
    if len(seen) < n:  # the generator repeats itself: vary the quantity as invoices do
        for i, text in enumerate(every):
            if len(seen) >= n:
                break
            seen.setdefault(f"{text}, qty {i % 997 + 2}", None)
    path = workdir / "distinct.txt"
    path.write_text("\n".join(list(seen)[:n]), encoding="utf-8")
    repeats = workdir / "as_generated.txt"
    repeats.write_text("\n".join(every[:n]), encoding="utf-8")
    return path, repeats


def _commit_of(tree: Path) -> str:
    """The reference checkout's commit, which says what it is without naming a local path."""
    out = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    return out.stdout.strip() or "unknown commit"


def _public_command(args: list[str]) -> str:
    """The command as run, with local paths (the reference checkout, the JSON output) as placeholders."""
    shown, placeholder = [], {"--reference": "REFERENCE_CHECKOUT", "--json": "OUT.json", "--results": "OUT.md"}
    waiting = None
    for arg in args:
        shown.append(placeholder[waiting] if waiting else arg)
        waiting = arg if arg in placeholder else None
    return " ".join(["python benchmarks/bench_speed.py", *shown])


def alternate(trees: dict[str, Path], repeats: int, code: str, *args: str) -> dict[str, list]:
    results: dict[str, list] = {name: [] for name in trees}
    for _ in range(repeats):
        for name, tree in trees.items():
            results[name].append(json.loads(run(tree, code, *args)))
    return results


def median_of(runs: list, key: str | None = None) -> float:
    values = [r[key] if key else r for r in runs]
    return statistics.median(values)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reference", default=None, help="a checkout of an older commit to compare with (git worktree)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--single", type=int, default=2000)
    p.add_argument("--batch", type=int, default=10_000)
    p.add_argument("--frame", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--results", default=str(RESULTS))
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    trees = {"this": ROOT}
    if args.reference:
        trees["reference"] = Path(args.reference).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        distinct, as_generated = distinct_lines(args.frame, Path(tmp), args.seed)
        table: dict[str, dict[str, float]] = {}
        cold = alternate(trees, max(args.repeats, 5), _COLD)
        table["cold start (import + first classify), s"] = {k: median_of([float(x) for x in v]) for k, v in cold.items()}
        single = alternate(trees, args.repeats, _SINGLE, str(distinct), str(args.single))
        table["classify p50, ms (distinct)"] = {k: median_of(v, "p50_ms") for k, v in single.items()}
        table["classify p99, ms (distinct)"] = {k: median_of(v, "p99_ms") for k, v in single.items()}
        batch = alternate(trees, args.repeats, _BATCH, str(distinct), str(args.batch))
        table[f"classify_batch rows/s ({args.batch:,} distinct)"] = {k: median_of(v, "rows_per_s") for k, v in batch.items()}
        frame = alternate(trees, args.repeats, _FRAME, str(distinct), str(args.frame))
        table[f"score_frame rows/s ({args.frame:,} distinct)"] = {k: median_of(v, "rows_per_s") for k, v in frame.items()}
        frame_rep = alternate(trees, args.repeats, _FRAME, str(as_generated), str(args.frame))
        table[f"score_frame rows/s ({args.frame:,} as generated, descriptions repeat)"] = {
            k: median_of(v, "rows_per_s") for k, v in frame_rep.items()
        }
        floors = {
            "plain scikit-learn char TF-IDF + LR, rows/s (distinct)": _SKLEARN_FLOOR,
            "compiled automaton scan alone, rows/s (distinct)": _AUTOMATON_FLOOR,
        }
        for label, code in floors.items():
            runs = [
                json.loads(run(ROOT, code, str(distinct), str(args.frame), str(ROOT / "data" / "corpus" / "nomenclature.csv")))
                for _ in range(max(1, args.repeats // 3))
            ]  # a floor, not a ratio: one run is enough
            table[label] = {"this": median_of(runs, "rows_per_s")}
    info = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "load_before": os.getloadavg()[0],
        "command": _public_command(argv if argv is not None else sys.argv[1:]),
        "reference": _commit_of(trees["reference"]) if "reference" in trees else None,
    }
    write_results(Path(args.results), info, table, "reference" in trees)
    if args.json:
        Path(args.json).write_text(json.dumps({"info": info, "table": table}, indent=2) + "\n")
    print(Path(args.results).read_text())
    return 0


def write_results(path: Path, info: dict, table: dict[str, dict[str, float]], with_reference: bool) -> None:
    lines = [
        "# Speed of every caller's path (`benchmarks/bench_speed.py`)",
        "",
        f"{info['date']}, {info['cpu']}, {info['cores']} cores, load average {info['load_before']:.2f} before the run.",
        f"Command: `{info['command']}`"
        + (f" (reference: a checkout of commit {info['reference']})" if info.get("reference") else "")
        + ". Medians of alternating runs in fresh processes; the ratio is this "
        "checkout's figure over the reference's (for times, reference over this: higher is faster).",
        "",
        "| measure | this checkout | reference | speed-up |" if with_reference else "| measure | this checkout |",
        "|---|---:|---:|---:|" if with_reference else "|---|---:|",
    ]
    frame_this = next(v["this"] for k, v in table.items() if k.startswith("score_frame") and "distinct" in k)
    for name, values in table.items():
        this = values["this"]
        fmt = f"{this:,.0f}" if this >= 100 else f"{this:.3f}"
        if with_reference and "reference" in values:
            ref = values["reference"]
            ratio = ref / this if ("ms" in name or ", s" in name) else this / ref
            rfmt = f"{ref:,.0f}" if ref >= 100 else f"{ref:.3f}"
            lines.append(f"| {name} | {fmt} | {rfmt} | {ratio:.2f}x |")
        elif with_reference:
            lines.append(f"| {name} | {fmt} | - | score_frame is {frame_this / this:.2f}x this |")
        else:
            lines.append(f"| {name} | {fmt} |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
