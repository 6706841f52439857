"""The FastAPI application: the page, the JSON API and batch jobs, built by `create_app(settings)`.

Routes (OpenAPI at /openapi.json, Swagger UI at /docs, ReDoc at /redoc):

- `GET /`: the page (`unspin.web.page`).
- `POST /api/check`: one document -> its report (`unspin.report/1`, as `unspin check --format
  json` prints it). Body: JSON `{"text": "...", "id": ...}` (a form field `text`, a url-encoded
  form or `text/plain` likewise): exactly `Checker.check(text, id=id).to_dict()`; or a multipart
  upload `file` (optional `id` field) of any format `unspin check FILE` reads (.txt, .md, .html,
  .pdf, .docx, JATS .xml, sniffed by content): exactly
  `Checker.check_document(unspin.documents.extract(data), id=id).to_dict()`, with the
  report's `document` part and each span's `location`. A one-line .jsonl file is that line's text.
- `POST /api/restore`: the same input -> `{"id", "restored", "report"}`; `?format=text` gives the
  restored text alone, as `unspin restore` prints it.
- `POST /api/jobs`: a batch -> 202 `{"id", "status", "total", ..., "url"}` and a Location header.
  Body: multipart with any number of `file` parts (each document file one document, its id the
  file's name; each .jsonl one document per line), JSON `{"documents": [{"id", "text"}, ...]}`,
  or a JSONL body (`application/x-ndjson`). Every file is read and validated before the job is
  made: one bad file refuses the batch with the file named.
- `GET /api/jobs/{id}?offset=&limit=&results=`: progress (`status`, `total`, `done`, `failed`,
  `pending`, `progress`) and the results of documents offset..offset+limit (`report` or `error`).
- `GET /api/jobs/{id}/report?format=jsonl|csv|html`: the finished documents as one file.
- `DELETE /api/jobs/{id}`: forget a job and its documents.
- `GET /api/health`: whether the model is loaded, the queue, the engine and the limits.
- `POST /ui/check` (the page's own, not in the schema): like /api/check for one or more
  documents, answered as NDJSON events (start, one per document with the rendered fragment,
  done with the JSON/CSV/HTML downloads) so that the page can show progress.

Errors are JSON `{"error": {"reference", "message", "hint"}}` with a 4xx status for anything the
client can fix: 400 malformed, 404 unknown job, 413 too large, 415 unsupported type or format,
422 unreadable or invalid; 503 when the model cannot be loaded; 500 only for a bug.

Requests are guarded (`_Guard`): the Host header must name this server when it listens on a
loopback address (DNS rebinding), a POST or DELETE from a page of another origin is refused
(a web page cannot make the browser drive this server), and every response carries nosniff,
no-referrer, frame-denying and (outside /docs) a restrictive Content-Security-Policy.
"""

# No `from __future__ import annotations` here: FastAPI reads the handlers' annotations
# (`request: Request`), and these name classes imported inside `create_app`.
import logging
import re
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from unspin.errors import InputError, ResourceMissing, UnspinError, UsageError
from unspin.model import Report
from unspin.web.inputs import Document, RequestProblem, request_documents
from unspin.web.jobs import JobStore, JobWorker, is_job_id
from unspin.web.runner import ModelRunner
from unspin.web.settings import Settings

log = logging.getLogger(__name__)

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DOCS_PREFIXES = ("/docs", "/redoc")
INSTALL = "pip install 'unspin[web]'"

# -- OpenAPI descriptions (the handlers read bodies themselves, to enforce limits while reading) --

