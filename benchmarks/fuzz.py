"""Fuzz ``classify`` / the matcher, the taxonomy loader (hypothesis) and file scoring.

Run (from the repository root)::

    python benchmarks/fuzz.py --minutes 4                # every target, time-boxed
    python benchmarks/fuzz.py --target taxonomy --examples 20000
    python benchmarks/fuzz.py --target files --seconds 300 --seed 1
    DUALUSE_HYPOTHESIS_PROFILE=fuzz python -m pytest tests/test_properties.py   # the property tests, 3000 examples each

Targets:

* ``classify``: any Unicode text (controls, invisible and bidi characters, combining marks,
  lone surrogates, homoglyphs, full-width, CJK, leetspeak, part numbers, long separator runs)
  through ``classify`` with the keyword-only default engine and the mini test taxonomy. It
  must return a well-formed result (spans slice out ``matched_text``, probabilities sum to
  1) or raise ``EmptyTextError`` for blank / invisible-only text; nothing else.
* ``taxonomy``: random and mutated TOML documents (byte flips, deletions, duplications and
  insertions of TOML and regex fragments into the mini taxonomy, plus generated documents
  with random fields and regexes) through ``load_taxonomy``. It must load or raise
  ``TaxonomyError``; any other exception is a finding. A loaded taxonomy is also compiled
  into a matcher and run on a short text (a pattern the loader accepted must not crash).

* ``files``: generated CSV / TSV / JSON Lines / Parquet files through ``score_file`` with the
  keyword-only engine: line ends mixed per line (``\n``, ``\r\n``, ``\r``), blank lines,
  random quoting of fields holding quotes, delimiters, CR, LF, U+2028, NUL; BOMs; bytes that
  are not UTF-8; overlong lines (the line limit is lowered to 4 KiB); JSON with NaN,
  infinities, lone surrogates, nesting up to 5,000 levels, invalid lines; Parquet ``binary``
  text and numeric HS codes. Read blocks as small as 1 byte put line ends across reads;
  chunk sizes 1-60, one worker or two (1 file in 10), any output format, formula guard on or
  off. Each file must score without an exception (a JSON Lines file without records is
  refused, as documented) and its output, read back with ``csv`` / ``json`` / pyarrow, must
  have exactly the generated number of rows with the ids in order (rows that are
  ``malformed_line`` have no id). The generator counts the rows it writes.

Findings are printed with the failing (shrunk) input; the run exits 1 when there is any.

Files, last run (2026-12-04): ``python benchmarks/fuzz.py --target files --seconds 300 --seed 1``:
22,784 files (1,103,785 rows, 2,173 files scored with two workers, 25,707 ``malformed_line``
and 34,891 ``undecodable_text`` rows; 1,143 empty JSON Lines files refused as documented) in
302 s, no finding. Its first runs found records cut into one row per line when a line inside
a quoted field was too long or the quoting broke across lines (fixed, tests in
tests/test_files_safety.py).

Last run (2026-11-29, after the regex-safety fixes): ``python benchmarks/fuzz.py --minutes 2``

* classify: 25,200 examples in 122 s, no finding;
* taxonomy: 22,200 documents in 122 s (1,063 loaded and were run through a matcher, the rest
  raised TaxonomyError), no finding.

Earlier run (``--minutes 4``, busy machine): classify 16,500 examples, nothing found; taxonomy
16,800 documents, one finding: ``re.compile`` emitted ``FutureWarning: Possible nested set``
for patterns such as ``[[a]x``, which escaped ``load_taxonomy`` under ``-W error``. Fixed:
the loader compiles with warnings as errors and reports a TaxonomyError
(``test_ambiguous_set_pattern_is_a_taxonomy_error`` in tests/test_hostile.py).

Found by review rather than by fuzzing, fixed and tested in tests/test_hostile.py: patterns
with alternation inside a repeat or several unbounded repeats in a row backtracked for hours
(now refused at load); a directory as the taxonomy path raised IsADirectoryError (now a
TaxonomyError).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 300  # examples per hypothesis run; runs repeat until the time box ends
MINI = ROOT / "tests" / "fixtures" / "mini_taxonomy.toml"

# ---------------------------------------------------------------------------- classify

SPECIAL = [
    "\x00",
    "\x1b",
    "\x7f",
    "\u200b",
    "\u200d",
    "\ufeff",
    "\u00ad",
    "\u202e",
    "\u2066",
    "\u0301",
    "\u0336",
    "\ud800",
    "\udfff",
    "С",
    "А",
    "Μ",
    "Η",
    "İ",
    "ß",
    "ﬁ",
    "ＦＰＧＡ",
    "车床",
    "станок",
    "C.N.C.",
    "F P G A",
    "lathe",
    "CNC",
    "FPGA",
    "microcontroller",
    "thermal imager",
    "m1crocontroller",
    "th3rmal 1mager",
    "b1nocu1ars",
    "STM32F407",
    "XC7Z020",
    "CK6150",
    "16K20",
    "BT40",
    "3-9x40",
    "potato chips",
    "for flour",
    " ",
    "-",
    ".",
    "/",
    "_",
    "5-",
    "c.n.",
    "a1",
    "@",
    "$",
]
piece = st.one_of(
    st.text(max_size=20),
    st.text(st.characters(codec=None), max_size=10),
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=2),
    st.text(alphabet="abcdeilmnorstCNFPGA0134579@$ .-_/", max_size=30),
    st.sampled_from(SPECIAL),
    st.builds(lambda s, n: s * n, st.sampled_from(SPECIAL), st.integers(1, 400)),
)
texts = st.lists(piece, max_size=12).map("".join)


def fuzz_classify(examples: int, seconds: float) -> list[str]:
    from dualuse.api import classify
    from dualuse.categories import CATEGORIES
    from dualuse.engine import Engine
    from dualuse.errors import EmptyTextError
    from dualuse.taxonomy import default_taxonomy, load_taxonomy

    engines = [Engine(default_taxonomy()), Engine(load_taxonomy(MINI))]
    findings: list[str] = []
    deadline = time.monotonic() + seconds

    count = [0]

    @settings(max_examples=CHUNK, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(text=texts, which=st.integers(0, len(engines) - 1))
    def run(text: str, which: int) -> None:
        count[0] += 1
        engine = engines[which]
        try:
            r = classify(text, engine=engine)
        except EmptyTextError:
            assert engine.score([text]).status[0] == "empty_text"
            return
        assert r.category in CATEGORIES
        assert math.isclose(sum(r.probabilities.values()), 1.0, abs_tol=1e-9)
        for e in r.matched_terms():
            assert 0 <= e.start < e.end <= len(text) and text[e.start : e.end] == e.matched_text
        assert classify(text, engine=engine) == r

    _loop(run, examples, deadline, count, findings)
    return findings


# ---------------------------------------------------------------------------- taxonomy

FRAGMENTS = [
    b"[[subcategory]]\n",
    b"[[exclusion]]\n",
    b'id = "a.b"\n',
    b'family = "optics"\n',
    b'family = "nope"\n',
    b'terms.en = ["x"]\n',
    b"terms.en = []\n",
    b'terms.en = ["\\u200b"]\n',
    b'regex = "(a+)+"\n',
    b'patterns = [{ id = "p", regex = "(a|aa)+b" }]\n',
    b'patterns = [{ id = "p", regex = "[" }]\n',
    b'scope = "text"\n',
    b"schema_version = 2\n",
    b'version = "x"\n',
    b"= = =\n",
    b'"""\n',
    b"'''\n",
    b"\x00",
    b"\xff\xfe",
    b"[a]\n[a]\n",
    b"x = 1e999\n",
    b"x = 99999999999999999999999\n",
    b"x = [[[[[[[[[[]]]]]]]]]]\n",
    b"x = {a = {b = {c = 1}}}\n",
    b"[[subcategory]]\n" * 50,
    b'terms.ru = ["\xd1\x81\xd1\x82"]\n',
    b"\r\n",
    b"\t",
]


