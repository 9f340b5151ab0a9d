"""The report's own stylesheet and script, inlined into the page (no CDN, nothing fetched).

The script only moves the table rows the page already holds (filter, sort, page); it never
builds markup from text (no ``innerHTML``), so the rows' text cannot become code. The page's
Content-Security-Policy allows exactly these two blocks, by their SHA-256 (see
:mod:`dualuse.reporting.page`).
"""

from __future__ import annotations

__all__ = ["CSS", "JS"]

CSS = """
:root { --fg:#1d2430; --muted:#5b6575; --line:#d8dde5; --bg:#fff; --head:#f3f5f8;
  --mt:#2f6db5; --me:#8a4fbf; --op:#c0702a; --high:#c62828; --medium:#ef8f00; --low:#f2c94c; --none:#9aa5b1; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
  background: var(--bg); margin: 0 auto; padding: 16px 24px 48px; max-width: 1400px; }
h1 { font-size: 22px; margin: 4px 0 2px; } h2 { font-size: 17px; margin: 26px 0 8px; }
.muted, .meta { color: var(--muted); } .meta { font-size: 12px; }
.notice { background: #fff8e1; border: 1px solid #f0d58c; padding: 8px 12px; border-radius: 4px; margin: 10px 0; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 12px 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 140px; }
.card b { display: block; font-size: 20px; }
table { border-collapse: collapse; }
table.counts td, table.counts th { border: 1px solid var(--line); padding: 3px 10px; text-align: right; }
table.counts th:first-child, table.counts td:first-child { text-align: left; }
.charts { display: flex; flex-wrap: wrap; gap: 18px; }
figure.chart { margin: 0; } figcaption { font-weight: 600; margin-bottom: 4px; }
svg text { font-size: 12px; fill: var(--fg); } svg text.num { fill: var(--muted); }
rect.bar { fill: var(--mt); } rect.seg-high { fill: var(--high); } rect.seg-medium { fill: var(--medium); }
rect.seg-low { fill: var(--low); } rect.seg-none, rect.seg-other { fill: var(--none); }
.legend span { display: inline-block; margin-right: 12px; font-size: 12px; }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: baseline; }
.legend .high { background: var(--high); } .legend .medium { background: var(--medium); }
.legend .low { background: var(--low); } .legend .none { background: var(--none); }
.controls { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; margin: 8px 0; position: sticky; top: 0;
  background: var(--bg); padding: 6px 0; z-index: 1; }
.controls input[type=search] { width: 320px; padding: 4px 8px; }
#review { width: 100%; font-size: 13px; }
#review th, #review td { border-bottom: 1px solid var(--line); padding: 5px 6px; vertical-align: top; text-align: left; }
#review th { background: var(--head); cursor: pointer; user-select: none; white-space: nowrap; }
#review th[aria-sort=ascending]::after { content: " \\25B2"; } #review th[aria-sort=descending]::after { content: " \\25BC"; }
#review td.num { text-align: right; font-variant-numeric: tabular-nums; }
#review td.text { max-width: 440px; overflow-wrap: anywhere; white-space: pre-wrap; }
#review td.id { white-space: nowrap; }
.scroll { overflow-x: auto; }
mark { background: #ffe27a; border-radius: 2px; padding: 0 1px; }
mark.x { background: #cfe3ff; text-decoration: line-through; }
.feat { display: block; color: var(--muted); font-size: 11px; margin-top: 3px; white-space: normal; }
.pill { display: inline-block; border-radius: 9px; padding: 0 7px; font-size: 12px; background: #eef1f5; margin: 1px 2px 1px 0; }
.risk-high { color: #fff; background: var(--high); } .risk-medium { background: var(--medium); }
.risk-low { background: var(--low); } .st-bad { background: #ffd9d9; }
.err { display: block; color: #9b1c1c; font-size: 11px; }
"""

JS = """
(function () {
  "use strict";
  var table = document.getElementById("review");
  if (!table) { return; }
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.rows);
  var keys = rows.map(function (r) { return r.textContent.toLowerCase(); });
  var order = rows.map(function (_, i) { return i; });
  var filter = document.getElementById("filter");
  var family = document.getElementById("family");
  var risk = document.getElementById("risk");
  var size = document.getElementById("pagesize");
  var prev = document.getElementById("prev");
  var next = document.getElementById("next");
  var shown = document.getElementById("shown");
  var count = document.getElementById("match-count");
  var page = 0;
  var matching = order;

  function cellValue(row, col, numeric) {
    var cell = row.cells[col];
    var v = cell.getAttribute("data-v");
    if (v === null) { v = cell.textContent; }
    if (numeric) { var f = parseFloat(v); return isNaN(f) ? -Infinity : f; }
    return v.toLowerCase();
  }

  function apply() {
    var q = filter.value.trim().toLowerCase();
    var fam = family.value;
    var rk = risk.value;
    matching = order.filter(function (i) {
      var r = rows[i];
      if (fam && r.getAttribute("data-family") !== fam) { return false; }
      if (rk && r.getAttribute("data-risk") !== rk) { return false; }
      return !q || keys[i].indexOf(q) !== -1;
    });
    draw();
  }

  function draw() {
    var n = size.value === "all" ? matching.length || 1 : parseInt(size.value, 10);
    var pages = Math.max(1, Math.ceil(matching.length / n));
    if (page >= pages) { page = pages - 1; }
    var start = page * n;
    var end = Math.min(matching.length, start + n);
    var frag = document.createDocumentFragment();
    for (var j = start; j < end; j++) { frag.appendChild(rows[matching[j]]); }
    while (tbody.firstChild) { tbody.removeChild(tbody.firstChild); }
    tbody.appendChild(frag);
    count.textContent = String(matching.length);
    shown.textContent = matching.length
      ? "rows " + (start + 1) + "\\u2013" + end + " of " + matching.length + " (page " + (page + 1) + " of " + pages + ")"
      : "no row matches";
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
  }

  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
    th.addEventListener("click", function () {
      var numeric = th.getAttribute("data-type") === "num";
      var asc = th.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var vals = rows.map(function (r) { return cellValue(r, col, numeric); });
      order.sort(function (a, b) {
        var x = vals[a], y = vals[b];
        if (x === y) { return a - b; }
        return (x < y) === asc ? -1 : 1;
      });
      page = 0;
      apply();
    });
  });
  filter.addEventListener("input", function () { page = 0; apply(); });
  family.addEventListener("change", function () { page = 0; apply(); });
  risk.addEventListener("change", function () { page = 0; apply(); });
  size.addEventListener("change", function () { page = 0; draw(); });
  prev.addEventListener("click", function () { page -= 1; draw(); });
  next.addEventListener("click", function () { page += 1; draw(); });
  apply();
})();
"""
