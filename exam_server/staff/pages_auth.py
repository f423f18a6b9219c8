"""Log-in, log-out, the home page, staff accounts and the audit log."""

from __future__ import annotations

import datetime as dt
import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from exam_server.db.staff_models import ROLES
from exam_server.staff.accounts import (
    AccountError,
    create_account,
    get_account,
    staff_users,
    update_account,
)
from exam_server.staff.audit_log import audit_entries
from exam_server.staff.dashboard import home_counts
from exam_server.web.auth import (
    LOGIN_CSRF_COOKIE,
    PREFIX,
    check_login,
    csrf_ok,
    current_staff,
    end_session,
    page,
    read_form,
    restamp_session,
    secure_cookies,
    services_of,
    start_session,
)
from exam_server.web.identity import Staff
from exam_server.web.rendering import (
    error_page,
    flash,
    redirect,
    render,
    request_lang,
    translator,
)


def _safe_next(target: object) -> str:
    # Only our own pages: an open redirect after log-in is a phishing aid.
    if isinstance(target, str) and target.startswith(PREFIX + "/") and "//" not in target:
        return target
    return PREFIX + "/"


async def login_form(request: Request) -> Response:
    if await current_staff(request) is not None:
        return RedirectResponse(_safe_next(request.query_params.get("next")), 303)
    return await _login_page(request, "", "", request.query_params.get("next", ""))


async def _login_page(request: Request, error: str, username: str, next_: str) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = await render(
        request,
        None,
        "login.html",
        status_code=401 if error else 200,
        error=error,
        username=username,
        next=next_,
        login_csrf=token,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
    )
    return response


async def login_submit(request: Request) -> Response:
    form = await read_form(request)
    t = translator(request_lang(request))
    # Double-submit token: a page on another site cannot read our cookie to copy it.
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not cookie or not csrf_ok(cookie, form.get("csrf")):
        return error_page(
            request,
            None,
            403,
            "Formulir kedaluwarsa atau tidak sah (CSRF). Muat ulang halaman.",
            "The form is stale or forged (CSRF). Reload the page.",
        )
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    outcome = await check_login(request, username, password)
    if outcome == "locked":
        return await _login_page(
            request,
            t(
                "Terlalu banyak percobaan gagal; akun dikunci 15 menit.",
                "Too many failed attempts; the account is locked for 15 minutes.",
            ),
            username,
            str(form.get("next", "")),
        )
    if isinstance(outcome, str):
        return await _login_page(
            request,
            t("Nama pengguna atau kata sandi salah.", "Wrong username or password."),
            username,
            str(form.get("next", "")),
        )
    response = RedirectResponse(_safe_next(form.get("next")), 303)
    await start_session(request, response, outcome)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=PREFIX)
    return response


@page(None)
async def logout(request: Request, staff: Staff) -> Response:
    response = RedirectResponse(PREFIX + "/masuk", 303)
    await end_session(request, response)
    return response


@page(None)
async def home(request: Request, staff: Staff) -> Response:
    async with services_of(request).sessions() as db:
        counts = await home_counts(db)
    return await render(request, staff, "home.html", counts=counts)


async def _staff_page(request: Request, staff: Staff, error: str = "") -> Response:
    async with services_of(request).sessions() as db:
        users = await staff_users(db)
    return await render(
        request,
        staff,
        "staff_list.html",
        status_code=400 if error else 200,
        users=users,
        roles=ROLES,
        error=error,
        now=dt.datetime.now(dt.UTC),
    )


@page("staff.manage")
async def staff_list(request: Request, staff: Staff) -> Response:
    return await _staff_page(request, staff)


@page("staff.manage")
async def staff_create(request: Request, staff: Staff) -> Response:
    form = request.state.form
    try:
        async with services_of(request).sessions() as db, db.begin():
            user = await create_account(
                db,
                staff.actor,
                str(form.get("username", "")),
                str(form.get("full_name", "")),
                str(form.get("role", "")),
                str(form.get("password", "")),
            )
    except AccountError as exc:
        return await _staff_page(request, staff, exc.text(request_lang(request)))
    await flash(
        request, staff, f"Akun {user.username} dibuat.", f"Account {user.username} created."
    )
    return redirect("/staf")


@page("staff.manage")
async def staff_update(request: Request, staff: Staff) -> Response:
    form = request.state.form
    role = str(form.get("role", ""))
    active = form.get("active") == "1"
    new_password = str(form.get("password", ""))
    try:
        async with services_of(request).sessions() as db, db.begin():
            user = await get_account(db, request.path_params["staff_id"], lock=True)
            if user is None:
                return error_page(request, staff, 404, "Akun tidak ada.", "No such account.")
            await update_account(db, staff.actor, user, role, active, new_password)
        if new_password and user.id == staff.id:
            await restamp_session(request, staff, user.password_hash)
    except AccountError as exc:
        return await _staff_page(request, staff, exc.text(request_lang(request)))
    await flash(
        request, staff, f"Akun {user.username} disimpan.", f"Account {user.username} saved."
    )
    return redirect("/staf")


@page("audit.view")
async def audit_log(request: Request, staff: Staff) -> Response:
    entity = request.query_params.get("entity", "")
    entity_id = request.query_params.get("entity_id", "")
    q = request.query_params.get("q", "").strip()[:100]
    before = request.query_params.get("before", "")
    async with services_of(request).sessions() as db:
        # One more than a page shows, to know whether there is more.
        entries = await audit_entries(
            db,
            201,
            search=q,
            entity=entity,
            entity_id=entity_id,
            before=int(before) if before.isdigit() else None,
        )
    return await render(
        request,
        staff,
        "audit.html",
        entries=entries[:200],
        more=len(entries) > 200,
        entity=entity,
        entity_id=entity_id,
        q=q,
    )


routes = [
    Route("/masuk", login_form, methods=["GET"]),
    Route("/masuk", login_submit, methods=["POST"]),
    Route("/keluar", logout, methods=["POST"]),
    Route("/", home, methods=["GET"]),
    Route("/staf", staff_list, methods=["GET"]),
    Route("/staf", staff_create, methods=["POST"]),
    Route("/staf/{staff_id:int}", staff_update, methods=["POST"]),
    Route("/audit", audit_log, methods=["GET"]),
]