_SPAN_SCHEMA = {
    "type": "object",
    "required": ["start", "end", "text", "suggestion", "alternatives", "confidence", "detector", "rule", "evidence"],
    "properties": {
        "start": {"type": "integer", "description": "Python code-point offset into the input"},
        "end": {"type": "integer"}, "text": {"type": "string"}, "suggestion": {"type": "string"},
        "alternatives": {"type": "array", "items": {"type": "string"}},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1}, "detector": {"type": "string"},
        "rule": {"type": ["string", "null"]}, "evidence": {"type": "object"},
        "location": {"type": "object", "description": "page / paragraph / section (document files only)"},
    },
}
REPORT_SCHEMA = {
    "title": "unspin.report/1",
    "type": "object",
    "required": ["schema", "unspin_version", "id", "mode", "model", "score", "verdict", "spans", "restored"],
    "properties": {
        "schema": {"const": "unspin.report/1"}, "unspin_version": {"type": "string"},
        "id": {"description": "the id sent with the text (any JSON value), or null"},
        "mode": {"enum": ["full", "fast"]}, "model": {"type": ["string", "null"]},
        "score": {"type": "number"}, "verdict": {"enum": ["spun", "suspect", "clean"]},
        "spans": {"type": "array", "items": _SPAN_SCHEMA}, "restored": {"type": "string"},
        "document": {"type": "object", "description": "format, excluded regions ... (document files only)"},
    },
}
ERROR_SCHEMA = {
    "type": "object",
    "properties": {"error": {"type": "object", "properties": {
        "reference": {"type": "string"}, "message": {"type": "string"}, "hint": {"type": "string"}}}},
}
_ONE_TEXT = {"type": "object", "required": ["text"],
             "properties": {"text": {"type": "string"}, "id": {"description": "any JSON value, echoed in the report"}}}
CHECK_BODY = {"required": True, "content": {
    "application/json": {"schema": _ONE_TEXT},
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": ".txt, .md, .html, .pdf, .docx or JATS .xml (a one-line .jsonl too)"},
        "text": {"type": "string"}, "id": {"type": "string"}}}},
    "text/plain": {"schema": {"type": "string"}},
}}
JOBS_BODY = {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "file": {"type": "array", "items": {"type": "string", "format": "binary"},
                 "description": "any number of files: each document file one document, .jsonl one per line"}}}},
    "application/json": {"schema": {"type": "object", "required": ["documents"], "properties": {
        "documents": {"type": "array", "items": _ONE_TEXT}}}},
    "application/x-ndjson": {"schema": {"type": "string", "description": 'one {"id": ..., "text": ...} per line'}},
}}


def _errors(*codes: int) -> dict[int, dict]:
    words = {400: "malformed request", 404: "no such job", 413: "body over the size limit",
             415: "unsupported content type or file format", 422: "unreadable or invalid input",
             503: "the model could not be loaded"}
    return {code: {"description": words[code], "content": {"application/json": {"schema": ERROR_SCHEMA}}}
            for code in codes}


# -- helpers --------------------------------------------------------------------------------------

DOCUMENT_STATUS = {"unsupported-format": 415}  # other `unspin.documents` errors: 422


def status_of(err: UnspinError) -> int:
    if isinstance(err, RequestProblem):
        return err.status
    if err.reference in DOCUMENT_STATUS:
        return DOCUMENT_STATUS[err.reference]
    if getattr(err, "status", None):  # e.g. a documents error that knows its status
        return int(err.status)  # type: ignore[attr-defined]
    if isinstance(err, InputError):
        return 422
    if isinstance(err, UsageError):
        return 400
    if isinstance(err, ResourceMissing):
        return 503
    return 500


def problem(status: int, reference: str, message: str, hint: str = "", headers: dict | None = None):
    from starlette.responses import JSONResponse

    return JSONResponse({"error": {"reference": reference, "message": message, "hint": hint}}, status_code=status,
                        headers=headers)


def download_stem(name: str | None) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", PurePosixPath(name).stem if name else "").strip("-.")[:80]
    return stem or "unspin"


def _hostport(value: str, default_port: int | None) -> tuple[str | None, int | None]:
    try:
        parts = urlsplit(value if "//" in value else "//" + value)
        return parts.hostname, parts.port or default_port
    except ValueError:
        return None, None


