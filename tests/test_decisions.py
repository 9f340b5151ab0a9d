"""Reviewed decisions (dualuse/decisions.py): loaded and validated once, applied on every path.

The expectations are built here, independently of the library's normaliser: the test picks
ASCII lines, writes its own case and whitespace variants of them, and so knows which rows a
decision must reach (``" ".join(text.lower().split())``) without asking ``decision_key``.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pandas as pd
import pytest

import dualuse
from dualuse.api import classify, classify_batch
from dualuse.batch import OUTPUT_COLUMNS, score_frame
from dualuse.categories import CATEGORIES
from dualuse.cli import EXIT_OK, EXIT_USAGE, main
from dualuse.decisions import DECISION_COLUMNS, Decisions, load_decisions
from dualuse.errors import DecisionsError, InputTypeError

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample" / "trade_records.csv"
HEADER = "text,hs_code,label,reviewer,date,note\n"


def _key(text: str) -> str:
    """The test's own key for ASCII lines: case and runs of whitespace do not count."""
    return " ".join(text.lower().split())


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    pd.DataFrame(rows, columns=["text", "hs_code", "label", "reviewer", "date", "note"]).to_csv(path, index=False)
    return path


def _variants(text: str, rng: random.Random) -> list[str]:
    """The same line as a reviewer's colleague might type it: other case, other spacing."""
    words = text.split()
    forms = [
        text.upper(),
        "  " + "   ".join(words).lower() + " \t",
        "\t".join(w.swapcase() for w in words),
        "\n" + " ".join(words[: len(words) // 2]) + "  \u00a0" + " ".join(words[len(words) // 2 :]),  # NBSP folds to a space
    ]
    return rng.sample(forms, 2)


@pytest.fixture(scope="module")
def fifty(tmp_path_factory, keyword_engine):
    """50 ASCII sample lines, each decided to a label other than the one the screening gives."""
    sample = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    texts = list(dict.fromkeys(t for t in sample["description"] if t.isascii() and t.strip()))
    by_key: dict[str, str] = {}
    for t in texts:
        by_key.setdefault(_key(t), t)
    chosen = list(by_key.values())[:50]
    assert len(chosen) == 50
    screened = {r.text: r.category for r in classify_batch(chosen, engine=keyword_engine)}
    rows = []
    for i, t in enumerate(chosen):
        others = [c for c in CATEGORIES if c != screened[t]]
        rows.append(
            {"text": t, "hs_code": "", "label": others[i % 3], "reviewer": f"rev{i % 4}", "date": "2026-11-02", "note": f"n{i}"}
        )
    rng = random.Random(7)
    rng.shuffle(rows)  # the file's order is not the input's order
    path = _write(tmp_path_factory.mktemp("decisions") / "decisions.csv", rows)
    return path, {_key(r["text"]): r for r in rows}, texts


def test_fifty_decisions_change_exactly_their_lines_in_any_order_case_and_spacing(fifty, keyword_engine) -> None:
    path, decided, texts = fifty
    rng = random.Random(11)
    lines = list(texts)
    for r in decided.values():
        lines.extend(_variants(r["text"], rng))
    rng.shuffle(lines)
    engine = keyword_engine.with_decisions(path)
    before = classify_batch(lines, engine=keyword_engine)
    after = classify_batch(lines, engine=engine)
    changed = 0
    for text, b, a in zip(lines, before, after):
        d = decided.get(_key(text))
        if d is None:
            assert a.decision is None and a.model_dump(exclude={"provenance"}) == b.model_dump(exclude={"provenance"}), text
            continue
        changed += 1
        assert a.category == d["label"] != b.category, text
        assert a.decision is not None
        assert (a.decision.reviewer, a.decision.date, a.decision.note) == (d["reviewer"], d["date"], d["note"])
        assert a.decision.screened_category == b.category and a.decision.screened_confidence == pytest.approx(b.confidence)
        assert a.confidence == 1.0 and a.probabilities[a.category] == 1.0
        assert a.needs_review == (a.category != "none" or a.chpl_tier is not None)
    assert changed == 50 + 100  # every decided line and both variants of each
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert {r.provenance.decisions_sha256 for r in after} == {digest}
    assert {r.decision.file_sha256 for r in after if r.decision} == {digest}
    assert {r.provenance.decisions_sha256 for r in before} == {None}


def test_the_decision_names_its_line_in_the_file(tmp_path, keyword_engine) -> None:
    path = tmp_path / "d.csv"
    path.write_text(HEADER + "cotton t-shirt,,none,ana,2026-01-05,\nFPGA board XC7,,microelectronics,ben,2026-01-06,chip\n")
    engine = keyword_engine.with_decisions(path)
    r = classify("fpga   BOARD xc7", engine=engine)
    assert (r.category, r.decision.line, r.decision.source, r.decision.text) == ("microelectronics", 3, "d.csv", "FPGA board XC7")
    assert any(e.kind == "note" and e.code == "reviewed_decision" for e in r.evidence)
    assert "reviewed decision" in r._repr_html_()


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        pytest.param("8458.11.00", "optics", id="the 8458 decision covers a longer code"),
        pytest.param("8458.11", "optics", id="same code"),
        pytest.param("8458 11", "optics", id="other separators"),
        pytest.param("84581190", "microelectronics", id="the longer, more specific decision wins"),
        pytest.param("9002.11", "none", id="another code: the code-free decision"),
        pytest.param(None, "none", id="no code: the code-free decision"),
    ],
)
def test_hs_code_decisions_cover_longer_codes_and_the_most_specific_wins(tmp_path, keyword_engine, code, expected) -> None:
    path = tmp_path / "d.csv"
    path.write_text(
        HEADER + "spare part kit,8458,optics,a,2026-01-01,\n"
        "spare part kit,8458.11.90,microelectronics,a,2026-01-01,\n"
        "spare part kit,,none,a,2026-01-01,\n"
    )
    assert classify("Spare part kit", hs_code=code, engine=keyword_engine.with_decisions(path)).category == expected


