"""Prepared sessions: login and hello from Redis, the slow path, and changes reflected."""

from __future__ import annotations

import datetime as dt
import json
import time

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session
from tests_support import ExamClient, move_to_own_session, prepare, reissue, start_server
from websockets.sync.client import connect

from exam_server.db.models import Candidate, SessionCandidate
from exam_server.delivery.credentials import hash_password
from exam_server.delivery.prepare import stale
from exam_server.delivery.prepared import cand_key, choose_seat, session_key
from exam_server.delivery.writebehind import next_batch_size, sort_batch

pytestmark = pytest.mark.slow

NOW = 1_700_000_000_000
HOUR = 3_600_000


def row(sid: int, starts: int, ends: int, info: str = '{"session": {}}') -> list[str]:
    return [str(sid), str(sid * 10), str(starts), str(ends), "0", "900", info, ""]


def test_the_seat_open_now_is_chosen_and_a_stale_one_sends_login_to_postgresql() -> None:
    later, now_open = row(1, NOW + 5 * HOUR, NOW + 7 * HOUR), row(2, NOW - HOUR, NOW + HOUR)
    seat = choose_seat([later, now_open], NOW, early_ms=HOUR)
    assert seat is not None and seat.session_id == 2 and seat.attempt_id == 20
    assert choose_seat([later], NOW, early_ms=HOUR) is None  # nothing open: PostgreSQL decides
    gone = [str(3), "30", "", "", "", "", "", ""]  # its session entry was invalidated
    assert choose_seat([now_open, gone], NOW, early_ms=HOUR) is None


def test_a_session_is_prepared_before_its_start_and_rebuilt_when_its_rows_change() -> None:
    now = dt.datetime(2026, 1, 5, 7, 50, tzinfo=dt.UTC)
    soon, began = now + dt.timedelta(minutes=10), now - dt.timedelta(minutes=10)
    assert stale(soon, now, None, "fp1")
    assert not stale(soon, now, "fp1", "fp1")
    assert stale(soon, now, "fp1", "fp2") and stale(began, now, "fp1", "fp2")
    assert not stale(began, now, None, "fp1")  # running and never prepared: PostgreSQL serves it


def test_the_write_behind_batch_grows_with_a_backlog_and_shrinks_after() -> None:
    assert next_batch_size(2000, 2000, 2000, 5000) == 4000
    assert next_batch_size(4000, 4000, 2000, 5000) == 5000
    assert next_batch_size(5000, 100, 2000, 5000) == 2500
    assert next_batch_size(2000, 10, 2000, 5000) == 2000


def test_a_start_entry_becomes_the_attempt_row() -> None:
    value = {
        "c": 4,
        "s": 2,
        "e": 1,
        "seed": "ab",
        "qids": [7, 8],
        "opts": [["a"], ["b"]],
        "secs": [{"code": "TWK"}],
        "starts_ms": NOW,
        "deadline_ms": NOW + HOUR,
    }
    entry = {"a": "99", "k": "start", "s": "0", "q": "", "v": json.dumps(value), "t": str(NOW)}
    batch = sort_batch([("1-0", entry)])
    start = batch.starts[99]
    assert (start["id"], start["candidate_id"], start["question_ids"]) == (99, 4, [7, 8])
    assert batch.durable == {} and batch.log_rows == []


def seat(db_engine, cred, session_id: int) -> None:  # type: ignore[no-untyped-def]
    with Session(db_engine) as db, db.begin():
        cid = (
            db.query(Candidate.id).filter(Candidate.participant_no == cred.participant_no).scalar()
        )
        db.query(SessionCandidate).filter(SessionCandidate.candidate_id == cid).delete()
        db.add(SessionCandidate(session_id=session_id, candidate_id=cid))


