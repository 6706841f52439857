"""Load test of `unspin serve` on loopback: requests/s and p50/p95 latency of POST /api/check.

    PYTHONPATH=src python benchmarks/bench_server.py [--configs fast,lists] [--clients 1,8,32]
        [--requests 200] [--seconds 20] [--words 300] [--json PATH]

For each configuration a real server is started in a subprocess (`python -m unspin.cli.serve
--port 0`, its own temporary data folder) and the script waits for it to print its URL; then,
for each number of concurrent clients, the clients (threads, one keep-alive HTTP connection
each) post the same ~300-word text to /api/check as fast as the server answers. Each level stops
after `--requests` requests or `--seconds` seconds, whichever comes first, after 3 warm-up
requests that are not counted. Traffic goes to 127.0.0.1 only.

Configurations:
- `fast`:  `--mode fast` (thesauri, idioms, trigram statistics);
- `lists`: `--mode fast --no-engine --fingerprints LIST` (list matching only; a small TSV list);
- `fast+lists`: both.

The text: the first Brown test passage (`unspin.evaluate.corpora`, real 1961 English) cut to
`--words` words, with three tortured phrases of the list put in at fixed places so that every
configuration has something to report; a built-in paragraph when the corpus is not available.

The server has one model thread (`unspin.web.runner`), so with 8 clients requests queue: the
throughput stays about that of one client and latency grows with the queue. That is the design
(one model per process, no reloading), not a fault; the figure to watch is zero errors.

Printed per level: requests, errors (any status other than 200, or a connection error), seconds,
requests/s, p50 and p95 latency in ms. Then, to each server, the hostile-request set (`HOSTILE`:
JSON nested 100,000 deep, ids of 5,000 digits, 1e999, NaN, lone surrogates, a DOCX declaring an
external entity, a damaged PDF, bad multipart, a wrong Content-Type ...), each of which must be
answered with a 4xx and an error object, never a 500; the server must still answer afterwards.
Exit status 1 when any request failed or a hostile request got anything but a 4xx, 2 when a server
would not start.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

LIST = ("profound learning\tdeep learning\nhuge information\tbig data\n"
        "counterfeit consciousness\tartificial intelligence\n")
PHRASES = ("profound learning", "huge information", "counterfeit consciousness")
FALLBACK = (
    "The committee met on Tuesday to review the plans for the new library, which the city has discussed for "
    "nearly a decade. Members agreed that the present building is too small for the growing number of readers "
    "and that its heating system costs more each winter. Several speakers asked how the project would be paid "
    "for, and the treasurer explained that a bond issue would cover most of the cost while private gifts would "
    "furnish the reading rooms. A retired teacher reminded the room that the library had been the center of the "
    "town's cultural life since it opened, and that children from every neighborhood came there after school. "
)
CONFIGS = {
    "fast": ["--mode", "fast"],
    "lists": ["--mode", "fast", "--no-engine", "--fingerprints", "{list}"],
    "fast+lists": ["--mode", "fast", "--fingerprints", "{list}"],
}


def build_text(words: int) -> tuple[str, str]:
    """A text of `words` words with the three list phrases in it, and where it came from."""
    try:
        from unspin.evaluate import corpora

        passage = next(iter(corpora.passages("brown", "test")))
        tokens, source = passage.text.split(), f"Brown test passage {passage.id}"
    except Exception as err:  # noqa: BLE001 - no corpus here: a built-in paragraph
        tokens, source = [], f"built-in paragraph ({type(err).__name__})"
    while len(tokens) < words:
        tokens += FALLBACK.split()
    tokens = tokens[:words]
    for n, phrase in enumerate(PHRASES):  # two words out, a two-word phrase in: the count stays
        at = (n + 1) * words // (len(PHRASES) + 1)
        tokens[at:at + 2] = phrase.split()
    return " ".join(tokens), source


DEEP = "[" * 100_000 + "]" * 100_000
# (name, route, Content-Type, body): every one must get a 4xx with an error object.
HOSTILE = [
    ("JSON nested 100,000 deep", "/api/check", "application/json", DEEP.encode()),
    ("id nested 100,000 deep", "/api/check", "application/json", ('{"text": "x", "id": %s}' % DEEP).encode()),
    ("id of 5,000 digits", "/api/check", "application/json", ('{"text": "x", "id": %s}' % ("7" * 5000)).encode()),
    ("id 1e999", "/api/restore", "application/json", b'{"text": "x", "id": 1e999}'),
    ("id NaN", "/api/check", "application/json", b'{"text": "x", "id": NaN}'),
    ("id -Infinity in a batch", "/api/jobs", "application/json", b'{"documents": [{"text": "x", "id": -Infinity}]}'),
    ("lone surrogate in text", "/api/check", "application/json", b'{"text": "a\\ud800b"}'),
    ("lone surrogate in id", "/api/check", "application/json", b'{"text": "ab", "id": "\\udc00"}'),
    ("JSONL batch nested deep", "/api/jobs", "application/x-ndjson", DEEP.encode() + b"\n"),
    ("malformed JSON", "/api/check", "application/json", b'{"text": '),
    ("not UTF-8", "/api/check", "text/plain", b"caf\xe9"),
    ("NUL bytes", "/api/check", "text/plain", b"a\x00b"),
    ("unsupported Content-Type", "/api/check", "image/png", b"\x89PNG\r\n\x1a\n"),
    ("multipart without a boundary", "/api/check", "multipart/form-data", b"--x\r\n"),
]


def _multipart(name: str, data: bytes) -> tuple[str, bytes]:
    boundary = "unspinbench"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


def hostile_requests() -> list[tuple[str, str, str, bytes]]:
    """HOSTILE, plus uploads: a damaged PDF, a JSONL file with a 1e999 id, a DOCX declaring an entity."""
    requests = list(HOSTILE)
    pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ngarbage\n%%EOF\n"
    requests.append(("damaged PDF upload", "/api/check", *_multipart("bad.pdf", pdf)))
    requests.append(("JSONL upload, id 1e999", "/api/jobs", *_multipart("b.jsonl", b'{"id": 1e999, "text": "x"}\n')))
    try:
        requests.append(("DOCX declaring an external entity", "/api/check", *_multipart("x.docx", _entity_docx())))
    except ImportError:  # python-docx is a test dependency
        pass
    return requests


def _entity_docx() -> bytes:
    from fuzz import docx_with_entity  # a sibling script, as bench_throughput imports peer

    return docx_with_entity('<!ENTITY e SYSTEM "file:///etc/hostname">', "&e;", "Before the entity. Middle words.")


def run_hostile(host: str, port: int) -> list[dict]:
    """Each hostile request once; its status, and whether it was the 4xx with an error object it must be."""
    results = []
    for name, route, content_type, body in hostile_requests():
        connection = connect(host, port)
        try:
            connection.request("POST", route, body=body, headers={"Content-Type": content_type})
            response = connection.getresponse()
            payload = response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as err:
            status, payload = 0, f"{type(err).__name__}: {err}".encode()
        finally:
            connection.close()
        try:
            message = json.loads(payload)["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = None
        results.append({"name": name, "route": route, "status": status, "ok": 400 <= status < 500 and bool(message),
                        "message": (message or payload[:200].decode("utf-8", "replace"))[:160]})
    return results


def start_server(config: str, folder: Path, list_path: Path, timeout: float = 180.0):
    args = [a.replace("{list}", str(list_path)) for a in CONFIGS[config]]
    command = [sys.executable, "-m", "unspin.cli.serve", "--port", "0", "--data-dir", str(folder / config), *args]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines: list[str] = []
    found = threading.Event()
    url: list[str] = []

    def read() -> None:
        for line in process.stderr:
            lines.append(line)
            match = re.search(r"serving .* on http://([\d.]+):(\d+)/", line)
            if match:
                url.append(match.group(1))
                url.append(match.group(2))
                found.set()
        found.set()

    threading.Thread(target=read, daemon=True).start()
    started = time.monotonic()
    if not found.wait(timeout) or not url:
        process.kill()
        raise RuntimeError(f"the {config} server did not start:\n{''.join(lines)}")
    return process, url[0], int(url[1]), time.monotonic() - started


def connect(host: str, port: int) -> http.client.HTTPConnection:
    """A keep-alive connection with Nagle off: http.client sends the headers and the body in two
    writes, and Nagle's algorithm with the server's delayed ACK would add ~40 ms to each request."""
    connection = http.client.HTTPConnection(host, port, timeout=120)
    connection.connect()
    connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return connection


def run_level(host: str, port: int, body: bytes, clients: int, max_requests: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    issued = [0]
    deadline = time.monotonic() + seconds

    def client() -> None:
        connection = connect(host, port)
        try:
            while True:
                with lock:
                    if issued[0] >= max_requests or time.monotonic() >= deadline:
                        return
                    issued[0] += 1
                begin = time.perf_counter()
                try:
                    connection.request("POST", "/api/check", body=body, headers={"Content-Type": "application/json"})
                    response = connection.getresponse()
                    payload = response.read()
                    elapsed = time.perf_counter() - begin
                    with lock:
                        if response.status == 200 and payload.startswith(b'{"schema":"unspin.report/1"'):
                            latencies.append(elapsed)
                        else:
                            errors.append(f"status {response.status}: {payload[:200]!r}")
                except (OSError, http.client.HTTPException) as err:
                    with lock:
                        errors.append(f"{type(err).__name__}: {err}")
                    connection.close()
                    connection = connect(host, port)
        finally:
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    begin = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - begin
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        if not ordered:
            return float("nan")
        return 1000 * ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

    return {"clients": clients, "requests": len(latencies) + len(errors), "ok": len(latencies), "errors": len(errors),
            "error_samples": errors[:3], "seconds": round(wall, 2),
            "requests_per_s": round(len(latencies) / wall, 2) if wall else 0.0,
            "p50_ms": round(pct(50), 1), "p95_ms": round(pct(95), 1),
            "mean_ms": round(1000 * statistics.fmean(ordered), 1) if ordered else float("nan")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", default="fast,lists", help=f"any of {', '.join(CONFIGS)} (default fast,lists)")
    parser.add_argument("--clients", default="1,8,32", help="concurrent clients per level (default 1,8,32)")
    parser.add_argument("--requests", type=int, default=200, help="at most this many requests per level (200)")
    parser.add_argument("--seconds", type=float, default=20.0, help="at most this long per level (20)")
    parser.add_argument("--words", type=int, default=300, help="words of the text posted (300)")
    parser.add_argument("--json", dest="json_out", default=None, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    clients = [int(c) for c in args.clients.split(",") if c.strip()]
    if not configs or any(c not in CONFIGS for c in configs) or not clients or min(clients) < 1:
        parser.error(f"--configs: any of {', '.join(CONFIGS)}; --clients: positive numbers")
    if args.requests < 1 or args.seconds <= 0:
        parser.error("--requests and --seconds must be positive")

    text, source = build_text(args.words)
    body = json.dumps({"text": text}).encode("utf-8")
    print(f"text: {len(text.split())} words, {len(body):,} bytes of JSON ({source})")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; Python {platform.python_version()}")
    print(f"limits per level: {args.requests} requests or {args.seconds:g} s; 3 warm-up requests first\n")
    header = (f"{'config':<11} {'clients':>7} {'requests':>8} {'errors':>6} {'seconds':>7} {'req/s':>7} "
              f"{'p50 ms':>7} {'p95 ms':>7}")
    results, hostile, failed = [], {}, False
    with tempfile.TemporaryDirectory(prefix="unspin-bench-server-") as tmp:
        folder = Path(tmp)
        list_path = folder / "bench.tsv"
        list_path.write_text(LIST, encoding="utf-8")
        rows = []
        for config in configs:
            try:
                process, host, port, startup = start_server(config, folder, list_path)
            except RuntimeError as err:
                print(err, file=sys.stderr)
                return 2
            try:
                warm = run_level(host, port, body, 1, 3, 60)
                spans = None
                connection = connect(host, port)
                connection.request("POST", "/api/check", body=body, headers={"Content-Type": "application/json"})
                spans = len(json.loads(connection.getresponse().read())["spans"])
                connection.close()
                print(f"{config}: server up in {startup:.1f} s (model loaded before listening); "
                      f"warm-up {warm['mean_ms']:.0f} ms a request; {spans} span(s) in the text")
                for count in clients:
                    result = run_level(host, port, body, count, args.requests, args.seconds)
                    result.update(config=config, startup_s=round(startup, 2), spans=spans)
                    results.append(result)
                    failed |= result["errors"] > 0 or warm["errors"] > 0
                    rows.append(f"{config:<11} {count:>7} {result['requests']:>8} {result['errors']:>6} "
                                f"{result['seconds']:>7.2f} {result['requests_per_s']:>7.2f} "
                                f"{result['p50_ms']:>7.1f} {result['p95_ms']:>7.1f}")
                    for sample in result["error_samples"]:
                        print(f"  error: {sample}", file=sys.stderr)
                hostile[config] = run_hostile(host, port)
                alive = run_level(host, port, body, 1, 1, 60)
                failed |= alive["errors"] > 0 or not all(item["ok"] for item in hostile[config])
            finally:
                process.terminate()
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
        print()
        print(header)
        print("\n".join(rows))
        for config, items in hostile.items():
            good = sum(item["ok"] for item in items)
            statuses = sorted({item["status"] for item in items})
            print(f"\n{config}: hostile requests {good}/{len(items)} answered 4xx with a reason "
                  f"(statuses {', '.join(map(str, statuses))}; 500s: {sum(item['status'] >= 500 for item in items)})")
            for item in items:
                mark = "ok  " if item["ok"] else "FAIL"
                print(f"  {mark} {item['status']} {item['name']}: {item['message']}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"text_source": source, "words": len(text.split()),
                                                   "results": results, "hostile": hostile}, indent=2) + "\n",
                                       encoding="utf-8")
    print("\nzero errors" if not failed else "\nERRORS: see above")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
