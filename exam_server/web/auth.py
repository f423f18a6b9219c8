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
import hashlib
import hmac
import secrets
import time
from collections.abc import Awaitable, Callable

from itsdangerous import BadSignature, Signer
from sqlalchemy import select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from exam_server.db.staff_models import ProctorAssignment, StaffUser
from exam_server.delivery.services import Services
from exam_server.delivery.throttle import is_locked, request_address, staff_throttle
from exam_server.web import passwords
from exam_server.web.identity import Staff
from exam_server.web.rendering import error_page

COOKIE = "tkd_staff"
LOGIN_CSRF_COOKIE = "tkd_staff_csrf"
PREFIX = "/panitia"
IDLE_TTL_S = 2 * 3600


def services_of(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def _signer(request: Request) -> Signer:
    return Signer(services_of(request).settings.secret_key_value, salt="tkd.staff-session")


def _key(sid: str) -> str:
    return f"tkd:staff:session:{sid}"


def secure_cookies(request: Request) -> bool:
    return request.url.scheme == "https"


def password_version(password_hash: str) -> str:
    """A short fingerprint of the password hash: a new password ends older sessions."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def session_alive(born: float, now: float, max_age_s: int) -> bool:
    return 0 <= now - born < max_age_s


async def start_session(request: Request, response: Response, user: StaffUser) -> None:
    sid = secrets.token_urlsafe(24)
    services = services_of(request)
    await services.redis.hset(
        _key(sid),
        mapping={
            "uid": user.id,
            "csrf": secrets.token_urlsafe(24),
            # The absolute lifetime counts from here, however busy the session is.
            "born": f"{time.time():.3f}",
            "pv": password_version(user.password_hash),
        },
    )
    await services.redis.expire(_key(sid), IDLE_TTL_S)
    response.set_cookie(
        COOKIE,
        _signer(request).sign(sid).decode(),
        max_age=services.settings.staff_session_max_s,
        path=PREFIX,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )


async def restamp_session(request: Request, staff: Staff, password_hash: str) -> None:
    """Keep the session that changed its own password; all others of the user end."""
    await services_of(request).redis.hset(_key(staff.sid), "pv", password_version(password_hash))


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
    now, max_age = time.time(), services.settings.staff_session_max_s
    born = float(data.get("born") or 0)
    if not session_alive(born, now, max_age):
        await services.redis.delete(_key(sid))
        return None
    async with services.sessions() as db:
        user = await db.get(StaffUser, int(data["uid"]))
    if user is None or not user.active or data.get("pv") != password_version(user.password_hash):
        await services.redis.delete(_key(sid))
        return None
    # Idle sessions end sooner, but activity never stretches past the absolute lifetime.
    await services.redis.expire(_key(sid), max(1, min(IDLE_TTL_S, int(born + max_age - now))))
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
    if length > services_of(request).settings.max_upload_bytes:
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
    """The user on success, otherwise the reason code: ``bad`` or ``locked``.

    Failures are counted in Redis per (username, address) and per address, for names that
    exist and names that do not alike, so "locked" says nothing about whether an account
    exists and nobody can lock a colleague out from elsewhere (docs/security.md).
    """
    services = services_of(request)
    name = username.strip().lower()[: services.settings.max_field_chars]
    throttle, address = staff_throttle(services.redis, services.settings), request_address(request)
    if await throttle.locked(name, address):
        return "locked"
    now = dt.datetime.now(dt.UTC)
    async with services.sessions() as db, db.begin():
        user = await db.scalar(select(StaffUser).where(StaffUser.username == name))
        # The slow hash runs for unknown names too: the time taken says nothing either.
        ok = len(password) <= services.settings.max_field_chars and await passwords.verify(
            user.password_hash if user else None, password[: services.settings.max_field_chars]
        )
        if user is None or not user.active or not ok:
            counts = await throttle.fail(name, address)
            return "locked" if is_locked(throttle.budget, counts) else "bad"
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
    await throttle.succeed(name, address)
    return user
