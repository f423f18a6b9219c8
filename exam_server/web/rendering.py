"""Rendering staff pages: language choice, the ``t(id, en)`` helper and flash messages.

Texts sit in the templates in both languages, ``{{ t("Simpan", "Save") }}``, so a page and
its translation are read and changed together; Bahasa Indonesia is the default.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from exam_server.web.identity import Staff

LANG_COOKIE = "tkd_lang"
# Sessions are entered and shown in the committee's local time. WIB covers most users;
# TODO(lead): a TKD_TIMEZONE setting would let WITA/WIT regions choose theirs.
LOCAL_TZ = ZoneInfo("Asia/Jakarta")
ROLE_NAMES = {
    "admin": ("Admin", "Admin"),
    "panitia": ("Panitia", "Committee"),
    "proctor": ("Pengawas", "Proctor"),
    "viewer": ("Pemantau", "Viewer"),
}


def request_lang(request: Request) -> str:
    lang = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if lang in ("id", "en"):
        return lang
    return str(request.app.state.services.settings.default_lang)


def translator(lang: str) -> Any:
    def t(id_text: str, en_text: str) -> str:
        return en_text if lang == "en" else id_text

    return t


def local(value: dt.datetime | None, fmt: str = "%d-%m-%Y %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(LOCAL_TZ).strftime(fmt)


def _flash_key(staff: Staff) -> str:
    return f"tkd:staff:flash:{staff.sid}"


async def flash(request: Request, staff: Staff, id_text: str, en_text: str) -> None:
    redis = request.app.state.services.redis
    await redis.rpush(_flash_key(staff), f"{id_text}\x1f{en_text}")
    await redis.expire(_flash_key(staff), 600)


async def take_flashes(request: Request, staff: Staff | None, lang: str) -> list[str]:
    if staff is None:
        return []
    redis = request.app.state.services.redis
    async with redis.pipeline(transaction=True) as pipe:
        pipe.lrange(_flash_key(staff), 0, -1)
        pipe.delete(_flash_key(staff))
        raw, _ = await pipe.execute()
    return [part.split("\x1f")[1 if lang == "en" else 0] for part in raw]


def _context(request: Request, staff: Staff | None, lang: str) -> dict[str, Any]:
    return {
        "request": request,
        "staff": staff,
        "lang": lang,
        "t": translator(lang),
        "local": local,
        "role_name": lambda role: ROLE_NAMES.get(role, (role, role))[lang == "en"],
        "prefix": "/panitia",
    }


def _finish(request: Request, response: Response) -> Response:
    chosen = request.query_params.get("lang")
    if chosen in ("id", "en"):
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 86400, samesite="lax")
    return response


async def render(
    request: Request,
    staff: Staff | None,
    template: str,
    status_code: int = 200,
    **context: Any,
) -> Response:
    lang = request_lang(request)
    ctx = _context(request, staff, lang)
    ctx["flashes"] = await take_flashes(request, staff, lang)
    ctx.update(context)
    templates = request.app.state.templates
    response = templates.TemplateResponse(
        request, f"staff/{template}", ctx, status_code=status_code
    )
    response.headers["Cache-Control"] = "no-store"
    return _finish(request, response)


def error_page(
    request: Request, staff: Staff | None, status_code: int, id_text: str, en_text: str
) -> Response:
    lang = request_lang(request)
    ctx = _context(request, staff, lang)
    ctx.update(flashes=[], message=en_text if lang == "en" else id_text, status=status_code)
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, "staff/error.html", ctx, status_code=status_code)


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(f"/panitia{path}", status_code=303)
