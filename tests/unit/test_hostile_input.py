"""Hostile input found by fuzzing (issue 22): each defect a clear error or a correct result.

Every test here failed before its fix. The CLI is called in-process (`main(argv)` with fake
streams) with the list-only checker (`--mode fast --no-engine --fingerprints LIST`, a one-line
TSV written here), as the API tests are: what is tested is reading and writing, not detection.
"""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bench_scripts import load_benchmark
from unspin import resources
from unspin.cli.main import main
from unspin.documents import UnsafeDocument, extract, sniff_format
from unspin.model import Report
from unspin.report.json import render_json, render_jsonl_line
from unspin.text.load import iter_jsonl

DEEP = "[" * 100_000 + "]" * 100_000
HUGE = "7" * 5000
FORMATS = ("json", "jsonl", "text", "csv", "html")


LIST = "profound learning\tdeep learning\natmosphere alteration\tclimate change\n"
ENGINE: list[str] = []  # the checker options every CLI call gets, set by the fixture below


@pytest.fixture(autouse=True, scope="module")
def list_only_checker(tmp_path_factory):
    path = tmp_path_factory.mktemp("lists") / "spun.tsv"
    path.write_text(LIST, encoding="utf-8")
    ENGINE[:] = ["--mode", "fast", "--no-engine", "--fingerprints", str(path)]
    yield
    ENGINE.clear()


def run(argv, stdin: bytes = b""):
    if argv[0] == "check":
        argv = [*argv, *ENGINE]
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.BytesIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def check_jsonl(line: str, output: str = "jsonl"):
    return run(["check", "-", "--input-format", "jsonl", "--format", output],
               stdin=(line + "\n").encode("utf-8", "surrogatepass"))


def assert_refused(code, out, err, expected=3, *words):
    assert code == expected, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("unspin: error"), err
    assert "internal error" not in err and out == ""
    for word in words:
        assert word in err


# -- 1. JSON nested 100,000 deep -------------------------------------------------------------------

@pytest.mark.parametrize("line", [DEEP, '{"id": %s, "text": "x"}' % DEEP, '{"text": "x", "meta": %s}' % DEEP])
def test_deeply_nested_jsonl_is_a_bad_line_not_a_recursion_error(line):
    assert_refused(*check_jsonl(line), 3, "line 1", "nested too deeply")


# -- 2. an id of 5,000 digits ----------------------------------------------------------------------

@pytest.mark.parametrize("output", FORMATS)
def test_an_id_of_5000_digits_is_refused_in_every_format(output):
    assert_refused(*check_jsonl('{"id": %s, "text": "x"}' % HUGE, output), 3, "line 1", "5,000 digits")


