"""Destination lists: every entry has a source, codes are checked, users extend or replace the lists."""

from __future__ import annotations

import pytest

from dualuse.destinations import (
    LISTS,
    country_codes,
    default_destinations,
    load_destinations,
    parse_country_code,
)
from dualuse.errors import DestinationListError, InputTypeError, InvalidCountryCodeError


def test_every_packaged_entry_names_a_dated_source_with_a_url() -> None:
    lists = default_destinations()
    assert lists.version and len(lists.sha256) == 64
    for name in LISTS:
        assert lists.entries[name], f"{name} is empty"
        for code, ids in lists.entries[name].items():
            assert code in country_codes()
            assert ids
            for s in lists.sources_of(code):
                assert s.title and s.url.startswith("https://")
                assert len(s.date) == 10 and s.date[4] == "-" and s.date[7] == "-"


@pytest.mark.parametrize(("code", "status"), [("RU", "embargoed"), ("BY", "embargoed"), ("DE", "other"), ("FR", "other")])
def test_the_packaged_lists_place_russia_and_belarus_as_embargoed(code, status) -> None:
    assert default_destinations().status(code) == status


def test_the_official_code_list_is_complete_and_plain() -> None:
    codes = country_codes()
    assert len(codes) == 249  # ISO 3166-1 officially assigned alpha-2 codes
    assert all(len(c) == 2 and c.isascii() and c.isupper() for c in codes)


@pytest.mark.parametrize(("value", "expected"), [("kz", "KZ"), (" DE ", "DE"), ("Ru", "RU")])
def test_codes_are_read_case_insensitively(value, expected) -> None:
    assert parse_country_code(value) == expected


@pytest.mark.parametrize(("value", "hint"), [("XX", "XX"), ("UK", "GB"), ("RUS", "RUS"), ("", "''")])
def test_unknown_codes_are_a_typed_error_naming_the_parameter(value, hint) -> None:
    with pytest.raises(InvalidCountryCodeError, match=rf"destination: expected an officially assigned.*{hint}"):
        parse_country_code(value)


def test_a_non_string_code_is_a_type_error() -> None:
    with pytest.raises(InputTypeError, match="destination: expected an ISO 3166-1 alpha-2"):
        parse_country_code(7)


_USER = """
name = "acme"
version = "3"
[sources.acme-memo]
title = "ACME export policy memo"
url = "https://example.invalid/memo"
date = "2024-05-01"
[embargoed]
KZ = ["acme-memo"]
[diversion_risk]
FR = ["acme-memo"]
"""


def test_a_user_file_replaces_the_lists(tmp_path) -> None:
    path = tmp_path / "d.toml"
    path.write_text(_USER, encoding="utf-8")
    lists = load_destinations(path)
    assert (lists.name, lists.version) == ("acme", "3")
    assert lists.status("KZ") == "embargoed" and lists.status("FR") == "diversion_risk"
    assert lists.status("RU") == "other"
    assert lists.sha256 != default_destinations().sha256


def test_a_user_file_extends_the_lists(tmp_path) -> None:
    path = tmp_path / "d.toml"
    path.write_text(_USER, encoding="utf-8")
    lists = load_destinations(path, extend=True)
    assert lists.status("RU") == "embargoed"  # packaged entry kept
    assert lists.status("KZ") == "embargoed"  # moved up from diversion_risk by the user
    assert "KZ" not in lists.entries["diversion_risk"]
    assert lists.status("FR") == "diversion_risk"
    assert lists.version == f"{default_destinations().version}+3"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (_USER.replace('KZ = ["acme-memo"]', 'XX = ["acme-memo"]'), "officially assigned"),
        (_USER.replace('KZ = ["acme-memo"]', 'KZ = ["nowhere"]'), "source ids defined under"),
        (_USER.replace('KZ = ["acme-memo"]', "KZ = []"), "non-empty list"),
        (_USER.replace('date = "2024-05-01"\n', ""), "title, url and date"),
        (_USER.replace('KZ = ["acme-memo"]', 'FR = ["acme-memo"]'), "on both lists"),
        ("sanctioned = 1\n" + _USER, "unknown keys"),
        ("name = [", "not valid UTF-8 TOML"),
    ],
    ids=["unknown-code", "unknown-source", "no-source", "source-without-date", "on-both-lists", "unknown-key", "bad-toml"],
)
def test_malformed_files_are_refused_with_the_reason(tmp_path, body, message) -> None:
    path = tmp_path / "d.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(DestinationListError, match=message):
        load_destinations(path)
