"""A disconnect, a killed worker or a Redis loss costs a candidate no answer.

Real uvicorn processes, a real WebSocket client, real Redis and PostgreSQL.
"""

from __future__ import annotations

import pytest
from tests_support import ExamClient, assert_state_matches_belief, flush_redis_keeping_claim

pytestmark = pytest.mark.slow


def test_a_dropped_connection_resumes_exactly_where_it_was(exam_client) -> None:  # type: ignore[no-untyped-def]
    exam_client.connect()
    for q in range(10):
        exam_client.answer(q, pick=q)
    exam_client.change({"type": "doubt", "q": 3, "on": True})
    # Two more changes leave the phone, and the signal drops before their acks arrive.
    exam_client.change(
        {"type": "answer", "q": 11, "choice": exam_client.question(11)["options"][1]["id"]},
        wait_ack=False,
    )
    exam_client.change({"type": "answer", "q": 0, "choice": None}, wait_ack=False)
    exam_client.drop()

    exam_client.connect()  # hello, then resend everything not yet durable
    state = exam_client.connect(resend=False)  # a fresh look at what the server holds
    assert_state_matches_belief(state, exam_client)
    assert state["doubts"] == [3]
    assert state["last_seq"] == exam_client.seq


def test_a_killed_worker_loses_nothing_and_another_worker_resumes(
    server_factory, candidate
) -> None:  # type: ignore[no-untyped-def]
    first, second = server_factory(), server_factory()
    client = ExamClient(first.url, candidate.participant_no, candidate.password)
    assert client.login().status_code == 200
    client.connect()
    for q in range(10):
        client.answer(q, pick=q + 1)
    client.change(
        {"type": "answer", "q": 12, "choice": client.question(12)["options"][0]["id"]},
        wait_ack=False,
    )
    first.kill()  # SIGKILL: no shutdown, no goodbye
    client.drop()

    client.connect(second.url)
    state = client.connect(second.url, resend=False)
    assert_state_matches_belief(state, client)
    assert state["last_seq"] == client.seq
    client.close()


def test_redis_losing_all_data_mid_exam_is_recovered_from_postgres_and_the_phone(  # type: ignore[no-untyped-def]
    exam_client, redis_client
) -> None:
    exam_client.connect()
    for q in range(10):
        exam_client.answer(q, pick=2)
    exam_client.wait_for(
        "durable", timeout=15, seq=exam_client.seq
    )  # the first ten are in PostgreSQL
    exam_client.answer(10, pick=1)
    exam_client.answer(11, pick=3)
    exam_client.change({"type": "doubt", "q": 10, "on": True})
    flush_redis_keeping_claim(redis_client)  # Redis forgets every attempt
    exam_client.drop()

    exam_client.connect()
    state = exam_client.connect(resend=False)
    assert_state_matches_belief(state, exam_client)
    assert state["last_seq"] == exam_client.seq


def test_durable_covers_every_acknowledged_change(exam_client, db_engine) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    exam_client.connect()
    for q in range(5):
        exam_client.answer(q)
    exam_client.wait_for("durable", timeout=15, seq=exam_client.seq)
    assert exam_client.kept == {}
    with db_engine.connect() as conn:
        seqs = (
            conn.execute(
                text(
                    "SELECT seq FROM answer_log JOIN attempts ON attempts.id = answer_log.attempt_id "
                    "JOIN candidates ON candidates.id = attempts.candidate_id WHERE participant_no = :p ORDER BY seq"
                ),
                {"p": exam_client.participant_no},
            )
            .scalars()
            .all()
        )
    assert seqs == [1, 2, 3, 4, 5]


def test_a_second_device_takes_over_and_the_first_is_told(live_server, candidate) -> None:  # type: ignore[no-untyped-def]
    phone = ExamClient(
        live_server.url, candidate.participant_no, candidate.password, device="phone-1"
    )
    assert phone.login().status_code == 200
    phone.connect()
    phone.answer(0)
    tablet = ExamClient(
        live_server.url, candidate.participant_no, candidate.password, device="phone-2"
    )
    assert tablet.login().status_code == 200
    state = tablet.connect()
    assert state["answers"] == phone.believed
    replaced = phone.wait_for("error", code="replaced")
    assert replaced["message"]
    tablet.answer(1)  # the new device continues from the server's last_seq
    tablet.close()
