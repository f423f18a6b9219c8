"""The seq rule and the attempt clock, as pure functions.

Every change a candidate makes carries a seq that the client raises by one per change.
The server applies a change only when it is exactly the next one; anything at or below
``last_seq`` has been applied already and is acknowledged again without being applied, so a
client may always resend. The clock is the server's: time stops while paused, and a change
after the deadline closes the attempt instead of being applied.

Redis runs the same rule in one script per change (``checkpoint_scripts.APPLY``); this
is the reference, tested without any server, and tests/server/test_apply_script.py checks
that the script agrees with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    WAITING = "waiting"
    RUNNING = "running"
    PAUSED = "paused"
    SUBMITTED = "submitted"


class Verdict(StrEnum):
    APPLY = "apply"
    DUPLICATE = "duplicate"  # ack again, apply nothing
    OUT_OF_ORDER = "out_of_order"  # a gap: the client must resend from last_seq + 1
    TIME_OVER = "time_over"  # refuse, and close the attempt
    SUBMITTED = "submitted"
    NOT_STARTED = "not_started"
    PAUSED = "paused"


@dataclass(frozen=True, slots=True)
class Clock:
    """What the server knows about an attempt's time; all times in epoch milliseconds."""

    submitted: bool
    starts_ms: int
    deadline_ms: int
    paused_at_ms: int = 0  # 0: not paused

    def status(self, now_ms: int) -> Status:
        if self.submitted:
            return Status.SUBMITTED
        if self.paused_at_ms:
            return Status.PAUSED
        if now_ms < self.starts_ms:
            return Status.WAITING
        return Status.RUNNING

    def remaining_ms(self, now_ms: int) -> int:
        """Time left on the candidate's clock; frozen while paused or waiting."""
        if self.submitted:
            return 0
        frozen_at = self.paused_at_ms or now_ms
        start = max(self.starts_ms, 0)
        if frozen_at < start:
            return self.deadline_ms - start
        return max(0, self.deadline_ms - frozen_at)

    def expired(self, now_ms: int) -> bool:
        return not self.submitted and not self.paused_at_ms and now_ms >= self.deadline_ms

    def paused(self, now_ms: int) -> Clock:
        if self.submitted or self.paused_at_ms:
            return self
        return Clock(self.submitted, self.starts_ms, self.deadline_ms, now_ms)

    def resumed(self, now_ms: int) -> Clock:
        """Resume, moving the deadline by the time spent paused (nobody loses time)."""
        if not self.paused_at_ms:
            return self
        return Clock(
            self.submitted, self.starts_ms, self.deadline_ms + (now_ms - self.paused_at_ms), 0
        )

    def extended(self, extra_ms: int) -> Clock:
        return Clock(self.submitted, self.starts_ms, self.deadline_ms + extra_ms, self.paused_at_ms)


def judge(clock: Clock, last_seq: int, seq: int, now_ms: int) -> Verdict:
    """Decide what to do with a change numbered ``seq``.

    Duplicates are recognised first, whatever the state: a resend of an already applied
    change after the attempt closed must still be acknowledged, or the client would
    keep it forever and think it lost.
    """
    if seq <= last_seq:
        return Verdict.DUPLICATE
    if clock.submitted:
        # After the deadline the candidate is told why, whoever closed the attempt first.
        return Verdict.TIME_OVER if now_ms >= clock.deadline_ms else Verdict.SUBMITTED
    if clock.expired(now_ms):
        return Verdict.TIME_OVER
    if clock.paused_at_ms:
        return Verdict.PAUSED
    if now_ms < clock.starts_ms:
        return Verdict.NOT_STARTED
    if seq != last_seq + 1:
        return Verdict.OUT_OF_ORDER
    return Verdict.APPLY
