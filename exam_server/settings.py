"""Every environment variable the service reads, read here and nowhere else.

A wrong value fails at start-up with a sentence that names the variable, rather than
surfacing as a strange error at 08:00 with 5,000 candidates logging in.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from starlette.datastructures import Secret


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
    login_failures_allowed: int = 10
    login_lockout_s: int = 15 * 60
    # Candidates may log in this long before their session starts and wait in the lobby.
    early_login_s: int = 60 * 60
    default_lang: str = "id"
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
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            redis_url=redis_url,
            secret_key=Secret(key),
            token_max_age_s=_int(env, "TKD_TOKEN_MAX_AGE_S", 12 * 3600, 60, 7 * 24 * 3600),
            early_login_s=_int(env, "TKD_EARLY_LOGIN_S", 3600, 0, 24 * 3600),
            time_broadcast_s=float(_int(env, "TKD_TIME_BROADCAST_S", 30, 1, 300)),
            default_lang=lang,
            proctor_mass_disconnect=_int(env, "TKD_PROCTOR_MASS_DISCONNECT", 5, 1, 10_000),
        )


def _generated_secret(data_dir: Path) -> str:
    """A key generated once and kept in the data directory, so restarts keep tokens valid."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(key)
    tmp.chmod(0o600)
    with contextlib.suppress(FileExistsError):
        os.link(tmp, path)  # atomic: two workers starting at once agree on one key
    tmp.unlink(missing_ok=True)
    return path.read_text().strip()
