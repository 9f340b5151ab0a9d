"""Loading, validating, hashing and extending taxonomies; broken files give precise errors."""

from __future__ import annotations

import pytest
from conftest import FIXTURES

from dualuse.errors import TaxonomyError
from dualuse.taxonomy import check_pattern_is_safe, default_taxonomy, load_taxonomy


def test_default_taxonomy_loads_with_version_and_hash() -> None:
    tax = default_taxonomy()
    assert tax.version
    assert len(tax.sha256) == 64
    families = {s.family for s in tax.subcategories}
    assert families == {"machine_tools", "microelectronics", "optics"}


def test_hash_is_stable_and_content_sensitive(tmp_path) -> None:
    a = load_taxonomy(FIXTURES / "mini_taxonomy.toml")
    b = load_taxonomy(FIXTURES / "mini_taxonomy.toml")
    assert a.sha256 == b.sha256
    changed = tmp_path / "changed.toml"
    changed.write_text(
        (FIXTURES / "mini_taxonomy.toml").read_text(encoding="utf-8").replace('"lathe"', '"lathes"'), encoding="utf-8"
    )
    assert load_taxonomy(changed).sha256 != a.sha256


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        pytest.param(
            "broken_bad_family.toml",
            r"broken_bad_family\.toml.*\[\[subcategory\]\] #1 \(id 'lasers\.x'\) field family",
            id="bad-family",
        ),
        pytest.param("broken_nested_repeat.toml", r"id 'ics\.evil'.*unbounded repeat", id="catastrophic-pattern"),
        pytest.param(
            "broken_conflict.toml",
            r"subcategory 'b\.two': term 'Scope' conflicts with .*'a\.one' of family 'optics'",
            id="conflicting-term",
        ),
        pytest.param("broken_toml.toml", r"broken_toml\.toml: not valid TOML", id="not-toml"),
        pytest.param(
            "broken_unknown_field.toml", r"id 'a\.one'\) field colour: Extra inputs are not permitted", id="unknown-field"
        ),
        pytest.param("broken_duplicate_id.toml", r"#2: duplicate id 'a\.one'", id="duplicate-id"),
        pytest.param(
            "broken_spares.toml",
            r"\[\[exclusion\]\] 'wood': spares 'optics\.lenses' is not a subcategory of its families",
            id="spares-outside-families",
        ),
    ],
)
def test_broken_files_name_file_entry_and_problem(fixture: str, message: str) -> None:
    with pytest.raises(TaxonomyError, match=message):
        load_taxonomy(FIXTURES / fixture)


def test_missing_file(tmp_path) -> None:
    with pytest.raises(TaxonomyError, match=r"nope\.toml: cannot read taxonomy file"):
        load_taxonomy(tmp_path / "nope.toml")


def test_oversized_file_refused_before_parsing(tmp_path) -> None:
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * 3_000_000)
    with pytest.raises(TaxonomyError, match="limit is"):
        load_taxonomy(big)


def test_taxonomy_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        load_taxonomy(FIXTURES / "broken_bad_family.toml")


@pytest.mark.parametrize(
    "regex",
    [
        pytest.param("(a+)+", id="nested-plus"),
        pytest.param("(a*)*b", id="nested-star"),
        pytest.param("(?=a)b", id="lookahead"),
        pytest.param(r"(a)\1", id="backreference"),
    ],
)
def test_unsafe_patterns_refused(regex: str) -> None:
    with pytest.raises(ValueError):
        check_pattern_is_safe(regex)


@pytest.mark.parametrize(
    "regex",
    [
        "stm32[a-z]\\d",
        "xc7[az]\\d{2,3}",
        "ck61\\d{2}",
        "(vf|vm)-?\\d",
        pytest.param("(?i)abc", id="inline-flag"),  # flags are harmless
    ],
)
def test_safe_patterns_accepted(regex: str) -> None:
    assert check_pattern_is_safe(regex) is None  # returns quietly; refusing raises ValueError


def test_extend_default_adds_terms(tmp_path) -> None:
    base = load_taxonomy(FIXTURES / "mini_taxonomy.toml")
    ext = load_taxonomy(FIXTURES / "extension.toml")
    merged = base.extended_with(ext)
    lathes = merged.subcategory("machine_tools.lathes")
    assert "swiss-type automatic" in lathes.terms.en and "lathe" in lathes.terms.en
    assert merged.version == "1.1.0"
    assert merged.sha256 != base.sha256


def test_extend_default_via_loader() -> None:
    merged = load_taxonomy(FIXTURES / "extension.toml", extend_default=True)
    default = default_taxonomy()
    # the extension adds a term to a subcategory the default already has: no new subcategory
    default_lathes = default.subcategory("machine_tools.lathes")
    assert [s.id for s in merged.subcategories] == [s.id for s in default.subcategories]
    merged_lathes = merged.subcategory("machine_tools.lathes")
    assert "swiss-type automatic" in merged_lathes.terms.en and "swiss-type automatic" not in default_lathes.terms.en
    assert set(default_lathes.terms.en) <= set(merged_lathes.terms.en)


def test_an_extension_may_spare_a_subcategory_of_the_default() -> None:
    from dualuse.engine import Engine

    merged = load_taxonomy(FIXTURES / "extension_spares.toml", extend_default=True)
    engine = Engine(merged, model=None)
    assert engine.score(["laser cutting machine for resin"]).category[0] == "machine_tools"
    assert engine.score(["CNC lathe for resin"]).category[0] == "none"
    # alone, the file cannot say whether the spared subcategory exists: it loads as an
    # extension only
    with pytest.raises(TaxonomyError, match=r"spares 'machine_tools\.edm_laser_waterjet_plasma'"):
        load_taxonomy(FIXTURES / "extension_spares.toml")


@pytest.mark.parametrize(
    ("regex", "message"),
    [
        pytest.param("z?", "empty string", id="matches-nothing"),
        pytest.param(r"\w{0,20}" * 8 + "!", "can match up to 161 characters", id="ranged-repeat-chain"),
    ],
)
def test_patterns_that_flag_everything_or_backtrack_exponentially_are_refused(regex, message) -> None:
    from dualuse.taxonomy import check_pattern_is_safe

    with pytest.raises(ValueError, match=message):
        check_pattern_is_safe(regex)
