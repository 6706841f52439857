"""Which window pass reads each query's left context (`unspin.detect.lm.plan_windows`), without a model."""

from __future__ import annotations

import random

from unspin.detect.lm import CONTEXT_OVERLAP, CONTEXT_WINDOW, plan_windows


def test_queries_in_company_share_one_window() -> None:
    assert plan_windows([300, 310, 400, 520]) == [300 - CONTEXT_OVERLAP] * 4


def test_a_lone_query_is_read_after_its_minimum_context_not_the_whole_text_before_it() -> None:
    """Clean text has a suspect every few hundred words: each is read after CONTEXT_OVERLAP tokens,
    and the text between two of them is not read at all."""
    far = 2 * CONTEXT_OVERLAP + 50
    assert plan_windows([900, 900 + far]) == [900 - CONTEXT_OVERLAP, 900 + far - CONTEXT_OVERLAP]


def test_the_text_start_is_all_the_context_a_first_query_has() -> None:
    assert plan_windows([0, 40]) == [0, 0]


def test_every_query_keeps_its_minimum_context_and_fits_its_window() -> None:
    rng = random.Random(7)
    for _ in range(200):
        firsts = [rng.randrange(0, 5000) for _ in range(rng.randrange(1, 40))]
        for t, a in zip(firsts, plan_windows(firsts)):
            assert t - a >= min(t, CONTEXT_OVERLAP)  # left context: the minimum, or all there is
            assert 1 + t - a <= CONTEXT_WINDOW - 1  # BOS and the prefix fit in one window pass


def test_the_plan_does_not_depend_on_the_order_queries_come_in() -> None:
    firsts = [1200, 35, 700, 36, 2000, 710]
    plan = dict(zip(firsts, plan_windows(firsts)))
    shuffled = firsts[::-1]
    assert dict(zip(shuffled, plan_windows(shuffled))) == plan
