"""Lockouts that cannot be used as a weapon, bounded input, tokens that die with a password
(docs/security.md, findings 2, 4, 6, 8, 9 and 13), against a live server."""

from __future__ import annotations

import json
import secrets

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session
from tests_support import ExamClient, move_to_own_session
from websockets.sync.client import connect

from exam_server.db.models import Candidate
from exam_server.delivery.credentials import hash_password, session_token

pytestmark = pytest.mark.slow


def fresh_address() -> str:
    """A documentation-range address of our own (the test server trusts 127.0.0.1)."""
    return ".".join(str(secrets.randbelow(250) + 1) for _ in range(3)).join(("10.", ""))


def post_login(server, number: str, password: str, address: str | None = None, **extra):  # type: ignore[no-untyped-def]
    headers = {"X-Forwarded-For": address} if address else {}
    return httpx.post(
        server.url + "/api/v1/candidate/login",
        json={"participant_no": number, "password": password, **extra},
        headers=headers,
        timeout=10,
    )


# -- the policy, without servers -------------------------------------------------------


def test_the_policy_locks_a_pair_or_an_address_and_lets_the_room_token_through() -> None:
    from exam_server.delivery.throttle import Budget, Counts, is_locked, may_enter

    budget = Budget(pair=10, address=100, window_s=900)
    assert not is_locked(budget, Counts(9, 99))
    assert is_locked(budget, Counts(10, 0))
    assert is_locked(budget, Counts(0, 100))
    assert may_enter(False, True, None)
    assert not may_enter(True, True, None)  # locked, no room token asked: wait or a proctor
    assert may_enter(True, True, True)  # locked, but the right password and room token
    assert not may_enter(True, False, True)
    assert not may_enter(False, True, False)


def test_ipv6_clients_are_counted_per_64_and_mapped_ipv4_as_ipv4() -> None:
    from exam_server.delivery.throttle import address_key

    assert address_key("2001:db8:1:2:3:4:5:6") == address_key("2001:db8:1:2:ffff::1")
    assert address_key("::ffff:192.0.2.7") == "192.0.2.7"


# -- finding 2: failures from elsewhere do not lock the real candidate out --------------------


def test_wrong_passwords_from_another_address_do_not_lock_the_candidate_out(
    live_server, candidate
) -> None:  # type: ignore[no-untyped-def]
    attacker = fresh_address()
    for _ in range(12):
        resp = post_login(live_server, candidate.participant_no, "tebak-tebak", attacker)
    assert resp.json()["error"]["code"] == "too_many_attempts"
    # The attacker stays locked, even with the right password (no room token here) ...
    locked = post_login(live_server, candidate.participant_no, candidate.password, attacker)
    assert locked.status_code == 429
    # ... while the candidate at their own desk gets in.
    assert (
        post_login(
            live_server, candidate.participant_no, candidate.password, fresh_address()
        ).status_code
        == 200
    )


def test_the_right_password_forgets_the_failures_of_its_address(live_server, candidate) -> None:  # type: ignore[no-untyped-def]
    """A login skips the Redis call that forgets failures when there were none; when there
    were, it still forgets them (nine typos, a success, nine typos: not locked out)."""
    desk = fresh_address()
    for _ in range(2):
        for _ in range(9):  # one under the pair's budget of 10
            wrong = post_login(live_server, candidate.participant_no, "salah-ketik", desk)
            assert wrong.json()["error"]["code"] == "bad_credentials"
        right = post_login(live_server, candidate.participant_no, candidate.password, desk)
        assert right.status_code == 200, right.text


def test_a_locked_candidate_with_the_right_password_and_room_token_gets_in(
    live_server, candidate, db_engine, settings
) -> None:  # type: ignore[no-untyped-def]
    session_id = move_to_own_session(db_engine, candidate, token_required=True)
    room = fresh_address()  # the attacker shares the room's address
    for _ in range(12):
        post_login(live_server, candidate.participant_no, "tebak-tebak", room)
    assert (
        post_login(live_server, candidate.participant_no, candidate.password, room).status_code
        == 429
    )
    token = session_token(settings.secret_key_value, session_id, 15 * 60)
    resp = post_login(
        live_server, candidate.participant_no, candidate.password, room, session_token=token
    )
    assert resp.status_code == 200, resp.text


# -- finding 8: a budget per address ---------------------------------------------------------


def test_spraying_many_numbers_from_one_address_is_stopped(
    live_server, candidate, settings
) -> None:  # type: ignore[no-untyped-def]
    sprayer = fresh_address()
    budget = settings.login_address_failures
    for i in range(budget):
        post_login(live_server, f"SPRAY-{i:05d}", "tebak-tebak", sprayer)
    # A number never tried from here is refused at once, as is a real candidate's right
    # password from the sprayer's address; from anywhere else it works.
    victim = candidate
    assert post_login(live_server, "SPRAY-NEW", "tebak", sprayer).status_code == 429
    assert (
        post_login(live_server, victim.participant_no, victim.password, sprayer).status_code == 429
    )
    assert (
        post_login(live_server, victim.participant_no, victim.password, fresh_address()).status_code
        == 200
    )


