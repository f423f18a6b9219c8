"""Every environment variable the service reads, read here and nowhere else.

A wrong value fails at start-up with a sentence that names the variable, rather than
surfacing as a strange error at 08:00 with 5,000 candidates logging in.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.datastructures import Secret

from exam_server.private_files import private_dir, write_private


class SettingsError(ValueError):
    """A setting has a value we cannot use; the message names the variable."""


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _secret_from(env: Mapping[str, str], name: str) -> str | None:
    """A secret from NAME, or from the file named by NAME_FILE (Docker/systemd secrets)."""
    if env.get(name):
        return env[name]
    path = env.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise SettingsError(
                f"{name}_FILE points at {path!r}, which cannot be read: {exc}"
            ) from None
    return None


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str | None  # None: start the embedded PostgreSQL under data_dir
    redis_url: str | None  # None: start the embedded Redis under data_dir
    secret_key: Secret = field(repr=False)
    # How long a candidate token stays valid; a test day is shorter than this.
    token_max_age_s: int = 12 * 3600
    hello_timeout_s: float = 10.0
    # Above this a frame is refused with bad_message; uvicorn closes beyond ws_max_size.
    max_message_bytes: int = 8 * 1024
    ws_max_size: int = 1024 * 1024
    time_broadcast_s: float = 30.0
    writebehind_interval_s: float = 0.2
    writebehind_batch: int = 2000
    deadline_sweep_s: float = 1.0
    login_lockout_s: int = 15 * 60
    # Candidates may log in this long before their session starts and wait in the lobby.
    early_login_s: int = 60 * 60
    default_lang: str = "id"
    # -- issue 11: the 08:00 burst (docs/operations.md, "Sizing for the 08:00 burst") --
    # Per worker. Keep workers x (db_pool_size + db_max_overflow) + staff tools below
    # PostgreSQL's max_connections.
    db_pool_size: int = 8
    db_max_overflow: int = 4
    # A request waits this long for a database connection, then hears `busy`.
    db_pool_timeout_s: float = 2.0
    redis_max_connections: int = 64
    redis_pool_timeout_s: float = 2.0
    # Work in flight per worker; past these a login gets 503 `busy` and a hello `busy`.
    max_inflight_logins: int = 64
    max_inflight_hellos: int = 128
    # Changes waiting for their Redis round trip in one worker; beyond it, `busy` at once.
    max_queued_changes: int = 2_000
    busy_retry_after_s: int = 5
    # Sessions starting within this many seconds are prepared (and kept prepared).
    prepare_ahead_s: int = 30 * 60
    prepare_check_s: float = 15.0
    # The write-behind's batch grows up to this when a backlog builds up.
    writebehind_max_batch: int = 5000
    # -- issue 12: saved means saved under faults (docs/operations.md) --------------------
    # A socket that takes longer than this to take one message is closed (TKD_SEND_TIMEOUT_S);
    # it can never hold up another candidate's news.
    send_timeout_s: float = 5.0
    # Messages waiting for one slow socket before it is closed (TKD_OUTBOUND_QUEUE).
    outbound_queue: int = 256
    # How often each worker compares its candidates' clocks and seqs with Redis, to notice a
    # lost or older checkpoint and a lost clock event (TKD_CHECKPOINT_CHECK_S).
    checkpoint_check_s: float = 2.0
    # Write-behind lag and change-stream length above which an ALARM is logged
    # (TKD_WRITEBEHIND_ALARM_S, TKD_STREAM_ALARM_LEN).
    writebehind_alarm_s: float = 10.0
    stream_alarm_len: int = 200_000
    # -- issue 13: limits on every input and whom to trust (docs/security.md) -------------
    # A login body is a few hundred bytes; anything near this limit is an attack.
    max_body_bytes: int = 16 * 1024
    # Nesting deeper than this is refused before a parser recurses into it.
    max_json_depth: int = 16
    # Longest participant number, password, room token or staff name a form may carry.
    max_field_chars: int = 256
    # Uploads (the committee's forms) and what an XLSX/zip may inflate to.
    max_upload_bytes: int = 20 * 1024 * 1024
    max_decompressed_bytes: int = 64 * 1024 * 1024
    # A client must finish its request headers within this time, or it is dropped.
    header_timeout_s: float = 10.0
    keep_alive_s: int = 5
    # Connections and tasks one worker holds before answering 503 (WebSockets included).
    max_connections: int = 10_000
    # Connections the kernel holds for a worker that has not accepted them yet (capped by
    # net.core.somaxconn; docs/operations.md): a burst waits there instead of being reset.
    listen_backlog: int = 16_384
    max_header_bytes: int = 16 * 1024
    # Addresses whose X-Forwarded-For is believed; anyone else's header is ignored.
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    # Failed candidate logins: per (number, address) pair, and per address in total.
    login_pair_failures: int = 10
    login_address_failures: int = 100
    # Failed staff logins: per (username, address) pair and per address.
    staff_pair_failures: int = 5
    staff_address_failures: int = 50
    # A staff session ends this long after log-in whatever its activity.
    staff_session_max_s: int = 10 * 3600
    # -- issue 15: the zone new sessions run in, and times without a session are shown in.
    time_zone: str = "Asia/Jakarta"
    # -- issue 14: the proctor's room ---------------------------------------------------
    # This many candidates (and at least a fifth of those working) dropping within 20 s
    # raise the room's mass-disconnect alarm (TKD_PROCTOR_MASS_DISCONNECT).
    proctor_mass_disconnect: int = 5

    def with_services(self, database_url: str, redis_url: str) -> Settings:
        return replace(self, database_url=database_url, redis_url=redis_url)

    @property
    def secret_key_value(self) -> str:
        return str(self.secret_key)

    @property
    def uses_embedded(self) -> bool:
        return self.database_url is None or self.redis_url is None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        data_dir = Path(env.get("TKD_DATA_DIR") or ".tkd").expanduser().resolve()
        database_url = env.get("DATABASE_URL") or None
        if database_url and not database_url.startswith(("postgresql", "postgres://")):
            raise SettingsError(
                f"DATABASE_URL must be a PostgreSQL URL (postgresql://...), got {database_url!r}"
            )
        redis_url = env.get("REDIS_URL") or None
        if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError(
                f"REDIS_URL must start with redis://, rediss:// or unix://, got {redis_url!r}"
            )
        key = _secret_from(env, "TKD_SECRET_KEY") or _generated_secret(data_dir)
        if len(key) < 16:
            raise SettingsError("TKD_SECRET_KEY must be at least 16 characters long")
        lang = env.get("TKD_DEFAULT_LANG", "id")
        if lang not in ("id", "en"):
            raise SettingsError(f"TKD_DEFAULT_LANG must be 'id' or 'en', got {lang!r}")
        time_zone = env.get("TKD_TIME_ZONE") or "Asia/Jakarta"
        if not valid_time_zone(time_zone):
            raise SettingsError(
                f"TKD_TIME_ZONE must be an IANA zone such as Asia/Makassar, got {time_zone!r}"
            )
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            redis_url=redis_url,
            secret_key=Secret(key),
            token_max_age_s=_int(env, "TKD_TOKEN_MAX_AGE_S", 12 * 3600, 60, 7 * 24 * 3600),
            early_login_s=_int(env, "TKD_EARLY_LOGIN_S", 3600, 0, 24 * 3600),
            time_broadcast_s=float(_int(env, "TKD_TIME_BROADCAST_S", 30, 1, 300)),
            default_lang=lang,
            db_pool_size=_int(env, "TKD_DB_POOL_SIZE", 8, 1, 500),
            db_max_overflow=_int(env, "TKD_DB_MAX_OVERFLOW", 4, 0, 500),
            db_pool_timeout_s=_int(env, "TKD_DB_POOL_TIMEOUT_MS", 2000, 10, 60_000) / 1000,
            redis_max_connections=_int(env, "TKD_REDIS_MAX_CONNECTIONS", 64, 2, 10_000),
            redis_pool_timeout_s=_int(env, "TKD_REDIS_POOL_TIMEOUT_MS", 2000, 10, 60_000) / 1000,
            max_inflight_logins=_int(env, "TKD_MAX_INFLIGHT_LOGINS", 64, 1, 100_000),
            max_inflight_hellos=_int(env, "TKD_MAX_INFLIGHT_HELLOS", 128, 1, 100_000),
            max_queued_changes=_int(env, "TKD_MAX_QUEUED_CHANGES", 2_000, 1, 1_000_000),
            busy_retry_after_s=_int(env, "TKD_BUSY_RETRY_AFTER_S", 5, 1, 600),
            prepare_ahead_s=_int(env, "TKD_PREPARE_AHEAD_S", 30 * 60, 0, 7 * 24 * 3600),
            prepare_check_s=float(_int(env, "TKD_PREPARE_CHECK_S", 15, 1, 3600)),
            writebehind_max_batch=_int(env, "TKD_WRITEBEHIND_MAX_BATCH", 5000, 100, 15_000),
            send_timeout_s=float(_int(env, "TKD_SEND_TIMEOUT_S", 5, 1, 120)),
            outbound_queue=_int(env, "TKD_OUTBOUND_QUEUE", 256, 8, 100_000),
            checkpoint_check_s=float(_int(env, "TKD_CHECKPOINT_CHECK_S", 2, 1, 300)),
            writebehind_alarm_s=float(_int(env, "TKD_WRITEBEHIND_ALARM_S", 10, 1, 3600)),
            stream_alarm_len=_int(env, "TKD_STREAM_ALARM_LEN", 200_000, 100, 100_000_000),
            max_body_bytes=_int(env, "TKD_MAX_BODY_BYTES", 16 * 1024, 1024, 1024 * 1024),
            max_json_depth=_int(env, "TKD_MAX_JSON_DEPTH", 16, 4, 64),
            max_field_chars=_int(env, "TKD_MAX_FIELD_CHARS", 256, 64, 4096),
            max_upload_bytes=_int(
                env, "TKD_MAX_UPLOAD_BYTES", 20 * 1024 * 1024, 1024, 1024 * 1024 * 1024
            ),
            max_decompressed_bytes=_int(
                env, "TKD_MAX_DECOMPRESSED_BYTES", 64 * 1024 * 1024, 1024, 4 * 1024**3
            ),
            header_timeout_s=float(_int(env, "TKD_HEADER_TIMEOUT_S", 10, 1, 300)),
            keep_alive_s=_int(env, "TKD_KEEP_ALIVE_S", 5, 1, 300),
            max_connections=_int(env, "TKD_MAX_CONNECTIONS", 10_000, 10, 1_000_000),
            listen_backlog=_int(env, "TKD_LISTEN_BACKLOG", 16_384, 16, 1_000_000),
            trusted_proxies=_addresses(env, "TKD_TRUSTED_PROXIES", ("127.0.0.1", "::1")),
            login_pair_failures=_int(env, "TKD_LOGIN_PAIR_FAILURES", 10, 3, 1000),
            login_address_failures=_int(env, "TKD_LOGIN_ADDRESS_FAILURES", 100, 3, 100_000),
            staff_pair_failures=_int(env, "TKD_STAFF_PAIR_FAILURES", 5, 3, 1000),
            staff_address_failures=_int(env, "TKD_STAFF_ADDRESS_FAILURES", 50, 3, 100_000),
            staff_session_max_s=_int(env, "TKD_STAFF_SESSION_MAX_S", 10 * 3600, 60, 7 * 86400),
            time_zone=time_zone,
            proctor_mass_disconnect=_int(env, "TKD_PROCTOR_MASS_DISCONNECT", 5, 1, 10_000),
        )


def _addresses(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """Comma-separated IP addresses or networks; an empty value trusts no proxy at all."""
    raw = env.get(name)
    if raw is None:
        return default
    found: list[str] = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        try:
            ipaddress.ip_network(part, strict=False)
        except ValueError:
            raise SettingsError(
                f"{name} must list IP addresses or networks separated by commas, got {part!r}"
            ) from None
        found.append(part)
    return tuple(found)


def valid_time_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _generated_secret(data_dir: Path) -> str:
    """A key generated once and kept in the data directory, so restarts keep tokens valid."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    private_dir(data_dir)
    key = secrets.token_urlsafe(48)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    write_private(tmp, key)  # 0600 from creation: never readable by others, even briefly
    with contextlib.suppress(FileExistsError):
        os.link(tmp, path)  # atomic: two workers starting at once agree on one key
    tmp.unlink(missing_ok=True)
    return path.read_text().strip()
