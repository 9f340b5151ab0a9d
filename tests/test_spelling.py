"""The typo and abbreviation reading (dualuse.spelling): what it reads, what it leaves alone.

Expectations are independent of the implementation: edit distance is checked against a
plain dynamic-programming distance, typos are generated from the taxonomy's own terms, and
real words come from the lexicon file, not from the code's decisions.
"""

from __future__ import annotations

import random
import re

import pytest

from dualuse.api import classify, classify_batch
from dualuse.matcher import KeywordMatcher
from dualuse.normalize import fold
from dualuse.spelling import SpellingReader, default_lexicon, spelling_settings, within_one_edit
from dualuse.taxonomy import default_taxonomy


def _osa_distance(a: str, b: str) -> int:
    """Optimal string alignment distance, the textbook dynamic programme."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def test_within_one_edit_agrees_with_the_dynamic_programme() -> None:
    rng = random.Random(7)
    for _ in range(5000):
        a = "".join(rng.choice("abc") for _ in range(rng.randint(0, 6)))
        b = "".join(rng.choice("abc") for _ in range(rng.randint(0, 6)))
        assert within_one_edit(a, b) == (_osa_distance(a, b) <= 1), (a, b)


def _single_word_terms() -> dict[str, str]:
    """Latin one-word terms of 8+ letters of the packaged taxonomy -> family."""
    out: dict[str, str] = {}
    for t in default_taxonomy().term_entries():
        word = fold(t.text)
        if re.fullmatch(r"[a-z]{8,}", word) and t.weight >= 1.0:
            out.setdefault(word, t.family)
    return out


def _typos(word: str, rng: random.Random) -> list[str]:
    """One swap of inner neighbours, one inner letter replaced, one inner letter dropped."""
    i = rng.randrange(1, len(word) - 2)
    swapped = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    j = rng.randrange(1, len(word) - 1)
    replaced = word[:j] + ("x" if word[j] != "x" else "q") + word[j + 1 :]
    dropped = word[:j] + word[j + 1 :]
    return [t for t in (swapped, replaced, dropped) if t != word]


def test_generated_typos_of_terms_are_read_as_those_terms(keyword_engine) -> None:
    """Typos made from the taxonomy's own one-word terms are found as typo evidence of the
    term's family; the only ones allowed to slip are real words or ambiguous typos."""
    lexicon = default_lexicon()
    terms = _single_word_terms()
    assert len(terms) > 40
    rng = random.Random(11)
    tried = found = 0
    for word, family in sorted(terms.items()):
        for typo in _typos(word, rng):
            if typo in lexicon:
                continue  # a real word: never read as a typo, by design
            tried += 1
            r = classify(f"{typo} 220V", engine=keyword_engine)
            hits = [e for e in r.matched_terms() if e.family == family and e.reading == "typo"]
            if hits:
                found += 1
                assert hits[0].matched_text == typo  # evidence quotes the text as written
    assert tried > 100
    assert found / tried >= 0.9, (found, tried)


def test_typo_evidence_is_weaker_than_the_exact_term(keyword_engine) -> None:
    exact = classify("microscope", engine=keyword_engine).matched_terms()[0]
    typo = classify("MIRCOSCOPE", engine=keyword_engine).matched_terms()[0]
    factor = spelling_settings()[1]["typo_weight"]
    assert typo.reading == "typo" and exact.reading == "exact"
    assert typo.term == exact.term and typo.family == exact.family
    assert typo.weight == pytest.approx(exact.weight * factor)
    assert (typo.start, typo.end, typo.matched_text) == (0, 10, "MIRCOSCOPE")


@pytest.mark.parametrize(
    "text",
    [
        "Filling machine for bottles",  # "filling" is a word, one letter from "milling"
        "Rooter for drain pipes",  # "rooter", one letter from "router"
        "Conn_Binoculors_01x02",  # an identifier, not prose
        "BINOCULORS2000 strap",  # a word glued to digits is a code
    ],
)
def test_real_words_and_codes_are_not_read_as_typos(keyword_engine, text: str) -> None:
    assert [e for e in classify(text, engine=keyword_engine).matched_terms() if e.reading == "typo"] == []


