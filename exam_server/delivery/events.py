"""News for the candidates connected to this worker, from whichever worker caused it.

Any worker may flush an answer to PostgreSQL, pause a session or see a candidate take
the attempt over from another phone; the candidate's socket may be on another worker or
machine. Workers therefore publish to one Redis channel and each worker forwards what
concerns its own connections: many workers, one truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from exam_server.delivery.checkpoint import EVENTS

log = logging.getLogger(__name__)


class Connection(Protocol):
    """What the hub needs of a candidate's socket (``exam_server.delivery.socket``)."""

    attempt_id: int

    async def on_event(self, event: dict[str, Any]) -> None: ...

    async def send_time(self) -> None: ...


class EventHub:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.local: dict[int, list[Connection]] = defaultdict(list)

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
            try:
                pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
                await pubsub.subscribe(EVENTS)
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        await self.dispatch(json.loads(message["data"]))
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("event channel lost (%s); resubscribing", exc)
                await asyncio.sleep(0.5)
            except Exception:  # a bad event must not stop every candidate's news
                log.exception("event dispatch failed")
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def dispatch(self, event: dict[str, Any]) -> None:
        conns = list(self.local.get(int(event.get("a", 0)), ()))
        for conn in conns:
            try:
                await conn.on_event(event)
            except Exception:
                log.exception("event for attempt %s failed", conn.attempt_id)

    async def broadcast_time(self, every_s: float) -> None:
        """Send each connected candidate the server's time at least every ``every_s``."""
        while True:
            await asyncio.sleep(every_s)
            for conn in self.connections():
                with contextlib.suppress(Exception):
                    await conn.send_time()
