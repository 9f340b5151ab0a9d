"""Speed of the array scorer (format 2) against the scikit-learn pickle (format 1), one process.

Two measurements, old and new side by side so that machine load hits both alike:

- single text, warm: for 2,000 distinct folded texts, old = ``FittedModel.predict_proba([t])``
  then ``explain(t, category)`` (what ``dualuse.classify`` calls), new =
  ``LinearTextModel.features([t])``, ``predict_proba_features`` and ``top_features`` on the
  same matrix; old and new alternate text by text; p50 and p99 in microseconds;
- batch: ``predict_proba`` of 100,000 distinct lines in chunks of 10,000 (the engine's
  default chunk), old and new alternating chunk by chunk; rows per second.

The lines are the evaluation texts, each with a seeded random order code appended so that
every line is distinct and carries one word no cache has seen (the all-distinct case of
the lean scorer). Run from the repository root: ``python benchmarks/lean_model_speed.py``.
"""

from __future__ import annotations

import argparse
import random
import string
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's dualuse, not an installed one

from dualuse.categories import CATEGORIES
from dualuse.normalize import normalize
from dualuse.persistence import load_model as load_portable
from dualuse.training.legacy_pickle import load_pickle_model as load_pickle


def distinct_lines(count: int, seed: int) -> list[str]:
    """``count`` distinct folded lines: evaluation texts with a random order code each."""
    texts: list[str] = []
    for path in sorted((ROOT / "data" / "eval").glob("*.csv")):
        texts += pd.read_csv(path, dtype=str, keep_default_na=False)["text"].tolist()
    rng = random.Random(seed)
    alphabet = string.ascii_uppercase + string.digits
    lines = {f"{texts[i % len(texts)]} {''.join(rng.choices(alphabet, k=8))}" for i in range(count + count // 10)}
    return [normalize(t).text for t in sorted(lines)[:count]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--old",
        required=True,
        help="a format-1 (pickle) model directory, e.g. the 0.1.0 model: "
        "git show da5586a:dualuse/data/model/model.pkl > OLD/model.pkl (and manifest.json)",
    )
    parser.add_argument("--single", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    old = load_pickle(args.old)
    new = load_portable(ROOT / "dualuse" / "data" / "model")
    scorer = new.scorer

    def old_one(text: str) -> None:
        p = old.predict_proba([text])
        old.explain(text, CATEGORIES[int(p[0].argmax())])

    def new_one(text: str) -> None:
        X = scorer.features([text])
        p = scorer.predict_proba_features(X)
        scorer.top_features(X, [CATEGORIES[int(p[0].argmax())]])

    singles = distinct_lines(args.single, args.seed + 1)
    for text in singles[:200]:  # warm both (caches, first-call imports)
        old_one(text)
        new_one(text)
    times: dict[str, list[float]] = {"old": [], "new": []}
    for text in singles:
        for name, fn in (("old", old_one), ("new", new_one)):
            t0 = time.perf_counter()
            fn(text)
            times[name].append(time.perf_counter() - t0)
    stats = {k: (np.percentile(v, 50) * 1e6, np.percentile(v, 99) * 1e6) for k, v in times.items()}
    for k, (p50, p99) in stats.items():
        print(f"single {k}: p50 {p50:.0f} us, p99 {p99:.0f} us ({len(singles)} distinct texts)")
    print(f"single new/old: p50 {stats['new'][0] / stats['old'][0]:.3f}x, p99 {stats['new'][1] / stats['old'][1]:.3f}x")

    lines = distinct_lines(args.batch, args.seed)
    batch = {"old": old.predict_proba, "new": scorer.predict_proba}
    for fn in batch.values():  # warm
        fn(lines[: args.chunk])
    spent = {name: 0.0 for name in batch}
    ratios = []
    # chunk by chunk, old and new alternate (and swap who goes first), so a change in
    # machine load while the benchmark runs hits both alike
    for number, start in enumerate(range(0, len(lines), args.chunk)):
        chunk = lines[start : start + args.chunk]
        took = {}
        for name in ("old", "new") if number % 2 == 0 else ("new", "old"):
            t0 = time.perf_counter()
            batch[name](chunk)
            took[name] = time.perf_counter() - t0
            spent[name] += took[name]
        ratios.append(took["old"] / took["new"])
    for name, seconds in spent.items():
        print(f"batch {name}: {len(lines) / seconds:,.0f} rows/s ({len(lines):,} distinct lines, chunks of {args.chunk:,})")
    print(
        f"batch new/old throughput: {spent['old'] / spent['new']:.2f}x overall, "
        f"per-chunk median {np.median(ratios):.2f}x (min {min(ratios):.2f}, max {max(ratios):.2f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
