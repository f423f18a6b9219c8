"""The page through a session's life: token at the door, waiting room, a committee pause,
and a submit made without signal."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from browser.candidate_support import (
    answer_current,
    eventually,
    go_to,
    log_in,
    server_answers,
    wait_saved,
)
from tests_support import move_to_own_session

from exam_server.delivery.credentials import session_token
from exam_server.delivery.services import open_services
from exam_server.proctor.interventions import pause_session, resume_session

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def committee(settings: Any, action: Callable[[Any, int], Awaitable[Any]], session_id: int) -> None:
    """Run a proctor's intervention as the proctor pages do, on a loop of its own.

    Playwright's sync API owns this thread's event loop, so the intervention runs in another.
    """

    async def run() -> None:
        async with open_services(settings) as services:
            await action(services, session_id)

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


def test_a_wrong_password_is_refused_in_bahasa_indonesia(phone, live_server, candidate) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    page.goto(live_server.url + "/")
    page.fill("#f-number", candidate.participant_no)
    page.fill("#f-password", "salah-" + candidate.password)
    page.click("#login-btn")
    page.wait_for_selector("#login-error:not([hidden])")
    assert page.locator("#v-identity").is_hidden()
    assert page.locator("#login-error").inner_text().strip() != ""
    assert page.locator("#f-password").is_visible()


def test_the_session_token_field_appears_when_the_session_asks_for_one(
    phone, live_server, candidate, db_engine, settings
) -> None:  # type: ignore[no-untyped-def]
    session_id = move_to_own_session(db_engine, candidate, token_required=True)
    page = phone.new_page()
    page.goto(live_server.url + "/")
    assert page.locator("#token-row").is_hidden()
    page.fill("#f-number", candidate.participant_no)
    page.fill("#f-password", candidate.password)
    page.click("#login-btn")
    page.wait_for_selector("#token-row:not([hidden])")
    assert page.locator("#login-error").is_visible()
    page.fill("#f-token", session_token(settings.secret_key_value, session_id, 15 * 60))
    page.click("#login-btn")
    page.wait_for_selector("#v-identity:not([hidden])")
    assert candidate.name in page.locator("#identity").inner_text()


def test_the_waiting_room_counts_down_and_the_exam_opens_by_itself(
    phone, live_server, candidate, db_engine
) -> None:  # type: ignore[no-untyped-def]
    move_to_own_session(db_engine, candidate, starts_in_s=15)  # login may be slow
    page = phone.new_page()
    page.goto(live_server.url + "/")
    page.fill("#f-number", candidate.participant_no)
    page.fill("#f-password", candidate.password)
    page.click("#login-btn")
    page.click("#identity-ok")
    page.wait_for_selector("#v-waiting:not([hidden])")
    first = page.locator("#countdown").inner_text()
    assert first.startswith("0:"), first
    page.wait_for_timeout(1500)
    assert page.locator("#countdown").inner_text() < first  # it counts down
    # The server's periodic `time` (every 2 s here) must not open the exam early.
    page.wait_for_timeout(3000)
    assert page.locator("#v-waiting").is_visible() and page.locator("#v-exam").is_hidden()
    page.wait_for_selector("#v-exam:not([hidden]) .option:not([disabled])", timeout=20000)
    answer_current(page, 1)
    wait_saved(page)


def test_a_pause_stops_the_clock_and_changes_made_offline_wait_for_the_resume(
    phone, live_server, candidate, db_engine, redis_client, settings
) -> None:  # type: ignore[no-untyped-def]
    session_id = move_to_own_session(db_engine, candidate)
    page = phone.new_page()
    log_in(page, live_server.url, candidate)
    answer_current(page, 0)
    wait_saved(page)
    for q in range(3):
        go_to(page, q)

    phone.set_offline(True)
    go_to(page, 1)
    answer_current(page, 2)  # kept on the phone
    page.wait_for_selector("#conn.bad")
    committee(settings, pause_session, session_id)
    try:
        phone.set_offline(False)
        page.wait_for_selector("#paused:not([hidden])", timeout=40000)
        # The server refuses changes while paused: the one from offline waits on the phone.
        page.wait_for_selector("#conn.wait", timeout=10000)
        assert len(server_answers(db_engine, redis_client, candidate.participant_no)) == 1
        shown = page.locator("#timer").inner_text()
        page.wait_for_timeout(2200)
        assert page.locator("#timer").inner_text() == shown  # the clock stands still
        assert page.locator("#q-options .option").first.is_disabled()
        assert page.locator("#finish").is_disabled()
    finally:
        committee(settings, resume_session, session_id)

    page.wait_for_selector("#paused", state="hidden", timeout=10000)
    wait_saved(page)
    go_to(page, 2)
    answer_current(page, 3)
    wait_saved(page)
    held = eventually(
        lambda: len(server_answers(db_engine, redis_client, candidate.participant_no)) == 3
    )
    assert held, server_answers(db_engine, redis_client, candidate.participant_no)
    # ... and the clock runs again.
    page.wait_for_function("t => document.getElementById('timer').textContent !== t", arg=shown)


def test_a_submit_made_without_signal_goes_through_when_the_signal_returns(
    phone, live_server, candidate
) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    log_in(page, live_server.url, candidate)
    answer_current(page, 0)
    wait_saved(page)
    phone.set_offline(True)
    page.wait_for_selector("#conn.bad")
    page.click("#finish")
    page.click("#confirm-yes")
    page.wait_for_selector("#v-finished:not([hidden])")
    assert page.locator("#finished-title").inner_text() == "Mengumpulkan jawaban…"
    assert page.locator("#logout").is_hidden()  # nobody should leave with the submit unsent
    phone.set_offline(False)
    page.wait_for_selector("#result:not([hidden])", timeout=40000)
    assert page.locator("#finished-title").inner_text() == "Ujian selesai"
    # Nothing of the exam stays behind on a shared computer once it is over.
    kept = page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('tkd.qs.'))")
    assert kept == []


def test_what_an_earlier_attempt_left_in_the_browser_is_neither_shown_nor_sent(
    phone, live_server, candidate, db_engine, redis_client
) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    page.goto(live_server.url + "/")
    stale_question = {
        "type": "question",
        "q": 0,
        "section": "TWK",
        "kind": "single",
        "stem": "<p>SOAL LAMA</p>",
        "options": [{"id": "A", "html": "lama"}],
    }
    stale_change = {"seq": 1, "type": "answer", "q": 4, "choice": "A"}
    page.evaluate(
        """([no, question, change]) => {
            localStorage.setItem('tkd.qs.' + no, JSON.stringify({attempt: 'old', 0: question}));
            localStorage.setItem('tkd.q.' + no,
                JSON.stringify({attempt: 'old', nextSeq: 2, queue: [change]}));
        }""",
        [candidate.participant_no, stale_question, stale_change],
    )
    log_in(page, live_server.url, candidate)
    assert "SOAL LAMA" not in page.locator("#q-stem").inner_text()
    answer_current(page, 0)
    wait_saved(page)
    assert list(server_answers(db_engine, redis_client, candidate.participant_no)) == [0]
