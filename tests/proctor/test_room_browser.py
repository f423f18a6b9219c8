"""The room view on a 360 px phone: no sideways scrolling, rows that change in place
without a reload, and a half-typed notice that survives every update."""

from __future__ import annotations

import secrets
import time

import pytest
from browser.conftest import browser, phone  # noqa: F401  (fixtures used by name)
from proctor.conftest import make_room
from sqlalchemy.orm import Session
from staff.support import PASSWORD
from tests_support import ExamClient

from exam_server.db.staff_models import StaffUser
from exam_server.web.passwords import hash_password_sync

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def make_admin(db_engine) -> str:  # type: ignore[no-untyped-def]
    username = f"admin-{secrets.token_hex(3)}"
    with Session(db_engine) as db, db.begin():
        db.add(
            StaffUser(
                username=username,
                full_name="Uji",
                role="admin",
                password_hash=hash_password_sync(PASSWORD),
            )
        )
    return username


def no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page is {width} px wide at 360 px"


def test_the_room_updates_in_place_on_a_phone_and_keeps_a_half_typed_notice(
    server_factory,
    phone,  # noqa: F811
    db_engine,
    fresh,
) -> None:  # type: ignore[no-untyped-def]
    worker_a, worker_b = server_factory(), server_factory()
    room = make_room(
        db_engine, fresh(3), name="Sesi dengan nama yang cukup panjang untuk layar ponsel kecil"
    )
    username = make_admin(db_engine)
    page = phone.new_page()
    page.goto(worker_a.url + "/panitia/masuk")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(worker_a.url + "/panitia/")
    page.click("text=Pengawasan")
    page.click(f"a[href='/panitia/pengawas/{room.session_id}']")
    page.wait_for_selector("#rows li.row")
    assert page.locator("#rows li.row").count() == 3
    assert page.locator("#n-absent").inner_text() == "3"
    no_sideways_scroll(page)

    page.evaluate("window.__sameDocument = true")
    page.fill("#message", "Mohon tenang, waktu akan")
    page.focus("#message")
    first = room.creds[0]
    client = ExamClient(worker_b.url, first.participant_no, first.password, device="hp-satu")
    assert client.login().status_code == 200
    client.connect()
    try:
        row = page.locator(f"#rows li.row:has-text('{first.participant_no}')")
        try:
            row.locator(".badge:has-text('mengerjakan')").wait_for(timeout=8000)
        except Exception:
            raise AssertionError(
                page.inner_text("#conn") + " | " + page.inner_text("#rows")
            ) from None
        assert page.locator("#n-running").inner_text() == "1"
        client.send({"type": "focus", "state": "hidden"})
        row.locator(".meta:has-text('keluar halaman 1 kali')").wait_for(timeout=8000)
        assert page.evaluate("window.__sameDocument") is True  # no reload happened
        assert page.input_value("#message") == "Mohon tenang, waktu akan"
        assert page.evaluate("document.activeElement.id") == "message"
        no_sideways_scroll(page)

        # Finish the notice and send it to the one ticked candidate, from the phone.
        page.type("#message", " ditambah.")
        row.locator("input[type=checkbox]").check()
        page.select_option("#action", "notice")
        page.check("#confirm")
        page.click("#action-form button[type=submit]")
        page.wait_for_function("() => document.getElementById('result').textContent.length > 0")
        assert page.inner_text("#result") == "Pengumuman: 1 peserta."
        got = client.wait_for("notice", 5)
        assert got["message"] == "Mohon tenang, waktu akan ditambah."

        page.fill("#q", room.creds[1].participant_no)
        assert page.locator("#rows li.row").count() == 1
        page.fill("#q", "")
        page.check("#problems")
        time.sleep(0.2)
        assert page.locator("#rows li.row").count() == 0 or all(
            "problem" in (c or "")
            for c in page.locator("#rows li.row").evaluate_all("els => els.map(e => e.className)")
        )
        no_sideways_scroll(page)
    finally:
        client.close()
