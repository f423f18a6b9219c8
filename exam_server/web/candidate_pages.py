"""The candidate's page: one light HTML shell plus ``exam.js``; no build step, no CDN.

Everything the candidate sees is served from our own server (exam rooms may have no
internet beyond it). Bahasa Indonesia by default; ``?lang=en`` or the ``tkd_lang`` cookie
switches to English. The strings live in one catalogue per language
(``exam_server/static/i18n/{id,en}.json``), embedded into the page for the script.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

STATIC = Path(__file__).resolve().parents[1] / "static"
I18N = STATIC / "i18n"
LANGS = ("id", "en")


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    return json.loads((I18N / f"{lang}.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def page_lang(request: Request) -> str:
    lang = request.query_params.get("lang") or request.cookies.get("tkd_lang")
    if lang in LANGS:
        return str(lang)
    return str(request.app.state.settings.default_lang)


async def candidate_app(request: Request) -> Response:
    lang = page_lang(request)
    strings = catalogue(lang)
    response = request.app.state.templates.TemplateResponse(
        request,
        "candidate/app.html",
        {
            "lang": lang,
            "other_lang": "en" if lang == "id" else "id",
            "s": strings,
            # </ must not end the script element that carries the catalogue.
            "catalogue_json": json.dumps(strings, ensure_ascii=False).replace("</", "<\\/"),
        },
    )
    if request.query_params.get("lang") in LANGS:
        response.set_cookie("tkd_lang", lang, max_age=365 * 86400, samesite="lax")
    response.headers["Cache-Control"] = "no-cache"
    return response


@functools.cache
def service_worker_script() -> bytes:
    return (STATIC / "sw.js").read_bytes()


async def service_worker(request: Request) -> Response:
    """The service worker that reopens the page without signal (``static/sw.js``).

    Served from the root, not /static, so that its scope covers ``/``; ``no-cache`` so a new
    release replaces it on the phone's next load.
    """
    return Response(
        service_worker_script(),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


routes = [
    Route("/", candidate_app, methods=["GET"]),
    Route("/ujian", candidate_app, methods=["GET"]),
    Route("/sw.js", service_worker, methods=["GET"]),
]
