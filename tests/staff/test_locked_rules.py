"""Rules fixed once anyone started (docs/scoring.md): a started exam's pass marks and
sections change only by an admin with a reason, and every result is then marked for
re-grade until the re-grade runs."""

from __future__ import annotations

from results.builders import add_candidate, build_exam, grade_all
from sqlalchemy import select
from sqlalchemy.orm import Session

from exam_server.db.models import ExamSection, Result
from exam_server.db.staff_models import AuditEntry

ANSWERS = ["A", "A", "A", "A", "A", None, "A", "B"]


def _twk(db_engine, exam_id: int) -> ExamSection:  # type: ignore[no-untyped-def]
    with Session(db_engine) as db:
        return db.scalar(
            select(ExamSection).where(ExamSection.exam_id == exam_id, ExamSection.code == "TWK")
        )


def _form(section: ExamSection, **changes: str) -> dict[str, str]:
    form = {
        "code": section.code,
        "name": section.name,
        "question_count": str(section.question_count),
        "model": "right_wrong",
        "points_correct": "5",
        "points_wrong": "0",
        "pass_mark": "15",
        "draw": "pool",
    }
    form.update(changes)
    return form


async def test_a_started_exam_refuses_a_rule_change_without_admin_and_reason(
    db_engine,
    services,
    panitia,
    admin,  # type: ignore[no-untyped-def]
) -> None:
    built = build_exam(db_engine)
    pno = add_candidate(db_engine, built, "Tono Kunci", ANSWERS)
    await grade_all(services, built)
    section = _twk(db_engine, built.exam_id)
    url = f"/panitia/ujian/{built.exam_id}/bagian/{section.id}"

    refused = await panitia.post(url, _form(section, pass_mark="10", rule_reason="salah ketik"))
    assert refused.status_code == 400 and "terkunci" in refused.text
    assert _twk(db_engine, built.exam_id).pass_mark == 15

    no_reason = await admin.post(url, _form(section, pass_mark="10"))
    assert no_reason.status_code == 400 and "Alasan perubahan aturan wajib" in no_reason.text
    assert _twk(db_engine, built.exam_id).pass_mark == 15

    done = await admin.post(url, _form(section, pass_mark="10", rule_reason="SK panitia no. 7"))
    assert done.status_code == 303, done.text
    assert _twk(db_engine, built.exam_id).pass_mark == 10
    with Session(db_engine) as db:
        result = db.get(Result, built.attempts[pno])
        assert result is not None and "SK panitia no. 7" in (result.stale_reason or "")
        assert (
            db.scalar(
                select(AuditEntry.reason).where(
                    AuditEntry.action == "exam.rules_changed",
                    AuditEntry.entity_id == str(built.exam_id),
                )
            )
            == "SK panitia no. 7"
        )
    page = await admin.get(f"/panitia/hasil/ujian/{built.exam_id}")
    assert "menunggu nilai ulang" in page.text and "SK panitia no. 7" in page.text

    # The explicit re-grade applies today's rules and clears the mark.
    assert (
        await admin.post(f"/panitia/hasil/ujian/{built.exam_id}/nilai-ulang")
    ).status_code == 200
    with Session(db_engine) as db:
        assert db.get(Result, built.attempts[pno]).stale_reason is None  # type: ignore[union-attr]
    page = await admin.get(f"/panitia/hasil/ujian/{built.exam_id}")
    assert "menunggu nilai ulang" not in page.text


async def test_an_exam_nobody_started_changes_freely(db_engine, panitia) -> None:  # type: ignore[no-untyped-def]
    built = build_exam(db_engine)
    add_candidate(db_engine, built, "Belum Mulai", None)
    section = _twk(db_engine, built.exam_id)
    resp = await panitia.post(
        f"/panitia/ujian/{built.exam_id}/bagian/{section.id}", _form(section, pass_mark="12")
    )
    assert resp.status_code == 303
    assert _twk(db_engine, built.exam_id).pass_mark == 12
