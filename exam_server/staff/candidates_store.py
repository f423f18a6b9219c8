"""Candidates in PostgreSQL: the all-or-nothing import, corrections, twin names, deletion
and credentials.

Passwords are generated and only their HMAC is stored (``exam_server.delivery.credentials``), so
a password exists in clear only in the response that issues it: the printed card.
An imported candidate has no usable password until cards are issued.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from exam_server.db.audit import Actor, record, snapshot
from exam_server.db.models import Attempt, Candidate, ExamSession, SessionCandidate
from exam_server.db.staff_models import PARTICIPANT_SEQ, CredentialIssue
from exam_server.delivery.credentials import generate_password, hash_password
from exam_server.refusal import Refusal
from exam_server.staff.candidate_import import (
    CandidateRow,
    ParsedCandidates,
    Problem,
    Twin,
    check_row,
    name_key,
)

# Never equal to an HMAC ("hmac-sha256$..."): nobody can log in before a card is issued.
UNISSUED = "!unissued"
EDITABLE = ("nik", "name", "birth_date", "unit", "phone", "email", "photo")


@dataclass
class ImportOutcome:
    imported: int = 0
    duplicates: int = 0  # rows already registered with the same NIK, name and birth date
    errors: list[Problem] = field(default_factory=list)
    twins: list[Twin] = field(default_factory=list)
    participant_nos: list[str] = field(default_factory=list)

    def as_json(self, lang: str = "id") -> dict[str, object]:
        return {
            "imported": self.imported,
            "duplicates": self.duplicates,
            "errors": [p.as_json(lang) for p in self.errors],
            "twins": [{"name": t.name, "entries": list(t.entries)} for t in self.twins],
        }


async def get_candidate(
    db: AsyncSession, candidate_id: int, lock: bool = False
) -> Candidate | None:
    """The candidate, or None; ``lock`` holds the row (FOR UPDATE) until the caller commits."""
    return await db.get(Candidate, candidate_id, with_for_update=lock)


async def candidate_numbered(db: AsyncSession, number: str, lock: bool = False) -> Candidate | None:
    """The candidate with this participant number (as stored: upper case), or None."""
    query = select(Candidate).where(Candidate.participant_no == number)
    return await db.scalar(query.with_for_update() if lock else query)


async def candidate_sessions(db: AsyncSession, candidate_id: int) -> list[ExamSession]:
    """The sessions the candidate is scheduled in, in start order."""
    return list(
        await db.scalars(
            select(ExamSession)
            .join(SessionCandidate, SessionCandidate.session_id == ExamSession.id)
            .where(SessionCandidate.candidate_id == candidate_id)
            .order_by(ExamSession.starts_at)
        )
    )


async def candidate_attempts(db: AsyncSession, candidate_id: int) -> list[Attempt]:
    """The candidate's attempts, oldest first."""
    return list(
        await db.scalars(
            select(Attempt).where(Attempt.candidate_id == candidate_id).order_by(Attempt.id)
        )
    )


async def password_issue(db: AsyncSession, candidate_id: int) -> CredentialIssue | None:
    """When and by whom the candidate's current password was issued, or None (never)."""
    return await db.get(CredentialIssue, candidate_id)


def participant_no(sequence_value: int, today: dt.date | None = None) -> str:
    """Digits only (easy on a phone keypad): two-digit year, then the sequence."""
    year = (today or dt.date.today()).year % 100
    return f"{year:02d}{sequence_value:05d}"


async def _existing(db: AsyncSession, niks: Sequence[str]) -> dict[str, Candidate]:
    found: dict[str, Candidate] = {}
    for start in range(0, len(niks), 5000):
        chunk = niks[start : start + 5000]
        for c in await db.scalars(select(Candidate).where(Candidate.nik.in_(chunk))):
            found[c.nik] = c
    return found


