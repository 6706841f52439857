"""The web page: paste or upload, see the spans highlighted, accept or reject, copy, download.

One static HTML page with an inline stylesheet and script, allowed by hash in its
Content-Security-Policy (`PAGE_CSP`): nothing else runs, nothing loads from elsewhere, and the
only network access is `fetch` to this server (`connect-src 'self'`).

The highlighted text is not built in JavaScript: `POST /ui/check` returns, per document, the
fragment that `unspin.report.html.render_document_fragment` renders (every piece of input escaped
there), so the page and the HTML report share one renderer. The page adds the decisions: each
`<mark>` gets `data-decision` ("accepted" / "rejected") and `data-choice` (the accepted wording).

Offsets: the report's offsets count Python code points; JavaScript strings count UTF-16 units,
so an emoji before a span would shift every slice made with them. The script never slices: the
restored text is read back from the DOM (text nodes as they are; an accepted mark gives its
choice, any other mark its own text), so it is right whatever the characters. Two HTML-parsing
details would still change the text and are dealt with on the server: carriage returns in the
fragment are written as `&#13;` (the parser would turn CR LF into LF), and text with NUL
characters is refused (the parser drops them).

Keyboard: every span is focusable (Tab); on a span, A accepts, R rejects, U undoes, 1-9 picks
the suggestion (1) or an alternative (2...), Enter moves to the decision buttons, which hand the
focus back to the span. Ctrl+Enter in the text box checks it. On a phone the details panel
sits along the bottom of the screen and the layout has no horizontal scrolling.
"""

from __future__ import annotations

import base64
import hashlib

from unspin.report.html import CONFIDENCE_BANDS, STYLESHEET, esc
from unspin.web.settings import Settings, human_bytes

PAGE_STYLE = """
[hidden] { display: none !important; }
.unspin-page .unspin-tip { display: none !important; }
.unspin-span[data-decision="accepted"] { background: #d8f5d8; border-bottom: 2px solid #0d4d12;
  text-decoration: line-through; text-decoration-color: #6d0012; }
.unspin-span[data-decision="accepted"]::after { content: " \\2192  " attr(data-choice) " \\2713"; display: inline-block;
  text-decoration: none; color: #0d4d12; font-weight: 600; }
.unspin-span[data-decision="rejected"] { background: #ececec; border-bottom: 2px solid #666; }
.unspin-span[data-decision="rejected"]::after { content: " \\2717"; color: #555; }
label { display: block; font-weight: 600; margin: .75rem 0 .25rem; }
textarea { width: 100%; font: inherit; padding: .5rem; border: 1px solid #8a8a8a; border-radius: .4rem;
           resize: vertical; }
textarea[readonly] { background: #fafafa; }
input[type="file"] { max-width: 100%; font: inherit; }
button { font: inherit; padding: .4rem .8rem; border-radius: .4rem; border: 1px solid #5a5a5a; background: #f4f4f4;
         color: var(--ink); cursor: pointer; min-height: 2.5rem; }
button:hover { background: #e8e8e8; }
button:focus-visible, textarea:focus-visible, input:focus-visible, summary:focus-visible, a:focus-visible {
  outline: 3px solid #0b57d0; outline-offset: 2px; }
button.page-primary { background: #0b57d0; border-color: #0b57d0; color: #fff; }
button.page-primary:hover { background: #0842a0; }
button:disabled { opacity: .55; cursor: progress; }
.page-row { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; margin: .5rem 0; }
.page-or { margin: 1rem 0 0; }
.page-spread { justify-content: space-between; margin: 0; }
.page-progress { display: flex; align-items: center; gap: .75rem; margin: .75rem 0; }
.page-progress progress { flex: 1; max-width: 24rem; height: 1rem; }
#error { color: #8a1020; background: #fde8ea; border: 1px solid #8a1020; border-radius: .4rem; padding: .5rem .75rem; }
#status:empty, #error:empty { display: none; }
.page-doc { border-top: 2px solid var(--line); padding-top: .75rem; margin-top: 1rem; }
.page-counts { font-variant-numeric: tabular-nums; }
#inspector { position: sticky; bottom: 0; z-index: 5; margin-top: 1rem; padding: .6rem .8rem; background: #fff;
             border: 2px solid #1f1f1f; border-radius: .5rem .5rem 0 0; box-shadow: 0 -2px 10px rgba(0, 0, 0, .2);
             max-height: 55vh; overflow-y: auto; }
#inspector h3 { margin: 0 0 .3rem; font-size: 1rem; }
#inspector p { margin: .2rem 0; }
#ins-suggestion { color: #0d4d12; }
#ins-evidence { white-space: pre-wrap; overflow-wrap: anywhere; font-size: .85rem; margin: .25rem 0 0; }
.page-hint { font-size: .9rem; }
.page-results-body { display: block; }
@media (min-width: 60rem) {  /* wide screens: the details beside the text, covering nothing */
  .unspin-page main { max-width: 76rem; }
  .page-results-body { display: grid; grid-template-columns: minmax(0, 1fr) 21rem; gap: 1.25rem; align-items: start; }
  #inspector { top: 1rem; bottom: auto; margin-top: 1rem; border-radius: .5rem; max-height: calc(100vh - 2rem); }
}
@media (max-width: 40rem) {
  #inspector { max-height: 42vh; padding: .5rem; font-size: .9rem; }
  button { padding: .35rem .6rem; }
}
"""