class _Guard:
    """Host check (DNS rebinding), same-origin check for unsafe methods, security headers."""

    def __init__(self, app, hosts: tuple[str, ...], port: int) -> None:
        self.app = app
        self.hosts = hosts
        self.port = port

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from starlette.datastructures import Headers

        headers = Headers(scope=scope)
        host_header = headers.get("host", "")
        host, port = _hostport(host_header, 443 if scope.get("scheme") == "https" else 80)
        refusal = None
        if "*" not in self.hosts and host not in self.hosts:
            refusal = problem(400, "bad-host", f"this server does not answer to the host {host_header!r}",
                              f"use http://127.0.0.1:{self.port}/ (allowed: {', '.join(self.hosts)})")
        elif scope["method"] in UNSAFE_METHODS and "origin" in headers:
            origin = headers["origin"]
            scheme = urlsplit(origin).scheme if origin != "null" else ""
            if (scheme not in ("http", "https")
                    or _hostport(origin, 443 if scheme == "https" else 80) != (host, port)):
                refusal = problem(403, "cross-origin", f"requests from pages of {origin!r} are refused",
                                  "use this server's own page, or call the API without a browser")
        if refusal is not None:
            await refusal(scope, receive, self._secured(send, scope))
            return
        await self.app(scope, receive, self._secured(send, scope))

    @staticmethod
    def _secured(send, scope):
        docs = scope["path"].startswith(DOCS_PREFIXES)

        async def wrapped(message) -> None:
            if message["type"] == "http.response.start":
                from starlette.datastructures import MutableHeaders

                headers = MutableHeaders(scope=message)
                headers.setdefault("x-content-type-options", "nosniff")
                headers.setdefault("referrer-policy", "no-referrer")
                headers.setdefault("x-frame-options", "DENY")
                headers.setdefault("cross-origin-resource-policy", "same-origin")
                if not docs:
                    headers.setdefault("content-security-policy", API_CSP)
            await send(message)

        return wrapped


@dataclass
class ServerState:
    """What one app owns; reachable as `app.state.unspin` (tests look at the worker and runner)."""

    settings: Settings
    runner: ModelRunner
    store: JobStore
    worker: JobWorker
    resources: list[dict[str, Any]] | None = field(default=None)

    def report_resources(self) -> list[dict[str, Any]]:
        """What reports are made with (shown in the HTML report): computed once the checker is
        loaded (its fingerprint lists are part of it), then kept."""
        if self.resources is not None:
            return self.resources
        from unspin.detect import inventory

        items = inventory.builtin_resources()
        for loaded in getattr(self.runner.checker, "lists", ()):
            info = inventory.list_info(loaded)
            info.pop("path", None)  # a server path is nobody's business
            items.append(info)
        for item in items:
            item.pop("files", None)
        if self.runner.loaded:
            self.resources = items
        return items