@st.composite
def mutated_documents(draw) -> bytes:
    doc = bytearray(MINI.read_bytes())
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "delete", "insert", "duplicate", "truncate", "fragment"]))
        pos = draw(st.integers(0, max(0, len(doc) - 1)))
        if op == "flip" and doc:
            doc[pos] = draw(st.integers(0, 255))
        elif op == "delete":
            del doc[pos : pos + draw(st.integers(1, 40))]
        elif op == "insert":
            doc[pos:pos] = draw(st.binary(max_size=20))
        elif op == "duplicate":
            n = draw(st.integers(1, 200))
            doc[pos:pos] = doc[pos : pos + n]
        elif op == "truncate":
            del doc[pos:]
        else:
            doc[pos:pos] = draw(st.sampled_from(FRAGMENTS))
    return bytes(doc)


toml_scalar = st.one_of(st.text(max_size=20), st.integers(), st.booleans(), st.floats(allow_nan=False, allow_infinity=False))
regexes = st.one_of(st.from_regex(r"[a-z0-9\[\]\\d\(\)\|\+\*\?\{\},\-]{2,30}", fullmatch=True), st.text(max_size=30))


@st.composite
def generated_documents(draw) -> bytes:
    import json

    def q(value) -> str:
        return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value).lower()

    schema = draw(st.sampled_from(["1", "2", '"1"']))
    lines = [
        f"schema_version = {schema}",
        f"name = {q(draw(st.text(max_size=10)))}",
        f"version = {q(draw(st.sampled_from(['1.0.0', '0.1.0-rc.1', 'x', ''])))}",
    ]
    for _ in range(draw(st.integers(0, 4))):
        lines += [
            "[[subcategory]]",
            f"id = {q(draw(st.sampled_from(['a.one', 'b.two', 'a.one', 'Bad Id', ''])))}",
            f"family = {q(draw(st.sampled_from(['optics', 'machine_tools', 'microelectronics', 'none', 'x'])))}",
            f"label = {q(draw(st.text(max_size=10)))}",
            f"terms.en = [{', '.join(q(t) for t in draw(st.lists(st.text(max_size=12), max_size=4)))}]",
            f"patterns = [{', '.join('{ id = ' + q(f'p{j}') + ', regex = ' + q(r) + ' }' for j, r in enumerate(draw(st.lists(regexes, max_size=2))))}]",
        ]
        if draw(st.booleans()):
            lines.append(
                f"{draw(st.sampled_from(['colour', 'weak_terms.en', 'hs_prefixes', 'brands']))} = [{q(draw(toml_scalar))}]"
            )
    if draw(st.booleans()):
        lines += [
            "[[exclusion]]",
            'id = "e.one"',
            f"phrases.en = [{q(draw(st.text(max_size=12)))}]",
            f"families = [{q(draw(st.sampled_from(['optics', 'x'])))}]",
            f"scope = {q(draw(st.sampled_from(['text', 'overlap', 'all'])))}",
        ]
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")


