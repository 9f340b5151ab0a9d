"""Keyword-only checks on ``data/dev/registers.tsv``: brand-and-model lines, camera objectives
against camera bodies, distributor part-number lines and other-language lines, with their hard
negatives. Written by hand for the brand registry and the language terms (never from
evaluation rows); each line carries strong evidence or none, so the keyword engine decides it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from dualuse.brands import brand_patterns
from dualuse.engine import Engine, FusionConfig
from dualuse.taxonomy import Brand, load_taxonomy

with (Path(__file__).parent.parent / "data/dev/registers.tsv").open(encoding="utf-8", newline="") as _fh:
    ROWS = list(csv.DictReader(_fh, delimiter="\t"))


@pytest.fixture(scope="module")
def engine():
    return Engine(load_taxonomy(), model=None, fusion=FusionConfig(no_model_none_prior=2.0))


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['register']}:{r['text'][:30]}" for r in ROWS])
def test_register_line(engine, row):
    assert engine.score([row["text"]]).category[0] == row["label"]


def test_brand_expansion_names_maker_and_series():
    brand = Brand(
        maker="Haas Automation",
        aliases=["Haas"],
        subcategory="machine_tools.machining_centres",
        series=["VF#", {"name": "Robodrill", "alone": True}],
        source="test",
    )
    pairs = brand_patterns(brand)
    ids = {p.id for _, p in pairs}
    assert ids == {"brand:haas_automation:machining_centres", "brand:haas_automation:robodrill"}
    assert all(p.weight >= 1.0 for _, p in pairs)


def test_brand_alone_is_weak_and_series_needs_model_number():
    tax = load_taxonomy()
    from dualuse.matcher import KeywordMatcher

    m = KeywordMatcher(tax)
    alone = m.match("Hurco")
    assert [x.weight for x in alone.matches] == [0.5]
    assert not m.match("Haas VF").matches or all(x.weight < 1 for x in m.match("Haas VF").matches)
    assert not m.match("Pulsar Thermionic valve").matches


def _probe_rows(name: str) -> list[dict[str, str]]:
    with (Path(__file__).parent.parent / "data/dev" / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@pytest.mark.parametrize("name", ["registers.tsv", "registers_intl.tsv"])
def test_register_probes_on_the_default_engine(name):
    """The shipped model with its fusion gets every probe line right (the README's figure)."""
    from dualuse.api import classify_batch

    rows = _probe_rows(name)
    results = classify_batch([r["text"] for r in rows])
    wrong = [(r["text"], r["label"], c.category) for r, c in zip(rows, results, strict=True) if c.category != r["label"]]
    assert wrong == []
