"""Fuzz unspin's input paths in-process and count crashes, contract violations and hangs.

    PYTHONPATH=src python benchmarks/fuzz.py [--count 100000] [--seed 0] [--targets jsonl,decode,extract,api]
        [--hang 10] [--json PATH] [--replay INDEX] [--show 5]

Every input is generated from `random.Random(f"{seed}:{index}")`, so `--replay INDEX` rebuilds and
runs exactly one input (and prints it) whatever the count. Inputs go round-robin to four targets:

- `jsonl`: a JSONL document (hostile lines: nesting up to 100,000 deep, ids of 5,000 digits, 1e999,
  NaN, lone surrogate escapes, raw U+2028 / U+0085 / U+001C in strings, BOMs, CRLF, bad UTF-8,
  truncation) to `unspin check - --input-format jsonl --format F` (F: jsonl, json, text, csv, html),
  called as `unspin.cli.main.main(argv)` with fake streams.
  Contract: exit 0, 2 (json with several documents) or 3; stderr empty on 0, else one line
  "unspin: error ..."; the output encodes as UTF-8 (what a real stdout needs); jsonl/json output is
  strict JSON (no NaN/Infinity) with one report per input line whose spans slice that line's text.
- `decode`: raw bytes (BOMs of UTF-8/16/32, text in those encodings, NULs, cut characters, random
  bytes) to `text.load.decode`, `documents.plain.decode_text`, `documents.sniff_format`, and
  `documents.extract`. Contract: a str without surrogates, or an `InputError`.
- `extract`: a mutated document (PDF, DOCX, HTML, JATS XML, Markdown, text: bytes flipped, cut,
  spliced, hostile snippets such as entity declarations, deep nesting, "%PDF-", BOMs inserted; a
  DOCX's inner XML mutated and re-zipped) to `documents.extract`. Contract: an `ExtractedDocument`
  whose blocks, excluded regions and repairs lie inside its text and whose scored text has its
  length, or an `InputError` (exit 3) / `DocumentError` (exit 6) with a one-line message.
- `api`: a request (JSON bodies from the jsonl generator, text/plain, url-encoded forms, multipart
  uploads of the mutated documents and JSONL files, odd Content-Types) to /api/check, /api/restore,
  /api/jobs or /ui/check of the app (`create_app`) through Starlette's TestClient.
  Contract: 200/202 or a 4xx with an error object, never 500; JSON responses strict JSON; a
  report's spans slice the text sent.

For every target, anything logged at WARNING or above (a library's warnings) and anything written to
sys.stderr outside the CLI's own stream is a contract violation (stderr is the CLI's one error line).
The checker is the list-only one (`--mode fast --no-engine` with a two-line list): the detector is
not what is fuzzed, and the list matcher still produces spans whose offsets are checked.

A crash is an exception the contract does not allow (the CLI's exit 4, a 500, a Python error out of
a reader); a hang an input that took longer than `--hang` seconds (it is stopped by SIGALRM and
counted). Prints the counts per target and the first `--show` failures of each kind with the
index to replay. Exit status 0 when there were none, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import random
import signal
import sys
import tempfile
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

LIST = "profound learning\tdeep learning\natmosphere alteration\tclimate change\n"
WORDS = ("the profound learning of atmosphere alteration is presently a danger for beach front networks "
         "and counterfeit consciousness deep learning").split()
# Characters that splitlines() takes for line ends, and other troublemakers, raw inside strings.
RAW = ["\u2028", "\u2029", "\u0085", "\x1c", "\x1d", "\x1e", "\x0b", "\x0c", "\t", "\r", "\x00", "\ufeff",
       "\u202e", "\u0301", "é", "日本", "\U0001F600", "\\", '\\"', "\x7f", "\ufffd"]
ESCAPES = ["\\ud800", "\\udfff", "\\ud83d\\ude00", "\\u0000", "\\u2028", "\\n", "\\t", "\\/", "\\x41", "\\u12"]
NUMBERS = ["0", "-0", "1", "1.5", "1e999", "-1e999", "1e-999", "NaN", "Infinity", "-Infinity", "9" * 4300,
           "9" * 4301, "7" * 5000, "-" + "8" * 6000, "0x10", "01", "1.", ".5", "1e", "2" * 40]
TARGETS = ("jsonl", "decode", "extract", "api")
BOMS = [b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be", "latin-1",
             "cp1252"]
NAMES = [None, "a.txt", "a.md", "a.html", "a.pdf", "a.docx", "a.xml", "a.jsonl", "a.bin", "a", "..", "a.PDF",
         "../../etc/passwd", "a\x00b.txt", "a.ndjson"]


class Hang(Exception):
    pass


@dataclass
class Tally:
    inputs: Counter = field(default_factory=Counter)
    crashes: Counter = field(default_factory=Counter)
    violations: Counter = field(default_factory=Counter)
    hangs: Counter = field(default_factory=Counter)
    examples: dict = field(default_factory=dict)  # kind -> [(index, target, what)]
    seconds: Counter = field(default_factory=Counter)

    def note(self, kind: str, index: int, target: str, what: str, show: int) -> None:
        getattr(self, kind)[target] += 1
        found = self.examples.setdefault(kind, [])
        if len(found) < show:
            found.append((index, target, what[:400]))


# -- generators --------------------------------------------------------------------------------------

def json_string(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(0, 12)):
        roll = rng.random()
        if roll < 0.55:
            parts.append(rng.choice(WORDS) + " ")
        elif roll < 0.8:
            parts.append(rng.choice(RAW))
        else:
            parts.append(rng.choice(ESCAPES))
    return '"' + "".join(parts) + ('"' if rng.random() > 0.02 else "")


def json_value(rng: random.Random, depth: int = 0) -> str:
    roll = rng.random()
    if roll < 0.3 or depth > 3:
        return json_string(rng)
    if roll < 0.5:
        return rng.choice(NUMBERS)
    if roll < 0.58:
        return rng.choice(["true", "false", "null", "nul", "True", "undefined"])
    if roll < 0.66:
        n = rng.choice([10, 31, 33, 500, 990, 2000, 100_000])
        inner = rng.choice(["", "1", '"x"', "NaN"])
        return ("[" * n + inner + "]" * n) if rng.random() < 0.7 else ('{"a":' * n + "0" + "}" * n)
    if roll < 0.83:
        return "[" + ",".join(json_value(rng, depth + 1) for _ in range(rng.randint(0, 4))) + "]"
    items = [f"{json_string(rng)}:{json_value(rng, depth + 1)}" for _ in range(rng.randint(0, 4))]
    return "{" + ",".join(items) + "}"


def jsonl_line(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.6:
        fields = [f'"text":{json_string(rng) if rng.random() < 0.9 else json_value(rng)}']
        if rng.random() < 0.8:
            fields.append(f'"id":{json_value(rng)}')
        if rng.random() < 0.2:
            fields.append(f'"meta":{json_value(rng)}')
        rng.shuffle(fields)
        line = "{" + ",".join(fields) + "}"
    elif roll < 0.8:
        line = json_value(rng)
    else:
        line = '{"id": %s, "text": "%s"}' % (rng.choice(NUMBERS), " ".join(rng.choices(WORDS, k=8)))
    if rng.random() < 0.05:
        line = line[: rng.randint(0, len(line))]
    return line


def jsonl_document(rng: random.Random) -> bytes:
    lines = [jsonl_line(rng) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
    if rng.random() < 0.1:
        lines.insert(rng.randint(0, len(lines)), rng.choice(["", "   ", "\t", "\u2028", "\x1c"]))
    text = (rng.choice(["\n", "\n", "\r\n"])).join(lines) + rng.choice(["\n", "", "\r\n", "\n\n"])
    data = text.encode("utf-8", "surrogatepass")
    if rng.random() < 0.05:
        data = rng.choice(BOMS[:2]) + data
    if rng.random() < 0.04:
        at = rng.randint(0, len(data))
        data = data[:at] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 4))) + data[at:]
    return data


def text_bytes(rng: random.Random) -> bytes:
    words = " ".join(rng.choices(WORDS, k=rng.randint(0, 40)))
    chars = "".join(rng.choice(RAW[:-4] + ["a", " ", "\n"]) for _ in range(rng.randint(0, 10)))
    text = words + chars + rng.choice(["", "%PDF-1.4", "%%EOF", "<html>", "<?xml version='1.0'?>", "# Title\n"])
    encoding = rng.choice(ENCODINGS)
    data = text.encode(encoding, "replace")
    roll = rng.random()
    if roll < 0.3:
        data = rng.choice(BOMS) + data
    elif roll < 0.45:
        data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
    elif roll < 0.55:
        data = data[: rng.randint(0, len(data))]
    elif roll < 0.6:
        data = rng.choice(BOMS) + b"\x00" * rng.randint(0, 9)
    return data


class Seeds:
    """One small valid document of each format, made once."""

    def __init__(self) -> None:
        self.pdf = _pdf()
        self.docx = _docx()
        self.html = ("<!DOCTYPE html><html><head><title>T</title></head><body><h1>Title</h1><p>The profound "
                     "learning of atmosphere alteration.</p><blockquote>A quote.</blockquote><pre>code()</pre>"
                     "<h2>References</h2><ol><li>A. B. 2020.</li></ol></body></html>").encode()
        self.jats = ('<?xml version="1.0"?><!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Publishing '
                     'DTD v1.2 20190208//EN" "JATS-journalpublishing1.dtd"><article dtd-version="1.2"><front>'
                     '<article-meta><title-group><article-title>T</article-title></title-group></article-meta>'
                     '</front><body><sec><title>Intro</title><p>The profound learning &amp; atmosphere alteration'
                     '&mdash;here.</p></sec></body><back><ref-list><ref><mixed-citation>X</mixed-citation></ref>'
                     '</ref-list></back></article>').encode()
        self.markdown = b"# Title\n\nSome profound learning here.\n\n```\ncode\n```\n\n> quote\n\n## References\n\n1. X\n"
        self.text = b"Plain text about atmosphere alteration.\n\nReferences\n\n1. A. B.\n"

    def all(self) -> list[tuple[str, bytes]]:
        return [("pdf", self.pdf), ("docx", self.docx), ("html", self.html), ("jats", self.jats),
                ("markdown", self.markdown), ("text", self.text)]


def _pdf() -> bytes:
    return minimal_pdf(b"BT /F1 12 Tf 72 700 Td (The profound learning of atmosphere alteration.) Tj ET\n",
                       header=b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")


def minimal_pdf(content: bytes, header: bytes = b"%PDF-1.4\n") -> bytes:
    """A one-page PDF (Helvetica, a correct xref table) whose page draws `content`, a content stream.
    The fuzzer, the server benchmark and the hostile-input tests build their PDFs here."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(content) + content + b"endstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = header, []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 6\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer << /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref


