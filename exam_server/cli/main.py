"""``tkd``: the command line (README.md, "The command line").

Every command exits non-zero with a one-line reason on bad input. Commands that need the
services start the embedded PostgreSQL and Redis when DATABASE_URL / REDIS_URL are unset.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import redis

from exam_server.cli import candidates as cli_candidates
from exam_server.cli import exams as cli_exams
from exam_server.cli import questions as bank_cli
from exam_server.cli import results as results_cli
from exam_server.cli import sessions as cli_sessions
from exam_server.cli import staff as staff_cli
from exam_server.cli.loadtest import (
    LoadtestConfig,
    format_report,
    processes_for,
    read_credentials,
    run_loadtest,
)
from exam_server.cli.runner import CommandError, migrate, run_in_transaction, services_ready
from exam_server.delivery.checkpoint import DEADLINES, attempt_key
from exam_server.delivery.prepare import prepare_exam_sessions
from exam_server.demo.seed import EXAM_CODE, seed_demo, write_credentials
from exam_server.settings import Settings, SettingsError
from exam_server.web.slow_clients import protocol_class


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    import uvicorn  # heavy: only `tkd serve` and `tkd demo` start a server

    # uvicorn shuts down on SIGTERM and then raises the signal again; by default that kills
    # the process before the embedded PostgreSQL and Redis it started are stopped. As an
    # exception it unwinds through ``services_ready`` instead (docs/operations.md).
    signal.signal(signal.SIGTERM, _exit_on_sigterm)

    os.environ.setdefault("TKD_SECRET_KEY", settings.secret_key_value)  # workers share one key
    trusted = list(settings.trusted_proxies)
    uvicorn.run(
        "exam_server.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        ws="websockets-sansio",
        # Exam messages are small: deflate buys little and costs ~40 KiB per phone.
        ws_per_message_deflate=False,
        ws_max_size=settings.ws_max_size,
        # Generous: a busy event loop must not drop healthy phones (docs/benchmarks.md).
        ws_ping_interval=30.0,
        ws_ping_timeout=120.0,
        timeout_graceful_shutdown=5,
        # Slow or idle clients and floods (docs/security.md, "Limits").
        http=protocol_class(),
        timeout_keep_alive=settings.keep_alive_s,
        limit_concurrency=settings.max_connections,
        h11_max_incomplete_event_size=settings.max_header_bytes,
        # X-Forwarded-For and -Proto only from TKD_TRUSTED_PROXIES; the app applies the
        # same rule itself (exam_server/web/client_address.py).
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
        backlog=settings.listen_backlog,
        log_level=os.environ.get("TKD_LOG_LEVEL", "info"),
        access_log=False,
    )


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    with services_ready(settings) as ready:
        migrate(ready)
        _serve(ready, args.host, args.port, args.workers)
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:

    if args.candidates < 1 or args.candidates > 100_000:
        raise CommandError("--candidates must be between 1 and 100000")
    with services_ready(settings) as ready:
        migrate(ready)
        assert ready.database_url and ready.redis_url
        demo = run_in_transaction(
            ready,
            lambda db, _actor, s: seed_demo(
                db, s.secret_key_value, args.candidates, reset=args.reset
            ),
        )
        if demo.removed_attempts:
            client = redis.Redis.from_url(ready.redis_url)
            client.delete(*[attempt_key(a) for a in demo.removed_attempts])
            client.zrem(DEADLINES, *[str(a) for a in demo.removed_attempts])
        # Prepared, as a committee would before 08:00: the logins then need no PostgreSQL.

        prepared = asyncio.run(
            prepare_exam_sessions(ready.database_url, ready.redis_url, EXAM_CODE)
        )
        path = ready.data_dir / "demo" / "credentials.csv"
        write_credentials(path, demo.credentials)
        url = f"http://{args.host}:{args.port}"
        print(f"TKD-CBT demo: {url}  (Ctrl+C to stop)")
        print(f"{len(demo.credentials)} demo candidates; all credentials in {path}")
        print(f"prepared sessions: {', '.join(str(p.session_id) for p in prepared) or 'none'}")
        for cred in demo.credentials[:5]:
            print(f"  {cred.participant_no}  {cred.password}  {cred.name}")
        sys.stdout.flush()
        _serve(ready, args.host, args.port, args.workers)
    return 0


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    with services_ready(settings) as ready:
        migrate(ready)
    print("database schema is up to date")
    return 0


def cmd_loadtest(args: argparse.Namespace, settings: Settings) -> int:

    creds_path = (
        Path(args.credentials)
        if args.credentials
        else settings.data_dir / "demo" / "credentials.csv"
    )
    creds = read_credentials(creds_path)
    if args.candidates < 1:
        raise CommandError("--candidates must be at least 1")
    if len(creds) < args.candidates:
        raise CommandError(
            f"{creds_path} has {len(creds)} candidates, fewer than --candidates {args.candidates}; "
            f"run scripts/demo --candidates {args.candidates} first"
        )
    config = LoadtestConfig(
        url=args.url.rstrip("/"),
        candidates=args.candidates,
        duration_s=args.duration,
        ramp_s=args.ramp if args.ramp is not None else min(60.0, args.duration / 2),
        answer_every_s=args.answer_every,
        reconnect_ratio=args.reconnect_ratio,
        submit=not args.no_submit,
        final_wait_s=args.final_wait,
        processes=args.processes or processes_for(args.candidates),
    )
    report = run_loadtest(config, creds[: args.candidates])
    if args.json:
        print(json.dumps(report, indent=None))
    else:
        print(format_report(report))
    return 0 if report["errors"] == 0 else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tkd", description="TKD-CBT: computer-based Tes Kemampuan Dasar."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("serve", help="run the production server on the configured services")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="serve a ready demo exam with demo candidates")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument(
        "--candidates", type=int, default=50, help="number of demo candidates (default 50)"
    )
    p.add_argument("--reset", action="store_true", help="forget earlier demo attempts")
    p.set_defaults(func=cmd_demo)

    db = sub.add_parser("db", help="database maintenance").add_subparsers(
        dest="db_command", required=True
    )
    p = db.add_parser("upgrade", help="apply schema migrations")
    p.set_defaults(func=cmd_db_upgrade)

    p = sub.add_parser("loadtest", help="drive simulated candidates over real WebSockets")
    p.add_argument("--url", default="http://127.0.0.1:8000")
    p.add_argument("--candidates", type=int, default=100)
    p.add_argument("--duration", type=float, default=60.0, help="seconds")
    p.add_argument(
        "--ramp",
        type=float,
        default=None,
        help="seconds over which logins spread (default min(60, duration/2))",
    )
    p.add_argument(
        "--answer-every",
        type=float,
        default=10.0,
        help="mean seconds between answers per candidate",
    )
    p.add_argument(
        "--reconnect-ratio",
        type=float,
        default=0.05,
        help="share of answers followed by a reconnect",
    )
    p.add_argument("--no-submit", action="store_true", help="leave attempts running at the end")
    p.add_argument(
        "--final-wait",
        type=float,
        default=30.0,
        help="seconds a phone waits for its final submit's ack and durable (default 30)",
    )
    p.add_argument(
        "--processes",
        type=int,
        default=0,
        help="generator processes (default one per 8,000 candidates: open-file limits)",
    )
    p.add_argument(
        "--credentials",
        default=None,
        help="CSV with participant_no,password (default: demo credentials)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_loadtest)

    bank_cli.register(sub)
    staff_cli.register(sub)
    cli_candidates.register(sub)
    cli_exams.register(sub)
    cli_sessions.register(sub)
    results_cli.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        return int(args.func(args, settings))
    except (SettingsError, CommandError) as exc:
        print(f"tkd: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
