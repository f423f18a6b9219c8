"""Past capacity, a queue: `busy` with a time to retry, never a 500 or a dropped socket."""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from tests_support import ExamClient, start_server
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from exam_server.delivery.backpressure import Busy, Gate, is_exhaustion

pytestmark = pytest.mark.slow


def test_a_full_gate_says_busy_at_once_and_frees_its_place() -> None:
    gate = Gate(1)
    with gate.enter(), pytest.raises(Busy), gate.enter():
        pass
    with gate.enter():  # the place came back
        assert gate.in_flight == 1
    assert gate.in_flight == 0


def test_pool_timeouts_and_lost_connections_count_as_busy_and_bugs_do_not() -> None:
    import redis.exceptions
    import sqlalchemy.exc

    assert is_exhaustion(sqlalchemy.exc.TimeoutError("QueuePool limit of size 10 reached"))
    assert is_exhaustion(redis.exceptions.ConnectionError("No connection available."))
    assert is_exhaustion(ConnectionRefusedError())
    assert not is_exhaustion(KeyError("q"))
    assert not is_exhaustion(ValueError("bad"))


def burst(url: str, creds: list, n: int) -> list[httpx.Response]:  # type: ignore[type-arg]
    barrier = threading.Barrier(n)

    def one(i: int) -> httpx.Response:
        cred = creds[i % len(creds)]
        barrier.wait()
        return httpx.post(
            url + "/api/v1/candidate/login",
            json={"participant_no": cred.participant_no, "password": cred.password},
            timeout=30,
        )

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def logged_in(url: str, creds: list) -> list[str]:  # type: ignore[type-arg]
    """Each candidate's token, logged in one after another."""
    tokens = []
    for cred in creds:
        client = ExamClient(url, cred.participant_no, cred.password)
        assert client.login().status_code == 200
        tokens.append(str(client.token))
    return tokens


@pytest.mark.parametrize(
    "limits",
    [
        {"TKD_MAX_INFLIGHT_LOGINS": "1"},  # the worker's own bound on logins in flight
        {"TKD_DB_POOL_SIZE": "1", "TKD_DB_MAX_OVERFLOW": "0", "TKD_DB_POOL_TIMEOUT_MS": "10"},
    ],
    ids=["login-bound", "database-pool"],
)
def test_a_full_worker_answers_login_with_503_busy_and_retry_after(
    settings, tmp_path, candidate_pool, limits
) -> None:  # type: ignore[no-untyped-def]
    creds = [next(candidate_pool) for _ in range(4)]
    server = start_server(settings, tmp_path, extra_env={**limits, "TKD_BUSY_RETRY_AFTER_S": "1"})
    try:
        answers = burst(server.url, creds, 48)
        codes = [r.status_code for r in answers]
        assert set(codes) <= {200, 503}, codes  # never a 500
        busy = [r for r in answers if r.status_code == 503]
        assert busy, "the burst should have overflowed this worker"
        for r in busy:
            assert 1 <= int(r.headers["Retry-After"]) <= 2
            error = r.json()["error"]
            assert error["code"] == "busy" and error["retry_after_ms"] >= 1000
            assert error["message"].startswith("Antrean masuk")
        for cred in creds:  # in line, everybody gets in
            client = ExamClient(server.url, cred.participant_no, cred.password)
            for _ in range(20):
                if client.login().status_code == 200:
                    break
            assert client.token
    finally:
        server.stop()
    assert "Traceback" not in server.log_path.read_text()


def test_a_full_worker_answers_hello_with_busy_and_close_1013(
    settings, tmp_path, candidate_pool
) -> None:  # type: ignore[no-untyped-def]
    creds = [next(candidate_pool) for _ in range(3)]
    env = {"TKD_MAX_INFLIGHT_HELLOS": "1", "TKD_BUSY_RETRY_AFTER_S": "1"}
    server = start_server(settings, tmp_path, extra_env=env)
    try:
        tokens = logged_in(server.url, creds)
        n = 40
        barrier = threading.Barrier(n)

        def hello(i: int) -> tuple[dict, int | None]:  # type: ignore[type-arg]
            with connect(server.ws_url, open_timeout=20, compression=None) as ws:
                barrier.wait()
                ws.send(json.dumps({"type": "hello", "token": tokens[i % 3], "device": f"d{i}"}))
                first = json.loads(ws.recv(timeout=20))
                if first["type"] == "error":
                    with pytest.raises(ConnectionClosed):
                        ws.recv(timeout=5)
                    return first, ws.protocol.close_rcvd.code if ws.protocol.close_rcvd else None
                return first, None

        with ThreadPoolExecutor(n) as pool:
            firsts = list(pool.map(hello, range(n)))
        kinds = {(m["type"], m.get("code")) for m, _ in firsts}
        assert kinds <= {("state", None), ("error", "busy")}, kinds
        busy = [(m, code) for m, code in firsts if m["type"] == "error"]
        assert busy, "the burst should have overflowed this worker"
        for m, code in busy:
            assert m["retry_after_ms"] >= 1000 and code == 1013
        again = ExamClient(server.url, creds[0].participant_no, creds[0].password)
        again.token = tokens[0]
        assert again.connect()["type"] == "state"  # the retry gets in
        again.close()
    finally:
        server.stop()
    assert "Traceback" not in server.log_path.read_text()