def test_the_report_writer_writes_huge_integers_as_their_digits():
    report = Report(id=7 * (10**5000 - 1) // 9, mode="fast", model=None, score=0.0, verdict="clean", spans=(), restored="")
    for rendered in (render_json(report), render_jsonl_line(report)):
        assert json.loads(rendered)["id"] == HUGE


# -- 3. a lone surrogate in "text" or "id" ----------------------------------------------------------

@pytest.mark.parametrize("output", FORMATS)
@pytest.mark.parametrize("line", ['{"id": 1, "text": "a\\ud800b"}', '{"id": "\\ud800", "text": "ab"}',
                                  '{"id": ["ok", {"k": "\\udfff"}], "text": "ab"}'])
def test_a_lone_surrogate_is_refused_in_every_format(line, output):
    assert_refused(*check_jsonl(line, output), 3, "line 1", "unpaired surrogate")


def test_a_surrogate_pair_escape_is_one_character_and_is_read():
    ((id, text),) = list(iter_jsonl('{"id": "\\ud83d\\ude00", "text": "smile \\ud83d\\ude00"}', "x"))
    assert id == "\U0001F600" and text == "smile \U0001F600"


# -- 4. an id of 1e999, NaN or -Infinity -------------------------------------------------------------

@pytest.mark.parametrize("value", ["1e999", "-1e999", "NaN", "-Infinity", "Infinity"])
@pytest.mark.parametrize("output", ("jsonl", "json", "csv"))
def test_a_non_finite_id_is_refused_never_written_as_infinity(value, output):
    assert_refused(*check_jsonl('{"id": %s, "text": "x"}' % value, output), 3, "line 1")


def test_the_report_writer_never_writes_nan_or_infinity():
    report = Report(id=float("inf"), mode="fast", model=None, score=0.0, verdict="clean", spans=(), restored="",
                    document={"ratio": float("nan"), "low": float("-inf")})
    for rendered in (render_json(report), render_jsonl_line(report)):
        data = json.loads(rendered, parse_constant=lambda name: pytest.fail(f"{name} written"))
        assert data["id"] == "Infinity" and data["document"] == {"ratio": "NaN", "low": "-Infinity"}


# -- 5. JSONL lines end at \n only -------------------------------------------------------------------

@pytest.mark.parametrize("character", ["\u2028", "\u2029", "\u0085", "\x1c", "\x1d", "\x1e", "\x0b", "\x0c"])
def test_raw_line_separators_inside_a_jsonl_string_are_text(character):
    text = f"Atmosphere alteration{character}is here."
    line = '{"id": "a", "text": "%s"}' % text  # raw, as a writer that escapes only what it must
    code, out, err = check_jsonl(line + "\r")  # a CRLF file too
    assert code == 0, err
    report = json.loads(out)
    assert report["id"] == "a"
    for span in report["spans"]:
        assert text[span["start"]:span["end"]] == span["text"]
    assert list(iter_jsonl(line + "\r\n" + line, "x")) == [("a", text), ("a", text)]


# -- 6. a DOCX whose XML declares an external entity --------------------------------------------------

def docx_with_entity(declaration: str = '<!ENTITY xxe SYSTEM "file:///etc/hostname">') -> bytes:
    return load_benchmark("fuzz").docx_with_entity(declaration)


@pytest.mark.parametrize("declaration", ['<!ENTITY xxe SYSTEM "file:///etc/hostname">',
                                         '<!ENTITY xxe PUBLIC "-//x//y" "http://example.invalid/x">',
                                         '<!ENTITY xxe "inline">'])
def test_a_docx_declaring_an_entity_is_refused_with_exit_6(tmp_path, declaration):
    with pytest.raises(UnsafeDocument, match="entity"):
        extract(docx_with_entity(declaration), name="xxe.docx")
    path = tmp_path / "xxe.docx"
    path.write_bytes(docx_with_entity(declaration))
    assert_refused(*run(["check", str(path)]), 6, "entity")


# -- 7. pdfminer's warnings on stderr -----------------------------------------------------------------

def pdf_with_a_bad_operator() -> bytes:
    """A one-page PDF whose content stream has a `cm` with a string operand: pdfminer warns."""
    return load_benchmark("fuzz").minimal_pdf(
        b"BT /F1 12 Tf 72 700 Td (Deep learning is everywhere now.) Tj ET\n1 0 0 (a) 0 0 cm\n")


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_pdfminer_warnings_never_reach_the_root_logger():
    # Not caplog: pytest also hooks its handler onto loggers that do not propagate, where the CLI's
    # stderr handler (on the root logger) never sees anything.
    root, collect = logging.getLogger(), _Collect()
    level = root.level
    root.addHandler(collect)
    root.setLevel(logging.WARNING)
    try:
        document = extract(pdf_with_a_bad_operator(), name="warns.pdf")
    finally:
        root.removeHandler(collect)
        root.setLevel(level)
    assert "Deep learning" in document.text
    assert [record.getMessage() for record in collect.records if record.name.startswith("pdfminer")] == []


def test_pdfminer_warnings_never_reach_stderr(tmp_path):
    path = tmp_path / "warns.pdf"
    path.write_bytes(pdf_with_a_bad_operator())
    script = ("import logging, sys; from unspin.documents import extract; "
              "logging.basicConfig(level=logging.WARNING, format='unspin: %(message)s'); extract(sys.argv[1])")
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == "", done.stderr


# -- 8. "%PDF-" inside a text file ---------------------------------------------------------------------

def test_a_text_file_mentioning_the_pdf_magic_is_text(tmp_path):
    data = b"Notes on file formats.\nA PDF file starts with %PDF-1.7 and ends with %%EOF.\n"
    assert sniff_format(data, "notes.txt") == "text"
    path = tmp_path / "notes.txt"
    path.write_bytes(data)
    code, out, err = run(["check", str(path), "--format", "json"])
    assert code == 0, err
    assert json.loads(out)["document"]["format"] == "text"


def test_a_pdf_after_a_binary_header_is_still_a_pdf():
    assert sniff_format(b"\x00\x81MacBinary header\xff" + b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", None) == "pdf"
    assert sniff_format(b"%PDF-1.4\n", None) == "pdf"


# -- 9. UTF-32 with a BOM ------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-32", "utf-32-le", "utf-32-be"])
def test_utf32_with_a_bom_is_decoded_as_utf32(tmp_path, encoding):
    text = "Atmosphere alteration is presently the greatest danger.\n"
    data = ("\ufeff" + text).encode(encoding) if encoding != "utf-32" else text.encode(encoding)
    assert extract(data, name="u32.txt").text == text
    path = tmp_path / "u32.txt"
    path.write_bytes(data)
    code, out, err = run(["check", str(path), "--format", "json"])
    assert code == 0, err
    report = json.loads(out)
    assert report["document"]["format"] == "text"
    assert "\x00" not in report["restored"] and report["restored"].endswith("danger.\n")


# -- 10. temporary files stranded by kill -9 -----------------------------------------------------------

WRITER = """
import sys, time
from pathlib import Path
from unspin.resources import atomic_path
with atomic_path(Path(sys.argv[1])) as tmp:
    tmp.write_bytes(b"x" * 1_000_000)
    print(tmp, flush=True)
    time.sleep(600)
"""


def start_writer(target: Path) -> tuple[subprocess.Popen, Path]:
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    return child, Path(child.stdout.readline().strip())


def test_a_temporary_file_left_by_kill_9_is_removed_by_the_next_write(tmp_path, monkeypatch):
    child, leftover = start_writer(tmp_path / "report.json")
    try:
        assert leftover.exists() and leftover.name.startswith(".report.json.")
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        child.kill()
        child.stdout.close()
    assert leftover.exists() and not (tmp_path / "report.json").exists()  # no partial output
    monkeypatch.setattr(resources, "_SWEPT", set(), raising=False)  # as in a new process
    resources.atomic_write_text(tmp_path / "other.csv", "a,b\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.csv"]


def test_a_live_writers_temporary_file_is_never_removed(tmp_path, monkeypatch):
    child, live = start_writer(tmp_path / "big.json")
    try:
        monkeypatch.setattr(resources, "_SWEPT", set(), raising=False)
        resources.atomic_write_text(tmp_path / "small.json", "{}\n")
        assert live.exists()
    finally:
        child.kill()
        child.wait(timeout=30)
        child.stdout.close()


def test_the_cli_output_cleans_leftovers_of_a_killed_run(tmp_path, monkeypatch):
    leftover = tmp_path / ".out.jsonl.abcd1234.unspin.tmp"
    leftover.write_bytes(b"partial")
    monkeypatch.setattr(resources, "_SWEPT", set(), raising=False)
    code, _, err = run(["check", "-", "--input-format", "jsonl", "--format", "jsonl", "-o", str(tmp_path / "out.jsonl")], stdin=b'{"id": 1, "text": "Plain words."}\n')
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


# -- the HTTP API: the same inputs are 4xx, never 500 ----------------------------------------------------

_WEB = all(importlib.util.find_spec(name) for name in ("fastapi", "python_multipart", "httpx"))


@pytest.fixture
def client(tmp_path):
    if not _WEB:
        pytest.skip("the web extra is not installed")
    from fastapi.testclient import TestClient

    from unspin.web.app import create_app
    from unspin.web.settings import Settings

    lists = tmp_path / "spun.tsv"
    lists.write_text(LIST, encoding="utf-8")
    settings = Settings(mode="fast", engine=False, fingerprints=(str(lists),), data_dir=tmp_path / "data")
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        yield client


HOSTILE_JSON = [
    DEEP, '{"text": "x", "id": %s}' % DEEP, '{"text": "x", "id": %s}' % HUGE, '{"text": "x", "id": 1e999}',
    '{"text": "x", "id": NaN}', '{"text": "x", "id": -Infinity}', '{"text": "a\\ud800"}',
    '{"text": "x", "id": "\\udc00"}', '{"documents": [{"text": "x", "id": 1e999}]}',
]


@pytest.mark.parametrize("body", HOSTILE_JSON)
def test_hostile_json_bodies_are_4xx(client, body):
    for route in ("/api/check", "/api/restore", "/api/jobs"):
        response = client.post(route, content=body.encode("utf-8", "surrogatepass"),
                               headers={"Content-Type": "application/json"})
        assert 400 <= response.status_code < 500, (route, response.status_code, response.text[:200])
        assert response.json()["error"]["message"]
    assert client.get("/api/health").status_code == 200


@pytest.mark.parametrize("line", [DEEP, '{"id": %s, "text": "x"}' % HUGE, '{"id": 1e999, "text": "x"}',
                                  '{"id": 1, "text": "\\ud800"}'])
def test_hostile_jsonl_uploads_are_4xx(client, line):
    upload = {"file": ("batch.jsonl", (line + "\n").encode("utf-8", "surrogatepass"))}
    for route in ("/api/check", "/api/jobs"):
        response = client.post(route, files=upload)
        assert 400 <= response.status_code < 500, (route, response.status_code, response.text[:200])
    response = client.post("/api/jobs", content=(line + "\n").encode(), headers={"Content-Type": "application/x-ndjson"})
    assert 400 <= response.status_code < 500


def test_a_jsonl_upload_with_raw_line_separators_is_read(client):
    line = json.dumps({"id": "a", "text": "Some profound learning\u2028here."}, ensure_ascii=False)
    response = client.post("/api/check", files={"file": ("one.jsonl", line.encode("utf-8"))})
    assert response.status_code == 200, response.text
    assert response.json()["id"] == "a" and response.json()["spans"][0]["text"] == "profound learning"


def test_a_docx_with_an_entity_upload_is_422(client):
    response = client.post("/api/check", files={"file": ("x.docx", docx_with_entity())})
    assert response.status_code == 422 and response.json()["error"]["reference"] == "unsafe-document"


# -- found by the fuzzer: library errors that hold a line break ------------------------------------------

JATS_CUT_CDATA = (b'<?xml version="1.0"?><article dtd-version="1.2"><front><article-meta><title-group><article-title>'
                  b'T</article-title></title-group></article-meta></front><body><p>Text <![CDATA[ never closed '
                  b'and more text</p></body></article>')


def test_an_xml_error_quoting_the_document_is_still_one_line(tmp_path):
    path = tmp_path / "cut.xml"
    path.write_bytes(JATS_CUT_CDATA)
    assert_refused(*run(["check", str(path)]), 6, "not well-formed XML")


def test_a_docx_with_a_nul_in_its_xml_is_one_line(tmp_path):
    source, out = zipfile.ZipFile(io.BytesIO(docx_with_entity("<!-- -->"))), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "word/document.xml":
                data = data.replace(b"Before", b"Be\x00fore")
            target.writestr(info, data)
    path = tmp_path / "nul.docx"
    path.write_bytes(out.getvalue())
    assert_refused(*run(["check", str(path)]), 6, "damaged DOCX")