def test_a_decision_with_a_code_does_not_reach_rows_without_one(tmp_path, keyword_engine) -> None:
    path = tmp_path / "d.csv"
    path.write_text(HEADER + "spare part kit,8458,optics,a,2026-01-01,\n")
    engine = keyword_engine.with_decisions(path)
    assert classify("spare part kit", engine=engine).decision is None
    assert classify("spare part kit", hs_code="9002.11", engine=engine).decision is None


def test_a_code_that_disagrees_with_a_code_free_decision_is_flagged(tmp_path, keyword_engine) -> None:
    path = tmp_path / "d.csv"
    path.write_text(HEADER + "tool trolley 7 drawers,,none,a,2026-01-01,\n")
    engine = keyword_engine.with_decisions(path)
    assert classify("Tool trolley 7 drawers", engine=engine).needs_review is False
    r = classify("Tool trolley 7 drawers", hs_code="8458.11", engine=engine)
    assert r.category == "none" and r.needs_review and "hs_text_disagreement" in r.review_reasons


# ---------------------------------------------------------------------------- malformed files


@pytest.mark.parametrize(
    ("content", "line", "problem"),
    [
        pytest.param(
            HEADER + "lathe,,machine_tools,a,2026-01-01,\nlens,,optic,a,2026-01-01,\n",
            3,
            "label: expected one of",
            id="unknown label",
        ),
        pytest.param(HEADER + "lathe,,machine tools,a,2026-01-01,\n", 2, "label: expected one of", id="label with a space"),
        pytest.param(
            "text,label,date\nlathe,machine_tools,2026-01-01\n", 1, "missing required column.*'reviewer'", id="missing column"
        ),
        pytest.param(
            "text,hscode,label,reviewer,date\nlathe,8458,none,a,2026-01-01\n",
            1,
            "unknown column.*'hscode'",
            id="misspelt hs_code",
        ),
        pytest.param("text,label,label,reviewer,date\nlathe,none,none,a,2026-01-01\n", 1, "given twice", id="doubled column"),
        pytest.param(HEADER + "lathe,,none,a,31/12/2025,\n", 2, "date: expected an ISO date", id="bad date"),
        pytest.param(HEADER + "lathe,,none,a,2999-01-01,\n", 2, "date: expected a date not after today", id="future date"),
        pytest.param(HEADER + "lathe,,none,a,,\n", 2, "date: expected an ISO date", id="missing date"),
        pytest.param(HEADER + "lathe,,none,,2026-01-01,\n", 2, "reviewer: expected who made the decision", id="missing reviewer"),
        pytest.param(HEADER + "  ,,none,a,2026-01-01,\n", 2, "text: expected a non-empty description", id="blank text"),
        pytest.param(HEADER + "\u200b,,none,a,2026-01-01,\n", 2, "text: expected a non-empty description", id="invisible text"),
        pytest.param(HEADER + "lathe,84A8,none,a,2026-01-01,\n", 2, "hs_code: expected", id="bad HS code"),
        pytest.param(HEADER + "lathe,,none,a\n", 2, "expected 6 fields", id="short line"),
        pytest.param(
            HEADER + "CNC lathe,,machine_tools,a,2026-01-01,\nlens,,optics,a,2026-01-01,\n  cnc   LATHE ,,none,b,2026-01-02,\n",
            4,
            "contradicts line 2",
            id="duplicate that disagrees",
        ),
        pytest.param("", 1, "empty file", id="empty file"),
    ],
)
def test_a_malformed_file_names_the_file_the_line_and_the_problem(tmp_path, content, line, problem) -> None:
    path = tmp_path / "team decisions.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DecisionsError, match=rf"'[^']*team decisions\.csv'.*line {line}\b.*{problem}"):
        load_decisions(path)