def fuzz_taxonomy(examples: int, seconds: float) -> list[str]:
    from dualuse.errors import TaxonomyError
    from dualuse.matcher import KeywordMatcher
    from dualuse.taxonomy import load_taxonomy

    findings: list[str] = []
    deadline = time.monotonic() + seconds
    tmp = Path(tempfile.mkdtemp(prefix="dualuse-fuzz-"))
    path = tmp / "fuzz.toml"

    count = [0]

    @settings(max_examples=CHUNK, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(doc=st.one_of(mutated_documents(), generated_documents()))
    def run(doc: bytes) -> None:
        count[0] += 1
        path.write_bytes(doc)
        try:
            tax = load_taxonomy(path)
        except TaxonomyError:
            return
        loaded[0] += 1
        KeywordMatcher(tax).match("lens CNC x y stm32f4 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!")

    loaded = [0]
    _loop(run, examples, deadline, count, findings)
    print(f"  {loaded[0]:,} documents loaded (the rest raised TaxonomyError)")
    return findings


# ---------------------------------------------------------------------------- files

ENDINGS = ["\n", "\r\n", "\r"]
WORDS = [
    "CNC",
    "lathe",
    "FPGA",
    "XC7Z020",
    "lens",
    "binoculars",
    "cotton",
    "shirt",
    "spare",
    "parts",
    "8458.11",
    "станок",
    "车床",
    "ＦＰＧＡ",
    '27"',
    "monitor",
    "=1+1",
    "+44",
    "-12.5",
    "@SUM(A1)",
    "NA",
    "null",
    "",
    " ",
]
NASTY = ['"', ",", "\t", "\n", "\r", "\r\n", "\r\r\n", "\u2028", "\x85", "\x00", "\ufeff", "'", "\\", "{", "["]


def _value(rng) -> str:
    parts = []
    for _ in range(rng.randint(0, 8)):
        parts.append(rng.choice(NASTY) if rng.random() < 0.25 else rng.choice(WORDS))
    if rng.random() < 0.02:
        parts.append("x" * rng.randint(500, 6000))  # past the fuzz's line limit: one malformed row
    return " ".join(parts) if rng.random() < 0.5 else "".join(parts)


def _csv_field(value: str, delim: str, rng) -> str:
    if any(c in value for c in (delim, '"', "\r", "\n")) or (value and rng.random() < 0.2):
        return '"' + value.replace('"', '""') + '"'
    return value


def _text_file(rng, fmt: str, n: int) -> bytes:
    """A CSV / TSV / JSONL file of ``n`` records with mixed line ends, blank lines, odd bytes."""
    endings = ENDINGS if rng.random() < 0.5 else [rng.choice(ENDINGS)]
    out = bytearray(b"\xef\xbb\xbf" if rng.random() < 0.2 else b"")

    def end() -> bytes:
        return rng.choice(endings).encode()

    delim = "," if fmt == "csv" else "\t"
    if fmt != "jsonl":
        out += delim.join(["id", "description", "hs"]).encode() + end()
    for i in range(n):
        if rng.random() < 0.05:
            out += end()  # a blank line: not a record
        desc, hs = _value(rng), rng.choice(["8458.11", "", "84x", "9013.80", _value(rng)])
        if fmt == "jsonl" and i == 0:  # the first object names the columns: keep it readable
            desc, hs = "CNC lathe", "8458.11"
        if fmt == "jsonl":
            if i > 0 and rng.random() < 0.05:
                line = rng.choice(["{", "[1, 2]", "nul", '"text"', "[" * rng.randint(1, 5000)])  # malformed rows
            else:
                value: object = desc
                if rng.random() < 0.1:
                    value = rng.choice(
                        [
                            float("nan"),
                            float("inf"),
                            845811,
                            8458.11,
                            None,
                            True,
                            {"a": [desc] * 3},
                            "\ud800" + desc,
                            [[[[desc]]]],
                        ]
                    )
                nest = rng.choice([0, 0, 0, 2, 200])
                extra: object = desc
                for _ in range(nest):
                    extra = [extra]
                obj = {"id": f"r{i}", "description": value, "hs": hs if rng.random() < 0.8 else 845811, "x": extra}
                line = json.dumps(obj, ensure_ascii=rng.random() < 0.5)
            data = line.encode("utf-8", "surrogatepass")
        else:
            row = [f"r{i}", desc, hs]
            data = delim.join(_csv_field(v, delim, rng) for v in row).encode("utf-8")
        after_id = data.find(b'"description"') if fmt == "jsonl" else data.find(delim.encode()) + 1
        if i > 0 and after_id > 0 and rng.random() < 0.03:  # bytes that are not UTF-8 after the id
            # never next to a quote, so that the record keeps its structure (a byte before an
            # opening quote would make the quote literal for every CSV reader)
            spots = [k for k in range(after_id + 1, len(data)) if b'"' not in data[k - 1 : k + 1]]
            if spots:
                k = rng.choice(spots)
                data = data[:k] + rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xe2\x82"]) + data[k:]
        out += data
        if i < n - 1 or rng.random() < 0.8:
            out += end()
    return bytes(out)


def _parquet_file(rng, path: Path, n: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    ids = [f"r{i}" for i in range(n)]
    texts = [_value(rng) for _ in range(n)]
    if rng.random() < 0.5:
        desc = pa.array([t.encode("utf-8") if rng.random() < 0.9 else b"\xff\xfe" + t.encode() for t in texts], pa.binary())
    else:
        desc = pa.array([None if rng.random() < 0.05 else t for t in texts], pa.string())
    hs = rng.choice(
        [
            pa.array([rng.choice([845811, 854231, 9013]) for _ in range(n)], pa.int64()),
            pa.array([rng.choice([845811.0, 8458.11, float("nan")]) for _ in range(n)], pa.float64()),
            pa.array([rng.choice(["8458.11", "", None]) for _ in range(n)], pa.string()),
        ]
    )
    pq.write_table(pa.table({"id": ids, "description": desc, "hs": hs}), path)


def _count_output(path: Path, fmt: str) -> tuple[int, list[object], list[str]]:
    """Rows, ids and statuses of an output file, read back by other readers than dualuse's."""
    import csv as csv_module

    if fmt == "parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        return table.num_rows, table.column("id").to_pylist(), table.column("status").to_pylist()
    if fmt == "jsonl":

        def refuse(name: str) -> None:
            raise ValueError(f"non-standard JSON constant {name}")

        with open(path, encoding="utf-8", newline="") as fh:
            rows = [json.loads(line, parse_constant=refuse) for line in fh.read().splitlines()]
        return len(rows), [r["id"] for r in rows], [r["status"] for r in rows]
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv_module.reader(fh, delimiter="," if fmt == "csv" else "\t"))
    header, body = rows[0], rows[1:]
    ids = [r[header.index("id")] for r in body]
    return len(body), ids, [r[header.index("status")] for r in body]


def fuzz_files(examples: int, seconds: float, seed: int = 0) -> list[str]:
    """Generated CSV / TSV / JSON Lines / Parquet files through ``score_file``: no crash, no lost row."""
    import random

    from dualuse.engine import Engine
    from dualuse.errors import InputFileError
    from dualuse.files import lines as lines_module
    from dualuse.files import score_file
    from dualuse.taxonomy import default_taxonomy

    rng = random.Random(seed)
    engine = Engine(default_taxonomy())
    logging.getLogger("dualuse").setLevel(logging.ERROR)  # the numeric-HS warning, once per file
    findings: list[str] = []
    deadline = time.monotonic() + seconds
    tmp = Path(tempfile.mkdtemp(prefix="dualuse-fuzz-files-"))
    counts = {"files": 0, "rows": 0, "refused": 0, "jobs2": 0, "malformed": 0, "undecodable": 0}
    lines_module.MAX_LINE_BYTES = 4096  # small, so that the fuzz also crosses the line limit
    while time.monotonic() < deadline and counts["files"] < examples and len(findings) < 5:
        fmt = rng.choice(["csv", "tsv", "jsonl", "parquet"])
        n = rng.choice([0, 1, 2, rng.randint(3, 40), rng.randint(40, 400)])
        src = tmp / f"in.{fmt}"
        if fmt == "parquet":
            _parquet_file(rng, src, n)
        else:
            src.write_bytes(_text_file(rng, fmt, n))
        out_fmt = rng.choice(["csv", "tsv", "jsonl", "parquet"])
        out = tmp / f"out.{out_fmt}"
        jobs = 2 if rng.random() < 0.1 else 1
        lines_module.Lines.BLOCK = rng.choice([1, 2, 3, 7, 64, 4096, 1 << 20])  # line ends across read blocks
        options = dict(
            text_column="description",
            hs_column="hs" if rng.random() < 0.7 else None,
            chunk_size=rng.randint(1, 60),
            jobs=jobs,
            engine=engine,
            progress="never",
            formula_guard=rng.random() < 0.8,
        )
        counts["files"] += 1
        try:
            summary = score_file(src, out, **options)
            got, ids, statuses = _count_output(out, out_fmt)
            assert summary.rows == n == got, f"rows: generated {n}, summary {summary.rows}, read back {got}"
            for i, (rid, st) in enumerate(zip(ids, statuses)):
                assert st == "malformed_line" or rid == f"r{i}", f"row {i}: id {rid!r} ({st}): rows shifted"
        except InputFileError as exc:
            if not (fmt == "jsonl" and n == 0):
                findings.append(f"{fmt} -> {out_fmt}, {n} rows, {options}: refused: {exc}\n  kept: {_keep(src, tmp)}")
            counts["refused"] += 1
            continue
        except Exception:
            findings.append(f"{fmt} -> {out_fmt}, {n} rows, {options}:\n{traceback.format_exc(limit=6)}  kept: {_keep(src, tmp)}")
            continue
        counts["rows"] += n
        counts["jobs2"] += jobs == 2
        counts["malformed"] += summary.statuses.get("malformed_line", 0)
        counts["undecodable"] += summary.statuses.get("undecodable_text", 0)
    lines_module.Lines.BLOCK = 1 << 20
    print("  " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    return findings


def _keep(src: Path, tmp: Path) -> str:
    kept = tmp / f"finding-{time.monotonic_ns()}{src.suffix}"
    kept.write_bytes(src.read_bytes())
    return str(kept)


def _loop(run, examples: int, deadline: float, count: list[int], findings: list[str]) -> None:
    """Run hypothesis in chunks of CHUNK random examples until the time box or the count ends."""
    while time.monotonic() < deadline and count[0] < examples and len(findings) < 5:
        try:
            run()
        except (Exception, HypothesisException):
            findings.append(traceback.format_exc(limit=8))
    print(f"  {count[0]:,} examples (shrinking included)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=["classify", "taxonomy", "files", "all"], default="all")
    parser.add_argument(
        "--examples", type=int, default=1_000_000, help="upper bound per target (the time box usually ends first)"
    )
    parser.add_argument("--minutes", type=float, default=2.0, help="time box per target")
    parser.add_argument("--seconds", type=float, default=None, help="time box per target in seconds (overrides --minutes)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the file generator (target files)")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", "Possible nested set", FutureWarning)  # a known finding, see above
    sys.path.insert(0, str(ROOT))
    targets = ["classify", "taxonomy", "files"] if args.target == "all" else [args.target]
    seconds = args.seconds if args.seconds is not None else args.minutes * 60
    total = 0
    for target in targets:
        start = time.monotonic()
        if target == "files":
            findings = fuzz_files(args.examples, seconds, args.seed)
        else:
            fn = fuzz_classify if target == "classify" else fuzz_taxonomy
            findings = fn(args.examples, seconds)
        took = time.monotonic() - start
        print(f"{target}: {len(findings)} finding(s) in {took:.0f} s")
        for f in findings:
            print(f)
        total += len(findings)
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
