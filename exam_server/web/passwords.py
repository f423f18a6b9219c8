"""Staff passwords: argon2id, run in a small bounded thread pool.

Staff choose their own passwords, so they get a slow, memory-hard hash (unlike candidates'
generated secrets; see ``exam_server.delivery.credentials``). One check costs about 25 ms of CPU at
the OWASP minimum parameters; running it on the event loop would stall every WebSocket of
the worker, so it runs on at most two threads (argon2 releases the GIL) and extra checks
queue instead of starving the loop's CPU.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from exam_server.refusal import Refusal

# OWASP's minimum argon2id profile: m=19 MiB, t=2, p=1.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="argon2")
MIN_LENGTH = 10
# Compared against when the username is unknown, so that timing does not tell names apart.
_DUMMY_HASH = HASHER.hash("not-a-real-password")


class WeakPasswordError(Refusal):
    """A new staff password the strength rules refuse."""


def check_strength(password: str, username: str = "") -> None:
    """Refuse passwords that a committee member would regret."""
    if len(password) < MIN_LENGTH:
        raise WeakPasswordError(
            f"Kata sandi minimal {MIN_LENGTH} karakter.",
            f"The password needs at least {MIN_LENGTH} characters.",
        )
    if username and username.lower() in password.lower():
        raise WeakPasswordError(
            "Kata sandi tidak boleh memuat nama pengguna.",
            "The password must not contain the username.",
        )
    if len(set(password)) < 5:
        raise WeakPasswordError(
            "Kata sandi terlalu mudah ditebak.", "The password is too easy to guess."
        )


def hash_password_sync(password: str) -> str:
    return HASHER.hash(password)


def verify_sync(stored: str | None, password: str) -> bool:
    try:
        return HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_POOL, hash_password_sync, password)


async def verify(stored: str | None, password: str) -> bool:
    """True when ``password`` matches; an unknown user (``stored=None``) costs the same."""
    return await asyncio.get_running_loop().run_in_executor(_POOL, verify_sync, stored, password)
