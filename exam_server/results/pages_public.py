"""Pages anyone may open: a candidate's own result, ``/verify`` and the live scoreboard.

A candidate proves who they are with their candidate token, which never travels in a URL
(URLs end up in logs): the JSON API takes it in the ``Authorization`` header, the HTML
page and the PDF take it from a POSTed form. ``/verify`` needs no login; it shows a
result only for a well-formed code that matches a released result, and then shows exactly
the slip, nothing more.
"""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from exam_server.delivery.credentials import CandidateClaims, TokenError
from exam_server.delivery.services import Services
from exam_server.results import scoreboard
from exam_server.results.rendering import render
from exam_server.results.slip import Slip, normalise_code
from exam_server.results.slip_pdf import render_slip
from exam_server.results.store import Lookup, slip_for_attempt, slip_for_code
from exam_server.results.story import SheetRow
from exam_server.results.story_store import load_story
from exam_server.staff.sessions_store import get_session
from exam_server.web.rendering import request_lang

PROBLEMS: dict[str, tuple[int, str, str]] = {
    "bad_token": (
        401,
        "Sesi Anda tidak sah. Silakan masuk lagi.",
        "Your session is not valid. Please log in again.",
    ),
    "expired_token": (
        401,
        "Sesi Anda sudah berakhir. Silakan masuk lagi.",
        "Your session has expired. Please log in again.",
    ),
    "not_found": (404, "Hasil tidak ditemukan.", "No such result."),
    "not_graded": (
        404,
        "Hasil belum tersedia: ujian belum selesai dinilai.",
        "No result yet: the test has not been graded.",
    ),
    "not_released": (
        403,
        "Hasil ujian ini belum diumumkan.",
        "Results of this test have not been released yet.",
    ),
}
FORM_LIMIT = 8 * 1024


def _services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _error(code: str, lang: str) -> JSONResponse:
    status, id_text, en_text = PROBLEMS[code]
    return JSONResponse(
        {"error": {"code": code, "message": en_text if lang == "en" else id_text}},
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


def _claims(services: Services, token: str) -> CandidateClaims | str:
    try:
        return services.tokens.read(token)
    except TokenError as exc:
        return exc.code


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


async def _form_token(request: Request) -> str:
    if int(request.headers.get("content-length") or 0) > FORM_LIMIT:
        return ""
    form = await request.form(max_files=0, max_fields=10)
    value = form.get("token")
    return value if isinstance(value, str) else ""


async def _own_slip(request: Request, token: str) -> tuple[Lookup, str]:
    services = _services(request)
    claims = _claims(services, token)
    if isinstance(claims, str):
        return Lookup(None, claims), request_lang(request)
    async with services.sessions() as db:
        return await slip_for_attempt(db, claims.attempt_id, _now()), claims.lang


def verify_url(request: Request, code: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/verify?code={code}"


def _pdf(request: Request, slip: Slip, lang: str) -> Response:
    data = render_slip(slip, verify_url(request, slip.verify_code), lang)
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="hasil-{slip.participant_no}.pdf"',
            "Cache-Control": "no-store",
        },
    )


async def candidate_result(request: Request) -> Response:
    """``GET /api/v1/candidate/result`` with ``Authorization: Bearer <token>``."""
    found, lang = await _own_slip(request, _bearer(request))
    if found.slip is None:
        return _error(found.problem or "not_found", lang)
    return JSONResponse(found.slip.as_json(), headers={"Cache-Control": "no-store"})


async def candidate_slip_pdf(request: Request) -> Response:
    """``POST /api/v1/candidate/result/slip.pdf`` with the Authorization header."""
    found, lang = await _own_slip(request, _bearer(request))
    if found.slip is None:
        return _error(found.problem or "not_found", lang)
    return _pdf(request, found.slip, request.query_params.get("lang") or lang)


