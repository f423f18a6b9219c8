"""Write-behind: copy checkpointed changes from Redis to PostgreSQL, then say ``durable``.

One worker at a time leads (a Redis lock with a short lease), reading the change stream
from a cursor in batches. Rows are inserted with ON CONFLICT DO NOTHING on (attempt, seq),
so a leader that dies mid-batch is harmless: the next one redoes the batch from the same
cursor. A skipped row must hold what the stream says, or ``durable`` would cover a change
PostgreSQL does not have: a difference is an ALARM and a rebuild, never a ``durable``.
Each lease carries a fencing token checked inside the transaction, and a clock is written
only over an older clock version, so a leader that lost its lease mid-pass can neither
write nor move a deadline backwards (docs/operations.md). The leader also closes attempts whose deadline has passed, from Redis's deadline
set and, for attempts Redis has lost, from PostgreSQL itself.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import SQLAlchemyError

from exam_server.db.models import (
    AnswerLog,
    Attempt,
    Candidate,
    ExamSession,
    Result,
    WritebehindFence,
)
from exam_server.delivery.attempt_events import store_events
from exam_server.delivery.backpressure import pool_exhausted
from exam_server.delivery.checkpoint import CHANGES, attempt_key
from exam_server.delivery.loop_lag import pause
from exam_server.delivery.outages import record_outage, running_attempts
from exam_server.delivery.services import Services
from exam_server.grading.grade import grade_attempt, grade_attempts

log = logging.getLogger(__name__)

LOCK = "tkd:wb:lock"
CURSOR = "tkd:wb:cursor"
TOKEN = "tkd:wb:token"  # fencing tokens: each new lease takes the next one
TO_GRADE = "tkd:grade:pending"
LEASE_MS = 5000
PG_SWEEP_S = 15.0
GRADE_BATCH = 200

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


# How long after a deadline the sweep waits before it closes an attempt itself.
DEADLINE_GRACE_MS = 5_000


def _utc(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


@dataclass(frozen=True, slots=True)
class Batch:
    """A batch of stream entries sorted into what PostgreSQL must do (pure)."""

    log_rows: list[dict[str, Any]]
    durable: dict[int, int]  # attempt -> highest client seq in this batch
    closed: dict[int, tuple[dt.datetime, str]]  # attempt -> (when, reason)
    clocks: dict[int, dict[str, int]]  # attempt -> latest deadline/pause
    last_id: str
    # attempt -> its row, from a prepared session's first hello (docs/operations.md)
    starts: dict[int, dict[str, Any]] = field(default_factory=dict)


def sort_batch(entries: Sequence[tuple[str, dict[str, str]]]) -> Batch:
    log_rows: list[dict[str, Any]] = []
    durable: dict[int, int] = {}
    closed: dict[int, tuple[dt.datetime, str]] = {}
    clocks: dict[int, dict[str, int]] = {}
    starts: dict[int, dict[str, Any]] = {}
    for _entry_id, e in entries:
        attempt, kind, when = int(e["a"]), e["k"], int(e["t"])
        value = json.loads(e["v"])
        if kind in ("answer", "doubt", "submit"):
            seq = int(e["s"])
            log_rows.append(
                {
                    "attempt_id": attempt,
                    "seq": seq,
                    "kind": kind,
                    "q": int(e["q"]) if e["q"] else None,
                    "value": value,
                    "device": e.get("d", "")[:100],
                    "saved_at": _utc(when),
                }
            )
            durable[attempt] = max(durable.get(attempt, 0), seq)
            if kind == "submit":
                closed[attempt] = (_utc(when), "candidate")
        elif kind == "close":
            closed.setdefault(attempt, (_utc(when), str(value)))
        elif kind == "clock":
            clocks[attempt] = value
        elif kind == "start":
            starts[attempt] = {
                "id": attempt,
                "candidate_id": int(value["c"]),
                "session_id": int(value["s"]),
                "exam_id": int(value["e"]),
                "seed": value["seed"],
                "question_ids": value["qids"],
                "option_orders": value["opts"],
                "sections": value["secs"],
                "status": "running",
                "starts_at": _utc(value["starts_ms"]),
                "deadline_at": _utc(value["deadline_ms"]),
                "paused_ms": 0,
                "durable_seq": 0,
            }
    last_id = entries[-1][0] if entries else "0-0"
    return Batch(log_rows, durable, closed, clocks, last_id, starts)


# One statement for every attempt's durable seq in a batch: at 08:00 a batch holds
# thousands, and one UPDATE per attempt was the write-behind's bottleneck.
DURABLE_UPDATE = text(
    "UPDATE attempts SET durable_seq = v.seq "
    "FROM unnest(CAST(:ids AS integer[]), CAST(:seqs AS integer[])) AS v(id, seq) "
    "WHERE attempts.id = v.id AND attempts.durable_seq < v.seq"
)

CLOSE_UPDATE = text(
    "UPDATE attempts SET status = 'submitted', submitted_at = v.at, submit_reason = v.reason "
    "FROM unnest(CAST(:ids AS integer[]), CAST(:ats AS timestamptz[]), "
    "CAST(:reasons AS text[])) AS v(id, at, reason) "
    "WHERE attempts.id = v.id AND attempts.status <> 'submitted'"
)


# Never over a newer clock (a deadline does not go backwards); version 0: an entry from
# before clocks carried one.
CLOCK_UPDATE = text(
    "UPDATE attempts SET deadline_at = v.deadline, paused_at = v.paused, "
    "clock_version = greatest(attempts.clock_version, v.version) "
    "FROM unnest(CAST(:ids AS integer[]), CAST(:deadlines AS timestamptz[]), "
    "CAST(:paused AS timestamptz[]), CAST(:versions AS integer[])) "
    "AS v(id, deadline, paused, version) "
    "WHERE attempts.id = v.id AND (v.version = 0 OR attempts.clock_version < v.version)"
)


def next_batch_size(current: int, got: int, low: int, high: int) -> int:
    """Grow while full batches keep coming (a backlog), shrink back when it clears (pure)."""
    if got >= current:
        return min(high, current * 2)
    return max(low, current // 2) if got < current // 4 else current


class FencedOut(RuntimeError):
    """Another leader took the lease: this one must not write."""


def stream_lag_ms(first_pending_id: str | None, now_ms: int) -> int:
    """How long the oldest change not yet in PostgreSQL has waited (pure); 0 when none."""
    if not first_pending_id:
        return 0
    return max(0, now_ms - int(first_pending_id.split("-", 1)[0]))


def differing(expected: Sequence[dict[str, Any]], stored: dict[tuple[int, int], Any]) -> set[int]:
    """Attempts whose skipped rows differ from the row PostgreSQL already has (pure)."""
    bad: set[int] = set()
    for row in expected:
        have = stored.get((row["attempt_id"], row["seq"]))
        if have is None or (have[0], have[1], have[2]) != (row["kind"], row["q"], row["value"]):
            bad.add(row["attempt_id"])
    return bad


class WriteBehind:
    def __init__(self, services: Services) -> None:
        self.s = services
        self.me = services.worker_id
        self._renew = services.redis.register_script(_RENEW)
        self._last_pg_sweep = 0.0
        self.batch_size = services.settings.writebehind_batch
        self.token = 0
        self._down_since: dict[str, int] = {}

    async def run(self) -> None:
        settings = self.s.settings
        while True:
            busy = False
            try:
                if await self._lead():
                    size = self.batch_size
                    got = await self.flush_once()
                    busy = got >= size
                    self.batch_size = next_batch_size(
                        size, got, settings.writebehind_batch, settings.writebehind_max_batch
                    )
                    await self.sweep_deadlines()
                    if time.monotonic() - self._last_pg_sweep > PG_SWEEP_S:
                        self._last_pg_sweep = time.monotonic()
                        await self.sweep_postgres()
                    await self._outages_over()
                else:
                    self._down_since.clear()  # the leader records outages, once
            except asyncio.CancelledError:
                raise
            except FencedOut as exc:
                log.warning("write-behind lease lost: %s", exc)
                self.token = 0
            except (RedisError, SQLAlchemyError, OSError) as exc:
                cause = "redis" if isinstance(exc, RedisError) else "postgres"
                if not pool_exhausted(exc):  # busy is not down: no outage minutes for it
                    self._down_since.setdefault(cause, int(time.time() * 1000))
                log.warning("write-behind pass failed (%s), will retry: %s", cause, exc)
                await pause(1)
            except Exception:
                log.exception("write-behind pass failed, will retry")
                await pause(1)
            if not busy:
                await pause(settings.writebehind_interval_s)

    async def _lead(self) -> bool:
        redis = self.s.redis
        if await redis.set(LOCK, self.me, nx=True, px=LEASE_MS):
            self.token = 0
        elif not await self._renew(keys=[LOCK], args=[self.me, LEASE_MS]):
            self.token = 0
            return False
        if not self.token:
            self.token = await self._new_token()
        return True

    async def _new_token(self) -> int:
        """The next fencing token, above any PostgreSQL has seen (Redis may have lost its)."""
        token = int(await self.s.redis.incr(TOKEN))
        async with self.s.sessions() as db:
            seen = int(await db.scalar(select(WritebehindFence.token)) or 0)
        if token <= seen:
            token = int(await self.s.redis.incrby(TOKEN, seen - token + 1))
        return token

    async def _outages_over(self) -> None:
        """After Redis or PostgreSQL came back, record the gap for every running attempt."""
        if not self._down_since:
            return
        now = int(time.time() * 1000)
        ids = await running_attempts(self.s)
        for cause, since in list(self._down_since.items()):
            await record_outage(self.s, ids, cause, since, now)
            log.error("ALARM over: %s was unreachable for %.0f s", cause, (now - since) / 1000)
            del self._down_since[cause]

    async def flush_once(self) -> int:
        redis = self.s.redis
        cursor = await redis.get(CURSOR) or "0-0"
        entries = await redis.xrange(CHANGES, min=f"({cursor}", count=self.batch_size)
        if not entries:
            return 0
        now = int(time.time() * 1000)
        lag = stream_lag_ms(entries[0][0], now)
        if lag > self.s.settings.writebehind_alarm_s * 1000:
            log.error("ALARM: write-behind %.1f s behind", lag / 1000)
        batch = sort_batch(entries)
        conflicts: set[int] = set()
        if not self.token:  # called directly rather than by run(): take a token now
            self.token = await self._new_token()
        async with self.s.sessions() as db, db.begin():
            await self._fence(db)
            if batch.starts:
                await self._insert_starts(db, list(batch.starts.values()))
            batch = await self._known_attempts_only(db, batch)
            if batch.log_rows:
                conflicts = await self._insert_log(db, batch.log_rows)
            await store_events(db, entries)  # connections and clock changes (docs/results.md)
            if batch.durable:
                await db.execute(
                    DURABLE_UPDATE,
                    {"ids": list(batch.durable), "seqs": list(batch.durable.values())},
                )
            if batch.clocks:  # a session-wide pause moves thousands of clocks: one statement
                clocks = list(batch.clocks.items())
                await db.execute(
                    CLOCK_UPDATE,
                    {
                        "ids": [a for a, _ in clocks],
                        "deadlines": [_utc(c["deadline_ms"]) for _, c in clocks],
                        "paused": [
                            _utc(c["paused_at_ms"]) if c.get("paused_at_ms") else None
                            for _, c in clocks
                        ],
                        "versions": [int(c.get("v") or 0) for _, c in clocks],
                    },
                )
            if batch.closed:  # 10:00 brings thousands of submits in one batch: one statement
                await db.execute(
                    CLOSE_UPDATE,
                    {
                        "ids": list(batch.closed),
                        "ats": [when for when, _ in batch.closed.values()],
                        "reasons": [reason for _, reason in batch.closed.values()],
                    },
                )
        durable = {a: s for a, s in batch.durable.items() if a not in conflicts}
        # What PostgreSQL now holds: a Redis copy behind it is rebuilt at the next hello.
        clock_versions = {a: int(c.get("v") or 0) for a, c in batch.clocks.items()}
        await self.s.store.committed(durable, clock_versions, list(batch.closed))
        if durable:
            # One message for the whole batch: every worker reads every message on the
            # channel, and one per attempt made each of them parse a thousand a second.
            await self.s.store.publish(
                {"t": "durable", "d": {str(a): s for a, s in durable.items()}}
            )
        for attempt_id in sorted(conflicts):
            # Redis handed out seqs PostgreSQL already holds with other changes: Redis is
            # older than PostgreSQL. Rebuild it; the phone resends what is not durable.
            await redis.delete(attempt_key(attempt_id))
            await self.s.resync(attempt_id)
        if batch.closed:
            await redis.sadd(TO_GRADE, *batch.closed)
        await redis.set(CURSOR, batch.last_id)
        await redis.xtrim(CHANGES, minid=batch.last_id)
        return len(entries)

    async def _fence(self, db: Any) -> None:
        result = await db.execute(
            update(WritebehindFence)
            .where(WritebehindFence.id == 1, WritebehindFence.token <= self.token)
            .values(token=self.token)
        )
        if result.rowcount != 1:
            raise FencedOut(f"token {self.token} is older than the fence")

    @staticmethod
    async def _insert_log(db: Any, rows: list[dict[str, Any]]) -> set[int]:
        """Insert the rows; return the attempts whose skipped rows differ from PostgreSQL's."""
        inserted = await db.execute(
            insert(AnswerLog)
            .on_conflict_do_nothing(index_elements=["attempt_id", "seq"])
            .returning(AnswerLog.attempt_id, AnswerLog.seq),
            rows,
        )
        done = {(a, s) for a, s in inserted.all()}
        skipped = [r for r in rows if (r["attempt_id"], r["seq"]) not in done]
        if not skipped:
            return set()
        pairs = [(r["attempt_id"], r["seq"]) for r in skipped]
        stored = {
            (a, s): (k, q, v)
            for a, s, k, q, v in await db.execute(
                select(
                    AnswerLog.attempt_id,
                    AnswerLog.seq,
                    AnswerLog.kind,
                    AnswerLog.q,
                    AnswerLog.value,
                ).where(tuple_(AnswerLog.attempt_id, AnswerLog.seq).in_(pairs))
            )
        }
        bad = differing(skipped, stored)
        if bad:
            log.error("ALARM: changes of attempts %s conflict with PostgreSQL", sorted(bad)[:20])
        return bad

    @staticmethod
    async def _insert_starts(db: Any, rows: list[dict[str, Any]]) -> None:
        """Attempt rows of prepared papers, unless their seat is gone (a deleted session or
        candidate): like a change of a deleted attempt, it must not block the stream."""
        sessions = {r["session_id"] for r in rows}
        candidates = {r["candidate_id"] for r in rows}
        known_s = set(await db.scalars(select(ExamSession.id).where(ExamSession.id.in_(sessions))))
        known_c = set(await db.scalars(select(Candidate.id).where(Candidate.id.in_(candidates))))
        rows = [r for r in rows if r["session_id"] in known_s and r["candidate_id"] in known_c]
        if rows:
            await db.execute(insert(Attempt).on_conflict_do_nothing(), rows)

    @staticmethod
    async def _known_attempts_only(db: Any, batch: Batch) -> Batch:
        """Drop changes for attempts that no longer exist (deleted by staff or a demo reset).

        One such entry must not block the stream: everyone else's answers depend on it.
        """
        ids = {r["attempt_id"] for r in batch.log_rows} | set(batch.closed) | set(batch.clocks)
        known = (
            set(await db.scalars(select(Attempt.id).where(Attempt.id.in_(ids)))) if ids else set()
        )
        if known == ids:
            return batch
        log.warning("dropping changes for deleted attempts %s", sorted(ids - known)[:20])
        return Batch(
            [r for r in batch.log_rows if r["attempt_id"] in known],
            {a: s for a, s in batch.durable.items() if a in known},
            {a: c for a, c in batch.closed.items() if a in known},
            {a: c for a, c in batch.clocks.items() if a in known},
            batch.last_id,
        )

    async def grade_pending(self) -> int:
        """Grade submitted attempts from the shared queue; every worker helps.

        Grading runs apart from the write-behind, so 2,000 submits at 10:00 never hold back
        the durability of anybody's answers. A batch is graded in one transaction; if it
        fails, each attempt is graded in its own, so one bad item cannot stop the others.
        """
        ids = [int(raw) for raw in await self.s.redis.spop(TO_GRADE, GRADE_BATCH) or []]
        if not ids:
            return 0
        now = dt.datetime.now(dt.UTC)
        graded = list(ids)
        try:  # the whole batch with a few statements (docs/operations.md)
            async with self.s.sessions() as db, db.begin():
                await grade_attempts(db, ids, now)
        except Exception:
            log.exception("grading a batch of %s failed; grading one by one", len(ids))
            graded = []
            for attempt_id in ids:
                try:
                    async with self.s.sessions() as db, db.begin():
                        await grade_attempt(db, attempt_id, now)
                    graded.append(attempt_id)
                except Exception:
                    # It stays submitted; the PostgreSQL sweep queues it again.
                    log.exception("grading attempt %s failed", attempt_id)
        async with self.s.redis.pipeline(transaction=False) as pipe:
            for attempt_id in graded:
                pipe.publish(self.s.store.events, json.dumps({"t": "graded", "a": attempt_id}))
            await pipe.execute()
        return len(ids)

    async def run_grading(self) -> None:
        while True:
            try:
                if await self.grade_pending():
                    continue
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("grading pass failed, will retry")
            await pause(0.5)

    async def sweep_deadlines(self) -> None:
        # A change received before the deadline is applied as of its arrival, however long
        # its turn takes on a busy worker; the sweep leaves it that long (docs/protocol.md).
        now = int(time.time() * 1000)
        for attempt_id in await self.s.store.expired_attempts(now - DEADLINE_GRACE_MS):
            await self.s.store.close_if_expired(attempt_id, now, DEADLINE_GRACE_MS)

    async def sweep_postgres(self) -> None:
        """Close attempts past their deadline that Redis no longer knows (after a Redis loss)."""
        grace = dt.timedelta(seconds=5)
        now = dt.datetime.now(dt.UTC)
        async with self.s.sessions() as db:
            ids = list(
                await db.scalars(
                    select(Attempt.id)
                    .where(
                        Attempt.status == "running",
                        Attempt.paused_at.is_(None),
                        Attempt.deadline_at < now - grace,
                    )
                    .limit(500)
                )
            )
        orphans = []
        for attempt_id in ids:
            if await self.s.redis.exists(attempt_key(attempt_id)):
                await self.s.store.close_if_expired(attempt_id, int(time.time() * 1000))
            else:
                orphans.append(attempt_id)
        if orphans:
            async with self.s.sessions() as db, db.begin():
                await db.execute(
                    update(Attempt)
                    .where(Attempt.id.in_(orphans), Attempt.status == "running")
                    .values(
                        status="submitted",
                        submitted_at=Attempt.deadline_at,
                        submit_reason="deadline",
                    )
                )
        # Submitted but never graded (a worker died mid-grade, or grading failed): again.
        async with self.s.sessions() as db:
            ungraded = list(
                await db.scalars(
                    select(Attempt.id)
                    .outerjoin(Result, Result.attempt_id == Attempt.id)
                    .where(Attempt.status == "submitted", Result.attempt_id.is_(None))
                    .where(Attempt.submitted_at < now - dt.timedelta(seconds=30))
                    .limit(500)
                )
            )
        if orphans or ungraded:
            await self.s.redis.sadd(TO_GRADE, *orphans, *ungraded)