def create_app(settings: Settings | None = None, *, checker=None):
    """The application for these settings. `checker`: use this object (anything with
    `check(text, id=)` and `check_document(document, id=)`) instead of loading one with
    `unspin.pipeline.get_checker` (tests; an embedding application)."""
    try:
        from fastapi import FastAPI, Query, Request
        from fastapi.exceptions import RequestValidationError
        from starlette.concurrency import run_in_threadpool
        from starlette.exceptions import HTTPException as StarletteHTTPException
        from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
    except ImportError as err:
        raise ResourceMissing(f"the web server needs FastAPI, uvicorn and python-multipart ({err.name} is missing)",
                              INSTALL) from None
    from unspin.version import __version__
    from unspin.web.page import PAGE_CSP, render_page

    settings = (settings or Settings()).resolved()
    if checker is not None:
        def load():
            return checker
    else:
        def load():
            from unspin.pipeline import get_checker

            return get_checker(**settings.checker_options())

    runner = ModelRunner(load)
    store = JobStore(settings.db)
    worker = JobWorker(store, runner)
    state = ServerState(settings, runner, store, worker)
    page_html = render_page(settings)

    @asynccontextmanager
    async def lifespan(app):
        await run_in_threadpool(store.initialise)
        runner.start()
        if settings.preload:
            runner.preload()
        if settings.worker:
            worker.start()
        try:
            yield
        finally:
            await run_in_threadpool(worker.stop)
            runner.close()

    app = FastAPI(
        title="unspin", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
        description="Find machine-spun text and restore the original wording. Reports follow `unspin.report/1`, "
                    "as `unspin check --format json` prints them.",
    )
    app.state.unspin = state
    app.add_middleware(_Guard, hosts=settings.hosts(), port=settings.port)
    _docs(app)

    # -- errors ----------------------------------------------------------------------------------

    @app.exception_handler(UnspinError)
    async def unspin_error(request: Request, err: UnspinError):
        status = status_of(err)
        if status >= 500:
            log.error("%s %s: %s", request.method, request.url.path, err.one_line())
        return problem(status, err.reference, err.message, err.hint)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, err: StarletteHTTPException):
        return problem(err.status_code, f"http-{err.status_code}", str(err.detail),
                       headers=getattr(err, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, err: RequestValidationError):
        first = err.errors()[0] if err.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return problem(422, "invalid-request", f"{where}: {first.get('msg')}", "see /docs")

    @app.exception_handler(Exception)
    async def internal_error(request: Request, err: Exception):
        log.error("internal error on %s %s", request.method, request.url.path, exc_info=err)
        return problem(500, "internal", f"internal error ({type(err).__name__})", "the server log has the details")

    def not_found(job_id: str) -> RequestProblem:
        return RequestProblem(f"there is no job {job_id!r}", "it may have been deleted; create a new one",
                              status=404, reference="not-found")

    async def one_document(request: Request, route: str) -> Document:
        documents = await request_documents(request, limit=settings.max_request_bytes, max_documents=1, batch=False,
                                            max_parts=settings.max_parts, route=route)
        return documents[0]

    async def check(document: Document):
        return await runner.run(document.check)

    # -- the page --------------------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    async def page():
        return HTMLResponse(page_html, headers={"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-cache"})

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon():
        return Response(status_code=204)

    @app.post("/ui/check", include_in_schema=False)
    async def page_check(request: Request):
        documents = await request_documents(request, limit=settings.max_request_bytes,
                                            max_documents=settings.max_page_documents, batch=False,
                                            max_parts=settings.max_parts, route="the page")
        ahead = runner.queued

        async def events():
            yield _line({"event": "start", "total": len(documents), "ahead": ahead})
            pairs = []
            try:
                for index, document in enumerate(documents):
                    report = await check(document)
                    pairs.append((report, document.text))
                    yield _line(_document_event(index, len(documents), document, report))
                name = documents[0].name if len(documents) == 1 or len({d.name for d in documents}) == 1 else None
                downloads = await run_in_threadpool(_downloads, pairs, name, state.report_resources)
                yield _line({"event": "done", "downloads": downloads})
            except UnspinError as err:
                if status_of(err) >= 500:
                    log.error("the page's check failed: %s", err.one_line())
                yield _line({"event": "error", "reference": err.reference, "message": err.message, "hint": err.hint})
            except Exception as err:
                log.error("internal error in the page's check", exc_info=err)
                yield _line({"event": "error", "reference": "internal",
                             "message": f"internal error ({type(err).__name__})",
                             "hint": "the server log has the details"})

        return StreamingResponse(events(), media_type="application/x-ndjson", headers={"Cache-Control": "no-store"})

    # -- the API ---------------------------------------------------------------------------------

    @app.get("/api/health", tags=["server"], summary="Whether the model is loaded, the queue, the engine, the limits")
    async def health():
        return {"status": "ok", "unspin_version": __version__, "model_loaded": runner.loaded,
                "load_error": None if runner.load_error is None else str(runner.load_error),
                "queued": runner.queued, "jobs_worker": worker.running, **settings.describe(),
                "limits": settings.limits()}

    @app.post("/api/check", tags=["check"], summary="Report the spun spans of one text",
              openapi_extra={"requestBody": CHECK_BODY},
              responses={200: {"description": "the report (unspin.report/1)",
                               "content": {"application/json": {"schema": REPORT_SCHEMA}}},
                         **_errors(400, 413, 415, 422, 503)})
    async def api_check(request: Request):
        document = await one_document(request, "/api/check")
        report = await check(document)
        return _report_response(report.to_dict())

    @app.post("/api/restore", tags=["check"], summary="Restore the original wording of one text",
              openapi_extra={"requestBody": CHECK_BODY},
              responses={200: {"description": '{"id", "restored", "report"}; with ?format=text the restored text',
                               "content": {"application/json": {"schema": {"type": "object", "properties": {
                                   "id": {}, "restored": {"type": "string"}, "report": REPORT_SCHEMA}}},
                                   "text/plain": {"schema": {"type": "string"}}}},
                         **_errors(400, 413, 415, 422, 503)})
    async def api_restore(request: Request, format: str = Query("json", pattern="^(json|text)$")):
        document = await one_document(request, "/api/restore")
        report = await check(document)
        if format == "text":
            return PlainTextResponse(report.restored)
        return _report_response({"id": report.id, "restored": report.restored, "report": report.to_dict()})

    @app.post("/api/jobs", tags=["jobs"], status_code=202, summary="Queue a batch of documents",
              openapi_extra={"requestBody": JOBS_BODY},
              responses={202: {"description": "the job, with its URL"}, **_errors(400, 413, 415, 422)})
    async def create_job(request: Request):
        documents = await request_documents(request, limit=settings.max_job_bytes,
                                            max_documents=settings.max_job_documents, batch=True,
                                            max_parts=settings.max_parts, route="/api/jobs")
        summary = await run_in_threadpool(store.create_job, documents, settings.describe())
        worker.notify()
        return JSONResponse(summary, status_code=202, headers={"Location": summary["url"]})

    @app.get("/api/jobs/{job_id}", tags=["jobs"], summary="A job's progress and results",
             responses=_errors(404, 422))
    async def get_job(job_id: str, offset: int = Query(0, ge=0), limit: int = Query(100, ge=1, le=1000),
                      results: bool = True):
        summary = await run_in_threadpool(store.job, job_id, offset=offset, limit=limit, results=results) \
            if is_job_id(job_id) else None
        if summary is None:
            raise not_found(job_id)
        return JSONResponse(summary, headers={"Cache-Control": "no-store"})

    @app.get("/api/jobs/{job_id}/report", tags=["jobs"], responses=_errors(404, 422),
             summary="The finished documents as one JSONL, CSV or HTML file")
    async def job_report(job_id: str, format: str = Query("jsonl", pattern="^(jsonl|csv|html)$")):
        if not is_job_id(job_id) or await run_in_threadpool(store.job, job_id, results=False) is None:
            raise not_found(job_id)
        rows = await run_in_threadpool(store.finished_documents, job_id)
        content, media = await run_in_threadpool(_export, rows, format, f"job {job_id[:8]}", state.report_resources)
        return Response(content, media_type=media, headers={
            "Content-Disposition": f'attachment; filename="unspin-job-{job_id[:8]}.{format}"'})

    @app.delete("/api/jobs/{job_id}", tags=["jobs"], status_code=204, summary="Forget a job and its documents",
                responses=_errors(404))
    async def delete_job(job_id: str):
        if not is_job_id(job_id) or not await run_in_threadpool(store.delete_job, job_id):
            raise not_found(job_id)
        return Response(status_code=204)

    return app


# -- rendering --------------------------------------------------------------------------------------

def _report_response(data: dict[str, Any]):
    """A report as the CLI writes it (`unspin.report.json.dumps`): valid JSON whatever it holds,
    where Starlette's JSONResponse would fail on a non-finite number (a 500)."""
    from starlette.responses import Response

    from unspin.report.json import dumps

    return Response(dumps(data), media_type="application/json")


def _line(event: dict[str, Any]) -> bytes:
    from unspin.report.json import dumps

    return (dumps(event) + "\n").encode("utf-8")


def _document_event(index: int, total: int, document: Document, report) -> dict[str, Any]:
    from unspin.report.html import render_document_fragment, why
    from unspin.report.risk import count_words, risk_label, risk_level, verdict_label

    words = report.words or count_words(document.text)
    level = risk_level(report, words=words)
    if document.id not in (None, ""):
        title = str(document.id) if document.name is None else f"{document.name}: {document.id}"
    else:
        title = document.name or ("Pasted text" if total == 1 else f"Document {index + 1}")
    fragment = render_document_fragment(report, document.text, anchor=f"doc-{index + 1}")
    return {
        "event": "document", "index": index, "total": total, "title": title, "name": document.name,
        # A carriage return in HTML source becomes a line feed when parsed; as a reference it survives.
        "fragment": fragment.replace("\r", "&#13;"),
        "report": report.to_dict(),
        "why": [why(finding, with_rule=False) for finding in report.spans],  # the page shows the rule beside it
        "risk": {"level": level, "label": risk_label(level)},
        "facts": (f"{len(report.spans)} flagged \u00b7 score {report.score:.2f} \u00b7 "
                  f"{verdict_label(report.verdict)} \u00b7 {words:,} words"),
    }


def _downloads(pairs, name: str | None, resources) -> dict[str, dict[str, str]]:
    """The page's three downloads of the same reports: JSON (JSONL for several), CSV, HTML."""
    from unspin.report.csv import render_csv
    from unspin.report.html import render_html
    from unspin.report.json import render_json, render_jsonl_line

    title = name or "pasted text"
    if len(pairs) == 1:
        data = {"suffix": "report.json", "type": "application/json", "content": render_json(pairs[0][0])}
    else:
        data = {"suffix": "report.jsonl", "type": "application/x-ndjson",
                "content": "".join(render_jsonl_line(report) for report, _ in pairs)}
    return {
        "json": data,
        "csv": {"suffix": "report.csv", "type": "text/csv;charset=utf-8", "content": render_csv(pairs)},
        "html": {"suffix": "report.html", "type": "text/html;charset=utf-8",
                 "content": render_html(pairs, title=f"unspin report: {title}", resources=resources())},
    }


def _export(rows, format: str, title: str, resources) -> tuple[str, str]:
    from unspin.report.risk import count_words

    if format == "jsonl":
        from unspin.report.json import dumps

        return "".join(dumps(report) + "\n" for report, _, _ in rows), "application/x-ndjson"
    pairs = [(Report.from_dict(report, words=count_words(text)), text) for report, text, _ in rows]
    if format == "csv":
        from unspin.report.csv import render_csv

        return render_csv(pairs), "text/csv; charset=utf-8"
    from unspin.report.html import render_html

    return render_html(pairs, title=f"unspin report: {title}", resources=resources()), "text/html; charset=utf-8"


def _docs(app) -> None:
    """Swagger UI and ReDoc. Their scripts come from the `fastapi-offline` package when it is
    installed (the `web` extra), so the docs work without a network; else from FastAPI's CDN."""
    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html

    assets: dict[str, str] = {}
    try:
        import fastapi_offline

        static = Path(fastapi_offline.__file__).parent / "static"
        if (static / "swagger-ui-bundle.js").is_file():
            from starlette.staticfiles import StaticFiles

            app.mount("/docs/assets", StaticFiles(directory=static), name="docs-assets")
            assets = {"swagger_js_url": "/docs/assets/swagger-ui-bundle.js",
                      "swagger_css_url": "/docs/assets/swagger-ui.css",
                      "swagger_favicon_url": "/docs/assets/favicon.png"}
    except ImportError:
        pass

    @app.get("/docs", include_in_schema=False)
    async def swagger():
        return get_swagger_ui_html(openapi_url=app.openapi_url, title="unspin API", **assets)

    @app.get("/redoc", include_in_schema=False)
    async def redoc():
        if assets:
            return get_redoc_html(openapi_url=app.openapi_url, title="unspin API", with_google_fonts=False,
                                  redoc_js_url="/docs/assets/redoc.standalone.js",
                                  redoc_favicon_url="/docs/assets/favicon.png")
        return get_redoc_html(openapi_url=app.openapi_url, title="unspin API")
