"""Request bodies to documents: size limits, multipart uploads, and a 4xx for every bad input.

A request reaches the checker as a list of `Document`s (id, text, display name). Every way that can
fail is a `RequestProblem` with an HTTP status, a stable reference, a message and a hint, so the
server answers a malformed request with a 4xx and keeps serving:

- 413 `too-large`: the body is over the limit (announced by Content-Length, or counted while
  reading a chunked body). The rest of a moderately oversized body is read and dropped first, so
  that the client receives the 413 instead of a reset connection.
- 415 `unsupported-media-type` / `unsupported-format`: a Content-Type the route does not take
  (JSON, multipart, a url-encoded form and text/plain are taken; JSONL too for batches), or a
  file in a format unspin does not read (an archive, a legacy .doc, generic XML).
- 400 `bad-request`: malformed JSON or multipart.
- 422 `unreadable-input`, `invalid-request` and the document errors of `unspin.documents`
  (`no-text-layer`, `corrupt-document`, `encrypted-document`, `unsafe-document`): well-formed
  but unusable: not UTF-8, an image or a scan, a damaged PDF, a bad JSONL line, NUL characters or
  unpaired surrogates in the text, a missing "text", too many documents for the route.

Multipart bodies are parsed here with python-multipart, in memory, rather than by Starlette's form
parser, which spools files over 1 MB to the system's temporary folder: an upload is never written
anywhere. `upload_documents` is the one place that turns an uploaded file into documents: a
.jsonl file is read line by line as `unspin check --input-format jsonl` reads it, any other file
goes through `unspin.documents.extract` (.txt, .md, .html, .pdf, .docx, JATS .xml, sniffed by
content) and is checked with `Checker.check_document`, as `unspin check FILE` does. Text sent as
text (JSON, a form field, text/plain) is checked with `Checker.check`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any

from unspin.errors import InputError, UnspinError
from unspin.web.settings import human_bytes

JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})
ACCEPTED_FILES = ".txt, .md, .html, .pdf, .docx, JATS .xml or .jsonl"
JSON_TYPES = frozenset({"application/json"})
JSONL_TYPES = frozenset({"application/x-ndjson", "application/jsonl", "application/x-jsonlines",
                         "application/json-lines"})
FILE_FIELDS = frozenset({"file", "files"})
FORM_TYPE = "application/x-www-form-urlencoded"
DRAIN_FACTOR = 4  # an oversized body up to 4x the limit is read to its end before the 413 is sent
MAX_NAME = 200


class RequestProblem(UnspinError):
    """A request the server cannot take: the HTTP status says why, the message says what to do."""

    status = 400
    reference = "bad-request"

    def __init__(self, message: str, hint: str = "", *, status: int | None = None, reference: str | None = None):
        super().__init__(message, hint)
        if status is not None:
            self.status = status
        if reference is not None:
            self.reference = reference


class TooLarge(RequestProblem):
    status = 413
    reference = "too-large"


class UnsupportedMedia(RequestProblem):
    status = 415
    reference = "unsupported-media-type"


class InvalidRequest(RequestProblem):
    status = 422
    reference = "invalid-request"


@dataclass(frozen=True)
class Document:
    """One text to check. `name` is the uploaded file's display name (never a path).

    For an uploaded document file, `data` holds its bytes (a batch job stores them and extracts
    again when it checks the document) and `extracted` the `unspin.documents.ExtractedDocument`
    whose `text` is `text`; for text sent as text both are None.

    Not `unspin.batch.inputs.Document` (a place in a corpus, with an error recorded instead of
    raised, carried in shards): a request's documents are refused as a whole, before any work.
    """

    id: Any
    text: str
    name: str | None = None
    data: bytes | None = field(default=None, repr=False, compare=False)
    extracted: Any = field(default=None, repr=False, compare=False)

    def check(self, checker):
        """The report, as the CLI makes it: `check_document` for a document file, else `check`."""
        if self.extracted is not None:
            return checker.check_document(self.extracted, id=self.id)
        return checker.check(self.text, id=self.id)


@dataclass(frozen=True)
class Part:
    """One part of a multipart body, held in memory."""

    name: str
    filename: str | None
    data: bytes


# -- reading the body -----------------------------------------------------------------------------

def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


async def read_body(headers, stream: AsyncIterator[bytes], limit: int, *, what: str = "request body") -> bytes:
    """The whole body, or TooLarge as soon as it is known to be over `limit` bytes."""
    declared = headers.get("content-length")
    if declared is not None:
        try:
            declared_size = int(declared)
        except ValueError:
            raise RequestProblem(f"Content-Length {declared!r} is not a number") from None
        if declared_size > limit:
            await _drain(stream, limit)
            raise _too_large(what, declared_size, limit)
    chunks, size = [], 0
    async for chunk in stream:
        size += len(chunk)
        if size > limit:
            await _drain(stream, limit, size)
            raise _too_large(what, None, limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def _drain(stream: AsyncIterator[bytes], limit: int, seen: int = 0) -> None:
    """Read and drop what is left of a body up to DRAIN_FACTOR x the limit, so the 413 arrives."""
    try:
        async for chunk in stream:
            seen += len(chunk)
            if seen > DRAIN_FACTOR * limit:
                return
    except Exception:  # the client went away: nothing to drain
        return


def _too_large(what: str, size: int | None, limit: int) -> TooLarge:
    told = f" ({human_bytes(size)})" if size is not None else ""
    return TooLarge(f"the {what}{told} is larger than this server accepts: at most {human_bytes(limit)}",
                    "send a smaller file, split the batch, or start the server with a larger limit")


# -- multipart ------------------------------------------------------------------------------------

def parse_multipart(body: bytes, content_type: str, *, max_parts: int) -> list[Part]:
    """The parts of a multipart/form-data body, in order. Malformed bodies raise RequestProblem."""
    from python_multipart.exceptions import FormParserError
    from python_multipart.multipart import MultipartParser, parse_options_header

    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise RequestProblem("the multipart body has no boundary in its Content-Type",
                             "let your HTTP client build the multipart body (curl -F file=@FILE)")
    parts: list[Part] = []
    current: dict[str, Any] = {}
    ended: list[bool] = []

    def on_part_begin() -> None:
        current.clear()
        current.update(headers={}, field=b"", value=b"", data=bytearray())

    def on_header_field(data: bytes, start: int, end: int) -> None:
        current["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        current["value"] += data[start:end]

    def on_header_end() -> None:
        current["headers"][current["field"].lower()] = current["value"]
        current["field"], current["value"] = b"", b""

    def on_part_data(data: bytes, start: int, end: int) -> None:
        current["data"] += data[start:end]

    def on_part_end() -> None:
        if len(parts) >= max_parts:
            raise RequestProblem(f"the multipart body has more than {max_parts:,} parts",
                                 "send fewer files per request")
        disposition, options = parse_options_header(current["headers"].get(b"content-disposition", b""))
        if disposition != b"form-data" or b"name" not in options:
            raise RequestProblem("a multipart part has no Content-Disposition: form-data name",
                                 "name each part, e.g. curl -F file=@FILE")
        filename = options.get(b"filename")
        parts.append(Part(
            name=options[b"name"].decode("utf-8", "replace"),
            filename=None if filename is None else filename.decode("utf-8", "replace"),
            data=bytes(current["data"]),
        ))

    callbacks = {"on_end": lambda: ended.append(True), "on_part_begin": on_part_begin,
                 "on_header_field": on_header_field,
                 "on_header_value": on_header_value, "on_header_end": on_header_end,
                 "on_part_data": on_part_data, "on_part_end": on_part_end}
    try:
        parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
        parser.write(body)
        parser.finalize()
    except FormParserError as err:
        raise RequestProblem(f"the multipart body is malformed ({err})",
                             "let your HTTP client build the multipart body (curl -F file=@FILE)") from None
    if not ended:
        raise RequestProblem("the multipart body ends before its closing boundary: was the upload cut short?",
                             "send it again; let your HTTP client build the body (curl -F file=@FILE)")
    return parts


# -- files and texts to documents -----------------------------------------------------------------

def display_name(raw: str | None) -> str | None:
    """An uploaded file's name as shown to people: the last path component, without control
    characters, at most MAX_NAME characters. Only for display and for the suffix; never a path."""
    if not raw:
        return None
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if name in ("", ".", ".."):
        return None
    return name[:MAX_NAME]


def check_text(text: str, label: str) -> str:
    """Refuse text the page and the JSON output cannot carry faithfully."""
    from unspin.text.load import surrogate_at

    if "\x00" in text:
        raise InputError(f"{label} contains NUL characters: it looks like binary data, not text",
                         "give UTF-8 text")
    at = surrogate_at(text)
    if at is not None:
        raise InputError(f"{label} contains an unpaired surrogate (character {at})", "send valid Unicode text")
    return text


def extract_upload(data: bytes, name: str | None):
    """An uploaded document file's text and map (`unspin.documents.extract`): always bytes, never a
    path; the display name only labels messages and breaks ties in sniffing (.md against .txt)."""
    from unspin.documents import extract

    return extract(bytes(data), name=name or "the uploaded file")


def upload_documents(data: bytes, filename: str | None) -> list[Document]:
    """The documents in one uploaded file: the one place where upload bytes become documents.

    .jsonl / .ndjson: one text per line ({"id": ..., "text": ...}); any other file: one document,
    extracted by `unspin.documents` (format sniffed from the content). Formats unspin does not
    read are a 415; images, scans, damaged or encrypted files and bad UTF-8 a 422.
    """
    from unspin.text.load import decode, iter_jsonl

    name = display_name(filename)
    label = name or "the uploaded file"
    if name and PurePosixPath(name).suffix.lower() in JSONL_SUFFIXES:
        documents = [Document(id, check_text(doc, f"{label}, document {id!r}"), name)
                     for id, doc in iter_jsonl(decode(data, label), label)]
        if not documents:
            raise InvalidRequest(f"{label} holds no documents", 'one {"id": ..., "text": ...} object per line')
        return documents
    extracted = extract_upload(data, name)
    return [Document(None, check_text(extracted.text, label), name, data=bytes(data), extracted=extracted)]


def json_documents(body: bytes, *, batch: bool) -> list[Document]:
    """`{"text": ..., "id": ...}`, or for a batch also `{"documents": [{"id", "text"}, ...]}`."""
    from unspin.text.load import checked_id, parse_json

    try:
        payload = parse_json(body, "the body")
    except UnicodeDecodeError:
        raise InputError("the JSON body is not valid UTF-8", "send UTF-8 JSON") from None
    except InputError as err:  # malformed, nested too deep, NaN: the request itself is bad
        raise RequestProblem(err.message, 'send {"text": "..."}') from None
    shape = '{"text": "...", "id": ...}' + (' or {"documents": [{"id": ..., "text": "..."}, ...]}' if batch else "")
    if not isinstance(payload, dict):
        raise InvalidRequest("the JSON body must be an object", f"send {shape}")
    if batch and "documents" in payload:
        items = payload["documents"]
        if not isinstance(items, list):
            raise InvalidRequest('"documents" must be a list', f"send {shape}")
        documents = []
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                raise InvalidRequest(f'documents[{index}] must be an object with a string "text"', f"send {shape}")
            documents.append(Document(checked_id(item.get("id"), f"documents[{index}]"),
                                      check_text(item["text"], f"documents[{index}]")))
        return documents
    if not isinstance(payload.get("text"), str):
        raise InvalidRequest('the JSON body needs a string "text"', f"send {shape}")
    return [Document(checked_id(payload.get("id"), "the body"), check_text(payload["text"], "the text"))]


def jsonl_documents(body: bytes) -> list[Document]:
    return upload_documents(body, "request.jsonl")


def multipart_documents(parts: list[Part], *, batch: bool) -> list[Document]:
    """Files (fields "file"/"files") and a pasted "text" field; an "id" field names a single text."""
    fields = {part.name: part for part in parts if part.name not in FILE_FIELDS}
    files = [part for part in parts if part.name in FILE_FIELDS]
    id = fields["id"].data.decode("utf-8", "replace") if "id" in fields else None
    documents: list[Document] = []
    if "text" in fields:
        from unspin.text.load import decode

        documents.append(Document(id, check_text(decode(fields["text"].data, 'the "text" field'), "the text")))
    for part in files:
        found = upload_documents(part.data, part.filename)
        if batch:  # a batch names its documents by file, so that the results can be told apart
            found = [d if d.id is not None else replace(d, id=d.name) for d in found]
        elif id is not None:
            found = [replace(d, id=id) for d in found]
        documents.extend(found)
    if not documents:
        raise InvalidRequest('the form has neither a "file" nor a "text" field', "curl -F file=@FILE")
    return documents


async def request_documents(request, *, limit: int, max_documents: int, batch: bool, max_parts: int,
                            route: str) -> list[Document]:
    """The documents a request carries: JSON, multipart, plain text or (batches) JSONL."""
    kind = media_type(request.headers.get("content-type"))
    accepted = {"application/json", "multipart/form-data", FORM_TYPE, "text/plain"} | (JSONL_TYPES if batch else set())
    if kind not in accepted:
        await _drain(request.stream(), limit)
        raise UnsupportedMedia(f"{route} does not take {kind or 'a body without a Content-Type'}",
                               "send JSON {\"text\": ...}, a multipart file (curl -F file=@FILE) or text/plain")
    from starlette.concurrency import run_in_threadpool

    body = await read_body(request.headers, request.stream(), limit)
    # Parsing and extraction (a PDF can take seconds) run in a worker thread, off the event loop.
    documents = await run_in_threadpool(body_documents, body, kind, request.headers["content-type"],
                                        batch=batch, max_parts=max_parts)
    if not documents:
        raise InvalidRequest("the request holds no documents", "send at least one text")
    if len(documents) > max_documents:
        hint = "send a batch to POST /api/jobs" if max_documents == 1 else "split the batch"
        raise InvalidRequest(f"the request holds {len(documents):,} documents; {route} takes at most {max_documents:,}",
                             hint)
    return documents


def body_documents(body: bytes, kind: str, content_type: str, *, batch: bool, max_parts: int) -> list[Document]:
    """The documents of a request body of media type `kind` (one of those `request_documents` takes)."""
    if kind in JSON_TYPES:
        documents = json_documents(body, batch=batch)
    elif kind in JSONL_TYPES:
        documents = jsonl_documents(body)
    elif kind == FORM_TYPE:  # curl -d text=... / an HTML form
        from urllib.parse import parse_qsl

        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=max_parts)
        except (UnicodeDecodeError, ValueError) as err:
            raise RequestProblem(f"the form body cannot be read ({err})", "send UTF-8 text as text=...") from None
        documents = multipart_documents([Part(name, None, value.encode("utf-8")) for name, value in pairs],
                                        batch=batch)
    elif kind == "text/plain":
        from unspin.text.load import decode

        documents = [Document(None, check_text(decode(body, "the request body"), "the request body"))]
    else:
        documents = multipart_documents(parse_multipart(body, content_type, max_parts=max_parts), batch=batch)
    return documents
