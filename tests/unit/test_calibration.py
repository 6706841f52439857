"""Calibration of the document score: ECE, AUC, the Platt fit, and the labelled documents."""

from __future__ import annotations

import math
import random

import pytest

from unspin.evaluate.calibration import auc, brier, expected_calibration_error, fit_isotonic, fit_platt, platt
from unspin.detect.score import Calibration, isotonic, load_calibration


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


def test_platt_fit_recovers_a_known_map():
    rng = random.Random(3)
    a_true, b_true = 0.5, -0.8
    raw = [rng.uniform(0.01, 0.99) for _ in range(4000)]
    labels = [rng.random() < platt(a_true, b_true, r) for r in raw]
    a, b = fit_platt(raw, labels)
    assert a == pytest.approx(a_true, abs=0.1) and b == pytest.approx(b_true, abs=0.15)
    before, _ = expected_calibration_error(raw, labels)
    after, _ = expected_calibration_error([platt(a, b, r) for r in raw], labels)
    assert after < before / 3


def test_calibration_object_is_monotone_and_bounded():
    calibration = Calibration(0.7, -0.4, "test")
    values = [calibration(p / 100) for p in range(0, 101, 5)]
    assert all(0.0 < v < 1.0 for v in values) and values == sorted(values)
    assert calibration(0.5) == pytest.approx(1 / (1 + math.exp(0.4)))


def test_isotonic_fit_is_monotone_and_fixes_a_bent_score():
    rng = random.Random(5)
    raw = [rng.uniform(0.6, 1.0) for _ in range(3000)]
    truth = [0.1 if r < 0.75 else 0.5 if r < 0.9 else 0.8 for r in raw]  # a step the raw score hides
    labels = [rng.random() < t for t in truth]
    xs, ys = fit_isotonic(raw, labels)
    assert ys == sorted(ys) and xs == sorted(xs)
    fitted = [isotonic(xs, ys, r) for r in raw]
    assert expected_calibration_error(fitted, labels)[0] < 0.03 < expected_calibration_error(raw, labels)[0]
    assert isotonic(xs, ys, 0.0) == ys[0] and isotonic(xs, ys, 1.0) == ys[-1]


def test_shipped_fast_calibration_loads_and_is_monotone():
    calibration = load_calibration("fast")
    assert calibration is not None
    values = [calibration(p / 20) for p in range(21)]
    assert values == sorted(values) and all(0.0 <= v <= 1.0 for v in values)
