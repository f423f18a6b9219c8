"""Candidate login (docs/protocol.md, "Candidate login") and the token checks on hello."""

from __future__ import annotations

import json

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from tests_support import ExamClient, move_to_own_session
from websockets.sync.client import connect

from exam_server.delivery.credentials import session_token

pytestmark = pytest.mark.slow


def login(server, cred, **extra):  # type: ignore[no-untyped-def]
    return httpx.post(
        server.url + "/api/v1/candidate/login",
        json={"participant_no": cred.participant_no, "password": cred.password, **extra},
        timeout=10,
    )


def test_a_scheduled_candidate_gets_a_token_and_their_paper(live_server, candidate) -> None:  # type: ignore[no-untyped-def]
    resp = login(live_server, candidate)
    assert resp.status_code == 200
    body = resp.json()
    assert body["ws_url"] == "/ws/v1/exam"
    assert body["candidate"]["participant_no"] == candidate.participant_no
    assert "*" in body["candidate"]["nik_masked"]
    assert [s["code"] for s in body["exam"]["sections"]] == ["TWK", "TIU", "TKP"]
    assert candidate.password not in resp.text


def test_a_wrong_password_is_refused_in_indonesian_and_english(live_server, candidate) -> None:  # type: ignore[no-untyped-def]
    resp = httpx.post(
        live_server.url + "/api/v1/candidate/login",
        json={"participant_no": candidate.participant_no, "password": "salah"},
    )
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "bad_credentials"
    assert "salah" in resp.json()["error"]["message"]
    english = httpx.post(
        live_server.url + "/api/v1/candidate/login?lang=en",
        json={"participant_no": candidate.participant_no, "password": "salah"},
    )
    assert english.json()["error"]["message"].startswith("Wrong")


def test_repeated_failures_lock_the_number_out(live_server, candidate) -> None:  # type: ignore[no-untyped-def]
    for _ in range(10):
        httpx.post(
            live_server.url + "/api/v1/candidate/login",
            json={"participant_no": candidate.participant_no, "password": "tebak"},
        )
    resp = login(live_server, candidate)  # even the right password now waits
    assert resp.status_code == 429
    assert resp.json()["error"]["code"] == "too_many_attempts"


def test_a_malformed_login_is_a_bad_request(live_server) -> None:  # type: ignore[no-untyped-def]
    resp = httpx.post(live_server.url + "/api/v1/candidate/login", content=b"{oops")
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "bad_request"


def test_a_candidate_outside_their_session_is_not_scheduled_now(
    live_server, candidate, db_engine
) -> None:  # type: ignore[no-untyped-def]
    move_to_own_session(db_engine, candidate, starts_in_s=3 * 3600, ends_in_s=5 * 3600)
    resp = login(live_server, candidate)
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "not_scheduled_now"


def test_a_session_that_asks_for_a_token_refuses_a_wrong_one(
    live_server, candidate, db_engine, settings
) -> None:  # type: ignore[no-untyped-def]
    session_id = move_to_own_session(db_engine, candidate, token_required=True)
    assert login(live_server, candidate).json()["error"]["code"] == "bad_session_token"
    assert (
        login(live_server, candidate, session_token="XXXXXX").json()["error"]["code"]
        == "bad_session_token"
    )
    token = session_token(settings.secret_key_value, session_id, 15 * 60)
    assert login(live_server, candidate, session_token=token.lower()).status_code == 200


def test_a_submitted_candidate_cannot_log_in_again(live_server, candidate) -> None:  # type: ignore[no-untyped-def]
    client = ExamClient(live_server.url, candidate.participant_no, candidate.password)
    assert client.login().status_code == 200
    client.connect()
    client.answer(0)
    client.change({"type": "submit"})
    client.close()
    resp = login(live_server, candidate)
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "already_submitted"


def hello_with(server, token: str) -> dict:  # type: ignore[no-untyped-def]
    with connect(server.ws_url, open_timeout=10) as ws:
        ws.send(json.dumps({"type": "hello", "token": token, "device": "x"}))
        return json.loads(ws.recv(timeout=10))


def test_a_forged_token_is_refused(live_server) -> None:  # type: ignore[no-untyped-def]
    reply = hello_with(live_server, "eyJhIjoxfQ.forged.signature")
    assert reply["type"] == "error" and reply["code"] == "bad_token"


def test_an_expired_token_is_refused(live_server, candidate, settings) -> None:  # type: ignore[no-untyped-def]
    class Yesterday(TimestampSigner):
        def get_timestamp(self) -> int:
            return super().get_timestamp() - 2 * settings.token_max_age_s

    stale = URLSafeTimedSerializer(
        settings.secret_key_value, salt="tkd.candidate-token", signer=Yesterday
    ).dumps({"a": 1, "c": 1, "l": "id"})
    reply = hello_with(live_server, stale)
    assert reply["type"] == "error" and reply["code"] == "expired_token"


def test_a_connection_that_never_says_hello_is_closed(live_server, settings) -> None:  # type: ignore[no-untyped-def]
    import time

    from websockets.exceptions import ConnectionClosed

    started = time.monotonic()
    with connect(live_server.ws_url, open_timeout=10) as ws, pytest.raises(ConnectionClosed):
        ws.recv(timeout=settings.hello_timeout_s + 5)
    assert time.monotonic() - started >= settings.hello_timeout_s - 1
