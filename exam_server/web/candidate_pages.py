"""The candidate's page: one light HTML shell plus ``exam.js``; no build step, no CDN.

Everything the candidate sees is served from our own server (exam rooms may have no
internet beyond it). Bahasa Indonesia by default; ``?lang=en`` or the ``tkd_lang`` cookie
switches to English. The strings live in one catalogue per language
(``exam_server/static/i18n/{id,en}.json``), embedded into the page for the script.

The page, its script, style, service worker and icon go out gzip-compressed where the
browser accepts it, each with an ETag so that a revalidation (the service worker's install,
every later load) costs a 304 instead of the file again (docs/client.md, "Size").
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

STATIC = Path(__file__).resolve().parents[1] / "static"
I18N = STATIC / "i18n"
LANGS = ("id", "en")
# The files the candidate's phone loads, with their type; served here rather than by the
# /static mount so that they are compressed and carry a validator.
SHELL_FILES = {
    "exam.js": "text/javascript; charset=utf-8",
    "exam.css": "text/css; charset=utf-8",
    "sw.js": "text/javascript; charset=utf-8",
}
ICON_MAX_AGE_S = 7 * 86400


@dataclass(frozen=True)
class Encoded:
    """One body in the forms we send: as is and gzip-compressed, with its ETag."""

    body: bytes
    gzipped: bytes
    etag: str  # quoted; the gzip form's tag adds "-gz" inside the quotes


def encode(body: bytes, level: int = 9) -> Encoded:
    digest = hashlib.sha256(body).hexdigest()[:20]
    return Encoded(body, gzip.compress(body, compresslevel=level, mtime=0), f'"{digest}"')


def accepts_gzip(accept_encoding: str) -> bool:
    """True where ``Accept-Encoding`` lists gzip (or ``*``) without ``q=0``."""
    for part in accept_encoding.lower().split(","):
        name, _, params = part.strip().partition(";")
        if name.strip() not in ("gzip", "*"):
            continue
        q = params.strip()
        if q.startswith("q="):
            try:
                return float(q[2:]) > 0
            except ValueError:
                return False
        return True
    return False


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Whether ``If-None-Match`` names this body, in either of its encodings."""
    if if_none_match.strip() == "*":
        return True
    bare = etag.strip('"')
    for tag in if_none_match.split(","):
        tag = tag.strip().removeprefix("W/").strip('"')
        if tag in (bare, bare + "-gz"):
            return True
    return False


def negotiated(
    request: Request, enc: Encoded, media_type: str, headers: dict[str, str]
) -> Response:
    gz = accepts_gzip(request.headers.get("accept-encoding", "")) and len(enc.gzipped) < len(
        enc.body
    )
    out = dict(headers)
    out["ETag"] = enc.etag[:-1] + '-gz"' if gz else enc.etag
    out["Vary"] = "Accept-Encoding"
    if etag_matches(request.headers.get("if-none-match", ""), enc.etag):
        return Response(status_code=304, headers=out)
    if gz:
        out["Content-Encoding"] = "gzip"
    return Response(enc.gzipped if gz else enc.body, media_type=media_type, headers=out)


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
    rendered = request.app.state.templates.get_template("candidate/app.html").render(
        lang=lang,
        other_lang="en" if lang == "id" else "id",
        s=strings,
        # </ must not end the script element that carries the catalogue.
        catalogue_json=json.dumps(strings, ensure_ascii=False).replace("</", "<\\/"),
    )
    # Level 6: rendered per request; the page is a few KB.
    response = negotiated(
        request,
        encode(rendered.encode("utf-8"), level=6),
        "text/html; charset=utf-8",
        {"Cache-Control": "no-cache"},
    )
    if request.query_params.get("lang") in LANGS:
        response.set_cookie("tkd_lang", lang, max_age=365 * 86400, samesite="lax")
    return response


@functools.cache
def shell_file(name: str) -> Encoded:
    return encode((STATIC / name).read_bytes())


async def shell_asset(request: Request) -> Response:
    """``/static/exam.js`` and ``exam.css``: ``no-cache`` so a release reaches every phone on
    its next load, which then costs a 304 when nothing changed."""
    name = request.url.path.rsplit("/", 1)[-1]
    return negotiated(request, shell_file(name), SHELL_FILES[name], {"Cache-Control": "no-cache"})


async def service_worker(request: Request) -> Response:
    """The service worker that reopens the page without signal (``static/sw.js``).

    Served from the root, not /static, so that its scope covers ``/``; ``no-cache`` so a new
    release replaces it on the phone's next load.
    """
    return negotiated(
        request,
        shell_file("sw.js"),
        SHELL_FILES["sw.js"],
        {"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


async def favicon(request: Request) -> Response:
    """The browser asks for it on every site: a 404 costs a round trip and a console error."""
    return negotiated(
        request,
        shell_file("favicon.ico"),
        "image/x-icon",
        {"Cache-Control": f"public, max-age={ICON_MAX_AGE_S}"},
    )


routes = [
    Route("/", candidate_app, methods=["GET"]),
    Route("/ujian", candidate_app, methods=["GET"]),
    Route("/sw.js", service_worker, methods=["GET"]),
    Route("/favicon.ico", favicon, methods=["GET"]),
    *(Route(f"/static/{name}", shell_asset, methods=["GET"]) for name in ("exam.js", "exam.css")),
]
