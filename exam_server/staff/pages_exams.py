"""Exam pages: the exam's settings, its sections, and each section's questions from the bank."""

from __future__ import annotations

import random
from dataclasses import asdict

from sqlalchemy import delete, func, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from exam_server.models import (
    Attempt,
    Exam,
    ExamQuestion,
    ExamSection,
    ExamSession,
    Question,
)
from exam_server.papers import paper_ids, section_pools
from exam_server.staff.audit import changed, record, snapshot
from exam_server.staff.auth import Staff, page, services_of
from exam_server.staff.exam_forms import (
    DRAWS,
    RELEASES,
    SCORING_MODELS,
    FormError,
    exam_values,
    section_values,
)
from exam_server.staff.pages_bank import bank_counts
from exam_server.staff.rendering import error_page, flash, redirect, render, request_lang
from question_bank.assembly import ItemRef

EXAM_FIELDS = ("code", "title", "shared_minutes", "results_release", "release_at", "total_pass_mark",
               "shuffle_questions", "shuffle_options", "rules_id", "rules_en")  # fmt: skip
SECTION_FIELDS = ("code", "name", "question_count", "minutes", "scoring", "pass_mark", "draw",
                  "balance_difficulty", "category_quota")  # fmt: skip


@page("exams.edit")
async def exam_list(request: Request, staff: Staff) -> Response:
    return await _exams_page(request, staff)


async def _exams_page(request: Request, staff: Staff, error: str = "") -> Response:
    async with services_of(request).sessions() as db:
        exams = list(await db.scalars(select(Exam).order_by(Exam.created_at.desc())))
    return await render(
        request, staff, "exams.html", status_code=400 if error else 200,
        exams=exams, error=error, releases=RELEASES,
    )  # fmt: skip


@page("exams.edit")
async def exam_create(request: Request, staff: Staff) -> Response:
    try:
        values = exam_values(request.state.form)
    except FormError as exc:
        return await _exams_page(request, staff, exc.text(request_lang(request)))
    async with services_of(request).sessions() as db, db.begin():
        if await db.scalar(select(Exam.id).where(Exam.code == values.code)):
            taken = f"Kode {values.code} sudah dipakai. / The code {values.code} is taken."
            return await _exams_page(
                request, staff, taken.split(" / ")[request_lang(request) == "en"]
            )
        exam = Exam(**asdict(values))
        db.add(exam)
        await db.flush()
        record(db, staff.actor, "exam.create", "exam", exam.id, new=snapshot(exam, EXAM_FIELDS))
    return redirect(f"/ujian/{exam.id}")


async def _exam_page(request: Request, staff: Staff, exam_id: int, error: str = "") -> Response:
    async with services_of(request).sessions() as db:
        exam = await db.get(Exam, exam_id)
        if exam is None:
            return error_page(request, staff, 404, "Ujian tidak ada.", "No such exam.")
        sections = list(
            await db.scalars(
                select(ExamSection)
                .where(ExamSection.exam_id == exam_id)
                .order_by(ExamSection.position)
            )
        )
        pool_refs = await section_pools(db, exam_id)
        bank = await bank_counts(db)
        sessions = list(
            await db.scalars(
                select(ExamSession)
                .where(ExamSession.exam_id == exam_id)
                .order_by(ExamSession.starts_at)
            )
        )
    pools = {section_id: len(refs) for section_id, refs in pool_refs.items()}
    return await render(
        request, staff, "exam_edit.html", status_code=400 if error else 200,
        exam=exam, sections=sections, pools=pools, draws=DRAWS,
        draw_problems=_draw_problems(sections, pool_refs, request_lang(request)), bank=bank, sessions=sessions, error=error,
        releases=RELEASES, models=SCORING_MODELS,
    )  # fmt: skip


