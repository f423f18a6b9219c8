"""The seq rule and the server clock, without any server."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from exam_server.delivery.seq import Clock, Status, Verdict, judge

START, DEADLINE = 1_000_000, 1_000_000 + 30 * 60_000
RUNNING = Clock(submitted=False, starts_ms=START, deadline_ms=DEADLINE)
NOW = START + 60_000


def test_it_applies_the_next_seq() -> None:
    assert judge(RUNNING, last_seq=4, seq=5, now_ms=NOW) is Verdict.APPLY


def test_it_acknowledges_a_duplicate_without_applying_it() -> None:
    assert judge(RUNNING, last_seq=5, seq=5, now_ms=NOW) is Verdict.DUPLICATE
    assert judge(RUNNING, last_seq=5, seq=1, now_ms=NOW) is Verdict.DUPLICATE


def test_it_refuses_a_change_that_skips_a_seq() -> None:
    assert judge(RUNNING, last_seq=5, seq=7, now_ms=NOW) is Verdict.OUT_OF_ORDER


def test_it_refuses_a_change_after_the_deadline() -> None:
    assert judge(RUNNING, last_seq=5, seq=6, now_ms=DEADLINE) is Verdict.TIME_OVER
    assert judge(RUNNING, last_seq=5, seq=6, now_ms=DEADLINE + 1) is Verdict.TIME_OVER


def test_a_change_after_the_deadline_is_time_over_even_when_the_sweeper_closed_it_first() -> None:
    closed = Clock(submitted=True, starts_ms=START, deadline_ms=DEADLINE)
    assert judge(closed, last_seq=5, seq=6, now_ms=DEADLINE + 500) is Verdict.TIME_OVER


def test_it_refuses_a_change_after_submit_but_still_acks_resent_ones() -> None:
    done = Clock(submitted=True, starts_ms=START, deadline_ms=DEADLINE)
    assert judge(done, last_seq=9, seq=10, now_ms=NOW) is Verdict.SUBMITTED
    assert judge(done, last_seq=9, seq=9, now_ms=NOW) is Verdict.DUPLICATE


def test_it_refuses_changes_before_the_start_and_while_paused() -> None:
    assert judge(RUNNING, last_seq=0, seq=1, now_ms=START - 1) is Verdict.NOT_STARTED
    paused = RUNNING.paused(NOW)
    assert judge(paused, last_seq=0, seq=1, now_ms=NOW + 10) is Verdict.PAUSED


def test_a_paused_clock_does_not_run_and_resuming_keeps_the_time_left() -> None:
    paused = RUNNING.paused(NOW)
    left = paused.remaining_ms(NOW)
    assert paused.status(NOW + 3_600_000) is Status.PAUSED
    assert paused.remaining_ms(NOW + 3_600_000) == left
    assert not paused.expired(DEADLINE + 10)
    resumed = paused.resumed(NOW + 120_000)
    assert resumed.remaining_ms(NOW + 120_000) == left
    assert resumed.status(NOW + 120_000) is Status.RUNNING


def test_waiting_shows_the_full_duration_and_then_runs() -> None:
    assert RUNNING.status(START - 5) is Status.WAITING
    assert RUNNING.remaining_ms(START - 5) == DEADLINE - START
    assert RUNNING.remaining_ms(DEADLINE + 5) == 0


def test_an_extension_moves_the_deadline() -> None:
    assert RUNNING.extended(60_000).remaining_ms(NOW) == RUNNING.remaining_ms(NOW) + 60_000


@given(st.integers(0, 1000), st.integers(1, 1001))
def test_exactly_one_verdict_per_seq_and_only_the_next_one_applies(last: int, seq: int) -> None:
    verdict = judge(RUNNING, last, seq, NOW)
    assert (verdict is Verdict.APPLY) == (seq == last + 1)
    assert (verdict is Verdict.DUPLICATE) == (seq <= last)
