"""The server's clock: an attempt left alone past its deadline is submitted and graded."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text
from tests_support import ExamClient, move_to_own_session

pytestmark = pytest.mark.slow


def wait_for_row(db_engine, sql: str, params: dict, timeout: float = 20):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db_engine.connect() as conn:
            row = conn.execute(text(sql), params).mappings().first()
        if row is not None:
            return row
        time.sleep(0.3)
    raise AssertionError(f"no row for {sql} {params} within {timeout} s")


def test_an_abandoned_attempt_is_submitted_and_graded_at_its_deadline(
    live_server, candidate, db_engine
) -> None:  # type: ignore[no-untyped-def]
    move_to_own_session(
        db_engine, candidate, ends_in_s=4
    )  # the session, and so the attempt, ends in 4 s
    client = ExamClient(live_server.url, candidate.participant_no, candidate.password)
    assert client.login().status_code == 200
    state = client.connect()
    assert state["status"] == "running" and state["remaining_ms"] <= 4000
    client.answer(0)
    client.drop()  # the candidate walks away and never comes back

    row = wait_for_row(
        db_engine,
        "SELECT a.status, a.submit_reason, r.total, r.correct, r.wrong, r.blank FROM attempts a "
        "JOIN candidates c ON c.id = a.candidate_id JOIN results r ON r.attempt_id = a.id "
        "WHERE c.participant_no = :p",
        {"p": candidate.participant_no},
    )
    assert row["status"] == "submitted" and row["submit_reason"] == "deadline"
    assert row["correct"] + row["wrong"] == 1
    assert row["blank"] == state["questions"] - 1


def test_a_change_after_the_deadline_is_refused_with_time_over(
    live_server, other_candidate, db_engine
) -> None:  # type: ignore[no-untyped-def]
    move_to_own_session(db_engine, other_candidate, ends_in_s=3)
    client = ExamClient(live_server.url, other_candidate.participant_no, other_candidate.password)
    assert client.login().status_code == 200
    client.connect()
    options = client.question(0)["options"]
    time.sleep(3.5)
    client.change({"type": "answer", "q": 0, "choice": options[0]["id"]}, wait_ack=False)
    error = client.wait_for("error")
    assert error["code"] == "time_over" and error["seq"] == client.seq
    assert client.wait_for("time")["status"] == "submitted"
    client.close()