def test_every_problem_of_a_file_is_listed_with_its_line(tmp_path) -> None:
    path = tmp_path / "d.csv"
    path.write_text(
        HEADER + "lathe,,none,a,2026-01-01,\nlens,,optic,a,2026-01-01,\nprism,,optics,,2026-01-01,\nchip,,none,a,2026-13-01,\n"
    )
    with pytest.raises(DecisionsError) as info:
        load_decisions(path)
    assert [p.split(":")[0] for p in info.value.problems] == ["line 3", "line 4", "line 5"]
    assert all(p in str(info.value) for p in info.value.problems)


def test_the_same_decision_twice_is_kept_once(tmp_path) -> None:
    path = tmp_path / "d.csv"
    path.write_text(
        HEADER
        + "CNC lathe,,machine_tools,a,2026-01-01,\ncnc  lathe,,machine_tools,b,2026-01-02,\ncnc lathe,8458,none,a,2026-01-01,\n"
    )
    decisions = load_decisions(path)
    assert [(d.line, d.label) for d in decisions.entries] == [(2, "machine_tools"), (4, "none")]


def test_a_missing_file_and_a_wrong_type_are_clear_errors(tmp_path, keyword_engine) -> None:
    with pytest.raises(DecisionsError, match=r"nope\.csv.*cannot read"):
        load_decisions(tmp_path / "nope.csv")
    with pytest.raises(InputTypeError, match="decisions: expected a path"):
        keyword_engine.with_decisions(42)


def test_parquet_decisions_name_the_row(tmp_path, keyword_engine) -> None:
    pytest.importorskip("pyarrow")
    import datetime as dt

    good = pd.DataFrame({"text": ["Tool trolley"], "label": ["none"], "reviewer": ["a"], "date": [dt.date(2026, 1, 2)]})
    good.to_parquet(tmp_path / "good.parquet")
    assert classify("TOOL TROLLEY", engine=keyword_engine.with_decisions(tmp_path / "good.parquet")).decision.date == "2026-01-02"
    bad = pd.DataFrame({"text": ["a", "b"], "label": ["none", "lens"], "reviewer": ["x", "y"], "date": ["2026-01-01"] * 2})
    bad.to_parquet(tmp_path / "bad.parquet")
    with pytest.raises(DecisionsError, match=r"bad\.parquet', row 2: label"):
        load_decisions(tmp_path / "bad.parquet")


# ---------------------------------------------------------------------------- batch = single


def test_score_frame_with_decisions_equals_classify_row_by_row(fifty, default_engine) -> None:
    path, decided, texts = fifty
    engine = default_engine.with_decisions(path)
    lines = texts[:80] + [r["text"].upper() for r in list(decided.values())[:20]]
    frame = pd.DataFrame({"text": lines + [None]})
    out = score_frame(frame, "text", engine=engine, explain=True, chunk_size=7)
    assert list(out.columns[-2:]) == list(DECISION_COLUMNS)
    assert pd.isna(out["decided"].iloc[-1]) and out["status"].iloc[-1] == "empty_text"
    for i, text in enumerate(lines):
        single = classify(text, engine=engine)
        row = out.iloc[i]
        assert row["category"] == single.category and row["confidence"] == pytest.approx(single.confidence, abs=1e-12)
        assert bool(row["decided"]) == (single.decision is not None) == (_key(text) in decided)
        assert row["screened_category"] == (single.decision.screened_category if single.decision else single.category)
        assert json.loads(row["evidence"]) == [e.model_dump(mode="json") for e in single.evidence]
        assert list(row["review_reasons"]) == list(single.review_reasons)


def test_without_decisions_the_lean_output_is_unchanged(keyword_engine) -> None:
    out = score_frame(pd.DataFrame({"text": ["CNC lathe"]}), "text", engine=keyword_engine)
    assert list(out.columns) == ["text", *OUTPUT_COLUMNS]


