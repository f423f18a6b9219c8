"""The room across real worker processes: actions reach a candidate on another worker
within a second, the clock stops and resumes with nothing lost, a dead worker shows its
candidates disconnected, many drops raise the alarm, page leaving is counted."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

import httpx
import pytest
import redis
from proctor.conftest import make_room
from sqlalchemy import select
from sqlalchemy.orm import Session
from staff.support import CSRF_META, LOGIN_CSRF, PASSWORD, make_staff
from tests_support import ExamClient

from exam_server.db.models import Attempt, Candidate
from exam_server.db.staff_models import AuditEntry

pytestmark = pytest.mark.slow


async def log_in_live(url: str, username: str) -> tuple[httpx.AsyncClient, str]:
    http = httpx.AsyncClient(base_url=url, timeout=10)
    page = await http.get("/panitia/masuk")
    token = LOGIN_CSRF.search(page.text)
    assert token
    resp = await http.post(
        "/panitia/masuk", data={"username": username, "password": PASSWORD, "csrf": token.group(1)}
    )
    assert resp.status_code == 303, resp.text
    found = CSRF_META.search((await http.get("/panitia/")).text)
    assert found
    return http, found.group(1)


def ids_of(db_engine, creds) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with Session(db_engine) as db:
        rows = db.execute(
            select(Candidate.participant_no, Candidate.id).where(
                Candidate.participant_no.in_([c.participant_no for c in creds])
            )
        ).all()
    return dict(rows)  # type: ignore[arg-type]


async def act(http: httpx.AsyncClient, csrf: str, session_id: int, **form: Any) -> httpx.Response:
    body = {"csrf": csrf, "confirm": "1", **{k: str(v) for k, v in form.items()}}
    return await http.post(
        f"/panitia/pengawas/{session_id}/aksi", data=body, headers={"Accept": "application/json"}
    )


async def rows_of(http: httpx.AsyncClient, session_id: int) -> dict[str, dict[str, Any]]:
    data = (await http.get(f"/panitia/pengawas/{session_id}/data")).json()
    return {r["no"]: r for r in data["rows"]} | {"_alarm": data["alarm"]}


async def connected(creds, url: str) -> list[ExamClient]:  # type: ignore[no-untyped-def]
    clients = []
    for cred in creds:
        client = ExamClient(
            url, cred.participant_no, cred.password, device=f"hp-{cred.participant_no}"
        )
        assert (await asyncio.to_thread(client.login)).status_code == 200
        await asyncio.to_thread(client.connect)
        clients.append(client)
    return clients


async def test_an_action_on_one_worker_reaches_a_candidate_on_another_within_a_second(
    server_factory, services, db_engine, fresh, redis_client
) -> None:  # type: ignore[no-untyped-def]
    worker_a, worker_b = server_factory(), server_factory()
    room = make_room(db_engine, fresh(2))
    ids = ids_of(db_engine, room.creds)
    http, csrf = await log_in_live(worker_a.url, await make_staff(services, "admin"))
    first, second = await connected(room.creds, worker_b.url)
    try:
        started = time.monotonic()
        resp = await act(
            http,
            csrf,
            room.session_id,
            action="notice",
            ids=ids[first.participant_no],
            message="Tenang, waktu dihentikan.",
        )
        assert resp.status_code == 200, resp.text
        got = await asyncio.to_thread(first.wait_for, "notice", 1.0)
        assert got["message"] == "Tenang, waktu dihentikan." and time.monotonic() - started < 1.0

        # Pause one candidate: their server clock stops, the other's runs on.
        key = "tkd:attempt:{}"
        a1 = await asyncio.to_thread(first.question, 0)  # a round trip, so the socket is warm
        assert a1
        started = time.monotonic()
        resp = await act(
            http,
            csrf,
            room.session_id,
            action="pause",
            ids=ids[first.participant_no],
            reason="HP peserta bermasalah",
        )
        paused = await asyncio.to_thread(first.wait_for, "time", 1.0, status="paused")
        assert time.monotonic() - started < 1.0
        with Session(db_engine) as db:
            attempt_ids = {
                no: db.scalar(select(Attempt.id).where(Attempt.candidate_id == cid))
                for no, cid in ids.items()
            }
        h1 = redis_client.hgetall(key.format(attempt_ids[first.participant_no]))
        h2 = redis_client.hgetall(key.format(attempt_ids[second.participant_no]))
        assert int(h1["paused_at_ms"]) > 0 and int(h2["paused_at_ms"]) == 0
        deadline_before = int(h1["deadline_ms"])
        await asyncio.sleep(1.5)
        resp = await act(
            http,
            csrf,
            room.session_id,
            action="resume",
            ids=ids[first.participant_no],
            reason="HP sudah diganti",
        )
        resumed = await asyncio.to_thread(first.wait_for, "time", 1.0, status="running")
        h1 = redis_client.hgetall(key.format(attempt_ids[first.participant_no]))
        assert int(h1["paused_at_ms"]) == 0
        # The deadline moved by the pause, so the time left is what it was when paused.
        assert int(h1["deadline_ms"]) - deadline_before >= 1500
        assert abs(paused["remaining_ms"] - resumed["remaining_ms"]) < 300
        for _ in range(50):  # the write-behind carries it to PostgreSQL
            with Session(db_engine) as db:
                row = db.get(Attempt, attempt_ids[first.participant_no])
                if (
                    row
                    and row.paused_at is None
                    and int(row.deadline_at.timestamp() * 1000) == int(h1["deadline_ms"])
                ):
                    break
            await asyncio.sleep(0.1)
        else:
            pytest.fail("PostgreSQL never got the resumed deadline")

        # Five more minutes for one candidate, on the candidate's screen within a second.
        resp = await act(
            http,
            csrf,
            room.session_id,
            action="extend",
            minutes=5,
            ids=ids[second.participant_no],
            reason="Terlambat karena listrik",
        )
        assert resp.status_code == 200
        extended = await asyncio.to_thread(second.wait_for, "time", 1.0)
        assert extended["remaining_ms"] > 5 * 60_000

        # Move the first candidate to a second phone without an admin.
        resp = await act(
            http,
            csrf,
            room.session_id,
            action="device",
            ids=ids[first.participant_no],
            reason="HP mati",
        )
        assert (await asyncio.to_thread(first.wait_for, "error", 1.0))["code"] == "replaced"
        phone2 = ExamClient(worker_a.url, first.participant_no, first.password, device="hp-kedua")
        assert (await asyncio.to_thread(phone2.login)).status_code == 200
        await asyncio.to_thread(phone2.connect)

        # Force-submit the second candidate.
        resp = await act(
            http,
            csrf,
            room.session_id,
            action="submit",
            ids=ids[second.participant_no],
            reason="Menyontek",
        )
        assert await asyncio.to_thread(second.wait_for, "time", 1.0, status="submitted")
        phone2.close()

        with Session(db_engine) as db:
            logged = db.execute(
                select(AuditEntry.action, AuditEntry.reason)
                .where(AuditEntry.entity == "session", AuditEntry.entity_id == str(room.session_id))
                .order_by(AuditEntry.id)
            ).all()
        assert [a for a, _ in logged] == [
            "proctor.notice",
            "proctor.pause",
            "proctor.resume",
            "proctor.extend",
            "proctor.device",
            "proctor.submit",
        ]
        assert all(reason for _, reason in logged)
    finally:
        for client in (first, second):
            client.close()
        await http.aclose()


async def read_events(http: httpx.AsyncClient, path: str, out: list[dict[str, Any]]) -> None:
    async with http.stream("GET", path, timeout=None) as resp:
        assert resp.status_code == 200
        async for line in resp.aiter_lines():
            if line.startswith("data: "):
                out.append(json.loads(line[6:]))


async def test_a_dead_worker_shows_its_candidates_disconnected_raises_the_alarm_and_back(
    server_factory, services, db_engine, fresh
) -> None:  # type: ignore[no-untyped-def]
    worker_a, worker_b = server_factory(), server_factory()
    room = make_room(db_engine, fresh(5))
    http, _csrf = await log_in_live(worker_a.url, await make_staff(services, "admin"))
    clients = await connected(room.creds, worker_b.url)
    events: list[dict[str, Any]] = []
    reader = asyncio.create_task(
        read_events(http, f"/panitia/pengawas/{room.session_id}/live", events)
    )
    try:
        for _ in range(100):  # everyone working (a busy test machine may lag a heartbeat)
            if events and events[-1]["counts"]["running"] == 5:
                break
            await asyncio.sleep(0.1)
        assert events and events[0]["full"], events
        assert events[-1]["counts"]["running"] == 5, events[-1]

        # The page is hidden (the candidate left the test): counted, on the room view at once.
        started = time.monotonic()
        clients[0].send({"type": "focus", "state": "hidden"})
        while time.monotonic() - started < 1.0:
            if any(
                r["no"] == clients[0].participant_no and r["hidden"] == 1
                for e in events
                for r in e["rows"]
            ):
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail(f"the page leave did not reach the room view within 1 s: {events[-1:]}")

        worker_b.kill()
        for _ in range(120):
            rows = await rows_of(http, room.session_id)
            if rows["_alarm"]:
                break
            await asyncio.sleep(0.1)
        else:
            pytest.fail(f"no alarm after the worker died: {rows}")
        assert rows["_alarm"]["count"] == 5
        assert all(rows[c.participant_no]["st"] == "disconnected" for c in clients)
        for _ in range(40):  # the live feed raises it too, at its next refresh
            if any(e["alarm"] for e in events):
                break
            await asyncio.sleep(0.1)
        else:
            pytest.fail("the live feed did not raise the alarm")

        back = clients[1]
        await asyncio.to_thread(back.connect, worker_a.url)
        rows = await rows_of(http, room.session_id)
        assert rows[back.participant_no]["st"] == "running"
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reader
        for client in clients:
            client.close()
        await http.aclose()


def test_focus_messages_are_part_of_the_protocol() -> None:
    from exam_server.delivery.protocol import BadMessage, Focus, parse

    assert parse('{"type":"focus","state":"hidden"}', 1000) == Focus(True)
    assert parse('{"type":"focus","state":"visible"}', 1000) == Focus(False)
    assert isinstance(parse('{"type":"focus","state":"away"}', 1000), BadMessage)


_ = redis  # the redis_client fixture is a redis.Redis


async def test_the_live_feed_ends_when_the_proctor_logs_out(
    server_factory, services, db_engine, fresh
) -> None:  # type: ignore[no-untyped-def]
    worker = server_factory()
    room = make_room(db_engine, fresh(1))  # absent: the roster is re-read often
    http, csrf = await log_in_live(worker.url, await make_staff(services, "admin"))
    events: list[dict[str, Any]] = []
    reader = asyncio.create_task(
        read_events(http, f"/panitia/pengawas/{room.session_id}/live", events)
    )
    try:
        for _ in range(50):
            if events:
                break
            await asyncio.sleep(0.1)
        assert events
        other = httpx.AsyncClient(base_url=worker.url, cookies=http.cookies, timeout=10)
        assert (await other.post("/panitia/keluar", data={"csrf": csrf})).status_code == 303
        await other.aclose()
        await asyncio.wait_for(reader, 15)  # the server closed the stream
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reader
        await http.aclose()
