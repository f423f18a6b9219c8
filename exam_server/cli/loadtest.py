"""``tkd loadtest``: simulated candidates over real WebSockets, with latency percentiles.

Each simulated candidate logs in over HTTP, says hello, fetches its questions, answers
at random intervals (mean ``answer_every_s``), sometimes drops the connection and resumes
(hello, then resending unacknowledged changes, as a phone does), and submits at the end.
Ack latency is measured from sending a change to receiving its ``ack``.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import math
import random
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from exam_server.cli.phone_socket import PhoneSocket, SocketClosed
from exam_server.delivery.background import tune_collector

# Each phone holds a socket, and a login or a reconnect briefly a second one: under a
# process's usual limit of open files (often 20,000 or fewer).
PHONES_PER_PROCESS = 8_000


def processes_for(candidates: int) -> int:
    return max(1, math.ceil(candidates / PHONES_PER_PROCESS))


@dataclass(frozen=True)
class LoadtestConfig:
    url: str
    candidates: int
    duration_s: float
    ramp_s: float
    answer_every_s: float = 10.0
    reconnect_ratio: float = 0.05
    submit: bool = True
    # How long a phone waits for its final submit's ack and ``durable`` (the page waits
    # for ever; past capacity the queue can be minutes long).
    final_wait_s: float = 30.0
    # Processes to play the phones in (`tkd loadtest` uses one per PHONES_PER_PROCESS).
    processes: int = 1


@dataclass
class Stats:
    login_ms: list[float] = field(default_factory=list)  # first try to token, queue included
    in_ms: list[float] = field(default_factory=list)  # first login try to first `state`
    state_ms: list[float] = field(default_factory=list)  # hello to the first `state`
    ack_ms: list[float] = field(default_factory=list)  # answers
    submit_ms: list[float] = field(default_factory=list)  # the final submits, all at once
    errors: list[str] = field(default_factory=list)
    errors_by_kind: Counter[str] = field(default_factory=Counter)
    busy_waits: int = 0  # `busy` answers waited out, as the page does: not errors
    logins_ok: int = 0
    answers_sent: int = 0
    answers_acked: int = 0
    reconnects: int = 0
    submitted: int = 0
    durable_ok: int = 0  # candidates whose every change was reported durable
    # How late the generator's own loop woke (every 50 ms): its latencies include this.
    own_lag_ms: list[float] = field(default_factory=list)

    def error(self, kind: str, text: str) -> None:
        self.errors_by_kind[kind] += 1
        if len(self.errors) < 1000:
            self.errors.append(text)

    def merge(self, other: Stats) -> None:
        """Add another process's figures to these."""
        for name, value in vars(other).items():
            mine = getattr(self, name)
            if isinstance(value, Counter):
                mine.update(value)
            elif isinstance(value, list):
                mine.extend(value)
            else:
                setattr(self, name, mine + value)