def _draw_problems(
    sections: list[ExamSection], pools: dict[int, list[ItemRef]], lang: str
) -> dict[int, str]:
    """Why a section's pool cannot give every candidate a full paper, by section id."""
    problems = {}
    for section in sections:
        try:
            (ids,) = paper_ids([section], pools, "check", exam_seed="check")
        except ValueError as exc:
            problems[section.id] = str(exc).split(" / ")[lang == "en"]
            continue
        if len(ids) < section.question_count:
            problems[section.id] = (
                f"Kumpulan soal hanya {len(ids)}, kurang dari {section.question_count} per peserta."
                if lang == "id"
                else f"The pool holds only {len(ids)}, fewer than {section.question_count} per candidate."
            )
    return problems


@page("exams.edit")
async def exam_view(request: Request, staff: Staff) -> Response:
    return await _exam_page(request, staff, request.path_params["exam_id"])


@page("exams.edit")
async def exam_update(request: Request, staff: Staff) -> Response:
    exam_id = request.path_params["exam_id"]
    try:
        values = exam_values(request.state.form)
    except FormError as exc:
        return await _exam_page(request, staff, exam_id, exc.text(request_lang(request)))
    async with services_of(request).sessions() as db, db.begin():
        exam = await db.get(Exam, exam_id, with_for_update=True)
        if exam is None:
            return error_page(request, staff, 404, "Ujian tidak ada.", "No such exam.")
        clash = await db.scalar(select(Exam.id).where(Exam.code == values.code, Exam.id != exam.id))
        if clash:
            taken = f"Kode {values.code} sudah dipakai. / The code {values.code} is taken."
            return await _exam_page(
                request, staff, exam_id, taken.split(" / ")[request_lang(request) == "en"]
            )
        old, new = changed(snapshot(exam, EXAM_FIELDS), asdict(values))
        for key, value in asdict(values).items():
            setattr(exam, key, value)
        if new:
            record(db, staff.actor, "exam.update", "exam", exam.id, old=old, new=new)
    await flash(request, staff, "Ujian disimpan.", "Exam saved.")
    return redirect(f"/ujian/{exam_id}")


@page("exams.edit")
async def section_save(request: Request, staff: Staff) -> Response:
    """Add a section (no id in the path) or change one."""
    exam_id = request.path_params["exam_id"]
    section_id = request.path_params.get("section_id")
    lang = request_lang(request)
    async with services_of(request).sessions() as db, db.begin():
        exam = await db.get(Exam, exam_id, with_for_update=True)
        if exam is None:
            return error_page(request, staff, 404, "Ujian tidak ada.", "No such exam.")
        try:
            values = section_values(
                request.state.form, shared_clock=exam.shared_minutes is not None
            )
        except FormError as exc:
            return await _exam_page(request, staff, exam_id, exc.text(lang))
        clash = await db.scalar(
            select(ExamSection.id).where(
                ExamSection.exam_id == exam_id, ExamSection.code == values.code,
                ExamSection.id != (section_id or 0),
            )
        )  # fmt: skip
        if clash:
            taken = (f"Kode bagian {values.code} sudah ada. / "
                     f"The section code {values.code} is already used.")  # fmt: skip
            return await _exam_page(request, staff, exam_id, taken.split(" / ")[lang == "en"])
        if section_id is None:
            position = await db.scalar(
                select(func.coalesce(func.max(ExamSection.position) + 1, 0)).where(
                    ExamSection.exam_id == exam_id
                )
            )
            section = ExamSection(exam_id=exam_id, position=position, **asdict(values))
            db.add(section)
            await db.flush()
            record(
                db,
                staff.actor,
                "section.create",
                "exam",
                exam_id,
                new={"section": snapshot(section, SECTION_FIELDS)},
            )
        else:
            section = await db.get(ExamSection, section_id)
            if section is None or section.exam_id != exam_id:
                return error_page(request, staff, 404, "Bagian tidak ada.", "No such section.")
            old, new = changed(snapshot(section, SECTION_FIELDS), asdict(values))
            for key, value in asdict(values).items():
                setattr(section, key, value)
            if new:
                record(
                    db,
                    staff.actor,
                    "section.update",
                    "exam",
                    exam_id,
                    old={"section": section.code, **old},
                    new=new,
                )
    await flash(request, staff, f"Bagian {values.code} disimpan.", f"Section {values.code} saved.")
    return redirect(f"/ujian/{exam_id}")


