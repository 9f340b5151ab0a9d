"""The ``dualuse`` command line: a thin layer over the library.

Subcommands come from one table; logging is configured here only. Exit codes:

* 0  success
* 1  the command ran but some rows had problems (``score``: rows with a non-ok status)
* 2  bad usage or bad input (unknown option, missing column, unreadable file, bad text)
* 3  model or taxonomy integrity / compatibility error (file refused)
* 4  output could not be written
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ._version import __version__
from .errors import DualuseError, ModelCompatibilityError, ModelIntegrityError, TaxonomyError

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Engine

__all__ = ["main", "EXIT_OK", "EXIT_ROW_PROBLEMS", "EXIT_USAGE", "EXIT_INTEGRITY", "EXIT_OUTPUT"]

EXIT_OK, EXIT_ROW_PROBLEMS, EXIT_USAGE, EXIT_INTEGRITY, EXIT_OUTPUT = 0, 1, 2, 3, 4

log = logging.getLogger("dualuse.cli")


def _engine_from_args(args: argparse.Namespace) -> Engine:
    """The default engine, or one built from --model / --taxonomy when given."""
    from .defaults import default_engine, default_model, default_taxonomy
    from .engine import Engine
    from .taxonomy import load_taxonomy

    model_dir = getattr(args, "model", None)
    tax_path = getattr(args, "taxonomy", None)
    if model_dir is None and tax_path is None:
        return default_engine()
    from .persistence import load_model

    taxonomy = load_taxonomy(tax_path) if tax_path else default_taxonomy()
    model = load_model(model_dir) if model_dir else default_model()
    return Engine(taxonomy, model)


def _cmd_classify(args: argparse.Namespace) -> int:
    from .api import classify

    result = classify(args.text, hs_code=args.hs_code, engine=_engine_from_args(args))
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
    print("probabilities: " + ", ".join(f"{k}={v:.3f}" for k, v in result.probabilities.items()))
    print("evidence:")
    for ev in result.evidence:
        d = ev.model_dump()
        kind = d.pop("kind")
        if kind in ("term", "pattern"):
            print(f"  - {kind} {d['matched_text']!r} [{d['start']}:{d['end']}] -> {d['family']} / {d['subcategory']} ({d['language']})")
        elif kind == "exclusion":
            print(f"  - exclusion {d['matched_text']!r} [{d['start']}:{d['end']}] cancels {', '.join(d['families'])}")
        elif kind == "hs_code":
            agree = {True: "agrees with the text", False: "DISAGREES with the text", None: "ambiguous"}[d["agrees_with_text"]]
            print(f"  - HS {d['raw']} -> {d['family']} ({agree})" + (f"; {d['note']}" if d.get("note") else ""))
        elif kind == "model_feature":
            print(f"  - model feature {d['feature']!r} (+{d['contribution']:.3f})")
        else:
            print(f"  - note: {d['message']}")
    p = result.provenance
    print(f"provenance:   dualuse {p.dualuse_version}, taxonomy {p.taxonomy_version} ({p.taxonomy_sha256[:12]}), model {p.model_id}")
    print("This is a screening flag for human review, not an export-control classification.")
    return EXIT_OK


def _cmd_score(args: argparse.Namespace) -> int:
    """Score a file, print the summary; exit 1 when some rows had problems."""
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
        )
    except OutputWriteError as exc:
        print(f"dualuse: error: {exc}", file=sys.stderr)
        return EXIT_OUTPUT
    except (InputFileError, ColumnNotFoundError, OptionError, InputTypeError) as exc:
        print(f"dualuse: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(summary.format())
    return EXIT_ROW_PROBLEMS if summary.problem_rows else EXIT_OK


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
    if args.out is not None:
        out = Path(args.out)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            print(f"dualuse: error: --out: expected a new or empty directory, got {str(out)!r}", file=sys.stderr)
            return EXIT_USAGE
        model = train(args.data, out, seed=args.seed)
    else:
        target = packaged_model_dir()
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            model = train(args.data, Path(tmp) / "model", seed=args.seed)
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


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dualuse",
        description="Screen trade descriptions for dual-use machine tools, microelectronics and optics "
        "(flags for human review; not a legal classification).",
    )
    parser.add_argument("--version", action="version", version=f"dualuse {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)

    def engine_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--model", metavar="DIR", help="a model directory (manifest.json, model.json, arrays.npz); default: embedded model")
        p.add_argument("--taxonomy", metavar="FILE", help="a taxonomy TOML file; default: packaged taxonomy")

    p = sub.add_parser("classify", help="classify one description")
    p.add_argument("text")
    p.add_argument("--hs-code", default=None, help="HS code, 4-10 digits, dots/spaces allowed")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    engine_options(p)
    p.set_defaults(func=_cmd_classify)

    p = sub.add_parser("score", help="score a file of trade records (CSV, TSV, Parquet, JSON Lines)")
    p.add_argument("input")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--text-column", required=True)
    p.add_argument("--hs-column", default=None)
    p.add_argument("--chunk-size", type=int, default=20_000)
    p.add_argument("--format", choices=["csv", "tsv", "parquet", "jsonl"], default=None, help="input format (default: by extension)")
    p.add_argument("--output-format", choices=["csv", "tsv", "parquet", "jsonl"], default=None)
    p.add_argument(
        "--jobs", type=_jobs_option, default="auto", metavar="N|auto",
        help="worker processes scoring chunks; 'auto' (default) = the usable CPUs, at most 8; 1 = score in this process",
    )
    p.add_argument("--progress", choices=["auto", "always", "never"], default="auto")
    engine_options(p)
    p.set_defaults(func=_cmd_score)

    p = sub.add_parser("train", help="rebuild the model from data/ (corpus + synthetic lines + dev fusion fit)")
    p.add_argument("--data", default="data", help="the repository's data/ folder (default: ./data)")
    p.add_argument("--out", default=None, help="write the model into this new or empty directory")
    p.add_argument("--into-package", action="store_true", help="replace the installed package's embedded model")
    p.add_argument("--seed", type=int, default=None)
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("evaluate", help="report metrics on every evaluation set in data/eval")
    p.add_argument("--data", default="data")
    p.add_argument("--set", action="append", help="only this set (repeatable)")
    p.add_argument("--json", action="store_true")
    engine_options(p)
    p.set_defaults(func=_cmd_evaluate)

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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (see module docstring)."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if getattr(args, "seed", 0) is None:
        from .training.train import SEED

        args.seed = SEED
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except (ModelIntegrityError, ModelCompatibilityError, TaxonomyError) as exc:
        print(f"dualuse: error: {exc}", file=sys.stderr)
        return EXIT_INTEGRITY
    except DualuseError as exc:
        print(f"dualuse: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
