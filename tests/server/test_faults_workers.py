"""Slow sockets, racing hellos, racing proctors and an unreachable PostgreSQL.

Each test reproduces one of the loss windows of issue 12 (docs/operations.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import socket
import threading
import time

import httpx
import pytest
from server.fault_support import attempt_id_of, wait_until
from tests_support import ExamClient, free_port

from exam_server.app import create_app
from exam_server.delivery.checkpoint import attempt_key
from exam_server.delivery.protocol import Answer
from exam_server.delivery.services import open_services
from exam_server.proctor.interventions import send_notice

pytestmark = pytest.mark.slow


def login(server, cred, device: str = "phone") -> ExamClient:  # type: ignore[no-untyped-def]
    client = ExamClient(server.url, cred.participant_no, cred.password, device=device)
    assert client.login().status_code == 200
    return client


def test_a_phone_that_stops_reading_does_not_hold_up_anybody_else(  # type: ignore[no-untyped-def]
    live_server, candidate_pool, db_engine, settings
) -> None:
    from websockets.sync.client import connect

    stuck_cred, other_cred = next(candidate_pool), next(candidate_pool)
    stuck, other = login(live_server, stuck_cred), login(live_server, other_cred)
    other.connect()
    stuck_attempt = attempt_id_of(db_engine, stuck_cred.participant_no)
    with db_engine.connect() as conn:
        session = conn.exec_driver_sql(
            f"SELECT session_id FROM attempts WHERE id = {stuck_attempt}"
        ).scalar()

    async def notice() -> None:
        async with open_services(settings) as services:
            await send_notice(services, session, "Perhatian")

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", int(live_server.url.rsplit(":", 1)[1])))
    from websockets.exceptions import ConnectionClosed

    with (
        contextlib.suppress(ConnectionClosed),
        connect(live_server.ws_url, sock=sock, max_queue=1, compression=None) as ws,
    ):
        ws.send(json.dumps({"type": "hello", "token": stuck.token, "device": "stuck"}))
        for _ in range(25000):  # replies it never reads fill every buffer on the way
            ws.send(json.dumps({"type": "get", "q": 0}))
        time.sleep(3)
        asyncio.run(notice())  # news for the stuck phone's attempt goes first
        started = time.monotonic()
        other.answer(0)
        other.wait_for("durable", timeout=4, seq=other.seq)  # not after a ping timeout
        assert time.monotonic() - started < 4
        sock.close()  # the stuck phone gives up; its socket goes


def test_a_session_wide_pause_reaches_every_attempt_while_they_write(  # type: ignore[no-untyped-def]
    settings, redis_client
) -> None:
    async def run() -> dict[int, str]:
        async with open_services(settings) as services:
            ids = list(range(900_001, 900_041))
            for a in ids:
                await services.redis.hset(
                    attempt_key(a),
                    mapping={
                        "submitted": "0",
                        "starts_ms": "0",
                        "deadline_ms": "9" * 13,
                        "paused_at_ms": "0",
                        "last_seq": "0",
                        "conn": "c",
                    },
                )
            stop = asyncio.Event()

            async def writer(a: int) -> None:
                seq = 0
                while not stop.is_set():
                    seq += 1
                    await services.store.apply(a, "c", Answer(seq, 0, "A"), 1_000)

            writers = [asyncio.create_task(writer(a)) for a in ids]
            await asyncio.sleep(0.2)
            result = await services.store.change_clock(ids, 2_000, "pause")
            stop.set()
            await asyncio.gather(*writers)
            paused = {a: await services.redis.hget(attempt_key(a), "paused_at_ms") for a in ids}
            await services.redis.delete(*(attempt_key(a) for a in ids))
            assert paused == dict.fromkeys(ids, "2000")
            return result

    result = asyncio.run(run())
    assert set(result.values()) == {"changed"}


def test_two_hellos_at_once_leave_exactly_one_device_holding_the_attempt(  # type: ignore[no-untyped-def]
    server_factory, candidate
) -> None:
    first, second = server_factory(), server_factory()
    for trial in range(5):
        a = login(first, candidate, device=f"a{trial}")
        b = login(second, candidate, device=f"b{trial}")

        def hello(c: ExamClient) -> None:
            with contextlib.suppress(Exception):  # the loser may be refused before `state`
                c.connect(resend=False)

        threads = [threading.Thread(target=hello, args=(c,)) for c in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(15)
        time.sleep(1.5)
        for c in (a, b):
            with contextlib.suppress(Exception):
                while True:
                    c.recv(0.3)
        told = [c for c in (a, b) if any(m.get("code") == "replaced" for m in c.received)]
        assert len(told) == 1, f"trial {trial}: {len(told)} devices were told replaced"
        holder = b if told == [a] else a
        holder.seq = max(holder.seq, holder.state["last_seq"])
        holder.answer(trial, pick=trial)  # acknowledged: it really holds the attempt
        a.close()
        b.close()


def test_hello_while_postgresql_is_unreachable_says_retry_instead_of_silence(  # type: ignore[no-untyped-def]
    live_server, candidate, settings
) -> None:
    import uvicorn
    from websockets.sync.client import connect

    client = login(live_server, candidate)  # logged in while PostgreSQL was there
    dead = dataclasses.replace(settings, database_url="postgresql://postgres@127.0.0.1:9/none")
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(dead, background=False), port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, what="the worker without PostgreSQL")
        with connect(f"ws://127.0.0.1:{port}/ws/v1/exam", open_timeout=5) as ws:
            ws.send(json.dumps({"type": "hello", "token": client.token, "device": "p"}))
            reply = json.loads(ws.recv(timeout=10))
    finally:
        server.should_exit = True
        thread.join(10)
    assert reply["type"] == "error" and reply["code"] == "busy"
    assert reply["retry_after_ms"] > 0 and reply["message"]


def test_healthz_reports_lag_stream_and_subscription(live_server) -> None:  # type: ignore[no-untyped-def]
    body = wait_until(
        lambda: (
            (b := httpx.get(live_server.url + "/healthz", timeout=5).json())["pubsub"]["subscribed"]
            and b
        ),
        what="a subscribed worker",
    )
    assert body["writebehind_lag_ms"] >= 0 and body["stream_length"] >= 0
    assert body["alarms"] == []


async def test_heartbeats_of_workers_gone_for_a_day_are_forgotten(settings) -> None:  # type: ignore[no-untyped-def]
    import time
    from types import SimpleNamespace

    from exam_server.delivery.events import WORKERS
    from exam_server.delivery.services import redis_client
    from exam_server.delivery.watch import forget_gone_workers

    redis = redis_client(str(settings.redis_url))
    try:
        now = int(time.time() * 1000)
        await redis.hset(WORKERS, mapping={"gone:1": now - 2 * 86_400_000, "alive:2": now})
        gone = await forget_gone_workers(SimpleNamespace(redis=redis))  # type: ignore[arg-type]
        assert "gone:1" in gone and "alive:2" not in gone
        left = await redis.hkeys(WORKERS)
        assert "alive:2" in left and "gone:1" not in left
    finally:
        await redis.hdel(WORKERS, "gone:1", "alive:2")
        await redis.aclose()