@page("exams.edit")
async def section_questions(request: Request, staff: Staff) -> Response:
    """Fill a section's pool from the bank: by bank section and category, first or random."""
    exam_id, section_id = request.path_params["exam_id"], request.path_params["section_id"]
    form = request.state.form
    bank_section, category = str(form.get("bank_section", "")), str(form.get("category", ""))
    order = str(form.get("order", "first"))
    count_raw = str(form.get("count", "")).strip()
    async with services_of(request).sessions() as db, db.begin():
        section = await db.get(ExamSection, section_id, with_for_update=True)
        if section is None or section.exam_id != exam_id:
            return error_page(request, staff, 404, "Bagian tidak ada.", "No such section.")
        if await db.scalar(select(Attempt.id).where(Attempt.exam_id == exam_id).limit(1)):
            return await _exam_page(
                request, staff, exam_id,
                "Ujian sudah dimulai peserta; soal tidak dapat diganti."
                if request_lang(request) == "id"
                else "Candidates have started this exam; its questions cannot change.",
            )  # fmt: skip
        query = select(Question.id).where(Question.section == bank_section)
        if category:
            query = query.where(Question.category == category)
        ids = list(await db.scalars(query.order_by(Question.id)))
        count = int(count_raw) if count_raw.isdigit() and int(count_raw) > 0 else len(ids)
        if count > len(ids) or not ids:
            return await _exam_page(
                request, staff, exam_id,
                f"Bank hanya punya {len(ids)} soal untuk {bank_section}/{category or '*'}, diminta {count}."
                if request_lang(request) == "id"
                else f"The bank has only {len(ids)} questions for {bank_section}/{category or '*'}, {count} asked.",
            )  # fmt: skip
        chosen = random.SystemRandom().sample(ids, count) if order == "random" else ids[:count]
        old_ids = list(
            await db.scalars(
                select(ExamQuestion.question_id)
                .where(ExamQuestion.section_id == section.id)
                .order_by(ExamQuestion.position)
            )
        )
        await db.execute(delete(ExamQuestion).where(ExamQuestion.section_id == section.id))
        db.add_all(
            ExamQuestion(section_id=section.id, question_id=q, position=i)
            for i, q in enumerate(chosen)
        )
        note = ""
        if section.question_count > len(chosen):
            section.question_count = len(chosen)  # a paper cannot draw more than its pool
            note = f" question_count={len(chosen)}"
        record(
            db, staff.actor, "section.questions", "exam", exam_id,
            old={"section": section.code, "question_ids": old_ids},
            new={"section": section.code, "question_ids": chosen,
                 "from": f"{bank_section}/{category or '*'} {order}{note}"},
        )  # fmt: skip
    await flash(
        request, staff,
        f"{len(chosen)} soal dipasang pada bagian {section.code}.",
        f"{len(chosen)} questions set for section {section.code}.",
    )  # fmt: skip
    return redirect(f"/ujian/{exam_id}")


routes = [
    Route("/ujian", exam_list, methods=["GET"]),
    Route("/ujian", exam_create, methods=["POST"]),
    Route("/ujian/{exam_id:int}", exam_view, methods=["GET"]),
    Route("/ujian/{exam_id:int}", exam_update, methods=["POST"]),
    Route("/ujian/{exam_id:int}/bagian", section_save, methods=["POST"]),
    Route("/ujian/{exam_id:int}/bagian/{section_id:int}", section_save, methods=["POST"]),
    Route("/ujian/{exam_id:int}/bagian/{section_id:int}/soal", section_questions, methods=["POST"]),
]