PAGE_SCRIPT = r"""
(function () {
  "use strict";
  function byId(id) { return document.getElementById(id); }
  var form = byId("check-form"), textBox = byId("text"), fileInput = byId("file");
  var checkText = byId("check-text"), checkFile = byId("check-file");
  var statusLine = byId("status"), errorLine = byId("error");
  var progressBox = byId("progress-box"), progress = byId("progress"), elapsed = byId("elapsed");
  var results = byId("results"), resultsTitle = byId("results-title"), documentsBox = byId("documents");
  var inspector = byId("inspector");
  var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10) || 0;
  var state = { docs: [], downloads: null, stem: "unspin", busy: false, finished: false, total: 0,
                current: null, timer: null };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function button(text, onClick, className) {
    var node = el("button", className || null, text);
    node.type = "button";
    node.addEventListener("click", onClick);
    return node;
  }
  function say(message) { statusLine.textContent = message; }
  function fail(message) { errorLine.textContent = message || ""; errorLine.hidden = !message; }
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }
  function quote(text) { return "\u201c" + text + "\u201d"; }
  function size(bytes) {
    return bytes >= 1048576 ? (bytes / 1048576).toFixed(1) + " MiB" : Math.ceil(bytes / 1024) + " KiB";
  }
  function stemOf(name) {
    var stem = String(name || "").replace(/\.[^.]*$/, "").replace(/[^A-Za-z0-9._-]+/g, "-")
      .replace(/^[-.]+|[-.]+$/g, "");
    return stem.slice(0, 80) || "unspin";
  }

  // -- sending -------------------------------------------------------------------------------
  function setBusy(busy) {
    state.busy = busy;
    checkText.disabled = busy;
    checkFile.disabled = busy;
    results.setAttribute("aria-busy", busy ? "true" : "false");
    progressBox.hidden = !busy;
    clearInterval(state.timer);
    if (busy) {
      var started = Date.now();
      progress.removeAttribute("value");
      elapsed.textContent = "0.0 s";
      state.timer = setInterval(function () {
        elapsed.textContent = ((Date.now() - started) / 1000).toFixed(1) + " s";
      }, 200);
    }
  }
  function clearResults() {
    state.docs = []; state.downloads = null; state.finished = false; state.current = null; state.total = 0;
    documentsBox.textContent = "";
    inspector.hidden = true;
    keepClearOfInspector();
    enableDownloads(false);
    results.hidden = true;
  }
  function submitText() {
    var text = textBox.value;
    if (!text.trim()) {
      fail("Paste some text first (or choose a file and press Check file).");
      textBox.focus();
      return;
    }
    send({ method: "POST", headers: { "Content-Type": "application/json", "Accept": "application/x-ndjson" },
           body: JSON.stringify({ text: text }) }, "unspin");
  }
  function submitFile() {
    var file = fileInput.files && fileInput.files[0];
    if (!file) { fail("Choose a file first."); fileInput.focus(); return; }
    if (maxBytes && file.size > maxBytes) {
      fail(file.name + " (" + size(file.size) + ") is larger than this server accepts: at most " +
           size(maxBytes) + ".");
      return;
    }
    var data = new FormData();
    data.append("file", file, file.name);
    send({ method: "POST", headers: { "Accept": "application/x-ndjson" }, body: data }, stemOf(file.name));
  }
  function problem(body, status) {
    try {
      var data = JSON.parse(body);
      if (data && data.error) { return data.error.message + (data.error.hint ? " (" + data.error.hint + ")" : ""); }
    } catch (ignored) { /* not JSON */ }
    return "The server answered with status " + status + ".";
  }
  function readLines(stream, onLine) {
    var reader = stream.getReader(), decoder = new TextDecoder(), buffer = "";
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) {
          buffer += decoder.decode();
          if (buffer.trim()) { onLine(JSON.parse(buffer)); }
          return undefined;
        }
        buffer += decoder.decode(chunk.value, { stream: true });
        var lines = buffer.split("\n");
        buffer = lines.pop();
        lines.forEach(function (line) { if (line.trim()) { onLine(JSON.parse(line)); } });
        return pump();
      });
    }
    return pump();
  }
  function send(init, stem) {
    if (state.busy) { return; }
    fail("");
    clearResults();
    state.stem = stem;
    setBusy(true);
    say("Sending\u2026");
    fetch("/ui/check", init).then(function (response) {
      if (!response.ok) {
        return response.text().then(function (body) { throw new Error(problem(body, response.status)); });
      }
      return readLines(response.body, handle);
    }).then(function () {
      if (!state.finished) { throw new Error("The server stopped before it finished. Please try again."); }
    }).catch(function (error) {
      say("");
      fail(error && error.message ? error.message : String(error));
    }).then(function () { setBusy(false); });
  }
  function handle(event) {
    if (event.event === "start") {
      state.total = event.total;
      if (event.total > 1) { progress.max = event.total; progress.value = 0; }
      say((event.ahead > 0 ? "Waiting for " + plural(event.ahead, "earlier check") + ", then checking "
                            : "Checking ") + plural(event.total, "document") + "\u2026");
    } else if (event.event === "document") {
      addDocument(event);
      if (state.total > 1) { progress.value = event.index + 1; }
      say("Checked " + (event.index + 1) + " of " + state.total + "\u2026");
    } else if (event.event === "done") {
      state.downloads = event.downloads;
      state.finished = true;
      enableDownloads(true);
      var spans = state.docs.reduce(function (n, doc) { return n + doc.marks.length; }, 0);
      say("Done: " + plural(spans, "span") + " flagged in " + plural(state.docs.length, "document") + "." +
          (spans ? " Tab to a highlighted span, or tap it, to review its suggestion." : ""));
      resultsTitle.focus();
    } else if (event.event === "error") {
      throw new Error(event.message + (event.hint ? " (" + event.hint + ")" : ""));
    }
  }
  form.addEventListener("submit", function (event) { event.preventDefault(); submitText(); });
  textBox.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); submitText(); }
  });
  checkFile.addEventListener("click", submitFile);

  // -- documents -----------------------------------------------------------------------------
  function addDocument(event) {
    var index = state.docs.length, number = index + 1;
    var section = el("section", "page-doc");
    section.id = "page-doc-" + number;
    section.setAttribute("aria-labelledby", section.id + "-title");
    var title = el("h3", null, event.title);
    title.id = section.id + "-title";
    section.appendChild(title);
    var level = /^[a-z]+$/.test(event.risk.level) ? event.risk.level : "none";
    section.appendChild(el("p", "unspin-risk unspin-risk-" + level, "risk " + event.risk.label));
    section.appendChild(el("p", "unspin-muted", event.facts));
    var counts = el("p", "page-counts");
    counts.id = section.id + "-counts";
    section.appendChild(counts);
    var holder = document.createElement("div");
    holder.innerHTML = event.fragment; // rendered by unspin.report.html on the server: every input escaped
    var textEl = holder.firstElementChild;
    section.appendChild(textEl);
    var label = el("label", null, "Restored text (accepted suggestions applied)");
    label.htmlFor = "restored-" + number;
    var restoredBox = el("textarea");
    restoredBox.id = "restored-" + number;
    restoredBox.readOnly = true;
    restoredBox.rows = 6;
    section.appendChild(label);
    section.appendChild(restoredBox);
    var doc = { index: index, number: number, title: event.title, report: event.report, why: event.why,
                section: section, textEl: textEl, counts: counts, restoredBox: restoredBox, marks: [], restored: "" };
    var row = el("div", "page-row");
    row.appendChild(button("Copy restored text", function () { copy(doc); }));
    row.appendChild(button("Download restored text", function () {
      saveFile(state.stem + (state.total > 1 ? "-" + number : "") + "-restored.txt", "text/plain;charset=utf-8",
               doc.restored);
    }));
    section.appendChild(row);
    Array.prototype.forEach.call(textEl.querySelectorAll("mark.unspin-span"), function (mark, n) {
      mark.setAttribute("data-doc", String(index));
      mark.setAttribute("data-n", String(n));
      doc.marks.push(mark);
    });
    documentsBox.appendChild(section);
    state.docs.push(doc);
    results.hidden = false;
    refresh(doc);
  }
  // The restored text, read back from the DOM: no offsets, so emoji and other characters outside
  // the BMP (two UTF-16 units each in JavaScript, one code point in Python) cannot shift anything.
  function restoredText(root) {
    var out = [];
    (function walk(node) {
      for (var child = node.firstChild; child; child = child.nextSibling) {
        if (child.nodeType === 3) {
          out.push(child.data);
        } else if (child.nodeType === 1) {
          if (child.classList.contains("unspin-tip")) { continue; }
          if (child.classList.contains("unspin-span")) {
            out.push(child.getAttribute("data-decision") === "accepted" ? child.getAttribute("data-choice")
                                                                        : spanOf(child).text);
            continue;
          }
          walk(child);
        }
      }
    })(root);
    return out.join("");
  }
  function refresh(doc) {
    doc.restored = restoredText(doc.textEl);
    doc.restoredBox.value = doc.restored;
    var accepted = 0, rejected = 0;
    doc.marks.forEach(function (mark) {
      var decision = mark.getAttribute("data-decision");
      if (decision === "accepted") { accepted += 1; } else if (decision === "rejected") { rejected += 1; }
    });
    doc.counts.textContent = doc.marks.length ? accepted + " accepted \u00b7 " + rejected + " rejected \u00b7 " +
      (doc.marks.length - accepted - rejected) + " to review" : "Nothing flagged.";
  }
  function docOf(mark) { return state.docs[parseInt(mark.getAttribute("data-doc"), 10)]; }
  function spanOf(mark) { return docOf(mark).report.spans[parseInt(mark.getAttribute("data-n"), 10)]; }
  function choices(span) {
    var list = [span.suggestion];
    (span.alternatives || []).forEach(function (alt) { if (list.indexOf(alt) < 0) { list.push(alt); } });
    return list;
  }
  function allMarks() { return state.docs.reduce(function (all, doc) { return all.concat(doc.marks); }, []); }

  // -- decisions -----------------------------------------------------------------------------
  function decide(mark, decision, choice, quiet) {
    if (decision) { mark.setAttribute("data-decision", decision); } else { mark.removeAttribute("data-decision"); }
    if (decision === "accepted") { mark.setAttribute("data-choice", choice); }
    else { mark.removeAttribute("data-choice"); }
    refresh(docOf(mark));
    if (mark === state.current) { showInspector(mark); }
    if (!quiet) {
      var span = spanOf(mark);
      say(decision === "accepted" ? "Accepted " + quote(choice) + " for " + quote(span.text) + "."
        : decision === "rejected" ? "Rejected: " + quote(span.text) + " stays."
        : "Undone: " + quote(span.text) + " is to review.");
    }
  }
  function decideAll(decision) {
    var marks = allMarks();
    marks.forEach(function (mark) {
      decide(mark, decision, decision === "accepted" ? spanOf(mark).suggestion : null, true);
    });
    say(decision === "accepted" ? "Accepted all " + plural(marks.length, "suggestion") + "."
      : decision === "rejected" ? "Rejected all " + plural(marks.length, "suggestion") + "."
      : "Every decision undone.");
  }
  byId("accept-all").addEventListener("click", function () { decideAll("accepted"); });
  byId("reject-all").addEventListener("click", function () { decideAll("rejected"); });
  byId("undo-all").addEventListener("click", function () { decideAll(null); });

  function move(mark, step) {
    var marks = allMarks(), next = marks[marks.indexOf(mark) + step];
    if (next) { next.focus(); }
  }
  function showInspector(mark) {
    state.current = mark;
    var doc = docOf(mark), n = parseInt(mark.getAttribute("data-n"), 10), span = doc.report.spans[n];
    byId("ins-position").textContent = "Span " + (n + 1) + " of " + doc.marks.length +
      (state.docs.length > 1 ? " \u00b7 " + doc.title : "");
    byId("ins-text").textContent = span.text;
    byId("ins-suggestion").textContent = span.suggestion;
    byId("ins-alternatives").textContent = span.alternatives && span.alternatives.length
      ? "Alternatives: " + span.alternatives.join(", ") : "No alternatives.";
    byId("ins-meta").textContent = "confidence " + Number(span.confidence).toFixed(2) + " \u00b7 " + span.detector +
      (span.rule ? " \u00b7 rule " + span.rule : "");
    byId("ins-why").textContent = doc.why[n] ? "Why: " + doc.why[n] : "";
    byId("ins-evidence").textContent = JSON.stringify(span.evidence, null, 2);
    var decision = mark.getAttribute("data-decision");
    byId("ins-state").textContent = decision === "accepted" ? "Accepted: " + quote(mark.getAttribute("data-choice"))
      : decision === "rejected" ? "Rejected: the original wording stays." : "Not decided yet.";
    var box = byId("ins-choices");
    box.textContent = "";
    choices(span).forEach(function (choice, i) {
      box.appendChild(button((i === 0 ? "Accept " : "Use ") + quote(choice) + (i < 9 ? " (" + (i + 1) + ")" : ""),
        function () { decide(mark, "accepted", choice); mark.focus(); }, i === 0 ? "page-primary" : null));
    });
    box.appendChild(button("Reject (R)", function () { decide(mark, "rejected"); mark.focus(); }));
    box.appendChild(button("Undo (U)", function () { decide(mark, null); mark.focus(); }));
    box.appendChild(button("\u2039 Previous", function () { move(mark, -1); }));
    box.appendChild(button("Next \u203a", function () { move(mark, 1); }));
    inspector.hidden = false;
    keepClearOfInspector();
  }
  // Whatever is scrolled into view (a span focused with Tab, a button) stays above the panel.
  function keepClearOfInspector() {
    var bar = !inspector.hidden && !window.matchMedia("(min-width: 60rem)").matches;  // narrow: a bottom bar
    document.documentElement.style.scrollPaddingBottom = bar ? (inspector.offsetHeight + 16) + "px" : "";
  }
  function closeInspector() {
    var mark = state.current;
    inspector.hidden = true;
    keepClearOfInspector();
    if (mark) { mark.focus({ preventScroll: true }); }
  }
  documentsBox.addEventListener("focusin", function (event) {
    var mark = event.target.closest ? event.target.closest("mark.unspin-span") : null;
    if (mark) { showInspector(mark); }
  });
  documentsBox.addEventListener("click", function (event) {
    var mark = event.target.closest ? event.target.closest("mark.unspin-span") : null;
    if (mark && document.activeElement !== mark) { mark.focus(); }
  });
  documentsBox.addEventListener("keydown", function (event) {
    var mark = event.target.closest ? event.target.closest("mark.unspin-span") : null;
    if (!mark || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var key = event.key, span = spanOf(mark);
    if (key === "a" || key === "A") {
      decide(mark, "accepted", span.suggestion);
    } else if (key === "r" || key === "R") {
      decide(mark, "rejected");
    } else if (key === "u" || key === "U") {
      decide(mark, null);
    } else if (/^[1-9]$/.test(key)) {
      var pick = choices(span)[parseInt(key, 10) - 1];
      if (pick === undefined) { return; }
      decide(mark, "accepted", pick);
    } else if (key === "Enter" || key === " ") {
      var first = byId("ins-choices").querySelector("button");
      if (first) { first.focus(); }
    } else {
      return;
    }
    event.preventDefault();
  });
  inspector.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && state.current) { event.preventDefault(); state.current.focus(); }
  });
  byId("ins-close").addEventListener("click", closeInspector);

  // -- copy and download ---------------------------------------------------------------------
  function fallbackCopy(doc) {
    doc.restoredBox.focus();
    doc.restoredBox.select();
    try { return document.execCommand("copy"); } catch (ignored) { return false; }
  }
  function copy(doc) {
    var done = function () { say("Copied the restored text of " + doc.title + "."); };
    var refused = function () { fail("The browser refused to copy: select the restored text and copy it by hand."); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(doc.restored).then(done, function () {
        if (fallbackCopy(doc)) { done(); } else { refused(); }
      });
    } else if (fallbackCopy(doc)) { done(); } else { refused(); }
  }
  function saveFile(name, type, content) {
    var url = URL.createObjectURL(new Blob([content], { type: type }));
    var link = el("a");
    link.href = url;
    link.download = name;
    link.hidden = true;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 30000);
    say("Saved " + name + ".");
  }
  function enableDownloads(on) {
    Array.prototype.forEach.call(byId("downloads").querySelectorAll("button"), function (b) { b.disabled = !on; });
  }
  byId("downloads").addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("button[data-format]") : null;
    if (!target || !state.downloads) { return; }
    var file = state.downloads[target.getAttribute("data-format")];
    if (file) { saveFile(state.stem + "-" + file.suffix, file.type, file.content); }
  });
})();
"""


