"""The HTTP API in-process (FastAPI's TestClient): contract, limits, bad input, jobs and restarts.

Most tests run the list-only checker (`--mode fast --no-engine --fingerprints LIST`, a three-line
TSV written here), which loads in well under a second; one contract test uses the fast engine.
Every hostile or malformed request is followed by a check that the server still answers.
"""

from __future__ import annotations

import builtins
import importlib.util
import json
import os
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

_MISSING = [name for name in ("fastapi", "uvicorn", "python_multipart", "httpx")
            if importlib.util.find_spec(name) is None]
if _MISSING:  # skipped on a machine without the extra, never in CI
    _MESSAGE = f"the web extra is not installed ({', '.join(_MISSING)}): pip install 'unspin[web]' httpx"
    if os.environ.get("CI", "").lower() in ("1", "true") or os.environ.get("UNSPIN_REQUIRE_BROWSER") == "1":
        pytest.fail(_MESSAGE + " [CI or UNSPIN_REQUIRE_BROWSER=1: not skipping]", pytrace=False)
    pytest.skip(_MESSAGE, allow_module_level=True)

from fastapi.testclient import TestClient  # noqa: E402

from unspin.errors import UsageError  # noqa: E402
from unspin.pipeline import get_checker  # noqa: E402
from unspin.web.app import create_app  # noqa: E402
from unspin.web.inputs import display_name  # noqa: E402
from unspin.web.jobs import MAX_ATTEMPTS, JobStore  # noqa: E402
from unspin.web.settings import Settings  # noqa: E402

BASE = "http://127.0.0.1:8000"
PWN = "window.__pwned = 1"
SCRIPT_PAYLOAD = f"<script>{PWN}</script>"
IMG_PAYLOAD = f'<img src=x onerror="{PWN}">'
SPUN = ("Recent advances in profound learning have changed how we study huge information. "
        "Some call it counterfeit consciousness.")
LIST = ("profound learning\tdeep learning\nhuge information\tbig data\n"
        "counterfeit consciousness\tartificial intelligence\n")


@pytest.fixture(scope="module")
def fingerprints(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("lists") / "spun.tsv"
    path.write_text(LIST, encoding="utf-8")
    return str(path)


@pytest.fixture
def settings(tmp_path, fingerprints) -> Settings:
    return Settings(mode="fast", engine=False, fingerprints=(fingerprints,), data_dir=tmp_path / "data")


@pytest.fixture
def checker(fingerprints):
    return get_checker(mode="fast", fingerprints=(fingerprints,), engine=False)


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings), base_url=BASE) as client:
        yield client


def expected(checker, text: str, id=None) -> dict:
    """What `unspin check --input-format jsonl` reports for a text sent as text."""
    return json.loads(json.dumps(checker.check(text, id=id).to_dict()))


def expected_file(checker, data: bytes, name: str, id=None) -> dict:
    """What `unspin check FILE --format json` reports for an uploaded file."""
    from unspin.documents import extract

    return json.loads(json.dumps(checker.check_document(extract(data, name=name), id=id).to_dict()))


def alive(client) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def wait_done(client, job_id: str, seconds: float = 20.0) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] == "done":
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} not done after {seconds} s: {job}")


# -- the report contract ----------------------------------------------------------------------------

