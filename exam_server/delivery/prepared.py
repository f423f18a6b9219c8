"""What a prepared session keeps in Redis, and how login and ``hello`` read it.

A session is prepared ahead of its start (``exam_server.delivery.prepare``) so that the
08:00 burst never waits on PostgreSQL (docs/operations.md, "Prepared sessions"). Layout,
all under ``tkd:prep:``:

* ``session:{sid}`` hash: ``starts_ms``, ``ends_ms``, ``token_required``,
  ``token_period_s``, ``info`` (the session and exam parts of the login answer, JSON),
  ``fp`` (fingerprint of what it was built from), ``prepared_at_ms``, ``count``.
* ``cand:{participant_no}`` hash: ``c`` (candidate id), ``h`` (password hash), ``info``
  (the candidate part of the login answer, JSON) and ``s:{sid}`` -> attempt id per seat.
* ``paper:{aid}`` hash: the attempt row to be (``c``, ``s``, ``e``, ``seed``, ``qids``,
  ``opts``, ``secs``, ``minutes``, ``rr``), the run id of the Redis server that it was
  written to (``run``) and ``started`` (1: PostgreSQL had the attempt then, so its first
  checkpoint here must be compared with PostgreSQL).
* ``cred:{cid}``: the version of the candidate's current password, which hello compares
  with its token's (docs/security.md, "Impersonation").
* ``seats:{sid}`` hash: candidate id -> ``aid|participant_no``.
* ``questions:{eid}`` hash: question id -> the delivered question (JSON).
* ``sessions`` set: the ids of the prepared sessions, which the preparer keeps up to date.

Attempt ids are taken from PostgreSQL's sequence when preparing; the attempt row itself is
written by the write-behind from the ``start`` entry that the first ``hello`` adds to the
change stream, or by the slow path, always with the prepared id and paper.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from exam_server.delivery.checkpoint import PREP_PREFIX
from exam_server.delivery.credentials import credential_version

PREFIX = PREP_PREFIX


def session_key(session_id: int | str) -> str:
    return f"{PREFIX}session:{session_id}"


def cand_key(participant_no: str) -> str:
    return f"{PREFIX}cand:{participant_no}"


def paper_key(attempt_id: int | str) -> str:
    return f"{PREFIX}paper:{attempt_id}"


def seats_key(session_id: int | str) -> str:
    return f"{PREFIX}seats:{session_id}"


def cred_key(candidate_id: int | str) -> str:
    return f"{PREFIX}cred:{candidate_id}"


def questions_key(exam_id: int | str) -> str:
    return f"{PREFIX}questions:{exam_id}"


# One round trip for a login's data: the candidate's entry, and for each of their
# prepared seats the session's rule and whether the attempt is already submitted. Key names
# are built inside the script: TKD runs one Redis, not a cluster (docs/operations.md).
LOOKUP = """
local out = {redis.call('HGETALL', KEYS[1])}
local c = out[1]
for i = 1, #c, 2 do
  if string.sub(c[i], 1, 2) == 's:' then
    local sid = string.sub(c[i], 3)
    local s = redis.call('HMGET', ARGV[1] .. 'session:' .. sid,
      'starts_ms', 'ends_ms', 'token_required', 'token_period_s', 'info')
    local sub = redis.call('HGET', 'tkd:attempt:' .. c[i + 1], 'submitted')
    out[#out + 1] = {sid, c[i + 1], s[1] or '', s[2] or '', s[3] or '', s[4] or '',
      s[5] or '', sub or ''}
  end
