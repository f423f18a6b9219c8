"""The page across a reload without signal, in two tabs of one browser, and on a full phone."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from browser.candidate_support import (
    answer_current,
    eventually,
    go_to,
    log_in,
    server_answers,
    wait_saved,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHELL = {"/", "/ujian", "/static/exam.js", "/static/exam.css"}


def ready_for_no_signal(page: Any, participant_no: str) -> None:
    """The service worker holds the page, and every question is in the phone's cache."""
    page.wait_for_function("() => !!navigator.serviceWorker.controller")
    page.wait_for_function(
        "no => Object.keys(JSON.parse(localStorage.getItem('tkd.qs.' + no) || '{}')).length > 15",
        arg=participant_no,
    )


def option_id(page: Any, n: int) -> str:
    return str(page.locator("#q-options .option").nth(n).get_attribute("data-id"))


def chosen(page: Any, n: int) -> bool:
    return page.locator("#q-options .option").nth(n).get_attribute("aria-checked") == "true"


def test_the_service_worker_is_served_from_the_root_and_never_cached_by_http(live_server) -> None:  # type: ignore[no-untyped-def]
    resp = httpx.get(live_server.url + "/sw.js")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/javascript")
    assert resp.headers["cache-control"] == "no-cache"
    assert resp.headers["service-worker-allowed"] == "/"


def test_a_reload_without_signal_shows_the_exam_and_its_answers_reach_the_server_later(
    phone, live_server, candidate, db_engine, redis_client
) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    log_in(page, live_server.url, candidate)
    answer_current(page, 0)
    go_to(page, 1)
    answer_current(page, 1)
    wait_saved(page)
    ready_for_no_signal(page, candidate.participant_no)

    phone.set_offline(True)
    go_to(page, 2)
    third = option_id(page, 2)
    answer_current(page, 2)  # kept on the phone only
    page.wait_for_selector("#conn.bad")
    page.reload()  # the battery saver killed the tab, or the candidate pulled to refresh
    page.wait_for_selector("#v-exam:not([hidden]) .option")
    assert page.locator("#grid button.ans").count() == 3
    assert page.locator("#q-label").inner_text().startswith("Soal 3 ")  # where they were
    assert chosen(page, 2)
    assert "1 jawaban" in page.locator("#conn").inner_text()
    shown = page.locator("#timer").inner_text()
    assert shown.startswith("Sisa waktu ")
    page.wait_for_function("t => document.getElementById('timer').textContent !== t", arg=shown)
    go_to(page, 3)
    fourth = option_id(page, 3)
    answer_current(page, 3)  # answering goes on, into the queue
    assert "2 jawaban" in page.locator("#conn").inner_text()
    # Nothing but the page shell comes from the service worker's cache.
    failed = page.evaluate("fetch('/healthz').then(() => 'served', () => 'failed')")
    assert failed == "failed"
    kept = page.evaluate(
        "caches.keys().then(ns => Promise.all(ns.map(n => caches.open(n).then(c => c.keys()))))"
        ".then(ls => [].concat(...ls).map(r => new URL(r.url).pathname))"
    )
    assert kept and set(kept) <= SHELL, kept
    assert set(server_answers(db_engine, redis_client, candidate.participant_no)) == {0, 1}

    phone.set_offline(False)  # the normal hello/state path takes over
    wait_saved(page, 40000)
    held = eventually(
        lambda: (
            set(server_answers(db_engine, redis_client, candidate.participant_no)) == {0, 1, 2, 3}
        )
    )
    answers = server_answers(db_engine, redis_client, candidate.participant_no)
    assert held and answers[2] == third and answers[3] == fourth, answers
    assert page.locator("#grid button.ans").count() == 4


def test_without_a_session_the_login_page_opens_offline_and_logs_in_when_back(
    phone, live_server, candidate
) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    page.goto(live_server.url + "/")
    page.wait_for_function("() => !!navigator.serviceWorker.controller")
    phone.set_offline(True)
    page.reload()
    assert page.locator("#v-login").is_visible() and page.locator("#v-exam").is_hidden()
    page.fill("#f-number", candidate.participant_no)
    page.fill("#f-password", candidate.password)
    page.click("#login-btn")
    page.wait_for_selector("#login-error:not([hidden])")
    assert "sinyal" in page.locator("#login-error").inner_text()
    phone.set_offline(False)
    page.click("#login-btn")
    page.wait_for_selector("#v-identity:not([hidden])")
    assert candidate.name in page.locator("#identity").inner_text()


def test_once_the_exam_is_over_a_reload_without_signal_shows_none_of_it(
    phone, live_server, candidate
) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    log_in(page, live_server.url, candidate)
    answer_current(page, 1)
    wait_saved(page)
    ready_for_no_signal(page, candidate.participant_no)
    page.click("#finish")
    page.click("#confirm-yes")
    page.wait_for_selector("#logout:not([hidden])", timeout=20000)
    view = page.evaluate(
        "no => (JSON.parse(localStorage.getItem('tkd.q.' + no)) || {}).view",
        candidate.participant_no,
    )
    assert view is None  # the answers are not kept for a reload any more
    page.click("#logout")
    page.wait_for_selector("#v-login:not([hidden])")
    left = page.evaluate("Object.keys(localStorage).filter(k => k !== 'tkd.device')")
    assert not [k for k in left if k.startswith(("tkd.session", "tkd.qs.", "tkd.tab."))], left
    phone.set_offline(True)
    page.reload()
    assert page.locator("#v-login").is_visible() and page.locator("#v-exam").is_hidden()


