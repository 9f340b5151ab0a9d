"""``score_frame`` rows/s with ``explain`` off and on, side by side in one process.

    python benchmarks/generate_records.py 100000 -o records.csv --no-broken
    python benchmarks/explain_speed.py records.csv [--rounds 3]

The default engine (embedded model) is loaded and warmed once; then the runs alternate
off / on for ``--rounds`` rounds, so both settings see the same machine load and the same
warm screening memo. Prints one Markdown table row per run and the median of each setting.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import pandas as pd

import dualuse
from dualuse.batch import score_frame


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("records")
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    df = pd.read_csv(args.records, dtype=str, keep_default_na=False)
    engine = dualuse.default_engine()
    score_frame(df.head(2_000), "description", hs_column="hs_code", engine=engine, explain=True)  # load and warm up
    rates: dict[bool, list[float]] = {False: [], True: []}
    print(f"{len(df):,} rows; Python {platform.python_version()}, pandas {pd.__version__}, dualuse {dualuse.__version__}")
    print("| round | explain | seconds | rows/s |\n|---:|---|---:|---:|")
    for r in range(1, args.rounds + 1):
        for explain in (False, True):
            start = time.perf_counter()
            out = score_frame(df, "description", hs_column="hs_code", engine=engine, explain=explain)
            seconds = time.perf_counter() - start
            assert len(out) == len(df)
            rates[explain].append(len(df) / seconds)
            print(f"| {r} | {'on' if explain else 'off'} | {seconds:.2f} | {len(df) / seconds:,.0f} |", flush=True)
    off, on = statistics.median(rates[False]), statistics.median(rates[True])
    print(f"\nmedian rows/s: explain off {off:,.0f}, explain on {on:,.0f} ({on / off:.2f}x)")


if __name__ == "__main__":
    main()