def docx_with_entity(declaration: str = '<!ENTITY xxe SYSTEM "file:///etc/hostname">',
                     reference: str = "&xxe;", paragraph: str = "Before the entity. Middle words and the end.") -> bytes:
    """A DOCX whose document.xml declares `declaration` and uses `reference` before "Middle"."""
    from docx import Document

    document = Document()
    document.add_paragraph(paragraph)
    packed = io.BytesIO()
    document.save(packed)
    source, out = zipfile.ZipFile(io.BytesIO(packed.getvalue())), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "word/document.xml":
                xml = data.decode("utf-8").replace("?>", f"?><!DOCTYPE w:document [{declaration}]>", 1)
                data = xml.replace("Middle", f"{reference} Middle", 1).encode("utf-8")
            target.writestr(info, data)
    return out.getvalue()


def _docx() -> bytes:
    from docx import Document

    document = Document()
    document.add_heading("Title", 0)
    document.add_paragraph("The profound learning of atmosphere alteration.")
    document.add_paragraph("A quotation.", style="Quote")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


SNIPPETS = [b"<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>", b"<!ENTITY % p SYSTEM \"http://x/\">",
            b"&e;", b"<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;\">", b"%PDF-1.7", b"%%EOF",
            b"\xef\xbb\xbf", b"\xff\xfe\x00\x00", b"\x00" * 8, b"<div>" * 5000, b"<p>" * 200, b"]]>", b"<![CDATA[",
            b"obj << /Length 99999999 >> stream", b"/Encrypt 9 0 R", b"trailer << /Root 99 0 R >>", b"\r\n",
            b"\xed\xa0\x80", b"\xc3", b"<w:t>&x;</w:t>", b"<sec>" * 3000, b"&#0;", b"&#xD800;", b"&#1114112;"]