async def test_a_full_pool_is_busy_not_an_outage_and_an_unreachable_redis_is_an_outage(
    settings,
) -> None:  # type: ignore[no-untyped-def]
    """Outage minutes are given back for a service that was down, never for a worker's own
    full pool under a burst (found at 10,000 candidates: every attempt got a minute)."""
    import redis.asyncio
    import redis.exceptions

    from exam_server.delivery.backpressure import pool_exhausted
    from exam_server.delivery.services import redis_client

    full = redis_client(str(settings.redis_url), max_connections=1, timeout_s=0.2)
    try:
        held = await full.connection_pool.get_connection()
        with pytest.raises(redis.exceptions.ConnectionError) as exhausted:
            await full.ping()
        assert pool_exhausted(exhausted.value)
        await full.connection_pool.release(held)
    finally:
        await full.aclose()
    down = redis.asyncio.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    try:
        with pytest.raises(redis.exceptions.ConnectionError) as unreachable:
            await down.ping()
        assert not pool_exhausted(unreachable.value)
    finally:
        await down.aclose()


async def _changes_through_a_full_queue(
    ws_url: str, token: str, together: asyncio.Barrier
) -> tuple[bool, list[dict]]:  # type: ignore[type-arg]
    """A change sent in the same moment as every other phone's; if it hears `busy`, the
    next change is typed before the wait is over. Then both are resent in order, as the
    page does. Returns whether the first was `busy`, and what answered the second."""
    from websockets.asyncio.client import connect as aconnect

    while True:  # hellos may hear `busy` too: wait and connect again, as the page does
        ws = await aconnect(ws_url, compression=None, open_timeout=20)
        await ws.send(json.dumps({"type": "hello", "token": token, "device": "burst"}))
        state = json.loads(await asyncio.wait_for(ws.recv(), 20))
        if state["type"] == "state":
            break
        assert state.get("code") == "busy", state
        await ws.close()
        await asyncio.sleep(state["retry_after_ms"] / 1000)

    async def reply() -> dict:  # type: ignore[type-arg]
        while True:
            msg = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if msg["type"] in ("ack", "error"):
                return msg  # type: ignore[no-any-return]

    async with ws:
        one, two = (
            {"type": "doubt", "q": q, "on": True, "seq": state["last_seq"] + 1 + q} for q in (0, 1)
        )
        await together.wait()  # every phone sends in the same moment
        await ws.send(json.dumps(one))
        first = await reply()
        await ws.send(json.dumps(two))
        second = await reply()
        pending, wait_ms = [one, two], first.get("retry_after_ms", 0)
        if first["type"] == "ack":
            pending = [] if second["type"] == "ack" else [two]
            wait_ms = second.get("retry_after_ms", 0)
        while pending:  # resend in order after the wait, until everything is acknowledged
            await asyncio.sleep(wait_ms / 1000)
            for change in pending:
                await ws.send(json.dumps(change))
            answers = [await reply() for _ in pending]
            assert {a.get("code") for a in answers} <= {None, "busy"}, answers
            pending = [c for c, a in zip(pending, answers, strict=True) if a["type"] != "ack"]
            wait_ms = max((a.get("retry_after_ms", 0) for a in answers), default=0)
        return first.get("code") == "busy", [second]


def test_changes_behind_a_busy_one_wait_for_it_instead_of_arriving_out_of_order(
    settings, tmp_path, candidate_pool
) -> None:  # type: ignore[no-untyped-def]
    """Found at 20,000 candidates: the change after a `busy` one reached Redis first, was
    out of order, and sent the worker to PostgreSQL to compare; the phone's resends made a
    storm of them. Now it hears `busy` too, at once, and the resends go through in order."""
    creds = [next(candidate_pool) for _ in range(20)]
    env = {"TKD_MAX_QUEUED_CHANGES": "1", "TKD_BUSY_RETRY_AFTER_S": "1"}
    server = start_server(settings, tmp_path, extra_env=env)
    try:
        tokens = logged_in(server.url, creds)

        async def all_phones() -> list[tuple[bool, list[dict]]]:  # type: ignore[type-arg]
            together = asyncio.Barrier(len(tokens))
            return await asyncio.gather(
                *(_changes_through_a_full_queue(server.ws_url, t, together) for t in tokens)
            )

        outcomes = asyncio.run(all_phones())
    finally:
        server.stop()
    behind_busy = [second for busy, (second,) in outcomes if busy]
    assert behind_busy, "the burst should have filled the queue"
    assert {m.get("code") for m in behind_busy} == {"busy"}, behind_busy  # not out_of_order
    assert "Traceback" not in server.log_path.read_text()
