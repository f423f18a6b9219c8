"""Candidates' login lockouts as the room view shows them and a proctor clears them: the
lockout store is ``exam_server.delivery.throttle`` (counted per number *and* address;
docs/security.md, "Lockouts")."""

from __future__ import annotations

from collections.abc import Sequence

from exam_server.delivery.services import Services
from exam_server.delivery.throttle import candidate_throttle


async def locked_numbers(services: Services, numbers: Sequence[str]) -> set[str]:
    """Which of these participant numbers are locked out from some address now."""
    throttle = candidate_throttle(services.redis, services.settings)
    locked = set()
    for number in numbers:
        failures = await throttle.failures(number)
        if any(n >= throttle.budget.pair for n in failures.values()):
            locked.add(number)
    return locked


async def clear_lockout(services: Services, participant_no: str) -> int:
    """End a candidate's lockout; returns the failures that were counted."""
    throttle = candidate_throttle(services.redis, services.settings)
    return sum((await throttle.clear(participant_no)).values())
