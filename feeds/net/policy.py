"""Which network addresses a feed may lead the app to.

A feed the user configured on a loopback or private address is the user's choice. A redirect
from a public host to such an address is not: it would let any website on the internet make the
app send requests inside the user's network (and show the answers).
"""
from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Awaitable, Callable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host) -> is that host internal? Injected in tests to declare addresses public or internal.
AddressClassifier = Callable[[str], Awaitable[bool]]


def is_internal_ip(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved
            or ip.is_multicast or ip.is_unspecified)


async def host_is_internal(host: str) -> bool:
    """True when the host is, or resolves to, a loopback/private/link-local address.

    A name that does not resolve counts as internal: the request would fail anyway, and a
    refusal is the safe answer.
    """
    host = host.strip("[]")
    try:
        return is_internal_ip(ipaddress.ip_address(host))
    except ValueError:
        pass
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return True
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return True
    return any(is_internal_ip(ipaddress.ip_address(info[4][0].split("%")[0])) for info in infos)
