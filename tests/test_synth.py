"""The seeded generator of invoice-style training lines."""

from __future__ import annotations

import random
import re

import pytest
from conftest import DATA

from dualuse.matcher import KeywordMatcher
from dualuse.training.synth import generate, read_negatives, sample_pattern


def test_same_seed_same_lines(mini_taxonomy) -> None:
    a = list(generate(mini_taxonomy, ["cordless drill"], per_subcategory=30, seed=5))
    b = list(generate(mini_taxonomy, ["cordless drill"], per_subcategory=30, seed=5))
    c = list(generate(mini_taxonomy, ["cordless drill"], per_subcategory=30, seed=6))
    assert a == b
    assert a != c


def test_a_taxonomy_edit_redraws_only_the_edited_subcategory(mini_taxonomy, tmp_path) -> None:
    from conftest import FIXTURES

    from dualuse.taxonomy import load_taxonomy

    toml = (FIXTURES / "mini_taxonomy.toml").read_text(encoding="utf-8")
    edited = toml.replace(
        'terms.en = ["laser", "fiber laser source"]', 'terms.en = ["laser", "fiber laser source", "CO2 laser tube"]'
    )
    assert edited != toml
    (tmp_path / "edited.toml").write_text(edited, encoding="utf-8")
    before = list(generate(mini_taxonomy, ["cordless drill"], per_subcategory=30, seed=3))
    after = list(generate(load_taxonomy(tmp_path / "edited.toml"), ["cordless drill"], per_subcategory=30, seed=3))

    def by_source(lines):
        out: dict = {}
        for text, _, source in lines:
            out.setdefault(source, []).append(text)
        return out

    b, a = by_source(before), by_source(after)
    assert a.keys() == b.keys()
    assert a["synthetic:optics.lasers"] != b["synthetic:optics.lasers"]
    assert {k: v for k, v in a.items() if k != "synthetic:optics.lasers"} == {
        k: v for k, v in b.items() if k != "synthetic:optics.lasers"
    }


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


# ------------------------------------------------------------------ short trader forms, bare terms


def test_short_forms_follow_the_documented_rules() -> None:
    from dualuse.training.synth import short_forms_of

    forms = short_forms_of("Machine-tools; lathes (including turning centres) for removing metal")
    # head noun phrase, lower case, its singular, and "metal X" for "X ... for removing metal";
    # the bracketed clause and the bare heading word "machine-tools" are not forms
    assert set(forms) == {"lathes", "lathe", "metal lathes", "metal lathe"}
    forms = short_forms_of("Binoculars, monoculars, other optical telescopes, and mountings therefor; Binoculars")
    assert {"binoculars", "monoculars", "optical telescopes", "optical telescope"} <= set(forms)
    assert not any("mountings" in f or "therefor" in f for f in forms)


def test_short_forms_with_two_labels_are_dropped() -> None:
    from dualuse.training.synth import short_forms

    pairs = dict(short_forms(["Lathes for removing metal", "Lathes for wood"], ["machine_tools", "none"]))
    assert "lathes" not in pairs and "lathe" not in pairs  # both labels: ambiguous alone
    assert pairs["metal lathes"] == "machine_tools"


def test_bare_terms_once_each_with_their_family(mini_taxonomy) -> None:
    from dualuse.training.synth import bare_terms

    rows = list(bare_terms(mini_taxonomy, ["cordless drill", "Cordless Drill"]))
    texts = [t for t, _, _ in rows]
    assert len(texts) == len(set(texts))  # lower-cased, each once
    lathes = mini_taxonomy.subcategory("machine_tools.lathes")
    assert all((t.lower(), lathes.family, "synthetic:bare") in rows for _, t in lathes.terms.items())
    assert ("cordless drill", "none", "synthetic:bare") in rows


def test_probe_never_sees_short_forms_of_held_out_lines() -> None:
    import pandas as pd

    from dualuse.training.synth import short_forms
    from dualuse.training.train import probe_split, short_form_frame

    corpus = pd.read_csv(DATA / "corpus" / "nomenclature.csv", dtype=str, keep_default_na=False).iloc[::5]
    frame = pd.concat([corpus[["text", "label", "source"]], short_form_frame(corpus, none_cap=None)], ignore_index=True)
    probe, held_out = probe_split(frame, seed=3)
    probe_forms = set(probe.loc[probe["source"] == "synthetic:short_form", "text"])
    fit_lines = probe[~probe["source"].str.startswith("synthetic")]
    allowed = {f for f, _ in short_forms(fit_lines["text"].tolist(), fit_lines["label"].tolist())}
    assert probe_forms and probe_forms <= allowed
    held_only = {f for f, _ in short_forms(held_out["text"].tolist(), held_out["label"].tolist())} - allowed
    assert held_only and not (held_only & probe_forms)
    assert not set(held_out["text"]) & set(fit_lines["text"])
