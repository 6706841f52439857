"""The candidate documents of a source search, read from a folder, a JSONL file or a text file.

- a folder: every `.txt` and `.md` file in it (recursively, hidden files and folders left out,
  sorted by relative path) is one document, its id the relative path; every `.jsonl` file in it
  is read as below (its records keep their own ids);
- a `.jsonl` file: one `{"id": ..., "text": "..."}` object per line; a record without an id is
  known as `FILE#N` (its N-th record); ids are kept as strings;
- any other file: one document, its id the file name.

Every file is checked (exists, UTF-8, valid JSONL) by the same readers `unspin check` uses, so
a bad one is refused with its name and line number before any indexing starts.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from unspin.errors import InputError

TEXT_SUFFIXES = (".txt", ".md")
TABLE_SUFFIXES = (".jsonl", ".ndjson")


def corpus_files(path: str | os.PathLike[str]) -> list[Path]:
    """The files a corpus path stands for, in a fixed order; InputError if there are none."""
    root = Path(path)
    if not root.exists():
        raise InputError(f"{root} does not exist", "give a folder of text files or a JSONL file")
    if not root.is_dir():
        return [root]
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if not name.startswith(".") and name.lower().endswith(TEXT_SUFFIXES + TABLE_SUFFIXES):
                found.append(Path(folder, name))
    if not found:
        raise InputError(f"{root} holds no .txt, .md or .jsonl files", "give a folder of text files or a JSONL file")
    return sorted(found, key=lambda f: f.relative_to(root).as_posix())


def iter_corpus(path: str | os.PathLike[str]) -> Iterator[tuple[str, str]]:
    """(id, text) for every document of the corpus at `path`."""
    from unspin.text.load import iter_jsonl, read_input

    root = Path(path)
    for file in corpus_files(root):
        name = file.relative_to(root).as_posix() if root.is_dir() else file.name
        text = read_input(str(file))
        if file.suffix.lower() in TABLE_SUFFIXES:
            for number, (doc_id, doc) in enumerate(iter_jsonl(text, str(file)), start=1):
                yield (str(doc_id) if doc_id is not None else f"{name}#{number}"), doc
        else:
            yield name, text


def read_corpus(path: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """Every document of the corpus, read and checked; duplicate ids are refused."""
    documents = list(iter_corpus(path))
    seen: set[str] = set()
    for doc_id, _ in documents:
        if doc_id in seen:
            raise InputError(f"{path}: the id {doc_id!r} is used by more than one document",
                             "give every document its own id")
        seen.add(doc_id)
    return documents


__all__ = ["corpus_files", "iter_corpus", "read_corpus"]
