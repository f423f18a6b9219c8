"""Staff log-in, roles, CSRF, lockout and the audit log of account changes."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from staff.support import PASSWORD, StaffClient, log_in, make_staff

from exam_server.db.staff_models import AuditEntry, StaffUser


async def test_a_page_without_a_session_sends_you_to_the_login(anonymous) -> None:  # type: ignore[no-untyped-def]
    resp = await anonymous.get("/panitia/staf")
    assert resp.status_code == 303
    assert resp.headers["location"].startswith("/panitia/masuk?next=/panitia/staf")


async def test_a_login_page_is_indonesian_first_and_english_on_request(anonymous) -> None:  # type: ignore[no-untyped-def]
    assert "Masuk panitia" in (await anonymous.get("/panitia/masuk")).text
    english = await anonymous.get("/panitia/masuk?lang=en")
    assert "Committee log-in" in english.text
    assert english.cookies.get("tkd_lang") == "en"


async def test_a_wrong_password_is_refused_and_five_lock_the_account(app, services) -> None:  # type: ignore[no-untyped-def]
    username = await make_staff(services, "panitia")
    import httpx

    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    page = await http.get("/panitia/masuk")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    for attempt in range(5):
        resp = await http.post(
            "/panitia/masuk", data={"username": username, "password": "salah-salah", "csrf": token}
        )
        assert resp.status_code == 401
        expected = "dikunci" if attempt == 4 else "salah"
        assert expected in resp.text
    # Even the right password waits out the lock.
    resp = await http.post(
        "/panitia/masuk", data={"username": username, "password": PASSWORD, "csrf": token}
    )
    assert resp.status_code == 401 and "dikunci" in resp.text
    await http.aclose()


async def test_wrong_passwords_tried_at_the_same_moment_all_count(app, services) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    import httpx

    username = await make_staff(services, "panitia")
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    page = await http.get("/panitia/masuk")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    form = {"username": username, "password": "salah-salah", "csrf": token}
    await asyncio.gather(*(http.post("/panitia/masuk", data=form) for _ in range(5)))
    resp = await http.post("/panitia/masuk", data={**form, "password": PASSWORD})
    assert resp.status_code == 401 and "dikunci" in resp.text
    await http.aclose()


async def test_a_login_without_the_csrf_token_is_refused(app, services) -> None:  # type: ignore[no-untyped-def]
    import httpx

    username = await make_staff(services, "viewer")
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    await http.get("/panitia/masuk")
    resp = await http.post("/panitia/masuk", data={"username": username, "password": PASSWORD})
    assert resp.status_code == 403
    await http.aclose()


async def test_a_form_without_the_csrf_token_changes_nothing(admin: StaffClient, services) -> None:  # type: ignore[no-untyped-def]
    resp = await admin.post(
        "/panitia/staf",
        {"username": "tanpa-csrf", "role": "viewer", "password": "Panjang-sekali-9"},
        csrf=False,
    )
    assert resp.status_code == 403
    forged = await admin.post(
        "/panitia/staf",
        {"username": "tanpa-csrf", "role": "viewer", "password": "Panjang-sekali-9", "csrf": "x"},
    )
    assert forged.status_code == 403
    async with services.sessions() as db:
        assert await db.scalar(select(StaffUser).where(StaffUser.username == "tanpa-csrf")) is None


async def test_an_admin_creates_a_panitia_who_can_then_log_in(
    admin: StaffClient, app, services
) -> None:  # type: ignore[no-untyped-def]
    resp = await admin.post(
        "/panitia/staf",
        {"username": "budi.panitia", "full_name": "Budi", "role": "panitia", "password": PASSWORD},
    )
    assert resp.status_code == 303
    listing = await admin.get("/panitia/staf")
    assert "budi.panitia" in listing.text and "Akun budi.panitia dibuat." in listing.text
    budi = await log_in(app, "budi.panitia")
    assert (await budi.get("/panitia/staf")).status_code == 403
    await budi.http.aclose()
    async with services.sessions() as db:
        entry = await db.scalar(
            select(AuditEntry)
            .where(AuditEntry.action == "staff.create")
            .order_by(AuditEntry.id.desc())
        )
    assert entry is not None and entry.username == admin.username
    assert entry.new["username"] == "budi.panitia"
    assert PASSWORD not in str(entry.new)


async def test_a_weak_password_is_refused_with_a_reason(admin: StaffClient) -> None:
    resp = await admin.post(
        "/panitia/staf", {"username": "lemah", "role": "viewer", "password": "pendek"}
    )
    assert resp.status_code == 400
    assert "minimal 10 karakter" in resp.text


async def test_changing_a_role_keeps_the_old_value_in_the_audit_log(
    admin: StaffClient, services
) -> None:  # type: ignore[no-untyped-def]
    username = await make_staff(services, "viewer")
    async with services.sessions() as db:
        user = await db.scalar(select(StaffUser).where(StaffUser.username == username))
    resp = await admin.post(f"/panitia/staf/{user.id}", {"role": "proctor", "active": "1"})
    assert resp.status_code == 303
    async with services.sessions() as db:
        entry = await db.scalar(
            select(AuditEntry).where(
                AuditEntry.entity == "staff",
                AuditEntry.entity_id == str(user.id),
                AuditEntry.action == "staff.update",
            )
        )
    assert entry is not None
    assert entry.old == {"role": "viewer"} and entry.new == {"role": "proctor"}
    assert "staff.update" in (await admin.get("/panitia/audit?entity=staff")).text


async def test_a_weak_new_password_refuses_the_whole_change(admin: StaffClient, services) -> None:  # type: ignore[no-untyped-def]
    username = await make_staff(services, "viewer")
    async with services.sessions() as db:
        user = await db.scalar(select(StaffUser).where(StaffUser.username == username))
    resp = await admin.post(
        f"/panitia/staf/{user.id}", {"role": "panitia", "active": "1", "password": "pendek"}
    )
    assert resp.status_code == 400 and "minimal 10 karakter" in resp.text
    async with services.sessions() as db:
        again = await db.get(StaffUser, user.id)
        assert again is not None and again.role == "viewer"


async def test_an_admin_cannot_demote_themself(admin: StaffClient, services) -> None:  # type: ignore[no-untyped-def]
    async with services.sessions() as db:
        me = await db.scalar(select(StaffUser).where(StaffUser.username == admin.username))
    resp = await admin.post(f"/panitia/staf/{me.id}", {"role": "viewer", "active": "1"})
    assert resp.status_code == 400


async def test_logging_out_ends_the_session_on_the_server(panitia: StaffClient) -> None:
    cookie = panitia.http.cookies.get("tkd_staff")
    assert (await panitia.post("/panitia/keluar")).status_code == 303
    panitia.http.cookies.set("tkd_staff", cookie, path="/panitia")  # a copied cookie
    assert (await panitia.get("/panitia/")).status_code == 303


@pytest.mark.parametrize("role", ["panitia", "proctor", "viewer"])
async def test_only_an_admin_reaches_staff_accounts_and_the_audit_log(role, app, services) -> None:  # type: ignore[no-untyped-def]
    client = await log_in(app, await make_staff(services, role))
    assert (await client.get("/panitia/staf")).status_code == 403
    assert (await client.get("/panitia/audit")).status_code == 403
    resp = await client.post(
        "/panitia/staf", {"username": "x" + role, "role": "admin", "password": PASSWORD}
    )
    assert resp.status_code == 403
    await client.http.aclose()


async def test_the_audit_log_refuses_updates_and_deletes_even_from_sql(services) -> None:  # type: ignore[no-untyped-def]
    async with services.sessions() as db:
        with pytest.raises(DBAPIError, match="append-only"):
            await db.execute(text("UPDATE audit_log SET reason = 'diubah'"))
        await db.rollback()
        with pytest.raises(DBAPIError, match="append-only"):
            await db.execute(text("DELETE FROM audit_log"))
        await db.rollback()


async def test_the_last_active_admin_cannot_be_demoted_or_disabled(services) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from exam_server.db.audit import Actor
    from exam_server.staff.accounts import AccountError, update_account

    name = await make_staff(services, "admin")
    async with services.sessions() as db, db.begin():
        user = await db.scalar(select(StaffUser).where(StaffUser.username == name))
        # Other runs' admins exist too: in this transaction only, they are gone.
        await db.execute(
            update(StaffUser)
            .where(StaffUser.id != user.id, StaffUser.role == "admin")
            .values(active=False)
        )
        for role, active in (("panitia", True), ("admin", False)):
            with pytest.raises(AccountError, match="admin aktif terakhir"):
                await update_account(db, Actor(None, "cli:uji"), user, role, active)
        await db.rollback()
    async with services.sessions() as db:
        user = await db.scalar(select(StaffUser).where(StaffUser.username == name))
        assert (user.role, user.active) == ("admin", True)
