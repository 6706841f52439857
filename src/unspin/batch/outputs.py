"""What a screening run writes: each shard's files and the merged tables.

`unspin.batch.runner` (the local executor) and `unspin.batch.spark` screen shards; both hand the
results here. A shard's outputs (`shard_outputs`: their bytes) are stored each under a temporary
name and renamed, and then, last, the shard's `.done.json` marker (`store_shard`); `merge` builds
the summary and errors tables (CSV, and Parquet when pyarrow is there) and summary.json from the
shards in input order. Files are reached through `unspin.batch.storage` folders, local or Hadoop.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from unspin.batch.inputs import Document, have_pyarrow, require_pyarrow
from unspin.batch.storage import as_folder
from unspin.model import Report

log = logging.getLogger(__name__)

SUMMARY_SCHEMA = "unspin.screen-summary/1"
REPORT_FORMATS = ("jsonl", "parquet")
TOP_FINDINGS = 3
PARQUET_ROW_GROUP = 10_000  # rows buffered by the merge: bounds its memory (~40 MB)

# Table columns, with their Parquet types (fixed, so that an all-empty shard types the same).
SUMMARY_COLUMNS = (("seq", "int64"), ("id", "string"), ("source", "string"), ("location", "string"),
                   ("status", "string"), ("verdict", "string"), ("risk", "string"), ("score", "float64"),
                   ("findings", "int64"), ("words", "int64"), ("top_findings", "string"), ("error", "string"),
                   ("source_id", "string"), ("source_similarity", "float64"))
ERROR_COLUMNS = (("seq", "int64"), ("id", "string"), ("source", "string"), ("location", "string"),
                 ("reason", "string"))
REPORT_COLUMNS = (("seq", "int64"), ("id", "string"), ("source", "string"), ("location", "string"),
                  ("schema", "string"), ("unspin_version", "string"), ("mode", "string"), ("model", "string"),
                  ("score", "float64"), ("verdict", "string"), ("risk", "string"), ("findings", "int64"),
                  ("words", "int64"), ("spans", "string"), ("restored", "string"))
# Written by the merge; a restart removes these and the two folders, nothing else.
FINAL_FILES = ("summary.csv", "summary.parquet", "errors.csv", "errors.parquet", "summary.json")


@dataclass(frozen=True)
class Screened:
    """One document's report, with where it came from and its risk level."""

    seq: int
    source: str
    location: str
    risk: str
    report: Report


@dataclass(frozen=True)
class ShardResult:
    index: int
    reports: tuple[Screened, ...]  # the screened documents, in input order
    rows: tuple[dict[str, Any], ...]  # summary rows, one per document (errors included)
    errors: tuple[dict[str, Any], ...]
    stats: dict[str, Any]


def summary_row(doc: Document, report: Report | None, risk: str | None, error: str | None = None) -> dict[str, Any]:
    if report is None:
        return {"seq": doc.seq, "id": _cell(doc.id), "source": _clean(doc.source), "location": doc.location,
                "status": "error", "verdict": None, "risk": None, "score": None, "findings": None,
                "words": None, "top_findings": None, "error": _clean(error or ""),
                "source_id": None, "source_similarity": None}
    return {"seq": doc.seq, "id": _cell(doc.id), "source": _clean(doc.source), "location": doc.location,
            "status": "ok", "verdict": report.verdict, "risk": risk, "score": round(float(report.score), 4),
            "findings": len(report.spans), "words": report.words, "top_findings": _clean(top_findings(report)),
            "error": None, "source_id": None, "source_similarity": None}


def error_row(doc: Document, error: str) -> dict[str, Any]:
    """A document that could not be read or checked, for the errors table."""
    return {"seq": doc.seq, "id": _cell(doc.id), "source": _clean(doc.source), "location": doc.location,
            "reason": _clean(error)}


@lru_cache(maxsize=2)
def _source_index(path: str):
    """The `unspin match` index of --against, opened once per process (memory-mapped)."""
    from unspin.match.index import load_index

    return load_index(path)


def add_source(row: dict[str, Any], report: Report, text: str, against: str | None) -> None:
    """For a flagged document (spun or suspect), the likeliest source in the --against index."""
    if against is None:
        return
    from unspin.match.index import find_sources

    ((_, matches),) = list(find_sources([(report, text)], _source_index(against), k=1))
    if matches:
        row["source_id"] = _clean(str(matches[0].id))
        row["source_similarity"] = round(float(matches[0].similarity), 4)


