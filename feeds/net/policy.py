"""Which network addresses a feed may lead the app to.

A feed may reach an internal address (loopback, private, link-local, and every other
special-purpose range of IANA's IPv4 and IPv6 registries) only when the user said so: its
configured URL names such an address itself (``http://127.0.0.1:8080/feed``,
``http://localhost/…``), or the feed (or ``[polling]``) sets ``allow_internal = true``.
Anything else, a public name that resolves (or rebinds) to 127.0.0.1, a redirect, a
permanent redirect adopted earlier, is refused at connect time: the check runs on the
address the socket actually connected to (:mod:`feeds.net.h1`), on every hop of every poll.
"""
from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Awaitable, Callable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host or address) -> is it internal? Injected in tests to declare addresses public or internal.
AddressClassifier = Callable[[str], Awaitable[bool]]
# (address connected to, or host for a proxied request) -> None; raises AddressRefused.
PeerCheck = Callable[[str], Awaitable[None]]

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network
# IANA IPv4 Special-Purpose Address Registry, plus multicast and the reserved 240/4.
INTERNAL_V4: tuple[tuple[ipaddress.IPv4Network, str], ...] = tuple((_V4(n), why) for n, why in (
    ("0.0.0.0/8", "this network"), ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared address space (carrier-grade NAT)"), ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"), ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol assignments"), ("192.0.2.0/24", "documentation"),
    ("192.31.196.0/24", "AS112"), ("192.52.193.0/24", "AMT"),
    ("192.88.99.0/24", "6to4 relay anycast"), ("192.168.0.0/16", "private"),
    ("192.175.48.0/24", "AS112"), ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"), ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"), ("240.0.0.0/4", "reserved"),
    ("255.255.255.255/32", "broadcast"),
))
# IANA IPv6 Special-Purpose Address Registry, plus site-local, multicast and ::/8. The
# mappings of IPv4 (::ffff:0:0/96, 6to4, NAT64 64:ff9b::/96) are judged by the IPv4 inside.
INTERNAL_V6: tuple[tuple[ipaddress.IPv6Network, str], ...] = tuple((_V6(n), why) for n, why in (
    ("::/8", "reserved (unspecified, loopback, IPv4-compatible)"),
    ("64:ff9b:1::/48", "local-use NAT64"), ("100::/64", "discard-only"),
    ("100:0:0:1::/64", "dummy prefix"), ("2001::/23", "IETF protocol assignments"),
    ("2001:db8::/32", "documentation"), ("2620:4f:8000::/48", "AS112"),
    ("3fff::/20", "documentation"), ("5f00::/16", "segment routing"),
    ("fc00::/7", "unique local"), ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"), ("ff00::/8", "multicast"),
))
_MAPPED = _V6("::ffff:0:0/96")
_NAT64 = _V6("64:ff9b::/96")
_6TO4 = _V6("2002::/16")


class AddressRefused(Exception):
    """A connection to an internal address the feed does not allow."""

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(f"{address} is {reason}")
        self.address, self.reason = address, reason


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, NAT64 well-known prefix, 6to4)."""
    if ip in _MAPPED or ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _6TO4:
        return ipaddress.IPv4Address((int(ip) >> 80) & 0xFFFFFFFF)
    return None


def internal_reason(ip: IPAddress) -> str | None:
    """Why ``ip`` is internal ("loopback", "private"…), or None for a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        v4 = embedded_ipv4(ip)
        if v4 is not None:
            inner = internal_reason(v4)
            return f"{inner} (as {v4})" if inner else None
        table: tuple = INTERNAL_V6
    else:
        table = INTERNAL_V4
    for network, why in table:
        if ip in network:
            return why
    # What the standard library knows besides (it grows with Python releases).
    if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast \
            or ip.is_unspecified or ip.is_reserved:
        return "special-purpose"
    return None


def is_internal_ip(ip: IPAddress) -> bool:
    return internal_reason(ip) is not None


def parse_ip(address: str) -> IPAddress | None:
    """An IP address literal (brackets and a zone such as ``%eth0`` allowed), else None."""
    try:
        return ipaddress.ip_address(address.strip("[]").split("%")[0])
    except ValueError:
        return None


def is_local_name(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host in ("localhost", "localhost.localdomain") or host.endswith(".localhost")


async def host_is_internal(host: str) -> bool:
    """True when the host is, or resolves to, an internal address.

    A name that does not resolve counts as internal: the request would fail anyway, and a
    refusal is the safe answer.
    """
    ip = parse_ip(host)
    if ip is not None:
        return is_internal_ip(ip)
    if is_local_name(host):
        return True
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return True
    return any(is_internal_ip(ipaddress.ip_address(info[4][0].split("%")[0])) for info in infos)


async def names_internal_address(host: str, classifier: AddressClassifier = host_is_internal) -> bool:
    """Does a configured URL's host name an internal address *itself* (an IP literal or
    ``localhost``)? That is the user's explicit choice; a name that merely resolves to one
    is not (it may rebind)."""
    if parse_ip(host) is None and not is_local_name(host):
        return False
    return await classifier(host.strip("[]"))


def peer_check(classifier: AddressClassifier = host_is_internal) -> PeerCheck:
    """The connect-time check of a feed that does not allow internal addresses."""

    async def check(address: str) -> None:
        if await classifier(address):
            ip = parse_ip(address)
            reason = (internal_reason(ip) if ip is not None else None) or "internal"
            raise AddressRefused(address, reason)

    return check