end
return out
"""


@dataclass(frozen=True, slots=True)
class PreparedSeat:
    session_id: int
    attempt_id: int
    starts_ms: int
    ends_ms: int
    token_required: bool
    token_period_s: int
    info: dict[str, Any]
    submitted: bool


@dataclass(frozen=True, slots=True)
class PreparedLogin:
    candidate_id: int
    password_hash: str
    info: dict[str, Any]
    seat: PreparedSeat


@dataclass(frozen=True, slots=True)
class Lookup:
    login: PreparedLogin | None  # None: not prepared (or stale): ask PostgreSQL


def choose_seat(rows: list[list[str]], now_ms: int, early_ms: int) -> PreparedSeat | None:
    """The prepared seat open now, or None when PostgreSQL must decide (pure).

    A seat whose session entry is gone (changed or lost) makes the whole answer None: the
    prepared data no longer tells the full story for this candidate.
    """
    seats: list[PreparedSeat] = []
    for sid, aid, starts, ends, token_required, period, info, submitted in rows:
        if not starts or not ends or not info:
            return None
        seats.append(
            PreparedSeat(
                int(sid),
                int(aid),
                int(starts),
                int(ends),
                token_required == "1",
                int(period or 900),
                json.loads(info),
                submitted == "1",
            )
        )
    open_now = [s for s in seats if s.starts_ms - early_ms <= now_ms < s.ends_ms]
    return min(open_now, key=lambda s: s.starts_ms) if open_now else None


def read_lookup(reply: list[Any], now_ms: int, early_ms: int) -> Lookup:
    flat = reply[0] or []
    fields = dict(zip(flat[::2], flat[1::2], strict=True))
    if "c" not in fields:
        return Lookup(None)
    seat = choose_seat([list(r) for r in reply[1:]], now_ms, early_ms)
    if seat is None:
        return Lookup(None)
    login = PreparedLogin(int(fields["c"]), fields["h"], json.loads(fields["info"]), seat)
    return Lookup(login)


class PreparedStore:
    """The read side, used on the 08:00 path: Redis only."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._lookup = redis.register_script(LOOKUP)

    async def lookup(self, number: str, now_ms: int, early_ms: int) -> Lookup:
        reply = await self._lookup(keys=[cand_key(number)], args=[PREFIX])
        return read_lookup(reply, now_ms, early_ms)

    async def paper(self, attempt_id: int) -> dict[str, str]:
        return await self.redis.hgetall(paper_key(attempt_id))  # type: ignore[no-any-return]

    async def questions(self, exam_id: int, ids: list[int]) -> dict[int, dict[str, Any]]:
        if not ids:
            return {}
        raw = await self.redis.hmget(questions_key(exam_id), [str(i) for i in ids])
        return {qid: json.loads(r) for qid, r in zip(ids, raw, strict=True) if r}

    async def prepared_attempt(self, session_id: int, candidate_id: int) -> int | None:
        raw = await self.redis.hget(seats_key(session_id), str(candidate_id))
        return int(raw.split("|", 1)[0]) if raw else None

    async def status(self, session_id: int) -> dict[str, str]:
        return await self.redis.hgetall(session_key(session_id))  # type: ignore[no-any-return]

    async def credential(self, candidate_id: int) -> str | None:
        """The version of the candidate's current password (``credential_version``), or
        None when Redis does not know it (then PostgreSQL is asked)."""
        return await self.redis.get(cred_key(candidate_id))  # type: ignore[no-any-return]


async def credentials_changed(redis: Redis, changed: Iterable[tuple[str, str]]) -> None:
    """New passwords (participant number, password hash), after their commit, reach the
    08:00 path of a prepared candidate at once rather than at the next preparation: older
    tokens stop at hello and the old password stops at login. An unprepared candidate has
    nothing in Redis to change: PostgreSQL serves them."""
    rows = list(changed)
    for i in range(0, len(rows), 500):
        part = rows[i : i + 500]
        async with redis.pipeline(transaction=False) as pipe:
            for number, _ in part:
                pipe.hget(cand_key(number), "c")
            ids = await pipe.execute()
            for (number, password_hash), candidate_id in zip(part, ids, strict=True):
                if candidate_id is not None:
                    version = credential_version(password_hash)
                    pipe.set(cred_key(candidate_id), version, xx=True, keepttl=True)
                    pipe.hset(cand_key(number), "h", password_hash)
            await pipe.execute()
