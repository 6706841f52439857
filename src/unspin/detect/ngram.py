"""The cheap prior: the CMU US-English trigram model shipped inside the pocketsphinx wheel.

It scores every candidate at every position in microseconds, so it finds the suspicious
positions and ranks candidates for `--mode fast`; the neural model only re-ranks what it keeps.
"""

from __future__ import annotations

import math
import os
from functools import lru_cache

from unspin.errors import ResourceMissing

LOGMATH_BASE = 1.0001  # pocketsphinx reports log-probabilities in base-1.0001 units
_TO_NATS = math.log(LOGMATH_BASE)
# An unknown word gets this log-probability (nats) instead of pocketsphinx's "log zero",
# roughly the probability of the model's rarest words.
OOV_LOGPROB = -16.0


class TrigramModel:
    def __init__(self, path: str) -> None:
        import pocketsphinx

        self.path = path
        self._lm = pocketsphinx.NGramModel(pocketsphinx.Config(), pocketsphinx.LogMath(), path)
        self._zero = -(1 << 28)

    # The same (word, history) comes back for every candidate scored near it. A full cache costs
    # about 0.2 KB an entry: 1 << 20 entries held ~215 MB and pushed full mode's peak over 2 GB on
    # a 10 MB text (benchmarks/bench_long_input.py); 1 << 16 holds ~14 MB.
    @lru_cache(maxsize=1 << 16)
    def logprob(self, word: str, prev1: str | None, prev2: str | None) -> float:
        """ln P(word | prev2 prev1), backing off as the model does; words are lower-case."""
        # Written out rather than filtered with a comprehension: this runs for every candidate.
        if prev1:
            history = [word, prev1, prev2] if prev2 else [word, prev1]
        else:
            history = [word, prev2] if prev2 else [word]
        raw = self._lm.prob(history)
        if raw <= self._zero:
            return OOV_LOGPROB
        nats = raw * _TO_NATS
        return OOV_LOGPROB if OOV_LOGPROB > nats else nats  # max(), without its call overhead

    def sequence_logprob(self, words: list[str], left: tuple[str | None, str | None]) -> float:
        """ln P(words | the two words in `left`, nearest last), summed over the words."""
        prev2, prev1 = left
        logprob = self.logprob
        total = 0.0
        for word in words:
            total += logprob(word, prev1, prev2)
            prev2, prev1 = prev1, word
        return total


@lru_cache(maxsize=1)
def load_trigram_model() -> TrigramModel:
    try:
        import pocketsphinx
    except ImportError:
        raise ResourceMissing("the pocketsphinx package is not installed", "pip install pocketsphinx") from None
    path = os.path.join(pocketsphinx.get_model_path(), "en-us", "en-us.lm.bin")
    if not os.path.exists(path):
        raise ResourceMissing(f"trigram model not found at {path}", "pip install --force-reinstall pocketsphinx")
    return TrigramModel(path)
