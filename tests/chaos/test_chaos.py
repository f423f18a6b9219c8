"""Chaos: candidates over real WebSockets, two workers, real Redis and PostgreSQL, faults.

Every fault of issue 12 is injected while phones write; afterwards, from PostgreSQL alone:
every change any phone saw acknowledged is in the answer log and in the graded result, no
attempt ends with less time than it was owed, none is left wedged. Run it with
``scripts/chaos``; it prints one line per fault (docs/operations.md, "What each failure
costs").
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import random
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis
from chaos.phones import Phone, write_until
from chaos.proxy import Nginx
from sqlalchemy import text

from exam_server.delivery.checkpoint import attempt_key
from exam_server.delivery.outages import give_back, outstanding
from exam_server.delivery.services import open_services
from exam_server.proctor.interventions import change_clocks

pytestmark = [pytest.mark.chaos, pytest.mark.slow]

PG_DOWN_S = float(os.environ.get("TKD_CHAOS_PG_DOWN_S", "20"))


@dataclass
class Phase:
    name: str
    phones: list[Phone] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)  # participant -> attempt
    start_deadline: dict[int, dt.datetime] = field(default_factory=dict)
    owed_ms: dict[int, int] = field(default_factory=dict)
    note: str = ""


@dataclass
class Row:
    fault: str
    acked: int
    lost: int
    wedged: int
    owed_min: float
    given_min: float
    note: str


def sql(world: Any, query: str, **params: Any) -> list[Any]:
    with world.engine.connect() as conn:
        return list(conn.execute(text(query), params))


def services_call(world: Any, fn: Callable[[Any], Any]) -> Any:
    async def run() -> Any:
        async with open_services(world.settings) as services:
            return await fn(services)

    return asyncio.run(run())


def begin(world: Any, name: str, creds: list[Any], urls: list[str] | None = None) -> Phase:
    phase = Phase(name)
    for i, cred in enumerate(creds):
        phone = Phone(urls or world.urls, cred, device=f"{name[:12]}-{i}")
        assert phone.login().status_code == 200
        phone.reconnect()
        phase.phones.append(phone)
    for phone in phase.phones:
        row = sql(
            world,
            "SELECT a.id, a.deadline_at FROM attempts a JOIN candidates c "
            "ON c.id = a.candidate_id WHERE c.participant_no = :p",
            p=phone.participant_no,
        )[0]
        phase.attempts[phone.participant_no] = row.id
        phase.start_deadline[row.id] = row.deadline_at
        phase.owed_ms[row.id] = 0
    return phase


def owe(phase: Phase, ms: int) -> None:
    for attempt in phase.attempts.values():
        phase.owed_ms[attempt] += ms


def finish(world: Any, phase: Phase, extra_phones: list[Phone] = ()) -> Row:  # type: ignore[assignment]
    phones = [*phase.phones, *extra_phones]
    for phone in phones:
        phone.settle()
    ids = list(phase.attempts.values())
    owed_outage = services_call(world, lambda s: outstanding(s, ids))
    given_back = services_call(world, lambda s: give_back(s, ids, "chaos"))
    for attempt, minutes in given_back.items():
        phase.owed_ms[attempt] += owed_outage.get(attempt, 0)
        assert minutes * 60_000 >= owed_outage.get(attempt, 0)
    for phone in phones:
        if not phone.replaced:
            phone.submit()
    for phone in phones:
        phone.close_quietly()
    lost = acked = wedged = 0
    by_attempt: dict[int, dict[int, dict[str, Any]]] = {}
    for phone in phones:
        by_attempt.setdefault(phase.attempts[phone.participant_no], {}).update(
            phone.acked_changes()
        )
    end = time.monotonic() + 40
    for attempt, changes in by_attempt.items():
        acked += len(changes)
        while time.monotonic() < end and not sql(
            world, "SELECT 1 FROM results WHERE attempt_id = :a", a=attempt
        ):
            time.sleep(0.3)
        log = {
            r.seq: (r.kind, r.q, r.value)
            for r in sql(
                world, "SELECT seq, kind, q, value FROM answer_log WHERE attempt_id = :a", a=attempt
            )
        }
        lost += sum(1 for s, m in changes.items() if log.get(s) != ("answer", m["q"], m["choice"]))
        final: dict[int, Any] = {}
        for seq in sorted(changes):
            final[changes[seq]["q"]] = changes[seq]["choice"]
        graded = {
            r.q: r.choice
            for r in sql(
                world, "SELECT q, choice FROM result_items WHERE attempt_id = :a", a=attempt
            )
        }
        lost += sum(1 for q, c in final.items() if graded.get(q) != c)
        status = sql(world, "SELECT status FROM attempts WHERE id = :a", a=attempt)[0].status
        if status != "submitted" or not graded:
            wedged += 1
    owed = given = 0.0
    short = []
    for attempt in ids:
        deadline = sql(world, "SELECT deadline_at FROM attempts WHERE id = :a", a=attempt)[0]
        got = (deadline.deadline_at - phase.start_deadline[attempt]).total_seconds() * 1000
        owed += phase.owed_ms[attempt] / 60_000
        given += got / 60_000
        if got < phase.owed_ms[attempt] - 1000:
            short.append(attempt)
    assert not short, f"{phase.name}: attempts {short} got less time than owed"
    return Row(phase.name, acked, lost, wedged, owed, given, phase.note)


def during_writes(
    phase: Phase, fault: Callable[[], None], before_s: float = 2, after_s: float = 3
) -> None:
    stop = threading.Event()
    threads = write_until(phase.phones, stop, seed=hash(phase.name) % 1000)
    time.sleep(before_s)
    fault()
    time.sleep(after_s)
    stop.set()
    for t in threads:
        t.join(120)


def test_saved_means_saved_under_every_fault(world) -> None:  # type: ignore[no-untyped-def]
    creds = iter(world.credentials)
    raw = redis.Redis.from_url(str(world.settings.redis_url))
    rows: list[Row] = []

    def take(n: int) -> list[Any]:
        return [next(creds) for _ in range(n)]

    # 1. A worker is SIGKILLed mid-exam; its phones continue on the other one.
    phase = begin(world, "worker SIGKILL", take(3))
    during_writes(phase, lambda: world.kill_worker(world.workers[0]))
    world.start_worker()
    rows.append(finish(world, phase))

    # 2. Redis forgets everything (FLUSHDB of this run's own database number).
    phase = begin(world, "Redis FLUSHDB", take(3))

    def flush() -> None:
        raw.set("tkd:wb:lock", "held-by-chaos", px=1500)  # some acks are in Redis only
        time.sleep(1.2)
        owner = raw.get("tkd:test:owner")
        raw.flushdb()
        if owner:
            raw.set("tkd:test:owner", owner, ex=3 * 3600)

    during_writes(phase, flush)
    rows.append(finish(world, phase))

    # 3. Redis comes back from an older snapshot of the attempts (DUMP ... RESTORE).
    phase = begin(world, "Redis older snapshot", take(3))
    state: dict[int, bytes] = {}

    def older() -> None:
        for attempt in phase.attempts.values():
            state[attempt] = raw.dump(attempt_key(attempt))  # type: ignore[assignment]
        time.sleep(2.5)  # more answers, now durable in PostgreSQL
        for attempt, data in state.items():
            raw.restore(attempt_key(attempt), 0, data, replace=True)

    during_writes(phase, older)
    rows.append(finish(world, phase))

    # 4. The workers' pub/sub connections are killed; an extension is published meanwhile.
    phase = begin(world, "pub/sub killed", take(3))

    def kill_pubsub() -> None:
        ours = [
            c for c in raw.client_list(_type="pubsub") if int(c.get("db", -1)) == world.redis_db
        ]
        for c in ours:
            raw.client_kill_filter(_id=c["id"])
        ids = list(phase.attempts.values())
        services_call(world, lambda s: change_clocks(s, ids, "extend", 3 * 60_000))
        owe(phase, 3 * 60_000)

    at_start = {p.device: p.state["remaining_ms"] for p in phase.phones}
    during_writes(phase, kill_pubsub, after_s=5)
    for phone in phase.phones:  # the phones learn the new time anyway, from Redis
        times = [m for m in phone.received if m.get("type") == "time"]
        assert times and times[-1]["remaining_ms"] > at_start[phone.device] + 2 * 60_000
    rows.append(finish(world, phase))

    # 5. One phone stops reading; nobody else waits for it.
    phase = begin(world, "client stops reading", take(3))
    stuck = Phone(world.urls, next(creds), "stuck")
    assert stuck.login().status_code == 200
    stuck.reconnect()

    def stop_reading() -> None:
        with contextlib.suppress(Exception):  # the server closes it once its queue is full
            for _ in range(20000):
                stuck.send({"type": "get", "q": 0})

    before = sum(len(p.acked) for p in phase.phones)
    during_writes(phase, stop_reading, after_s=4)
    assert sum(len(p.acked) for p in phase.phones) > before + 10
    stuck.close_quietly()
    rows.append(finish(world, phase))

    # 6. Two hellos at once for one attempt: exactly one device holds it.
    phase = begin(world, "two hellos at once", take(2))
    first = phase.phones[0]
    twin = Phone(world.urls, first, "twin")
    twin.token = first.token
    stop = threading.Event()
    threads = write_until(phase.phones[1:], stop, seed=6)
    rng = random.Random(6)
    for _ in range(10):
        first.step(rng)
    first.close_quietly()
    hellos = [threading.Thread(target=p.reconnect, args=(20,)) for p in (first, twin)]
    for t in hellos:
        t.start()
    for t in hellos:
        t.join(30)
    time.sleep(1.5)
    for p in (first, twin):
        with contextlib.suppress(Exception):
            while True:
                p.recv(0.2)
    holders = [p for p in (first, twin) if not p.replaced]
    assert len(holders) == 1, f"{len(holders)} devices hold the attempt"
    for _ in range(10):
        holders[0].step(rng)
    stop.set()
    for t in threads:
        t.join(60)
    phase.note = f"holder: {holders[0].device}"
    rows.append(finish(world, phase, [twin]))

    # 7. PostgreSQL stopped (a server of the suite's own); acks go on, hello says busy.
    phase = begin(world, f"PostgreSQL down {PG_DOWN_S:.0f} s", take(3))

    def pg_down() -> None:
        world.stop_postgres()
        time.sleep(PG_DOWN_S)
        world.start_postgres()

    during_writes(phase, pg_down, after_s=5)
    rows.append(finish(world, phase))

    # 8. The proctor pauses, resumes and extends while everybody writes.
    phase = begin(world, "proctor pause/extend", take(4))

    def proctor() -> None:
        ids = list(phase.attempts.values())
        services_call(world, lambda s: change_clocks(s, ids, "pause"))
        paused_at = time.time()
        time.sleep(2)
        resumed_at = time.time()
        result = services_call(world, lambda s: change_clocks(s, ids, "resume"))
        assert set(result.values()) == {"changed"}, result
        owe(phase, int((resumed_at - paused_at) * 1000) - 200)
        result = services_call(world, lambda s: change_clocks(s, ids, "extend", 2 * 60_000))
        assert set(result.values()) == {"changed"}, result
        owe(phase, 2 * 60_000)

    during_writes(phase, proctor)
    rows.append(finish(world, phase))

    # 9. Two instances behind nginx; one is killed mid-exam (only where nginx is installed).
    if shutil.which("nginx"):
        proxy = Nginx(list(world.urls))
        try:
            phase = begin(world, "1 of 2 behind nginx killed", take(3), urls=[proxy.url])
            during_writes(phase, lambda: world.kill_worker(world.workers[-1]), after_s=4)
            world.start_worker()
            rows.append(finish(world, phase))
        finally:
            proxy.stop()

    print_table(rows)
    assert all(r.lost == 0 for r in rows), rows
    assert all(r.wedged == 0 for r in rows), rows


def print_table(rows: list[Row]) -> None:
    head = f"{'fault':<26} {'acked':>6} {'lost':>5} {'wedged':>6} {'min owed':>9} {'min given':>9}  note"
    print("\n" + head + "\n" + "-" * len(head))
    for r in rows:
        print(
            f"{r.fault:<26} {r.acked:>6} {r.lost:>5} {r.wedged:>6} "
            f"{r.owed_min:>9.1f} {r.given_min:>9.1f}  {r.note}"
        )
