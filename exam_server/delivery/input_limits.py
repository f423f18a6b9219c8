"""Bounded reading of what clients send: body size, JSON nesting, never a RecursionError.

Python's ``json`` recurses once per ``[`` or ``{``; a few kilobytes of ``[[[[`` would raise
``RecursionError`` deep inside a handler (a 500 on login, a socket dropped without a close
frame). The nesting is therefore measured first, by a flat scan, and anything deeper than
the setting is refused like any other malformed input (docs/security.md, "Limits").
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request


class InputRefused(ValueError):
    """Input outside the limits or not JSON; ``reason`` is for logs and ``detail``."""

    def __init__(self, reason: str, *, too_large: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.too_large = too_large


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in ``text``, strings skipped."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def loads_limited(raw: str | bytes, max_bytes: int, max_depth: int) -> Any:
    """``json.loads`` that refuses oversized or over-nested input with ``InputRefused``."""
    if len(raw) > max_bytes:
        raise InputRefused(f"longer than {max_bytes} bytes", too_large=True)
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise InputRefused("not UTF-8") from None
    if json_depth(text) > max_depth:
        raise InputRefused(f"nested deeper than {max_depth}")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise InputRefused("not JSON") from None


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The request body, refused as soon as it passes ``max_bytes`` (declared or sent)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise InputRefused(f"body longer than {max_bytes} bytes", too_large=True)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise InputRefused(f"body longer than {max_bytes} bytes", too_large=True)
        chunks.append(chunk)
    return b"".join(chunks)
