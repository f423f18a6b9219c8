"""One Redis subscription per worker for every room view it serves.

Each open room view (server-sent events) waits on a queue here instead of holding a Redis
connection of its own, so forty proctors on one worker cost one connection, not forty
taken from the pool the candidates' answers need.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

PATTERN = "tkd:room:*"


class RoomFeed:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.queues: dict[int, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self.task: asyncio.Task[None] | None = None

    def join(self, session_id: int) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        self.queues[session_id].add(queue)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self.run(), name="room-feed")
        return queue

    def leave(self, session_id: int, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self.queues[session_id].discard(queue)
        if not self.queues[session_id]:
            del self.queues[session_id]
        if not self.queues and self.task is not None:
            self.task.cancel()
            self.task = None

    def deliver(self, channel: str, data: str) -> None:
        try:
            session_id = int(channel.rsplit(":", 1)[1])
            event = json.loads(data)
        except (ValueError, IndexError):
            return
        for queue in list(self.queues.get(session_id, ())):
            with contextlib.suppress(asyncio.QueueFull):  # a slow page refreshes anyway
                queue.put_nowait(event)

    async def run(self) -> None:
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(PATTERN)
                async for message in pubsub.listen():
                    if message.get("type") == "pmessage":
                        self.deliver(str(message["channel"]), str(message["data"]))
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("room feed lost (%s); resubscribing", exc)
                await asyncio.sleep(0.5)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()


def feed_of(state: Any, redis: Redis) -> RoomFeed:
    """The worker's feed, made on first use (kept on the app's state)."""
    feed = getattr(state, "room_feed", None)
    if feed is None:
        feed = RoomFeed(redis)
        state.room_feed = feed
    return feed
