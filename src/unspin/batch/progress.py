"""Progress of a batch run on stderr: a redrawn bar on a terminal, a plain line now and then elsewhere.

Shows documents done (of the total, when known), documents per second and the time left. The
rate counts only what this run screened, not the shards a resumed run found already done, so
the estimate is not flattered by a resume. Nothing here touches stdout.
"""

from __future__ import annotations

import time
from typing import TextIO

BAR_WIDTH = 24


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def format_duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """`start(total)`, `skip(n)` for documents already done, `advance(n)`, `close()`.

    `mode`: "auto" (bar on a terminal, lines otherwise), "bar", "lines" or "none". Lines come
    every `interval` seconds; the bar is redrawn at most every `redraw` seconds.
    """

    def __init__(self, stream: TextIO, mode: str = "auto", interval: float = 15.0, redraw: float = 0.2,
                 clock=time.monotonic) -> None:
        self.stream = stream
        self.mode = ("bar" if _isatty(stream) else "lines") if mode == "auto" else mode
        self.interval, self.redraw, self.clock = interval, redraw, clock
        self.total: int | None = None
        self.exact = True
        self.done = self.skipped = 0
        self.started = self.last = clock()
        self._drawn = False

    def start(self, total: int | None, exact: bool = True) -> None:
        self.total, self.exact = total, exact
        self.started = self.last = self.clock()

    def skip(self, n: int) -> None:
        """Documents a resumed run found done: counted, not in the rate."""
        self.skipped += n
        self.done += n
        self._maybe_show()

    def advance(self, n: int) -> None:
        self.done += n
        self._maybe_show()

    def line(self) -> str:
        elapsed = max(self.clock() - self.started, 1e-9)
        fresh = self.done - self.skipped
        rate = fresh / elapsed
        total = self.total if self.total is None else max(self.total, self.done)
        parts = []
        if total:
            mark = "" if self.exact else "~"
            parts.append(f"{self.done:,}/{mark}{total:,} documents")
        else:
            parts.append(f"{self.done:,} documents")
        parts.append(f"{rate:,.1f} docs/s")
        if total and rate > 0 and total > self.done:
            parts.append(f"ETA {format_duration((total - self.done) / rate)}")
        if self.skipped:
            parts.append(f"{self.skipped:,} already done")
        text = ", ".join(parts)
        if self.mode == "bar" and total:
            filled = int(BAR_WIDTH * min(1.0, self.done / total))
            text = "[" + "#" * filled + "." * (BAR_WIDTH - filled) + "] " + text
        return text

    def _maybe_show(self, force: bool = False) -> None:
        if self.mode == "none":
            return
        now = self.clock()
        if self.mode == "bar":
            if force or now - self.last >= self.redraw:
                self.stream.write("\r\x1b[K" + self.line())
                self.stream.flush()
                self.last, self._drawn = now, True
        elif force or now - self.last >= self.interval:
            self.stream.write("unspin: " + self.line() + "\n")
            self.stream.flush()
            self.last = now

    def close(self) -> None:
        """The final state, once; the bar's line is ended so that later output starts clean."""
        if self.mode == "none":
            return
        self._maybe_show(force=True)
        if self.mode == "bar" and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