def _name_key_sql() -> ColumnElement[str]:
    """``name_key`` in SQL: trimmed, inner runs of spaces made one, lower case."""
    return func.lower(func.regexp_replace(func.trim(Candidate.name), r"\s+", " ", "g"))


async def _db_twins(db: AsyncSession, rows: Sequence[CandidateRow]) -> list[Twin]:
    keys = {name_key(r.name): r for r in rows}
    twins = []
    lowered = _name_key_sql()
    keys_list = list(keys)
    for start in range(0, len(keys_list), 5000):
        chunk = keys_list[start : start + 5000]
        for c in await db.scalars(select(Candidate).where(lowered.in_(chunk))):
            row = keys[name_key(c.name)]
            if c.nik != row.nik:
                twins.append(
                    Twin(
                        row.name,
                        (
                            f"baris {row.line} (NIK {row.nik})",
                            f"nomor peserta {c.participant_no} (NIK {c.nik})",
                        ),
                    )
                )
    return twins


async def import_candidates(
    db: AsyncSession, actor: Actor, parsed: ParsedCandidates, filename: str, *, dry_run: bool
) -> ImportOutcome:
    """Check against the database and insert every row, or nothing; the caller commits."""
    outcome = ImportOutcome(errors=list(parsed.errors), twins=list(parsed.twins))
    existing = await _existing(db, [r.nik for r in parsed.rows])
    new_rows: list[CandidateRow] = []
    for row in parsed.rows:
        known = existing.get(row.nik)
        if known is None:
            new_rows.append(row)
        elif name_key(known.name) == name_key(row.name) and known.birth_date == row.birth_date:
            outcome.duplicates += 1  # the same person imported again: nothing to do
        else:
            outcome.errors.append(
                Problem(
                    row.line,
                    row.nik,
                    f"NIK {row.nik} di baris {row.line} sudah terdaftar atas nama {known.name} "
                    f"(nomor peserta {known.participant_no}).",
                    f"NIK {row.nik} on line {row.line} is already registered to {known.name} "
                    f"(participant number {known.participant_no}).",
                )
            )
    outcome.errors.sort(key=lambda p: p.line or 0)
    outcome.twins.extend(await _db_twins(db, new_rows))
    if outcome.errors or dry_run or not new_rows:
        if dry_run and not outcome.errors:
            outcome.imported = len(new_rows)  # what a real run would import
        return outcome
    numbers = list(
        await db.scalars(
            select(PARTICIPANT_SEQ.next_value()).select_from(func.generate_series(1, len(new_rows)))
        )
    )
    values = [
        {
            "nik": r.nik,
            "name": r.name,
            "birth_date": r.birth_date,
            "unit": r.unit,
            "phone": r.phone,
            "email": r.email,
            "photo": r.photo,
            "participant_no": participant_no(n),
            "password_hash": UNISSUED,
        }
        for r, n in zip(new_rows, numbers, strict=True)
    ]
    for start in range(0, len(values), 1000):
        await db.execute(insert(Candidate).values(values[start : start + 1000]))
    outcome.imported = len(values)
    outcome.participant_nos = [v["participant_no"] for v in values]  # type: ignore[misc]
    record(
        db,
        actor,
        "candidates.import",
        "candidate",
        "",
        new={
            "file": filename,
            "imported": len(values),
            "candidates": [[v["participant_no"], v["nik"], v["name"]] for v in values],
        },
    )
    return outcome


class CorrectionError(Refusal):
    """A candidate correction or deletion the rules refuse."""


def corrected_row(fields: Mapping[str, Any]) -> CandidateRow:
    """The correction form's fields checked by the import's own rules (NIK, dates, …)."""
    names = list(EDITABLE)
    checked = check_row(
        0,
        [str(fields.get(f, "") or "").strip() for f in names],
        {f: i for i, f in enumerate(names)},
    )
    if isinstance(checked, list):
        raise CorrectionError(checked[0].message_id, checked[0].message_en)
    return checked


