"""Rendering ``exam_server/templates/results/*``: the staff helpers' language and time conventions,
for both the public pages (no staff) and the committee's results pages."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from exam_server.display import session_time
from exam_server.web.identity import Staff
from exam_server.web.rendering import (
    ROLE_NAMES,
    local,
    number,
    request_lang,
    take_flashes,
    translator,
)


async def render(
    request: Request, template: str, staff: Staff | None = None, status_code: int = 200, **ctx: Any
) -> Response:
    lang = request_lang(request)
    context: dict[str, Any] = {
        "request": request,
        "staff": staff,
        "lang": lang,
        "t": translator(lang),
        "local": local,
        "session_time": session_time,
        # Numbers as people write them in the page's language: 75 and 75,5.
        "fmt": lambda value: number(value, lang),
        "role_name": lambda role: ROLE_NAMES.get(role, (role, role))[lang == "en"],
        "prefix": "/panitia",
        "flashes": await take_flashes(request, staff, lang),
    }
    context.update(ctx)
    response = request.app.state.templates.TemplateResponse(
        request, f"results/{template}", context, status_code=status_code
    )
    # Results are personal: no shared cache may keep them.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response  # type: ignore[no-any-return]
