"""Who a request comes from, for rate limits, concurrency caps and cache keys: an address, IPv6 grouped by /64.

uvicorn has already replaced the peer with the X-Forwarded-For client when the peer is a trusted proxy
(`CASEBOOK_TRUSTED_PROXIES`, `service/http/server.py`), so the peer in the ASGI scope is the one to read.
"""

from __future__ import annotations

import ipaddress

from starlette.types import Scope

# An IPv6 subscriber is usually handed a whole /64 (RFC 6177): counted per address, one client would have
# 2^64 buckets.
IPV6_PREFIX = 64


def client_key(host: str | None) -> str:
    """The client an address belongs to: an IPv4 address as written, an IPv6 address as its /64 network."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # not an IP address (a Unix socket, the test client): itself
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False))
    return str(address)


def scope_client(scope: Scope) -> str:
    """The client of a request."""
    client = scope.get("client")
    return client_key(client[0] if client else None)
