"""The seeded generator of invoice-style training lines."""

from __future__ import annotations

import random
import re

import pytest

from dualuse.matcher import KeywordMatcher
from dualuse.synth import generate, read_negatives, sample_pattern

from conftest import DATA


def test_same_seed_same_lines(mini_taxonomy) -> None:
    a = list(generate(mini_taxonomy, ["cordless drill"], per_subcategory=30, seed=5))
    b = list(generate(mini_taxonomy, ["cordless drill"], per_subcategory=30, seed=5))
    c = list(generate(mini_taxonomy, ["cordless drill"], per_subcategory=30, seed=6))
    assert a == b
    assert a != c


def test_every_subcategory_and_negatives_present(mini_taxonomy) -> None:
    lines = list(generate(mini_taxonomy, ["cordless drill"], per_subcategory=10, negatives_per_phrase=2, seed=0))
    sources = {s for _, _, s in lines}
    assert {f"synthetic:{s.id}" for s in mini_taxonomy.subcategories} <= sources
    assert "synthetic:negative" in sources
    assert all(label == "none" for _, label, s in lines if s == "synthetic:negative")
    # exclusion phrases of the taxonomy are used as negatives too
    assert any("potato chips" in t.lower() for t, _, s in lines if s == "synthetic:negative")


@pytest.mark.parametrize("regex", ["stm32[a-z]\\d", "ck61\\d{2}", "xc7[az]\\d{2,3}", "(vf|vm)-?\\d{1,2}"])
def test_sampled_part_numbers_match_their_pattern(regex: str) -> None:
    rng = random.Random(0)
    compiled = re.compile(regex, re.IGNORECASE)
    for _ in range(50):
        assert compiled.match(sample_pattern(regex, rng))


def test_positive_lines_carry_their_family_keywords(mini_taxonomy) -> None:
    matcher = KeywordMatcher(mini_taxonomy)
    lines = [(t, lbl) for t, lbl, s in generate(mini_taxonomy, [], per_subcategory=50, seed=3) if s != "synthetic:negative"]
    hits = sum(lbl in matcher.match(t).families for t, lbl in lines)
    # typos and shuffles may hide a term now and then, but nearly every line must keep it
    assert hits / len(lines) > 0.85


def test_negatives_file_reads_phrases_without_comments() -> None:
    phrases = read_negatives(DATA / "synthetic" / "negatives.txt")
    assert len(phrases) > 150
    assert not any(p.startswith("#") for p in phrases)
    assert "potato chips" in phrases
