"""Bar charts as inline SVG, drawn in Python: no plotting library, no script, nothing fetched.

Every label goes through :func:`dualuse.reporting.page.esc` (the caller passes it in), so a
status or tier read from a hostile file is text in the chart, never markup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

__all__ = ["bar_chart", "stacked_bar_chart"]

_ROW = 22
_LABEL_W = 150
_BAR_W = 320
_PAD = 8


def _scale(total_max: int) -> float:
    return _BAR_W / total_max if total_max > 0 else 0.0


def bar_chart(title: str, items: Sequence[tuple[str, int]], esc: Callable[[str], str], css_class: str = "bar") -> str:
    """A horizontal bar per ``(label, count)``, with the count at the end of the bar."""
    if not items:
        return f'<figure class="chart"><figcaption>{esc(title)}</figcaption><p class="muted">none</p></figure>'
    k = _scale(max(n for _, n in items))
    height = _ROW * len(items) + _PAD
    parts = [
        f'<figure class="chart"><figcaption>{esc(title)}</figcaption>'
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{esc(title)}" '
        f'width="{_LABEL_W + _BAR_W + 70}" height="{height}" viewBox="0 0 {_LABEL_W + _BAR_W + 70} {height}">'
    ]
    for j, (label, n) in enumerate(items):
        y = _PAD // 2 + j * _ROW
        w = max(1.0, n * k) if n else 0.0
        parts.append(
            f"<g><title>{esc(label)}: {n:,}</title>"
            f'<text class="lbl" x="{_LABEL_W - 6}" y="{y + 15}" text-anchor="end">{esc(label)}</text>'
            f'<rect class="{css_class}" x="{_LABEL_W}" y="{y + 3}" width="{w:.1f}" height="{_ROW - 6}"></rect>'
            f'<text class="num" x="{_LABEL_W + w + 5:.1f}" y="{y + 15}">{n:,}</text></g>'
        )
    parts.append("</svg></figure>")
    return "".join(parts)


def stacked_bar_chart(
    title: str,
    rows: Sequence[tuple[str, Sequence[tuple[str, int]]]],
    esc: Callable[[str], str],
) -> str:
    """A horizontal bar per row label, split into ``(segment label, count)`` parts (CSS class ``seg-<label>``)."""
    totals = [sum(n for _, n in segs) for _, segs in rows]
    if not rows or not any(totals):
        return f'<figure class="chart"><figcaption>{esc(title)}</figcaption><p class="muted">none</p></figure>'
    k = _scale(max(totals))
    height = _ROW * len(rows) + _PAD
    parts = [
        f'<figure class="chart"><figcaption>{esc(title)}</figcaption>'
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{esc(title)}" '
        f'width="{_LABEL_W + _BAR_W + 70}" height="{height}" viewBox="0 0 {_LABEL_W + _BAR_W + 70} {height}">'
    ]
    for j, ((label, segs), total) in enumerate(zip(rows, totals)):
        y = _PAD // 2 + j * _ROW
        parts.append(f'<g><text class="lbl" x="{_LABEL_W - 6}" y="{y + 15}" text-anchor="end">{esc(label)}</text>')
        x = float(_LABEL_W)
        for seg, n in segs:
            if not n:
                continue
            w = n * k
            parts.append(
                f'<rect class="seg-{esc(seg)}" x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{_ROW - 6}">'
                f"<title>{esc(label)}, {esc(seg)}: {n:,}</title></rect>"
            )
            x += w
        parts.append(f'<text class="num" x="{x + 5:.1f}" y="{y + 15}">{total:,}</text></g>')
    parts.append("</svg></figure>")
    return "".join(parts)
