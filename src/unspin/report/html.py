"""Reports as one self-contained HTML file: the text with each spun span highlighted.

Pure functions from reports to strings, so that the web page can reuse them:

- `render_document_fragment(report, source)`: just the highlighted text, a `<div>` to embed.
  Each span is a focusable `<mark>` (tabindex="0") carrying its Python code-point offsets and
  suggestion in data attributes; the tooltip that follows it (suggestion, alternatives,
  confidence, why) shows on hover and on keyboard focus (CSS only); a tap focuses it on a
  phone, where the tooltip is a bar along the bottom of the screen.
- `render_restored_fragment(report, source)`: the restored text, changes as `<del>`/`<ins>`.
- `render_document(report, source)`: a document's section: summary header (score, risk level,
  verdict, counts, mode, model, version), both fragments and the list of findings.
- `render_html(reports_and_sources, title=, resources=)`: the whole page; several documents get
  a summary table linking to each. `STYLESHEET` and `SCRIPT` are what the page embeds.

Safety: every piece of input — text, suggestions, ids, evidence, resource descriptions — goes
through `html.escape(quote=True)`, in text and in attributes alike; element ids are made from
positions, never from input. The page also carries a Content-Security-Policy that allows only
its own stylesheet and script (by hash) and no network access, so nothing the input could smuggle
in would run or load. No external assets; the script (hover/focus placement, Escape to dismiss)
is optional: everything is readable without it.

Offsets in `data-start`/`data-end` are Python code points into the input, as in the JSON report.
JavaScript strings count UTF-16 units, so a script must not slice its strings with them where
the text has characters outside the Basic Multilingual Plane (emoji, some CJK).

Spans must be sorted, not overlap, and match the source (`source[start:end] == text`);
anything else raises ValueError rather than highlight the wrong words.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from collections.abc import Iterable, Sequence

from unspin.model import Finding, Report
from unspin.report.risk import count_words, density_per_1k, risk_label, risk_level, verdict_label
from unspin.report.text import explain, line_column

# Confidence bands for the colours (the number is always shown too: colour is never the only cue).
CONFIDENCE_BANDS = ((0.9, "high"), (0.7, "medium"), (0.0, "low"))

STYLESHEET = """
:root { color-scheme: light; --ink: #1b1b1b; --muted: #555; --line: #d0d0d0; }
* { box-sizing: border-box; }
body { margin: 0; padding: 1rem; font: 1rem/1.55 system-ui, -apple-system, "Segoe UI", Roboto,
       "Liberation Sans", sans-serif; color: var(--ink); background: #fff; overflow-wrap: break-word; }
main { max-width: 52rem; margin: 0 auto; }
h1 { font-size: 1.5rem; margin: 0 0 .5rem; }
h2 { font-size: 1.25rem; margin: 0 0 .25rem; }
h3 { font-size: 1.05rem; margin: 1.25rem 0 .4rem; }
a { color: #0b57d0; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .9em; overflow-wrap: anywhere; }
.unspin-muted { color: var(--muted); }
.unspin-report { border-top: 2px solid var(--line); padding-top: 1rem; margin-top: 1.5rem; }
.unspin-facts { display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; margin: .5rem 0; padding: 0; }
.unspin-facts div { display: flex; gap: .35rem; }
.unspin-facts dt { color: var(--muted); }
.unspin-facts dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
.unspin-risk { display: inline-block; padding: .1rem .6rem; border-radius: 1rem; font-weight: 600;
               border: 1px solid currentColor; margin: .25rem 0; }
.unspin-risk-high { color: #8a1020; background: #fde8ea; }
.unspin-risk-medium { color: #7a4300; background: #fff1dc; }
.unspin-risk-low { color: #4d4d00; background: #fbf8d8; }
.unspin-risk-none { color: #1d5e20; background: #e6f4e6; }
.unspin-text, .unspin-restored { white-space: pre-wrap; overflow-wrap: anywhere; padding: .75rem;
                                 border: 1px solid var(--line); border-radius: .4rem; background: #fafafa; }
.unspin-wrap { position: relative; }
.unspin-span, .unspin-swatch { color: inherit; border-radius: .2rem; padding: 0 .1rem; border-bottom: 2px solid; }
.unspin-span { cursor: help; }
.unspin-span:focus { outline: 3px solid #0b57d0; outline-offset: 1px; }
.unspin-conf-high { background: #ffd7dc; border-bottom-color: #b00020; }
.unspin-conf-medium { background: #ffe6bf; border-bottom-color: #a35d00; border-bottom-style: dashed; }
.unspin-conf-low { background: #fff6b0; border-bottom-color: #7a6a00; border-bottom-style: dotted; }
.unspin-tip { display: none; position: absolute; left: 0; top: 100%; z-index: 10; margin-top: .3rem;
              width: max-content; max-width: min(26rem, 90vw); padding: .5rem .65rem; border-radius: .4rem;
              background: #1f1f1f; color: #fff; font-size: .9rem; line-height: 1.4; white-space: normal;
              box-shadow: 0 2px 8px rgba(0, 0, 0, .3); }
.unspin-tip b { color: #9fe79f; }
.unspin-wrap:hover > .unspin-tip, .unspin-span:focus + .unspin-tip { display: block; }
.unspin-span.unspin-dismissed + .unspin-tip { display: none; }
.unspin-restored del { background: #ffd7dc; color: #6d0012; }
.unspin-restored ins { background: #d8f5d8; color: #0d4d12; text-decoration: underline; }
.unspin-findings { padding-left: 1.5rem; }
.unspin-findings li { margin: .4rem 0; }
.unspin-legend { display: flex; flex-wrap: wrap; gap: .5rem 1rem; font-size: .9rem; margin: .25rem 0; }
.unspin-table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .95rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f0f0f0; }
td.unspin-num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
@media (max-width: 40rem) {
  body { padding: .6rem; }
  th, td { padding: .25rem .3rem; font-size: .85rem; }
  .unspin-tip { position: fixed; left: .5rem; right: .5rem; top: auto; bottom: .5rem; width: auto;
                max-width: none; margin: 0; }
}
@media print { .unspin-tip { display: none !important; } }
"""

# Optional niceties: keep a tooltip inside the window, and let Escape dismiss it (WCAG 1.4.13).
SCRIPT = """
(function () {
  function tipOf(el) {
    var mark = el && el.closest ? el.closest(".unspin-span") : null;
    var tip = mark ? mark.nextElementSibling : null;
    return tip && tip.classList.contains("unspin-tip") ? [mark, tip] : null;
  }
  function place(event) {
    var pair = tipOf(event.target);
    if (!pair) { return; }
    var tip = pair[1];
    tip.style.left = "";
    if (getComputedStyle(tip).position !== "absolute") { return; }
    var box = tip.getBoundingClientRect(), width = document.documentElement.clientWidth;
    if (box.right > width - 8) { tip.style.left = Math.max(8 - box.left, width - 8 - box.right) + "px"; }
  }
  document.addEventListener("focusin", place);
  document.addEventListener("mouseover", place);
  document.addEventListener("keydown", function (event) {
    var pair = tipOf(document.activeElement);
    if (event.key === "Escape" && pair) { pair[0].classList.add("unspin-dismissed"); }
  });
  document.addEventListener("focusout", function (event) {
    var pair = tipOf(event.target);
    if (pair) { pair[0].classList.remove("unspin-dismissed"); }
  });
})();
"""


def _csp_hash(code: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(code.encode("utf-8")).digest()).decode("ascii") + "'"


CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src {_csp_hash(STYLESHEET)}; script-src {_csp_hash(SCRIPT)}; "
    "img-src 'none'; base-uri 'none'; form-action 'none'"
)


def esc(value: object) -> str:
    """Text or attribute value, escaped: & < > " and ' all become entities."""
    return html.escape("" if value is None else str(value), quote=True)


def confidence_band(confidence: float) -> str:
    return next(name for floor, name in CONFIDENCE_BANDS if confidence >= floor)


def _check_spans(report: Report, source: str) -> None:
    cursor = 0
    for n, finding in enumerate(report.spans, 1):
        if not 0 <= finding.start <= finding.end <= len(source):
            raise ValueError(f"span {n} ({finding.start}-{finding.end}) lies outside the text "
                             f"of {len(source)} characters: is this the report of another text?")
        if finding.start < cursor:
            raise ValueError(f"span {n} ({finding.start}-{finding.end}) overlaps the span before it")
        if source[finding.start:finding.end] != finding.text:
            raise ValueError(f"span {n} ({finding.start}-{finding.end}) reads {source[finding.start:finding.end]!r} "
                             f"in the text, not {finding.text!r}: is this the report of another text?")
        cursor = finding.end


def why(finding: Finding, *, with_rule: bool = True) -> str:
    """The reasons in words (`explain`), plus the list rule of fingerprint findings."""
    try:
        reasons = explain(finding)
    except (KeyError, TypeError, ValueError):  # evidence of a shape `explain` does not know
        reasons = ""
    if finding.rule and with_rule:  # `explain` names a fingerprint's list and line; the rule id is its key
        reasons = "; ".join(filter(None, [reasons, f"rule {finding.rule}"]))
    if not reasons and finding.evidence:
        reasons = json.dumps(dict(finding.evidence), ensure_ascii=False, sort_keys=True, default=str)
    return reasons


def _tooltip(finding: Finding, tip_id: str) -> str:
    alternatives = (f"<br>or: {esc(', '.join(finding.alternatives))}" if finding.alternatives else "")
    reasons = why(finding)
    return (
        f'<span class="unspin-tip" role="tooltip" id="{tip_id}">'
        f"suggestion: <b>{esc(finding.suggestion)}</b>{alternatives}"
        f"<br>confidence {finding.confidence:.2f} · {esc(finding.detector)}"
        + (f"<br>why: {esc(reasons)}" if reasons else "")
        + "</span>"
    )


def render_document_fragment(report: Report, source: str, *, anchor: str = "doc-1") -> str:
    """The text of one document with each span highlighted: a `<div>` to embed in a page.

    `anchor` prefixes the element ids (`{anchor}-f1`, ...): give each document on a page its own.
    """
    _check_spans(report, source)
    anchor = esc(anchor)
    out = [f'<div class="unspin-text" id="{anchor}-text" lang="en">']
    cursor = 0
    for n, finding in enumerate(report.spans, 1):
        span_id = f"{anchor}-f{n}"
        out.append(esc(source[cursor:finding.start]))
        band = confidence_band(finding.confidence)
        out.append(
            f'<span class="unspin-wrap"><mark class="unspin-span unspin-conf-{band}" id="{span_id}" tabindex="0"'
            f' aria-describedby="{span_id}-tip" data-start="{finding.start}" data-end="{finding.end}"'
            f' data-suggestion="{esc(finding.suggestion)}" data-confidence="{finding.confidence:.4f}"'
            f' data-detector="{esc(finding.detector)}" data-rule="{esc(finding.rule or "")}">'
            f"{esc(finding.text)}</mark>{_tooltip(finding, span_id + '-tip')}</span>"
        )
        cursor = finding.end
    out.append(esc(source[cursor:]))
    out.append("</div>")
    return "".join(out)


def render_restored_fragment(report: Report, source: str) -> str:
    """The restored text, each change as `<del>spun</del><ins>suggestion</ins>`."""
    _check_spans(report, source)
    out = ['<div class="unspin-restored" lang="en">']
    cursor = 0
    for finding in report.spans:
        out.append(esc(source[cursor:finding.start]))
        out.append(f"<del>{esc(finding.text)}</del><ins>{esc(finding.suggestion)}</ins>")
        cursor = finding.end
    out.append(esc(source[cursor:]))
    out.append("</div>")
    return "".join(out)


def _display_id(report: Report, index: int) -> str:
    return f"Document {index}" if report.id is None or report.id == "" else str(report.id)


def _facts(pairs: Sequence[tuple[str, object]]) -> str:
    items = "".join(f"<div><dt>{esc(name)}</dt><dd>{esc(value)}</dd></div>" for name, value in pairs)
    return f'<dl class="unspin-facts">{items}</dl>'


def _findings_list(report: Report, source: str, anchor: str) -> str:
    if not report.spans:
        return '<p class="unspin-muted">No spans flagged.</p>'
    items = []
    for n, finding in enumerate(report.spans, 1):
        line, column = line_column(source, finding.start)
        alternatives = f" (or: {esc(', '.join(finding.alternatives))})" if finding.alternatives else ""
        rule = f" · rule <code>{esc(finding.rule)}</code>" if finding.rule else ""
        reasons = why(finding, with_rule=False)  # the rule has its own place here
        evidence = json.dumps(dict(finding.evidence), ensure_ascii=False, sort_keys=True, default=str)
        items.append(
            f'<li><a href="#{anchor}-f{n}">line {line}, column {column}</a>: '
            f"<q>{esc(finding.text)}</q> → <strong>{esc(finding.suggestion)}</strong>{alternatives}"
            f" · confidence {finding.confidence:.2f} · <code>{esc(finding.detector)}</code>{rule}"
            + (f"<br><span class=\"unspin-muted\">why: {esc(reasons)}</span>" if reasons else "")
            + (f"<details><summary>evidence</summary><code>{esc(evidence)}</code></details>"
               if finding.evidence else "")
            + "</li>"
        )
    return f'<ol class="unspin-findings">{"".join(items)}</ol>'


def _legend() -> str:
    samples = "".join(
        f'<span><mark class="unspin-swatch unspin-conf-{name}">{name}</mark> confidence ≥ {floor:.1f}</span>'
        if floor else f'<span><mark class="unspin-swatch unspin-conf-{name}">{name}</mark> below 0.7</span>'
        for floor, name in CONFIDENCE_BANDS
    )
    return (f'<p class="unspin-legend" aria-label="colour legend">{samples}'
            "<span>Hover, tap or Tab to a span for its suggestion; Escape hides it.</span></p>")


def render_document(report: Report, source: str, *, anchor: str = "doc-1", index: int = 1,
                    heading_level: int = 2) -> str:
    """One document's section: summary header, highlighted text, restored text, findings."""
    words = report.words or count_words(source)
    level = risk_level(report, words=words)
    density = density_per_1k(report, words)
    a, h, sub = esc(anchor), heading_level, heading_level + 1
    facts = [("score", f"{report.score:.2f}"), ("verdict", verdict_label(report.verdict)),
             ("findings", len(report.spans)), ("words", f"{words:,}"),
             ("per 1,000 words", "" if density is None else f"{density:.1f}"),
             ("mode", report.mode), ("model", report.model or "none")]
    if report.unspin_version:
        facts.append(("unspin", report.unspin_version))
    return "".join([
        f'<section class="unspin-report" id="{a}" aria-labelledby="{a}-title">',
        f'<h{h} id="{a}-title">{esc(_display_id(report, index))}</h{h}>',
        f'<p class="unspin-risk unspin-risk-{level}">risk {esc(risk_label(level))}</p>',
        _facts(facts),
        f"<h{sub}>Text with flagged spans</h{sub}>",
        _legend() if report.spans else "",
        render_document_fragment(report, source, anchor=anchor),
        f"<h{sub}>Restored text</h{sub}>",
        render_restored_fragment(report, source),
        f'<details open><summary>Findings ({len(report.spans)})</summary>',
        _findings_list(report, source, a),
        "</details></section>",
    ])


def _summary_table(pairs: Sequence[tuple[Report, str]]) -> str:
    rows = []
    for index, (report, source) in enumerate(pairs, 1):
        words = report.words or count_words(source)
        density = density_per_1k(report, words)
        level = risk_level(report, words=words)
        rows.append(
            f'<tr><td><a href="#doc-{index}">{esc(_display_id(report, index))}</a></td>'
            f'<td><span class="unspin-risk unspin-risk-{level}">{esc(risk_label(level))}</span></td>'
            f'<td class="unspin-num">{report.score:.2f}</td>'
            f'<td class="unspin-num">{len(report.spans)}</td><td class="unspin-num">{words:,}</td>'
            f'<td class="unspin-num">{"" if density is None else f"{density:.1f}"}</td></tr>'
        )
    return (
        '<section aria-labelledby="unspin-summary"><h2 id="unspin-summary">Summary</h2>'
        '<div class="unspin-table-wrap"><table><thead><tr><th scope="col">document</th>'
        '<th scope="col">risk</th><th scope="col">score</th>'
        '<th scope="col">findings</th><th scope="col">words</th><th scope="col">per 1,000 words</th>'
        f'</tr></thead><tbody>{"".join(rows)}</tbody></table></div></section>'
    )


def _resources_table(resources: Sequence[dict[str, object]]) -> str:
    rows = []
    for item in resources:
        entries = item.get("entries")
        rows.append(
            f"<tr><td>{esc(item.get('name'))}</td><td>{esc(item.get('kind'))}</td>"
            f"<td>{esc(item.get('version') or '')}</td>"
            f'<td class="unspin-num">{esc(f"{entries:,}" if isinstance(entries, int) else (entries or ""))}</td>'
            f"<td><code>{esc(item.get('sha256') or item.get('missing') or '')}</code></td></tr>"
        )
    return (
        f'<details><summary>Resources ({len(resources)})</summary><div class="unspin-table-wrap"><table>'
        '<thead><tr><th scope="col">name</th><th scope="col">kind</th><th scope="col">version</th>'
        '<th scope="col">entries</th><th scope="col">sha256</th></tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table></div></details>'
    )


def render_html(reports_and_sources: Iterable[tuple[Report, str]], *, title: str | None = None,
                resources: Sequence[dict[str, object]] | None = None) -> str:
    """A whole self-contained page for these `(report, source)` pairs.

    `resources`: descriptions of the resources used (as `inventory.builtin_resources()` returns
    them), shown with their versions and hashes; the renderer never looks them up itself.
    """
    pairs = list(reports_and_sources)
    if title is None:
        title = "unspin report" if len(pairs) != 1 else f"unspin report: {_display_id(pairs[0][0], 1)}"
    versions = sorted({r.unspin_version for r, _ in pairs if r.unspin_version})
    models = sorted({r.model for r, _ in pairs if r.model})
    modes = sorted({r.mode for r, _ in pairs if r.mode})
    header = [("documents", len(pairs)), ("findings", sum(len(r.spans) for r, _ in pairs))]
    if versions:
        header.append(("unspin", ", ".join(versions)))
    if modes:
        header.append(("mode", ", ".join(modes)))
    header.append(("model", ", ".join(models) or "none"))
    body = [
        "<header>",
        f"<h1>{esc(title)}</h1>",
        _facts(header),
        ('<p class="unspin-muted">Flags mark wording that reads like automatic synonym substitution. '
         "They are prompts for a human review, not conclusions about the text or its authors.</p>"),
        _resources_table(resources) if resources else "",
        "</header>",
        _summary_table(pairs) if len(pairs) > 1 else "",
        *(render_document(report, source, anchor=f"doc-{i}", index=i) for i, (report, source) in enumerate(pairs, 1)),
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CONTENT_SECURITY_POLICY)}">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{esc(title)}</title><style>{STYLESHEET}</style></head>\n"
        f"<body><main>{''.join(body)}</main><script>{SCRIPT}</script></body></html>\n"
    )
