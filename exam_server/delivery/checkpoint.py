"""Each attempt's live checkpoint in Redis: one hash per attempt, changed atomically.

Layout (all keys under ``tkd:``):

* ``attempt:{id}`` hash: ``submitted``, ``starts_ms``, ``deadline_ms``, ``paused_at_ms``,
  ``last_seq``, ``durable_seq``, ``n`` (questions), ``clock_v`` (raised by every clock
  change), ``conn``/``device``/``w`` (the one connection allowed to write, and its worker),
  ``claim_n`` (how many claims so far: a ``replaced`` event names its claim), ``a:{q}`` (choice as JSON), ``d:{q}`` (ragu-ragu), ``t:{q}`` (ms of the
  last change). One ``HGETALL`` resumes an attempt.
* ``changes`` stream: every applied change, for the write-behind to copy to PostgreSQL.
* ``deadlines`` sorted set: running attempts by deadline, for the sweeper.
* ``events`` pub/sub channel: durable, replaced, closed, graded and clock news for
  whichever worker holds the candidate's connection.

A change is decided by the seq rule of :func:`exam_server.delivery.seq.judge`, run inside
Redis as one script (``checkpoint_scripts.APPLY``), so two workers racing on one attempt
cannot both apply a seq: the second sees a duplicate. Claims, clock changes and rebuilds
are Lua scripts too: one step each.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import WatchError

from exam_server.delivery import checkpoint_scripts as lua
from exam_server.delivery.protocol import Answer, Change, Doubt, Submit, choice_to_json
from exam_server.delivery.script_batch import ScriptBatch
from exam_server.delivery.seq import Clock, Verdict
from exam_server.delivery.snapshot import (  # re-exported: the checkpoint's own data
    LoggedChange,
    Snapshot,
    behind_postgres,
    hash_from_log,
    snapshot_from_hash,
)

__all__ = [
    "LoggedChange",
    "Snapshot",
    "behind_postgres",
    "hash_from_log",
    "snapshot_from_hash",
]

CHANGES = "tkd:changes"
# Where prepared papers live (exam_server.delivery.prepared, which imports this module).
PREP_PREFIX = "tkd:prep:"
DEADLINES = "tkd:deadlines"
EVENTS = "tkd:events"


def events_channel(redis: Redis) -> str:
    """The news channel of this Redis database: pub/sub ignores database numbers, so two
    deployments (or test runs) on one Redis would otherwise get each other's news about
    attempts with the same ids."""
    db = redis.connection_pool.connection_kwargs.get("db", 0)
    return f"{EVENTS}:{db}"


def attempt_key(attempt_id: int) -> str:
    return f"tkd:attempt:{attempt_id}"


def committed_key(attempt_id: int) -> str:
    """What PostgreSQL holds of the attempt, as the write-behind last committed it."""
    return f"tkd:committed:{attempt_id}"


@dataclass(frozen=True, slots=True)
class Claim:
    generation: int  # 0: the attempt is not in Redis, nothing was claimed
    previous_worker: str = ""
    previous_conn: str = ""
    # Compared with PostgreSQL since this Redis server started and not behind its last
    # commit: served without asking PostgreSQL (docs/protocol.md, "Redis lost or behind").
    trusted: bool = False


RESEED_CREATED, RESEED_ANSWERS, RESEED_CLOCK, RESEED_SUBMITTED = 1, 2, 4, 8


@dataclass(frozen=True, slots=True)
class Outcome:
    verdict: Verdict | None  # None: the attempt is not in Redis (load it) or was replaced
    last_seq: int = 0
    missing: bool = False
    replaced: bool = False
    clock: Clock | None = None


def _change_fields(change: Change) -> tuple[str, str, str, str]:
    """kind, question, the change stream's value (JSON) and the hash's value ('' deletes)."""
    if isinstance(change, Answer):
        value = choice_to_json(change.choice)
        text = json.dumps(value)
        return "answer", str(change.q), text, "" if value is None else text
    if isinstance(change, Doubt):
        return "doubt", str(change.q), json.dumps(change.on), "1" if change.on else ""
    assert isinstance(change, Submit)
    return "submit", "", json.dumps("candidate"), ""


def _event(
    attempt_id: int, kind: str, seq: int, q: int | None, value: Any, now_ms: int, device: str
) -> dict[str, str]:
    return {
        "a": str(attempt_id),
        "k": kind,
        "s": str(seq),
        "q": "" if q is None else str(q),
        "v": json.dumps(value),
        "t": str(now_ms),
        "d": device,
    }


class CheckpointStore:
    def __init__(self, redis: Redis, max_queued: int = 2_000) -> None:
        self.redis = redis
        self._committed = redis.register_script(lua.COMMITTED)
        self._verified = redis.register_script(lua.VERIFIED)
        self.events = events_channel(redis)
        # The two calls every socket makes, queued and sent in pipelines: past
        # ``max_queued`` waiting, ``Busy`` at once (exam_server/delivery/script_batch.py).
        self._open = ScriptBatch(redis, lua.OPEN, max_pending=max_queued)
        self._apply = ScriptBatch(redis, lua.APPLY, max_pending=max_queued)
        self._clocks = redis.register_script(lua.CLOCKS)
        self._change_clock = redis.register_script(lua.CHANGE_CLOCK)
        self._reseed = redis.register_script(lua.RESEED)

    async def load(self, attempt_id: int) -> Snapshot | None:
        h = await self.redis.hgetall(attempt_key(attempt_id))
        return snapshot_from_hash(attempt_id, h) if h else None

    async def seed(self, attempt_id: int, mapping: Mapping[str, str]) -> bool:
        """Write a rebuilt checkpoint unless one appeared meanwhile; True if written."""
        key = attempt_key(attempt_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            try:
                await pipe.watch(key)
                if await pipe.exists(key):
                    return False
                pipe.multi()
                pipe.hset(key, mapping=dict(mapping))
                if mapping.get("submitted") != "1" and mapping.get("paused_at_ms", "0") == "0":
                    pipe.zadd(DEADLINES, {str(attempt_id): int(mapping["deadline_ms"])})
                await pipe.execute()
                return True
            except WatchError:
                return False

    async def open(
        self, attempt_id: int, conn: str, device: str, worker: str, now_ms: int
    ) -> tuple[Claim, Snapshot | None]:
        """A hello's Redis work in one script (``checkpoint_scripts.OPEN``): the checkpoint,
        made now from the prepared paper if there is none yet, claimed for ``conn``.

        ``Claim.generation`` 0: neither a checkpoint nor a prepared paper (PostgreSQL
        rebuilds it: ``Services.resync``).
        """
        reply = await self._open(
            keys=[
                attempt_key(attempt_id),
                committed_key(attempt_id),
                f"{PREP_PREFIX}paper:{attempt_id}",
                DEADLINES,
                CHANGES,
            ],
            args=[conn, device, worker, attempt_id, self.events, now_ms, PREP_PREFIX],
        )
        g, prev_w, prev_c, trusted, *flat = reply
        claim = Claim(int(g), str(prev_w or ""), str(prev_c or ""), int(trusted) == 1)
        h = dict(zip(flat[::2], flat[1::2], strict=True))
        return claim, snapshot_from_hash(attempt_id, h) if h else None

    async def verified(
        self, attempt_id: int, durable_seq: int, clock_v: int, submitted: bool
    ) -> None:
        """The checkpoint was compared with PostgreSQL and is current: trust it from now on."""
        await self._verified(
            keys=[attempt_key(attempt_id), committed_key(attempt_id)],
            args=[durable_seq, clock_v, "1" if submitted else "0"],
        )

    async def reseed(
        self,
        attempt_id: int,
        mapping: Mapping[str, str],
        conn: str = "",
        device: str = "",
        worker: str = "",
    ) -> int:
        """Bring the checkpoint up to PostgreSQL's copy where it is older (see RESEED_*)."""
        args: list[Any] = [attempt_id, conn, device, worker]
        for name, value in mapping.items():
            args += [name, value]
        keys = [attempt_key(attempt_id), DEADLINES, committed_key(attempt_id)]
        return int(await self._reseed(keys=keys, args=args))

    async def publish(self, event: Mapping[str, Any]) -> None:
        await self.redis.publish(self.events, json.dumps(event))

    async def apply(
        self, attempt_id: int, conn: str, change: Change, now_ms: int, device: str = ""
    ) -> Outcome:
        """Decide and apply one change in one script (``checkpoint_scripts.APPLY``).

        ``now_ms`` is when the change was received: one that arrived before the deadline
        counts even if its turn comes after it (docs/protocol.md, "Time").
        """
        kind, q, logged, stored = _change_fields(change)
        verdict, last, submitted, starts, deadline, paused = await self._apply(
            keys=[attempt_key(attempt_id), DEADLINES, CHANGES],
            args=[
                conn,
                device[:100],
                change.seq,
                kind,
                q,
                logged,
                stored,
                now_ms,
                attempt_id,
                self.events,
            ],
        )
        if verdict == "missing":
            return Outcome(None, missing=True)
        if verdict == "replaced":
            return Outcome(None, replaced=True)
        clock = Clock(int(submitted) == 1, int(starts), int(deadline), int(paused or 0))
        return Outcome(Verdict(verdict), int(last), clock=clock)

    def _queue_close(self, pipe: Any, attempt_id: int, now_ms: int, reason: str) -> None:
        pipe.hset(attempt_key(attempt_id), "submitted", "1")
        pipe.zrem(DEADLINES, str(attempt_id))
        pipe.xadd(CHANGES, _event(attempt_id, "close", 0, None, reason, now_ms, "server"))
        pipe.publish(self.events, json.dumps({"t": "closed", "a": attempt_id}))

    async def close_if_expired(self, attempt_id: int, now_ms: int, grace_ms: int = 0) -> bool:
        """Submit an attempt whose time was up ``grace_ms`` ago, even if its candidate
        never comes back."""
        key = attempt_key(attempt_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            try:
                await pipe.watch(key)
                fields = await pipe.hmget(
                    key, ["submitted", "starts_ms", "deadline_ms", "paused_at_ms"]
                )
                if fields[1] is None:
                    pipe.multi()
                    pipe.zrem(DEADLINES, str(attempt_id))  # gone from Redis: the PG sweep owns it
                    await pipe.execute()
                    return False
                clock = Clock(fields[0] == "1", int(fields[1]), int(fields[2]), int(fields[3] or 0))
                if not clock.expired(now_ms - grace_ms):
                    await pipe.unwatch()
                    return False
                pipe.multi()
                self._queue_close(pipe, attempt_id, now_ms, "deadline")
                await pipe.execute()
                return True
            except WatchError:
                return False

    async def expired_attempts(self, now_ms: int, limit: int = 500) -> list[int]:
        ids = await self.redis.zrangebyscore(DEADLINES, "-inf", now_ms, start=0, num=limit)
        return [int(i) for i in ids]

    async def committed(
        self,
        durable: Mapping[int, int],
        clocks: Mapping[int, int] | None = None,
        submitted: Sequence[int] = (),
    ) -> None:
        """After a commit: durable seqs into the checkpoints, and PostgreSQL's position
        (durable seq, clock version, submitted) into each attempt's committed hash."""
        clocks = clocks or {}
        done = set(submitted)
        args: list[Any] = []
        for attempt_id in dict.fromkeys([*durable, *clocks, *done]):
            args += [
                attempt_id,
                durable.get(attempt_id, 0),
                clocks.get(attempt_id, 0),
                "1" if attempt_id in done else "0",
            ]
        for i in range(0, len(args), 2000):  # keep each script short for everyone else
            await self._committed(args=args[i : i + 2000])

    async def change_clock(
        self, attempt_ids: Sequence[int], now_ms: int, action: str, extra_ms: int = 0
    ) -> dict[int, str]:
        """Pause, resume or extend attempts in one script: each id -> what happened to it.

        ``changed``, ``unchanged`` (already paused/running), ``submitted`` or ``missing``
        (not in Redis: the caller rebuilds it and asks again). Nothing written meanwhile can
        make an attempt be skipped.
        """
        if action not in ("pause", "resume", "extend"):
            raise ValueError(f"unknown clock action {action!r}")
        ids = list(dict.fromkeys(attempt_ids))
        out: dict[int, str] = {}
        for i in range(0, len(ids), 500):  # keep each script short for everyone else
            part = ids[i : i + 500]
            words = await self._change_clock(
                keys=[DEADLINES, CHANGES, *(attempt_key(a) for a in part)],
                args=[action, now_ms, extra_ms, self.events, *part],
            )
            out.update(zip(part, (str(w) for w in words), strict=True))
        return out

    async def clocks(self, attempt_ids: Sequence[int]) -> dict[int, tuple[Clock, int, int] | None]:
        """Each attempt's clock, last_seq and clock_v as Redis holds them now (None: missing)."""
        out: dict[int, tuple[Clock, int, int] | None] = {}
        ids = list(attempt_ids)
        for i in range(0, len(ids), 500):  # keep each script short for everyone else
            part = ids[i : i + 500]
            flat = await self._clocks(args=part)
            for n, attempt_id in enumerate(part):
                f = flat[6 * n : 6 * n + 6]
                if f[1] is None:
                    out[attempt_id] = None
                    continue
                clock = Clock(f[0] == "1", int(f[1]), int(f[2]), int(f[3] or 0))
                out[attempt_id] = (clock, int(f[4] or 0), int(f[5] or 0))
        return out
