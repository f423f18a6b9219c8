"""The WebSocket protocol's messages (docs/protocol.md, "Exam delivery"): parsing and building, pure.

Parsing never raises: anything malformed becomes a ``BadMessage`` with a reason, so the
delivery loop can answer ``bad_message`` and leave the attempt exactly as it was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeGuard

from exam_server.delivery.input_limits import InputRefused, loads_limited

Choice = str | tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class Hello:
    token: str
    device: str


@dataclass(frozen=True, slots=True)
class Get:
    q: int


@dataclass(frozen=True, slots=True)
class Answer:
    seq: int
    q: int
    choice: Choice


@dataclass(frozen=True, slots=True)
class Doubt:
    seq: int
    q: int
    on: bool


@dataclass(frozen=True, slots=True)
class Submit:
    seq: int


@dataclass(frozen=True, slots=True)
class Ping:
    t: Any


@dataclass(frozen=True, slots=True)
class Focus:
    """The page was hidden or shown again (the candidate left the exam tab or came back)."""

    hidden: bool


@dataclass(frozen=True, slots=True)
class BadMessage:
    reason: str
    seq: int | None = None


ClientMessage = Hello | Get | Answer | Doubt | Submit | Ping | Focus
Change = Answer | Doubt | Submit

MAX_SEQ = 2**31 - 1  # the answer log stores seq as a PostgreSQL integer


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _seq(data: dict[str, Any]) -> int | BadMessage:
    seq = data.get("seq")
    if not _is_int(seq) or not 1 <= seq <= MAX_SEQ:
        return BadMessage("seq must be a positive integer")
    return int(seq)


def _q(data: dict[str, Any], seq: int | None = None) -> int | BadMessage:
    q = data.get("q")
    if not _is_int(q) or q < 0:
        return BadMessage("q must be a non-negative integer", seq)
    return int(q)


def _choice(raw: Any, seq: int) -> Choice | BadMessage:
    if raw is None:
        return None
    if isinstance(raw, str) and 0 < len(raw) <= 64:
        return raw
    if (
        isinstance(raw, list)
        and len(raw) <= 26
        and all(isinstance(c, str) and 0 < len(c) <= 64 for c in raw)
        and len(set(raw)) == len(raw)
    ):
        return tuple(sorted(raw))
    return BadMessage("choice must be an option id, a list of option ids, or null", seq)


def parse(text: str | bytes, max_bytes: int, max_depth: int = 16) -> ClientMessage | BadMessage:
    if len(text) > max_bytes:
        return BadMessage(f"message longer than {max_bytes} bytes")
    try:
        data = loads_limited(text, max_bytes, max_depth)
    except InputRefused as exc:
        return BadMessage(exc.reason)
    if not isinstance(data, dict):
        return BadMessage("not a JSON object")
    kind = data.get("type")
    if kind == "hello":
        token, device = data.get("token"), data.get("device", "")
        if not isinstance(token, str) or not token or len(token) > 1024:
            return BadMessage("hello needs a token")
        if not isinstance(device, str) or len(device) > 100:
            return BadMessage("device must be a short string")
        return Hello(token, device)
    if kind == "ping":
        return Ping(data.get("t"))
    if kind == "focus":
        state = data.get("state")
        if state not in ("hidden", "visible"):
            return BadMessage("focus state must be 'hidden' or 'visible'")
        return Focus(state == "hidden")
    if kind == "get":
        q = _q(data)
        return q if isinstance(q, BadMessage) else Get(q)
    if kind in ("answer", "doubt", "submit"):
        seq = _seq(data)
        if isinstance(seq, BadMessage):
            return seq
        if kind == "submit":
            return Submit(seq)
        q = _q(data, seq)
        if isinstance(q, BadMessage):
            return q
        if kind == "doubt":
            on = data.get("on")
            if not isinstance(on, bool):
                return BadMessage("on must be true or false", seq)
            return Doubt(seq, q, on)
        if "choice" not in data:
            return BadMessage("answer needs a choice (or null)", seq)
        choice = _choice(data["choice"], seq)
        return choice if isinstance(choice, BadMessage) else Answer(seq, q, choice)
    return BadMessage(f"unknown type {kind!r}" if isinstance(kind, str) else "missing type")


def dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def choice_to_json(choice: Choice) -> Any:
    return list(choice) if isinstance(choice, tuple) else choice
