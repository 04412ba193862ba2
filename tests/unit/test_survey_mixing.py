"""Which anonymous responses are mixed, and when (bot.surveys.service.to_mix)."""

from __future__ import annotations

import random

import pytest

from bot.surveys import service as surveys
from bot.surveys.service import to_mix


@pytest.fixture(autouse=True)
def seeded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(surveys, "RANDOM", random.Random(3))


def test_responses_wait_until_enough_of_them_wait() -> None:
    assert to_mix([1, 2, 3, 4], [], 5, closing=False) == []
    assert to_mix([1, 2, 3, 4, 5], [9], 5, closing=False) == [1, 2, 3, 4, 5]


def test_at_the_close_a_remainder_is_mixed_with_enough_mixed_ones_to_make_the_minimum() -> None:
    chosen = to_mix([1, 2], list(range(10, 30)), 5, closing=True)
    assert chosen[:2] == [1, 2] and len(chosen) == 5 and set(chosen[2:]) <= set(range(10, 30))


def test_at_the_close_a_survey_with_fewer_than_the_minimum_in_all_mixes_them_all() -> None:
    assert sorted(to_mix([1], [7, 8], 5, closing=True)) == [1, 7, 8]


def test_nothing_is_mixed_when_nothing_waits() -> None:
    assert to_mix([], [1, 2, 3, 4, 5], 5, closing=True) == []


def test_the_mixed_company_is_chosen_at_random() -> None:
    picks = {tuple(to_mix([1], list(range(100, 200)), 3, closing=True)[1:]) for _ in range(20)}
    assert len(picks) > 10
