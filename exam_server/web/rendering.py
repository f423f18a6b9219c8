"""Rendering staff pages: language choice, the ``t(id, en)`` helper and flash messages.

Texts sit in the templates in both languages, ``{{ t("Simpan", "Save") }}``, so a page and
its translation are read and changed together; Bahasa Indonesia is the default.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from exam_server.display import (
    LOCAL_TZ,
    ZONE_CHOICES,
    session_time,
    zone_name,
)
from exam_server.web.identity import Staff

LANG_COOKIE = "tkd_lang"
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


# Every stored value a committee page shows, as a person reads it (docs/committee.md,
# "Words on the pages"): never `immediate`, `single` or `moodle_xml` on a page.
VALUE_LABELS: dict[str, tuple[str, str]] = {
    # when results are shown
    "immediate": ("Langsung setelah selesai", "Right after submitting"),
    "never": ("Hanya panitia", "Committee only"),
    "after": ("Setelah tanggal pengumuman", "After the release date"),
    # question kinds
    "single": ("Pilihan ganda (satu jawaban)", "Multiple choice (one answer)"),
    "multiple": ("Pilihan ganda (banyak jawaban)", "Multiple choice (several answers)"),
    "true_false": ("Benar/salah", "True/false"),
    # attempt states
    "running": ("Sedang mengerjakan", "Working"),
    "paused": ("Dijeda", "Paused"),
    "submitted": ("Selesai", "Submitted"),
    "waiting": ("Menunggu mulai", "Waiting to start"),
    "absent": ("Tidak hadir", "Absent"),
    "not_started": ("Belum mulai", "Not started"),
    # scoring models
    "right_wrong": ("Benar/salah (TWK, TIU)", "Right/wrong (TWK, TIU)"),
    "negative": ("Benar/salah dengan nilai minus", "Right/wrong with negative marks"),
    "weighted": (
        "Berbobot per pilihan (TKP: tiap pilihan diberi nilai 1-5 di bank soal)",
        "Weighted per option (TKP: each option carries 1-5 points in the bank)",
    ),
    "map_response": (
        "Nilai per pilihan, dengan batas (QTI)",
        "Points per option, with bounds (QTI)",
    ),
    # import formats
    "csv": ("CSV (templat panitia)", "CSV (committee template)"),
    "xlsx": ("Excel XLSX (templat panitia)", "Excel XLSX (committee template)"),
    "moodle_xml": ("Moodle XML", "Moodle XML"),
    "gift": ("Moodle GIFT", "Moodle GIFT"),
    "aiken": ("Aiken (teks)", "Aiken (text)"),
    "qti": ("QTI 2.1", "QTI 2.1"),
    "tcexam": ("TCExam", "TCExam"),
}


def value_label(value: object, lang: str) -> str:
    names = VALUE_LABELS.get(str(value))
    if names is None:
        return str(value)
    return names[1] if lang == "en" else names[0]


def number(value: float | int | None, lang: str = "id") -> str:
    """A number as people write it: 75 and 75,5 in Bahasa Indonesia (75.5 in English)."""
    if value is None:
        return ""
    text = f"{float(value):g}" if not isinstance(value, int) else str(value)
    return text if lang == "en" else text.replace(".", ",")


def readable(value: Any, zone: str | None = None) -> list[str]:
    """An audit value as lines a person reads: ``key: value``, times local and labelled,
    yes/no rather than true/false; never raw JSON."""
    if value is None:
        return []
    if not isinstance(value, dict):
        return [_plain_value(value, zone)]
    return [f"{key}: {_plain_value(item, zone)}" for key, item in value.items()]


def _plain_value(value: Any, zone: str | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and "T" in value:
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is not None:
            return session_time(moment, None, "%d-%m-%Y %H:%M", default=zone)
        return value
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_plain_value(v, zone)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_plain_value(v, zone) for v in value)
    return str(value)


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
        "session_time": session_time,
        "zone_choices": ZONE_CHOICES,
        "readable": readable,
        "keep": keep,
        "kept_checked": kept_checked,
        "label": lambda value: value_label(value, lang),
        "num": lambda value: number(value, lang),
        "zone_name": zone_name,
        "default_zone": str(getattr(request.app.state.services.settings, "time_zone", "")),
        "role_name": lambda role: ROLE_NAMES.get(role, (role, role))[lang == "en"],
        "prefix": "/panitia",
    }


def _typed(request: Request, status_code: int) -> dict[str, str] | None:
    """What was typed into a refused form, keyed by the form's address: the page shows it
    again instead of the stored values, so nobody types a whole form twice."""
    form = getattr(request.state, "form", None)
    if status_code != 400 or request.method != "POST" or form is None:
        return None
    typed = {str(k): v for k, v in form.items() if isinstance(v, str) and k != "csrf"}
    return {**typed, "_key": request.url.path}


def keep(typed: dict[str, str] | None, key: str, name: str, default: Any) -> Any:
    """A field's value: as typed when this form (``key``) was refused, else ``default``."""
    if typed is not None and typed.get("_key") == key:
        return typed.get(name, "")
    return default


def kept_checked(typed: dict[str, str] | None, key: str, name: str, default: bool) -> bool:
    if typed is not None and typed.get("_key") == key:
        return typed.get(name) == "1"
    return default


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
    ctx["typed"] = _typed(request, status_code)
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
