"""`unspin serve`: the web page and the JSON API in one server (needs `pip install 'unspin[web]'`).

    unspin serve [--host 127.0.0.1] [--port 8000] [--db FILE] [--data-dir DIR] [--mode fast] ...

A thin adapter: options -> `unspin.web.settings.Settings` -> `unspin.web.app.create_app` ->
uvicorn. Before it listens it checks what can fail (the job database opens, the port is free,
the engine and the fingerprint lists load), so a mistake is one line and an exit code rather
than a server that answers 503. The URL is printed on stderr once the server accepts
connections. It listens on 127.0.0.1 unless told otherwise; any other address is announced with
a warning, as the server has no authentication.

`add_parser(sub, engine_options)` and `run_serve(args, stdin, stdout, stderr)` plug into
`unspin.cli.main`. `main(argv)` runs the same command without the main command table
(`python -m unspin.cli.serve --port 8001`): same options, errors and exit codes.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys

from unspin.errors import ExitCode, ResourceMissing, UsageError

INSTALL = "pip install 'unspin[web]'"


def add_parser(sub, engine_options) -> argparse.ArgumentParser:
    serve = sub.add_parser("serve", help="serve the web page and the JSON API (http://127.0.0.1:8000/)",
                           description="Serve the web page (paste or upload, review, restore, download) and the "
                                       "JSON API (/api/check, /api/restore, /api/jobs; docs at /docs).")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 exposes the "
                            "server, which has no authentication, to the network)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000; 0: any free port)")
    serve.add_argument("--db", default=None, metavar="FILE",
                       help="SQLite file of batch jobs, kept across restarts (default: DATA_DIR/jobs.sqlite3)")
    serve.add_argument("--data-dir", default=None, metavar="DIR",
                       help="the server's own folder (default: the folder of --db, else the unspin cache folder)")
    serve.add_argument("--max-upload-mb", type=float, default=5.0, metavar="MB",
                       help="largest request to /api/check, /api/restore and the page (default 5)")
    serve.add_argument("--max-batch-mb", type=float, default=50.0, metavar="MB",
                       help="largest batch sent to /api/jobs (default 50)")
    serve.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                       help="also answer requests for this host name (e.g. behind a proxy); repeatable")
    engine_options(serve)
    return serve


def settings_from_args(args):
    from unspin.web.settings import LOOPBACK_NAMES, MiB, Settings, is_loopback

    for name in ("max_upload_mb", "max_batch_mb"):
        if not getattr(args, name) > 0:
            raise UsageError(f"--{name.replace('_', '-')} must be more than 0")
    hosts = None
    if args.allow_host:
        hosts = (LOOPBACK_NAMES if is_loopback(args.host) else (args.host,)) + tuple(args.allow_host)
    return Settings(
        mode=args.mode or "full", model=args.model, device=args.device or "auto",
        fingerprints=tuple(args.fingerprints), engine=not args.no_engine, host=args.host, port=args.port,
        db=args.db, data_dir=args.data_dir, allowed_hosts=hosts,
        max_request_bytes=int(args.max_upload_mb * MiB), max_job_bytes=int(args.max_batch_mb * MiB),
    )


def run_serve(args, stdin, stdout, stderr) -> int:
    try:
        import fastapi  # noqa: F401
        import python_multipart  # noqa: F401
        import uvicorn
    except ImportError as err:
        raise ResourceMissing(f"`unspin serve` needs FastAPI, uvicorn and python-multipart ({err.name} is missing)",
                              INSTALL) from None
    from dataclasses import replace

    from unspin.web.app import create_app
    from unspin.web.jobs import JobStore
    from unspin.web.settings import is_loopback

    settings = settings_from_args(args).resolved()
    JobStore(settings.db).initialise()  # an unusable --db fails here, not in the worker
    sock = bind(settings.host, settings.port)
    try:
        port = sock.getsockname()[1]
        shown = f"[{settings.host}]" if ":" in settings.host else settings.host
        url = f"http://{shown}:{port}/"
        if not is_loopback(settings.host):
            print(f"unspin: warning: listening on {settings.host}: anyone who can reach this machine can use this "
                  "server (it has no authentication)", file=stderr)
        if settings.preload:
            print(f"unspin: loading the engine ({_engine_words(settings)})...", file=stderr, flush=True)
            _load_checker(settings, stderr)
        app = create_app(replace(settings, port=port))
        config = uvicorn.Config(app, log_config=None, access_log=bool(getattr(args, "verbose", False)),
                                server_header=False, lifespan="on", timeout_graceful_shutdown=10)
        server = uvicorn.Server(config)
        asyncio.run(_serve(server, sock, url, settings, stderr))
    finally:
        sock.close()
    print("unspin: server stopped", file=stderr)
    return ExitCode.OK


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (IPv4 preferred for names with both), or a UsageError."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as err:
        raise UsageError(f"cannot listen on {host!r}: {err.strerror}", "give an address such as 127.0.0.1") from None
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    family, kind, proto, _, address = infos[0]
    # The protocol number matters: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on sockets
    # whose proto is IPPROTO_TCP, and without that every keep-alive response waits ~40 ms for an ACK.
    sock = socket.socket(family, kind, proto or socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as err:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {err.strerror}",
                         "is another server using that port? choose another with --port") from None
    sock.set_inheritable(True)
    return sock


async def _serve(server, sock: socket.socket, url: str, settings, stderr) -> None:
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.05)
    if server.started:
        print(f"unspin: serving {_engine_words(settings)} on {url} (API docs: {url}docs; jobs in {settings.db}; "
              "Ctrl-C to stop)", file=stderr, flush=True)
    await task


def _engine_words(settings) -> str:
    if not settings.engine:
        return "fingerprint lists only"
    lists = f" + {len(settings.fingerprints)} fingerprint list(s)" if settings.fingerprints else ""
    return f"{settings.mode} mode{lists}"


def _load_checker(settings, stderr) -> None:
    """Load the checker now (it is cached per process, so the server's model thread reuses it)."""
    from unspin.pipeline import get_checker

    checker = get_checker(**settings.checker_options())
    for loaded in checker.lists:
        if not loaded.complete:
            print(f"unspin: warning: {loaded.summary()}", file=stderr)


# -- standalone: `python -m unspin.cli.serve` ---------------------------------------------------

def main(argv: list[str] | None = None, stdin=None, stdout=None, stderr=None) -> int:
    """`unspin serve ARGS`, for `python -m unspin.cli.serve ARGS` (tests and benchmarks start it so)."""
    from unspin.cli.main import main as unspin_main

    return unspin_main(["serve", *(sys.argv[1:] if argv is None else argv)], stdin=stdin, stdout=stdout, stderr=stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
