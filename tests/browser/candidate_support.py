"""Steps a candidate takes on the page, and a look at what the server holds."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import text

from exam_server.delivery.checkpoint import attempt_key


def log_in(page: Any, url: str, cred: Any) -> None:
    page.goto(url + "/")
    page.fill("#f-number", cred.participant_no)
    page.fill("#f-password", cred.password)
    page.click("#login-btn")
    page.wait_for_selector("#v-identity:not([hidden])")
    page.click("#identity-ok")
    page.wait_for_selector("#v-exam:not([hidden]) .option")


def answer_current(page: Any, option: int = 0) -> None:
    page.locator("#q-options .option").nth(option).click()


def go_to(page: Any, q: int) -> None:
    page.click(f"#grid button[data-q='{q}']")
    page.wait_for_selector("#q-options .option")


def wait_saved(page: Any, timeout_ms: int = 15000) -> None:
    page.wait_for_selector("#conn.ok", timeout=timeout_ms)


def server_answers(db_engine: Any, redis_client: Any, participant_no: str) -> dict[int, Any]:
    """What the server holds for this candidate: the Redis checkpoint (what `ack` means)."""
    with db_engine.connect() as conn:
        attempt = conn.execute(
            text(
                "SELECT a.id FROM attempts a JOIN candidates c ON c.id = a.candidate_id WHERE c.participant_no = :p"
            ),
            {"p": participant_no},
        ).scalar()
    h = redis_client.hgetall(attempt_key(attempt))
    return {int(k[2:]): json.loads(v) for k, v in h.items() if k.startswith("a:")}


def eventually(check: Any, timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)
