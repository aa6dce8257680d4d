"""What a member sees of their own sign-ins ("Recente inlogmomenten"): when, from what kind of
device, and from roughly where. Only that is stored: the device as a short label read from the
browser's User-Agent (by ua-parser, the maintained port of Browserscope's rules), and the
network instead of the address (an IPv4 address without its last part, an IPv6 address as its
/48). The full address stays where it was, in the security log (AccountEvent), which members do
not see.
"""

import datetime as dt
import ipaddress
from functools import lru_cache

from django.utils import timezone

from bieb.kb.models import LoginAccount, SignIn

# How long sign-ins are kept, and how many a member sees.
KEPT = dt.timedelta(days=90)
SHOWN = 10
UNKNOWN_DEVICE = "onbekend apparaat"


def network_of(ip: str | None) -> str:
    """`192.0.2.x` for 192.0.2.15; `2001:db8:85a3::/48` for an IPv6 address; "" without one."""
    if not ip:
        return ""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    if address.version == 4:
        return ".".join(str(address).split(".")[:3]) + ".x"
    return str(ipaddress.ip_network(f"{address}/48", strict=False))


@lru_cache(maxsize=512)
def device_of(user_agent: str) -> str:
    """`Chrome Mobile op Android`, `Firefox op Windows`, ...; "onbekend apparaat" when the
    browser does not say. (The first call in a process reads the rules: about a quarter of a
    second; after that a few milliseconds.)"""
    if not user_agent.strip():
        return UNKNOWN_DEVICE
    from ua_parser import parse

    result = parse(user_agent[:500])
    browser = result.user_agent.family if result.user_agent else ""
    system = result.os.family if result.os else ""
    browser = "" if browser in ("", "Other") else browser
    system = "" if system in ("", "Other") else system
    if browser and system:
        return f"{browser} op {system}"[:120]
    return (browser or system or UNKNOWN_DEVICE)[:120]


def sign_in_record(
    *, account: LoginAccount, ip: str | None, user_agent: str, via: str = "wachtwoord"
) -> SignIn:
    """Store a sign-in of `account`; call inside the transaction that records the login."""
    return SignIn.objects.create(
        account=account, network=network_of(ip), device=device_of(user_agent or ""), via=via
    )


def sign_ins_recent(*, account: LoginAccount) -> list[SignIn]:
    return list(SignIn.objects.filter(account=account).order_by("-at", "-id")[:SHOWN])


def sign_ins_prune() -> int:
    """Delete sign-ins older than KEPT (the periodic job)."""
    deleted, _ = SignIn.objects.filter(at__lt=timezone.now() - KEPT).delete()
    return deleted