def correction_fields(candidate: Candidate) -> dict[str, str]:
    """A candidate's current values as the correction form's fields."""
    return {
        f: "" if getattr(candidate, f) is None else str(getattr(candidate, f)) for f in EDITABLE
    }


async def correct_candidate(
    db: AsyncSession, actor: Actor, candidate: Candidate, row: CandidateRow, reason: str
) -> dict[str, object]:
    """Apply a correction; the old values and the reason go to the audit log."""
    if not reason.strip():
        raise CorrectionError(
            "Alasan perubahan wajib diisi.", "A reason for the change is required."
        )
    if row.nik != candidate.nik:
        other = await db.scalar(select(Candidate).where(Candidate.nik == row.nik))
        if other is not None:
            raise CorrectionError(
                f"NIK {row.nik} sudah dipakai oleh {other.name} ({other.participant_no}).",
                f"NIK {row.nik} already belongs to {other.name} ({other.participant_no}).",
            )
    before = snapshot(candidate, EDITABLE)
    after = {f: getattr(row, f) for f in EDITABLE}
    old = {k: v for k, v in before.items() if snapshot(row, [k])[k] != v}
    new = {k: snapshot(row, [k])[k] for k in old}
    if not new:
        return {}
    for key in new:
        setattr(candidate, key, after[key])
    record(
        db,
        actor,
        "candidate.correct",
        "candidate",
        candidate.id,
        old=old,
        new=new,
        reason=reason.strip(),
    )
    return new


@dataclass(frozen=True)
class TwinGroup:
    """Registered people who share a name (as ``name_key`` compares it) but not a NIK."""

    name: str
    candidates: tuple[Candidate, ...]


def _twin_keys() -> Select[str]:
    key = _name_key_sql()
    return (
        select(key.label("key")).group_by(key).having(func.count(func.distinct(Candidate.nik)) > 1)
    )


async def twin_groups(
    db: AsyncSession, q: str = "", offset: int = 0, limit: int | None = None
) -> list[TwinGroup]:
    """Every twin name registered, kept for review after the import that listed it: staff
    tell the people apart (NIK, birth date, unit, session) before cards go out. Nothing
    is ever merged: two people with one name are two people.

    ``q`` keeps the names that contain it; ``offset``/``limit`` page by whole groups.
    """
    key = _name_key_sql()
    wanted = _twin_keys_matching(q).order_by("key").offset(offset)
    if limit is not None:
        wanted = wanted.limit(limit)
    twin_keys = wanted.subquery()
    rows = await db.execute(
        select(key, Candidate)
        .where(key.in_(select(twin_keys.c.key)))
        .order_by(key, Candidate.participant_no)
    )
    groups: dict[str, list[Candidate]] = {}
    for name, candidate in rows:
        groups.setdefault(name, []).append(candidate)
    return [TwinGroup(members[0].name, tuple(members)) for members in groups.values()]


def _twin_keys_matching(q: str) -> Select[str]:
    wanted = _twin_keys()
    if q.strip():
        # Every member of a group shares its key: filtering rows first keeps groups whole.
        wanted = wanted.where(_name_key_sql().contains(name_key(q.strip()), autoescape=True))
    return wanted


async def twin_group_count(db: AsyncSession, q: str = "") -> int:
    return await db.scalar(select(func.count()).select_from(_twin_keys_matching(q).subquery())) or 0


async def session_names(db: AsyncSession, candidate_ids: Sequence[int]) -> dict[int, list[str]]:
    """The sessions each candidate sits, earliest first."""
    found: dict[int, list[str]] = {cid: [] for cid in candidate_ids}
    rows = await db.execute(
        select(SessionCandidate.candidate_id, ExamSession.name)
        .join(ExamSession, ExamSession.id == SessionCandidate.session_id)
        .where(SessionCandidate.candidate_id.in_(candidate_ids))
        .order_by(ExamSession.starts_at, ExamSession.id)
    )
    for cid, name in rows:
        found[cid].append(name)
    return found


