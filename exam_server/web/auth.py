"""Who may do what, staff sessions, CSRF and the page decorator.

Roles (issue 5): ``admin`` does everything and manages staff; ``panitia`` runs the bank,
exams, candidates and sessions; ``proctor`` sees only the sessions given to them;
``viewer`` reads dashboards and exports. Each page names one capability; a role without
it gets 403 whatever URL it types.

A staff session is a random id kept in Redis (so logging out really ends it) and carried
in a signed, HttpOnly cookie scoped to ``/panitia``. Every POST must carry the session's
CSRF token in a hidden ``csrf`` field.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import secrets
from collections.abc import Awaitable, Callable

from itsdangerous import BadSignature, Signer
from sqlalchemy import select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from exam_server.db.staff_models import ProctorAssignment, StaffUser
from exam_server.delivery.services import Services
from exam_server.web import passwords
from exam_server.web.identity import Staff
from exam_server.web.rendering import error_page

COOKIE = "tkd_staff"
LOGIN_CSRF_COOKIE = "tkd_staff_csrf"
PREFIX = "/panitia"
SESSION_TTL_S = 10 * 3600  # a working day; idle sessions end sooner
IDLE_TTL_S = 2 * 3600
FAILURES_ALLOWED = 5
LOCKOUT = dt.timedelta(minutes=15)
MAX_FORM_BYTES = 20 * 1024 * 1024


def services_of(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def _signer(request: Request) -> Signer:
    return Signer(services_of(request).settings.secret_key_value, salt="tkd.staff-session")


def _key(sid: str) -> str:
    return f"tkd:staff:session:{sid}"


def secure_cookies(request: Request) -> bool:
    return request.url.scheme == "https"


async def start_session(request: Request, response: Response, user: StaffUser) -> None:
    sid = secrets.token_urlsafe(24)
    redis = services_of(request).redis
    await redis.hset(_key(sid), mapping={"uid": user.id, "csrf": secrets.token_urlsafe(24)})
    await redis.expire(_key(sid), IDLE_TTL_S)
    response.set_cookie(
        COOKIE,
        _signer(request).sign(sid).decode(),
        max_age=SESSION_TTL_S,
        path=PREFIX,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )


async def end_session(request: Request, response: Response) -> None:
    sid = _sid(request)
    if sid:
        await services_of(request).redis.delete(_key(sid))
    response.delete_cookie(COOKIE, path=PREFIX)


def _sid(request: Request) -> str | None:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        return _signer(request).unsign(raw).decode()
    except BadSignature:
        return None


async def current_staff(request: Request) -> Staff | None:
    sid = _sid(request)
    if sid is None:
        return None
    services = services_of(request)
    data = await services.redis.hgetall(_key(sid))
    if not data:
        return None
    async with services.sessions() as db:
        user = await db.get(StaffUser, int(data["uid"]))
    if user is None or not user.active:
        await services.redis.delete(_key(sid))
        return None
    await services.redis.expire(_key(sid), IDLE_TTL_S)
    return Staff(user.id, user.username, user.full_name, user.role, sid, str(data["csrf"]))


async def may_see_session(request: Request, staff: Staff, session_id: int) -> bool:
    if staff.role != "proctor":
        return staff.role in ("admin", "panitia", "viewer")
    async with services_of(request).sessions() as db:
        found = await db.scalar(
            select(ProctorAssignment.id).where(
                ProctorAssignment.staff_id == staff.id,
                ProctorAssignment.session_id == session_id,
            )
        )
    return found is not None


def csrf_ok(expected: str, given: object) -> bool:
    return isinstance(given, str) and bool(given) and hmac.compare_digest(expected, given)


async def read_form(request: Request) -> FormData:
    length = int(request.headers.get("content-length") or 0)
    if length > MAX_FORM_BYTES:
        raise FormTooLarge
    return await request.form(max_files=1, max_fields=5000)


class FormTooLarge(Exception):
    pass


Handler = Callable[[Request, Staff], Awaitable[Response]]


def page(capability: str | None) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Wrap a handler: log-in required, capability checked, CSRF checked on POST.

    The parsed form is left in ``request.state.form`` for POST handlers.
    """

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            staff = await current_staff(request)
            if staff is None:
                if request.method == "GET":
                    return RedirectResponse(f"{PREFIX}/masuk?next={request.url.path}", 303)
                return error_page(request, None, 401, "Silakan masuk lagi.", "Please log in again.")
            if capability is not None and not staff.can(capability):
                return error_page(
                    request,
                    staff,
                    403,
                    "Peran Anda tidak mengizinkan halaman ini.",
                    "Your role does not allow this page.",
                )
            if request.method == "POST":
                try:
                    form = await read_form(request)
                except FormTooLarge:
                    return error_page(
                        request, staff, 413, "Berkas terlalu besar.", "The file is too large."
                    )
                if not csrf_ok(staff.csrf, form.get("csrf")):
                    return error_page(
                        request,
                        staff,
                        403,
                        "Formulir kedaluwarsa atau tidak sah (CSRF). Muat ulang halaman.",
                        "The form is stale or forged (CSRF). Reload the page.",
                    )
                request.state.form = form
                try:
                    return await handler(request, staff)
                finally:
                    await form.close()  # uploaded files are spooled to disk
            return await handler(request, staff)

        endpoint.capability = capability  # type: ignore[attr-defined]  # read by the role tests
        return endpoint

    return wrap


async def check_login(request: Request, username: str, password: str) -> StaffUser | str:
    """The user on success, otherwise the reason code: ``bad`` or ``locked``."""
    services = services_of(request)
    now = dt.datetime.now(dt.UTC)
    async with services.sessions() as db, db.begin():
        user = await db.scalar(
            select(StaffUser).where(StaffUser.username == username.strip().lower())
        )
        if user is not None and user.locked_until is not None and user.locked_until > now:
            return "locked"
        ok = await passwords.verify(user.password_hash if user else None, password)
        if user is None or not user.active:
            return "bad"
        # The slow hash ran unlocked; the counters are re-read under a row lock, so wrong
        # passwords tried at the same moment each count (none overwrites another).
        await db.refresh(user, with_for_update=True)
        if user.locked_until is not None and user.locked_until > now:
            return "locked"
        if not ok:
            user.failed_logins += 1
            if user.failed_logins >= FAILURES_ALLOWED:
                user.failed_logins = 0
                user.locked_until = now + LOCKOUT
                return "locked"
            return "bad"
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
        return user
