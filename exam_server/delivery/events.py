"""News for the candidates connected to this worker, from whichever worker caused it.

Any worker may flush an answer to PostgreSQL, pause a session or see a candidate take
the attempt over from another phone; the candidate's socket may be on another worker or
machine. Workers therefore publish to one Redis channel and each worker forwards what
concerns its own connections: many workers, one truth.

Forwarding only queues a message on the connection (each has its own writer), so one
phone that stops reading never delays another's news. Pub/sub can lose messages (a
dropped subscription), so every few seconds each worker also reads its candidates' clocks
and positions from Redis itself: a lost ``clock`` event is corrected, and a checkpoint
that Redis lost or holds older than the phone knows is rebuilt (docs/protocol.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from exam_server.delivery.checkpoint import events_channel

if TYPE_CHECKING:
    from exam_server.delivery.socket import Connection
    from exam_server.services import Services

log = logging.getLogger(__name__)

WORKERS = "tkd:workers"  # worker id -> last heartbeat (ms), to tell a gone worker


class EventHub:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.local: dict[int, list[Connection]] = defaultdict(list)
        self.services: Services | None = None  # set once the services exist
        self.subscribed = False
        self.last_event_ms = 0
        self.resubscribes = 0
        self._beats = 0

    def register(self, conn: Connection) -> None:
        self.local[conn.attempt_id].append(conn)

    def unregister(self, conn: Connection) -> None:
        conns = self.local.get(conn.attempt_id)
        if conns and conn in conns:
            conns.remove(conn)
            if not conns:
                del self.local[conn.attempt_id]

    def connections(self) -> list[Connection]:
        return [c for conns in self.local.values() for c in conns]

    async def run(self) -> None:
        """Listen forever, reconnecting to Redis after a failure."""
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(events_channel(self.redis))
                self.subscribed = True
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self.last_event_ms = int(time.time() * 1000)
                        await self.dispatch(json.loads(message["data"]))
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("event channel lost (%s); resubscribing", exc)
            except Exception:  # a bad event must not stop every candidate's news
                log.exception("event dispatch failed")
            finally:
                self.subscribed = False
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            self.resubscribes += 1
            # News published meanwhile is lost: the next check reads it from Redis.
            await asyncio.sleep(0.5)

    async def dispatch(self, event: dict[str, Any]) -> None:
        conns = list(self.local.get(int(event.get("a", 0)), ()))
        for conn in conns:
            try:
                await conn.on_event(event)  # queues only: never waits on a socket
            except Exception:
                log.exception("event for attempt %s failed", conn.attempt_id)

    async def watch(self, every_s: float, time_every_s: float) -> None:
        """Compare each connected attempt with Redis; send ``time`` every ``time_every_s``."""
        last_time = time.monotonic()
        while True:
            await asyncio.sleep(every_s)
            send_time = time.monotonic() - last_time >= time_every_s
            if send_time:
                last_time = time.monotonic()
            try:
                await self.check_once(send_time)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("checkpoint check failed (%s)", exc)

    async def check_once(self, send_time: bool = True) -> list[int]:
        """One pass: heartbeat, clocks from Redis, rebuild what is lost or older.

        Returns the attempts that needed a rebuild.
        """
        services = self.services
        now = int(time.time() * 1000)
        if services is not None:
            await self.redis.hset(WORKERS, services.worker_id, now)
            self._beats += 1
            if self._beats % 500 == 1:  # forget workers gone for a day
                beats = await self.redis.hgetall(WORKERS)
                old = [w for w, ms in beats.items() if now - int(ms) > 86_400_000]
                if old:
                    await self.redis.hdel(WORKERS, *old)
        conns = self.connections()
        ids = sorted({c.attempt_id for c in conns})
        if not ids or services is None:
            return []
        clocks = await services.store.clocks(ids)
        stale: list[int] = []
        for conn in conns:
            found = clocks.get(conn.attempt_id)
            if found is None or found[1] < conn.durable_seen or found[2] < conn.clock_v:
                stale.append(conn.attempt_id)
                continue
            conn.clock, conn.clock_v = found[0], found[2]
            if send_time:
                with contextlib.suppress(Exception):
                    await conn.send_time()
        for attempt_id in dict.fromkeys(stale):
            holder = next((c for c in conns if c.attempt_id == attempt_id), None)
            log.error("ALARM: attempt %s lost or older in Redis; rebuilding", attempt_id)
            snap = None if clocks.get(attempt_id) is None else await services.store.load(attempt_id)
            try:
                await services.resync(
                    attempt_id,
                    snap,
                    conn=holder.conn_id if holder else "",
                    device=holder.device if holder else "",
                )
            except Exception as exc:
                log.warning("rebuilding attempt %s failed (%s); next pass", attempt_id, exc)
        return stale

    async def note_takeover(self, attempt_id: int, previous_worker: str) -> None:
        """A candidate arrived from another worker; if that worker is gone, the gap counts."""
        services = self.services
        if services is None or not previous_worker or previous_worker == services.worker_id:
            return
        beat = await self.redis.hget(WORKERS, previous_worker)
        now = int(time.time() * 1000)
        grace_ms = int(3 * services.settings.checkpoint_check_s * 1000)
        if beat is None or now - int(beat) <= grace_ms:
            return  # alive: the phone moved (or lost signal), not the server's failure
        from exam_server.delivery.outages import record_outage

        with contextlib.suppress(Exception):
            await record_outage(services, [attempt_id], "worker", int(beat), now)
