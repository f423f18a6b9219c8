"""The client's address, believing ``X-Forwarded-For`` only from trusted proxies.

Every per-address limit (docs/security.md, "Lockouts") keys on this address; if any
client could name its own address in a header, each guess would come "from" a new one.
The app therefore ignores the header unless the TCP peer is a configured proxy
(``TKD_TRUSTED_PROXIES``) and then takes the right-most address that is not a proxy.
``tkd serve`` turns uvicorn's own header handling off so that this is the only rule.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=64)
def networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(t, strict=False) for t in trusted)


def is_trusted(address: str, trusted: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in trusted)


def client_address(peer: str | None, forwarded_for: str | None, trusted: tuple[str, ...]) -> str:
    """The address to hold a client to: the peer, or the first untrusted hop behind proxies."""
    peer = peer or "unknown"
    nets = networks(trusted)
    if not forwarded_for or not is_trusted(peer, nets):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop, nets):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a proxy passed on garbage: hold the proxy to it
    return hops[0] if hops else peer


class TrustedProxies:
    """ASGI middleware: ``scope["client"]`` becomes the address ``client_address`` gives."""

    def __init__(self, app: ASGIApp, trusted: tuple[str, ...]) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            forwarded = None
            for name, value in scope.get("headers", ()):
                if name == b"x-forwarded-for":
                    forwarded = value.decode("latin-1")
            client = scope.get("client")
            peer = client[0] if client else None
            address = client_address(peer, forwarded, self.trusted)
            if address != peer:
                scope = {**scope, "client": (address, 0)}
        await self.app(scope, receive, send)
