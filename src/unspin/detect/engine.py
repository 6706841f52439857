"""The detection engine a run uses: one per configuration and process.

Both modes are the learned engine (`unspin.detect.learned`): the fine-tuned encoder's evidence and
its decision; full mode (the default) also verifies each suspect with the causal language model.
The thesaurus engine with a trigram gate and gradient-boosted trees that both modes were before is
gone (its last figures: docs/evaluation/thesaurus-fast-test.md, docs/evaluation/full-compare-test.md).
"""

from __future__ import annotations

from functools import lru_cache

MODES = ("full", "fast")


@lru_cache(maxsize=4)
def get_engine(mode: str = "full", model: str | None = None, device: str = "auto"):
    """The learned engine in `mode`, built once per (mode, model, device): models and tables load once."""
    from unspin.detect.learned import LearnedEngine

    if mode == "fast":
        return LearnedEngine(mode="fast")
    return LearnedEngine(mode=mode, model=model, device=device)
