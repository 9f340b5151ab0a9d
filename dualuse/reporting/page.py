"""The HTML of the review report: escaping, highlighted spans, the table rows and the page around them.

Everything read from the scored file is hostile text: it reaches the page only through
:func:`esc` (``html.escape`` with quotes, after replacing characters that have no place in an
HTML document). The page carries a Content-Security-Policy that allows no network request
and only the page's own style and script blocks, named by their SHA-256: even markup that got
past the escaping could neither run a script nor load anything.
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import re
from collections.abc import Sequence
from typing import Any

from .assets import CSS, JS
from .charts import bar_chart, stacked_bar_chart
from .collect import RISK_LEVELS, ReviewRow, Tally, spans

__all__ = ["esc", "highlight", "row_html", "page_html", "TABLE_COLUMNS", "MAX_TEXT_CHARS"]

# lone surrogates cannot be encoded; C0/C1 controls (but tab and line breaks) are not text
_UNFIT = re.compile("[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_DOT = " \u00b7 "
_RISK_RANK = {"high": 3, "medium": 2, "low": 1, "none": 0}
#: Characters of a description shown in the table: a page of 10,000 rows must stay openable
#: even when some descriptions run to megabytes (spans past this are not highlighted).
MAX_TEXT_CHARS = 5_000
#: The review table's columns: (header, sort type).
TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("#", "num"),
    ("Description (matched spans highlighted)", "text"),
    ("HS code", "text"),
    ("Family", "text"),
    ("Risk", "num"),
    ("Confidence", "num"),
    ("CHPL tier", "text"),
    ("Status", "text"),
    ("Review reasons", "text"),
    ("References", "text"),
)


def esc(value: object) -> str:
    """``value`` as HTML text or attribute content: characters replaced 1:1 (U+FFFD), then escaped."""
    return html.escape(_UNFIT.sub("\ufffd", value if isinstance(value, str) else str(value)), quote=True)


def _describe(e: dict[str, Any]) -> str:
    if e.get("kind") == "exclusion":
        fams = e.get("families")
        return f"exclusion {e.get('phrase')!s} cancels {', '.join(map(str, fams)) if isinstance(fams, list) else fams}"
    return f"{e.get('kind')} {e.get('term')!s} \u2192 {e.get('family')} / {e.get('subcategory')} (weight {e.get('weight')})"


def highlight(text: str, evidence: list[dict[str, Any]] | None) -> str:
    """``text`` escaped, each run of characters covered by matched spans in a ``<mark>``.

    A run covered by a term or pattern is ``<mark class="t">``, by an exclusion only
    ``<mark class="x">``; each mark carries ``data-start`` / ``data-end`` (half-open, into
    the text) and a title naming the evidence items that cover it.
    """
    found = spans(evidence, text)
    if not found:
        return esc(text)
    cuts = sorted({0, len(text), *(s for s, _, _ in found), *(t for _, t, _ in found)})
    runs: list[list[Any]] = []  # [start, end, class, items]
    for a, b in itertools.pairwise(cuts):
        cover = [e for s, t, e in found if s < b and a < t]
        cls = None if not cover else ("t" if any(e.get("kind") != "exclusion" for e in cover) else "x")
        if runs and runs[-1][2] == cls and cls is not None:
            runs[-1][1] = b
            runs[-1][3].extend(e for e in cover if not any(e is x for x in runs[-1][3]))
        else:
            runs.append([a, b, cls, list(cover)])
    out = []
    for a, b, cls, cover in runs:
        piece = esc(text[a:b])
        if cls is None:
            out.append(piece)
        else:
            title = "; ".join(_describe(e) for e in cover)
            out.append(f'<mark class="{cls}" data-start="{a}" data-end="{b}" title="{esc(title)}">{piece}</mark>')
    return "".join(out)


def _features(evidence: list[dict[str, Any]] | None) -> str:
    feats = []
    for e in evidence or ():
        if e.get("kind") == "model_feature":
            c = e.get("contribution")
            feats.append(f"{e.get('feature')} {c:+.3f}" if isinstance(c, (int, float)) else str(e.get("feature")))
    return f'<span class="feat">model: {esc(_DOT.join(feats))}</span>' if feats else ""


def _pills(items: Sequence[str], cls: str = "pill") -> str:
    return "".join(f'<span class="{cls}">{esc(x)}</span> ' for x in items)


def row_html(row: ReviewRow, with_id: bool) -> str:
    """One ``<tr>`` of the review table."""
    family = row.category or ""
    risk = row.risk_level or ""
    cells = [f'<td class="num" data-v="{row.number}">{row.number}</td>']
    if with_id:
        cells.append(f'<td class="id">{esc(row.row_id or "")}</td>')
    text = highlight(row.text[:MAX_TEXT_CHARS], row.evidence)
    if len(row.text) > MAX_TEXT_CHARS:
        text += f'<span class="err">\u2026 and {len(row.text) - MAX_TEXT_CHARS:,} more characters, not shown</span>'
    text += _features(row.evidence)
    if row.evidence_problem:
        text += f'<span class="err">{esc(row.evidence_problem)}</span>'
    elif row.evidence is None and row.matched_terms:
        text += f'<span class="feat">matched: {esc(", ".join(row.matched_terms))}</span>'
    cells.append(f'<td class="text">{text}</td>')
    cells.append(f"<td>{esc(row.hs_code or '')}</td>")
    sub = row.subcategory or ""
    if family and sub.startswith(family + "."):  # machine_tools.lathes under machine_tools: lathes
        sub = sub[len(family) + 1 :]
    sub = f'<br><span class="muted">{esc(sub)}</span>' if sub else ""
    cells.append(f"<td>{esc(family or 'not screened')}{sub}</td>")
    rank = _RISK_RANK.get(risk, -1)
    cells.append(f'<td data-v="{rank}">' + (f'<span class="pill risk-{esc(risk)}">{esc(risk)}</span>' if risk else "") + "</td>")
    conf = "" if row.confidence is None else f"{row.confidence:.3f}"
    cells.append(f'<td class="num" data-v="{conf or -1}">{conf}</td>')
    cells.append(f"<td>{esc(row.chpl_tier or '')}</td>")
    status = f'<span class="pill{" st-bad" if row.status != "ok" else ""}">{esc(row.status)}</span>'
    if row.error:
        status += f'<span class="err">{esc(row.error)}</span>'
    cells.append(f"<td>{status}</td>")
    cells.append(f"<td>{_pills(row.review_reasons)}</td>")
    cells.append(f"<td>{_pills(row.references)}</td>")
    return f'<tr data-family="{esc(family)}" data-risk="{esc(risk)}">{"".join(cells)}</tr>'


def _digest(block: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(block.encode("utf-8")).digest()).decode("ascii")


def _counts_table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    th = "".join(f"<th>{esc(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{esc(f'{c:,}' if isinstance(c, int) else c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="counts"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _summary(t: Tally) -> str:
    fams = [c for c, _ in sorted(t.categories.items()) if c != "none"]
    known = [f for f in ("machine_tools", "microelectronics", "optics") if t.categories.get(f)]
    fams = known + [f for f in fams if f not in known]
    risk_cols = list(RISK_LEVELS) + sorted({r for _, r in t.family_risk} - set(RISK_LEVELS))
    fr_rows = [[f, *(t.family_risk.get((f, r), 0) for r in risk_cols), t.categories[f]] for f in fams]
    flagged = sum(t.categories[f] for f in fams)
    statuses = sorted(t.statuses.items(), key=lambda kv: (kv[0] != "ok", kv[0]))
    tiers = sorted(t.chpl_tiers.items())
    problem_rows = sum(n for s, n in t.statuses.items() if s != "ok")
    cards = (
        ("rows", t.rows),
        ("need review", t.review_rows),
        ("flagged (in a family)", flagged),
        ("not flagged (none)", t.categories.get("none", 0)),
        ("status not ok", problem_rows),
    )
    out = ['<div class="cards">' + "".join(f'<div class="card"><b>{n:,}</b>{esc(k)}</div>' for k, n in cards) + "</div>"]
    out.append('<div class="charts">')
    segs = [(f, [(r if r in RISK_LEVELS else "other", t.family_risk.get((f, r), 0)) for r in risk_cols]) for f in fams]
    legend = "".join(f'<span><i class="{r}"></i>{r}</span>' for r in RISK_LEVELS)
    out.append(
        "<div>"
        + stacked_bar_chart("Flagged rows per family, by risk level", segs, esc)
        + f'<div class="legend">{legend}</div></div>'
    )
    out.append(bar_chart("Rows per status", statuses, esc))
    out.append(bar_chart("Rows per CHPL tier (HS code on the Common High Priority List)", tiers, esc))
    out.append("</div>")
    out.append('<div class="charts"><div><h3>Flagged rows per family and risk level</h3>')
    out.append(_counts_table(["family", *risk_cols, "total"], fr_rows) if fr_rows else '<p class="muted">no flagged row</p>')
    out.append("</div><div><h3>Statuses</h3>" + _counts_table(["status", "rows"], statuses) + "</div>")
    out.append(
        "<div><h3>CHPL tiers</h3>"
        + (_counts_table(["tier", "rows"], tiers) if tiers else '<p class="muted">no row has an HS code on the CHPL</p>')
        + "</div></div>"
    )
    return "".join(out)


def page_html(tally: Tally, *, title: str, meta: str, rows_html: list[str], with_id: bool, page_size: int) -> str:
    """The whole document: summary, charts, and the review table holding ``rows_html``."""
    style, script = CSS, JS
    csp = (
        f"default-src 'none'; style-src '{_digest(style)}'; script-src '{_digest(script)}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    notices = []
    if not tally.explained:
        notices.append(
            "This file was scored without <code>--explain</code>: no matched spans to highlight, "
            "no review reasons or references. Score it with <code>dualuse score ... --explain</code> for those."
        )
    if len(rows_html) < tally.review_rows:
        notices.append(
            f"The table holds the first {len(rows_html):,} of the {tally.review_rows:,} rows needing review "
            "(in file order) to keep this page usable; the summary and charts count every row. "
            "Filter the scored file, or raise the limit (<code>--max-rows</code>), to see the others."
        )
    if tally.unreadable_count:
        listed = "".join(f"<li>{esc(p)}</li>" for p in tally.unreadable_lines)
        notices.append(
            f"{tally.unreadable_count:,} line(s) of the scored file could not be read and are not counted:<ul>{listed}</ul>"
        )
    heads = list(TABLE_COLUMNS)
    if with_id:
        heads.insert(1, ("ID", "text"))
    th = "".join(f'<th data-type="{kind}" scope="col">{esc(h)}</th>' for h, kind in heads)
    fam_opts = "".join(f'<option value="{v}">{v}</option>' for v in ("machine_tools", "microelectronics", "optics", "none"))
    risk_opts = "".join(f'<option value="{v}">{v}</option>' for v in RISK_LEVELS)
    sizes = "".join(
        f'<option value="{n}"{" selected" if n == page_size else ""}>{n} per page</option>'
        for n in sorted({50, 100, 200, 500, page_size})
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{style}</style></head><body>"
        f'<h1>{esc(title)}</h1><p class="meta">{meta}</p>'
        '<p class="notice">Screening flags for human review, not an export-control classification: a family '
        "is what an item <em>is</em>, not whether a licence is needed.</p>"
        + "".join(f'<div class="notice">{n}</div>' for n in notices)
        + "<h2>Summary</h2>"
        + _summary(tally)
        + f"<h2>Rows needing review ({tally.review_rows:,})</h2>"
        '<p class="muted">needs_review is true, or the status is not ok. Click a header to sort; '
        "the filter box matches any text of a row.</p>"
        '<div class="controls"><input type="search" id="filter" placeholder="filter rows (any text)" aria-label="filter rows">'
        f'<select id="family" aria-label="family"><option value="" selected>all families</option>{fam_opts}</select>'
        f'<select id="risk" aria-label="risk level"><option value="" selected>all risk levels</option>{risk_opts}</select>'
        f'<select id="pagesize" aria-label="rows per page">{sizes}<option value="all">all rows</option></select>'
        '<button type="button" id="prev">previous</button><button type="button" id="next">next</button>'
        '<span id="shown" class="muted"></span> <span class="muted">matching: <b id="match-count">'
        f"{len(rows_html)}</b></span></div>"
        f'<div class="scroll"><table id="review"><thead><tr>{th}</tr></thead><tbody>{"".join(rows_html)}</tbody></table></div>'
        f"<script>{script}</script></body></html>\n"
    )