async def delete_candidate(
    db: AsyncSession, actor: Actor, candidate: Candidate, reason: str
) -> None:
    """Remove a wrongly registered candidate with their seats and password record.

    Refused once the candidate has an attempt: answers and results are evidence and are
    never deleted. The audit entry keeps every field and the sessions, so the record of
    who was registered survives the row. The caller commits.
    """
    if not reason.strip():
        raise CorrectionError(
            "Alasan penghapusan wajib diisi.", "A reason for the deletion is required."
        )
    # The row lock makes a login that is opening an attempt right now either finish
    # first (and be counted below) or wait and then fail on the missing candidate.
    locked = await db.scalar(
        select(Candidate.id).where(Candidate.id == candidate.id).with_for_update()
    )
    if locked is None:
        raise CorrectionError("Peserta sudah dihapus.", "The candidate is already deleted.")
    await db.refresh(candidate)  # the snapshot below is what is deleted, read under the lock
    attempts = await db.scalar(
        select(func.count()).select_from(Attempt).where(Attempt.candidate_id == candidate.id)
    )
    if attempts:
        raise CorrectionError(
            f"{candidate.name} ({candidate.participant_no}) sudah masuk ujian: jawaban dan "
            "hasilnya adalah bukti, jadi peserta ini tidak dapat dihapus.",
            f"{candidate.name} ({candidate.participant_no}) has entered an exam: the answers "
            "and results are evidence, so this candidate cannot be deleted.",
        )
    old = snapshot(candidate, (*EDITABLE, "participant_no"))
    old["sessions"] = (await session_names(db, [candidate.id]))[candidate.id]
    await db.execute(delete(SessionCandidate).where(SessionCandidate.candidate_id == candidate.id))
    # credential_issues cascades in the schema; deleted here too so the ORM holds no stale row.
    await db.execute(delete(CredentialIssue).where(CredentialIssue.candidate_id == candidate.id))
    await db.execute(delete(Candidate).where(Candidate.id == candidate.id))
    record(db, actor, "candidate.delete", "candidate", candidate.id, old=old, reason=reason.strip())


@dataclass(frozen=True)
class IssuedCredential:
    candidate_id: int
    participant_no: str
    password: str


async def issue_passwords(
    db: AsyncSession, actor: Actor, secret_key: str, candidate_ids: Sequence[int], why: str
) -> list[IssuedCredential]:
    """New passwords for these candidates; the old ones stop working at commit."""
    now = dt.datetime.now(dt.UTC)
    rows = list(
        await db.execute(
            select(Candidate.id, Candidate.participant_no)
            .where(Candidate.id.in_(candidate_ids))
            .order_by(Candidate.participant_no)
        )
    )
    issued = [IssuedCredential(cid, number, generate_password()) for cid, number in rows]
    for chunk_start in range(0, len(issued), 1000):
        chunk = issued[chunk_start : chunk_start + 1000]
        # ORM bulk UPDATE by primary key: one executemany, not one statement per row.
        await db.execute(
            update(Candidate),
            [
                {"id": c.candidate_id, "password_hash": hash_password(secret_key, c.password)}
                for c in chunk
            ],
        )
        stmt = insert(CredentialIssue).values(
            [
                {
                    "candidate_id": c.candidate_id,
                    "issued_at": now,
                    "issued_by": actor.username,
                    "times": 1,
                }
                for c in chunk
            ]
        )
        await db.execute(
            stmt.on_conflict_do_update(
                index_elements=["candidate_id"],
                set_={
                    "issued_at": stmt.excluded.issued_at,
                    "issued_by": stmt.excluded.issued_by,
                    "times": CredentialIssue.times + 1,
                },
            )
        )
    # Which passwords were replaced is logged; the passwords themselves never are.
    record(
        db,
        actor,
        "credentials.issue",
        "candidate",
        "",
        new={"participant_nos": [c.participant_no for c in issued]},
        reason=why,
    )
    return issued
