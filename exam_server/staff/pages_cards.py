"""Printing participant cards: issuing passwords and the PDF in one step.

Only the HMAC of a password is stored, so the PDF is the one place a password exists in
clear. Printing "new" cards issues passwords only to candidates who have none yet;
"all" replaces every password in the session (the old cards stop working): it asks for a
tick-box confirmation, and skips whoever has already started the session.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from exam_server.delivery.credentials import hash_password
from exam_server.delivery.prepared import credentials_changed
from exam_server.staff.cards import render_cards
from exam_server.staff.sessions_store import get_session, session_cards, started_in_session
from exam_server.web.auth import page, services_of
from exam_server.web.identity import Staff
from exam_server.web.rendering import flash, redirect, request_lang


@page("cards.print")
async def print_cards(request: Request, staff: Staff) -> Response:
    services = services_of(request)
    session_id = request.path_params["session_id"]
    form = request.state.form
    which = "all" if form.get("which") == "all" else "new"
    per_page = 1 if form.get("layout") == "1" else 8
    lang = request_lang(request)
    if which == "all" and form.get("confirm") != "1":
        await flash(
            request,
            staff,
            "Centang konfirmasi untuk mencetak ulang semua kartu: kata sandi lama tidak "
            "berlaku lagi. Tidak ada yang diubah.",
            "Tick the confirmation to reprint every card: the old passwords stop "
            "working. Nothing was changed.",
        )
        return redirect(f"/sesi/{session_id}")
    async with services.sessions() as db, db.begin():
        session = await get_session(db, session_id)
        if session is None:
            return redirect("/sesi")
        started = await started_in_session(db, session.id) if which == "all" else 0
        cards = await session_cards(
            db,
            staff.actor,
            services.settings.secret_key_value,
            session,
            which,
            lang,
            login_url=str(request.base_url),
        )
    # A prepared session's 08:00 path learns the new passwords now (docs/operations.md).
    secret = services.settings.secret_key_value
    await credentials_changed(
        services.redis, [(c.participant_no, hash_password(secret, c.password)) for c in cards]
    )
    if started:
        await flash(
            request,
            staff,
            f"{started} peserta yang sudah mulai ujian dilewati: kata sandinya tetap.",
            f"{started} candidates who have started were skipped: their passwords stay.",
        )
    if not cards:
        await flash(
            request,
            staff,
            "Tidak ada peserta yang perlu dicetak kartunya.",
            "No candidate needs a card.",
        )
        return redirect(f"/sesi/{session_id}")
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
