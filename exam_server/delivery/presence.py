"""Who is connected, on which device, and how often they left the page: news for the room.

Every worker writes what it sees of its own candidates' sockets into one small hash per
attempt and announces it on the room's channel, so a proctor's view served by any worker
sees every candidate (docs/proctor.md, "Live room"):

* ``tkd:live:{attempt}`` hash: ``conn`` (the connection now allowed to write, "" once it
  closed), ``device``, ``seen_ms`` (last sign of life; each worker refreshes it every
  ``HEARTBEAT_S`` for its open sockets, so a worker killed outright goes stale on its own),
  ``since_ms`` (when the socket closed), ``devices`` (how many device changes),
  ``takeovers`` (a second device while the first was still connected), ``hidden`` (times
  the page was hidden), ``hidden_now``.
* ``tkd:room:{session}`` pub/sub channel: ``{"a": attempt, "k": kind}`` with kind
  ``hello``, ``bye``, ``focus``; the room view re-reads those rows at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from exam_server.delivery.loop_lag import pause

if TYPE_CHECKING:
    from exam_server.delivery.services import Services

log = logging.getLogger(__name__)

HEARTBEAT_S = 2.0
# A socket not confirmed for this long counts as disconnected (its worker may be dead).
STALE_MS = 6_000
LIVE_TTL_S = 24 * 3600


def live_key(attempt_id: int) -> str:
    return f"tkd:live:{attempt_id}"


def room_channel(session_id: int) -> str:
    return f"tkd:room:{session_id}"


def now_ms() -> int:
    return int(time.time() * 1000)


# A device change counts as a takeover when the old socket was still alive: two phones on
# one account at once, not one phone replaced by another after it died.
_HELLO = """
local key = KEYS[1]
local old_conn = redis.call('HGET', key, 'conn') or ''
local old_device = redis.call('HGET', key, 'device') or ''
local seen = tonumber(redis.call('HGET', key, 'seen_ms') or '0')
local now = tonumber(ARGV[3])
if old_device ~= '' and old_device ~= ARGV[2] then
  redis.call('HINCRBY', key, 'devices', 1)
  if old_conn ~= '' and now - seen <= tonumber(ARGV[4]) then
    redis.call('HINCRBY', key, 'takeovers', 1)
  end
end
redis.call('HSET', key, 'conn', ARGV[1], 'device', ARGV[2], 'seen_ms', ARGV[3], 'hidden_now', '0')
redis.call('EXPIRE', key, ARGV[5])
return 1
"""

_BEAT = """
for i = 2, #ARGV do redis.call('HSET', 'tkd:live:' .. ARGV[i], 'seen_ms', ARGV[1]) end
return 1
"""

_BYE = """
if redis.call('HGET', KEYS[1], 'conn') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'conn', '', 'since_ms', ARGV[2], 'seen_ms', ARGV[2])
  return 1
end
return 0
"""


async def _announce(redis: Redis, session_id: int, attempt_id: int, kind: str) -> None:
    await redis.publish(room_channel(session_id), json.dumps({"a": attempt_id, "k": kind}))


async def hello(
    redis: Redis, session_id: int, attempt_id: int, conn_id: str, device: str, at_ms: int
) -> None:
    async with redis.pipeline(transaction=False) as pipe:
        queue_hello(pipe, session_id, attempt_id, conn_id, device, at_ms)
        await pipe.execute()


def queue_hello(
    pipe: Pipeline, session_id: int, attempt_id: int, conn_id: str, device: str, at_ms: int
) -> None:
    """A hello's news for the room, queued on the caller's pipeline (one round trip)."""
    pipe.eval(_HELLO, 1, live_key(attempt_id), conn_id, device, at_ms, STALE_MS, LIVE_TTL_S)
    pipe.publish(room_channel(session_id), json.dumps({"a": attempt_id, "k": "hello"}))


async def bye(redis: Redis, session_id: int, attempt_id: int, conn_id: str, at_ms: int) -> None:
    """The socket closed; a newer socket of the same attempt is left as it is."""
    if await redis.eval(_BYE, 1, live_key(attempt_id), conn_id, at_ms):
        await _announce(redis, session_id, attempt_id, "bye")


async def focus(redis: Redis, session_id: int, attempt_id: int, hidden: bool, at_ms: int) -> None:
    key = live_key(attempt_id)
    async with redis.pipeline(transaction=True) as pipe:
        if hidden:
            pipe.hincrby(key, "hidden", 1)
            pipe.hset(key, mapping={"hidden_now": "1", "hidden_ms": at_ms})
        else:
            pipe.hset(key, "hidden_now", "0")
        pipe.hset(key, "seen_ms", at_ms)
        await pipe.execute()
    await _announce(redis, session_id, attempt_id, "focus")


async def beat(redis: Redis, attempt_ids: Iterable[int], at_ms: int) -> None:
    """Confirm, in one round trip, every socket this worker holds open."""
    ids = list(attempt_ids)
    if not ids:
        return
    for i in range(0, len(ids), 500):  # one short script per few hundred sockets
        await redis.eval(_BEAT, 0, at_ms, *ids[i : i + 500])


async def heartbeat_loop(services: Services) -> None:
    """Each worker's background task: keep its open sockets fresh in the room view."""
    while True:
        await pause(HEARTBEAT_S)
        try:
            ids = [c.attempt_id for c in services.hub.connections() if c.state == "active"]
            await beat(services.redis, ids, now_ms())
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a Redis hiccup must not end the task
            log.warning("presence heartbeat failed: %s", exc)


async def safely(coro: object) -> None:
    """Presence is news for the proctor, never a reason to fail a candidate's socket."""
    with contextlib.suppress(Exception):
        await coro  # type: ignore[misc]
