"""The attempt's story for the committee: ``/panitia/hasil/percobaan/{id}`` and its PDF.

Only roles that handle complaints and change exams (``exams.edit``: admin, panitia) read
it: it shows every answer a candidate gave. Each PDF taken is written to the audit log.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from exam_server.db.audit import record
from exam_server.results.rendering import render
from exam_server.results.story_pdf import render_story
from exam_server.results.story_store import load_story
from exam_server.web.auth import page, services_of
from exam_server.web.identity import Staff
from exam_server.web.rendering import error_page, request_lang


@page("exams.edit")
async def story_page(request: Request, staff: Staff) -> Response:
    async with services_of(request).sessions() as db:
        story = await load_story(db, request.path_params["attempt_id"])
    if story is None:
        return error_page(request, staff, 404, "Percobaan tidak ada.", "No such attempt.")
    return await render(request, "story.html", staff, story=story)


@page("exams.edit")
async def story_pdf(request: Request, staff: Staff) -> Response:
    attempt_id = request.path_params["attempt_id"]
    async with services_of(request).sessions() as db:
        story = await load_story(db, attempt_id)
    if story is None:
        return error_page(request, staff, 404, "Percobaan tidak ada.", "No such attempt.")
    data = await run_in_threadpool(render_story, story, request_lang(request))
    async with services_of(request).sessions() as db, db.begin():
        record(db, staff.actor, "result.story_pdf", "attempt", attempt_id)
    name = f"riwayat-{story.candidate.participant_no}.pdf"
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


routes = [
    Route("/hasil/percobaan/{attempt_id:int}", story_page, methods=["GET"]),
    Route("/hasil/percobaan/{attempt_id:int}/riwayat.pdf", story_pdf, methods=["GET"]),
]
