"""What a GET of one URL sends before its own headers: the origin, the request line with the
Host header, and HTTP Basic credentials from the URL.

``httpx.URL`` is the reference (IDNA hosts, percent-encoding, dot segments, default ports),
but importing httpx costs ~16 ms of a one-shot poll that needs none of it. So a URL made
only of parts httpx would leave as they are — an http(s) scheme, an ASCII host name or IPv4
address, a port, a path, query and userinfo of characters httpx does not escape, no ``.`` or
``..`` path segment — is taken apart here; every other URL goes to ``httpx.URL``.
tests/feeds/test_target.py checks both give the same bytes over many URLs.
"""
from __future__ import annotations

import base64
import functools
import re
from dataclasses import dataclass
from urllib.parse import unquote

from feeds.net.h1 import checked_header
from feeds.net.httpx_adapter import httpx


@dataclass(frozen=True, slots=True)
class Target:
    """What a GET of one URL sends before its own headers."""

    key: tuple[bytes, bytes, int | None]  # the origin, as PerHostTransport keys its pools
    line: bytes  # b"GET <path> HTTP/1.1\r\nHost: <host[:port]>\r\n"
    auth: bytes  # an Authorization header from credentials in the URL, or b""


# The characters httpx 0.28 keeps as they are (httpx/_urlparse.py: the unreserved ones plus
# PATH_SAFE, QUERY_SAFE, USERINFO_SAFE; "%" stays "%", escaped or not); a host of unreserved
# characters only (others fall back).
_USERINFO = r"[!$%&'()*+,\-.0-9:A-Z_a-z~]"
_PATH = r"[!$%&'()*+,\-./0-9:;=@A-Z\[\\\]^_a-z|~]"
_QUERY = r"[!$%&'()*+,\-./0-9:;=?@A-Z\[\\\]^_`a-z{|}~]"
_PLAIN_URL = re.compile(
    r"(?P<scheme>[Hh][Tt][Tt][Pp][Ss]?)://"
    rf"(?:(?P<userinfo>{_USERINFO}*)@)?"
    r"(?P<host>[\-.0-9A-Z_a-z~]+)"
    r"(?::(?P<port>[0-9]{0,5}))?"  # (longer: httpx's own error, or int()'s digit limit)
    rf"(?P<path>/{_PATH}*)?"
    rf"(?:\?(?P<query>{_QUERY}*))?"
    r"(?:#.*)?")
_IPV4_STYLE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")  # httpx validates these as IPv4
_DEFAULT_PORT = {"http": 80, "https": 443}
_MAX_URL = 65536  # httpx refuses longer URLs


@functools.lru_cache(maxsize=8192)
def request_target(url: str) -> Target:
    """``url`` parsed and normalised as httpx.URL would, once per URL and process: a poll
    cycle asks the same URLs every time. Raises httpx.InvalidURL for a URL httpx refuses."""
    parts = _plain_parts(url)
    if parts is None:
        u = httpx.URL(url)
        parts = (u.raw_scheme, u.raw_host, u.port, u.raw_path, u.netloc, u.userinfo,
                 u.username, u.password)
    scheme, host, port, raw_path, netloc, userinfo, username, password = parts
    auth = b""
    if userinfo:  # HTTP Basic, for this URL's own host only (see Fetcher._request)
        pair = f"{username}:{password}".encode("utf-8")
        auth = checked_header(b"Authorization", b"Basic " + base64.b64encode(pair))
    return Target((scheme, host, port),
                  b"GET " + raw_path + b" HTTP/1.1\r\nHost: " + netloc + b"\r\n", auth)


def _valid_ipv4(host: str) -> bool:
    """What ``ipaddress.IPv4Address`` accepts of four dotted digit groups (httpx asks it):
    each at most 255, with no leading zero. Without its import and its ~20 µs a call."""
    return all(len(g) <= 3 and int(g) <= 255 and (g == "0" or g[0] != "0")
               for g in host.split("."))


def _plain_parts(url: str) -> tuple | None:
    """The parts of a URL httpx would not change but for case and a default port, as
    httpx.URL gives them (raw_scheme, raw_host, port, raw_path, netloc, userinfo, username,
    password); None for any other URL."""
    if len(url) > _MAX_URL or not (url.isascii() and url.isprintable()):
        return None
    m = _PLAIN_URL.fullmatch(url)
    if m is None:
        return None
    scheme, host, path = m["scheme"].lower(), m["host"].lower(), m["path"] or ""
    if _IPV4_STYLE.fullmatch(host) and not _valid_ipv4(host):
        return None
    if "." in path and not {".", ".."}.isdisjoint(path.split("/")):
        return None  # dot segments: httpx removes them
    port = int(m["port"]) if m["port"] else None
    if port == _DEFAULT_PORT.get(m["scheme"]):  # (as httpx: the scheme as written, so
        port = None  # "HTTP://h:80" keeps its port)
    query = m["query"]
    raw_path = (path or "/") + ("" if query is None else "?" + query)
    netloc = host if port is None else f"{host}:{port}"
    userinfo = m["userinfo"] or ""
    username, _, password = userinfo.partition(":")
    return (scheme.encode("ascii"), host.encode("ascii"), port, raw_path.encode("ascii"),
            netloc.encode("ascii"), userinfo.encode("ascii"), unquote(username), unquote(password))