ACCEPT = (".txt,.text,.md,.markdown,.html,.htm,.xhtml,.pdf,.docx,.xml,.nxml,.jsonl,.ndjson,text/plain,text/markdown,"
          "text/html,application/pdf,application/vnd.openxmlformats-officedocument.wordprocessingml.document")


def _csp_hash(code: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(code.encode("utf-8")).digest()).decode("ascii") + "'"


PAGE_CSS = STYLESHEET + PAGE_STYLE
PAGE_CSP = (
    f"default-src 'none'; style-src {_csp_hash(PAGE_CSS)}; script-src {_csp_hash(PAGE_SCRIPT)}; "
    "connect-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _legend() -> str:
    items = "".join(
        f'<span><mark class="unspin-swatch unspin-conf-{name}">{name}</mark> '
        + (f"confidence \u2265 {floor:.1f}" if floor else "below 0.7") + "</span>"
        for floor, name in CONFIDENCE_BANDS
    )
    return f'<p class="unspin-legend" aria-label="colour legend">{items}</p>'


def render_page(settings: Settings) -> str:
    """The page, for these settings (shown: engine mode, lists, the size limit)."""
    described = settings.describe()
    engine = (f"{described['mode']} mode" if described["engine"] else "fingerprint lists only")
    lists = ", ".join(described["fingerprint_lists"])
    about = (engine + (f" \u00b7 lists: {lists}" if lists else "")
             + f" \u00b7 up to {human_bytes(settings.max_request_bytes)} a request")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>unspin</title><style>{PAGE_CSS}</style></head>\n"
        '<body class="unspin-page"><main>'
        "<header><h1>unspin</h1>"
        '<p>Finds wording that reads like automatic synonym substitution (\u201cprofound learning\u201d for '
        "\u201cdeep learning\u201d) and suggests the original. Flags are prompts for a human review, not "
        "conclusions about the text or its authors.</p>"
        f'<p class="unspin-muted" id="engine">{esc(about)}</p></header>'
        f'<form id="check-form" data-max-bytes="{int(settings.max_request_bytes)}" novalidate>'
        '<label for="text">Text to check</label>'
        '<textarea id="text" name="text" rows="10" spellcheck="false" placeholder="Paste text here\u2026"></textarea>'
        '<div class="page-row"><button type="submit" id="check-text" class="page-primary">Check text</button>'
        '<span class="unspin-muted">or Ctrl+Enter in the text box</span></div>'
        '<label for="file" class="page-or">Or upload a file: .txt, .md, .html, .pdf, .docx, JATS .xml or .jsonl, '
        f"up to {esc(human_bytes(settings.max_request_bytes))}</label>"
        '<div class="page-row"><input type="file" id="file" name="file" '
        f'accept="{ACCEPT}">'
        '<button type="button" id="check-file">Check file</button></div>'
        "</form>"
        '<div class="page-progress" id="progress-box" hidden><progress id="progress" aria-label="progress"></progress>'
        '<span id="elapsed" class="unspin-muted"></span></div>'
        '<p id="status" role="status" aria-live="polite"></p>'
        '<p id="error" role="alert" hidden></p>'
        '<section id="results" aria-labelledby="results-title" hidden>'
        '<h2 id="results-title" tabindex="-1">Results</h2>'
        + _legend()
        + '<p class="unspin-muted page-hint">Tab to a highlighted span (or tap it) for its suggestion. On a span: '
        "<kbd>A</kbd> accept, <kbd>R</kbd> reject, <kbd>U</kbd> undo, <kbd>1</kbd>\u2013<kbd>9</kbd> choose the "
        "suggestion or an alternative, <kbd>Enter</kbd> for the buttons (<kbd>Esc</kbd> back).</p>"
        '<div class="page-row" role="group" aria-label="Every suggestion">'
        '<button type="button" id="accept-all">Accept all</button>'
        '<button type="button" id="reject-all">Reject all</button>'
        '<button type="button" id="undo-all">Undo all</button></div>'
        '<div class="page-row" role="group" aria-label="Download the report" id="downloads">'
        '<span>Download the report:</span>'
        '<button type="button" data-format="json" id="download-json">JSON</button>'
        '<button type="button" data-format="csv" id="download-csv">CSV</button>'
        '<button type="button" data-format="html" id="download-html">HTML</button></div>'
        '<div class="page-results-body"><div id="documents"></div>'
        '<aside id="inspector" aria-labelledby="inspector-title" hidden>'
        '<div class="page-row page-spread"><h3 id="inspector-title"><span id="ins-position"></span></h3>'
        '<button type="button" id="ins-close" aria-label="Close the details">Close \u00d7</button></div>'
        '<p><span class="unspin-muted">spun:</span> <q id="ins-text"></q> '
        '<span class="unspin-muted">suggested original:</span> <strong id="ins-suggestion"></strong></p>'
        '<p id="ins-alternatives" class="unspin-muted"></p>'
        '<p id="ins-meta" class="unspin-muted"></p>'
        '<p id="ins-why"></p>'
        '<p id="ins-state"></p>'
        '<div class="page-row" role="group" aria-label="Decide" id="ins-choices"></div>'
        '<details><summary>Evidence</summary><pre id="ins-evidence"></pre></details>'
        "</aside></div></section>"
        f"</main><script>{PAGE_SCRIPT}</script></body></html>\n"
    )