def test_a_prepared_candidate_logs_in_from_redis_and_a_late_one_through_postgresql(
    live_server, candidate, other_candidate, db_engine, settings, redis_client
) -> None:  # type: ignore[no-untyped-def]
    sid = move_to_own_session(db_engine, candidate)
    done = prepare(settings, sid)
    assert done["seated"] == 1 and done["new_papers"] == 1
    assert redis_client.hget(cand_key(candidate.participant_no), f"s:{sid}")
    prepared_id = int(redis_client.hget(cand_key(candidate.participant_no), f"s:{sid}"))

    client = ExamClient(live_server.url, candidate.participant_no, candidate.password)
    assert client.login().status_code == 200
    state = client.connect()
    assert state["questions"] > 0
    client.answer(3)
    client.wait_for("durable", seq=client.seq)
    with db_engine.connect() as conn:  # the write-behind made the row with the prepared id
        ids = (
            conn.execute(
                text(
                    "SELECT a.id FROM attempts a JOIN candidates c ON c.id = a.candidate_id "
                    "WHERE c.participant_no = :p"
                ),
                {"p": candidate.participant_no},
            )
            .scalars()
            .all()
        )
    assert ids == [prepared_id]
    client.close()

    seat(db_engine, other_candidate, sid)  # seated after the preparation
    late = ExamClient(live_server.url, other_candidate.participant_no, other_candidate.password)
    assert late.login().status_code == 200
    assert late.connect()["questions"] == state["questions"]
    late.answer(0)
    late.wait_for("durable", seq=late.seq)
    late.close()


def wait_for_status(url: str, cred, password: str, wanted: int, timeout: float = 15) -> int:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    code = 0
    while time.monotonic() < deadline:
        code = httpx.post(
            url + "/api/v1/candidate/login",
            json={"participant_no": cred.participant_no, "password": password},
            timeout=10,
        ).status_code
        if code == wanted:
            return code
        time.sleep(0.3)
    return code


def test_a_new_password_or_session_time_after_preparation_is_reflected(
    settings, tmp_path, candidate, db_engine, redis_client
) -> None:  # type: ignore[no-untyped-def]
    server = start_server(settings, tmp_path, extra_env={"TKD_PREPARE_CHECK_S": "1"})
    try:
        sid = move_to_own_session(db_engine, candidate, starts_in_s=600, ends_in_s=7200)
        prepare(settings, sid)
        fp = redis_client.hget(session_key(sid), "fp")
        assert (
            httpx.post(
                server.url + "/api/v1/candidate/login",
                json={"participant_no": candidate.participant_no, "password": candidate.password},
            ).status_code
            == 200
        )
        with Session(db_engine) as db, db.begin():  # new cards: a new password
            db.query(Candidate).filter(Candidate.participant_no == candidate.participant_no).update(
                {"password_hash": hash_password(settings.secret_key_value, "barubaru22")}
            )
        code = wait_for_status(server.url, candidate, candidate.password, 401)
        assert code == 401
        assert wait_for_status(server.url, candidate, "barubaru22", 200) == 200
        assert redis_client.hget(session_key(sid), "fp") != fp
        with db_engine.begin() as conn:  # the session moves to the afternoon
            conn.execute(
                text(
                    "UPDATE exam_sessions SET starts_at = now() + interval '5 hours', "
                    "ends_at = now() + interval '7 hours' WHERE id = :s"
                ),
                {"s": sid},
            )
        assert wait_for_status(server.url, candidate, "barubaru22", 403) == 403
    finally:
        server.stop()


def test_a_reissued_password_reaches_the_prepared_path_at_once(
    live_server, candidate, db_engine, settings
) -> None:  # type: ignore[no-untyped-def]
    sid = move_to_own_session(db_engine, candidate)
    prepare(settings, sid)
    impostor = ExamClient(live_server.url, candidate.participant_no, candidate.password, "impostor")
    assert impostor.login().status_code == 200
    impostor.connect()
    impostor.close()
    new_password = reissue(settings, candidate.participant_no)
    # Not at the next preparation: now. The old token ends at hello, the new password logs in.
    with connect(live_server.ws_url, open_timeout=10) as ws:
        ws.send(json.dumps({"type": "hello", "token": impostor.token, "device": "impostor"}))
        assert json.loads(ws.recv(timeout=10))["code"] == "bad_token"
    real = ExamClient(live_server.url, candidate.participant_no, new_password, "real")
    assert real.login().status_code == 200
    assert real.connect()["type"] == "state"
    real.close()
