"""The review priority: the documented rule, and what classify, score_frame and the CLI report."""

from __future__ import annotations

import pandas as pd
import pytest

from dualuse import classify, score_frame
from dualuse.cli import main
from dualuse.errors import ColumnNotFoundError, InvalidCountryCodeError
from dualuse.hs_index import HSIndex
from dualuse.priority import priority, suggested_tier


@pytest.mark.parametrize(
    ("category", "risk", "reasons", "tier", "destination", "expected"),
    [
        ("machine_tools", "high", ("family_flagged",), "4.B", "embargoed", "P1"),  # 2 + 1 + 3
        ("machine_tools", "high", ("family_flagged",), "4.B", "diversion_risk", "P1"),  # 2 + 1 + 2
        ("machine_tools", "high", ("family_flagged",), None, "diversion_risk", "P2"),  # 2 + 2
        ("machine_tools", "high", ("family_flagged",), "4.B", "other", "P2"),  # 2 + 1
        ("optics", "medium", ("family_flagged",), None, None, "P3"),  # 2
        ("optics", "low", ("family_flagged",), None, "embargoed", "P2"),  # 1 + 3
        ("none", "low", ("uncertain",), None, "other", "P3"),  # 1
        ("none", "low", ("chpl_listed",), "3.B", "embargoed", "P2"),  # 0 + 1 + 3
        ("none", "none", (), None, "embargoed", "P4"),  # an ordinary good stays last wherever it goes
    ],
)
def test_the_documented_rule(category, risk, reasons, tier, destination, expected) -> None:
    assert priority(category, risk, reasons, tier, destination) == expected


def test_a_suggested_tier_is_the_best_listed_code_of_the_flagged_family() -> None:
    class S:
        def __init__(self, family: str, tier: str | None) -> None:
            self.family, self.chpl_tier = family, tier

    suggestions = [S("machine_tools", None), S("none", "3.B"), S("machine_tools", "4.B")]
    assert suggested_tier("machine_tools", suggestions) == "4.B"
    assert suggested_tier("none", suggestions) is None  # a none row reads the top suggestion only
    assert suggested_tier("optics", suggestions) is None


@pytest.fixture(scope="module")
def engine():
    from dualuse.defaults import default_model
    from dualuse.engine import Engine
    from dualuse.taxonomy import default_taxonomy

    return Engine(default_taxonomy(), default_model(), hs_index=HSIndex())


def _rank(p: str | None) -> int:
    return ["P1", "P2", "P3", "P4"].index(p or "P4")


def test_the_same_flagged_line_ranks_higher_to_russia_than_to_germany(engine) -> None:
    text = "CNC horizontal lathe for metal"
    ru = classify(text, destination="RU", engine=engine)
    de = classify(text, destination="DE", engine=engine)
    kz = classify(text, destination="KZ", engine=engine)
    assert ru.flagged and de.flagged
    assert _rank(ru.priority) < _rank(de.priority)
    assert _rank(kz.priority) < _rank(de.priority)
    assert ru.destination is not None and ru.destination.status == "embargoed" and ru.destination.sources
    assert de.destination is not None and de.destination.status == "other" and de.destination.sources == ()
    assert ru.category == de.category and ru.confidence == de.confidence  # the destination changes the order only


def test_an_unknown_destination_is_a_typed_error_in_classify(engine) -> None:
    with pytest.raises(InvalidCountryCodeError, match="destination: .*'XX'"):
        classify("CNC lathe", destination="XX", engine=engine)


def test_an_unknown_destination_is_a_row_status_in_batch(engine) -> None:
    df = pd.DataFrame({"d": ["CNC lathe", "CNC lathe", "CNC lathe", "wooden chair"], "to": ["RU", "XX", None, "DE"]})
    out = score_frame(df, "d", destination_column="to", engine=engine)
    assert out["status"].tolist() == ["ok", "invalid_destination", "ok", "ok"]
    assert "XX" in out.loc[1, "error"]
    assert out.loc[1, "category"] == out.loc[0, "category"]  # still screened
    assert pd.isna(out.loc[1, "priority"])  # never a silent default
    assert out.loc[0, "destination_status"] == "embargoed" and pd.isna(out.loc[2, "destination_status"])
    for i, dest in ((0, "RU"), (2, None), (3, "DE")):
        assert out.loc[i, "priority"] == classify(df.loc[i, "d"], destination=dest, engine=engine).priority


def test_a_missing_destination_column_lists_the_columns(engine) -> None:
    with pytest.raises(ColumnNotFoundError, match="destination_column: column 'dest' not found; available columns: 'd'"):
        score_frame(pd.DataFrame({"d": ["x"]}), "d", destination_column="dest", engine=engine)


def test_cli_score_with_a_destination_column(tmp_path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("id,description,destination\n1,CNC horizontal lathe for metal,RU\n2,CNC horizontal lathe for metal,DE\n")
    out = tmp_path / "out.csv"
    assert (
        main(
            [
                "score",
                str(src),
                "-o",
                str(out),
                "--text-column",
                "description",
                "--destination-column",
                "destination",
                "--jobs",
                "1",
            ]
        )
        == 0
    )
    got = pd.read_csv(out, dtype=str)
    assert _rank(got.loc[0, "priority"]) < _rank(got.loc[1, "priority"])
    assert got.loc[0, "hs_suggestion"] and got.loc[0, "destination_status"] == "embargoed"


def test_cli_classify_with_an_unknown_destination_exits_2(capsys) -> None:
    assert main(["classify", "CNC lathe", "--destination", "XX"]) == 2
    assert "destination: expected an officially assigned" in capsys.readouterr().err