def top_findings(report: Report, n: int = TOP_FINDINGS) -> str:
    """The most confident findings as `spun → suggestion (0.97)`, joined by "; "."""
    best = sorted(report.spans, key=lambda f: (-f.confidence, f.start))[:n]
    return "; ".join(f"{f.text} \u2192 {f.suggestion} ({f.confidence:.2f})" for f in best)


def _cell(value: Any) -> str:
    """An id as a table cell: text as it is, numbers as written in JSON, no id as empty."""
    if value is None:
        return ""
    return _clean(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))


def _clean(text: str) -> str:
    """Text that encodes as UTF-8 (a lone surrogate, from a file name or a JSON escape, as \\udcXX)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


# -- writing a shard ---------------------------------------------------------------------------

def shard_names(index: int, report_format: str) -> dict[str, str]:
    """A shard's files, by their names in the output folder."""
    return {"reports": f"reports/part-{index:05d}.{report_format}",
            "summary": f"shards/{index:05d}.summary.jsonl",
            "errors": f"shards/{index:05d}.errors.jsonl",
            "done": marker_name(index)}


def marker_name(index: int) -> str:
    return f"shards/{index:05d}.done.json"


def write_shard(out, result: ShardResult, report_format: str, run_id: str) -> dict[str, Any]:
    """The shard's outputs, each atomically, then its marker (the stats); returns the marker.
    `out`: the output folder (a path, or an `unspin.batch.storage` folder)."""
    return store_shard(as_folder(out), *shard_outputs(result, report_format, run_id))


def shard_outputs(result: ShardResult, report_format: str, run_id: str) -> tuple[dict[str, bytes], dict[str, Any]]:
    """The shard's files ({name: bytes}) and its marker, which records their sizes: what a
    Spark executor that cannot write the output folder sends back to the driver."""
    from unspin.report.json import render_jsonl_line

    names = shard_names(result.index, report_format)
    if report_format == "parquet":
        reports = _parquet_bytes([_report_row(item) for item in result.reports], REPORT_COLUMNS)
    else:
        reports = "".join(render_jsonl_line(item.report) for item in result.reports).encode("utf-8", "backslashreplace")
    files = {names["reports"]: reports, names["summary"]: _jsonl_bytes(result.rows),
             names["errors"]: _jsonl_bytes(result.errors)}
    marker = dict(result.stats, run=run_id, files={name: len(data) for name, data in files.items()})
    return files, marker


def store_shard(folder, files: dict[str, bytes], marker: dict[str, Any]) -> dict[str, Any]:
    """Each file under a temporary name and renamed, then the marker, last: a shard counts as
    done only with every file in place."""
    for name, data in files.items():
        folder.write_bytes(name, data)
    folder.write_bytes(marker_name(marker["shard"]), (json.dumps(marker, indent=1, sort_keys=True) + "\n").encode("utf-8"))
    folder.sync("shards")
    return marker


def _report_row(item: Screened) -> dict[str, Any]:
    report = item.report
    data = report.to_dict()
    return {"seq": item.seq, "id": _cell(report.id), "source": _clean(item.source), "location": item.location,
            "schema": data["schema"], "unspin_version": data["unspin_version"], "mode": data["mode"],
            "model": data["model"], "score": data["score"], "verdict": data["verdict"], "risk": item.risk,
            "findings": len(report.spans), "words": report.words,
            "spans": _clean(json.dumps(data["spans"], ensure_ascii=False, separators=(",", ":"), default=str)),
            "restored": _clean(data["restored"])}


def _jsonl_bytes(rows: Iterable[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n" for row in rows).encode("utf-8")


def _arrow_schema(columns):
    pa, _ = require_pyarrow()
    return pa.schema([(name, getattr(pa, kind)()) for name, kind in columns])


def _parquet_bytes(rows: list[dict[str, Any]], columns) -> bytes:
    pa, pq = require_pyarrow()
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=_arrow_schema(columns)), sink)
    return sink.getvalue()