# -- finding 9: room tokens are counted --------------------------------------------------------


def test_guessing_the_room_token_is_counted_and_stopped(
    live_server, candidate, db_engine, settings
) -> None:  # type: ignore[no-untyped-def]
    session_id = move_to_own_session(db_engine, candidate, token_required=True)
    guesser = fresh_address()
    codes = []
    for _ in range(settings.login_pair_failures + 1):
        resp = post_login(
            live_server,
            candidate.participant_no,
            candidate.password,
            guesser,
            session_token="AAAAAA",
        )
        codes.append(resp.json()["error"]["code"])
    assert codes[0] == "bad_session_token"
    assert codes[-1] == "too_many_attempts"
    # The right password and the right room token are the lockout's one exception.
    token = session_token(settings.secret_key_value, session_id, 15 * 60)
    assert (
        post_login(
            live_server, candidate.participant_no, candidate.password, guesser, session_token=token
        ).status_code
        == 200
    )


# -- findings 4 and 13: bounded bodies, no RecursionError ---------------------------------------


def test_an_oversized_login_body_is_refused_before_it_is_read(live_server) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps({"participant_no": "X", "password": "y" * (8 * 1024 * 1024)})
    resp = httpx.post(live_server.url + "/api/v1/candidate/login", content=body, timeout=30)
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "too_large"


def test_deeply_nested_json_is_a_bad_request_not_a_500(live_server) -> None:  # type: ignore[no-untyped-def]
    resp = httpx.post(live_server.url + "/api/v1/candidate/login", content="[" * 5000, timeout=10)
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "bad_request"


def test_deeply_nested_json_on_the_socket_is_a_bad_message_and_the_socket_lives(
    exam_client,
) -> None:  # type: ignore[no-untyped-def]
    exam_client.connect()
    exam_client.send_raw("[" * 5000)
    reply = exam_client.wait_for("error")
    assert reply["code"] == "bad_message"
    exam_client.send_raw('{"type":"x","a":' + "[" * 3000 + "]" * 3000 + "}")
    assert exam_client.wait_for("error")["code"] == "bad_message"
    exam_client.send({"type": "ping", "t": 7})
    assert exam_client.wait_for("pong")["t"] == 7


def test_deeply_nested_json_as_hello_is_refused_with_a_close_frame(live_server) -> None:  # type: ignore[no-untyped-def]
    with connect(live_server.ws_url, open_timeout=10) as ws:
        ws.send("[" * 5000)
        reply = json.loads(ws.recv(timeout=10))
        assert reply["code"] == "bad_message"


# -- finding 6: a reissued password ends the old token -----------------------------------------


def test_a_token_dies_when_the_password_is_reissued(
    live_server, candidate, db_engine, settings
) -> None:  # type: ignore[no-untyped-def]
    impostor = ExamClient(live_server.url, candidate.participant_no, candidate.password, "impostor")
    assert impostor.login().status_code == 200
    impostor.connect()
    impostor.close()
    with Session(db_engine) as db, db.begin():
        db.execute(
            update(Candidate)
            .where(Candidate.participant_no == candidate.participant_no)
            .values(password_hash=hash_password(settings.secret_key_value, "sandi-baru-123"))
        )
    with connect(live_server.ws_url, open_timeout=10) as ws:
        ws.send(json.dumps({"type": "hello", "token": impostor.token, "device": "impostor"}))
        reply = json.loads(ws.recv(timeout=10))
    assert reply["type"] == "error" and reply["code"] == "bad_token"
    # The old password is refused and the new one works.
    assert (
        post_login(
            live_server, candidate.participant_no, candidate.password, fresh_address()
        ).status_code
        == 401
    )
    fresh = ExamClient(live_server.url, candidate.participant_no, "sandi-baru-123", "real")
    assert fresh.login().status_code == 200
    assert fresh.connect()["type"] == "state"
    fresh.close()


def test_a_token_without_a_credential_version_is_refused(live_server, settings) -> None:  # type: ignore[no-untyped-def]
    from exam_server.delivery.credentials import CandidateTokens

    old_style = CandidateTokens(settings.secret_key_value, 3600)._serializer.dumps(
        {"a": 1, "c": 1, "l": "id"}
    )
    with connect(live_server.ws_url, open_timeout=10) as ws:
        ws.send(json.dumps({"type": "hello", "token": old_style, "device": "x"}))
        assert json.loads(ws.recv(timeout=10))["code"] == "bad_token"