def test_two_tabs_of_one_browser_hand_the_exam_over_and_lose_no_answer(
    phone, live_server, candidate, db_engine, redis_client
) -> None:  # type: ignore[no-untyped-def]
    older = phone.new_page()
    log_in(older, live_server.url, candidate)
    answer_current(older, 0)
    wait_saved(older)

    newer = phone.new_page()  # the same browser: straight back into the exam
    newer.goto(live_server.url + "/")
    newer.wait_for_selector("#v-exam:not([hidden]) .option")
    older.wait_for_selector("#other-tab:not([hidden])")
    assert "Ujian terbuka di tab lain" in older.locator("#other-tab").inner_text()
    assert older.locator("#q-options .option").first.is_disabled()  # it writes nothing more
    assert older.locator("#notice").is_hidden()  # a tab, not another device
    wait_saved(newer)
    ready_for_no_signal(newer, candidate.participant_no)

    phone.set_offline(True)
    go_to(newer, 3)
    from_newer = option_id(newer, 2)
    answer_current(newer, 2)  # in the shared queue only
    newer.wait_for_selector("#conn.bad")

    # The older tab takes the exam back, still without signal, and carries on from the
    # newer tab's queue instead of its own stale copy.
    older.click("#take-over")
    newer.wait_for_selector("#other-tab:not([hidden])")
    assert older.locator("#other-tab").is_hidden()
    assert older.locator("#grid button.ans").count() == 2
    go_to(older, 3)
    assert chosen(older, 2)
    go_to(older, 5)
    from_older = option_id(older, 1)
    answer_current(older, 1)
    assert newer.locator("#q-options .option").first.is_disabled()

    phone.set_offline(False)
    wait_saved(older, 40000)
    held = eventually(
        lambda: set(server_answers(db_engine, redis_client, candidate.participant_no)) == {0, 3, 5}
    )
    answers = server_answers(db_engine, redis_client, candidate.participant_no)
    assert held and answers[3] == from_newer and answers[5] == from_older, answers
    assert older.locator("#notice").is_hidden()
    assert newer.locator("#other-tab").is_visible()  # the newer tab stays quiet


FULL_FOR_THE_QUEUE = """(() => {
  const setItem = Storage.prototype.setItem;
  window.realSetItem = (k, v) => setItem.call(localStorage, k, v);
  Storage.prototype.setItem = function (key, value) {
    if (String(key).indexOf('tkd.q.') === 0) {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    }
    return setItem.call(this, key, value);
  };
})()"""


def test_a_full_phone_says_so_calmly_and_the_answers_still_reach_the_server(
    phone, live_server, candidate, db_engine, redis_client
) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    page.add_init_script(FULL_FOR_THE_QUEUE)
    page.goto(live_server.url + "/")
    page.evaluate(
        """() => {
            realSetItem('tkd.qs.OTHER-1', JSON.stringify({attempt: 'x', 0: {stem: 'lama'}}));
            realSetItem('tkd.q.OTHER-2', JSON.stringify({attempt: 'y', nextSeq: 2, queue: []}));
            realSetItem('tkd.q.OTHER-3', JSON.stringify({attempt: 'z', nextSeq: 2,
                queue: [{seq: 1, type: 'answer', q: 0, choice: 'A'}]}));
        }"""
    )
    log_in(page, live_server.url, candidate)
    assert page.locator("#storage-full").is_hidden()  # nothing lost yet: nothing to say
    answer_current(page, 1)
    page.wait_for_selector("#storage-full:not([hidden])")
    assert "Memori ponsel penuh" in page.locator("#storage-full").inner_text()
    assert page.locator("#storage-full").get_attribute("role") == "alert"
    wait_saved(page)  # online, the change reaches the server all the same
    # Room was made from what others left, never from another candidate's unsent change.
    left = page.evaluate("Object.keys(localStorage)")
    assert "tkd.qs.OTHER-1" not in left and "tkd.q.OTHER-2" not in left, left
    assert "tkd.q.OTHER-3" in left, left
    assert eventually(
        lambda: list(server_answers(db_engine, redis_client, candidate.participant_no)) == [0]
    )

    phone.set_offline(True)
    go_to(page, 2)
    answer_current(page, 0)  # in memory only: the page must stay open, and it says so
    page.wait_for_selector("#conn.bad")
    phone.set_offline(False)
    wait_saved(page, 40000)
    held = eventually(
        lambda: set(server_answers(db_engine, redis_client, candidate.participant_no)) == {0, 2}
    )
    assert held, server_answers(db_engine, redis_client, candidate.participant_no)