async def result_page(request: Request) -> Response:
    """``POST /hasil`` with the token in a form field: the candidate's result page."""
    token = await _form_token(request)
    found, _ = await _own_slip(request, token)
    if found.slip is None:
        status, id_text, en_text = PROBLEMS[found.problem or "not_found"]
        return await render(
            request, "problem.html", status_code=status, id_text=id_text, en_text=en_text
        )
    sheet = await _own_sheet(request, token)
    return await render(
        request,
        "result.html",
        slip=found.slip,
        token=token,
        sheet=sheet,
        verify_url=verify_url(request, found.slip.verify_code),
    )


async def _own_sheet(request: Request, token: str) -> list[SheetRow] | None:
    """The candidate's own answer sheet, when their released result's exam allows it."""
    claims = _claims(_services(request), token)
    if isinstance(claims, str):
        return None
    async with _services(request).sessions() as db:
        story = await load_story(db, claims.attempt_id)
    if story is None or not story.exam.show_answer_sheet:
        return None
    return story.sheet


async def result_pdf(request: Request) -> Response:
    """``POST /hasil/slip.pdf`` with the token in a form field."""
    found, _ = await _own_slip(request, await _form_token(request))
    if found.slip is None:
        return _error(found.problem or "not_found", request_lang(request))
    return _pdf(request, found.slip, request_lang(request))


async def _verify_lookup(request: Request) -> tuple[str, str | None, Lookup | None]:
    raw = request.query_params.get("code", "")
    if not raw:
        return raw, None, None
    code = normalise_code(raw)
    if code is None:
        return raw, None, Lookup(None, "malformed")
    async with _services(request).sessions() as db:
        return raw, code, await slip_for_code(db, code, _now())


async def verify(request: Request) -> Response:
    """``GET /verify`` (a form) and ``GET /verify?code=...`` (the check)."""
    raw, _, found = await _verify_lookup(request)
    status = 200 if found is None or found.slip is not None else 404
    return await render(
        request,
        "verify.html",
        status_code=status,
        raw=raw[:64],
        found=found,
        pdf_url=f"/verify/slip.pdf?code={found.slip.verify_code}" if found and found.slip else "",
    )


async def verify_pdf(request: Request) -> Response:
    _, _, found = await _verify_lookup(request)
    if found is None or found.slip is None:
        return _error("not_found", request_lang(request))
    return _pdf(request, found.slip, request_lang(request))


async def board_page(request: Request) -> Response:
    """The projector page; it polls the JSON itself and says when the board is off."""
    session_id = request.path_params["session_id"]
    async with _services(request).sessions() as db:
        session = await get_session(db, session_id)
    if session is None:
        return await render(
            request,
            "problem.html",
            status_code=404,
            id_text="Sesi tidak ada.",
            en_text="No such session.",
        )
    return await render(request, "board.html", session=session, poll_ms=3000)


async def board_json(request: Request) -> Response:
    session_id = request.path_params["session_id"]
    services = _services(request)
    lang = request_lang(request)
    if not await scoreboard.is_on(services.redis, session_id):
        return JSONResponse(
            {
                "error": {
                    "code": "scoreboard_off",
                    "message": "Scoreboard is switched off."
                    if lang == "en"
                    else "Papan skor tidak aktif.",
                }
            },
            status_code=404,
            headers={"Cache-Control": "no-store"},
        )
    async with services.sessions() as db:
        session = await get_session(db, session_id)
        if session is None:
            return _error("not_found", lang)
        data = await scoreboard.cached_board(db, services.redis, session, _now())
    return Response(data, media_type="application/json", headers={"Cache-Control": "no-store"})


routes = [
    Route("/api/v1/candidate/result", candidate_result, methods=["GET"]),
    Route("/api/v1/candidate/result/slip.pdf", candidate_slip_pdf, methods=["POST"]),
    Route("/hasil", result_page, methods=["POST"]),
    Route("/hasil/slip.pdf", result_pdf, methods=["POST"]),
    Route("/verify", verify, methods=["GET"]),
    Route("/verify/slip.pdf", verify_pdf, methods=["GET"]),
    Route("/papan/{session_id:int}", board_page, methods=["GET"]),
    Route("/papan/{session_id:int}.json", board_json, methods=["GET"]),
]
