"""``tkd demo``: a ready exam, a session running now and demo candidates with credentials.

Everything here takes the caller's ``AsyncSession`` and leaves committing to the caller, so
the demo is seeded whole or not at all.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from exam_server.bank.store import save_items
from exam_server.db.models import (
    Attempt,
    Candidate,
    Exam,
    ExamQuestion,
    ExamSection,
    ExamSession,
    SessionCandidate,
)
from exam_server.delivery.credentials import generate_password, hash_password
from exam_server.demo.items import DEMO_ITEMS
from exam_server.private_files import open_private, private_dir

EXAM_CODE = "DEMO-SKD"
SESSION_NAME = "Sesi Demo"
FIRST = [
    "Ayu",
    "Budi",
    "Citra",
    "Dewi",
    "Eko",
    "Fajar",
    "Gita",
    "Hadi",
    "Indah",
    "Joko",
    "Kartika",
    "Lestari",
    "Made",
    "Nur",
    "Oki",
    "Putri",
    "Rizky",
    "Sari",
    "Taufik",
    "Wulan",
    "Yusuf",
    "Zahra",
]
LAST = [
    "Saputra",
    "Wijaya",
    "Lestari",
    "Hidayat",
    "Pratama",
    "Kusuma",
    "Nugroho",
    "Siregar",
    "Harahap",
    "Simanjuntak",
    "Wibowo",
    "Rahmawati",
    "Setiawan",
    "Purnomo",
    "Anggraini",
]
RULES_ID = (
    "Kerjakan sendiri. Jawaban tersimpan otomatis di server; tanda \u201cTersimpan\u201d berarti jawaban aman. "
    "Jika sinyal hilang, lanjutkan saja: jawaban disimpan di ponsel dan dikirim saat tersambung lagi. "
    "Waktu dihitung oleh server."
)
RULES_EN = (
    "Work on your own. Answers are saved on the server automatically; \u201cSaved\u201d means an answer is safe. "
    "If the signal drops, just carry on: answers are kept on the phone and sent when you reconnect. "
    "The server keeps the time."
)


@dataclass(frozen=True)
class DemoCredential:
    participant_no: str
    password: str
    name: str


def demo_name(i: int) -> str:
    return f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST)) % len(LAST)]}"


async def ensure_demo_exam(db: AsyncSession) -> Exam:
    exam = await db.scalar(select(Exam).where(Exam.code == EXAM_CODE))
    if exam is not None:
        return exam
    report = await save_items(db, DEMO_ITEMS)
    exam = Exam(
        code=EXAM_CODE,
        title="Simulasi Tes Kemampuan Dasar (Demo)",
        shared_minutes=30,
        results_release="immediate",
        rules_id=RULES_ID,
        rules_en=RULES_EN,
    )
    db.add(exam)
    await db.flush()
    layout = [
        (
            "TWK",
            "Tes Wawasan Kebangsaan",
            {"model": "right_wrong", "points_correct": 5, "points_wrong": 0},
            15,
        ),
        (
            "TIU",
            "Tes Intelegensia Umum",
            {"model": "right_wrong", "points_correct": 5, "points_wrong": 0},
            15,
        ),
        ("TKP", "Tes Karakteristik Pribadi", {"model": "weighted"}, 18),
    ]
    for position, (code, name, scoring, pass_mark) in enumerate(layout):
        ids = [
            qid for qid, item in zip(report.ids, DEMO_ITEMS, strict=True) if item.section == code
        ]
        section = ExamSection(
            exam_id=exam.id,
            position=position,
            code=code,
            name=name,
            question_count=len(ids),
            minutes=None,
            scoring=scoring,
            pass_mark=pass_mark,
        )
        db.add(section)
        await db.flush()
        for i, qid in enumerate(ids):
            db.add(ExamQuestion(section_id=section.id, question_id=qid, position=i))
    return exam


async def ensure_open_session(db: AsyncSession, exam: Exam, now: dt.datetime) -> ExamSession:
    session = await db.scalar(
        select(ExamSession).where(ExamSession.exam_id == exam.id, ExamSession.name == SESSION_NAME)
    )
    if session is None:
        session = ExamSession(
            exam_id=exam.id, name=SESSION_NAME, room="Ruang Demo", starts_at=now, ends_at=now
        )
        db.add(session)
    if not session.starts_at <= now < session.ends_at - dt.timedelta(hours=1):
        session.starts_at = now - dt.timedelta(minutes=5)
        session.ends_at = now + dt.timedelta(hours=8)
    await db.flush()
    return session


@dataclass(frozen=True)
class DemoReady:
    credentials: list[DemoCredential]
    removed_attempts: list[int]  # their Redis checkpoints must go too


async def seed_demo(
    db: AsyncSession, secret_key: str, count: int, *, reset: bool = False
) -> DemoReady:
    """Make the demo ready; demo passwords are re-issued (only their HMAC is stored)."""
    now = dt.datetime.now(dt.UTC)
    exam = await ensure_demo_exam(db)
    session = await ensure_open_session(db, exam, now)
    removed: list[int] = []
    if reset:
        removed = list(
            await db.scalars(
                delete(Attempt).where(Attempt.session_id == session.id).returning(Attempt.id)
            )
        )
    creds = [
        DemoCredential(f"DEMO-{i:05d}", generate_password(), demo_name(i))
        for i in range(1, count + 1)
    ]
    rows = [
        {
            "nik": f"9999{i:012d}",
            "name": c.name,
            "unit": [
                "Dinas Pendidikan",
                "Dinas Kesehatan",
                "Sekretariat Daerah",
                "Dinas Perhubungan",
            ][i % 4],
            "participant_no": c.participant_no,
            "password_hash": hash_password(secret_key, c.password),
            "phone": "",
            "email": "",
            "photo": "",
            "birth_date": dt.date(1990 + i % 10, 1 + i % 12, 1 + i % 28),
        }
        for i, c in enumerate(creds, start=1)
    ]
    ids: list[int] = []
    for start in range(0, len(rows), 1000):
        stmt = insert(Candidate).values(rows[start : start + 1000])
        # RETURNING gives inserted and updated rows alike; asking for the ids by participant
        # number instead would pass the driver's bind-parameter limit at 100000 candidates.
        ids.extend(
            await db.scalars(
                stmt.on_conflict_do_update(
                    index_elements=["participant_no"],
                    set_={"password_hash": stmt.excluded.password_hash},
                ).returning(Candidate.id)
            )
        )
    for start in range(0, len(ids), 1000):
        await db.execute(
            insert(SessionCandidate)
            .values(
                [
                    {"session_id": session.id, "candidate_id": cid}
                    for cid in ids[start : start + 1000]
                ]
            )
            .on_conflict_do_nothing()
        )
    await db.execute(
        update(ExamSession).where(ExamSession.id == session.id).values(token_required=False)
    )
    return DemoReady(creds, removed)


def write_credentials(path: Path, creds: list[DemoCredential]) -> None:
    private_dir(path.parent)
    tmp = path.with_suffix(".tmp")
    with open_private(tmp) as fh:  # passwords: 0600 from the moment the file exists
        writer = csv.writer(fh)
        writer.writerow(["participant_no", "password", "name"])
        writer.writerows([c.participant_no, c.password, c.name] for c in creds)
    tmp.replace(path)
