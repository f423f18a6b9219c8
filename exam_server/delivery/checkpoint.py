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

A change is decided by :func:`exam_server.delivery.seq.judge` inside WATCH/MULTI, so two workers
racing on one attempt cannot both apply a seq: the loser retries and sees a duplicate.
Claims, clock changes and rebuilds are Lua scripts (``checkpoint_scripts``): one step each.
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
from exam_server.delivery.seq import Clock, Verdict, judge
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


@dataclass(frozen=True, slots=True)
class Claim:
    generation: int  # 0: the attempt is not in Redis, nothing was claimed
    previous_worker: str = ""
    previous_conn: str = ""


RESEED_CREATED, RESEED_ANSWERS, RESEED_CLOCK, RESEED_SUBMITTED = 1, 2, 4, 8


@dataclass(frozen=True, slots=True)
class Outcome:
    verdict: Verdict | None  # None: the attempt is not in Redis (load it) or was replaced
    last_seq: int = 0
    missing: bool = False
    replaced: bool = False
    clock: Clock | None = None


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
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._set_durable = redis.register_script(
            # Only touch a checkpoint that exists: after a Redis loss, a stray HSET would
            # create a half hash that looks like an attempt with no answers.
            """
            for i, key in ipairs(KEYS) do
              if redis.call('EXISTS', key) == 1 then
                local cur = tonumber(redis.call('HGET', key, 'durable_seq') or '0')
                local new = tonumber(ARGV[i])
                if new > cur then redis.call('HSET', key, 'durable_seq', ARGV[i]) end
              end
            end
            return 1
            """
        )
        self.events = events_channel(redis)
        self._claim = redis.register_script(lua.CLAIM)
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

    async def claim(self, attempt_id: int, conn: str, device: str, worker: str = "") -> Claim:
        """Make ``conn`` the only connection allowed to write; tell the old one it lost.

        Only an existing checkpoint is claimed: a claim after a Redis loss must not create a
        hash holding nothing but ``conn`` (it would look like an attempt with no clock).
        """
        g, prev_w, prev_c = await self._claim(
            keys=[attempt_key(attempt_id)], args=[conn, device, worker, attempt_id, self.events]
        )
        return Claim(int(g), str(prev_w or ""), str(prev_c or ""))

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
        return int(await self._reseed(keys=[attempt_key(attempt_id), DEADLINES], args=args))

    async def publish(self, event: Mapping[str, Any]) -> None:
        await self.redis.publish(self.events, json.dumps(event))

    async def apply(
        self, attempt_id: int, conn: str, change: Change, now_ms: int, device: str = ""
    ) -> Outcome:
        key = attempt_key(attempt_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(key)
                    fields = await pipe.hmget(
                        key,
                        [
                            "submitted",
                            "starts_ms",
                            "deadline_ms",
                            "paused_at_ms",
                            "last_seq",
                            "conn",
                        ],
                    )
                    if fields[1] is None:
                        return Outcome(None, missing=True)
                    # No holder at all (a rebuild by a proctor's action): the writer takes it.
                    # Another holder: this connection was replaced.
                    if conn and fields[5] is not None and fields[5] != conn:
                        return Outcome(None, replaced=True)
                    clock = Clock(
                        fields[0] == "1", int(fields[1]), int(fields[2]), int(fields[3] or 0)
                    )
                    last_seq = int(fields[4] or 0)
                    verdict = judge(clock, last_seq, change.seq, now_ms)
                    if verdict is Verdict.TIME_OVER and not clock.submitted:
                        pipe.multi()
                        self._queue_close(pipe, attempt_id, now_ms, "deadline")
                        await pipe.execute()
                        return Outcome(verdict, last_seq, clock=clock)
                    if verdict is not Verdict.APPLY:
                        await pipe.unwatch()
                        return Outcome(verdict, last_seq, clock=clock)
                    pipe.multi()
                    if conn and fields[5] is None:
                        pipe.hset(key, mapping={"conn": conn, "device": device})
                    self._queue_change(pipe, attempt_id, change, now_ms, device)
                    await pipe.execute()
                    return Outcome(verdict, change.seq, clock=clock)
                except WatchError:
                    continue  # someone else changed this attempt: decide again

    @staticmethod
    def _queue_change(pipe: Any, attempt_id: int, change: Change, now_ms: int, device: str) -> None:
        key = attempt_key(attempt_id)
        pipe.hset(key, "last_seq", change.seq)
        if isinstance(change, Answer):
            value = choice_to_json(change.choice)
            if value is None:
                pipe.hdel(key, f"a:{change.q}")
            else:
                pipe.hset(key, f"a:{change.q}", json.dumps(value))
            pipe.hset(key, f"t:{change.q}", now_ms)
            pipe.xadd(
                CHANGES, _event(attempt_id, "answer", change.seq, change.q, value, now_ms, device)
            )
        elif isinstance(change, Doubt):
            if change.on:
                pipe.hset(key, f"d:{change.q}", "1")
            else:
                pipe.hdel(key, f"d:{change.q}")
            pipe.xadd(
                CHANGES,
                _event(attempt_id, "doubt", change.seq, change.q, change.on, now_ms, device),
            )
        elif isinstance(change, Submit):
            pipe.hset(key, "submitted", "1")
            pipe.zrem(DEADLINES, str(attempt_id))
            pipe.xadd(
                CHANGES, _event(attempt_id, "submit", change.seq, None, "candidate", now_ms, device)
            )

    def _queue_close(self, pipe: Any, attempt_id: int, now_ms: int, reason: str) -> None:
        pipe.hset(attempt_key(attempt_id), "submitted", "1")
        pipe.zrem(DEADLINES, str(attempt_id))
        pipe.xadd(CHANGES, _event(attempt_id, "close", 0, None, reason, now_ms, "server"))
        pipe.publish(self.events, json.dumps({"t": "closed", "a": attempt_id}))

    async def close_if_expired(self, attempt_id: int, now_ms: int) -> bool:
        """Submit an attempt whose time is up, even if its candidate never comes back."""
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
                if not clock.expired(now_ms):
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

    async def set_durable(self, durable: Mapping[int, int]) -> None:
        if durable:
            ids = list(durable)
            await self._set_durable(
                keys=[attempt_key(a) for a in ids], args=[durable[a] for a in ids]
            )

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
        fields = ["submitted", "starts_ms", "deadline_ms", "paused_at_ms", "last_seq", "clock_v"]
        async with self.redis.pipeline(transaction=False) as pipe:
            for attempt_id in attempt_ids:
                pipe.hmget(attempt_key(attempt_id), fields)
            rows = await pipe.execute()
        out: dict[int, tuple[Clock, int, int] | None] = {}
        for attempt_id, f in zip(attempt_ids, rows, strict=True):
            if f[1] is None:
                out[attempt_id] = None
                continue
            clock = Clock(f[0] == "1", int(f[1]), int(f[2]), int(f[3] or 0))
            out[attempt_id] = (clock, int(f[4] or 0), int(f[5] or 0))
        return out
