"""Measuring the document score's calibration: ECE, AUC, Brier."""

from __future__ import annotations

import pytest

from unspin.evaluate.calibration import auc, brier, expected_calibration_error


def test_ece_of_a_perfect_and_of_an_overconfident_score():
    scores = [0.25] * 4 + [0.75] * 4
    labels = [True, False, False, False, True, True, True, False]
    ece, curve = expected_calibration_error(scores, labels)
    assert ece == pytest.approx(0.0) and [row["count"] for row in curve] == [4, 4]
    ece, _ = expected_calibration_error([0.95] * 10, [True] * 5 + [False] * 5)
    assert ece == pytest.approx(0.45)


def test_auc_and_brier():
    assert auc([0.9, 0.8, 0.1], [True, True, False]) == 1.0
    assert auc([0.5, 0.5], [True, False]) == 0.5
    assert auc([0.3], [True]) is None
    assert brier([1.0, 0.0], [True, True]) == pytest.approx(0.5)
