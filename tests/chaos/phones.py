"""A candidate's phone as docs/protocol.md asks: keep, resend, reconnect, never renumber.

The chaos suite drives several of these in threads against two workers while faults are
injected; what each phone saw acknowledged is checked afterwards against PostgreSQL.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from typing import Any

from tests_support import ExamClient


class Phone(ExamClient):
    def __init__(self, urls: list[str], cred: Any, device: str) -> None:
        super().__init__(urls[0], cred.participant_no, cred.password, device=device)
        self.urls = urls  # shared and changed by the suite as workers die and start
        self.sent: dict[int, dict[str, Any]] = {}
        self.options: dict[int, list[str]] = {}
        self.live = False
        self.replaced = False
        self.reconnects = 0
        self.questions = 0

    # -- receiving -------------------------------------------------------------------
    def recv(self, timeout: float = 10) -> dict:
        msg = super().recv(timeout)
        kind = msg.get("type")
        if kind == "state" and self.live:
            # An unasked state: the server rebuilt the attempt; resend what it lacks.
            for seq in sorted(s for s in self.kept if s > msg["last_seq"]):
                self.send(self.kept[seq])
        elif kind == "error" and msg.get("code") == "replaced":
            self.replaced = True
        elif kind == "error" and msg.get("code") == "out_of_order":
            for seq in sorted(s for s in self.kept if s >= msg["expected"]):
                self.send(self.kept[seq])
        return msg

    # -- connecting --------------------------------------------------------------------
    def reconnect(self, within_s: float = 90) -> None:
        self.close_quietly()
        end = time.monotonic() + within_s
        i = random.randrange(len(self.urls))
        while time.monotonic() < end and not self.replaced:
            url = self.urls[i % len(self.urls)]
            i += 1
            try:
                self.live = False
                self.connect(url)
                self.questions = self.state["questions"]
                self.live = True
                self.reconnects += 1
                return
            except Exception:
                self.close_quietly()
                time.sleep(0.5)
        if not self.replaced:
            raise RuntimeError(f"{self.participant_no} could not reconnect in {within_s} s")

    def close_quietly(self) -> None:
        self.live = False
        with contextlib.suppress(Exception):
            self.drop()
        self.ws = None

    # -- writing -----------------------------------------------------------------------
    def step(self, rng: random.Random) -> None:
        """One answer, acknowledged or kept; a lost connection means reconnect and resend."""
        if self.replaced:
            return
        try:
            if self.ws is None:
                self.reconnect()
            q = rng.randrange(self.questions)
            if q not in self.options:
                self.options[q] = [o["id"] for o in self.question(q)["options"]]
            self.seq += 1
            seq = self.seq
            msg = {"type": "answer", "q": q, "choice": rng.choice(self.options[q]), "seq": seq}
            self.kept[seq] = self.sent[seq] = msg
            self.send(msg)
            self._await_verdict(seq)
        except Exception:
            if not self.replaced:
                self.reconnect()

    def _await_verdict(self, seq: int) -> None:
        end = time.monotonic() + 10
        while time.monotonic() < end:
            msg = self.recv(max(0.1, end - time.monotonic()))
            if msg.get("type") == "ack" and msg["seq"] == seq:
                return
            if msg.get("type") == "error" and msg.get("seq") == seq:
                if msg["code"] in ("paused", "not_started"):
                    # Not applied: the next change takes this seq again.
                    del self.kept[seq], self.sent[seq]
                    self.seq -= 1
                    time.sleep(0.3)
                    return
                if msg["code"] != "out_of_order":
                    raise RuntimeError(f"refused: {msg}")
            if self.replaced:
                return
        raise TimeoutError(f"no ack for {seq}")

    def settle(self, within_s: float = 60) -> None:
        """Until every change is durable: reconnect and resend as often as needed."""
        end = time.monotonic() + within_s
        while self.kept and time.monotonic() < end and not self.replaced:
            try:
                if self.ws is None:
                    self.reconnect()
                self.recv(1)
            except TimeoutError:
                continue
            except Exception:
                self.reconnect()
        if self.kept and not self.replaced:
            raise RuntimeError(f"{self.participant_no}: {sorted(self.kept)} never durable")

    def submit(self) -> None:
        for _ in range(5):
            try:
                if self.ws is None:
                    self.reconnect()
                if self.state.get("status") == "submitted":
                    return
                self.change({"type": "submit"})
                return
            except Exception:
                self.reconnect()

    def acked_changes(self) -> dict[int, dict[str, Any]]:
        return {s: m for s, m in self.sent.items() if s in self.acked}


def write_until(phones: list[Phone], stop: threading.Event, seed: int) -> list[threading.Thread]:
    """Each phone answers in its own thread until ``stop`` is set."""

    def loop(phone: Phone, rng: random.Random) -> None:
        while not stop.is_set() and not phone.replaced:
            phone.step(rng)
            time.sleep(0.05)

    threads = [
        threading.Thread(target=loop, args=(p, random.Random(seed + i)), daemon=True)
        for i, p in enumerate(phones)
    ]
    for t in threads:
        t.start()
    return threads
