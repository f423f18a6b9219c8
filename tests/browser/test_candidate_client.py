"""The candidate's page in a real browser at phone size: nothing a phone does loses an answer."""

from __future__ import annotations

from pathlib import Path

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
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_a_candidate_takes_the_whole_exam_from_login_to_result(
    phone, live_server, candidate, db_engine, redis_client
) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    page.goto(live_server.url + "/")
    assert page.locator("#v-login h1").inner_text() == "Masuk ujian"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "login.png"))
    page.fill("#f-number", candidate.participant_no)
    page.fill("#f-password", candidate.password)
    page.click("#login-btn")
    page.wait_for_selector("#v-identity:not([hidden])")
    assert candidate.name in page.locator("#identity").inner_text()
    page.screenshot(path=str(SHOTS / "identity.png"), full_page=True)
    page.click("#identity-ok")
    page.wait_for_selector("#v-exam:not([hidden]) .option")
    n = page.locator("#grid button").count()
    assert n == 15
    for q in range(n - 1):  # leave the last one blank
        go_to(page, q)
        answer_current(page, q % 4)
    go_to(page, 2)
    page.check("#q-doubt")
    wait_saved(page)
    page.screenshot(path=str(SHOTS / "exam.png"))
    assert page.locator("#grid button.ans").count() == n - 1
    assert page.locator("#grid button.ans.dbt").count() == 1

    page.click("#finish")
    assert page.locator("#confirm-unanswered").inner_text() == "Belum dijawab: 1"
    assert page.locator("#confirm-doubt").inner_text() == "Ditandai ragu-ragu: 1"
    page.click("#confirm-yes")
    page.wait_for_selector("#result:not([hidden])", timeout=20000)
    assert page.locator("#result-code").inner_text().count("-") == 3
    # The code on one line, and the verification page as an address one can type.
    code_box = page.locator("#result-code").bounding_box()
    line = page.locator("#result-code").evaluate(
        "el => parseFloat(getComputedStyle(el).lineHeight)"
    )
    assert code_box is not None and code_box["height"] <= line * 1.2
    assert page.locator("#verify-link").inner_text() == live_server.url + "/verify"
    page.screenshot(path=str(SHOTS / "result.png"), full_page=True)
    assert len(server_answers(db_engine, redis_client, candidate.participant_no)) == n - 1
    code = page.locator("#result-code").inner_text()
    assert "ambang" in page.locator("#result-rows").inner_text()  # each mark is shown
    # The full slip opens from the result, and anyone can check the code on /verify.
    with page.expect_popup() as popup:
        page.click("#slip-form button")
    slip = popup.value
    slip.wait_for_load_state()
    assert code in slip.content() and candidate.name in slip.content()
    slip.goto(live_server.url + "/verify?code=" + code)
    assert code in slip.content() and candidate.participant_no in slip.content()
    # Exam rooms may have no internet beyond our server: nothing comes from anywhere else.
    assert fetched and all(url.startswith(live_server.url + "/") for url in fetched), fetched


def test_answers_given_offline_reach_the_server_when_the_signal_returns(
    phone, live_server, candidate, db_engine, redis_client
) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    log_in(page, live_server.url, candidate)
    answer_current(page, 1)
    wait_saved(page)
    for q in range(15):  # every question downloaded before the signal goes
        go_to(page, q)
    phone.set_offline(True)
    for q in range(3, 8):
        go_to(page, q)
        answer_current(page, 2)
    page.wait_for_selector("#conn.bad")
    assert "5" in page.locator("#conn").inner_text()
    assert len(server_answers(db_engine, redis_client, candidate.participant_no)) == 1
    phone.set_offline(False)
    wait_saved(page, 40000)
    held = eventually(
        lambda: len(server_answers(db_engine, redis_client, candidate.participant_no)) == 6
    )
    assert held, server_answers(db_engine, redis_client, candidate.participant_no)


def test_a_reload_mid_exam_rebuilds_the_page_from_the_server(phone, live_server, candidate) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    log_in(page, live_server.url, candidate)
    for q in range(3):
        go_to(page, q)
        answer_current(page, 0)
    wait_saved(page)
    page.reload()
    page.wait_for_selector("#v-exam:not([hidden]) .option")
    assert page.locator("#grid button.ans").count() == 3
    go_to(page, 4)
    answer_current(page, 1)
    wait_saved(page)
    assert page.locator("#grid button.ans").count() == 4


def test_killing_the_server_mid_exam_loses_nothing(
    phone, server_factory, candidate, db_engine, redis_client
) -> None:  # type: ignore[no-untyped-def]
    from tests_support import free_port

    port = free_port()
    server = server_factory(port)
    page = phone.new_page()
    log_in(page, server.url, candidate)
    for q in range(15):
        go_to(page, q)
    answer_current(page, 0)
    wait_saved(page)
    server.kill()
    for q in range(5, 9):
        go_to(page, q)
        answer_current(page, 3)
    page.wait_for_selector("#conn.bad")
    server_factory(port)  # the same address comes back
    wait_saved(page, 60000)
    assert eventually(
        lambda: len(server_answers(db_engine, redis_client, candidate.participant_no)) == 5
    )


