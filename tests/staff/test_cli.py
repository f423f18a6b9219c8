"""``tkd staff create`` and ``tkd candidates import`` on the run's real services
(the ``cli`` fixture is in conftest)."""

from __future__ import annotations

import json
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from exam_server.db.models import Candidate
from exam_server.db.staff_models import AuditEntry, StaffUser


def unique_nik() -> str:
    return "77" + "".join(secrets.choice("0123456789") for _ in range(14))


def test_staff_create_makes_the_first_admin(cli, db_engine, capsys) -> None:  # type: ignore[no-untyped-def]
    name = f"admin-{secrets.token_hex(3)}"
    assert (
        cli("staff", "create", "--username", name, "--password-stdin", stdin="Rahasia-Kuat-2026\n")
        == 0
    )
    assert "created" in capsys.readouterr().out
    with Session(db_engine) as db:
        user = db.scalar(select(StaffUser).where(StaffUser.username == name))
        assert user is not None and user.role == "admin"
        assert user.password_hash.startswith("$argon2id$")
        entry = db.scalar(
            select(AuditEntry).where(
                AuditEntry.entity_id == str(user.id), AuditEntry.action == "staff.create"
            )
        )
        assert entry is not None and entry.username.startswith("cli:")


def test_staff_create_refuses_a_weak_password_in_one_line(cli, capsys) -> None:  # type: ignore[no-untyped-def]
    assert cli("staff", "create", "--username", "lemah", "--password-stdin", stdin="123\n") == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("tkd: ") and "\n" not in err and "10 characters" in err


def test_candidates_import_is_all_or_nothing_with_json(cli, tmp_path, db_engine, capsys) -> None:  # type: ignore[no-untyped-def]
    good, other = unique_nik(), unique_nik()
    bad = tmp_path / "peserta.csv"
    bad.write_text(
        f"NIK,Nama,Tanggal Lahir,Unit Kerja/OPD\n{good},Ani,1990-01-02,Dinas A\n12,Salah,,Dinas A\n"
    )
    assert cli("candidates", "import", str(bad), "--json") == 1
    out = json.loads(capsys.readouterr().out)
    assert out["imported"] == 0
    assert out["errors"] == [
        {"line": 3, "item": "12", "message": "NIK harus 16 angka, tertulis '12'."}
    ]
    with Session(db_engine) as db:
        assert db.scalar(select(Candidate).where(Candidate.nik == good)) is None

    ok = tmp_path / "peserta2.csv"
    ok.write_text(
        f"NIK,Nama,Tanggal Lahir,Unit Kerja/OPD\n{good},Ani,1990-01-02,Dinas A\n{other},Bima,,Dinas B\n"
    )
    assert cli("candidates", "import", str(ok), "--dry-run", "--json") == 0
    dry = json.loads(capsys.readouterr().out)
    assert dry["imported"] == 2 and dry["dry_run"] is True
    with Session(db_engine) as db:
        assert db.scalar(select(Candidate).where(Candidate.nik == good)) is None

    assert cli("candidates", "import", str(ok), "--json") == 0
    assert json.loads(capsys.readouterr().out)["imported"] == 2
    # The same file again: the same people, nothing new.
    assert cli("candidates", "import", str(ok), "--json") == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["imported"], again["duplicates"]) == (0, 2)
    with Session(db_engine) as db:
        ani = db.scalar(select(Candidate).where(Candidate.nik == good))
        assert ani is not None and ani.unit == "Dinas A" and ani.participant_no.isdigit()


def test_candidates_import_of_a_missing_file_says_so(cli, capsys) -> None:  # type: ignore[no-untyped-def]
    assert cli("candidates", "import", "/nonexistent/peserta.csv") == 1
    assert "no such file" in capsys.readouterr().err