def test_check_json_is_the_checker_report(client, checker) -> None:
    response = client.post("/api/check", json={"text": SPUN, "id": "doc-7"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == expected(checker, SPUN, id="doc-7")
    suggestions = [s["suggestion"] for s in response.json()["spans"]]
    assert suggestions == ["deep learning", "big data", "artificial intelligence"]


def test_check_with_the_fast_engine_is_the_checker_report(tmp_path, fingerprints) -> None:
    settings = Settings(mode="fast", fingerprints=(fingerprints,), data_dir=tmp_path)
    with TestClient(create_app(settings), base_url=BASE) as client:
        response = client.post("/api/check", json={"text": SPUN})
    engine = get_checker(mode="fast", fingerprints=(fingerprints,))
    assert response.status_code == 200 and response.json() == expected(engine, SPUN)


def test_text_as_json_form_field_url_encoded_or_plain_gives_the_same_report(client, checker) -> None:
    text = SPUN + "\r\nSecond line with an emoji 🎉 and 𝔘."
    want = expected(checker, text)
    as_field = client.post("/api/check", files={"text": (None, text.encode("utf-8"))})
    as_form = client.post("/api/check", data={"text": text})  # url-encoded, as curl -d text=...
    as_plain = client.post("/api/check", content=text.encode("utf-8"), headers={"content-type": "text/plain"})
    for response in (as_field, as_form, as_plain):
        assert response.status_code == 200, response.text
        assert response.json() == want
    one_line = client.post("/api/check", files={"file": ("one.jsonl", b'{"id": 3, "text": "profound learning"}\n')})
    assert one_line.json() == expected(checker, "profound learning", id=3)


def test_uploaded_files_are_checked_as_documents_like_the_cli(client, checker) -> None:
    text = SPUN + "\r\nSecond line with an emoji 🎉 and 𝔘."
    as_file = client.post("/api/check", files={"file": ("paper.txt", text.encode("utf-8"), "text/plain")})
    assert as_file.status_code == 200
    assert as_file.json() == expected_file(checker, text.encode("utf-8"), "paper.txt")
    assert as_file.json()["document"]["format"] == "text" and as_file.json()["restored"].endswith("𝔘.")
    with_bom = client.post("/api/check", files={"file": ("paper.md", b"\xef\xbb\xbf" + text.encode("utf-8"))})
    assert with_bom.json()["spans"] == as_file.json()["spans"]
    named = client.post("/api/check", files={"file": ("paper.txt", text.encode())}, data={"id": "p-1"})
    assert named.json() == expected_file(checker, text.encode(), "paper.txt", id="p-1")

    html = (b"<html><head><title>T</title></head><body><h1>Methods</h1><p>We used profound learning.</p>"
            b"<h2>References</h2><p>Smith J. On huge information. 2020.</p></body></html>")
    page = client.post("/api/check", files={"file": ("paper.html", html)})
    assert page.status_code == 200 and page.json() == expected_file(checker, html, "paper.html")
    assert [s["text"] for s in page.json()["spans"]] == ["profound learning"]  # the reference list is not judged
    assert page.json()["spans"][0]["location"]["section"] == "Methods"
    assert page.json()["document"]["excluded"][0]["kind"] == "references"


def test_restore_json_and_text(client, checker) -> None:
    report = expected(checker, SPUN, id=1)
    response = client.post("/api/restore", json={"text": SPUN, "id": 1})
    assert response.status_code == 200
    assert response.json() == {"id": 1, "restored": report["restored"], "report": report}
    plain = client.post("/api/restore?format=text", json={"text": SPUN})
    assert plain.headers["content-type"].startswith("text/plain") and plain.text == report["restored"]
    assert "deep learning" in plain.text and "profound" not in plain.text
    assert client.post("/api/restore?format=xml", json={"text": SPUN}).status_code == 422


# -- hostile input ----------------------------------------------------------------------------------

def test_hostile_payloads_come_back_as_data_and_escaped_in_the_page(client, checker) -> None:
    text = f"Payloads {SCRIPT_PAYLOAD} and {IMG_PAYLOAD} near profound learning."
    response = client.post("/api/check", json={"text": text, "id": IMG_PAYLOAD})
    assert response.status_code == 200
    assert response.json() == expected(checker, text, id=IMG_PAYLOAD)
    assert SCRIPT_PAYLOAD in response.json()["restored"]  # data, untouched
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"

    events = [json.loads(line) for line in client.post("/ui/check", json={"text": text}).text.splitlines()]
    fragment = next(e for e in events if e["event"] == "document")["fragment"]
    assert "<script" not in fragment and "<img" not in fragment and "onerror=\"" not in fragment
    assert "&lt;script&gt;" in fragment and "onerror=&quot;" in fragment
    alive(client)


def test_page_is_served_with_a_strict_content_security_policy(client) -> None:
    from unspin.web.page import PAGE_CSP, PAGE_SCRIPT

    response = client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert policy == PAGE_CSP and "'unsafe-inline'" not in policy and "connect-src 'self'" in policy
    assert f"<script>{PAGE_SCRIPT}</script>" in response.text
    assert "http://" not in response.text and "https://" not in response.text  # nothing loads from elsewhere
    assert 'id="text"' in response.text and 'id="file"' in response.text


# -- limits and malformed input ---------------------------------------------------------------------

def test_bodies_over_the_limit_get_413_with_the_limit_in_words(tmp_path, fingerprints) -> None:
    settings = Settings(mode="fast", engine=False, fingerprints=(fingerprints,), data_dir=tmp_path,
                        max_request_bytes=1000, max_job_bytes=2000)
    with TestClient(create_app(settings), base_url=BASE) as client:
        big = "profound learning " * 100  # 1,800 bytes
        declared = client.post("/api/check", json={"text": big})
        assert declared.status_code == 413
        assert declared.json()["error"]["reference"] == "too-large"
        assert "at most 1,000 bytes" in declared.json()["error"]["message"]

        def chunks():  # no Content-Length: counted while reading
            for _ in range(10):
                yield b"x" * 300

        chunked = client.post("/api/check", content=chunks(), headers={"content-type": "text/plain"})
        assert chunked.status_code == 413
        upload = client.post("/api/check", files={"file": ("big.txt", big.encode())})
        assert upload.status_code == 413
        page = client.post("/ui/check", json={"text": big})
        assert page.status_code == 413
        batch = client.post("/api/jobs", files=[("file", (f"{n}.txt", big.encode()[:900])) for n in range(3)])
        assert batch.status_code == 413 and "2,000 bytes" in batch.json()["error"]["message"]
        assert client.post("/api/check", json={"text": "profound learning"}).status_code == 200
        alive(client)


def _multipart(boundary: str, body: bytes) -> dict:
    return {"content": body, "headers": {"content-type": f"multipart/form-data; boundary={boundary}"}}


MALFORMED = [
    ("invalid JSON", {"content": b'{"text": ', "headers": {"content-type": "application/json"}}, 400, "bad-request"),
    ("JSON without text", {"json": {"txt": "x"}}, 422, "invalid-request"),
    ("JSON text not a string", {"json": {"text": 12}}, 422, "invalid-request"),
    ("JSON array", {"json": ["x"]}, 422, "invalid-request"),
    ("unpaired surrogate", {"content": b'{"text": "a\\ud800b"}', "headers": {"content-type": "application/json"}},
     422, "unreadable-input"),
    ("NUL character", {"json": {"text": "a\x00b"}}, 422, "unreadable-input"),
    ("invalid UTF-8 file", {"files": {"file": ("latin1.txt", "café".encode("latin-1"))}}, 422, "unreadable-input"),
    ("an image posing as .txt", {"files": {"file": ("fake.txt", b"\x89PNG\r\n\x1a\n\x00\x00")}}, 422, "no-text-layer"),
    ("truncated PDF", {"files": {"file": ("paper.pdf", b"%PDF-1.7\n\x00\x01\x02")}}, 422, "corrupt-document"),
    ("damaged DOCX", {"files": {"file": ("paper.docx", b"PK\x03\x04\x00\x00binary")}}, 422, "corrupt-document"),
    ("gzip archive", {"files": {"file": ("paper.gz", b"\x1f\x8b\x08\x00abc")}}, 415, "unsupported-format"),
    ("generic XML", {"files": {"file": ("data.xml", b"<?xml version='1.0'?><foo/>")}}, 415, "unsupported-format"),
    ("bad JSONL line", {"files": {"file": ("b.jsonl", b'{"text": "ok"}\nnot json\n')}}, 422, "unreadable-input"),
    ("empty JSONL", {"files": {"file": ("e.jsonl", b"\n\n")}}, 422, "invalid-request"),
    ("two documents", {"files": {"file": ("two.jsonl", b'{"text": "a"}\n{"text": "b"}\n')}}, 422, "invalid-request"),
    ("no boundary", {"content": b"x", "headers": {"content-type": "multipart/form-data"}}, 400, "bad-request"),
    ("broken multipart", _multipart("zz", b"--zz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc"),
     400, "bad-request"),
    ("part without a name", _multipart("zz", b"--zz\r\nContent-Type: text/plain\r\n\r\nabc\r\n--zz--\r\n"),
     400, "bad-request"),
    ("form without file or text", {"data": {"other": "x"}}, 422, "invalid-request"),
    ("url-encoded form without text", {"content": b"Recent+advances", "headers": {
        "content-type": "application/x-www-form-urlencoded"}}, 422, "invalid-request"),
    ("XML", {"content": b"<text/>", "headers": {"content-type": "application/xml"}}, 415, "unsupported-media-type"),
    ("no content type", {"content": b"abc", "headers": {"content-type": ""}}, 415, "unsupported-media-type"),
]


@pytest.mark.parametrize("route", ["/api/check", "/ui/check"])
def test_malformed_input_is_a_4xx_with_a_reason(client, route) -> None:
    for name, request, status, reference in MALFORMED:
        if route == "/ui/check" and name == "two documents":
            continue  # the page takes several documents
        response = client.post(route, **request)
        assert response.status_code == status, (name, response.text)
        error = response.json()["error"]
        assert error["reference"] == reference and error["message"], (name, error)
    bad_jsonl = client.post(route, files={"file": ("b.jsonl", b'{"text": "ok"}\nnot json\n')}).json()["error"]
    assert "line 2" in bad_jsonl["message"]
    alive(client)


def test_malformed_batches_are_4xx(client) -> None:
    assert client.post("/api/jobs", json={"documents": "x"}).status_code == 422
    assert client.post("/api/jobs", json={"documents": [{"id": 1}]}).status_code == 422
    assert client.post("/api/jobs", json={"documents": []}).status_code == 422
    refused = client.post("/api/jobs", files=[("file", ("ok.txt", b"profound learning")),
                                              ("file", ("p.pdf", b"%PDF-1.4"))])
    assert refused.status_code == 422 and "p.pdf" in refused.json()["error"]["message"]  # the bad file named
    jsonl = client.post("/api/jobs", content=b'{"text": "a"}\n{"txt": 1}\n',
                        headers={"content-type": "application/x-ndjson"})
    assert jsonl.status_code == 422 and "line 2" in jsonl.json()["error"]["message"]
    assert client.get("/api/jobs/../../etc/passwd").status_code == 404
    assert client.get("/api/jobs/" + "0" * 32).json()["error"]["reference"] == "not-found"
    assert client.get("/api/jobs/not-an-id").status_code == 404
    assert client.get("/api/jobs/" + "0" * 32 + "?limit=0").status_code in (404, 422)
    alive(client)


def test_upload_names_are_never_used_as_paths(client, settings, tmp_path, monkeypatch) -> None:
    written: list[str] = []
    real_open, real_os_open = builtins.open, os.open

    def spy_open(file, mode="r", *args, **kwargs):
        if any(flag in mode for flag in "wax+"):
            written.append(str(file))
        return real_open(file, mode, *args, **kwargs)

    def spy_os_open(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            written.append(str(path))
        return real_os_open(path, flags, *args, **kwargs)

    names = ["../../etc/passwd", "..\\..\\windows\\evil.txt", "/tmp/absolute.txt", "a/../../b.md", ".."]
    big = ("plain words " * 180_000 + "profound learning").encode()  # 2 MB: Starlette's parser would spool it to /tmp
    with monkeypatch.context() as patch:
        patch.setattr(builtins, "open", spy_open)
        patch.setattr(os, "open", spy_os_open)
        checked = client.post("/api/check", files={"file": ("../../etc/passwd", b"profound learning")})
        large = client.post("/api/check", files={"file": ("../big.txt", big)})
        job = client.post("/api/jobs", files=[("file", (name, b"huge information")) for name in names])
    assert written == []  # no file was opened for writing while the uploads were handled
    assert checked.status_code == 200 and checked.json()["spans"][0]["suggestion"] == "deep learning"
    assert large.status_code == 200
    assert job.status_code == 202, job.text
    results = wait_done(client, job.json()["id"])["results"]
    assert [r["name"] for r in results] == ["passwd", "evil.txt", "absolute.txt", "b.md", None]
    assert all(r["status"] == "done" for r in results)
    assert not (tmp_path / "etc").exists() and not Path("/tmp/absolute.txt").exists()
    assert sorted(p.name for p in settings.resolved().data_dir.iterdir()) <= ["jobs.sqlite3", "jobs.sqlite3-shm",
                                                                              "jobs.sqlite3-wal"]


def test_display_name() -> None:
    assert display_name("../../etc/passwd") == "passwd"
    assert display_name("C:\\Users\\x\\paper.docx") == "paper.docx"
    assert display_name("..") is None and display_name("") is None and display_name(None) is None
    assert display_name("a\u202eexe.txt") == "aexe.txt"  # bidi override (a format character) dropped
    assert len(display_name("x" * 1000)) == 200


# -- guards ---------------------------------------------------------------------------------------------

def test_host_and_origin_guards(client) -> None:
    rebinding = client.get("/api/health", headers={"host": "attacker.example:8000"})
    assert rebinding.status_code == 400 and rebinding.json()["error"]["reference"] == "bad-host"
    assert client.get("/api/health", headers={"host": "localhost:8000"}).status_code == 200
    cross = client.post("/api/check", json={"text": "x"}, headers={"origin": "https://evil.example"})
    assert cross.status_code == 403 and cross.json()["error"]["reference"] == "cross-origin"
    assert client.post("/api/check", json={"text": "x"}, headers={"origin": "null"}).status_code == 403
    same = client.post("/api/check", json={"text": "x"}, headers={"origin": BASE})
    assert same.status_code == 200
    alive(client)


def test_openapi_and_docs(client) -> None:
    schema = client.get("/openapi.json").json()
    for path in ("/api/check", "/api/restore", "/api/jobs", "/api/jobs/{job_id}", "/api/jobs/{job_id}/report"):
        assert path in schema["paths"], path
    body = schema["paths"]["/api/check"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data", "text/plain"} <= set(body)
    assert "413" in schema["paths"]["/api/check"]["post"]["responses"]
    assert "/ui/check" not in schema["paths"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    try:
        import fastapi_offline  # noqa: F401
    except ImportError:
        return
    assert "/docs/assets/swagger-ui-bundle.js" in docs.text  # served here: the docs work offline
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/redoc").status_code == 200


# -- the page's endpoint --------------------------------------------------------------------------------

def test_page_check_streams_progress_fragments_and_downloads(client, checker) -> None:
    text = "Line one\r\nI 🤖 profound learning 🎉 and 𝔘 huge information."
    events = [json.loads(line) for line in client.post("/ui/check", json={"text": text}).text.splitlines()]
    assert [e["event"] for e in events] == ["start", "document", "done"]
    document = events[1]
    assert document["report"] == expected(checker, text)
    assert "&#13;\n" in document["fragment"] and "\r" not in document["fragment"]
    assert document["risk"]["level"] in ("high", "medium", "low", "none")
    assert len(document["why"]) == 2 and "profound learning" in document["why"][0]
    downloads = events[2]["downloads"]
    assert json.loads(downloads["json"]["content"]) == expected(checker, text)
    assert downloads["csv"]["content"].startswith("id,start,end,line,column,page,section,text,suggestion")
    assert "Content-Security-Policy" in downloads["html"]["content"]

    jsonl = b'{"id": "a", "text": "profound learning"}\n{"id": "b", "text": "nothing here"}\n'
    response = client.post("/ui/check", files={"file": ("two.jsonl", jsonl)})
    events = [json.loads(line) for line in response.text.splitlines()]
    assert [e["event"] for e in events] == ["start", "document", "document", "done"]
    assert events[0]["total"] == 2 and [e["title"] for e in events[1:3]] == ["two.jsonl: a", "two.jsonl: b"]
    assert len(events[3]["downloads"]["json"]["content"].splitlines()) == 2  # JSONL for several documents


# -- the model: loaded once, one check at a time, the event loop free -------------------------------------

class SlowChecker:
    """Wraps a checker: counts concurrent calls and the threads they run on."""

    def __init__(self, inner, delay: float) -> None:
        self.inner, self.delay = inner, delay
        self.lists = inner.lists
        self.active = self.most = 0
        self.threads: set[str] = set()
        self.lock = threading.Lock()

    def check(self, text, id=None):
        with self.lock:
            self.active += 1
            self.most = max(self.most, self.active)
            self.threads.add(threading.current_thread().name)
        try:
            time.sleep(self.delay)
            return self.inner.check(text, id=id)
        finally:
            with self.lock:
                self.active -= 1


def test_model_loaded_once_and_concurrent_requests_queue(settings, checker, monkeypatch) -> None:
    import unspin.pipeline

    loads = []

    def counting_get_checker(**options):
        loads.append(options)
        time.sleep(0.2)  # a slow load: concurrent first requests must not load again
        return SlowChecker(checker, 0.05)

    monkeypatch.setattr(unspin.pipeline, "get_checker", counting_get_checker)
    with TestClient(create_app(settings), base_url=BASE) as client:
        statuses, slow = [], client.app.state.unspin
        threads = [threading.Thread(target=lambda: statuses.append(
            client.post("/api/check", json={"text": SPUN}).status_code)) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        model = slow.runner.checker
    assert statuses == [200] * 8
    assert len(loads) == 1 and loads[0]["engine"] is False
    assert model.most == 1 and len(model.threads) == 1 and next(iter(model.threads)).startswith("unspin-model")


def test_event_loop_stays_free_while_a_check_runs(settings, checker) -> None:
    gated = GatedChecker(checker, block_at=0)  # the check holds the model thread until the gate opens
    with TestClient(create_app(settings, checker=gated), base_url=BASE) as client:
        worker = threading.Thread(target=lambda: client.post("/api/check", json={"text": SPUN}))
        worker.start()
        assert gated.blocked.wait(30)
        health = client.get("/api/health").json()
        gated.gate.set()
        worker.join(30)
    # No clock: the check is still at the gate, so it is counted. A loop blocked by the check could
    # only answer once the check had finished (the gate's timeout), and would count 0.
    assert health["queued"] == 1, health
    assert gated.calls == [SPUN]


# -- jobs -------------------------------------------------------------------------------------------------

def test_jobs_progress_results_exports_and_delete(client, checker) -> None:
    files = [("file", ("a.txt", b"profound learning here")), ("file", ("b.md", "huge information 🎉".encode())),
             ("file", ("c.jsonl", b'{"id": 10, "text": "counterfeit consciousness"}\n{"id": 11, "text": "clean"}\n'))]
    created = client.post("/api/jobs", files=files)
    assert created.status_code == 202
    job = created.json()
    assert created.headers["location"] == job["url"] == f"/api/jobs/{job['id']}"
    assert job["total"] == 4 and job["status"] in ("pending", "running", "done") and len(job["id"]) == 32
    done = wait_done(client, job["id"])
    assert (done["done"], done["failed"], done["pending"], done["progress"]) == (4, 0, 0, 1.0)
    assert [r["id"] for r in done["results"]] == ["a.txt", "b.md", 10, 11]
    assert [r["name"] for r in done["results"]] == ["a.txt", "b.md", "c.jsonl", "c.jsonl"]
    assert done["results"][1]["report"] == expected_file(checker, "huge information 🎉".encode(), "b.md", id="b.md")
    assert done["results"][2]["report"] == expected(checker, "counterfeit consciousness", id=10)

    page = client.get(f"/api/jobs/{job['id']}?offset=1&limit=2").json()
    assert [r["index"] for r in page["results"]] == [1, 2] and page["next_offset"] == 3
    assert "results" not in client.get(f"/api/jobs/{job['id']}?results=false").json()

    jsonl = client.get(f"/api/jobs/{job['id']}/report?format=jsonl")
    assert [json.loads(line)["id"] for line in jsonl.text.splitlines()] == ["a.txt", "b.md", 10, 11]
    assert "attachment" in jsonl.headers["content-disposition"]
    csv = client.get(f"/api/jobs/{job['id']}/report?format=csv").text
    assert csv.splitlines()[0].startswith("id,start,end") and len(csv.splitlines()) == 4
    html = client.get(f"/api/jobs/{job['id']}/report?format=html")
    assert html.status_code == 200 and "deep learning" in html.text

    as_json = client.post("/api/jobs", json={"documents": [{"id": "x", "text": "profound learning"}]})
    as_jsonl = client.post("/api/jobs", content=b'{"id": "y", "text": "huge information"}\n',
                           headers={"content-type": "application/x-ndjson"})
    assert wait_done(client, as_json.json()["id"])["results"][0]["report"]["restored"] == "deep learning"
    assert wait_done(client, as_jsonl.json()["id"])["results"][0]["report"]["restored"] == "big data"

    assert client.delete(f"/api/jobs/{job['id']}").status_code == 204
    assert client.get(f"/api/jobs/{job['id']}").status_code == 404
    assert client.delete(f"/api/jobs/{job['id']}").status_code == 404


class GatedChecker:
    """Records what it checks; the call numbered `block_at` waits until `gate` is set."""

    def __init__(self, inner, block_at: int | None = None) -> None:
        self.inner, self.block_at = inner, block_at
        self.lists = inner.lists
        self.calls: list[str] = []
        self.blocked, self.gate = threading.Event(), threading.Event()

    def check(self, text, id=None):
        self.calls.append(text)
        if len(self.calls) - 1 == self.block_at:
            self.blocked.set()
            self.gate.wait(30)
        return self.inner.check(text, id=id)


def test_jobs_survive_a_restart_and_finished_documents_are_not_redone(settings, checker) -> None:
    texts = ["profound learning one", "huge information two", "counterfeit consciousness three"]
    first = GatedChecker(checker, block_at=1)  # finishes document 0, then hangs on document 1
    with TestClient(create_app(settings, checker=first), base_url=BASE) as client:
        documents = [{"id": n, "text": t} for n, t in enumerate(texts)]
        job_id = client.post("/api/jobs", json={"documents": documents}).json()["id"]
        assert first.blocked.wait(20)
        before = client.get(f"/api/jobs/{job_id}").json()
    # The server has stopped in the middle of document 1.
    assert (before["status"], before["done"], before["pending"]) == ("running", 1, 2)
    report_0 = before["results"][0]["report"]

    second = GatedChecker(checker)
    try:
        with TestClient(create_app(settings, checker=second), base_url=BASE) as client:
            after = wait_done(client, job_id)
    finally:
        first.gate.set()  # let the first server's stranded model thread finish; its result is not wanted
    assert second.calls == texts[1:]  # resumed at document 1; document 0 was not checked again
    assert after["results"][0]["report"] == report_0
    assert [r["report"] for r in after["results"]] == [expected(checker, t, id=n) for n, t in enumerate(texts)]

    third = GatedChecker(checker)  # a restart after the job finished: nothing to do
    with TestClient(create_app(settings, checker=third), base_url=BASE) as client:
        time.sleep(0.3)
        assert client.get(f"/api/jobs/{job_id}").json()["status"] == "done"
    assert third.calls == []


def test_jobs_are_picked_up_at_start_up(settings, checker) -> None:
    idle = replace(settings, worker=False)
    with TestClient(create_app(idle, checker=checker), base_url=BASE) as client:
        job_id = client.post("/api/jobs", json={"documents": [{"text": "profound learning"}]}).json()["id"]
        time.sleep(0.2)
        assert client.get(f"/api/jobs/{job_id}").json()["status"] == "pending"
    with TestClient(create_app(settings, checker=checker), base_url=BASE) as client:
        assert wait_done(client, job_id)["results"][0]["report"]["restored"] == "deep learning"


def test_a_document_that_kept_killing_the_server_is_given_up(tmp_path) -> None:
    from unspin.web.inputs import Document

    store = JobStore(tmp_path / "jobs.sqlite3")
    store.initialise()
    job = store.create_job([Document(1, "poison"), Document(2, "fine")], {})
    for _ in range(MAX_ATTEMPTS):  # claimed, then the process died each time
        assert store.claim_next().id == 1
    claimed = store.claim_next()
    assert claimed.id == 2
    result = store.job(job["id"])
    assert result["results"][0]["status"] == "error" and result["results"][0]["error"]["reference"] == "gave-up"
    store.release(claimed)  # a graceful stop gives the attempt back
    assert store.claim_next().attempt == 1


def test_a_failing_document_is_an_error_result_not_a_dead_worker(settings, checker) -> None:
    class Picky:
        lists = ()

        def check(self, text, id=None):
            if "boom" in text:
                raise RuntimeError("engine bug")
            return checker.check(text, id=id)

    with TestClient(create_app(settings, checker=Picky()), base_url=BASE) as client:
        documents = [{"text": "boom"}, {"text": "profound learning"}]
        job_id = client.post("/api/jobs", json={"documents": documents}).json()["id"]
        job = wait_done(client, job_id)
    assert (job["done"], job["failed"]) == (1, 1)
    assert job["results"][0]["error"]["reference"] == "internal" and "engine bug" not in json.dumps(job)


def test_model_that_cannot_load_is_a_503(settings) -> None:
    from unspin.errors import ResourceMissing

    class Missing:
        def check(self, text, id=None):
            raise ResourceMissing("the language model is not installed", "bash scripts/setup.sh")

    with TestClient(create_app(settings, checker=Missing()), base_url=BASE) as client:
        response = client.post("/api/check", json={"text": "x"})
        assert response.status_code == 503 and response.json()["error"]["hint"] == "bash scripts/setup.sh"
        alive(client)


# -- settings and the command ----------------------------------------------------------------------

def test_settings_are_validated_and_resolved(tmp_path) -> None:
    with pytest.raises(UsageError):
        Settings(mode="slow")
    with pytest.raises(UsageError):
        Settings(port=70000)
    with pytest.raises(UsageError):
        Settings(max_request_bytes=0)
    beside = Settings(db=tmp_path / "x" / "jobs.db").resolved()
    assert beside.data_dir == tmp_path / "x" and beside.db == tmp_path / "x" / "jobs.db"
    inside = Settings(data_dir=tmp_path / "d").resolved()
    assert inside.db == tmp_path / "d" / "jobs.sqlite3"
    assert Settings().hosts() == ("localhost", "127.0.0.1", "::1")
    assert Settings(host="0.0.0.0").hosts() == ("*",)


def test_the_listening_socket_is_tcp_so_nagle_gets_turned_off() -> None:
    import socket

    from unspin.cli.serve import bind

    # asyncio sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP; with proto 0 every
    # keep-alive response waited ~40 ms for a delayed ACK (measured: 44 ms -> 0.9 ms a request).
    with bind("127.0.0.1", 0) as sock:
        assert sock.proto == socket.IPPROTO_TCP and sock.getsockname()[1] > 0


def test_serve_command_fails_fast_on_bad_options(tmp_path) -> None:
    import io
    import socket

    from unspin.cli.serve import main

    err = io.StringIO()
    assert main(["--port", "70000", "--data-dir", str(tmp_path)], stderr=err) == 2
    assert "port 70000" in err.getvalue()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        err = io.StringIO()
        code = main(["--port", str(busy.getsockname()[1]), "--data-dir", str(tmp_path), "--mode", "fast"], stderr=err)
    assert code == 2 and "cannot listen" in err.getvalue() and "--port" in err.getvalue()
    err = io.StringIO()
    (tmp_path / "not-a-db").write_bytes(b"this is not sqlite" * 100)
    assert main(["--db", str(tmp_path / "not-a-db"), "--port", "0"], stderr=err) == 3
    assert "job database" in err.getvalue()
    assert main(["--help"], stdout=io.StringIO()) == 0