def test_a_second_phone_takes_over_and_the_first_is_told(browser, live_server, candidate) -> None:  # type: ignore[no-untyped-def]
    first = browser.new_context(viewport={"width": 360, "height": 740})
    second = browser.new_context(viewport={"width": 360, "height": 740})
    try:
        a = first.new_page()
        log_in(a, live_server.url, candidate)
        answer_current(a, 2)
        wait_saved(a)
        b = second.new_page()
        log_in(b, live_server.url, candidate)
        assert b.locator("#grid button.ans").count() == 1  # the new phone sees the old answers
        a.wait_for_selector("#v-replaced:not([hidden])")
        assert "perangkat lain" in a.locator("#v-replaced").inner_text()
        assert a.locator("#q-options .option").first.is_disabled()  # nothing more to lose
        go_to(b, 1)
        answer_current(b, 0)
        wait_saved(b)
    finally:
        first.close()
        second.close()


def test_changes_kept_offline_on_one_phone_survive_another_phone_using_the_same_seq(
    browser, live_server, candidate, db_engine, redis_client
) -> None:  # type: ignore[no-untyped-def]
    first = browser.new_context(viewport={"width": 360, "height": 740})
    second = browser.new_context(viewport={"width": 360, "height": 740})
    try:
        a = first.new_page()
        log_in(a, live_server.url, candidate)
        answer_current(a, 1)
        wait_saved(a)
        for q in range(6):
            go_to(a, q)
        first.set_offline(True)
        go_to(a, 3)
        answer_current(a, 2)  # kept on phone A as the next seq
        b = second.new_page()
        log_in(b, live_server.url, candidate)
        go_to(b, 5)
        answer_current(b, 0)  # phone B uses the very same seq number
        wait_saved(b)
        first.set_offline(False)  # A comes back, takes over, and must not drop its change
        wait_saved(a)
        answers = server_answers(db_engine, redis_client, candidate.participant_no)
        assert {0, 3, 5} <= set(answers), answers
    finally:
        first.close()
        second.close()


def test_the_page_speaks_english_on_request_and_fits_a_phone(phone, live_server) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    page.goto(live_server.url + "/?lang=en")
    assert page.locator("#v-login h1").inner_text() == "Log in to the test"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.goto(live_server.url + "/")  # the choice is remembered
    assert page.locator("#v-login h1").inner_text() == "Log in to the test"


def test_both_catalogues_have_the_same_keys_and_none_shadows_a_template_name() -> None:
    import json

    from exam_server.web.candidate_pages import I18N

    id_keys = set(json.loads((I18N / "id.json").read_text()))
    en_keys = set(json.loads((I18N / "en.json").read_text()))
    assert id_keys == en_keys
    assert not [k for k in id_keys if hasattr(dict, k)]  # {{ s.clear }} would print a method


def test_the_script_uses_nothing_newer_than_es2017() -> None:
    # Five-year-old Android Chrome, no build step: these would be syntax errors or missing
    # functions there. A rough guard, not a parser; the browser tests run the script itself.
    static = Path(__file__).resolve().parents[2] / "exam_server" / "static"
    for name in ("exam.js", "sw.js"):  # the page's script and its service worker
        script = (static / name).read_text()
        newer = ["?.", "??", "replaceAll(", "structuredClone(", ".at(", "#private", "static {"]
        assert [token for token in newer if token in script] == [], name
        assert "import " not in script and "export " not in script, name


def test_the_exam_page_stays_under_40_kb_of_compressed_script_style_and_worker() -> None:
    from exam_server.web.candidate_pages import shell_file

    # The service worker is fetched by the phone too (once, then on updates): it counts.
    # What goes over the wire is the gzip form (the browser test measures it there too).
    names = ("exam.js", "exam.css", "sw.js")
    assert sum(len(shell_file(name).gzipped) for name in names) < 40 * 1024


def test_the_exam_can_be_taken_with_the_keyboard_and_is_labelled_for_screen_readers(
    phone, live_server, candidate
) -> None:  # type: ignore[no-untyped-def]
    page = phone.new_page()
    log_in(page, live_server.url, candidate)
    page.locator("#q-options .option").nth(1).focus()
    page.keyboard.press("Enter")
    assert page.locator("#q-options .option").nth(1).get_attribute("aria-checked") == "true"
    assert page.locator("#q-options").get_attribute("role") == "radiogroup"
    page.keyboard.press("ArrowRight")
    assert page.locator("#q-label").inner_text().startswith("Soal 2 ")
    label = page.locator("#grid button[data-q='0']").get_attribute("aria-label")
    assert label == "Soal 1, dijawab"
    page.locator("#q-doubt").focus()
    page.keyboard.press("Space")
    wait_saved(page)
    label = page.locator("#grid button[data-q='1']").get_attribute("aria-label")
    assert label == "Soal 2, belum dijawab, ragu-ragu"
    assert page.locator("#conn").get_attribute("role") == "status"
