"""Facts about the request that depend on how the server is deployed."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """The address of the client, for rate limits and the security log.

    Behind `BIEB_TRUSTED_PROXIES` reverse proxies, REMOTE_ADDR is the nearest proxy and every
    proxy appends the address it got the request from to X-Forwarded-For. Only those last
    entries are written by proxies we trust, so the client is the entry that many places from
    the right; anything further left the client may have typed itself. With 0 (the default)
    X-Forwarded-For is ignored: a server exposed directly must not believe it."""
    remote = request.META.get("REMOTE_ADDR") or ""
    hops = settings.BIEB_TRUSTED_PROXIES
    if hops > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if forwarded:
            # Fewer entries than proxies: the request did not pass all of them; the leftmost
            # is still the furthest address a trusted proxy saw.
            remote = forwarded[-min(hops, len(forwarded))]
    try:
        return str(ipaddress.ip_address(remote))
    except ValueError:
        return None


def address_group(address: str | None) -> str:
    """What a per-address limit counts under: the address, or for IPv6 its /64 network (one
    household or phone gets a whole /64, so single IPv6 addresses are free to change)."""
    if not address:
        return "onbekend"
    parsed = ipaddress.ip_address(address)
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return address