def test_lexicon_words_near_terms_exist_and_are_left_alone() -> None:
    """The guard is real: the lexicon holds words one edit from the term words, and the
    reader corrects none of them."""
    matcher = KeywordMatcher(default_taxonomy())
    reader = matcher._spelling
    assert reader is not None
    lexicon = default_lexicon()
    words = {w for t in default_taxonomy().term_entries() for w in re.findall(r"[a-z]{6,}", fold(t.text))}
    letters = "abcdefghijklmnopqrstuvwxyz"
    variants: set[str] = set()
    for t in words:  # every word one edit from a term word, keeping its first letter
        for i in range(1, len(t) + 1):
            variants.add(t[:i] + t[i + 1 :])
            variants.update(t[:i] + c + t[i + 1 :] for c in letters)
            variants.update(t[:i] + c + t[i:] for c in letters)
            if i + 1 < len(t):
                variants.add(t[:i] + t[i + 1] + t[i] + t[i + 2 :])
    near = sorted(w for w in variants - words if w in lexicon)
    assert len(near) > 20  # e.g. filling/milling
    assert all(reader.correction(w) is None for w in near)


def test_ambiguous_typo_is_not_read() -> None:
    reader = SpellingReader(
        {"grinder": ["machine_tools"], "grander": ["optics"], "lensing": ["optics"], "lenzing": ["optics"]},
        lexicon=frozenset(),
        abbreviations={},
    )
    assert reader.correction("grinder") is None  # a term word itself
    assert reader.correction("grxnder") is None  # one edit from words of two families
    assert reader.correction("grindr") == "grinder"
    assert reader.correction("grindrs") == "grinders"  # a plural read through its singular
    assert reader.correction("lenxing") in {"lensing", "lenzing"}  # two words of one family


def test_abbreviations_complete_terms_only(keyword_engine) -> None:
    r = classify("VERT MACH CTR 5AX", engine=keyword_engine)
    abbr = [e for e in r.matched_terms() if e.reading == "abbreviation"]
    assert abbr and {e.family for e in abbr} == {"machine_tools"}
    assert r.category == "machine_tools"
    # an expansion alone is not evidence: "MACH SCREW" reads "machine screw", no term
    assert classify("MACH SCREW M6X20", engine=keyword_engine).matched_terms() == []


def test_batch_equals_single_with_spelling_readings(keyword_engine) -> None:
    texts = ["binoculors 8x42", "VERT MACH CTR", "mircoscope slide", "Filling machine", "tranzistors NPN"]
    batch = classify_batch(texts, engine=keyword_engine)
    assert [b.model_dump() for b in batch] == [classify(t, engine=keyword_engine).model_dump() for t in texts]


def test_default_engine_flags_typos_of_family_items() -> None:
    for text, family in [("binoculors 8x42", "optics"), ("mircoscope", "optics"), ("tranzistors", "microelectronics")]:
        r = classify(text)
        assert r.category == family
        assert any(e.reading == "typo" for e in r.matched_terms())


def test_shipped_lexicon_is_what_the_generator_derives() -> None:
    """``dualuse/data/lexicon.txt`` is reproducible from the corpus and the SCOWL lists."""
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    script = root / "dualuse" / "data" / "make_lexicon.py"
    spec = importlib.util.spec_from_file_location("make_lexicon", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    missing = [p for p in (module.SOURCE, *module.WORD_LISTS) if not p.exists()]
    if missing:
        pytest.skip(f"needs {', '.join(map(str, missing))} (Debian packages wamerican-large, wbritish-large)")
    shipped = (root / "dualuse" / "data" / "lexicon.txt").read_text(encoding="utf-8")
    assert module.render(module.lexicon_words()) == shipped


def _typo_register_rows() -> list[dict[str, str]]:
    import csv
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "data" / "dev" / "registers_typos.tsv"
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@pytest.mark.parametrize("row", _typo_register_rows(), ids=lambda r: f"{r['register']}:{r['text'][:30]}")
def test_typo_and_abbreviation_register_line(row: dict[str, str]) -> None:
    """The hand-written typo and ERP-abbreviation probes (data/dev/registers_typos.tsv), with
    their look-alike negatives, on the default engine."""
    assert classify(row["text"]).category == row["label"]
