"""`unspin serve`: one server for the web page and the JSON API (needs the `web` extra).

- `settings.Settings`: what a server runs with (engine options, storage, limits), frozen.
- `app.create_app(settings)`: the FastAPI application, built by a factory; nothing is created at
  import time, so several apps (tests, a restart) can live in one process.
- `runner.ModelRunner`: the one thread that owns the checker; requests and batch jobs queue on it.
- `jobs.JobStore` / `jobs.JobWorker`: batch jobs in SQLite, resumed after a restart.
- `inputs`: request bodies and uploads to documents, with the size limits and clear 4xx errors.
- `page`: the page's HTML, stylesheet and script, around `unspin.report.html`'s renderer.

The web layer holds no detection logic: it calls `Checker.check` and renders what it returns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from fastapi import FastAPI

    from unspin.web.settings import Settings


def create_app(settings: Settings | None = None, **kwargs) -> FastAPI:
    """`unspin.web.app.create_app`, imported only when called (FastAPI is an optional extra)."""
    from unspin.web.app import create_app as factory

    return factory(settings, **kwargs)


__all__ = ["create_app"]
