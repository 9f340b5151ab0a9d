"""Generate ``dualuse/data/confusables.json``, the look-alike letter table used by
:mod:`dualuse.normalize` to fold Latin, Cyrillic and Greek look-alikes onto Latin letters.

Run from the repository root (needs the ``confusable-homoglyphs`` package, a dev dependency)::

    python dualuse/data/make_confusables.py

The source is Unicode's confusables data (UTS #39, ``confusables.txt``; Unicode License v3, a
permissive licence) as shipped, pre-parsed, in ``confusable_homoglyphs/confusables.json`` by
the ``confusable-homoglyphs`` package (MIT). Kept: single characters whose Unicode name is a
LATIN, CYRILLIC or GREEK letter, that are not ASCII, and whose confusables include exactly one
ASCII letter (case ignored). That letter is the target, lowercased, except that an uppercase
source confused with ``l`` targets ``i``: UTS #39 gives capital ``I`` and small ``l`` one
skeleton, and since folding lowers the case, a capital look-alike stands for ``I``.

Latin small capitals (``ꜰᴘɢᴀ``) are added from their Unicode names (``LATIN LETTER SMALL
CAPITAL F`` -> ``f``): UTS #39 lists only some of them, and a word in small capitals reads as
the word to anyone.

Two tiers, because the table also feeds the text model's features:

* ``always``: letters that ordinary Russian or Greek text does not use (small capitals,
  Latin alpha, Greek symbol forms such as the lunate sigma ``Ϲ``, historic Cyrillic letters).
  Folding them changes nothing for genuine text in those languages.
* ``mixed_script``: letters of the basic Russian alphabet (U+0401, U+0410-U+044F, U+0451)
  and of the basic Greek alphabet (U+0386-U+03CE). They fold only inside a word that also
  has a basic Latin letter (``mi\u0441ro`` with a Cyrillic ``с``), UTS #39's mixed-script
  case: a Russian word such as ``горизонтальный`` keeps its letters, so Russian terms and the
  model's Russian features are unchanged.

Output is deterministic (sorted keys).
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from importlib import resources
from pathlib import Path

OUT = Path(__file__).resolve().with_name("confusables.json")
SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")
SMALL_CAPITAL = re.compile(r"LATIN LETTER SMALL CAPITAL ([A-Z])")


def _is_basic_alphabet(ch: str) -> bool:
    o = ord(ch)
    return o in (0x0401, 0x0451) or 0x0410 <= o <= 0x044F or 0x0386 <= o <= 0x03CE


def build_table(data: dict[str, list[dict[str, str]]]) -> dict[str, dict[str, str]]:
    """Both tiers of the table (see the module doc) from the pre-parsed confusables data."""
    always: dict[str, str] = {}
    mixed: dict[str, str] = {}
    for source, entries in data.items():
        if len(source) != 1 or source.isascii() or not source.isalpha():
            continue
        name = unicodedata.name(source, "")
        if not name.startswith(SCRIPTS):
            continue
        targets = {e["c"].lower() for e in entries if len(e["c"]) == 1 and e["c"].isascii() and e["c"].isalpha()}
        if len(targets) != 1:
            continue
        target = targets.pop()
        if target == "l" and source.isupper():
            target = "i"
        (mixed if _is_basic_alphabet(source) else always)[source] = target
    for code in range(0x0100, 0x10000):
        ch = chr(code)
        match = SMALL_CAPITAL.fullmatch(unicodedata.name(ch, ""))
        if match is not None and ch not in always:
            always[ch] = match.group(1).lower()
    return {"always": dict(sorted(always.items())), "mixed_script": dict(sorted(mixed.items()))}


def main() -> None:
    import confusable_homoglyphs  # dev dependency, data only

    version = getattr(confusable_homoglyphs, "__version__", "unknown")
    raw = resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text(encoding="utf-8")
    table = build_table(json.loads(raw))
    document = {
        "source": f"Unicode confusables.txt (UTS #39) as pre-parsed by confusable-homoglyphs {version}",
        "licence": "Unicode License v3 (data); confusable-homoglyphs is MIT",
        "generator": "dualuse/data/make_confusables.py",
        "entries": sum(len(t) for t in table.values()),
        **table,
    }
    OUT.write_text(json.dumps(document, ensure_ascii=False, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT.name}: {document['entries']} entries", file=sys.stderr)


if __name__ == "__main__":
    main()
