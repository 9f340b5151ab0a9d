"""Check that the keyword matcher gives exactly what the one at a git revision gave, and time both.

    python benchmarks/matcher_equivalence.py [--rev main] [--generated 5000] [--bench 100000]

The matcher of ``--rev`` is read with ``git show <rev>:dualuse/matcher.py`` and loaded as a
module of the installed package beside the current one, so both run in one process on the
same taxonomy. Every text of the repository's data files (corpus, evaluation, development,
blind and sample sets) and ``--generated`` hostile strings (leetspeak, CJK, Cyrillic,
separator runs, inverted "A, B" terms, long texts) go through both; any difference in
matches (spans, kinds, terms, weights), exclusions or family scores is printed and the
script exits with status 1. The texts are only passed through the two matchers: nothing
here looks at their labels or tunes anything on them.

``--bench N`` then times ``match_normalized`` on N all-distinct lines (corpus, development
and generated trade records), old and new interleaved in chunks so that load on the machine
falls on both alike, and prints rows/s and the ratio; it also times building each matcher.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import random
import subprocess
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dualuse.matcher import KeywordMatcher, MatchResult
from dualuse.normalize import normalize
from dualuse.taxonomy import Taxonomy, load_taxonomy

DATA_FILES = [
    "data/corpus/nomenclature.csv",
    "data/eval/*.csv",
    "data/dev/*.tsv",
    "data/blind/*.tsv",
    "data/sample/trade_records.csv",
]
TEXT_COLUMNS = ("text", "description")


def load_old_matcher(rev: str) -> types.ModuleType:
    """The matcher module as it is at ``rev``, importable beside the current one."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{rev}:dualuse/matcher.py"], capture_output=True, text=True, check=True
    ).stdout
    module = types.ModuleType("dualuse._matcher_at_rev")
    module.__package__ = "dualuse"  # its relative imports resolve to the current package
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{rev}:dualuse/matcher.py", "exec"), module.__dict__)
    return module


def data_texts() -> list[str]:
    """Every description in the repository's data files, in file order."""
    texts: list[str] = []
    for pattern in DATA_FILES:
        for path in sorted(ROOT.glob(pattern)):
            with path.open(newline="", encoding="utf-8") as f:
                reader = csv.DictReader(f, delimiter="\t" if path.suffix == ".tsv" else ",")
                column = next(c for c in TEXT_COLUMNS if c in (reader.fieldnames or ()))
                texts.extend(row[column] or "" for row in reader)
    return texts


_SEPARATORS = [" ", "-", "  ", "_", "/", ".", " - ", "\t", "", "--"]
_LEET = {"a": "4@", "e": "3", "i": "1", "l": "1", "o": "0", "s": "5$", "t": "7"}
_NOISE = [
    "CNC",
    "lathe",
    "станок",
    "станка",
    "数控",
    "芯片",
    "FPGA",
    "STM32F407VGT6",
    "XC7Z020-1CLG400C",
    "3-9x40",
    "BT40",
    "16К20",
    "ｃｎｃ",
    "C.N.C.",
    "f p g a",
    "wood",
    "for",
    "with",
    "potato",
    "chips",
    "tripod",
    "of",
    "(",
    ")",
    ",",
    ";",
    "|",
    "x",
    "10 mm",
    "HS 8542.31",
    "VMC-850",
    "Ø",
    "µm",
    "ß",
    "ǅ",
    "İ",
    "ſ",
    "K",
    "\u200b",
    "\u00ad",
]


def generated_texts(taxonomy: Taxonomy, n: int, seed: int) -> list[str]:
    """Hostile and mixed strings built from the taxonomy's own terms, phrases and patterns."""
    rng = random.Random(seed)
    words = [e.text for e in taxonomy.term_entries()]
    words += [p for ex in taxonomy.exclusions for _, p in ex.phrases.items()]
    out: list[str] = []

    def mangle(term: str) -> str:
        r = rng.random()
        if r < 0.25:  # separators inside and between the parts
            return rng.choice(_SEPARATORS).join(term.split()) if " " in term else rng.choice(_SEPARATORS).join(term)
        if r < 0.45:  # leetspeak
            return "".join(rng.choice(_LEET[c]) if c in _LEET and rng.random() < 0.4 else c for c in term)
        if r < 0.55:  # plural or a Cyrillic ending, or a letter glued on
            return term + rng.choice(["s", "es", "а", "ов", "ами", "x", "1", "ss", "ies"])
        if r < 0.65:
            return term.upper() if rng.random() < 0.5 else term.title()
        if r < 0.7:  # cut short
            return term[: max(1, len(term) - rng.randint(1, 3))]
        return term

    for i in range(n):
        parts = [mangle(rng.choice(words)) if rng.random() < 0.6 else rng.choice(_NOISE) for _ in range(rng.randint(1, 7))]
        joiner = rng.choice([" ", ", ", "", " for ", " with ", "-", "/", "\u3000"])
        text = joiner.join(parts)
        if i % 10 == 0:  # the inverted "head, modifier" and "head (modifier)" forms
            a, b = rng.choice(words), rng.choice(words)
            text = f"{a}, {b}" if rng.random() < 0.5 else f"{a} ({b})"
        if i % 250 == 0:  # long texts
            text = " ".join(text for _ in range(rng.randint(20, 80)))
        out.append(text)
    return out