def test_an_engine_with_decisions_shares_its_model_and_pickles(fifty, keyword_engine) -> None:
    import pickle

    from dualuse.defaults import default_engine, is_default_engine

    with_decisions = default_engine().with_decisions(fifty[0])
    # a worker process (dualuse score --jobs N) rebuilds the default engine and attaches the decisions itself
    assert with_decisions.model is default_engine().model and is_default_engine(with_decisions)
    assert default_engine().decisions is None
    engine = keyword_engine.with_decisions(fifty[0])
    copy = pickle.loads(pickle.dumps(engine))
    text = next(iter(fifty[1].values()))["text"]
    assert classify(text, engine=copy) == classify(text, engine=engine)
    assert isinstance(copy.decisions, Decisions) and copy.decisions.sha256 == engine.decisions.sha256


def test_engine_constructor_takes_a_path(fifty) -> None:
    engine = dualuse.Engine(dualuse.default_taxonomy(), decisions=fifty[0])
    assert len(engine.decisions) == 50
    assert engine.provenance()["decisions_sha256"] == hashlib.sha256(fifty[0].read_bytes()).hexdigest()


# ---------------------------------------------------------------------------- CLI


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_cli_score_with_decisions(tmp_path, cli_engine, fifty, fmt) -> None:
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    path, decided, _ = fifty
    out = tmp_path / f"scored.{fmt}"
    code = main(
        ["score", str(SAMPLE), "-o", str(out), "--text-column", "description", "--progress", "never", "--decisions", str(path)]
    )
    assert code in (EXIT_OK, 1)
    scored = (
        pd.read_csv(out, dtype=str, keep_default_na=False)
        if fmt == "csv"
        else (pd.read_json(out, lines=True, dtype=False) if fmt == "jsonl" else pd.read_parquet(out))
    )
    assert list(scored.columns[-2:]) == list(DECISION_COLUMNS)
    sample = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    assert len(scored) == len(sample)
    for text, cat, was, flag in zip(sample["description"], scored["category"], scored["screened_category"], scored["decided"]):
        if cat == "" or pd.isna(cat):  # not screened (empty text): no category, no decision
            assert flag == "" or pd.isna(flag)
            continue
        d = decided.get(_key(text)) if text.isascii() else None
        assert str(flag).lower() == ("true" if d else "false")
        assert cat == (d["label"] if d else was)


def test_cli_score_refuses_a_malformed_decisions_file_before_reading_input(tmp_path, cli_engine, capsys) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "lathe,,machine_tools,a,2026-01-01,\nlens,,optic,a,2026-01-01,\n")
    out = tmp_path / "out.csv"
    code = main(["score", str(SAMPLE), "-o", str(out), "--text-column", "description", "--decisions", str(bad)])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE and not out.exists()
    assert "bad.csv" in err and "line 3: label: expected one of" in err and "Traceback" not in err


def test_cli_classify_shows_the_decision(tmp_path, cli_engine, capsys) -> None:
    path = tmp_path / "d.csv"
    path.write_text(HEADER + "Tool trolley 7 drawers,,machine_tools,ana,2026-01-05,test\n")
    assert main(["classify", "tool trolley  7 drawers", "--decisions", str(path), "--json"]) == EXIT_OK
    result = json.loads(capsys.readouterr().out)
    assert result["category"] == "machine_tools" and result["decision"]["reviewer"] == "ana"
    assert main(["classify", "tool trolley 7 drawers", "--decisions", str(path)]) == EXIT_OK
    assert "decision:     machine_tools by ana on 2026-01-05" in capsys.readouterr().out


def test_score_dask_with_decisions_equals_score_frame(fifty) -> None:
    dd = pytest.importorskip("dask.dataframe")
    from dualuse.dask import score_dask
    from dualuse.defaults import keyword_engine

    path, decided, texts = fifty
    frame = pd.DataFrame({"text": texts[:30] + [r["text"].lower() for r in list(decided.values())[:10]]})
    lazy = score_dask(dd.from_pandas(frame, npartitions=3), "text", engine_factory=keyword_engine, decisions=path)
    got = lazy.compute(scheduler="synchronous")
    expected = score_frame(frame, "text", engine=keyword_engine().with_decisions(path))
    # (Dask turns the input's object column into its own string dtype; the scored columns are compared)
    pd.testing.assert_frame_equal(got.drop(columns="text"), expected.drop(columns="text"))
    assert dict(lazy.dtypes) == dict(got.dtypes)
    assert got["decided"].sum() == sum(_key(t) in decided for t in frame["text"])


def test_cli_score_with_decisions_in_worker_processes_equals_one_process(tmp_path, cli_engine, fifty) -> None:
    path = fifty[0]
    outs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"scored_{jobs}.csv"
        args = ["score", str(SAMPLE), "-o", str(out), "--text-column", "description", "--progress", "never"]
        main([*args, "--decisions", str(path), "--jobs", jobs, "--chunk-size", "37"])
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] and b"screened_category" in outs[0]
