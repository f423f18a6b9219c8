"""News for the candidates connected to this worker, from whichever worker caused it.

Any worker may flush an answer to PostgreSQL, pause a session or see a candidate take
the attempt over from another phone; the candidate's socket may be on another worker or
machine. Workers therefore publish to one Redis channel and each worker forwards what
concerns its own connections: many workers, one truth.

Forwarding only queues a message on the connection (each has its own writer), so one
phone that stops reading never delays another's news. Pub/sub can lose messages (a
dropped subscription); :mod:`exam_server.delivery.watch` corrects what it loses.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import defaultdict
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from exam_server.delivery.checkpoint import events_channel
from exam_server.delivery.loop_lag import pause

log = logging.getLogger(__name__)

WORKERS = "tkd:workers"  # worker id -> last heartbeat (ms), to tell a gone worker


class Connection(Protocol):
    """What the hub and the watch need of a candidate's socket (``delivery.socket``)."""

    attempt_id: int
    conn_id: str
    device: str
    durable_seen: int
    clock: Any
    clock_v: int

    @property
    def state(self) -> str: ...  # ``ConnState`` of delivery.socket, a StrEnum

    @property
    def opening(self) -> bool: ...  # its hello has not sent ``state`` yet

    async def on_event(self, event: dict[str, Any]) -> None: ...

    async def send_time(self) -> None: ...


class EventHub:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.local: dict[int, list[Connection]] = defaultdict(list)
        self.subscribed = False
        self.last_event_ms = 0
        self.resubscribes = 0

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
            await pause(0.5)

    async def dispatch(self, event: dict[str, Any]) -> None:
        if "d" in event:  # a batch of durable seqs: attempt id -> seq
            for attempt, seq in event["d"].items():
                if int(attempt) in self.local:
                    await self.dispatch({"t": event["t"], "a": int(attempt), "s": seq})
            return
        conns = list(self.local.get(int(event.get("a", 0)), ()))
        for conn in conns:
            try:
                await conn.on_event(event)  # queues only: never waits on a socket
            except Exception:
                log.exception("event for attempt %s failed", conn.attempt_id)
