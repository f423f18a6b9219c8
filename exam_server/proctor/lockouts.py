"""Candidates' login lockouts as the room view shows them and a proctor clears them.

HOOK (issue 13): issue 13 replaces the per-number failure counter below with its lockout
store (``exam_server.delivery.throttle``: counted per number *and* address). Where that
module exists these functions use it; until then they read and clear the counter that
``exam_server.delivery.login`` keeps today (``tkd:login:fail:{participant_no}``).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from exam_server.services import Services


def _throttle(services: Services) -> Any | None:
    try:
        module = importlib.import_module("exam_server.delivery.throttle")
    except ImportError:
        return None
    return module.candidate_throttle(services.redis, services.settings)


def fail_key(participant_no: str) -> str:
    return f"tkd:login:fail:{participant_no}"


async def locked_numbers(services: Services, numbers: Sequence[str]) -> set[str]:
    """Which of these participant numbers cannot log in now for too many failures."""
    if not numbers:
        return set()
    throttle = _throttle(services)
    if throttle is not None:
        locked = set()
        for number in numbers:
            failures = await throttle.failures(number)
            if any(n >= throttle.budget.pair for n in failures.values()):
                locked.add(number)
        return locked
    allowed = services.settings.login_failures_allowed
    values = await services.redis.mget([fail_key(n) for n in numbers])
    return {n for n, v in zip(numbers, values, strict=True) if v and int(v) >= allowed}


async def clear_lockout(services: Services, participant_no: str) -> int:
    """End a candidate's lockout; returns the failures that were counted."""
    throttle = _throttle(services)
    if throttle is not None:
        return sum((await throttle.clear(participant_no)).values())
    key = fail_key(participant_no)
    async with services.redis.pipeline(transaction=True) as pipe:
        pipe.get(key)
        pipe.delete(key)
        count, _ = await pipe.execute()
    return int(count or 0)
