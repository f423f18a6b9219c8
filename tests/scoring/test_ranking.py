"""Ranking within an exam: passed first, total, then TKP, TIU, TWK; full ties share a rank."""

from __future__ import annotations

import random
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exam_server.grading.scoring import SKD_TIEBREAK, RankInput, rank, rank_key


def ranks(
    results: list[RankInput], tiebreak: tuple[str, ...] = SKD_TIEBREAK
) -> list[tuple[int, int]]:
    return [(r.attempt_id, r.rank) for r in rank(results, tiebreak)]


def skd(attempt_id: int, passed: bool, twk: float, tiu: float, tkp: float) -> RankInput:
    return RankInput(attempt_id, passed, twk + tiu + tkp, {"TWK": twk, "TIU": tiu, "TKP": tkp})


def test_passers_come_first_even_with_a_lower_total() -> None:
    # 3 failed TWK (60 < 65) with 500; 1 passed with 400.
    assert ranks([skd(3, False, 60, 200, 240), skd(1, True, 100, 100, 200)]) == [(1, 1), (3, 2)]


def test_equal_totals_are_broken_by_tkp_then_tiu_then_twk() -> None:
    results = [
        skd(1, True, 100, 100, 200),  # 400, TKP 200, TIU 100
        skd(2, True, 90, 100, 210),  # 400, TKP 210: first of the 400s
        skd(4, True, 110, 90, 200),  # 400, TKP 200, TIU 90: after 1
        skd(5, True, 100, 120, 200),  # 420: first overall
        skd(6, True, 95, 105, 200),  # 400, TKP 200, TIU 105: before 1
    ]
    assert ranks(results) == [(5, 1), (2, 2), (6, 3), (1, 4), (4, 5)]


def test_full_ties_share_a_rank_and_the_next_rank_skips() -> None:
    results = [
        skd(7, True, 100, 100, 200),
        skd(3, True, 100, 100, 200),
        skd(9, True, 100, 100, 201),
        skd(1, True, 100, 100, 190),
    ]
    # 9 first; 3 and 7 tie for 2nd (listed by attempt id); 1 is 4th, not 3rd.
    assert ranks(results) == [(9, 1), (3, 2), (7, 2), (1, 4)]


def test_the_tiebreak_order_is_a_parameter() -> None:
    a, b = skd(1, True, 110, 90, 200), skd(2, True, 90, 100, 210)
    assert ranks([a, b]) == [(2, 1), (1, 2)]  # TKP first: b
    assert ranks([a, b], ("TWK",)) == [(1, 1), (2, 2)]  # TWK first: a
    assert ranks([a, b], ()) == [(1, 1), (2, 1)]  # no tie-break: a shared rank


def test_a_section_missing_from_a_result_counts_as_zero() -> None:
    partial = RankInput(1, True, 300, {"TKP": 150})
    full = RankInput(2, True, 300, {"TKP": 150, "TIU": 1})
    assert ranks([partial, full]) == [(2, 1), (1, 2)]


def test_nothing_to_rank_gives_nothing_and_a_duplicate_attempt_is_refused() -> None:
    assert rank([]) == []
    with pytest.raises(ValueError, match="only once"):
        rank([skd(1, True, 1, 1, 1), skd(1, False, 0, 0, 0)])


def _better(a: RankInput, b: RankInput, tiebreak: tuple[str, ...]) -> bool:
    """The rule as the docs state it, written independently of rank_key."""
    if a.passed != b.passed:
        return a.passed
    if a.total != b.total:
        return a.total > b.total
    for code in tiebreak:
        x, y = a.section_points.get(code, 0.0), b.section_points.get(code, 0.0)
        if x != y:
            return x > y
    return False


# Small integer points make ties frequent, which is what a ranking property has to cover.
points = st.integers(0, 4).map(float)
results = st.lists(st.tuples(st.booleans(), points, points, points), max_size=25).map(
    lambda rows: [
        RankInput(i, passed, twk + tiu + tkp, {"TWK": twk, "TIU": tiu, "TKP": tkp})
        for i, (passed, twk, tiu, tkp) in enumerate(rows, start=100)
    ]
)


@given(results)
def test_a_rank_is_one_plus_the_number_of_strictly_better_results(rows: list[RankInput]) -> None:
    by_id = {r.attempt_id: r for r in rows}
    got = rank(rows)
    assert sorted(r.attempt_id for r in got) == sorted(by_id)  # everyone, once
    for r in got:
        better = sum(_better(other, by_id[r.attempt_id], SKD_TIEBREAK) for other in rows)
        assert r.rank == 1 + better


@given(results, st.randoms(use_true_random=False))
def test_ranking_ignores_the_order_results_arrive_in(
    rows: list[RankInput], shuffle: random.Random
) -> None:
    shuffled = list(rows)
    shuffle.shuffle(shuffled)
    assert rank(shuffled) == rank(rows)


@given(results)
def test_the_list_is_in_rank_order_and_equal_ranks_mean_equal_keys(rows: list[RankInput]) -> None:
    by_id = {r.attempt_id: r for r in rows}
    got = rank(rows)
    for before, after in pairwise(got):
        assert before.rank <= after.rank
        key_before, key_after = (rank_key(by_id[x.attempt_id]) for x in (before, after))
        assert key_before <= key_after
        assert (before.rank == after.rank) == (key_before == key_after)
