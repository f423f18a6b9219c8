"""Question images, never public (docs/security.md, "Question images").

A candidate's question message carries an image path with a signed grant naming the
attempt and the question; the image is served only while that attempt is running and its
paper holds that question. Staff see images under ``/panitia`` (where their session
cookie is sent) with the bank capability. Every other request gets the same 404.
"""

from __future__ import annotations

import time

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from exam_server.db.models import QuestionImage
from exam_server.delivery.seq import Status
from exam_server.delivery.services import Services
from exam_server.web.auth import page
from exam_server.web.identity import Staff

NOT_FOUND = 404


async def _image(services: Services, question_id: int, name: str) -> Response:
    async with services.sessions() as db:
        image = await db.scalar(
            select(QuestionImage).where(
                QuestionImage.question_id == question_id, QuestionImage.name == name
            )
        )
    if image is None:
        return Response(status_code=NOT_FOUND)
    return Response(
        image.data, media_type=image.media_type, headers={"Cache-Control": "private, max-age=86400"}
    )


async def candidate_image(request: Request) -> Response:
    services: Services = request.app.state.services
    question_id = request.path_params["question_id"]
    grant = services.tokens.read_media_grant(request.path_params["grant"])
    if grant is None or grant[1] != question_id:
        return Response(status_code=NOT_FOUND)
    attempt_id = grant[0]
    paper = await services.papers.paper(attempt_id)
    if paper is None or question_id not in paper.question_ids:
        return Response(status_code=NOT_FOUND)
    snapshot = await services.store.load(attempt_id)
    if snapshot is None:
        snapshot = await services.restore_checkpoint(attempt_id)
    if snapshot.clock.status(int(time.time() * 1000)) is not Status.RUNNING:
        return Response(status_code=NOT_FOUND)
    return await _image(services, question_id, request.path_params["name"])


@page("bank.edit")
async def staff_image(request: Request, staff: Staff) -> Response:
    services: Services = request.app.state.services
    return await _image(services, request.path_params["question_id"], request.path_params["name"])


public_routes = [
    Route("/media/{question_id:int}/{grant:str}/{name:str}", candidate_image),
]
staff_routes = [
    Route("/bank/media/{question_id:int}/{name:str}", staff_image),
]
