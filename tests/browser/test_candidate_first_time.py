"""A first-time candidate on a cheap phone: no dead ends, no doubt about what is saved.

Each test drives Debian's chromium at 360x740 through one thing such a candidate trips over
(docs/client.md).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import struct
import time
import zlib
from typing import Any

import pytest
from browser.candidate_support import answer_current, go_to, log_in, wait_saved

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Every visible text element against the colour behind it: WCAG's contrast ratio.
CONTRAST_JS = """() => {
  function rgb(s) { var m = s.match(/[\\d.]+/g) || []; return m.map(Number); }
  function lum(c) {
    var a = c.slice(0, 3).map(function (v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * a[0] + 0.7152 * a[1] + 0.0722 * a[2];
  }
  function bg(el) {
    for (; el; el = el.parentElement) {
      var c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || c[3] > 0) return c;
    }
    return [255, 255, 255];
  }
  var bad = [];
  document.querySelectorAll('body *').forEach(function (el) {
    if (!el.offsetParent && getComputedStyle(el).position !== 'fixed') return;
    if (el.closest('[disabled]')) return;  // WCAG exempts controls that cannot be used
    var own = Array.prototype.some.call(el.childNodes, function (n) { return n.nodeType === 3 && n.textContent.trim(); });
    if (!own) return;
    var f = lum(rgb(getComputedStyle(el).color)), b = lum(bg(el));
    var ratio = (Math.max(f, b) + 0.05) / (Math.min(f, b) + 0.05);
    if (ratio < 4.5) bad.push(el.tagName + '#' + el.id + '.' + el.className + ' ' + ratio.toFixed(2));
  });
  return bad;
}"""


def watch_console(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def no_sideways_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def drop_from_server(page: Any, kind: str, opened: list[int] | None = None) -> None:
    """Every socket of this page passes through here; messages of `kind` never arrive."""

    def handler(ws: Any) -> None:
        if opened is not None:
            opened.append(1)
        server = ws.connect_to_server()
        server.on_message(lambda m: None if json.loads(m).get("type") == kind else ws.send(m))

    page.route_web_socket(re.compile(r".*/ws/v1/exam"), handler)


def test_a_replaced_phone_shows_one_message_and_a_working_continue_here(
    browser, live_server, candidate, db_engine, redis_client
) -> None:  # type: ignore[no-untyped-def]
    first = browser.new_context(viewport={"width": 360, "height": 740})
    second = browser.new_context(viewport={"width": 360, "height": 740})
    try:
        a = first.new_page()
        errors = watch_console(a)
        log_in(a, live_server.url, candidate)
        answer_current(a, 2)
        wait_saved(a)
        b = second.new_page()
        log_in(b, live_server.url, candidate)
        a.wait_for_selector("#v-replaced:not([hidden])")
        shown = a.evaluate(
            """() => Array.prototype.filter.call(document.querySelectorAll('body *'), function (el) {
                 return el.offsetParent !== null && /Ujian Anda dibuka di perangkat lain/.test(el.textContent) &&
                   !Array.prototype.some.call(el.children, function (c) { return /Ujian Anda dibuka di perangkat lain/.test(c.textContent); });
               }).map(function (el) { return el.tagName + '#' + el.id; })"""
        )
        assert shown == ["P#"], shown  # said once, in the panel
        assert a.locator("#conn").is_hidden() and a.locator("#notice").is_hidden()
        assert a.locator("#timer").is_hidden() and a.locator("#v-exam").is_hidden()
        assert "pengawas" in a.locator("#v-replaced").inner_text()
        a.evaluate("document.documentElement.style.fontSize = '200%'")
        assert no_sideways_scroll(a)
        a.evaluate("document.documentElement.style.fontSize = ''")
        assert errors == []
        a.click("#continue-here")
        a.wait_for_selector("#v-exam:not([hidden]) .option")
        go_to(a, 4)
        answer_current(a, 1)
        wait_saved(a)
        b.wait_for_selector("#v-replaced:not([hidden])")  # and now the other phone is told
    finally:
        first.close()
        second.close()


def test_the_grid_tells_an_answered_ragu_question_from_an_unanswered_one(
    phone, live_server, candidate
) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    log_in(page, live_server.url, candidate)
    answer_current(page, 0)
    page.check("#q-doubt")
    go_to(page, 1)
    page.check("#q-doubt")
    wait_saved(page)
    one, two = page.locator("#grid button[data-q='0']"), page.locator("#grid button[data-q='1']")
    assert one.get_attribute("aria-label") == "Soal 1, dijawab, ragu-ragu"
    assert two.get_attribute("aria-label") == "Soal 2, belum dijawab, ragu-ragu"
    look = "el => [getComputedStyle(el).backgroundColor, getComputedStyle(el).borderStyle]"
    assert one.evaluate(look) != two.evaluate(look)
    assert "belum dijawab, ragu-ragu" in page.locator(".legend").inner_text()


def test_the_saved_or_offline_status_stays_in_sight_while_scrolled(
    phone, live_server, candidate
) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    log_in(page, live_server.url, candidate)
    answer_current(page, 0)
    wait_saved(page)
    page.locator("#finish").scroll_into_view_if_needed()
    phone.set_offline(True)
    page.wait_for_selector("#conn.bad")
    box = page.locator("#conn").bounding_box()
    assert page.evaluate("window.scrollY") > 50
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 740
    phone.set_offline(False)


def test_no_screen_writes_a_console_error_and_the_icon_is_there(
    phone, live_server, candidate
) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    errors = watch_console(page)
    page.goto(live_server.url + "/")
    page.wait_for_load_state("networkidle")
    log_in(page, live_server.url, candidate)
    answer_current(page, 0)
    wait_saved(page)
    page.click("#finish")
    page.click("#confirm-yes")
    page.wait_for_selector("#result:not([hidden])", timeout=20000)
    page.click("#logout")
    page.wait_for_selector("#v-login:not([hidden])")
    page.wait_for_load_state("networkidle")
    assert errors == []
    icon = page.request.get(live_server.url + "/favicon.ico")
    assert icon.status == 200 and icon.headers["content-type"] == "image/x-icon"


def test_text_at_200_percent_and_the_large_text_switch_never_scroll_sideways(
    phone, live_server, candidate
) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    page.goto(live_server.url + "/")
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    assert no_sideways_scroll(page)
    page.fill("#f-number", candidate.participant_no)
    page.fill("#f-password", candidate.password)
    page.click("#login-btn")
    page.wait_for_selector("#v-identity:not([hidden])")
    assert no_sideways_scroll(page)
    page.click("#not-me")  # a wrong person on the phone leaves at once
    page.wait_for_selector("#v-login:not([hidden])")
    page.evaluate("document.documentElement.style.fontSize = ''")
    page.click("#big-text")
    assert page.locator("#big-text").get_attribute("aria-pressed") == "true"
    assert page.evaluate("getComputedStyle(document.body).fontSize") == "20px"
    log_in(page, live_server.url, candidate)  # the switch is kept by this phone
    assert page.evaluate("getComputedStyle(document.body).fontSize") == "20px"
    for view in ("exam", "finished"):
        if view == "finished":
            page.click("#finish")
            page.click("#confirm-yes")
            page.wait_for_selector("#result:not([hidden])", timeout=20000)
        page.evaluate("document.documentElement.style.fontSize = '200%'")
        assert no_sideways_scroll(page), view
        page.evaluate("document.documentElement.style.fontSize = ''")


def test_every_text_has_a_contrast_of_at_least_4_5_to_1(phone, live_server, candidate) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    page.goto(live_server.url + "/")
    assert page.evaluate(CONTRAST_JS) == []
    log_in(page, live_server.url, candidate)
    answer_current(page, 0)
    page.check("#q-doubt")
    go_to(page, 1)
    page.check("#q-doubt")
    go_to(page, 2)
    answer_current(page, 1)
    wait_saved(page)
    assert page.evaluate(CONTRAST_JS) == []
    page.click("#finish")
    page.click("#confirm-yes")
    page.wait_for_selector("#result:not([hidden])", timeout=20000)
    assert page.evaluate(CONTRAST_JS) == []


def test_a_laptop_answers_with_the_letters_and_moves_with_the_arrows(
    browser, live_server, candidate
) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        log_in(page, live_server.url, candidate)
        page.evaluate("document.activeElement.blur()")
        page.keyboard.press("c")
        assert page.locator("#q-options .option").nth(2).get_attribute("aria-checked") == "true"
        page.keyboard.press("ArrowRight")
        assert page.locator("#q-label").inner_text().startswith("Soal 2 ")
        page.keyboard.press("Shift+A")
        assert page.locator("#q-options .option").nth(0).get_attribute("aria-checked") == "true"
        page.keyboard.press("ArrowLeft")
        assert page.locator("#q-options .option").nth(2).get_attribute("aria-checked") == "true"
        wait_saved(page)
        assert page.locator("#grid button.ans").count() == 2
    finally:
        context.close()


def test_a_phone_clock_changed_while_offline_does_not_stop_answering(
    phone, live_server, candidate, db_engine, redis_client
) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    page.clock.install()
    log_in(page, live_server.url, candidate)
    for q in range(4):
        go_to(page, q)
    answer_current(page, 0)
    wait_saved(page)
    phone.set_offline(True)
    page.wait_for_selector("#conn.bad")
    # Four hours on: far past the deadline on the phone's wall clock.
    page.clock.set_system_time(dt.datetime.now(dt.UTC) + dt.timedelta(hours=4))
    page.wait_for_timeout(1500)  # a tick or two of the page's timer
    assert "Waktu habis" not in page.locator("#timer").inner_text()
    go_to(page, 3)
    assert not page.locator("#q-options .option").nth(1).is_disabled()
    answer_current(page, 1)
    assert page.locator("#q-options .option").nth(1).get_attribute("aria-checked") == "true"
    phone.set_offline(False)
    wait_saved(page, 40000)


def test_logging_out_on_a_shared_phone_leaves_nothing_of_the_candidate(
    phone, live_server, candidate
) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    drop_from_server(page, "durable")  # the queue never empties: acknowledged, never durable
    log_in(page, live_server.url, candidate)
    answer_current(page, 0)
    wait_saved(page)
    page.click("#finish")
    page.click("#confirm-yes")
    page.wait_for_selector("#result:not([hidden])", timeout=20000)
    kept = page.evaluate(
        "no => JSON.parse(localStorage.getItem('tkd.q.' + no) || 'null')", candidate.participant_no
    )
    assert kept and kept["queue"], "the test needs a queue that is not empty"
    page.click("#logout")
    page.wait_for_selector("#v-login:not([hidden])")
    storage = page.evaluate("Object.assign({}, localStorage)")
    assert set(storage) <= {"tkd.device", "tkd.text"}, storage
    assert candidate.participant_no not in json.dumps(storage)


def test_a_replaced_phone_warns_before_logging_out_with_a_change_the_server_never_had(
    browser, live_server, candidate
) -> None:  # type: ignore[no-untyped-def]
    first = browser.new_context(viewport={"width": 360, "height": 740})
    second = browser.new_context(viewport={"width": 360, "height": 740})
    try:
        a = first.new_page()

        def lossy(ws: Any) -> None:
            server = ws.connect_to_server()

            # The answer to question 2 never reaches the server: it stays unacknowledged.
            def from_page(m: str) -> None:
                msg = json.loads(m)
                if not (msg.get("type") == "answer" and msg.get("q") == 1):
                    server.send(m)

            ws.on_message(from_page)

        a.route_web_socket(re.compile(r".*/ws/v1/exam"), lossy)
        log_in(a, live_server.url, candidate)
        answer_current(a, 0)
        wait_saved(a)
        go_to(a, 1)
        answer_current(a, 1)
        a.wait_for_selector("#conn.wait")
        b = second.new_page()
        log_in(b, live_server.url, candidate)
        a.wait_for_selector("#v-replaced:not([hidden])")
        a.click("#replaced-logout")
        warning = a.locator("#logout-warn")
        assert warning.is_visible() and warning.inner_text().startswith("1 perubahan")
        assert a.evaluate("localStorage.getItem('tkd.session')") is not None  # nothing gone yet
        a.click("#replaced-logout")
        a.wait_for_selector("#v-login:not([hidden])")
        assert set(a.evaluate("Object.keys(localStorage)")) <= {"tkd.device", "tkd.text"}
    finally:
        first.close()
        second.close()


def test_an_acknowledged_change_not_durable_in_ten_seconds_makes_the_page_reconnect(
    phone, live_server, candidate
) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    opened: list[int] = []
    drop_from_server(page, "durable", opened)
    log_in(page, live_server.url, candidate)
    answer_current(page, 0)
    wait_saved(page)
    assert len(opened) == 1
    deadline = time.monotonic() + 20
    while len(opened) < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(500)
    assert len(opened) >= 2
    wait_saved(page)


def test_no_change_is_renumbered_at_or_below_the_highest_durable_seq(
    phone, live_server, candidate
) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    sent: list[dict[str, Any]] = []
    durable = [0]

    def handler(ws: Any) -> None:
        server = ws.connect_to_server()

        def from_server(m: str) -> None:
            msg = json.loads(m)
            if msg.get("type") == "durable":
                durable[0] = max(durable[0], msg["seq"])
            if msg.get("type") == "state":
                durable[0] = max(durable[0], msg["durable_seq"])
            ws.send(m)

        def from_page(m: str) -> None:
            msg = json.loads(m)
            sent.append(msg)
            if msg.get("type") == "answer" and msg.get("q") == 5:
                # A server that lost its live copy asks again from the start.
                ws.send(json.dumps({"type": "error", "code": "out_of_order", "expected": 1}))
                return
            server.send(m)

        server.on_message(from_server)
        ws.on_message(from_page)

    page.route_web_socket(re.compile(r".*/ws/v1/exam"), handler)
    log_in(page, live_server.url, candidate)
    for q in range(3):
        go_to(page, q)
        answer_current(page, 0)
    page.wait_for_function(
        "no => !(JSON.parse(localStorage.getItem('tkd.q.' + no)).queue.length)",
        arg=candidate.participant_no,
    )
    floor = durable[0]
    assert floor >= 3
    go_to(page, 5)
    answer_current(page, 1)
    page.wait_for_timeout(2000)
    after = [m for m in sent if m.get("type") == "answer" and m.get("q") == 5]
    assert after and all(m["seq"] > floor for m in after), after


def test_compressed_script_style_and_worker_stay_under_40_kb_and_revalidate(
    phone, live_server
) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    sizes: dict[str, int] = {}

    def done(request: Any) -> None:
        path = request.url.replace(live_server.url, "")
        if path in ("/static/exam.js", "/static/exam.css", "/sw.js"):
            resp = request.response()
            assert resp.headers.get("content-encoding") == "gzip", path
            assert resp.headers.get("etag"), path
            sizes[path] = request.sizes()["responseBodySize"]

    phone.on("requestfinished", done)  # the context's: the service worker's own fetch too
    page.goto(live_server.url + "/")
    page.wait_for_function("() => !!navigator.serviceWorker.controller")
    page.wait_for_timeout(500)
    assert set(sizes) == {"/static/exam.js", "/static/exam.css", "/sw.js"}, sizes
    assert sum(sizes.values()) < 40 * 1024, sizes
    # A second look at an unchanged file costs a 304, not the file again.
    for path in ("/", "/static/exam.js", "/sw.js", "/favicon.ico"):
        first = page.request.get(live_server.url + path)
        again = page.request.get(
            live_server.url + path, headers={"If-None-Match": first.headers["etag"]}
        )
        assert again.status == 304, path


def test_the_identity_screen_shows_the_start_button_and_the_session_with_date_and_zone(
    phone, live_server, candidate
) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    page.goto(live_server.url + "/")
    page.fill("#f-number", candidate.participant_no)
    page.fill("#f-password", candidate.password)
    page.click("#login-btn")
    page.wait_for_selector("#v-identity:not([hidden])")
    box = page.locator("#identity-ok").bounding_box()
    assert box is not None and box["y"] + box["height"] <= 740
    facts = page.locator("#identity").inner_text()
    assert re.search(r"\w+, \d{2}-\d{2}-\d{4}, \d{2}:\d{2}–\d{2}:\d{2} WIB", facts), facts


def test_login_says_where_the_credentials_are_shows_the_password_and_asks_for_a_token_politely(
    phone, live_server, candidate, db_engine
) -> None:  # type: ignore[no-untyped-def]
    from tests_support import move_to_own_session

    move_to_own_session(db_engine, candidate, token_required=True)
    page = phone.new_page()
    page.goto(live_server.url + "/")
    assert "kartu peserta" in page.locator("#v-login").inner_text()
    page.fill("#f-password", candidate.password)
    page.click("#show-pw")
    assert page.locator("#f-password").get_attribute("type") == "text"
    assert page.locator("#show-pw").get_attribute("aria-pressed") == "true"
    page.fill("#f-number", candidate.participant_no)
    page.click("#login-btn")
    page.wait_for_selector("#token-row:not([hidden])")
    said = page.locator("#login-error").inner_text()
    assert "memerlukan token" in said and "salah" not in said
    # Every field has a label a screen reader reads out.
    for field in ("#f-number", "#f-password", "#f-token"):
        assert page.locator(field).evaluate("el => el.labels.length") == 1, field


def test_a_busy_login_counts_down_calmly_and_tries_again(phone, live_server, candidate) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    calls: list[float] = []

    def login(route: Any) -> None:
        calls.append(time.monotonic())
        if len(calls) == 1:
            route.fulfill(
                status=503,
                headers={"Retry-After": "2", "Content-Type": "application/json"},
                body=json.dumps({"error": {"code": "busy", "message": "Server penuh"}}),
            )
        else:
            route.continue_()

    page.route("**/api/v1/candidate/login", login)
    page.goto(live_server.url + "/")
    page.fill("#f-number", candidate.participant_no)
    page.fill("#f-password", candidate.password)
    page.click("#login-btn")
    page.wait_for_selector("#login-busy:not([hidden])")
    assert re.match(
        r"Antrean masuk: mencoba lagi dalam \d+ detik", page.locator("#login-busy").inner_text()
    )
    assert page.locator("#login-error").is_hidden()
    page.wait_for_selector("#v-identity:not([hidden])", timeout=10000)
    assert len(calls) == 2 and calls[1] - calls[0] >= 1.9
    assert page.locator("#login-busy").is_hidden()


def test_a_busy_socket_counts_down_and_reconnects(phone, live_server, candidate) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    opened: list[int] = []

    def handler(ws: Any) -> None:
        opened.append(1)
        if len(opened) == 2:  # the first socket after the login is refused as busy
            ws.on_message(
                lambda m: ws.send(
                    json.dumps({"type": "error", "code": "busy", "retry_after_ms": 3000})
                )
            )
            return
        ws.connect_to_server()

    page.route_web_socket(re.compile(r".*/ws/v1/exam"), handler)
    log_in(page, live_server.url, candidate)
    page.reload()
    page.wait_for_selector("#conn.busy")
    assert re.match(
        r"Antrean masuk: mencoba lagi dalam \d+ detik", page.locator("#conn").inner_text()
    )
    wait_saved(page, 15000)
    assert len(opened) == 3


def png(width: int, height: int) -> bytes:
    """A grey picture of this size, made here (no file, no dependency)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x88" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def test_pictures_load_lazily_and_never_move_the_options(phone, live_server, candidate) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    held: list[Any] = []
    released = [False]
    picture = png(200, 400)

    def give(route: Any) -> None:
        route.fulfill(status=200, body=picture, headers={"Content-Type": "image/png"})

    def slow_picture(route: Any) -> None:
        if released[0]:
            give(route)
        else:
            held.append(route)

    def handler(ws: Any) -> None:
        server = ws.connect_to_server()

        def from_server(m: str) -> None:
            msg = json.loads(m)
            if msg.get("type") == "question" and msg.get("q") == 1:
                msg["stem"] = '<p><img src="@@IMG@@/tall.png" alt="gambar"></p>' + msg["stem"]
                m = json.dumps(msg)
            ws.send(m)

        server.on_message(from_server)

    page.route("**/tall.png", slow_picture)
    page.route_web_socket(re.compile(r".*/ws/v1/exam"), handler)
    log_in(page, live_server.url, candidate)
    page.click("#grid button[data-q='1']")
    page.wait_for_selector("#q-stem img")
    assert page.locator("#q-stem img").get_attribute("loading") == "lazy"
    page.wait_for_timeout(300)
    before = page.locator("#q-options .option").first.bounding_box()
    released[0] = True
    for route in held:
        give(route)
    page.wait_for_function(
        "() => { var i = document.querySelector('#q-stem img'); return i.complete && i.naturalWidth > 0; }"
    )
    page.wait_for_timeout(300)
    after = page.locator("#q-options .option").first.bounding_box()
    assert before == after
    answer_current(page, 0)  # a tap redraws the question: the picture keeps its room
    assert page.locator("#q-options .option").first.bounding_box() == before


def test_the_waiting_room_has_a_practice_question_that_sends_nothing(
    phone, live_server, candidate, db_engine
) -> None:  # type: ignore[no-untyped-def]
    from tests_support import move_to_own_session

    move_to_own_session(db_engine, candidate, starts_in_s=120)
    page = phone.new_page()
    errors = watch_console(page)
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: frames.append(str(payload))))
    page.goto(live_server.url + "/")
    page.fill("#f-number", candidate.participant_no)
    page.fill("#f-password", candidate.password)
    page.click("#login-btn")
    page.click("#identity-ok")
    page.wait_for_selector("#v-waiting:not([hidden])")
    practice = page.locator("#p-options .option")
    assert practice.count() == 4
    practice.nth(2).click()
    assert practice.nth(2).get_attribute("aria-checked") == "true"
    assert "C" in page.locator("#p-said").inner_text()
    cell = page.locator("#p-grid button")
    assert cell.get_attribute("aria-label") == "Soal 1, dijawab"
    page.check("#p-doubt")
    assert cell.get_attribute("aria-label") == "Soal 1, dijawab, ragu-ragu"
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("b")
    assert practice.nth(1).get_attribute("aria-checked") == "true"
    page.wait_for_timeout(500)
    assert frames and not [f for f in frames if '"answer"' in f or '"doubt"' in f], frames
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    assert no_sideways_scroll(page)
    assert errors == []


LABELS_JS = """() => Array.prototype.filter.call(
  document.querySelectorAll('button, input, a, [role=radio], [role=checkbox]'),
  function (el) {
    if (!el.offsetParent || el.type === 'hidden') return false;
    var name = el.getAttribute('aria-label') || (el.labels && el.labels.length && el.labels[0].textContent) ||
      el.textContent;
    return !(name || '').trim();
  }).map(function (el) { return el.tagName + '#' + el.id; })"""


def test_every_control_on_every_screen_has_a_name_a_screen_reader_reads(
    phone, live_server, candidate
) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    page.goto(live_server.url + "/")
    assert page.evaluate(LABELS_JS) == []
    page.fill("#f-number", candidate.participant_no)
    page.fill("#f-password", candidate.password)
    page.click("#login-btn")
    page.wait_for_selector("#v-identity:not([hidden])")
    assert page.evaluate(LABELS_JS) == []
    page.click("#identity-ok")
    page.wait_for_selector("#v-exam:not([hidden]) .option")
    assert page.evaluate(LABELS_JS) == []
    # The option's name starts with its letter, as the keyboard hint speaks of A-E.
    assert page.locator("#q-options .option").nth(1).inner_text().startswith("B")
