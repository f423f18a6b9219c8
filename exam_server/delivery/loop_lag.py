"""How late this worker's event loop runs: the one number that explains a slow ack.

Every task of a worker shares one thread; anything that holds it (a big batch, a long
loop over thousands of sockets, a collector pass) delays every candidate on that worker.
A ticker asks to wake every ``TICK_S`` and measures how late it woke; ``/healthz`` reports
the worst of the last minute and a stall over ``ALARM_MS`` is logged (docs/operations.md,
"Health and alarms").
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque

log = logging.getLogger(__name__)

TICK_S = 0.05
WINDOW_S = 60.0
ALARM_MS = 1000


class LoopLag:
    """The worst lateness of the loop over the last minute, in milliseconds, and what the
    cyclic garbage collector's full passes (the usual cause) have cost."""

    def __init__(self) -> None:
        self._samples: deque[tuple[float, float]] = deque()  # (when, ms late), worst first
        self.full_collections = 0
        self.worst_collection_ms = 0.0
        self._collecting_since = 0.0

    def on_gc(self, phase: str, info: dict[str, int]) -> None:
        """A ``gc.callbacks`` entry: times each pass over the oldest generation."""
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._collecting_since = time.perf_counter()
            return
        took_ms = (time.perf_counter() - self._collecting_since) * 1000
        self.full_collections += 1
        self.worst_collection_ms = max(self.worst_collection_ms, took_ms)
        if took_ms > ALARM_MS / 4:
            log.warning("full garbage collection took %d ms", took_ms)

    def note(self, at: float, late_ms: float) -> None:
        # Keep a decreasing run: a later, larger value makes older smaller ones irrelevant.
        while self._samples and self._samples[-1][1] <= late_ms:
            self._samples.pop()
        self._samples.append((at, late_ms))
        while self._samples and self._samples[0][0] < at - WINDOW_S:
            self._samples.popleft()

    def worst_ms(self, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        while self._samples and self._samples[0][0] < now - WINDOW_S:
            self._samples.popleft()
        return int(self._samples[0][1]) if self._samples else 0


async def measure(lag: LoopLag) -> None:
    """Run for the life of the worker."""
    while True:
        asked = time.monotonic()
        await asyncio.sleep(TICK_S)
        now = time.monotonic()
        late_ms = max(0.0, (now - asked - TICK_S) * 1000)
        lag.note(now, late_ms)
        if late_ms > ALARM_MS:
            log.error("ALARM: event loop stalled %d ms", late_ms)


async def pause(seconds: float) -> None:
    """Sleep between two passes of a background loop, unless the task is being cancelled.

    A library may turn a cancellation that arrives mid-command into an ordinary error; the
    loop logs it and sleeps again, and the worker never stops (a SIGTERM that hung one
    shutdown in ten). ``Task.cancelling()`` still says so.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
    await asyncio.sleep(seconds)
