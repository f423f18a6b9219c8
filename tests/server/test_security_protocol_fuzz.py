"""Property-based fuzzing of the exam WebSocket protocol: the parser never raises, and a
live socket fed garbage answers only documented errors, stays open and leaves every other
attempt as it was (docs/security.md, "Fuzzing")."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests_support import ExamClient

from exam_server.delivery.messages import MESSAGES
from exam_server.delivery.protocol import BadMessage, Get, Hello, Ping, Submit, parse

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=80),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=40,
)
TYPES = ["hello", "get", "answer", "doubt", "submit", "ping", "focus", "", "ANSWER", None, 7]


@st.composite
def messages(draw: st.DrawFn) -> str:
    """Frames near the protocol (known types, odd fields) and frames far from it."""
    kind = draw(st.sampled_from(["near", "json", "text", "deep"]))
    if kind == "near":
        body: dict[str, Any] = {"type": draw(st.sampled_from(TYPES))}
        for field in ("seq", "q", "choice", "on", "token", "device", "t"):
            if draw(st.booleans()):
                body[field] = draw(json_values)
        return json.dumps(body)
    if kind == "json":
        return json.dumps(draw(json_values))
    if kind == "deep":
        depth = draw(st.integers(10, 5000))
        return draw(st.sampled_from(["[", '{"a":'])) * depth
    return draw(st.text(max_size=300))


@given(messages() | st.binary(max_size=300))
@settings(max_examples=400, deadline=None)
def test_the_parser_never_raises(frame: str | bytes) -> None:
    result = parse(frame, 8 * 1024, 16)
    assert isinstance(result, BadMessage | Hello | Get | Ping | Submit) or hasattr(result, "seq")


DOCUMENTED = set(MESSAGES)


@pytest.mark.slow
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(frames=st.lists(messages(), min_size=1, max_size=8))
def test_a_live_socket_fed_garbage_answers_documented_errors_and_touches_no_other_attempt(
    live_server, candidate, other_candidate, frames, request
) -> None:  # type: ignore[no-untyped-def]
    state = _setup(request, live_server, candidate, other_candidate)
    client: ExamClient = state["client"]
    for frame in frames:
        if isinstance(parse(frame, 8 * 1024, 16), Submit):
            continue  # a valid submit would end the attempt under test; that is not garbage
        client.send_raw(frame)
    pong_t = next(state["pings"])
    client.send({"type": "ping", "t": pong_t})
    client.wait_for("pong", t=pong_t)
    codes = {m.get("code") for m in client.received if m.get("type") == "error"}
    assert codes <= DOCUMENTED, codes - DOCUMENTED
    # The other candidate's attempt is exactly as it was.
    other: ExamClient = state["other"]
    other.received.clear()
    other.send({"type": "ping", "t": pong_t})
    other.wait_for("pong", t=pong_t)
    assert other.connect(resend=False)["answers"] == state["other_answers"]


def _setup(request, live_server, candidate, other_candidate) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """One connection per test (hypothesis runs the body many times with the same fixtures)."""
    node = request.node
    if not hasattr(node, "_fuzz_state"):
        other = ExamClient(
            live_server.url, other_candidate.participant_no, other_candidate.password
        )
        assert other.login().status_code == 200
        other.connect()
        other.answer(0)
        other_answers = other.connect(resend=False)["answers"]
        client = ExamClient(live_server.url, candidate.participant_no, candidate.password)
        assert client.login().status_code == 200
        client.connect()
        node._fuzz_state = {
            "client": client,
            "other": other,
            "other_answers": other_answers,
            "pings": itertools.count(1000),
        }
        request.addfinalizer(client.close)
        request.addfinalizer(other.close)
    return node._fuzz_state  # type: ignore[no-any-return]