def mutate(rng: random.Random, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        roll = rng.random()
        if roll < 0.3 and data:
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif roll < 0.45:
            data = data[: rng.randint(0, len(data))]
        elif roll < 0.8:
            at = rng.randint(0, len(data))
            data[at:at] = rng.choice(SNIPPETS)
        elif data:
            start = rng.randrange(len(data))
            data[start:start] = data[start: start + rng.randint(1, 200)]
    return bytes(data)


def mutate_docx(rng: random.Random, data: bytes) -> bytes:
    """Mutate one XML member of the package and zip it again (bytes flipped in a zip mostly fail its CRC)."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    members = [info for info in source.infolist() if info.filename.endswith((".xml", ".rels"))]
    victim = rng.choice(members).filename if rng.random() < 0.5 else "word/document.xml"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            member = source.read(info)
            if info.filename == victim:
                if rng.random() < 0.5:
                    member = member.replace(b"?>", b"?>" + rng.choice(SNIPPETS[:4]), 1)
                    member = member.replace(b"<w:t>", b"<w:t>&e;", 1)
                else:
                    member = mutate(rng, member)
            target.writestr(info, member)
    return out.getvalue()


def document_bytes(rng: random.Random, seeds: Seeds) -> tuple[str | None, bytes]:
    kind, data = rng.choice(seeds.all())
    if kind == "docx" and rng.random() < 0.6:
        data = mutate_docx(rng, data)
    elif rng.random() < 0.9:
        data = mutate(rng, data)
    if rng.random() < 0.05:
        data = mutate(rng, data + rng.choice(seeds.all())[1])
    name = rng.choice(NAMES) if rng.random() < 0.3 else {"pdf": "x.pdf", "docx": "x.docx", "html": "x.html",
                                                           "jats": "x.xml", "markdown": "x.md", "text": "x.txt"}[kind]
    return name, data


# -- oracles -----------------------------------------------------------------------------------------

def strict_json(text: str):
    def refuse(name):
        raise ValueError(f"{name} written")
    return json.loads(text, parse_constant=refuse)


def reference_texts(data: bytes) -> list[str] | None:
    """The texts of the lines of a JSONL document, as JSON (not splitlines) reads them; None if unreadable."""
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
        records = [json.loads(line, strict=False) for line in text.split("\n") if line.strip(" \t\r")]
        return [record["text"] for record in records]
    except Exception:  # noqa: BLE001 - only for lines the CLI accepted
        return None


def check_spans(report: dict, text: str | None) -> str | None:
    if text is None:
        return None
    for span in report.get("spans", []):
        if text[span["start"]:span["end"]] != span["text"]:
            return f"span {span['start']}:{span['end']} {span['text']!r} does not slice the input"
    return None


def check_extracted(document) -> str | None:
    text = document.text
    if not isinstance(text, str):
        return "text is not a str"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "extracted text holds an unpaired surrogate"
    for region in document.excluded:
        if not 0 <= region.start < region.end <= len(text):
            return f"excluded region {region} outside the text"
    for block in document.blocks:
        if not 0 <= block.start < block.end <= len(text):
            return f"block {block} outside the text"
    for repair in document.repairs:
        if not 0 <= repair.start < repair.end <= len(text):
            return f"repair {repair} outside the text"
    if len(document.scored_text()) != len(text):
        return "scored text has another length"
    return None


# -- targets -----------------------------------------------------------------------------------------

class Harness:
    def __init__(self, folder: Path) -> None:
        from unspin.documents import extract, sniff_format
        from unspin.documents.plain import decode_text
        from unspin.errors import InputError
        from unspin.text.load import decode

        self.extract, self.sniff, self.decode_text, self.decode = extract, sniff_format, decode_text, decode
        self.InputError = InputError
        lists = folder / "spun.tsv"
        lists.write_text(LIST, encoding="utf-8")
        self.engine = ["--mode", "fast", "--no-engine", "--fingerprints", str(lists)]
        self.seeds = Seeds()
        self.folder = folder
        self._client = None

    def client(self):
        if self._client is None:
            from fastapi.testclient import TestClient

            from unspin.web.app import create_app
            from unspin.web.settings import Settings

            settings = Settings(mode="fast", engine=False, fingerprints=(str(self.folder / "spun.tsv"),),
                                data_dir=self.folder / "server", worker=False)
            self._context = TestClient(create_app(settings), base_url="http://127.0.0.1:8000",
                                       raise_server_exceptions=False)
            self._client = self._context.__enter__()
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._context.__exit__(None, None, None)

    # Each target returns None (fine), ("violation", what) or ("crash", what).
    def jsonl(self, rng: random.Random, show: bool = False):
        from unspin.cli.main import main

        data = jsonl_document(rng)
        output = rng.choice(["jsonl", "jsonl", "json", "text", "csv", "html"])
        if show:
            print(f"--format {output}, stdin: {data!r}"[:2000])
        out, err = io.StringIO(), io.StringIO()
        code = main(["check", "-", "--input-format", "jsonl", "--format", output, *self.engine],
                    stdin=io.BytesIO(data), stdout=out, stderr=err)
        out, err = out.getvalue(), err.getvalue()
        if code == 4:
            return "crash", err.strip()
        if code not in (0, 2, 3):
            return "violation", f"exit {code}: {err.strip()}"
        if code != 0:
            lines = err.splitlines()
            if len(lines) != 1 or not lines[0].startswith("unspin: error") or out:
                return "violation", f"exit {code} with stderr {err!r} and {len(out)} characters out"
            if code == 2 and output != "json":
                return "violation", f"exit 2 for --format {output}: {err.strip()}"
            return None
        if err:
            return "violation", f"exit 0 with stderr {err!r}"
        try:
            out.encode("utf-8")
        except UnicodeEncodeError as problem:
            return "crash", f"output cannot be written to a UTF-8 stdout: {problem}"
        if output in ("jsonl", "json"):
            texts = reference_texts(data)
            try:
                reports = [strict_json(out)] if output == "json" else [strict_json(line) for line in out.split("\n")
                                                                        if line]
            except ValueError as problem:
                return "violation", f"--format {output} wrote invalid JSON: {problem}"
            if texts is not None and len(texts) != len(reports):
                return "violation", f"{len(reports)} reports for {len(texts)} lines"
            for index, report in enumerate(reports):
                problem = check_spans(report, texts[index] if texts is not None else None)
                if problem:
                    return "violation", problem
        return None

    def decode_target(self, rng: random.Random, show: bool = False):
        data = text_bytes(rng)
        name = rng.choice(NAMES)
        if show:
            print(f"name {name!r}, bytes: {data!r}"[:2000])
        for call in (lambda: self.decode(data, "x"), lambda: self.decode_text(data, "x"),
                     lambda: self.sniff(data, name), lambda: self.extract(data, name=name)):
            try:
                result = call()
            except self.InputError as problem:
                if "\n" in problem.one_line():
                    return "violation", f"a multi-line error: {problem.one_line()!r}"
                continue
            except Hang:
                raise
            except Exception as problem:  # noqa: BLE001
                return "crash", f"{type(problem).__name__}: {problem}"
            text = result if isinstance(result, str) else getattr(result, "text", "")
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                return "violation", "decoded text holds an unpaired surrogate"
            if hasattr(result, "scored_text"):
                problem = check_extracted(result)
                if problem:
                    return "violation", problem
        return None

    def extract_target(self, rng: random.Random, show: bool = False):
        name, data = document_bytes(rng, self.seeds)
        if show:
            print(f"name {name!r}, {len(data)} bytes: {data[:1500]!r}")
        try:
            document = self.extract(data, name=name)
        except self.InputError as problem:
            if "\n" in problem.one_line():
                return "violation", f"a multi-line error: {problem.one_line()!r}"
            return None
        except Hang:
            raise
        except Exception as problem:  # noqa: BLE001
            return "crash", f"{type(problem).__name__}: {problem}"
        problem = check_extracted(document)
        return ("violation", problem) if problem else None

    def api(self, rng: random.Random, show: bool = False):
        client = self.client()
        route = rng.choice(["/api/check", "/api/check", "/api/restore", "/api/jobs", "/ui/check"])
        roll, text = rng.random(), None
        if roll < 0.4:
            line = jsonl_line(rng) if rng.random() < 0.8 else '{"documents": [%s]}' % jsonl_line(rng)
            body = line.encode("utf-8", "surrogatepass")
            request = {"content": body, "headers": {"Content-Type": "application/json"}}
            try:
                text = json.loads(line, strict=False).get("text")
            except Exception:  # noqa: BLE001
                text = None
        elif roll < 0.5:
            body = text_bytes(rng)
            request = {"content": body, "headers": {"Content-Type": rng.choice(["text/plain", "text/plain; charset=utf-8",
                                                                                "application/x-ndjson", "image/png", ""])}}
        elif roll < 0.6:
            body = ("text=" + json_string(rng)[1:-1] + "&id=" + rng.choice(NUMBERS)).encode("utf-8", "surrogatepass")
            request = {"content": body, "headers": {"Content-Type": "application/x-www-form-urlencoded"}}
        elif roll < 0.8:
            name, data = document_bytes(rng, self.seeds)
            request = {"files": {rng.choice(["file", "files"]): (name or "upload", data)}}
            body = data
        else:
            data = jsonl_document(rng)
            request = {"files": {"file": (rng.choice(["a.jsonl", "b.ndjson"]), data)}}
            body = data
        if show:
            print(f"POST {route} {json.dumps({k: v for k, v in request.items() if k == 'headers'})}: {body[:1500]!r}")
        response = client.post(route, **request)
        status = response.status_code
        if status >= 500:
            return "crash", f"{route} answered {status}: {response.text[:300]}"
        if status not in (200, 202) and not 400 <= status < 500:
            return "violation", f"{route} answered {status}"
        content_type = response.headers.get("content-type", "")
        try:
            if "json" in content_type and "ndjson" not in content_type:
                payload = strict_json(response.text)
            elif "ndjson" in content_type:
                payload = [strict_json(line) for line in response.text.split("\n") if line]
            else:
                payload = None
        except ValueError as problem:
            return "violation", f"{route} wrote invalid JSON: {problem}"
        if status >= 400 and not (isinstance(payload, dict) and payload.get("error", {}).get("message")):
            return "violation", f"{route} answered {status} without an error object"
        if route == "/ui/check" and isinstance(payload, list):
            errors = [event for event in payload if event.get("event") == "error"]
            if any(event.get("reference") == "internal" for event in errors):
                return "crash", f"/ui/check streamed an internal error: {errors[0]}"
        if status == 200 and route == "/api/check" and isinstance(text, str) and isinstance(payload, dict):
            problem = check_spans(payload, text)
            if problem:
                return "violation", problem
        return None


# -- the run -----------------------------------------------------------------------------------------

class _Watch(logging.Handler):
    """Every record at WARNING or above that reaches the root logger: a library talking on stderr."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("unspin.web"):
            return  # the server logs a 5xx itself: counted from the status instead
        self.records.append(f"{record.name}: {record.getMessage()}"[:300])


def _on_alarm(signum, frame):
    raise Hang()


def run(count: int, seed: int, targets=TARGETS, hang: float = 10.0, show: int = 5, progress: bool = False,
        replay: int | None = None) -> Tally:
    tally = Tally()
    watch = _Watch()
    root = logging.getLogger()
    root.addHandler(watch)
    previous_level = root.level
    root.setLevel(logging.WARNING)
    old_alarm = signal.signal(signal.SIGALRM, _on_alarm) if hasattr(signal, "SIGALRM") else None
    with tempfile.TemporaryDirectory(prefix="unspin-fuzz-") as folder:
        harness = Harness(Path(folder))
        calls = {"jsonl": harness.jsonl, "decode": harness.decode_target, "extract": harness.extract_target,
                 "api": harness.api}
        indexes = [replay] if replay is not None else range(count)
        started = time.monotonic()
        try:
            for index in indexes:
                target = targets[index % len(targets)]
                rng = random.Random(f"{seed}:{index}")
                tally.inputs[target] += 1
                watch.records.clear()
                stray = io.StringIO()
                begin = time.perf_counter()
                try:
                    if old_alarm is not None:
                        signal.setitimer(signal.ITIMER_REAL, hang)
                    with contextlib.redirect_stderr(stray):
                        outcome = calls[target](rng, show=replay is not None)
                except Hang:
                    outcome = ("hangs", f"over {hang:g} s")
                except Exception as problem:  # noqa: BLE001 - the harness's own view of a crash
                    outcome = ("crash", f"{type(problem).__name__}: {problem}")
                finally:
                    if old_alarm is not None:
                        signal.setitimer(signal.ITIMER_REAL, 0)
                tally.seconds[target] += time.perf_counter() - begin
                if outcome is None and (watch.records or stray.getvalue()):
                    said = watch.records[0] if watch.records else stray.getvalue()
                    outcome = ("violation", f"wrote to stderr / logged a warning: {said[:300]}")
                if outcome is not None:
                    kind = {"crash": "crashes", "violation": "violations", "hangs": "hangs"}[outcome[0]]
                    tally.note(kind, index, target, outcome[1], show)
                if progress and (index + 1) % 5000 == 0:
                    print(f"  {index + 1:,} inputs, {time.monotonic() - started:,.0f} s, "
                          f"crashes {sum(tally.crashes.values())}, violations {sum(tally.violations.values())}, "
                          f"hangs {sum(tally.hangs.values())}", file=sys.__stderr__, flush=True)
        finally:
            harness.close()
            root.removeHandler(watch)
            root.setLevel(previous_level)
            if old_alarm is not None:
                signal.signal(signal.SIGALRM, old_alarm)
    return tally


def report(tally: Tally, seed: int, seconds: float) -> str:
    lines = [f"unspin fuzz: seed {seed}, {sum(tally.inputs.values()):,} inputs in {seconds:,.1f} s",
             f"{'target':<8} {'inputs':>8} {'crashes':>8} {'violations':>10} {'hangs':>6} {'ms/input':>9}"]
    for target in TARGETS:
        if tally.inputs[target]:
            per = 1000 * tally.seconds[target] / tally.inputs[target]
            lines.append(f"{target:<8} {tally.inputs[target]:>8,} {tally.crashes[target]:>8} "
                         f"{tally.violations[target]:>10} {tally.hangs[target]:>6} {per:>9.2f}")
    lines.append(f"{'total':<8} {sum(tally.inputs.values()):>8,} {sum(tally.crashes.values()):>8} "
                 f"{sum(tally.violations.values()):>10} {sum(tally.hangs.values()):>6}")
    for kind, found in tally.examples.items():
        for index, target, what in found:
            lines.append(f"  {kind[:-1] if kind != 'crashes' else 'crash'} #{index} ({target}; --replay {index}): {what}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="inputs to generate (default 100,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--targets", default=",".join(TARGETS), help=f"comma-separated, of {', '.join(TARGETS)}")
    parser.add_argument("--hang", type=float, default=10.0, help="seconds after which an input counts as a hang")
    parser.add_argument("--show", type=int, default=5, help="failures of each kind to print")
    parser.add_argument("--replay", type=int, default=None, help="run (and print) this one input index only")
    parser.add_argument("--json", default=None, help="also write the counts here")
    args = parser.parse_args(argv)
    targets = tuple(t for t in args.targets.split(",") if t)
    unknown = set(targets) - set(TARGETS)
    if unknown or not targets:
        parser.error(f"unknown targets: {', '.join(sorted(unknown)) or '(none)'}")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    started = time.monotonic()
    tally = run(args.count, args.seed, targets, hang=args.hang, show=args.show, progress=args.replay is None,
                replay=args.replay)
    seconds = time.monotonic() - started
    print(report(tally, args.seed, seconds))
    if args.json:
        Path(args.json).write_text(json.dumps({
            "seed": args.seed, "count": sum(tally.inputs.values()), "seconds": round(seconds, 1),
            "inputs": dict(tally.inputs), "crashes": dict(tally.crashes), "violations": dict(tally.violations),
            "hangs": dict(tally.hangs), "examples": tally.examples}, indent=2) + "\n")
    failures = sum(tally.crashes.values()) + sum(tally.violations.values()) + sum(tally.hangs.values())
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
