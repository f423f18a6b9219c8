"""Failed log-ins counted so that they stop guessing without locking real people out.

Counting per participant number alone let anyone lock any candidate out with a dozen wrong
passwords, and per-account counting let a sprayer try one password on every staff name.
So failures are counted twice (docs/security.md, "Lockouts"):

* per (subject, address): ten wrong guesses from one address lock that subject *for that
  address*; the real candidate at another address is not affected;
* per address: a budget of failures across all subjects, so spraying many numbers or
  names from one address stops too.

A wrong room token counts like a wrong password. While locked, a candidate who gives the
right password *and* the right room token still gets in (the token is read out in the
room, so an outsider cannot have it). A proctor or admin can clear a subject's lockout.

The policy is in plain functions; ``Throttle`` is the thin Redis edge.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from redis.asyncio import Redis
from starlette.requests import HTTPConnection

from exam_server.settings import Settings


@dataclass(frozen=True, slots=True)
class Budget:
    pair: int  # failures allowed for one subject from one address
    address: int  # failures allowed from one address, all subjects together
    window_s: int  # counts expire this long after the latest failure


@dataclass(frozen=True, slots=True)
class Counts:
    pair: int
    address: int


def is_locked(budget: Budget, counts: Counts) -> bool:
    return counts.pair >= budget.pair or counts.address >= budget.address


def may_enter(locked: bool, password_ok: bool, room_token_ok: bool | None) -> bool:
    """``room_token_ok`` is None where the session asks for no room token."""
    if not password_ok or room_token_ok is False:
        return False
    return not locked or room_token_ok is True


def address_key(address: str) -> str:
    """IPv6 clients are counted per /64: one phone or home is given a whole /64."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def request_address(conn: HTTPConnection) -> str:
    """The client's address; proxies were already resolved by ``TrustedProxies``."""
    return address_key(conn.client.host if conn.client else "unknown")


class Throttle:
    def __init__(self, redis: Redis, scope: str, budget: Budget) -> None:
        self.redis = redis
        self.scope = scope
        self.budget = budget

    def _subject(self, subject: str) -> str:
        return f"tkd:throttle:{self.scope}:s:{subject}"

    def _address(self, address: str) -> str:
        return f"tkd:throttle:{self.scope}:a:{address}"

    async def counts(self, subject: str, address: str) -> Counts:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hget(self._subject(subject), address)
            pipe.get(self._address(address))
            pair, total = await pipe.execute()
        return Counts(int(pair or 0), int(total or 0))

    async def locked(self, subject: str, address: str) -> bool:
        return is_locked(self.budget, await self.counts(subject, address))

    async def fail(self, subject: str, address: str) -> Counts:
        window = self.budget.window_s
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(self._subject(subject), address, 1)
            pipe.expire(self._subject(subject), window)
            pipe.incr(self._address(address))
            pipe.expire(self._address(address), window)
            pair, _, total, _ = await pipe.execute()
        return Counts(int(pair), int(total))

    async def succeed(self, subject: str, address: str) -> None:
        await self.redis.hdel(self._subject(subject), address)

    async def failures(self, subject: str) -> dict[str, int]:
        """Failures per address for one subject (what a proctor is shown before clearing)."""
        raw = await self.redis.hgetall(self._subject(subject))
        return {_text(k): int(v) for k, v in raw.items()}

    async def clear(self, subject: str) -> dict[str, int]:
        """End the subject's lockout, and the address budgets its failures came from."""
        found = await self.failures(subject)
        keys = [self._subject(subject), *(self._address(a) for a in found)]
        await self.redis.delete(*keys)
        return found


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def candidate_throttle(redis: Redis, settings: Settings) -> Throttle:
    budget = Budget(
        settings.login_pair_failures, settings.login_address_failures, settings.login_lockout_s
    )
    return Throttle(redis, "candidate", budget)


def staff_throttle(redis: Redis, settings: Settings) -> Throttle:
    budget = Budget(
        settings.staff_pair_failures, settings.staff_address_failures, settings.login_lockout_s
    )
    return Throttle(redis, "staff", budget)
