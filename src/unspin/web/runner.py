"""One thread owns the checker: the model is loaded once and every check queues for it.

Loading the engine (thesauri, a language model) takes seconds to minutes and hundreds of MB, and
the checker is not promised to be thread-safe, so a server process has exactly one
`ModelRunner`: a single-worker executor that loads the checker on its first task and then runs
each task in turn. The request handlers await `run(...)` (the event loop stays free while a check
runs); the batch worker blocks on `submit(...).result()` one document at a time, so an interactive
request waits behind at most one batch document. A task whose caller went away before it started
(a closed browser tab) is cancelled, never run.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # pragma: no cover
    from unspin.pipeline import Checker

log = logging.getLogger(__name__)
T = TypeVar("T")


class ModelRunner:
    def __init__(self, load: Callable[[], Checker]) -> None:
        self._load = load
        self._checker: Checker | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._queued = 0
        self.load_error: BaseException | None = None

    def start(self) -> None:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="unspin-model")

    @property
    def checker(self) -> Checker | None:
        """The loaded checker, or None before the first task (read it; call it only in a task)."""
        return self._checker

    @property
    def loaded(self) -> bool:
        return self._checker is not None

    @property
    def queued(self) -> int:
        """Tasks submitted and not finished (the one running included)."""
        return self._queued

    def submit(self, task: Callable[[Checker], T]) -> Future[T]:
        """Run `task(checker)` on the model thread, after everything submitted before it."""
        with self._lock:
            if self._executor is None:
                raise RuntimeError("the model runner is not started (or already closed)")
            self._queued += 1
            future = self._executor.submit(self._call, task)
        future.add_done_callback(self._done)
        return future

    async def run(self, task: Callable[[Checker], T]) -> T:
        """`submit`, awaited without blocking the event loop."""
        return await asyncio.wrap_future(self.submit(task))

    def preload(self) -> Future[None]:
        """Load the checker now (in the model thread); requests queue behind it."""
        return self.submit(lambda checker: None)

    def close(self) -> None:
        """Stop taking tasks; drop the queued ones; never wait for the one running."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def _done(self, future: Future) -> None:
        with self._lock:
            self._queued -= 1

    def _call(self, task: Callable[[Checker], T]) -> T:
        if self._checker is None:
            try:
                self._checker = self._load()
            except BaseException as err:
                self.load_error = err
                log.error("the checker could not be loaded: %s", err)
                raise
            self.load_error = None
        return task(self._checker)
