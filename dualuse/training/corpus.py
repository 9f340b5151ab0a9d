"""Deterministic builder of the training corpus and the evaluation sets from ``data/raw``.

``build_all(raw_dir, out_dir)`` derives (see ``data/README.md`` for the full description)::

    corpus/nomenclature.csv            training texts (HS 2022, EU CN 2023, EU CN 2025; Russian,
                                       Chinese and German nomenclatures via sources_intl)
    corpus/dropped/dropped_rows.csv    training lines left out (mixed families, conflicting labels)
    eval/us_hts_2024.csv               evaluation only: US HTS 2024 10-digit lines
    eval/uk_trader_terms.csv           evaluation only: HMRC trader search terms
    eval/uk_parcel_lines.csv           evaluation only: UK fast-parcel declaration lines
    eval/cbp_rulings.csv               evaluation only: US CBP CROSS ruling subjects
    eval/kicad_parts.csv               evaluation only: KiCad symbol-library parts (no HS code)
    eval/dropped/dropped_rows.csv      evaluation rows left out, with the reason

Every data file has the columns ``text,label,source,code`` (the ``dropped`` logs add a
``file`` and ``reason`` column first), UTF-8 without BOM, ``\\n`` line endings, rows in source
order (the order of the source files, then the order of the rows inside each file). Labels
come from the codes via :func:`dualuse.hs.hs_family` per LABELS.md; the national-line rules
(853710, 852589) read the row's description (for the CN 2025 tree and the US HTS, the part
below the HS-6 subheading, since heading texts speak for every line under them). The one
exception is the KiCad parts set, which has no HS codes: its labels come with the source
(derived from the KiCad library of each part, per LABELS.md) and its ``code`` is empty.

The evaluation sources are parsed here and nowhere else; nothing in this module was written or
tuned from their rows, and they never enter the training corpus. Every evaluation set leaves
out (1) the items LABELS.md calls "not settled" (:func:`unsettled_reason`) and (2) texts equal,
after :func:`text_key` normalisation, to a training text.

Run ``dualuse data build`` from the repository root. The parsers live in
:mod:`dualuse.training.sources`.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..categories import CATEGORIES
from .sources import (
    EvalRow,
    Row,
    read_cbp_rulings,
    read_cn2023,
    read_cn2025,
    read_hs2022,
    read_kicad_parts,
    read_uk_parcel_lines,
    read_uk_trader_terms,
    read_us_hts,
    text_key,
    unsettled_reason,
)
from .sources_intl import INTL_TRAINING_SOURCES, read_intl_sources

__all__ = [
    "TRAINING_SOURCES",
    "ENGLISH_TRAINING_SOURCES",
    "EVALUATION_SOURCES",
    "COLUMNS",
    "TrainingBuild",
    "build_training",
    "build_all",
    "missing_sources",
]

#: Training sources, in the fixed order used for de-duplication (first occurrence kept).
ENGLISH_TRAINING_SOURCES: tuple[str, ...] = (
    "hs2022-6digit-datasets",
    "eu-cn8-selfexplanatory-2023-en",
    "eu-cn-2025-en",
)
TRAINING_SOURCES: tuple[str, ...] = (*ENGLISH_TRAINING_SOURCES, *INTL_TRAINING_SOURCES)
#: Evaluation-only sources: parsed for the evaluation sets, never used for training.
EVALUATION_SOURCES: tuple[str, ...] = (
    "us-hts-2024-basic",
    "uk-fpo-parcel-descriptions",
    "us-cbp-cross-rulings-sample",
    "kicad-symbols-parts-eval",
)
#: Column order of every derived data file.
COLUMNS: tuple[str, ...] = ("text", "label", "source", "code")

CORPUS_FILE = "corpus/nomenclature.csv"
CORPUS_DROPPED_FILE = "corpus/dropped/dropped_rows.csv"
EVAL_FILES: tuple[str, ...] = (
    "eval/us_hts_2024.csv",
    "eval/uk_trader_terms.csv",
    "eval/uk_parcel_lines.csv",
    "eval/cbp_rulings.csv",
    "eval/kicad_parts.csv",
)
DROPPED_FILE = "eval/dropped/dropped_rows.csv"


@dataclass
class TrainingBuild:
    rows: list[Row]
    conflicts: list[Row]
    duplicates: int
    mixed_groups: list[Row]
    keys: set[str]


def build_training(raw_dir: Path) -> TrainingBuild:
    """The training corpus: the three training sources in :data:`TRAINING_SOURCES` order,
    de-duplicated on :func:`text_key` keeping the first occurrence; a text that gets different
    labels from different codes is dropped entirely (all its occurrences go to ``conflicts``)."""
    raw_dir = Path(raw_dir)
    cn2025, mixed = read_cn2025(raw_dir)
    intl = read_intl_sources(raw_dir)
    candidates = read_hs2022(raw_dir) + read_cn2023(raw_dir) + cn2025 + [Row(*r) for r in intl.rows]
    mixed = mixed + [Row(*r) for r in intl.mixed]
    keys = [text_key(row.text) for row in candidates]
    labels_by_key: dict[str, set[str]] = {}
    for key, row in zip(keys, candidates):
        labels_by_key.setdefault(key, set()).add(row.label)
    rows: list[Row] = []
    conflicts: list[Row] = []
    seen: set[str] = set()
    duplicates = 0
    for key, row in zip(keys, candidates):
        if not key:
            continue
        if len(labels_by_key[key]) > 1:
            conflicts.append(row)
            continue
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        rows.append(row)
    return TrainingBuild(rows, conflicts, duplicates, mixed, seen)


def _csv_bytes(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_bytes() == data:
        return  # keep mtime when nothing changed
    path.write_bytes(data)


def _label_counts(rows: Iterable[Row]) -> dict[str, int]:
    counts = Counter(r.label for r in rows)
    return {c: counts.get(c, 0) for c in CATEGORIES}


def build_all(raw_dir: Path, out_dir: Path, *, verbose: bool = False) -> dict[str, int]:
    """Derive the training corpus and the evaluation sets from ``raw_dir`` into ``out_dir``.

    Deterministic: the same inputs give byte-identical files. Returns the number of data rows
    written per file (paths relative to ``out_dir``, with ``/``). With ``verbose`` a summary of
    the counts per label and of everything dropped is printed.
    """
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    training = build_training(raw_dir)
    train_keys = training.keys

    hts = read_us_hts(raw_dir)
    parcels, invalid_parcels = read_uk_parcel_lines(raw_dir)
    eval_inputs: dict[str, list[EvalRow]] = {
        "eval/us_hts_2024.csv": hts,
        "eval/uk_trader_terms.csv": read_uk_trader_terms(raw_dir),
        "eval/uk_parcel_lines.csv": parcels,
        "eval/cbp_rulings.csv": read_cbp_rulings(raw_dir),
        "eval/kicad_parts.csv": read_kicad_parts(raw_dir),
    }

    outputs: dict[str, list[Row]] = {CORPUS_FILE: training.rows}
    dropped: list[tuple[str, ...]] = []
    for name, items in eval_inputs.items():
        kept: list[Row] = []
        for item in items:
            item_name = unsettled_reason(item.match_text, item.hs, eu_code=item.eu_code)
            if item_name is not None:
                reason = f"not settled: {item_name}"
            elif text_key(item.row.text) in train_keys:
                reason = "equal to a training text"
            else:
                kept.append(item.row)
                continue
            dropped.append((name, reason, *item.row.as_tuple()))
        outputs[name] = kept

    counts: dict[str, int] = {}
    for name, rows in outputs.items():
        _write(out_dir / name, _csv_bytes(COLUMNS, (r.as_tuple() for r in rows)))
        counts[name] = len(rows)
    corpus_dropped = [(CORPUS_FILE, "mixed families below this line", *r.as_tuple()) for r in training.mixed_groups]
    corpus_dropped += [(CORPUS_FILE, "conflicting labels", *r.as_tuple()) for r in training.conflicts]
    _write(out_dir / CORPUS_DROPPED_FILE, _csv_bytes(("file", "reason", *COLUMNS), corpus_dropped))
    counts[CORPUS_DROPPED_FILE] = len(corpus_dropped)
    _write(out_dir / DROPPED_FILE, _csv_bytes(("file", "reason", *COLUMNS), dropped))
    counts[DROPPED_FILE] = len(dropped)

    if verbose:
        _print_summary(outputs, training, dropped, invalid_parcels)
    return counts


def _print_summary(
    outputs: dict[str, list[Row]], training: TrainingBuild, dropped: list[tuple[str, ...]], invalid_parcels: int
) -> None:
    width = max(len(n) for n in outputs)
    print(f"{'file':<{width}}  {'rows':>6}  " + "  ".join(f"{c:>16}" for c in CATEGORIES))
    for name, rows in outputs.items():
        counts = _label_counts(rows)
        print(f"{name:<{width}}  {len(rows):>6}  " + "  ".join(f"{counts[c]:>16}" for c in CATEGORIES))
    print(
        f"training: {training.duplicates} duplicate texts removed, {len(training.conflicts)} rows "
        f"with conflicting labels dropped ({len({text_key(r.text) for r in training.conflicts})} texts), "
        f"{len(training.mixed_groups)} lines with mixed families dropped"
    )
    print(f"uk_parcel_lines: {invalid_parcels} records with an invalid commodity code skipped")
    by_reason = Counter((d[0], d[1], d[3]) for d in dropped)
    for (name, reason, label), n in sorted(by_reason.items()):
        print(f"dropped  {name:<{width}}  {reason:<60}  {label:<16}  {n:>5}")


def missing_sources(raw_dir: Path) -> list[str]:
    """The source folders :func:`build_all` needs that ``raw_dir`` lacks (empty when all are there)."""
    return [s for s in (*TRAINING_SOURCES, *EVALUATION_SOURCES) if not (Path(raw_dir) / s).is_dir()]