def merge(out, shards: int, report_format: str, shard_size: int, *, elapsed: float = 0.0,
          resumed: int = 0) -> dict[str, Any]:
    """The summary and errors tables (CSV, and Parquet when pyarrow is there) from the shards in
    order, and summary.json, in `out` (a path or folder). Idempotent: running it again gives the
    same tables."""
    from unspin.report.csv import guard_cell

    folder = as_folder(out)
    parquet = have_pyarrow()
    if not parquet:
        log.warning("pyarrow is not installed: summary and errors written as CSV only (pip install 'unspin[batch]')")
    totals: Counter = Counter()
    verdicts: Counter = Counter()
    risks: Counter = Counter()
    checkers: list[dict[str, Any]] = []
    seconds = 0.0
    with contextlib.ExitStack() as stack:
        tables = {}
        for name, columns in (("summary", SUMMARY_COLUMNS), ("errors", ERROR_COLUMNS)):
            raw = stack.enter_context(folder.writing(f"{name}.csv"))
            handle = stack.enter_context(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow([c for c, _ in columns])
            pq_writer = None
            if parquet:
                pq_writer = stack.enter_context(_ParquetRows(stack.enter_context(folder.writing(f"{name}.parquet")),
                                                             columns))
            tables[name] = (writer, pq_writer, columns)
        for index in range(shards):
            names = shard_names(index, report_format)
            marker = json.loads(folder.read_bytes(names["done"]).decode("utf-8"))
            totals.update(documents=marker["documents"], screened=marker["screened"], errors=marker["errors"])
            verdicts.update(marker["verdicts"])
            risks.update(marker["risk"])
            seconds += marker.get("seconds", 0.0)
            if marker.get("checker") not in checkers:
                checkers.append(marker.get("checker"))
            for name in ("summary", "errors"):
                writer, pq_writer, columns = tables[name]
                with io.TextIOWrapper(folder.open(names[name]), encoding="utf-8") as rows:
                    for line in rows:
                        row = json.loads(line)
                        writer.writerow([_csv_cell(row[c], guard_cell) for c, _ in columns])
                        if pq_writer is not None:
                            pq_writer.add(row)
    if len(checkers) > 1:
        log.warning("the shards were screened by differently configured checkers: %s", checkers)
    summary = {
        "schema": SUMMARY_SCHEMA, "documents": totals["documents"], "screened": totals["screened"],
        "errors": totals["errors"], "flagged": verdicts["spun"] + verdicts["suspect"],
        "verdicts": {v: verdicts[v] for v in ("spun", "suspect", "clean")}, "risk": dict(sorted(risks.items())),
        "shards": shards, "shard_size": shard_size, "resumed_shards": resumed,
        "elapsed_s": round(elapsed, 3), "screen_seconds": round(seconds, 3),
        "docs_per_s": round(totals["documents"] / seconds, 2) if seconds else None,
        "checker": checkers[0] if len(checkers) == 1 else checkers or None,
        "outputs": {"reports": f"reports/part-*.{report_format}",
                    "summary": ["summary.csv"] + (["summary.parquet"] if parquet else []),
                    "errors": ["errors.csv"] + (["errors.parquet"] if parquet else [])},
    }
    run = json.loads(folder.read_bytes("run.json").decode("utf-8"))
    if run.get("checker") != summary["checker"]:  # the model as the workers resolved it
        run["checker"] = summary["checker"]
        folder.write_bytes("run.json", (json.dumps(run, indent=2) + "\n").encode("utf-8"))
    folder.write_bytes("summary.json", (json.dumps(summary, indent=2) + "\n").encode("utf-8"))
    return summary


def _csv_cell(value: Any, guard) -> Any:
    if value is None:
        return ""
    return guard(value) if isinstance(value, str) else value


class _ParquetRows:
    """Rows appended to a Parquet file (an open binary file) in row groups of `PARQUET_ROW_GROUP`."""

    def __init__(self, handle, columns) -> None:
        self.handle, self.columns, self.rows = handle, columns, []
        self.writer = None

    def __enter__(self):
        _, pq = require_pyarrow()
        self.writer = pq.ParquetWriter(self.handle, _arrow_schema(self.columns))
        return self

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if len(self.rows) >= PARQUET_ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        pa, _ = require_pyarrow()
        if self.rows:
            self.writer.write_table(pa.Table.from_pylist(self.rows, schema=self.writer.schema))
            self.rows = []

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self._flush()
        self.writer.close()
