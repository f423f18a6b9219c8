"""Printing participant cards: issuing passwords and the PDF in one step.

Only the HMAC of a password is stored, so the PDF is the one place a password exists in
clear. Printing "new" cards issues passwords only to candidates who have none yet;
"all" replaces every password in the session (the old cards stop working).
"""

from __future__ import annotations

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from exam_server.models import Candidate, Exam, ExamSession, SessionCandidate
from exam_server.staff.auth import Staff, page, services_of
from exam_server.staff.candidates_store import issue_passwords
from exam_server.staff.cards import Card, render_cards
from exam_server.staff.models import CredentialIssue
from exam_server.staff.rendering import LOCAL_TZ, flash, redirect, request_lang

DAYS_ID = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]
DAYS_EN = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def when_text(session: ExamSession, lang: str) -> str:
    start, end = session.starts_at.astimezone(LOCAL_TZ), session.ends_at.astimezone(LOCAL_TZ)
    day = (DAYS_EN if lang == "en" else DAYS_ID)[start.weekday()]
    return f"{day} {start:%d-%m-%Y %H:%M}-{end:%H:%M} WIB"


@page("cards.print")
async def print_cards(request: Request, staff: Staff) -> Response:
    services = services_of(request)
    session_id = request.path_params["session_id"]
    form = request.state.form
    which = "all" if form.get("which") == "all" else "new"
    per_page = 1 if form.get("layout") == "1" else 8
    lang = request_lang(request)
    async with services.sessions() as db, db.begin():
        session = await db.get(ExamSession, session_id)
        if session is None:
            return redirect("/sesi")
        exam = await db.get(Exam, session.exam_id)
        assert exam is not None
        query = (
            select(Candidate)
            .join(SessionCandidate, SessionCandidate.candidate_id == Candidate.id)
            .where(SessionCandidate.session_id == session_id)
        )
        if which == "new":
            query = query.where(Candidate.id.not_in(select(CredentialIssue.candidate_id)))
        people = {c.id: c for c in await db.scalars(query)}
        if not people:
            await flash(
                request, staff,
                "Tidak ada peserta yang perlu dicetak kartunya.",
                "No candidate needs a card.",
            )  # fmt: skip
            return redirect(f"/sesi/{session_id}")
        issued = await issue_passwords(
            db, staff.actor, services.settings.secret_key_value, list(people),
            f"cards session={session_id} which={which}",
        )  # fmt: skip
    when = when_text(session, lang)
    cards = [
        Card(
            name=people[i.candidate_id].name,
            participant_no=i.participant_no,
            password=i.password,
            exam_title=exam.title,
            session=session.name,
            when=when,
            room=session.room,
            unit=people[i.candidate_id].unit,
        )
        for i in issued
    ]
    pdf = await run_in_threadpool(render_cards, cards, per_page, lang)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="kartu-sesi-{session_id}.pdf"',
            "Cache-Control": "no-store",  # it holds passwords
        },
    )


routes = [Route("/sesi/{session_id:int}/kartu", print_cards, methods=["POST"])]
