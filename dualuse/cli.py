"""The ``dualuse`` command line: a thin layer over the library.

Subcommands come from one table; logging is configured here only. Every failure ends with
a one-line ``dualuse: ...`` message on stderr and its own exit code, never a traceback
(``--debug`` adds the traceback):

===  =====================================================================================
0    success (``score``: every row ``ok``, or ``--allow-row-problems`` and the file was scored)
1    ``score`` only: the file was scored and written, but some rows have another status
2    bad usage or bad input (unknown option, missing column, unreadable or refused file, bad text)
3    model or taxonomy integrity / compatibility error (file refused)
4    the output could not be written (directory missing, read-only output, disk full)
5    internal failure: a worker process died (e.g. out-of-memory killer) or an unexpected error
130  interrupted (SIGINT, Ctrl-C)
141  standard output was closed by its reader (``dualuse ... | head``)
143  terminated (SIGTERM)
===  =====================================================================================

With any code but 0 and 1 no output file was written (an older one is left as it was), except
that a stream (``-o -``, a FIFO, a device) may have received part of the output.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import DualuseError, ModelCompatibilityError, ModelIntegrityError, OptionError, TaxonomyError, WorkerError

if TYPE_CHECKING:  # pragma: no cover
    from .destinations import DestinationLists
    from .engine import Engine
    from .results import Classification

__all__ = [
    "main",
    "EXIT_OK",
    "EXIT_ROW_PROBLEMS",
    "EXIT_USAGE",
    "EXIT_INTEGRITY",
    "EXIT_OUTPUT",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_BROKEN_PIPE",
    "EXIT_TERMINATED",
]

EXIT_OK, EXIT_ROW_PROBLEMS, EXIT_USAGE, EXIT_INTEGRITY, EXIT_OUTPUT, EXIT_INTERNAL = 0, 1, 2, 3, 4, 5
# the shell's 128 + signal number, so that scripts see the same code as for a default death
EXIT_INTERRUPTED, EXIT_BROKEN_PIPE, EXIT_TERMINATED = 130, 141, 143

log = logging.getLogger("dualuse.cli")


def _engine_from_args(args: argparse.Namespace) -> Engine:
    """The default engine, or one built from --model / --taxonomy when given."""
    from .defaults import default_engine, default_model, default_taxonomy
    from .engine import Engine
    from .taxonomy import load_taxonomy

    model_dir = getattr(args, "model", None)
    tax_path = getattr(args, "taxonomy", None)
    decisions = getattr(args, "decisions", None)
    context = _trade_context_from_args(args)
    if model_dir is None and tax_path is None and context is None:
        engine = default_engine()
    else:
        from .hs_index import HSIndex
        from .persistence import load_model

        taxonomy = load_taxonomy(tax_path) if tax_path else default_taxonomy()
        model = load_model(model_dir) if model_dir else default_model()
        hs_dir, destinations = context or (None, None)
        # the packaged index fits the packaged model only: another model gets suggestions from --hs-index
        hs_index = HSIndex(hs_dir) if hs_dir else (HSIndex() if model_dir is None else None)
        engine = Engine(taxonomy, model, hs_index=hs_index, destinations=destinations)
    # reviewed decisions are validated here, before any input is read (DecisionsError: exit 2)
    return engine if decisions is None else engine.with_decisions(decisions)


def _trade_context_from_args(args: argparse.Namespace) -> tuple[str | None, DestinationLists | None] | None:
    """(--hs-index DIR, destination lists from --destinations / --extend-destinations), or None when neither is given."""
    from .destinations import load_destinations

    hs_dir = getattr(args, "hs_index", None)
    replace, extend = getattr(args, "destinations", None), getattr(args, "extend_destinations", None)
    if replace and extend:
        raise OptionError("--destinations and --extend-destinations: give one (replace the packaged lists, or add to them)")
    if hs_dir is None and replace is None and extend is None:
        return None
    path = replace or extend
    lists = load_destinations(path, extend=extend is not None) if path else None
    return hs_dir, lists


def _cmd_classify(args: argparse.Namespace) -> int:
    from .api import classify

    result = classify(args.text, hs_code=args.hs_code, destination=args.destination, engine=_engine_from_args(args))
    if args.json:
        print(result.model_dump_json(indent=2))
        return EXIT_OK
    print(f"category:     {result.category}" + (f" / {result.subcategory}" if result.subcategory else ""))
    print(f"confidence:   {result.confidence:.3f}   risk: {result.risk_level}   needs review: {result.needs_review}")
    if result.review_reasons:
        print(f"reasons:      {', '.join(result.review_reasons)}")
    if result.chpl_tier:
        print(f"CHPL tier:    {result.chpl_tier}")
    if result.references:
        print(f"check lists:  {', '.join(result.references)} (references for a reviewer, not a verdict)")
    _print_trade_context(result)
    print("probabilities: " + ", ".join(f"{k}={v:.3f}" for k, v in result.probabilities.items()))
    print("evidence:")
    for ev in result.evidence:
        d = ev.model_dump()
        kind = d.pop("kind")
        if kind in ("term", "pattern"):
            print(
                f"  - {kind} {d['matched_text']!r} [{d['start']}:{d['end']}] -> {d['family']} / {d['subcategory']} ({d['language']})"
                + ("" if d["reading"] == "exact" else f", read as {d['reading']} of {d['term']!r}")
            )
        elif kind == "exclusion":
            print(f"  - exclusion {d['matched_text']!r} [{d['start']}:{d['end']}] cancels {', '.join(d['families'])}")
        elif kind == "hs_code":
            agree = {True: "agrees with the text", False: "DISAGREES with the text", None: "ambiguous"}[d["agrees_with_text"]]
            print(f"  - HS {d['raw']} -> {d['family']} ({agree})" + (f"; {d['note']}" if d.get("note") else ""))
        elif kind == "model_feature":
            print(f"  - model feature {d['feature']!r} (+{d['contribution']:.3f})")
        else:
            print(f"  - note: {d['message']}")
    if result.decision is not None:
        dec = result.decision
        print(
            f"decision:     {dec.label} by {dec.reviewer} on {dec.date} ({dec.source} line {dec.line}); "
            f"screening said {dec.screened_category}"
        )
    p = result.provenance
    print(
        f"provenance:   dualuse {p.dualuse_version}, taxonomy {p.taxonomy_version} ({p.taxonomy_sha256[:12]}), model {p.model_id}"
    )
    print("This is a screening flag for human review, not an export-control classification.")
    return EXIT_OK


def _print_trade_context(result: Classification) -> None:
    """Priority, destination and HS-6 suggestions of a classify result, one line each."""
    if result.priority:
        where = f" (destination {result.destination.code}: {result.destination.status})" if result.destination else ""
        print(f"priority:     {result.priority}{where}")
    for s in result.hs_suggestions:
        tier = f", CHPL {s.chpl_tier}" if s.chpl_tier else ""
        print(f"HS suggested: {s.code} ({s.family}{tier}, score {s.score:.2f}) {s.heading[:70]}")


def _cmd_hs_index_build(args: argparse.Namespace) -> int:
    """Build the HS-6 suggestion index from data/corpus and the Taiwan English tariff."""
    from pathlib import Path

    from .defaults import default_model
    from .hs_index import packaged_index_dir
    from .persistence import load_model
    from .training.hs_index_build import build_index, nomenclature_lines

    problem = _missing_data(args.data, ("corpus/nomenclature.csv",))
    if problem:
        print(f"dualuse: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    lines, headings = nomenclature_lines(Path(args.data), Path(args.raw))
    model = load_model(args.model) if args.model else default_model()
    out = Path(args.out) if args.out else packaged_index_dir()
    sha = build_index(lines, headings, model, out)
    print(f"hs index: {len(lines)} nomenclature lines, {len(headings)} HS-6 codes -> {out} (sha256 {sha})")
    return EXIT_OK


def _cmd_score(args: argparse.Namespace) -> int:
    """Score a file, print the summary; exit 1 when some rows had problems (unless allowed)."""
    from .errors import ColumnNotFoundError, InputFileError, InputTypeError, OptionError, OutputWriteError
    from .files import score_file

    try:
        summary = score_file(
            args.input,
            args.output,
            text_column=args.text_column,
            hs_column=args.hs_column,
            chunk_size=args.chunk_size,
            input_format=args.format,
            output_format=args.output_format,
            progress=args.progress,
            jobs=args.jobs,
            engine=_engine_from_args(args),
            formula_guard=args.formula_guard,
            explain=args.explain,
            destination_column=args.destination_column,
        )
    except OutputWriteError as exc:
        print(f"dualuse: error: {exc}", file=sys.stderr)
        return EXIT_OUTPUT
    except (InputFileError, ColumnNotFoundError, OptionError, InputTypeError) as exc:
        print(f"dualuse: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    # with the output on standard output, the summary goes to stderr
    print(summary.format(), file=sys.stderr if args.output == "-" else sys.stdout)
    return EXIT_ROW_PROBLEMS if summary.problem_rows and not args.allow_row_problems else EXIT_OK


def _missing_data(data: str, needs: tuple[str, ...]) -> str | None:
    """Why ``data`` cannot serve a build-time command, or None when it has every file it needs."""
    from pathlib import Path

    missing = [n for n in needs if not (Path(data) / n).exists()]
    if not missing:
        return None
    return (
        f"--data: expected a data folder holding {', '.join(missing)}, got {data!r}; these commands need "
        "the data/ folder of a clone of the repository (an installed wheel does not carry it)"
    )


def _cmd_train(args: argparse.Namespace) -> int:
    """Train a model from data/ into --out, or into the package with --into-package."""
    import shutil
    import tempfile
    from pathlib import Path

    from .persistence import packaged_model_dir
    from .training.train import train

    problem = _missing_data(args.data, ("corpus/nomenclature.csv", "synthetic/negatives.txt", "dev/invoice_lines.tsv"))
    if problem:
        print(f"dualuse: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    if (args.out is None) == (not args.into_package):
        print("dualuse: error: train: give --out DIR (a new or empty directory) or --into-package, not both", file=sys.stderr)
        return EXIT_USAGE
    if args.extra_labels is not None:  # a malformed file fails here, not after minutes of training
        from .decisions import load_decisions

        load_decisions(args.extra_labels, require_review=False)
    if args.out is not None:
        out = Path(args.out)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            print(f"dualuse: error: --out: expected a new or empty directory, got {str(out)!r}", file=sys.stderr)
            return EXIT_USAGE
        model = train(args.data, out, seed=args.seed, extra_labels=args.extra_labels)
    else:
        target = packaged_model_dir()
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            model = train(args.data, Path(tmp) / "model", seed=args.seed, extra_labels=args.extra_labels)
            old = Path(tmp) / "previous"
            target.rename(old)  # the old model goes away with the temporary directory
            shutil.move(str(Path(tmp) / "model"), str(target))
    print(f"trained {model.model_id}; model sha256 {model.sha256}")
    return EXIT_OK


def _cmd_model_convert(args: argparse.Namespace) -> int:
    """Convert a format-1 (pickle) model directory to format 2."""
    from .training.legacy_pickle import convert

    try:
        digest = convert(args.source, args.destination)
    except (FileExistsError, ValueError) as exc:
        print(f"dualuse: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {args.destination}: model sha256 {digest}")
    return EXIT_OK


def _cmd_model_verify(args: argparse.Namespace) -> int:
    """Verify a model directory and print its id and model sha256."""
    from .persistence import load_model

    model = load_model(args.directory)
    print(f"{model.model_id}: model sha256 {model.sha256}")
    return EXIT_OK


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from .training.evaluate import evaluate, format_report

    problem = _missing_data(args.data, ("eval",))
    if problem:
        print(f"dualuse: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    report = evaluate(data_dir=args.data, engine=_engine_from_args(args), sets=args.set or None)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return EXIT_OK


def _cmd_data_build(args: argparse.Namespace) -> int:
    """Derive data/corpus and data/eval from data/raw (a repository checkout, not an installed wheel)."""
    from pathlib import Path

    from .training.corpus import build_all, missing_sources

    raw = Path(args.raw)
    missing = missing_sources(raw)
    if missing:
        print(
            f"dualuse: error: --raw: expected a folder holding the raw sources ({', '.join(missing)}), "
            f"got {str(raw)!r}; run this from a clone of the repository or name its data/raw folder",
            file=sys.stderr,
        )
        return EXIT_USAGE
    counts = build_all(raw, Path(args.out), verbose=args.verbose)
    for name, n in counts.items():
        print(f"{name}: {n} rows")
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    """Write the HTML review report of a scored file."""
    from .errors import ColumnNotFoundError, InputFileError, InputTypeError, OptionError, OutputWriteError
    from .reporting import report

    try:
        summary = report(
            args.scored,
            args.output,
            text_column=args.text_column,
            id_column=args.id_column,
            input_format=args.format,
            title=args.title,
            max_rows=args.max_rows,
        )
    except OutputWriteError as exc:
        print(f"dualuse: error: {exc}", file=sys.stderr)
        return EXIT_OUTPUT
    except (InputFileError, ColumnNotFoundError, OptionError, InputTypeError) as exc:
        print(f"dualuse: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(summary.format(), file=sys.stderr if args.output == "-" else sys.stdout)
    return EXIT_OK


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dualuse",
        description="Screen trade descriptions for dual-use machine tools, microelectronics and optics "
        "(flags for human review; not a legal classification).",
    )
    parser.add_argument("--version", action="version", version=f"dualuse {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    parser.add_argument("--debug", action="store_true", help="print the traceback of a failure")
    sub = parser.add_subparsers(dest="command", required=True)

    def engine_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--model", metavar="DIR", help="a model directory (manifest.json, model.json, arrays.npz); default: embedded model"
        )
        p.add_argument("--taxonomy", metavar="FILE", help="a taxonomy TOML file; default: packaged taxonomy")
        p.add_argument("--hs-index", metavar="DIR", help="an HS-6 suggestion index built for --model (dualuse hs-index build)")
        p.add_argument("--destinations", metavar="FILE", help="destination lists (TOML) replacing the packaged ones")
        p.add_argument("--extend-destinations", metavar="FILE", help="destination lists (TOML) added to the packaged ones")

    def decisions_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--decisions",
            metavar="FILE",
            help="a reviewed-decisions file (CSV or Parquet: text, hs_code, label, reviewer, date, note); a line it "
            "covers gets the decided label, the screening's own verdict kept beside it",
        )

    p = sub.add_parser("classify", help="classify one description")
    p.add_argument("text")
    p.add_argument("--hs-code", default=None, help="HS code, 4-10 digits, dots/spaces allowed")
    p.add_argument("--destination", default=None, metavar="CC", help="destination country, ISO 3166-1 alpha-2 (e.g. KZ)")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    engine_options(p)
    decisions_option(p)
    p.set_defaults(func=_cmd_classify)

    p = sub.add_parser("score", help="score a file of trade records (CSV, TSV, Parquet, JSON Lines)")
    p.add_argument("input", help="the input file; - for standard input")
    p.add_argument("-o", "--output", required=True, help="the output file; - for standard output (summary on stderr)")
    p.add_argument("--text-column", required=True)
    p.add_argument("--hs-column", default=None)
    p.add_argument("--destination-column", default=None, help="column of destination countries (ISO 3166-1 alpha-2)")
    p.add_argument("--chunk-size", type=int, default=20_000)
    p.add_argument(
        "--format", choices=["csv", "tsv", "parquet", "jsonl"], default=None, help="input format (default: by extension)"
    )
    p.add_argument("--output-format", choices=["csv", "tsv", "parquet", "jsonl"], default=None)
    p.add_argument(
        "--jobs",
        type=_jobs_option,
        default="auto",
        metavar="N|auto",
        help="worker processes scoring chunks; 'auto' (default) = the usable CPUs, at most 8; 1 = score in this process",
    )
    p.add_argument("--progress", choices=["auto", "always", "never"], default="auto")
    p.add_argument(
        "--explain",
        action="store_true",
        help="add the columns review_reasons, references and evidence (JSON: terms with spans, exclusions, "
        "HS facts, model features), as classify reports them",
    )
    p.add_argument(
        "--allow-row-problems",
        action="store_true",
        help="exit 0 when the file was scored even if some rows have a status other than ok (they stay in the output)",
    )
    p.add_argument(
        "--no-formula-guard",
        dest="formula_guard",
        action="store_false",
        help="write CSV/TSV cells starting with = + - @ tab or CR as they are (default: prefix them with ')",
    )
    engine_options(p)
    decisions_option(p)
    p.set_defaults(func=_cmd_score)

    p = sub.add_parser("train", help="rebuild the model from data/ (corpus + synthetic lines + dev fusion fit)")
    p.add_argument("--data", default="data", help="the repository's data/ folder (default: ./data)")
    p.add_argument("--out", default=None, help="write the model into this new or empty directory")
    p.add_argument("--into-package", action="store_true", help="replace the installed package's embedded model")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument(
        "--extra-labels",
        metavar="FILE",
        default=None,
        help="a team's labelled lines (CSV or Parquet in the decisions format; reviewer and date optional) added "
        "to the corpus with a sample weight of 5 each, together at most 5%% of the corpus (recorded in the manifest)",
    )
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("evaluate", help="report metrics on every evaluation set in data/eval")
    p.add_argument("--data", default="data")
    p.add_argument("--set", action="append", help="only this set (repeatable)")
    p.add_argument("--json", action="store_true")
    engine_options(p)
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("report", help="write a self-contained HTML review report of a scored file")
    p.add_argument("scored", help="an output of 'dualuse score' (CSV, TSV, Parquet, JSON Lines; best with --explain)")
    p.add_argument("-o", "--output", required=True, help="the HTML file to write; - for standard output")
    p.add_argument("--text-column", default=None, help="the descriptions (default: the column the evidence spans point into)")
    p.add_argument("--id-column", default=None, help="a column to show beside each row, such as a record id")
    p.add_argument("--format", choices=["csv", "tsv", "parquet", "jsonl"], default=None, help="default: by extension")
    p.add_argument("--title", default=None)
    p.add_argument("--max-rows", type=int, default=10_000, help="rows needing review held in the table (default 10,000)")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("model", help="model directory commands")
    msub = p.add_subparsers(dest="model_command", required=True)
    m = msub.add_parser("convert", help="convert a format-1 (pickle) model directory to format 2 (needs scikit-learn)")
    m.add_argument("source")
    m.add_argument("destination")
    m.set_defaults(func=_cmd_model_convert)
    m = msub.add_parser("verify", help="verify a model directory; print its id and model sha256")
    m.add_argument("directory")
    m.set_defaults(func=_cmd_model_verify)

    p = sub.add_parser("data", help="data commands")
    dsub = p.add_subparsers(dest="data_command", required=True)
    b = dsub.add_parser("build", help="derive data/corpus and data/eval from data/raw")
    b.add_argument("--raw", default="data/raw")
    b.add_argument("--out", default="data")
    b.set_defaults(func=_cmd_data_build)

    p = sub.add_parser("hs-index", help="HS-6 suggestion index commands")
    hsub = p.add_subparsers(dest="hs_index_command", required=True)
    h = hsub.add_parser("build", help="build the HS-6 suggestion index from data/corpus (and the Taiwan English tariff)")
    h.add_argument("--data", default="data")
    h.add_argument("--raw", default="data/raw")
    h.add_argument("--model", metavar="DIR", default=None, help="the model whose features the index uses; default: embedded")
    h.add_argument("--out", metavar="DIR", default=None, help="default: the package's dualuse/data/hs_index")
    h.set_defaults(func=_cmd_hs_index_build)
    return parser


def _jobs_option(value: str) -> int | str:
    if value == "auto":
        return value
    try:
        jobs = int(value)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"expected an int >= 1 or 'auto', got {value!r}")
    return jobs


class _Terminated(BaseException):
    """Raised in the main thread by SIGTERM, so that clean-up (``finally``) runs as for Ctrl-C."""


def _on_sigterm(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one clean-up, even if the signal is repeated
    raise _Terminated()


def _resend_swallowed_signal(unraisable: Any) -> None:
    """``sys.unraisablehook``: a signal's exception raised where Python drops exceptions is sent again.

    A signal handler runs at the main thread's next bytecode, which may be inside code whose
    exceptions Python only reports, "Exception ignored in ...": an at-fork callback (logging
    has one, and SIGTERM while the worker pool forks lands there), a ``__del__`` or a weakref
    callback. The run would then go on and write its output, with SIGTERM ignored from then
    on. Instead the signal is sent again a moment later, from a thread, so that it is handled
    in ordinary code; nothing is printed for it.
    """
    exc_type = unraisable.exc_type
    if exc_type is not None and issubclass(exc_type, (_Terminated, KeyboardInterrupt)):
        sig = signal.SIGTERM if issubclass(exc_type, _Terminated) else signal.SIGINT
        if sig == signal.SIGTERM:
            signal.signal(signal.SIGTERM, _on_sigterm)
        timer = threading.Timer(0.05, os.kill, (os.getpid(), sig))
        timer.daemon = True
        timer.start()
        return
    sys.__unraisablehook__(unraisable)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout replaced (tests) or already closed
        pass


def _fail(args: argparse.Namespace, message: str, code: int) -> int:
    if getattr(args, "debug", False):
        traceback.print_exc(file=sys.stderr)
    try:
        print(f"dualuse: {message}", file=sys.stderr)
    except (OSError, ValueError):  # stderr closed too: the exit code still says it
        pass
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (see module docstring)."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if getattr(args, "seed", 0) is None:
        from .training.train import SEED

        args.seed = SEED
    func: Callable[[argparse.Namespace], int] = args.func
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if in_main_thread else None
    previous_hook = sys.unraisablehook
    if in_main_thread:
        sys.unraisablehook = _resend_swallowed_signal
    try:
        code = func(args)
        sys.stdout.flush()  # a closed pipe shows here, not as a message at interpreter exit
        return code
    except (ModelIntegrityError, ModelCompatibilityError, TaxonomyError) as exc:
        return _fail(args, f"error: {exc}", EXIT_INTEGRITY)
    except WorkerError as exc:
        return _fail(args, f"internal failure: {exc}", EXIT_INTERNAL)
    except DualuseError as exc:
        return _fail(args, f"error: {exc}", EXIT_USAGE)
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        return _fail(args, "interrupted; no output was written", EXIT_INTERRUPTED)
    except _Terminated:
        return _fail(args, "terminated; no output was written", EXIT_TERMINATED)
    except Exception as exc:
        hint = "" if getattr(args, "debug", False) else " (run with --debug for the traceback)"
        return _fail(args, f"internal error: {type(exc).__name__}: {exc}{hint}", EXIT_INTERNAL)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        sys.unraisablehook = previous_hook


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
