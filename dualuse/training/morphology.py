"""English morphology for generated training lines: the singular of a tariff phrase's head noun.

Tariff headings name goods in the plural ("lathes", "machining centres", "lenses"); trade
lines mostly use the singular. The rule is deliberately crude (no dictionary): it only has to
turn tariff plurals into the forms traders write, and a wrong singular only adds one
unlikely training line. The keyword matcher reads plurals by its own rule (a regular
expression in :mod:`dualuse.matcher`), because it must find them inside running text.
"""

from __future__ import annotations

__all__ = ["singular_phrase"]


def singular_phrase(phrase: str) -> str:
    """The phrase with its last word made singular: -ies -> -y, -ches/-shes/-xes/-sses/-nses/-zes
    drop "es", else a final "s" goes; words of three letters or fewer and words ending in
    -ss, -us or -is are left alone."""
    words = phrase.split(" ")
    w = words[-1]
    if len(w) <= 3 or w.endswith(("ss", "us", "is")):
        return phrase
    if w.endswith("ies"):
        w = w[:-3] + "y"
    elif w.endswith(("ches", "shes", "xes", "sses", "nses", "zes")):
        w = w[:-2]
    elif w.endswith("s"):
        w = w[:-1]
    return " ".join([*words[:-1], w])
