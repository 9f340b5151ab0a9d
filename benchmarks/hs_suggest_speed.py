#!/usr/bin/env python
"""What HS-6 suggestions cost: the same engine with and without its index, side by side.

    python benchmarks/hs_suggest_speed.py [--frame 20000] [--single 300] [--repeats 3]

On ``--frame`` distinct generated trade lines (``bench_speed.distinct_lines``: no memo can
flatter the figure), in one process, alternating the two engines ``--repeats`` times:
``score_frame`` time and ``classify`` p50 over ``--single`` lines. Cold start (a fresh
interpreter: import, build the default engine, classify one line) is measured in subprocesses,
alternating too. Reported as ratios (with / without), which hold on a noisy shared machine
where absolute times do not.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_speed import distinct_lines

from dualuse import classify, score_frame
from dualuse.defaults import default_model, default_taxonomy
from dualuse.engine import Engine
from dualuse.hs_index import HSIndex

_COLD = (
    "import time; t = time.perf_counter(); import dualuse; from dualuse.defaults import default_model, default_taxonomy;"
    "from dualuse.engine import Engine; from dualuse.hs_index import HSIndex;"
    "e = Engine(default_taxonomy(), default_model(), hs_index={index});"
    "dualuse.classify('CNC horizontal lathe for metal', engine=e); print(time.perf_counter() - t)"
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frame", type=int, default=20_000)
    ap.add_argument("--single", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path, _ = distinct_lines(args.frame, Path(tmp), args.seed)
        lines = path.read_text(encoding="utf-8").split("\n")
    model, taxonomy = default_model(), default_taxonomy()
    engines = {"without": Engine(taxonomy, model), "with": Engine(taxonomy, model, hs_index=HSIndex().load())}
    frame_s: dict[str, list[float]] = {k: [] for k in engines}
    p50_ms: dict[str, list[float]] = {k: [] for k in engines}
    df = pd.DataFrame({"description": lines})
    for _ in range(args.repeats):
        for name, eng in engines.items():
            eng._memo = type(eng._memo)()  # a fresh memo: every line is new to the engine
            t = time.perf_counter()
            score_frame(df, "description", engine=eng)
            frame_s[name].append(time.perf_counter() - t)
            times = []
            for text in lines[: args.single]:
                t = time.perf_counter()
                classify(text, engine=eng)
                times.append((time.perf_counter() - t) * 1000)
            p50_ms[name].append(statistics.median(times))
    cold: dict[str, list[float]] = {"without": [], "with": []}
    for _ in range(args.repeats):
        for name, index in (("without", "None"), ("with", "HSIndex()")):
            out = subprocess.run([sys.executable, "-c", _COLD.format(index=index)], capture_output=True, text=True, check=True)
            cold[name].append(float(out.stdout.strip()))
    print(f"{args.frame:,} distinct lines, {args.repeats} alternating repeats (medians)")
    for label, table in (("score_frame s", frame_s), ("classify p50 ms", p50_ms), ("cold start s", cold)):
        w, wo = statistics.median(table["with"]), statistics.median(table["without"])
        print(f"{label:16s} without {wo:8.3f}   with {w:8.3f}   ratio {w / wo:5.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
