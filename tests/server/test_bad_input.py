"""A bad message gets bad_message and leaves the attempt and the connection as they were."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow

BAD_MESSAGES = [
    pytest.param("{not json", id="malformed-json"),
    pytest.param(json.dumps({"type": "teleport", "seq": 3}), id="unknown-type"),
    pytest.param(
        json.dumps({"type": "answer", "seq": 3, "q": 0, "choice": "A", "pad": "x" * 100_000}),
        id="huge-frame",
    ),
    pytest.param(
        json.dumps({"type": "answer", "seq": 3, "q": 9999, "choice": "A"}), id="q-out-of-range"
    ),
    pytest.param(
        json.dumps({"type": "answer", "seq": 3, "q": 1, "choice": "Z"}), id="unknown-option"
    ),
    pytest.param(
        json.dumps({"type": "answer", "seq": "3", "q": 1, "choice": "A"}), id="seq-not-integer"
    ),
    pytest.param(
        json.dumps({"type": "answer", "seq": 3, "q": 1, "choice": ["A", "B"]}), id="list-for-single"
    ),
    pytest.param(
        json.dumps({"type": "doubt", "seq": 3, "q": 1, "on": "ya"}), id="doubt-not-boolean"
    ),
]


@pytest.mark.parametrize("raw", BAD_MESSAGES)
def test_a_bad_message_changes_nothing(exam_client, raw: str) -> None:  # type: ignore[no-untyped-def]
    exam_client.connect()
    exam_client.answer(0, pick=1)
    exam_client.change({"type": "doubt", "q": 0, "on": True})
    before = exam_client.connect(resend=False)

    exam_client.send_raw(raw)
    error = exam_client.wait_for("error")
    assert error["code"] == "bad_message"
    assert error["message"]
    exam_client.send({"type": "ping", "t": 42})  # the connection is still usable
    assert exam_client.wait_for("pong")["t"] == 42

    after = exam_client.connect(resend=False)
    for field in ("answers", "doubts", "last_seq", "status"):
        assert after[field] == before[field]
    exam_client.answer(1)  # and the next real change is still seq last_seq + 1
    assert exam_client.connect(resend=False)["last_seq"] == before["last_seq"] + 1


def test_a_binary_frame_is_a_bad_message(exam_client) -> None:  # type: ignore[no-untyped-def]
    exam_client.connect()
    exam_client.ws.send(b"\x00\x01")
    assert exam_client.wait_for("error")["code"] == "bad_message"


def test_a_gap_in_seq_is_refused_with_the_seq_expected(exam_client) -> None:  # type: ignore[no-untyped-def]
    exam_client.connect()
    exam_client.answer(0)
    options = exam_client.question(1)["options"]
    exam_client.send(
        {"type": "answer", "seq": exam_client.seq + 5, "q": 1, "choice": options[0]["id"]}
    )
    error = exam_client.wait_for("error")
    assert error["code"] == "out_of_order"
    assert error["expected"] == exam_client.seq + 1
    assert "1" not in exam_client.connect(resend=False)["answers"]


def test_a_resent_change_is_acknowledged_again_but_applied_once(exam_client) -> None:  # type: ignore[no-untyped-def]
    exam_client.connect()
    first = exam_client.question(0)["options"][0]["id"]
    second = exam_client.question(0)["options"][1]["id"]
    exam_client.change({"type": "answer", "q": 0, "choice": first})
    exam_client.change({"type": "answer", "q": 0, "choice": second})
    exam_client.send({"type": "answer", "seq": 1, "q": 0, "choice": first})  # a stale resend
    assert exam_client.wait_for("ack")["seq"] == 1
    assert exam_client.connect(resend=False)["answers"] == {"0": second}
