"""Exam pages: settings, sections with scoring, questions from the bank; the bank page."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from staff.support import StaffClient, log_in, make_exam, make_staff, seed_bank

from exam_server.db.models import Exam, ExamQuestion, ExamSection
from exam_server.db.staff_models import AuditEntry
from exam_server.staff.exam_forms import FormError, exam_values, section_values

SECTION = {
    "code": "twk",
    "name": "Tes Wawasan Kebangsaan",
    "question_count": "3",
    "model": "right_wrong",
    "points_correct": "5",
    "points_wrong": "0",
    "pass_mark": "65",
}


def test_a_section_form_becomes_a_scoring_rule() -> None:
    values = section_values(SECTION, shared_clock=True)
    assert values.code == "TWK" and values.question_count == 3 and values.pass_mark == 65
    assert values.scoring == {
        "model": "right_wrong",
        "points_correct": 5,
        "points_wrong": 0,
        "points_blank": 0,
    }
    assert section_values({**SECTION, "model": "weighted"}, True).scoring == {"model": "weighted"}


def test_sections_need_minutes_when_the_exam_has_no_shared_clock() -> None:
    with pytest.raises(FormError, match="durasi setiap bagian"):
        section_values(SECTION, shared_clock=False)
    with pytest.raises(FormError, match="negative"):
        section_values({**SECTION, "points_wrong": "-1"}, shared_clock=True)


def test_results_after_a_time_need_that_time() -> None:
    base = {"code": "A1", "title": "A"}
    with pytest.raises(FormError):
        exam_values({**base, "results_release": "after"})
    values = exam_values(
        {**base, "results_release": "after", "release_date": "2026-12-01", "release_time": "09:00"}
    )
    assert values.release_at is not None and values.release_at.hour == 2  # 09:00 WIB is 02:00 UTC


async def test_a_panitia_builds_an_exam_from_the_bank(panitia: StaffClient, services) -> None:  # type: ignore[no-untyped-def]
    await seed_bank(services)
    exam_id = await make_exam(panitia)
    assert (await panitia.post(f"/panitia/ujian/{exam_id}/bagian", SECTION)).status_code == 303
    async with services.sessions() as db:
        section = await db.scalar(select(ExamSection).where(ExamSection.exam_id == exam_id))
    resp = await panitia.post(
        f"/panitia/ujian/{exam_id}/bagian/{section.id}/soal",
        {"bank_section": "TWK", "category": "", "count": "3", "order": "random"},
    )
    assert resp.status_code == 303
    page = await panitia.get(f"/panitia/ujian/{exam_id}")
    assert "3 soal di kumpulan" in page.text
    async with services.sessions() as db:
        pool = list(
            await db.scalars(select(ExamQuestion).where(ExamQuestion.section_id == section.id))
        )
        actions = list(
            await db.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.entity == "exam", AuditEntry.entity_id == str(exam_id))
                .order_by(AuditEntry.id)
            )
        )
    assert len(pool) == 3
    assert actions == ["exam.create", "section.create", "section.questions"]


async def test_asking_for_more_questions_than_the_bank_has_is_refused(
    panitia: StaffClient, services
) -> None:  # type: ignore[no-untyped-def]
    await seed_bank(services)
    exam_id = await make_exam(panitia)
    await panitia.post(f"/panitia/ujian/{exam_id}/bagian", SECTION)
    async with services.sessions() as db:
        section = await db.scalar(select(ExamSection).where(ExamSection.exam_id == exam_id))
    resp = await panitia.post(
        f"/panitia/ujian/{exam_id}/bagian/{section.id}/soal",
        {"bank_section": "TWK", "count": "9999"},
    )
    assert resp.status_code == 400 and "Bank hanya punya" in resp.text


async def test_changing_exam_settings_logs_old_and_new(panitia: StaffClient, services) -> None:  # type: ignore[no-untyped-def]
    exam_id = await make_exam(panitia)
    async with services.sessions() as db:
        exam = await db.get(Exam, exam_id)
    resp = await panitia.post(
        f"/panitia/ujian/{exam_id}",
        {
            "code": exam.code,
            "title": "Seleksi Uji",
            "shared_minutes": "100",
            "results_release": "never",
            "shuffle_questions": "1",
            "shuffle_options": "1",
        },
    )
    assert resp.status_code == 303
    async with services.sessions() as db:
        entry = await db.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "exam.update", AuditEntry.entity_id == str(exam_id)
            )
        )
    assert entry.old == {"shared_minutes": 90, "results_release": "immediate"}
    assert entry.new == {"shared_minutes": 100, "results_release": "never"}


async def test_a_duplicate_exam_code_is_refused(panitia: StaffClient, services) -> None:  # type: ignore[no-untyped-def]
    exam_id = await make_exam(panitia)
    async with services.sessions() as db:
        code = (await db.get(Exam, exam_id)).code
    resp = await panitia.post("/panitia/ujian", {"code": code, "title": "Lagi"})
    assert resp.status_code == 400 and "sudah dipakai" in resp.text


@pytest.mark.parametrize("role", ["proctor", "viewer"])
async def test_proctors_and_viewers_cannot_edit_exams_or_the_bank(
    role, app, services, panitia
) -> None:  # type: ignore[no-untyped-def]
    exam_id = await make_exam(panitia)
    client = await log_in(app, await make_staff(services, role))
    for path in ("/panitia/ujian", f"/panitia/ujian/{exam_id}", "/panitia/bank"):
        assert (await client.get(path)).status_code == 403, path
    assert (await client.post(f"/panitia/ujian/{exam_id}/bagian", SECTION)).status_code == 403
    assert (await client.post("/panitia/bank/impor", {})).status_code == 403
    await client.http.aclose()


async def test_the_bank_page_counts_questions_by_section(panitia: StaffClient, services) -> None:  # type: ignore[no-untyped-def]
    await seed_bank(services)
    page = await panitia.get("/panitia/bank")
    assert page.status_code == 200 and "<td>TWK</td>" in page.text


async def test_removing_a_section_closes_ranks_and_keeps_it_in_the_audit_log(
    panitia: StaffClient, services, settings
) -> None:  # type: ignore[no-untyped-def]
    from staff.support import exam_with_questions, import_candidates, make_session, new_nik, reissue

    from exam_server.db.models import Candidate
    from exam_server.delivery.credentials import session_token

    exam_id = await exam_with_questions(panitia, services)  # TWK with three questions
    for code in ("TIU", "TKP"):
        form = {"code": code, "name": code, "question_count": "1", "model": "right_wrong"}
        assert (await panitia.post(f"/panitia/ujian/{exam_id}/bagian", form)).status_code == 303
    async with services.sessions() as db:
        twk, tiu, tkp = list(
            await db.scalars(
                select(ExamSection)
                .where(ExamSection.exam_id == exam_id)
                .order_by(ExamSection.position)
            )
        )
    done = await panitia.post(f"/panitia/ujian/{exam_id}/bagian/{twk.id}/hapus")
    assert done.status_code == 303
    async with services.sessions() as db:
        left = [
            (s.code, s.position)
            for s in await db.scalars(
                select(ExamSection)
                .where(ExamSection.exam_id == exam_id)
                .order_by(ExamSection.position)
            )
        ]
        pool = await db.scalar(select(ExamQuestion).where(ExamQuestion.section_id == twk.id))
        entry = await db.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "section.delete", AuditEntry.entity_id == str(exam_id)
            )
        )
    assert left == [("TIU", 0), ("TKP", 1)] and pool is None
    assert entry.old["section"]["code"] == "TWK" and len(entry.old["question_ids"]) == 3

    # Once a candidate has started, the paper is evidence: no section goes.
    await panitia.post(f"/panitia/ujian/{exam_id}/bagian/{tkp.id}/hapus")
    nik = new_nik()
    await import_candidates(panitia, [(nik, "Peserta Bagian", "Dinas Bagian")])
    session_id = await make_session(panitia, exam_id, "Sesi Bagian")
    await panitia.post(f"/panitia/sesi/{session_id}/tambah", {"numbers": nik})
    await seed_bank(services)
    page = await panitia.get(f"/panitia/ujian/{exam_id}")
    assert "Hapus bagian" in page.text
    # Give TIU a pool so that the exam can open, then start it.
    await panitia.post(
        f"/panitia/ujian/{exam_id}/bagian/{tiu.id}/soal", {"bank_section": "TIU", "count": "1"}
    )
    async with services.sessions() as db:
        candidate = await db.scalar(select(Candidate).where(Candidate.nik == nik))
    login = await panitia.http.post(
        "/api/v1/candidate/login",
        json={
            "participant_no": candidate.participant_no,
            "password": await reissue(panitia, candidate.id),
            "session_token": session_token(settings.secret_key_value, session_id, 900),
        },
    )
    assert login.status_code == 200, login.text
    refused = await panitia.post(f"/panitia/ujian/{exam_id}/bagian/{tiu.id}/hapus")
    assert refused.status_code == 400 and "bagian tidak dapat dihapus" in refused.text
    async with services.sessions() as db:
        assert await db.get(ExamSection, tiu.id) is not None
