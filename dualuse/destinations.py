"""Destination lists: which countries raise the review priority of a flagged line, and why.

The same lathe means something else shipped to Germany, to Kazakhstan or to Russia. The
package ships two lists as data (``dualuse/data/destinations.toml``), each entry an ISO
3166-1 alpha-2 code with the official documents that name it (title, URL, date):

``embargoed``
    destinations under EU and/or US embargoes or comprehensive restrictions on these goods
    (Russia, Belarus, Iran, North Korea, Syria, Cuba);
``diversion_risk``
    destinations named in official advisories as common transshipment points for items bound
    for Russia or Belarus.

The file has a name, a version and a review date; its sha256 is reported in every result's
provenance. A user extends the lists (``load_destinations(path, extend=True)``: the packaged
entries plus theirs) or replaces them (``load_destinations(path)``). Country codes are
checked against the officially assigned ISO 3166-1 alpha-2 codes
(``dualuse/data/iso3166_alpha2.tsv``, from the IANA time zone database, public domain): an
unknown code is an error, never a silent "other".

A list is a triage aid, never a legal verdict.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from .errors import DestinationListError, InputTypeError, InvalidCountryCodeError, describe
from .untrusted import read_regular_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "LISTS",
    "DestinationStatus",
    "DestinationSource",
    "DestinationLists",
    "country_codes",
    "parse_country_code",
    "load_destinations",
    "default_destinations",
]

#: The lists, highest concern first.
LISTS: tuple[str, ...] = ("embargoed", "diversion_risk")
#: A destination's standing: on one of :data:`LISTS`, or ``other``.
DestinationStatus = Literal["embargoed", "diversion_risk", "other"]
_MAX_FILE_BYTES = 1_000_000


@lru_cache(maxsize=1)
def country_codes() -> Mapping[str, str]:
    """The officially assigned ISO 3166-1 alpha-2 codes -> usual English name (do not modify)."""
    text = resources.files("dualuse").joinpath("data", "iso3166_alpha2.tsv").read_text(encoding="utf-8")
    rows = (line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
    return {code: name for code, name in rows}


def parse_country_code(value: object, *, param: str = "destination") -> str:
    """``value`` as an upper-case ISO 3166-1 alpha-2 code (``" kz"`` -> ``"KZ"``).

    Raises:
        InputTypeError: ``value`` is not a ``str``.
        InvalidCountryCodeError: not an officially assigned alpha-2 code (``"XX"``, ``"UK"``
            (the code of the United Kingdom is ``GB``), ``"RUS"``); the message names ``param``.
    """
    if not isinstance(value, str):
        raise InputTypeError(f"{param}: expected an ISO 3166-1 alpha-2 country code as str (e.g. 'KZ'), got {describe(value)}")
    code = value.strip().upper()
    if code not in country_codes():
        hint = " (the United Kingdom is 'GB')" if code == "UK" else ""
        raise InvalidCountryCodeError(
            f"{param}: expected an officially assigned ISO 3166-1 alpha-2 country code (e.g. 'KZ', 'DE'){hint}, got {describe(value)}"
        )
    return code


@dataclass(frozen=True)
class DestinationSource:
    """An official document that names destinations."""

    id: str
    title: str
    url: str
    date: str


@dataclass(frozen=True)
class DestinationLists:
    """The destination lists in force: entries with their sources, a version and a hash."""

    name: str
    version: str
    sha256: str
    sources: Mapping[str, DestinationSource]
    entries: Mapping[str, Mapping[str, tuple[str, ...]]]  # list -> code -> source ids

    def status(self, code: str) -> DestinationStatus:
        """The highest-concern list ``code`` (an already parsed alpha-2 code) is on, else ``other``."""
        for name in LISTS:
            if code in self.entries[name]:
                return name  # type: ignore[return-value]
        return "other"

    def sources_of(self, code: str) -> tuple[DestinationSource, ...]:
        """The documents that put ``code`` on its list (empty for ``other``)."""
        status = self.status(code)
        if status == "other":
            return ()
        return tuple(self.sources[s] for s in self.entries[status][code])


def _check(raw: object, where: str) -> tuple[str, str, dict[str, DestinationSource], dict[str, dict[str, tuple[str, ...]]]]:
    if not isinstance(raw, dict):
        raise DestinationListError(f"{where}: expected a TOML table")
    unknown = sorted(set(raw) - {"name", "version", "reviewed", "sources", *LISTS})
    if unknown:
        raise DestinationListError(
            f"{where}: unknown keys {unknown}; expected name, version, reviewed, sources, {', '.join(LISTS)}"
        )
    name, version = raw.get("name"), raw.get("version")
    if not isinstance(name, str) or not name or not isinstance(version, str) or not version:
        raise DestinationListError(f'{where}: expected name and version strings (e.g. name = "my-lists", version = "1")')
    sources: dict[str, DestinationSource] = {}
    raw_sources = raw.get("sources", {})
    if not isinstance(raw_sources, dict):
        raise DestinationListError(f"{where}: sources: expected a table of [sources.ID] tables")
    for sid, s in raw_sources.items():
        fields = ("title", "url", "date")
        if not isinstance(s, dict) or sorted(s) != sorted(fields) or not all(isinstance(s[k], str) and s[k] for k in fields):
            raise DestinationListError(f"{where}: sources.{sid}: expected exactly title, url and date (non-empty strings)")
        sources[sid] = DestinationSource(sid, s["title"], s["url"], s["date"])
    entries: dict[str, dict[str, tuple[str, ...]]] = {}
    for list_name in LISTS:
        table = raw.get(list_name, {})
        if not isinstance(table, dict):
            raise DestinationListError(f"{where}: {list_name}: expected a table of CODE = [source ids]")
        entries[list_name] = {}
        for code, ids in table.items():
            try:
                parsed = parse_country_code(code, param=f"{where}: {list_name}")
            except InvalidCountryCodeError as exc:
                raise DestinationListError(str(exc)) from None
            if parsed != code:
                raise DestinationListError(f"{where}: {list_name}.{code}: write the code in upper case ({parsed})")
            if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i in sources for i in ids):
                raise DestinationListError(
                    f"{where}: {list_name}.{code}: expected a non-empty list of source ids defined under [sources], got {ids!r}"
                )
            entries[list_name][code] = tuple(ids)
    both = sorted(set(entries[LISTS[0]]) & set(entries[LISTS[1]]))
    if both:
        raise DestinationListError(f"{where}: {both} on both lists; keep each code on one list")
    return name, version, sources, entries


def _build(name: str, version: str, sources: dict[str, DestinationSource], entries: dict[str, dict[str, tuple[str, ...]]]):
    canonical = {
        "name": name,
        "version": version,
        "sources": {k: [s.title, s.url, s.date] for k, s in sorted(sources.items())},
        "entries": {k: {c: list(v) for c, v in sorted(e.items())} for k, e in entries.items()},
    }
    sha = hashlib.sha256(json.dumps(canonical, sort_keys=True, ensure_ascii=True).encode("ascii")).hexdigest()
    return DestinationLists(
        name=name,
        version=version,
        sha256=sha,
        sources=dict(sorted(sources.items())),
        entries={k: dict(sorted(v.items())) for k, v in entries.items()},
    )


def _parse(data: bytes, where: str):
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DestinationListError(f"{where}: not valid UTF-8 TOML ({exc})") from None
    return _check(raw, where)


@lru_cache(maxsize=1)
def default_destinations() -> DestinationLists:
    """The packaged lists (``dualuse/data/destinations.toml``)."""
    data = resources.files("dualuse").joinpath("data", "destinations.toml").read_bytes()
    return _build(*_parse(data, "dualuse/data/destinations.toml"))


def load_destinations(path: str | Path, *, extend: bool = False) -> DestinationLists:
    """Destination lists from a TOML file shaped like ``dualuse/data/destinations.toml``.

    With ``extend=True`` the file's sources and entries are added to the packaged ones (a code
    the file puts on ``embargoed`` leaves ``diversion_risk``; the name and version become
    ``"<packaged>+<file>"``); otherwise the file replaces them. Every entry must name at least
    one source; every code must be an assigned ISO 3166-1 alpha-2 code.

    Raises :class:`~dualuse.errors.DestinationListError` naming the file and the problem.
    """
    where = str(path)
    data = read_regular_file(Path(path), _MAX_FILE_BYTES, DestinationListError, follow_symlinks=True)
    name, version, sources, entries = _parse(data, where)
    if not extend:
        return _build(name, version, sources, entries)
    base = default_destinations()
    clash = sorted(set(sources) & set(base.sources))
    if any(sources[c] != base.sources[c] for c in clash):
        raise DestinationListError(f"{where}: source ids {clash} are already defined by the packaged lists; rename them")
    merged_sources = {**base.sources, **sources}
    merged: dict[str, dict[str, tuple[str, ...]]] = {k: dict(v) for k, v in base.entries.items()}
    for list_name in LISTS:  # higher-concern list first: a code the user embargoes leaves diversion_risk
        for code, ids in entries[list_name].items():
            for other in LISTS:
                if other != list_name and code in merged[other] and LISTS.index(other) > LISTS.index(list_name):
                    del merged[other][code]
            if not any(code in merged[o] for o in LISTS[: LISTS.index(list_name)]):
                merged[list_name][code] = tuple(dict.fromkeys((*merged[list_name].get(code, ()), *ids)))
    return _build(f"{base.name}+{name}", f"{base.version}+{version}", merged_sources, merged)
