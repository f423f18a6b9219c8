"""The session token the proctor reads out: it changes every period, the last one still works."""

from __future__ import annotations

from exam_server.delivery.credentials import session_token, session_token_valid

KEY = "kunci-uji"
T0 = 1_800_000_000.0  # the start of a period for 300 s and for 900 s


def test_the_token_changes_each_period_and_differs_between_sessions() -> None:
    first = session_token(KEY, 7, 300, at=T0)
    assert session_token(KEY, 7, 300, at=T0 + 299) == first
    assert session_token(KEY, 7, 300, at=T0 + 300) != first
    assert session_token(KEY, 8, 300, at=T0) != first
    assert session_token("kunci-lain", 7, 300, at=T0) != first


def test_the_current_and_the_previous_token_pass_an_older_one_does_not() -> None:
    old = session_token(KEY, 7, 300, at=T0)
    assert session_token_valid(KEY, 7, 300, old, at=T0 + 10)
    assert session_token_valid(KEY, 7, 300, old.lower() + " ", at=T0 + 310)  # just changed
    assert not session_token_valid(KEY, 7, 300, old, at=T0 + 600)  # two periods later
    assert not session_token_valid(KEY, 8, 300, old, at=T0 + 10)


def test_a_session_s_own_period_decides_when_its_token_changes() -> None:
    five, fifteen = (session_token(KEY, 7, p, at=T0 + 400) for p in (300, 900))
    assert session_token_valid(KEY, 7, 900, fifteen, at=T0 + 899)
    assert five != fifteen
    assert not session_token_valid(KEY, 7, 300, fifteen, at=T0 + 400)