def as_data(result: MatchResult) -> tuple:
    """A result as plain tuples, so results of the two modules' dataclasses compare."""
    return (
        tuple(dataclasses.astuple(m) for m in result.matches),
        tuple(dataclasses.astuple(x) for x in result.exclusions),
        tuple(sorted(result.family_scores.items())),
    )


def check(old: object, new: KeywordMatcher, texts: list[str]) -> int:
    """Match every text with both matchers; print and count the differences."""
    differences = 0
    for text in texts:
        a, b = as_data(old.match(text)), as_data(new.match(text))  # type: ignore[attr-defined]
        if a != b:
            differences += 1
            if differences <= 10:
                print(f"DIFFERENT: {text!r}\n  old: {a}\n  new: {b}")
    return differences


def bench_lines(n: int) -> list[str]:
    """``n`` all-distinct lines: corpus and development texts, then generated trade records."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from generate_records import generate

    seen = dict.fromkeys(t for t in data_texts()[:40_000] if t.strip())
    for record in generate(20 * n, seed=11, broken=False):
        if len(seen) >= n:
            break
        if record[1].strip():  # type: ignore[index]
            seen.setdefault(record[1], None)  # type: ignore[index]
    return list(seen)[:n]


def bench(old: object, new: KeywordMatcher, n: int) -> None:
    """Rows/s of ``match_normalized`` for both matchers, interleaved in chunks."""
    lines = bench_lines(n)
    norms = [(normalize(t), t) for t in lines]
    times = {"old": 0.0, "new": 0.0}
    chunk = 5_000
    for i in range(0, len(norms), chunk):
        part = norms[i : i + chunk]
        for name, matcher in (("old", old), ("new", new)) if (i // chunk) % 2 == 0 else (("new", new), ("old", old)):
            t0 = time.perf_counter()
            for norm, text in part:
                matcher.match_normalized(norm, text)  # type: ignore[attr-defined]
            times[name] += time.perf_counter() - t0
    rows = len(norms)
    print(
        f"match_normalized on {rows:,} distinct lines: old {rows / times['old']:,.0f} rows/s, "
        f"new {rows / times['new']:,.0f} rows/s, new/old {times['old'] / times['new']:.1f}x"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the equality check (and the timing with ``--bench``); 1 when any text differs."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rev", default="main", help="git revision of the reference matcher (default: main)")
    parser.add_argument("--generated", type=int, default=5000, help="number of generated hostile strings")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--bench", type=int, default=0, metavar="N", help="also time both on N distinct lines")
    args = parser.parse_args(argv)

    module = load_old_matcher(args.rev)
    taxonomy = load_taxonomy()
    # the first build of the old matcher pays for compiling its regexes; later builds in the
    # same process hit the re module's cache, so only the first of each is a cold build
    t0 = time.perf_counter()
    old = module.KeywordMatcher(taxonomy)
    t1 = time.perf_counter()
    new = KeywordMatcher(taxonomy)
    t2 = time.perf_counter()
    print(f"build (first in this process): old {1000 * (t1 - t0):.0f} ms, new {1000 * (t2 - t1):.0f} ms")

    texts = data_texts()
    n_data = len(texts)
    texts += generated_texts(taxonomy, args.generated, args.seed)
    differences = check(old, new, texts)
    print(
        f"checked {len(texts):,} texts ({n_data:,} from data files, {len(texts) - n_data:,} generated) "
        f"against {args.rev}: {differences} different"
    )
    if args.bench:
        bench(old, new, args.bench)
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
