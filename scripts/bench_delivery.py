#!/usr/bin/env python3
"""Benchmark the answer path: `tkd demo --workers W` plus `tkd loadtest` on one machine.

Starts the demo server with N candidates (embedded PostgreSQL/Redis unless DATABASE_URL /
REDIS_URL are set), runs the load test against it, samples the server's RSS (uvicorn
parent plus workers) every second, and prints one JSON object.

    .venv/bin/python scripts/bench_delivery.py --candidates 2000 --workers 2 --duration 120
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
TKD = str(REPO / ".venv" / "bin" / "tkd")


def tree_rss_kib(root: int) -> int:
    """RSS of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--candidates", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=float, default=120)
    parser.add_argument("--ramp", type=float, default=60)
    parser.add_argument("--answer-every", type=float, default=10)
    parser.add_argument("--port", type=int, default=8177)
    parser.add_argument("--data-dir", default=str(REPO / ".tkd" / "bench"))
    args = parser.parse_args()

    env = {**os.environ, "TKD_DATA_DIR": args.data_dir, "TKD_LOG_LEVEL": "warning"}
    Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    log = open(Path(args.data_dir) / "server.log", "wb")  # noqa: SIM115 - lives as long as the server
    server = subprocess.Popen(
        [
            TKD,
            "demo",
            "--port",
            str(args.port),
            "--workers",
            str(args.workers),
            "--candidates",
            str(args.candidates),
            "--reset",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            print("server did not start", file=sys.stderr)
            return 1
        time.sleep(2)  # let the second worker finish starting
        # Only the uvicorn tree: the embedded database servers are not the app's memory.
        samples: list[int] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                samples.append(tree_rss_kib(server.pid))
                stop.wait(1)

        threading.Thread(target=sample, daemon=True).start()
        load = subprocess.run(
            [
                TKD,
                "loadtest",
                "--url",
                url,
                "--candidates",
                str(args.candidates),
                "--duration",
                str(args.duration),
                "--ramp",
                str(args.ramp),
                "--answer-every",
                str(args.answer_every),
                "--json",
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        stop.set()
        report = json.loads(load.stdout.strip().splitlines()[-1])
        report["server_rss_mib_peak"] = round(max(samples) / 1024, 1) if samples else None
        report["server_workers"] = args.workers
        print(json.dumps(report))
        return 0 if report["errors"] == 0 else 1
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


if __name__ == "__main__":
    raise SystemExit(main())
