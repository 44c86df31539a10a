"""feeds.net.target: the request line, Host and credentials of a URL, as httpx.URL makes
them, without httpx for plain URLs; and the fetcher's TLS context, as httpx makes it."""
from __future__ import annotations

import base64
import random
import ssl
from pathlib import Path

import certifi
import pytest

from feeds.net import fetch
from feeds.net.h1 import checked_header
from feeds.net.httpx_adapter import httpx
from feeds.net.target import Target, _plain_parts, request_target


def via_httpx(url: str) -> Target:
    """The reference: what the fetcher built with httpx.URL for every URL."""
    u = httpx.URL(url)
    auth = b""
    if u.userinfo:
        pair = f"{u.username}:{u.password}".encode("utf-8")
        auth = checked_header(b"Authorization", b"Basic " + base64.b64encode(pair))
    return Target((u.raw_scheme, u.raw_host, u.port),
                  b"GET " + u.raw_path + b" HTTP/1.1\r\nHost: " + u.netloc + b"\r\n", auth)


def outcome(build, url: str) -> Target | str:
    try:
        return build(url)
    except Exception as e:  # the same refusal, as the same exception type
        return type(e).__name__


PLAIN = [
    "http://127.0.0.1:42921/feed/3.xml", "https://news.example.org/rss", "http://example.com",
    "HTTP://Example.COM:80/Path/To?Q=1#Frag", "https://example.com:443/", "https://example.com:8443/a",
    "http://example.com:/x", "http://example.com:00080/x", "http://example.com:0/x",
    "http://user:pa%20ss@example.com/feed", "http://jo%40mail.com:s3cr%3At@host.example:8080/a?b=c",
    "http://user@example.com/", "http://:pw@example.com/", "http://@example.com/", "http://u:@h.example/",
    "http://a%0D%0Ab:c@example.com/", "http://h.example/%7Euser/feed%20x.xml?a=%zz&b=%", "http://h.example/%",
    "http://h.example/a.b/c./.d/", "http://h.example/a/./b", "http://h.example/a/../b", "http://h.example/..",
    "http://h.example/.", "http://h.example?only=query", "http://h.example#only-fragment",
    "http://h.example/?", "http://h.example/p?q?r=`{}|^", "http://h.example/p;a=b,c@d:e!$&'()*+",
    "http://h_x.example/", "http://h~x.example./", "http://xn--mller-kva.de/", "http://-lead.example/",
    "http://1.2.3.4/", "http://255.255.255.255:8080/", "http://999.1.1.1/", "http://01.2.3.4/",
    "http://0.0.0.0/", "http://1.2.3.256/", "http://00.1.1.1/", "http://1.2.3.0400/",
    "http://10.0.0.010:81/",
    "http://1.2.3/", "http://1.2.3.4.5/", "http://[::1]/", "http://[::1]:8080/a", "http://[::zz]/",
    "http://müller.de/feed", "https://中国.icom.museum/", "http://xn--fiqs8s.icom.museum/",
    "http://example.com/ü?ä=ö", "http://example.com/a b", "http://example.com/a\tb",
    "http://example.com/a\\b", "http://example.com:123456/", "http://example.com:80:90/",
    "http://example.com:8o/", "http://exa mple.com/", "http://example.com/\"q\"", "http://example.com/<x>",
    "http://a@b@example.com/", "http://ex%41mple.com/", "http://example.com:" + "9" * 5000 + "/",
    "https://user:pass@[::1]:8443/x", "http:///nohost", "http://", "http://example.com/" + "a" * 70000,
]
CHARS = [chr(i) for i in range(0x20, 0x7F)] + ["é", "\x00", "\x7f", "%41", "%4"]


def generated() -> list[str]:
    """Every printable ASCII character (and a few more) in each part of a URL, then random
    mixes of them."""
    urls = []
    for c in CHARS:
        urls += [f"http://us{c}er:pw@example.com/", f"http://user:p{c}w@example.com/",
                 f"http://exa{c}mple.com/", f"http://example.com:8{c}0/", f"http://example.com/a{c}b/c",
                 f"http://example.com/a?q{c}r", f"http://example.com/a#f{c}g", f"http://example.com{c}/",
                 f"https://EXAMPLE.com/{c}"]
    rng = random.Random(4711)
    for _ in range(3000):
        part = lambda n: "".join(rng.choice(CHARS) for _ in range(rng.randint(0, n)))  # noqa: E731
        userinfo = rng.choice(["", part(6) + "@", part(3) + ":" + part(3) + "@"])
        host = rng.choice(["example.com", "Ex.ORG", "10.0.0.1", "1.2.3.999", part(5) or "h", "müller.de"])
        port = rng.choice(["", ":", ":80", ":443", ":8080", ":" + part(3)])
        path = rng.choice(["", "/", "/" + part(10), "/a/./b", "/x/../y"])
        query = rng.choice(["", "?", "?" + part(8)])
        frag = rng.choice(["", "#" + part(4)])
        urls.append(f"{rng.choice(['http', 'HTTPS', 'hTtP'])}://{userinfo}{host}{port}{path}{query}{frag}")
    return urls


@pytest.mark.parametrize("corpus", ["plain", "generated"])
def test_the_target_is_the_one_httpx_url_gives(corpus: str) -> None:
    urls = PLAIN if corpus == "plain" else generated()
    differ = [(url, outcome(request_target, url), outcome(via_httpx, url)) for url in urls
              if outcome(request_target, url) != outcome(via_httpx, url)]
    assert not differ, differ[:5]
    fast = [url for url in urls if _plain_parts(url) is not None]
    assert len(fast) > len(urls) // 5, "the plain-URL parser should take the common URLs itself"


def test_common_feed_urls_are_parsed_without_httpx() -> None:
    for url in ("http://127.0.0.1:42921/feed/3.xml", "https://www.example.org/world/rss.xml?x=1",
                "https://user:secret@feeds.example.net/a", "http://EXAMPLE.com:80/"):
        assert _plain_parts(url) is not None, url
    for url in ("http://müller.de/", "http://[::1]/", "http://h.example/a/../b", "http://h/a b"):
        assert _plain_parts(url) is None, url


def _same_context(a: ssl.SSLContext, b: ssl.SSLContext) -> None:
    assert (a.verify_mode, a.check_hostname, a.options, a.minimum_version, a.maximum_version,
            a.verify_flags, a.protocol) == (b.verify_mode, b.check_hostname, b.options,
                                             b.minimum_version, b.maximum_version, b.verify_flags,
                                             b.protocol)
    assert a.get_ca_certs() == b.get_ca_certs()


@pytest.mark.parametrize("trust", ["certifi", "SSL_CERT_FILE", "SSL_CERT_DIR"])
def test_the_tls_context_is_the_one_httpx_builds(trust: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    if trust == "SSL_CERT_FILE":  # one CA of certifi's bundle: a trust that differs from it
        pem = Path(certifi.where()).read_text(encoding="ascii")
        one = pem[pem.index("-----BEGIN CERTIFICATE-----"):pem.index("-----END CERTIFICATE-----") + 25]
        (tmp_path / "ca.pem").write_text(one + "\n", encoding="ascii")
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    elif trust == "SSL_CERT_DIR":
        monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    ours = fetch._ssl_context.__wrapped__()
    _same_context(ours, httpx.create_ssl_context(trust_env=True))
    assert len(ours.get_ca_certs()) == {"certifi": len(ssl.create_default_context(
        cafile=certifi.where()).get_ca_certs()), "SSL_CERT_FILE": 1, "SSL_CERT_DIR": 0}[trust]