def read_credentials(path: Path) -> list[tuple[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            return [(row["participant_no"], row["password"]) for row in csv.DictReader(fh)]
    except (OSError, KeyError) as exc:
        raise SystemExit(f"tkd: cannot read credentials from {path}: {exc}") from None


def percentiles(values: Sequence[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(values)

    def pick(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)

    return {"p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99), "max": round(ordered[-1], 2)}


@dataclass(frozen=True, slots=True)
class Reply:
    status_code: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


async def post_json(url: str, body: dict[str, Any], timeout_s: float = 60) -> Reply:
    """One HTTP/1.1 POST on its own connection, as a phone makes it.

    A few lines of asyncio instead of an HTTP client library: thousands of them must cost
    the load generator little, or it measures its own queue instead of the server.
    """
    parts = urlsplit(url)
    payload = json.dumps(body).encode()
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(parts.hostname, parts.port or 80), timeout_s
    )
    try:
        writer.write(
            f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
            "Connection: close\r\n\r\n".encode()
            + payload
        )
        raw = await asyncio.wait_for(reader.read(), timeout_s)  # until the server closes
    finally:
        writer.close()
    head, _, text = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/"):
        raise ValueError(f"not an HTTP answer: {lines[0][:60]!r}")
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    return Reply(int(lines[0].split()[1]), headers, text.decode())


class SimulatedCandidate:
    def __init__(self, cfg: LoadtestConfig, stats: Stats, number: str, password: str) -> None:
        self.cfg, self.stats, self.number, self.password = cfg, stats, number, password
        self.seq = 0
        self.unacked: dict[int, dict[str, Any]] = {}
        self.sent_at: dict[int, float] = {}
        self.options: dict[int, list[str]] = {}
        self.n = 0
        self.durable_seq = 0
        self.resends: set[asyncio.Future[None]] = set()
        self.resend_at: asyncio.TimerHandle | None = None  # a resend after `busy`, waiting
        self.first_state = True
        self.t0 = 0.0
        self.asked: dict[int, asyncio.Future[None]] = {}

    async def run(self, stop_at: float) -> None:
        t0 = self.t0 = time.perf_counter()
        while True:
            try:
                resp = await post_json(
                    f"{self.cfg.url}/api/v1/candidate/login",
                    {"participant_no": self.number, "password": self.password},
                )
            except ValueError as exc:  # the server closed the connection without an answer
                self.stats.error("login_no_answer", f"login {self.number}: {exc}")
                return
            except (OSError, TimeoutError) as exc:
                self.stats.error(f"login_{type(exc).__name__}", f"login {self.number}: {exc!r}")
                return
            if resp.status_code != 503 or time.monotonic() >= stop_at:
                break
            # `busy`: wait as the candidate page does (docs/protocol.md), then try again.
            self.stats.busy_waits += 1
            await asyncio.sleep(
                float(resp.headers.get("retry-after", "5")) * random.uniform(1, 1.3)
            )
        self.stats.login_ms.append((time.perf_counter() - t0) * 1000)
        if resp.status_code != 200:
            self.stats.error(
                f"login_http_{resp.status_code}",
                f"login {self.number}: HTTP {resp.status_code} {resp.text[:120]}",
            )
            return
        self.stats.logins_ok += 1
        token = resp.json()["token"]
        ws_url = self.cfg.url.replace("http", "ws", 1) + resp.json()["ws_url"]
        submitted = False
        while not submitted:
            try:
                submitted = await self._session(ws_url, token, stop_at)
            except (TimeoutError, OSError, SocketClosed) as exc:
                self.stats.error(f"socket_{type(exc).__name__}", f"socket {self.number}: {exc!r}")
                return
            if not submitted:
                self.stats.reconnects += 1

    async def _session(self, ws_url: str, token: str, stop_at: float) -> bool:
        """One connection; returns True when the attempt is finished."""
        # As a browser: no keep-alive pings of its own, no compression.
        async with await PhoneSocket.connect(ws_url, open_timeout=60) as ws:
            t0 = time.perf_counter()
            await ws.send(
                json.dumps({"type": "hello", "token": token, "device": f"loadtest-{self.number}"})
            )
            state = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if state.get("type") == "error" and state.get("code") == "busy":
                self.stats.busy_waits += 1
                await asyncio.sleep(state.get("retry_after_ms", 5000) / 1000)
                return time.monotonic() >= stop_at
            if state.get("type") != "state":
                self.stats.error(f"hello_{state.get('code')}", f"hello {self.number}: {state}")
                return True
            if self.first_state:
                self.first_state = False
                self.stats.state_ms.append((time.perf_counter() - t0) * 1000)
                self.stats.in_ms.append((time.perf_counter() - self.t0) * 1000)
            self.n = state["questions"]
            self.seq = max(self.seq, state["last_seq"])
            self.durable_seq = max(self.durable_seq, state["durable_seq"])
            for seq, msg in sorted(self.unacked.items()):  # resend what the server may not have
                self.sent_at[seq] = time.perf_counter()
                await ws.send(json.dumps(msg))
            reader = asyncio.create_task(self._read(ws))
            try:
                while time.monotonic() < stop_at:
                    await asyncio.sleep(random.expovariate(1 / self.cfg.answer_every_s))
                    if time.monotonic() >= stop_at or reader.done():
                        break
                    q = random.randrange(self.n)
                    if q not in self.options:
                        # One future per question asked: no polling loop per phone.
                        asked = self.asked.setdefault(q, asyncio.get_running_loop().create_future())
                        await ws.send(json.dumps({"type": "get", "q": q}))
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(asyncio.shield(asked), 5)
                        if q not in self.options:
                            continue
                    await self._change(
                        ws, {"type": "answer", "q": q, "choice": random.choice(self.options[q])}
                    )
                    if random.random() < self.cfg.reconnect_ratio:
                        await asyncio.sleep(0.2)
                        return False  # drop the connection without a goodbye, as phones do
                if self.cfg.submit:
                    await self._change(ws, {"type": "submit"})
                    deadline = time.monotonic() + self.cfg.final_wait_s
                    while self.unacked and time.monotonic() < deadline:
                        await asyncio.sleep(0.1)
                    if not self.unacked:
                        self.stats.submitted += 1
                    else:
                        self.stats.error("submit_no_ack", f"submit {self.number}: no ack")
                    # The contract's promise: every change ends up durable in PostgreSQL.
                    while self.durable_seq < self.seq and time.monotonic() < deadline:
                        await asyncio.sleep(0.1)
                    if self.durable_seq >= self.seq:
                        self.stats.durable_ok += 1
                    else:
                        self.stats.error(
                            "not_durable", f"durable {self.number}: {self.durable_seq} < {self.seq}"
                        )
                return True
            finally:
                reader.cancel()
                if self.resend_at is not None:  # the next connection resends after hello
                    self.resend_at.cancel()
                    self.resend_at = None

    async def _change(self, ws: Any, msg: dict[str, Any]) -> None:
        self.seq += 1
        msg = {**msg, "seq": self.seq}
        self.unacked[self.seq] = msg
        self.sent_at[self.seq] = time.perf_counter()
        self.stats.answers_sent += 1
        await ws.send(json.dumps(msg))

    def _resend_kept(self, ws: Any) -> None:
        self.resend_at = None
        if self.unacked:
            task = asyncio.ensure_future(self._resend(ws, min(self.unacked)))
            self.resends.add(task)  # kept until done, so it is not collected
            task.add_done_callback(self.resends.discard)

    async def _resend(self, ws: Any, from_seq: int) -> None:
        with contextlib.suppress(SocketClosed, OSError):
            for seq in sorted(q for q in self.unacked if q >= from_seq):
                await ws.send(json.dumps(self.unacked[seq]))

    async def _read(self, ws: Any) -> None:
        with_ack = ("ack",)
        async for raw in ws:
            msg = json.loads(raw)
            kind = msg.get("type")
            if kind in with_ack:
                seq = msg["seq"]
                sent = self.sent_at.pop(seq, None)
                if seq in self.unacked:
                    change = self.unacked.pop(seq)
                    self.stats.answers_acked += 1
                    if sent is not None:
                        # The final submits all leave in the same second: a storm of its
                        # own, reported apart from the answers' acks.
                        took = (time.perf_counter() - sent) * 1000
                        submit = change.get("type") == "submit"
                        (self.stats.submit_ms if submit else self.stats.ack_ms).append(took)
            elif kind == "question":
                self.options[msg["q"]] = [o["id"] for o in msg["options"]]
                asked = self.asked.pop(msg["q"], None)
                if asked is not None and not asked.done():
                    asked.set_result(None)
            elif kind == "durable":
                self.durable_seq = max(self.durable_seq, msg["seq"])
            elif kind == "error" and msg.get("code") == "busy" and "seq" in msg:
                # Not applied. As the page does: one wait, then everything unacknowledged
                # again, in order. The `busy` answers that follow (changes behind the
                # refused one, or a duplicate of one acknowledged since) need no wait of
                # their own: one resend covers them.
                self.stats.busy_waits += 1
                if self.resend_at is None:
                    wait_s = msg.get("retry_after_ms", 5000) / 1000 * random.uniform(1, 1.3)
                    self.resend_at = asyncio.get_running_loop().call_later(
                        wait_s, self._resend_kept, ws
                    )
            elif kind == "error" and msg.get("code") == "out_of_order":
                await self._resend(ws, int(msg.get("expected", 0)))
            elif kind == "error":
                self.stats.error(
                    f"server_{msg.get('code')}",
                    f"server {self.number}: {msg.get('code')} {msg.get('detail', '')}",
                )


async def _run(
    cfg: LoadtestConfig, phones: Sequence[tuple[int, str, str]], started: float
) -> Stats:
    """Play ``phones`` (global index, number, password); the ramp and the stop are shared
    by every process through ``started`` (a monotonic time, the same in all of them)."""
    stats = Stats()
    stop_at = started + cfg.duration_s
    tasks = []
    for i, number, password in phones:
        delay = started + cfg.ramp_s * i / max(1, cfg.candidates) - time.monotonic()
        sim = SimulatedCandidate(cfg, stats, number, password)

        async def go(sim: SimulatedCandidate = sim, delay: float = delay) -> None:
            await asyncio.sleep(max(0.0, delay))
            await sim.run(stop_at)

        tasks.append(asyncio.create_task(go()))
    ticker = asyncio.create_task(_own_lag(stats))
    await asyncio.gather(*tasks)
    ticker.cancel()
    return stats


async def _own_lag(stats: Stats) -> None:
    while True:
        asked = time.monotonic()
        await asyncio.sleep(0.05)
        stats.own_lag_ms.append(max(0.0, (time.monotonic() - asked - 0.05) * 1000))


def _play(
    cfg: LoadtestConfig, phones: Sequence[tuple[int, str, str]], started: float
) -> tuple[Stats, float]:
    """One process's share of the phones; returns its figures and its own CPU seconds."""
    try:
        import uvloop  # optional: comes with uvicorn[standard], not on every platform

        uvloop.install()
    except ImportError:  # pragma: no cover
        pass
    # Ten thousand phones in one process: the same collector settings as a worker, or the
    # generator's own pauses would be counted as the server's latency.
    tune_collector()
    cpu0 = time.process_time()
    stats = asyncio.run(_run(cfg, phones, started))
    return stats, time.process_time() - cpu0


def run_loadtest(cfg: LoadtestConfig, creds: Sequence[tuple[str, str]]) -> dict[str, Any]:
    phones = [(i, number, password) for i, (number, password) in enumerate(creds)]
    t0 = time.monotonic()
    started = t0 + (1.0 if cfg.processes > 1 else 0.0)  # time for the processes to start
    if cfg.processes == 1:
        stats, cpu = _play(cfg, phones, started)
    else:
        stats, cpu = Stats(), 0.0
        with ProcessPoolExecutor(cfg.processes, mp_context=get_context("spawn")) as pool:
            shares = [phones[k :: cfg.processes] for k in range(cfg.processes)]
            for future in [pool.submit(_play, cfg, share, started) for share in shares]:
                share_stats, share_cpu = future.result()
                stats.merge(share_stats)
                cpu += share_cpu
    wall = time.monotonic() - t0
    return {
        "candidates": cfg.candidates,
        "duration_s": round(wall, 1),
        # The generator's own cost, to show it did not starve the server it measures.
        "loadtest_cpu_s": round(cpu, 1),
        "loadtest_cpu_share": round(cpu / wall, 2) if wall else None,
        "loadtest_processes": cfg.processes,
        "logins_ok": stats.logins_ok,
        "answers_sent": stats.answers_sent,
        "answers_acked": stats.answers_acked,
        "reconnects": stats.reconnects,
        "submitted": stats.submitted,
        "durable_ok": stats.durable_ok,
        "errors": sum(stats.errors_by_kind.values()),
        "errors_by_kind": dict(stats.errors_by_kind),
        "busy_waits": stats.busy_waits,
        "error_samples": stats.errors[:10],
        "login_ms": percentiles(stats.login_ms),
        "state_ms": percentiles(stats.state_ms),
        # From a phone's first login try to its first `state`, every `busy` wait included.
        "in_ms": percentiles(stats.in_ms),
        "ack_ms": percentiles(stats.ack_ms),
        "submit_ms": percentiles(stats.submit_ms),
        "generator_lag_ms": percentiles(stats.own_lag_ms),
    }


def format_report(report: dict[str, Any]) -> str:
    lines = [
        f"candidates {report['candidates']}  logins ok {report['logins_ok']}  "
        f"answers acked {report['answers_acked']}/{report['answers_sent']}  reconnects {report['reconnects']}  "
        f"submitted {report['submitted']}  durable {report['durable_ok']}  errors {report['errors']}  ({report['duration_s']} s)",
        f"busy waits {report['busy_waits']}  errors by kind {report['errors_by_kind']}",
        f"load generator CPU {report['loadtest_cpu_s']} s ({report['loadtest_cpu_share']} of one core)",
    ]
    for name in ("login_ms", "state_ms", "in_ms", "ack_ms", "submit_ms", "generator_lag_ms"):
        p = report[name]
        lines.append(f"{name:9} p50 {p['p50']}  p95 {p['p95']}  p99 {p['p99']}  max {p['max']}")
    lines.extend(f"  ! {e}" for e in report["error_samples"])
    return "\n".join(lines)
