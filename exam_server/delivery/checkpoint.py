"""Each attempt's live checkpoint in Redis: one hash per attempt, changed atomically.

Layout (all keys under ``tkd:``):

* ``attempt:{id}`` hash: ``submitted``, ``starts_ms``, ``deadline_ms``, ``paused_at_ms``,
  ``last_seq``, ``durable_seq``, ``n`` (questions), ``conn``/``device`` (the one connection
  allowed to write), ``a:{q}`` (choice as JSON), ``d:{q}`` (ragu-ragu), ``t:{q}`` (ms of the
  last change). One ``HGETALL`` resumes an attempt.
* ``changes`` stream: every applied change, for the write-behind to copy to PostgreSQL.
* ``deadlines`` sorted set: running attempts by deadline, for the sweeper.
* ``events`` pub/sub channel: durable, replaced, closed, graded and clock news for
  whichever worker holds the candidate's connection.

A change is decided by :func:`exam_server.delivery.seq.judge` inside WATCH/MULTI, so two workers
racing on one attempt cannot both apply a seq: the loser retries and sees a duplicate.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import WatchError

from exam_server.delivery.protocol import Answer, Change, Doubt, Submit, choice_to_json
from exam_server.delivery.seq import Clock, Verdict, judge

CHANGES = "tkd:changes"
DEADLINES = "tkd:deadlines"
EVENTS = "tkd:events"


def attempt_key(attempt_id: int) -> str:
    return f"tkd:attempt:{attempt_id}"


@dataclass(slots=True)
class Snapshot:
    attempt_id: int
    clock: Clock
    n: int
    last_seq: int = 0
    durable_seq: int = 0
    conn: str = ""
    answers: dict[int, Any] = field(default_factory=dict)
    doubts: set[int] = field(default_factory=set)
    changed_ms: dict[int, int] = field(default_factory=dict)


def snapshot_from_hash(attempt_id: int, h: Mapping[str, str]) -> Snapshot:
    snap = Snapshot(
        attempt_id=attempt_id,
        clock=Clock(
            submitted=h.get("submitted") == "1",
            starts_ms=int(h.get("starts_ms", 0)),
            deadline_ms=int(h.get("deadline_ms", 0)),
            paused_at_ms=int(h.get("paused_at_ms", 0)),
        ),
        n=int(h.get("n", 0)),
        last_seq=int(h.get("last_seq", 0)),
        durable_seq=int(h.get("durable_seq", 0)),
        conn=h.get("conn", ""),
    )
    for name, value in h.items():
        prefix, _, q = name.partition(":")
        if not q:
            continue
        if prefix == "a":
            snap.answers[int(q)] = json.loads(value)
        elif prefix == "d":
            snap.doubts.add(int(q))
        elif prefix == "t":
            snap.changed_ms[int(q)] = int(value)
    return snap


@dataclass(frozen=True, slots=True)
class LoggedChange:
    """One row of the durable answer log, as replayed to rebuild a checkpoint."""

    seq: int
    kind: str
    q: int | None
    value: Any
    saved_ms: int


def hash_from_log(
    clock: Clock, n: int, durable_seq: int, log: Iterable[LoggedChange]
) -> dict[str, str]:
    """The checkpoint hash that replaying the answer log produces (pure)."""
    h: dict[str, str] = {
        "submitted": "1" if clock.submitted else "0",
        "starts_ms": str(clock.starts_ms),
        "deadline_ms": str(clock.deadline_ms),
        "paused_at_ms": str(clock.paused_at_ms),
        "n": str(n),
        "last_seq": "0",
        "durable_seq": str(durable_seq),
    }
    for row in sorted(log, key=lambda r: r.seq):
        h["last_seq"] = str(max(int(h["last_seq"]), row.seq))
        if row.kind == "answer" and row.q is not None:
            if row.value is None:
                h.pop(f"a:{row.q}", None)
            else:
                h[f"a:{row.q}"] = json.dumps(row.value)
            h[f"t:{row.q}"] = str(row.saved_ms)
        elif row.kind == "doubt" and row.q is not None:
            if row.value:
                h[f"d:{row.q}"] = "1"
            else:
                h.pop(f"d:{row.q}", None)
        elif row.kind == "submit":
            h["submitted"] = "1"
    return h


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

    async def claim(self, attempt_id: int, conn: str, device: str) -> None:
        """Make ``conn`` the only connection allowed to write; tell the old one it lost."""
        await self.redis.hset(attempt_key(attempt_id), mapping={"conn": conn, "device": device})
        await self.publish({"t": "replaced", "a": attempt_id, "c": conn})

    async def publish(self, event: Mapping[str, Any]) -> None:
        await self.redis.publish(EVENTS, json.dumps(event))

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
                    if conn and fields[5] != conn:
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

    @staticmethod
    def _queue_close(pipe: Any, attempt_id: int, now_ms: int, reason: str) -> None:
        pipe.hset(attempt_key(attempt_id), "submitted", "1")
        pipe.zrem(DEADLINES, str(attempt_id))
        pipe.xadd(CHANGES, _event(attempt_id, "close", 0, None, reason, now_ms, "server"))
        pipe.publish(EVENTS, json.dumps({"t": "closed", "a": attempt_id}))

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
    ) -> list[int]:
        """Pause, resume or extend attempts; returns the ids whose clock changed."""
        changed: list[int] = []
        for attempt_id in attempt_ids:
            key = attempt_key(attempt_id)
            async with self.redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    fields = await pipe.hmget(
                        key, ["submitted", "starts_ms", "deadline_ms", "paused_at_ms"]
                    )
                    if fields[1] is None or fields[0] == "1":
                        await pipe.unwatch()
                        continue
                    old = Clock(False, int(fields[1]), int(fields[2]), int(fields[3] or 0))
                    new = {"pause": old.paused(now_ms), "resume": old.resumed(now_ms)}.get(
                        action
                    ) or old.extended(extra_ms)
                    if new == old:
                        await pipe.unwatch()
                        continue
                    pipe.multi()
                    pipe.hset(
                        key,
                        mapping={"deadline_ms": new.deadline_ms, "paused_at_ms": new.paused_at_ms},
                    )
                    if new.paused_at_ms:
                        pipe.zrem(DEADLINES, str(attempt_id))
                    else:
                        pipe.zadd(DEADLINES, {str(attempt_id): new.deadline_ms})
                    clock = {"deadline_ms": new.deadline_ms, "paused_at_ms": new.paused_at_ms}
                    # The action rides along for the attempt's story (docs/results.md).
                    story = {**clock, "action": action, "extra_ms": extra_ms}
                    pipe.xadd(
                        CHANGES, _event(attempt_id, "clock", 0, None, story, now_ms, "server")
                    )
                    pipe.publish(EVENTS, json.dumps({"t": "clock", "a": attempt_id, **clock}))
                    await pipe.execute()
                    changed.append(attempt_id)
                except WatchError:
                    continue
        return changed
