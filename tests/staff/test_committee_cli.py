"""The committee's work from a terminal: exam, sections, sessions, seats, cards, dashboard,
corrections, all with ``tkd`` on the run's real services and all in the audit log."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from exam_server.app import create_app
from exam_server.db.models import Candidate, ExamSession
from exam_server.db.staff_models import AuditEntry
from exam_server.display import LOCAL_TZ
from exam_server.settings import Settings

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "question_bank" / "templates" / "template-soal.csv"

Cli = Callable[..., int]


@dataclass
class Tkd:
    """``tkd`` in this process: what it printed, and that it exited as expected."""

    cli: Cli
    capsys: pytest.CaptureFixture[str]

    def json(self, *argv: str) -> Any:
        return json.loads(self.ok(*argv, "--json"))

    def ok(self, *argv: str, stdin: str = "") -> str:
        status = self.cli(*argv, stdin=stdin)
        out, err = self.capsys.readouterr()
        assert status == 0, err
        return out

    def refused(self, *argv: str, stdin: str = "") -> str:
        assert self.cli(*argv, stdin=stdin) == 1
        err = self.capsys.readouterr().err.strip()
        assert err.startswith("tkd: ") and "\n" not in err, err
        return err


@pytest.fixture()
def tkd(cli: Cli, capsys: pytest.CaptureFixture[str]) -> Tkd:
    return Tkd(cli, capsys)


def _nik() -> str:
    return "55" + "".join(secrets.choice("0123456789") for _ in range(14))


def test_a_committee_schedules_an_exam_and_prints_cards_from_the_terminal(
    tkd: Tkd,
    tmp_path: Path,
    db_engine: Any,
    settings: Settings,
) -> None:
    tag = secrets.token_hex(3)
    unit, code = f"Dinas CLI {tag}", f"CLI-{tag}"
    tkd.ok("questions", "import", str(TEMPLATE))
    niks = [_nik() for _ in range(6)]
    names = ["Siti Aminah", "Siti  aminah", "Budi", "Citra", "Dewi", "Eko"]  # a twin pair
    rows = "".join(
        f"{n},{name} {tag},1990-01-0{i + 1},{unit}\n"
        for i, (n, name) in enumerate(zip(niks, names, strict=True))
    )
    people = tmp_path / "peserta.csv"
    people.write_text("NIK,Nama,Tanggal Lahir,Unit Kerja/OPD\n" + rows)
    assert tkd.json("candidates", "import", str(people))["imported"] == 6

    exam = tkd.json(
        "exams",
        "create",
        "--code",
        code,
        "--title",
        "Seleksi CLI",
        "--shared-minutes",
        "90",
        "--results",
        "never",
        "--shuffle-options",
    )
    assert exam["shared_minutes"] == 90 and exam["shuffle_options"] is True
    tkd.ok(
        "exams",
        "section",
        code,
        "--code",
        "twk",
        "--name",
        "Wawasan",
        "--questions",
        "1",
        "--pass-mark",
        "5",
    )
    tkd.ok("exams", "fill", code, "TWK", "--from", "TWK", "--count", "1")
    # Changing one option keeps the rest of the section as it was.
    tkd.ok("exams", "section", code, "--code", "TWK", "--points-wrong", "-1", "--model", "negative")
    tkd.ok("exams", "section", code, "--code", "TIU", "--name", "Intelegensia", "--questions", "1")
    assert "section TIU removed" in tkd.ok("exams", "remove-section", code, "TIU")
    shown = tkd.json("exams", "show", code)
    [section] = shown["sections"]
    assert (section["name"], section["pass_mark"], section["pool"]) == ("Wawasan", 5, 1)
    assert section["scoring"]["points_wrong"] == -1 and section["problem"] is None

    today = dt.datetime.now(LOCAL_TZ).date().isoformat()
    ids = []
    for name in ("Pagi", "Siang"):
        made = tkd.json(
            "sessions",
            "create",
            "--exam",
            code,
            "--name",
            f"{name} {tag}",
            "--date",
            today,
            "--start",
            "00:00",
            "--end",
            "23:59",
            "--capacity",
            "3",
            "--room",
            "Aula",
            "--token",
        )
        ids.append(made["id"])
    first, second = ids
    assert "6 candidates spread over 2 sessions" in tkd.ok(
        "sessions", "spread", "--exam", code, "--unit", unit
    )
    listed = {x["id"]: x for x in tkd.json("sessions", "list", "--exam", code)}
    assert (listed[first]["seated"], listed[second]["seated"]) == (3, 3)

    with Session(db_engine) as db:
        by_nik = {c.nik: c for c in db.scalars(select(Candidate).where(Candidate.nik.in_(niks)))}
    numbers = [by_nik[n].participant_no for n in niks]
    seated_first = [n for n in numbers if _session_of(db_engine, n) == first]
    mover, leaver = seated_first[0], seated_first[1]
    full = tkd.refused(
        "sessions", "move", mover, "--from", str(first), "--to", str(second), "--reason", "x"
    )
    assert "sudah penuh" in full
    tkd.ok("sessions", "update", str(second), "--capacity", "5")
    tkd.ok(
        "sessions",
        "move",
        mover,
        "--from",
        str(first),
        "--to",
        str(second),
        "--reason",
        "bentrok jadwal",
    )
    tkd.ok("sessions", "remove", str(first), leaver, "--reason", "mengundurkan diri")
    unscheduled = tkd.json("candidates", "list", "--unit", unit, "--status", "unscheduled")
    assert [c["participant_no"] for c in unscheduled["candidates"]] == [leaver]

    twins = tkd.json("candidates", "twins")
    ours = [g for g in twins if tag in g["name"]]
    assert len(ours) == 1 and {c["nik"] for c in ours[0]["candidates"]} == set(niks[:2])

    pdf = tmp_path / "kartu.pdf"
    tkd.ok("sessions", "cards", str(first), "--out", str(pdf), "--per-page", "1")
    assert pdf.read_bytes().startswith(b"%PDF") and os.stat(pdf).st_mode & 0o077 == 0
    # Everybody in it has a card now: printing "new" cards again finds nobody.
    assert "--all" in tkd.refused("sessions", "cards", str(first), "--out", str(pdf))

    token = tkd.ok("sessions", "token", str(first)).strip()
    lucky = next(n for n in seated_first if n not in (mover, leaver))
    number, password = tkd.ok("candidates", "password", lucky, "--reason", "kartu hilang").split()
    assert number == lucky
    login = asyncio.run(_candidate_login(settings, lucky, password, token))
    assert login.status_code == 200, login.text
    assert login.json()["exam"]["title"] == "Seleksi CLI"

    board = tkd.json("dashboard", "--exam", code)
    assert board["total"]["scheduled"] == 5 and board["total"]["logged_in"] == 1
    attendance = tmp_path / "hadir.csv"
    tkd.ok("dashboard", "--session", str(second), "--csv", str(attendance))
    assert attendance.read_text(encoding="utf-8-sig").count(unit) == 4  # 3 spread + 1 moved

    tkd.ok(
        "candidates",
        "correct",
        numbers[3],
        "--name",
        f"Citra Lestari {tag}",
        "--reason",
        "salah ketik",
    )
    assert "nothing changed" in tkd.ok("candidates", "correct", numbers[3], "--reason", "cek")
    tkd.ok("candidates", "delete", leaver, "--reason", "terdaftar ganda")
    tkd.ok("exams", "update", code, "--title", "Seleksi CLI 2026")
    assert tkd.json("exams", "show", code)["shared_minutes"] == 90  # untouched

    proctor = f"pengawas-{tag}"
    tkd.ok(
        "staff",
        "create",
        "--username",
        proctor,
        "--role",
        "proctor",
        "--password-stdin",
        stdin="Pengawas-Kuat-2026\n",
    )
    assert {"username": proctor, "role": "proctor"}.items() <= next(
        u for u in tkd.json("staff", "list") if u["username"] == proctor
    ).items()
    tkd.ok("sessions", "proctor", str(first), proctor)
    assert "saved" in tkd.ok("staff", "update", proctor, "--role", "viewer", "--disable")
    assert "nothing changed" in tkd.ok("staff", "update", proctor, "--role", "viewer")
    assert "10" in tkd.refused("staff", "update", proctor, "--password-stdin", stdin="pendek\n")
    assert "Pilih pengawas" in tkd.refused("sessions", "proctor", str(first), proctor)
    [entry] = tkd.json("audit", "--action", "staff.update", "--entity", "staff", "--limit", "1")
    assert entry["new"] == {"role": "viewer", "active": False} and entry["username"].startswith(
        "cli:"
    )
    template = tmp_path / "templat.csv"
    tkd.ok("candidates", "template", "--format", "csv", "--out", str(template))
    assert template.read_text(encoding="utf-8-sig").startswith("NIK,Nama,")
    spare = tkd.json(
        "sessions",
        "create",
        "--exam",
        code,
        "--name",
        f"Cadangan {tag}",
        "--date",
        today,
        "--start",
        "13:00",
        "--end",
        "15:00",
    )["id"]
    assert "Alasan wajib" in tkd.refused("sessions", "delete", str(spare), "--reason", " ")
    tkd.ok("sessions", "delete", str(spare), "--reason", "tidak diperlukan")
    # The first session has a candidate who has started: it stays.
    assert "tidak dapat dihapus" in tkd.refused("sessions", "delete", str(first), "--reason", "x")

    with Session(db_engine) as db:
        assert db.get(ExamSession, spare) is None
        assert db.scalar(select(Candidate).where(Candidate.participant_no == leaver)) is None
        assert db.get(Candidate, by_nik[niks[3]].id).name == f"Citra Lestari {tag}"  # type: ignore[union-attr]
        actions = set(
            db.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.username.like("cli:%"), AuditEntry.at > _started(db, code)
                )
            )
        )
    assert {
        "exam.create",
        "section.create",
        "section.update",
        "section.questions",
        "session.create",
        "session.update",
        "session.assign",
        "session.move",
        "session.unassign",
        "credentials.issue",
        "candidate.reissue",
        "export.attendance",
        "candidate.correct",
        "candidate.delete",
        "exam.update",
        "session.proctor_add",
        "session.delete",
        "staff.create",
        "section.delete",
    } <= actions


async def _candidate_login(
    settings: Settings, number: str, password: str, token: str
) -> httpx.Response:
    from exam_server.delivery.services import open_services

    async with open_services(settings) as services:
        app = create_app(settings, background=False)
        app.state.services = services  # ASGITransport does not run the lifespan
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await http.post(
                "/api/v1/candidate/login",
                json={"participant_no": number, "password": password, "session_token": token},
            )


def _session_of(db_engine: Any, participant_no: str) -> int | None:
    from exam_server.db.models import SessionCandidate

    with Session(db_engine) as db:
        return db.scalar(
            select(SessionCandidate.session_id)
            .join(Candidate, Candidate.id == SessionCandidate.candidate_id)
            .where(Candidate.participant_no == participant_no)
        )


def _started(db: Session, code: str) -> dt.datetime:
    from exam_server.db.models import Exam

    exam = db.scalar(select(Exam).where(Exam.code == code))
    assert exam is not None
    return exam.created_at - dt.timedelta(seconds=1)


def test_bad_options_are_refused_in_one_line_and_change_nothing(tkd: Tkd, db_engine: Any) -> None:
    code = f"BAD-{secrets.token_hex(3)}"
    assert "Judul wajib diisi" in tkd.refused("exams", "create", "--code", code, "--title", " ")
    assert "tidak ada" in tkd.refused("exams", "show", code)
    tkd.ok("exams", "create", "--code", code, "--title", "Uji")
    assert "sudah dipakai" in tkd.refused("exams", "create", "--code", code, "--title", "Lagi")
    # No shared clock: each section needs its minutes, and a count.
    assert "durasi setiap bagian" in tkd.refused(
        "exams", "section", code, "--code", "TIU", "--name", "TIU", "--questions", "5"
    )
    assert "Jumlah soal wajib" in tkd.refused(
        "exams", "section", code, "--code", "TIU", "--name", "TIU", "--minutes", "30"
    )
    assert "Bagian TIU tidak ada" in tkd.refused("exams", "fill", code, "TIU", "--from", "TIU")
    assert "setelah jam mulai" in tkd.refused(
        "sessions",
        "create",
        "--exam",
        code,
        "--name",
        "S",
        "--date",
        "2026-12-03",
        "--start",
        "10:00",
        "--end",
        "09:00",
    )
    assert "Sesi 999999999 tidak ada" in tkd.refused(
        "sessions", "delete", "999999999", "--reason", "x"
    )
    assert "tidak ada" in tkd.refused("candidates", "delete", "0000000", "--reason", "x")
    # Files that cannot be read or written are refused before anything is done or logged.
    assert "no such file" in tkd.refused("sessions", "add", "1", "--file", "/nonexistent/n.txt")
    assert "no such folder" in tkd.refused(
        "dashboard", "--exam", code, "--csv", "/nonexistent/a.csv"
    )
    assert "no such folder" in tkd.refused("sessions", "cards", "1", "--out", "/nonexistent/k.pdf")
    assert "no such folder" in tkd.refused("candidates", "template", "--out", "/nonexistent/t.xlsx")
    with Session(db_engine) as db:
        from exam_server.db.models import Exam, ExamSection

        exam = db.scalar(select(Exam).where(Exam.code == code))
        assert exam is not None
        assert db.scalar(select(ExamSection).where(ExamSection.exam_id == exam.id)) is None
        assert db.scalar(select(ExamSession).where(ExamSession.exam_id == exam.id)) is None
