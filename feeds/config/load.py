"""Load and validate the TOML configuration into frozen dataclasses.

Which file: ``--config PATH``, else ``$DIPLOWATCH_CONFIG``, else the user's config
(platformdirs), else the bundled ``config.toml``. A config that lists only ``[[feeds]]`` takes
everything else from the bundled one. Every problem raises :class:`ConfigError`, whose message
names the file, the key (and its line when it can be found) and what was expected.
"""
from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import platformdirs


from feeds.model import FeedSource
from feeds.redact import redact_text
from feeds.config.paths import APP_NAME
from feeds.config.specs import Specs
from feeds.config.units import format_duration, parse_duration, parse_size


class ConfigError(Exception):
    """A problem with a config file: ``str(err)`` is the whole message for the user."""

    def __init__(self, path: Path | str, problem: str, key: str | None = None,
                 line: int | None = None) -> None:
        self.path, self.problem, self.key, self.line = Path(path), problem, key, line
        where = str(path)
        if line:
            where += f", line {line}"
        if key:
            where += f", {key}"
        super().__init__(redact_text(f"{where}: {problem}"))  # (a feed URL may be quoted)


MAX_RETRY_AFTER = 86400.0  # a hostile Retry-After cannot park a feed for longer


@dataclass(frozen=True, slots=True)
class PollingSettings:
    interval: float = 900.0
    min_interval: float = 300.0
    max_interval: float = 86400.0
    jitter: float = 0.1
    concurrency: int = 8
    per_host: int = 1
    connect_timeout: float = 10.0
    timeout: float = 20.0
    max_body: int = 5 * 1024 * 1024
    max_redirects: int = 5
    max_items: int = 1000
    parse_timeout: float = 20.0  # a parse worker that runs longer is killed
    parse_workers: int = 0  # 0 → one per CPU core (at most 4)
    user_agent: str = ""  # "" → "diplowatch/<version> (+project URL)"
    allow_internal: bool = False  # every feed may reach internal addresses (feeds.net.policy)


@dataclass(frozen=True, slots=True)
class StorageSettings:
    path: Path | None = None
    retention_days: int = 0
    recent_days: int = 7


@dataclass(frozen=True, slots=True)
class UISettings:
    theme: str = "textual-dark"


@dataclass(frozen=True, slots=True)
class ClusterSettings:
    """Story clusters (feeds.analysis.clusters): which titles count as the same story."""

    enabled: bool = True
    window: float = 48 * 3600.0  # most time between the published times of two versions
    horizon: float = 7 * 86400.0  # items published longer ago are not clustered
    threshold: float = 60.0  # rapidfuzz token_set_ratio of the normalised titles, 0-100
    min_shared: int = 2  # distinctive words two titles must share


@dataclass(frozen=True, slots=True)
class WatchSettings:
    """Watch terms (feeds.analysis.watch). Patterns are in the rules language, validated at load."""

    terms: tuple[tuple[str, str], ...] = ()  # (name, pattern)
    exclude: tuple[str, ...] = ()
    bell: bool = True
    notify_command: tuple[str, ...] = ()  # argv, run once per matching item; () → none
    notify_timeout: float = 10.0
    notify_budget: float = 60.0  # all the notify commands of one poll cycle


@dataclass(frozen=True, slots=True)
class Config:
    path: Path  # the file the user's settings came from
    feeds: tuple[FeedSource, ...]
    polling: PollingSettings = field(default_factory=PollingSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    ui: UISettings = field(default_factory=UISettings)
    specs: Specs = field(default_factory=Specs)  # the rules and the gazetteer
    is_bundled: bool = False
    clusters: ClusterSettings = field(default_factory=ClusterSettings)
    watch: WatchSettings = field(default_factory=WatchSettings)

    @property
    def rules(self) -> Any:
        """The rules (feeds.classify.rules.RulesSpec)."""
        return self.specs.rules

    @property
    def actors(self) -> Any:
        """The actor gazetteer (feeds.classify.actors.ActorSpec)."""
        return self.specs.actors

    def feed(self, key_or_name: str) -> FeedSource | None:
        """By key or name; a name in any case when only one feed has it so."""
        for f in self.feeds:
            if key_or_name in (f.key, f.name):
                return f
        folded = key_or_name.casefold()
        hits = [f for f in self.feeds if f.name.casefold() == folded]
        return hits[0] if len(hits) == 1 else None


# --- where things live -------------------------------------------------------------------

def bundled_config_path() -> Path:
    """The default config shipped with diplowatch (repo checkout, else the installed copy)."""
    here = Path(__file__).resolve().parents[2] / "config.toml"
    if here.is_file():
        return here
    return Path(sys.prefix) / "share" / APP_NAME / "config.toml"


def user_config_path() -> Path:
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def resolve_config_path(cli_path: str | Path | None, env: dict[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if cli_path:
        return Path(cli_path).expanduser()
    if env.get("DIPLOWATCH_CONFIG"):
        return Path(env["DIPLOWATCH_CONFIG"]).expanduser()
    user = user_config_path()
    if user.is_file():
        return user
    return bundled_config_path()


# --- loading -----------------------------------------------------------------------------

def read_toml(path: Path) -> tuple[dict[str, Any], str]:
    """The parsed document and its text; a ConfigError for a missing file or bad syntax."""
    text = _read_text(path)
    return _parse_toml(path, text), text


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, "file not found") from None
    except IsADirectoryError:
        raise ConfigError(path, "is a directory, expected a TOML file") from None
    except PermissionError:
        raise ConfigError(path, "permission denied") from None
    except UnicodeDecodeError as e:
        raise ConfigError(path, f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise ConfigError(path, e.strerror or str(e)) from None


def _parse_toml(path: Path, text: str) -> dict[str, Any]:
    # (imported here: a config kept by feeds.config.cache is not parsed again.) tomli is
    # tomllib's own code compiled (mypyc): several times faster, the same TOML 1.0 and error
    # messages (the pinned 2.2.x; 2.3+ reads TOML 1.1, which tomllib and tomlkit reject).
    try:
        import tomli as tomllib
    except ImportError:  # pragma: no cover - not installed: the standard library's, slower
        import tomllib  # type: ignore[no-redef]

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        line = int(m.group(1)) if m else None
        problem = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg)
        if m:
            problem += f" (column {m.group(2)})"
        raise ConfigError(path, f"TOML syntax error: {problem}", line=line) from None


def load_config(path: Path | str | None = None, *, bundled: Path | None = None) -> Config:
    """Load ``path`` (resolved as documented when None) on top of the bundled defaults."""
    path = resolve_config_path(path) if path is None else Path(path).expanduser()
    bundled = bundled or bundled_config_path()
    text = _read_text(path)
    is_bundled = _same_file(path, bundled)
    with _as_bundled():
        bundled_text = None if is_bundled else _read_text(bundled)
    from feeds.config import cache

    key = cache.key_of((text, bundled_text))
    kept = cache.load(key) if key is not None else None
    if kept is not None:  # (this very text loaded before: its documents and specs as parsed)
        doc, defaults_doc, specs_blob, fingerprints = kept

        def parse_again() -> tuple[Any, Any]:
            config = _build(path, doc, text, defaults_doc, is_bundled)
            return config.rules, config.actors

        return _build(path, doc, text, defaults_doc, is_bundled,
                      Specs.kept(specs_blob, fingerprints, parse_again))
    doc = _parse_toml(path, text)
    if bundled_text is None:
        defaults_doc = doc
    else:
        with _as_bundled():
            defaults_doc = _parse_toml(bundled, bundled_text)
    config = _build(path, doc, text, defaults_doc, is_bundled)
    if key is not None:
        cache.keep(key, (doc, None if is_bundled else defaults_doc,
                         cache.dumps((config.rules, config.actors)), config.specs.fingerprints))
    return config


@contextlib.contextmanager
def _as_bundled() -> Iterator[None]:
    """A ConfigError while reading the bundled defaults, said as such."""
    try:
        yield
    except ConfigError as e:
        raise ConfigError(e.path, f"the bundled default config is unusable: {e.problem}") from None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


_TOP_KEYS = {"polling", "storage", "ui", "classify", "classes", "rules", "feeds", "actors",
             "clusters", "watch"}


def _build(path: Path, doc: dict, text: str, defaults: dict | None, is_bundled: bool,
           specs: Specs | None = None) -> Config:
    """The config of these documents; ``specs``: its rules and gazetteer, already parsed."""
    defaults = doc if defaults is None else defaults
    v = _Validator(path, text)
    for key in doc:
        if key not in _TOP_KEYS:
            v.fail(key, f"unknown section; expected one of {', '.join(sorted(_TOP_KEYS))}")
    polling = v.section(doc, defaults, "polling", PollingSettings, _POLLING_FIELDS)
    storage = v.section(doc, defaults, "storage", StorageSettings, _STORAGE_FIELDS)
    ui = v.section(doc, defaults, "ui", UISettings, _UI_FIELDS)
    if storage.path is not None and not storage.path.is_absolute():
        storage = StorageSettings(path=(path.parent / storage.path).resolve(),
                                  retention_days=storage.retention_days,
                                  recent_days=storage.recent_days)
    feeds = v.feeds(doc.get("feeds", []), polling)
    check_patterns = specs is None  # (a kept config's patterns parsed when it was kept)
    if specs is None:
        actors = _actors(path, v, doc, defaults, is_bundled)
        specs = Specs(_rules(path, v, doc, defaults, is_bundled, actors), actors)
    clusters = v.section(doc, defaults, "clusters", ClusterSettings, _CLUSTER_FIELDS)
    if clusters.horizon < clusters.window:
        v.fail("clusters.horizon", "must be at least clusters.window")
    watch = _watch(v, doc, defaults, check_patterns=check_patterns)
    return Config(path=path, feeds=feeds, polling=polling, storage=storage, ui=ui, specs=specs,
                  is_bundled=is_bundled, clusters=clusters, watch=watch)


def _rules(path: Path, v: "_Validator", doc: dict, defaults: dict, is_bundled: bool,
           actors: Any) -> Any:
    """The rules; ``actors`` (the effective gazetteer) is the rules' ``@actor`` class."""
    from feeds.classify.rules import RuleError, load_rules, merge_rules

    keys = ("classify", "classes", "rules")
    default_table = {k: defaults[k] for k in keys if k in defaults}
    user_table = {k: doc[k] for k in keys if k in doc}
    try:
        table = (default_table if is_bundled or not user_table
                 else merge_rules(default_table, user_table, actors))
        return load_rules(table, actors)
    except RuleError as e:
        key = getattr(e, "key", None)
        raise ConfigError(path, str(e), line=v.line_of(key) if key else None) from None


def _actors(path: Path, v: "_Validator", doc: dict, defaults: dict, is_bundled: bool) -> Any:
    from feeds.classify.actors import ActorError, load_actors

    user = None if is_bundled else doc.get("actors")
    try:
        return load_actors(defaults.get("actors", {}), user)
    except ActorError as e:
        raise ConfigError(path, e.problem, key=e.key, line=v.line_of(e.key)) from None


def _watch(v: "_Validator", doc: dict, defaults: dict, check_patterns: bool) -> WatchSettings:
    """[watch]: each key the user sets replaces the bundled one (like [polling]).
    ``check_patterns``: False for documents that loaded before (the config cache's), whose
    patterns parsed then: it saves a command the classifier's modules."""
    values: dict[str, Any] = {}
    for source in (defaults.get("watch", {}), doc.get("watch", {})):
        if not isinstance(source, dict):
            v.fail("watch", f"expected a table [watch], got {_show(source)}")
        for key, raw in source.items():
            if key not in _WATCH_KEYS:
                v.fail(f"watch.{key}", f"unknown key; expected one of {', '.join(sorted(_WATCH_KEYS))}")
            values[key] = raw
    out: dict[str, Any] = {}
    terms = values.get("terms", [])
    if isinstance(terms, list):
        pairs = [(t, t) for t in terms]
    elif isinstance(terms, dict):
        pairs = list(terms.items())
    else:
        v.fail("watch.terms", "expected an array of patterns, or a table of name = pattern, "
               f"got {_show(terms)}")
    exclude = values.get("exclude", [])
    if not isinstance(exclude, list):
        v.fail("watch.exclude", f"expected an array of patterns, got {_show(exclude)}")
    named = isinstance(terms, dict)  # a table: errors point at the term's own line
    for key, name, pattern in ([(f"watch.terms.{n}" if named else "watch.terms", n, p)
                                for n, p in pairs]
                               + [("watch.exclude", p, p) for p in exclude]):
        if not isinstance(pattern, str) or not isinstance(name, str) or not name.strip():
            v.fail(key, f"expected a pattern as a string, got {_show(pattern)}")
        if check_patterns:
            from feeds.classify.rules import RuleError, parse_pattern

            try:
                parse_pattern(pattern, key, near=None)
            except RuleError as e:
                v.fail(key, f"{pattern!r}: {e.problem}")
    out["terms"] = tuple((n.strip(), p) for n, p in pairs)
    out["exclude"] = tuple(exclude)
    if "bell" in values:
        if not isinstance(values["bell"], bool):
            v.fail("watch.bell", f"expected true or false, got {_show(values['bell'])}")
        out["bell"] = values["bell"]
    if "notify_command" in values:
        cmd = values["notify_command"]
        if isinstance(cmd, str):
            v.fail("watch.notify_command", "expected an array of arguments such as "
                   '["notify-send", "diplowatch"], got a string: the command is never run '
                   "through a shell, so split it into its arguments")
        if not isinstance(cmd, list) or not all(isinstance(a, str) and a for a in cmd):
            v.fail("watch.notify_command", "expected an array of non-empty strings "
                   f"(the program, then its arguments), got {_show(cmd)}")
        out["notify_command"] = tuple(cmd)
    for key in ("notify_timeout", "notify_budget"):
        if key in values:
            try:
                out[key] = _duration(0.1, MAX_TIMEOUT)(values[key])
            except ValueError as e:
                v.fail(f"watch.{key}", str(e))
    return WatchSettings(**out)


# Upper bounds: a value past them is a typo or an attack on the poller (an interval of nan
# or 1e308 s never schedules, a timeout of inf removes the deadline, a 100 GiB body cap lets a
# gzip bomb inflate until memory runs out). Each is far above any sensible setting.
DAY = 86400.0
MAX_DURATION = 30 * DAY  # intervals, backoff, cluster windows
MAX_TIMEOUT = 600.0  # a fetch, a parse, a notify command
MAX_CONNECT_TIMEOUT = 120.0
MAX_BODY = 1024**3  # 1 GiB of decoded feed
MAX_ITEMS = 100_000  # entries kept from one document
MAX_RETENTION_DAYS = 36_500
MAX_HORIZON = 365 * DAY


def _int(lo: int, hi: int) -> Callable[[Any], int]:
    def conv(x: Any) -> int:
        if isinstance(x, bool) or not isinstance(x, int):
            raise ValueError(f"expected an integer, got {_show(x)}")
        if not lo <= x <= hi:
            raise ValueError(f"expected an integer between {lo} and {hi}, got {x}")
        return x
    return conv


def _span(seconds: float) -> str:
    """A bound in words: "0.1s", "10m", "30d"."""
    return f"{seconds:g}s" if seconds < 60 else format_duration(seconds)


def _duration(lo: float, hi: float = MAX_DURATION) -> Callable[[Any], float]:
    def conv(x: Any) -> float:
        bounds = f"between {_span(lo)} and {_span(hi)}"
        try:
            s = parse_duration(x)
        except ValueError as e:
            raise ValueError(f"{e} (allowed: {bounds})") from None
        if not lo <= s <= hi:
            raise ValueError(f"expected a duration {bounds}, got {_show(x)}")
        return s
    return conv


def _fraction(x: Any) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not 0 <= x <= 0.5:
        raise ValueError(f"expected a number between 0 and 0.5, got {_show(x)}")
    return float(x)


def _bool(x: Any) -> bool:
    if not isinstance(x, bool):
        raise ValueError(f"expected true or false, got {_show(x)}")
    return x


def _number(lo: float, hi: float) -> Callable[[Any], float]:
    def conv(x: Any) -> float:
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not lo <= x <= hi:
            raise ValueError(f"expected a number between {lo:g} and {hi:g}, got {_show(x)}")
        return float(x)
    return conv


def _string(x: Any) -> str:
    if not isinstance(x, str):
        raise ValueError(f"expected a string, got {_show(x)}")
    return x


def _path(x: Any) -> Path:
    if not isinstance(x, str) or not x.strip():
        raise ValueError(f"expected a path as a string, got {_show(x)}")
    return Path(x).expanduser()


def _size(x: Any) -> int:
    try:
        n = parse_size(x)
    except ValueError as e:
        raise ValueError(f"{e} (allowed: between 1KiB and 1GiB)") from None
    if not 1024 <= n <= MAX_BODY:
        raise ValueError(f"expected a size between 1KiB and 1GiB, got {_show(x)}")
    return n


_POLLING_FIELDS: dict[str, Callable[[Any], Any]] = {
    "interval": _duration(1), "min_interval": _duration(1), "max_interval": _duration(1),
    "jitter": _fraction, "concurrency": _int(1, 256), "per_host": _int(1, 64),
    "connect_timeout": _duration(0.1, MAX_CONNECT_TIMEOUT), "timeout": _duration(0.1, MAX_TIMEOUT),
    "max_body": _size, "max_redirects": _int(0, 20), "max_items": _int(1, MAX_ITEMS),
    "parse_timeout": _duration(1, MAX_TIMEOUT),
    "parse_workers": _int(0, 64), "user_agent": _string, "allow_internal": _bool,
}
_STORAGE_FIELDS: dict[str, Callable[[Any], Any]] = {
    "path": _path, "retention_days": _int(0, MAX_RETENTION_DAYS), "recent_days": _int(1, 3660),
}
_UI_FIELDS: dict[str, Callable[[Any], Any]] = {"theme": _string}
_CLUSTER_FIELDS: dict[str, Callable[[Any], Any]] = {
    "enabled": _bool, "window": _duration(60), "horizon": _duration(3600, MAX_HORIZON),
    "threshold": _number(0, 100), "min_shared": _int(1, 10),
}
# Keys an earlier version read and this one does not: accepted and ignored, so that a config
# written then still loads. (Fetch processes gave nothing once HTTP parsing moved to llhttp.)
_OBSOLETE_KEYS = {"polling.fetch_processes"}
_WATCH_KEYS = {"terms", "exclude", "bell", "notify_command", "notify_timeout", "notify_budget"}
_FEED_KEYS = {"name", "url", "tags", "interval", "enabled", "allow_internal", "folder"}


def _show(x: Any) -> str:
    kind = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "an array", dict: "a table"}.get(type(x), type(x).__name__)
    text = repr(x)
    return f"{kind} ({text if len(text) <= 40 else text[:37] + '...'})"


def normalise_feed_url(url: str, base: Path) -> str:
    """Validate a feed location: an http(s) URL, or a local file path (relative to ``base``).

    ``feed://`` is the old browser convention for https. Anything else (file:, ftp:, javascript:…)
    is refused: a feed must not make the app read arbitrary URLs or local files by a scheme.
    """
    url = url.strip()
    if not url:
        raise ValueError("expected an http(s) URL or a local file path, got an empty string")
    if _CONTROL.search(url):
        raise ValueError("the URL contains control characters")
    lower = url.lower()
    if lower.startswith("feed://"):
        url = "https://" + url[7:]
        lower = url.lower()
    if lower.startswith(("http://", "https://")):
        return _normalise_http_url(url)
    scheme = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*):", url)
    if scheme and len(scheme.group(1)) > 1:  # one letter would be a Windows drive
        raise ValueError(
            f"scheme {scheme.group(1)!r} is not allowed: use an http(s) URL, or a plain path "
            "for a local file")
    return str((base / Path(url).expanduser()).resolve())


def folder_path(parts: Any) -> str:
    """Folder names (outer first) as one ``folder`` value: "World/Europe"."""
    return "/".join(p.strip() for p in parts if p.strip())


# (underscores are not in the DNS host-name rules but real feed hosts carry them)
_HOST_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)\Z")
_CONTROL = re.compile(r"[\x00-\x1f]")


# An http(s) URL already in the form _normalise_http_url gives (lower-case scheme and host
# name, no user info, a port in range, no empty "?" or "#"): returned as it is, without
# splitting and joining it again (~40 µs a feed, most of a 200-feed config's validation).
_PLAIN_HTTP_URL = re.compile(
    r"https?://(?=[a-z0-9.-]{1,253}(?:[:/?#]|\Z))(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*"
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?::(?P<port>[0-9]{1,5}))?"
    r"(?:/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?(?:\?[A-Za-z0-9._~!$&'()*+,;=:@%/?-]+)?"
    r"(?:#[A-Za-z0-9._~!$&'()*+,;=:@%/?-]+)?", re.ASCII)


def _normalise_http_url(url: str) -> str:
    """An http(s) URL with its scheme and host in lower case (``HTTPS://Host/x`` is the same
    feed as ``https://host/x``); the host must be a hostname or an IP literal."""
    plain = _PLAIN_HTTP_URL.fullmatch(url)
    if plain is not None and (plain["port"] is None or int(plain["port"]) <= 65535):
        return url
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError as e:
        raise ValueError(f"not a valid URL ({e})") from None
    host = parts.hostname
    if not host:
        raise ValueError(f"the URL has no host: {url!r}")
    if not _valid_host(host):
        raise ValueError(f"{host!r} is not a host name or an IP address")
    userinfo, _, hostport = parts.netloc.rpartition("@")
    netloc = (userinfo + "@" if userinfo else "") + hostport.lower()
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, parts.fragment))


def _valid_host(host: str) -> bool:
    """A DNS name (internationalised names as their IDNA form) or an IPv4/IPv6 literal."""
    if host.isascii() and _dns_name(host.rstrip(".").lower()):  # the common case, first
        return True
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        ascii_host = host.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        return False
    return _dns_name(ascii_host)


def _dns_name(ascii_host: str) -> bool:
    return len(ascii_host) <= 253 and all(_HOST_LABEL.match(label) for label in ascii_host.split("."))


class _Validator:
    def __init__(self, path: Path, text: str) -> None:
        self.path, self.lines = path, text.splitlines()

    def fail(self, key: str, problem: str) -> None:
        raise ConfigError(self.path, problem, key=key, line=self.line_of(key))

    def line_of(self, key: str | None) -> int | None:
        """Best-effort line of a dotted key such as ``polling.timeout`` or ``feeds[3].url``."""
        if not key:
            return None
        parts = re.findall(r"[^.\[\]]+|\[\d+\]", key)
        start, section = 0, None
        if parts and len(parts) > 1 and parts[1].startswith("["):
            n = int(parts[1][1:-1])
            headers = [i for i, ln in enumerate(self.lines)
                       if re.match(rf"\s*\[\[\s*{re.escape(parts[0])}\s*\]\]", ln)]
            if n >= len(headers):
                return None
            start, rest = headers[n], parts[2:]
            end = next((i for i in range(start + 1, len(self.lines))
                        if re.match(r"\s*\[", self.lines[i])), len(self.lines))
            if not rest:
                return start + 1
            for i in range(start + 1, end):
                if re.match(rf"\s*\"?{re.escape(rest[0])}\"?\s*=", self.lines[i]):
                    return i + 1
            return start + 1
        for depth in range(len(parts) - 1, 0, -1):
            section = ".".join(parts[:depth])
            for i, ln in enumerate(self.lines):
                if re.match(rf"\s*\[\s*{re.escape(section)}\s*\]", ln):
                    for j in range(i + 1, len(self.lines)):
                        if re.match(r"\s*\[", self.lines[j]):
                            break
                        if re.match(rf"\s*\"?{re.escape(parts[depth])}\"?\s*[=.]", self.lines[j]):
                            return j + 1
                    return i + 1
        for i, ln in enumerate(self.lines):
            if re.match(rf"\s*\[?\s*{re.escape(parts[0])}\b", ln):
                return i + 1
        return None

    def section(self, doc: dict, defaults: dict, name: str, cls: type, convs: dict) -> Any:
        values: dict[str, Any] = {}
        for source, is_user in ((defaults.get(name, {}), False), (doc.get(name, {}), True)):
            if not isinstance(source, dict):
                self.fail(name, f"expected a table [{name}], got {_show(source)}")
            for key, raw in source.items():
                if f"{name}.{key}" in _OBSOLETE_KEYS:
                    continue
                if key not in convs:
                    self.fail(f"{name}.{key}",
                              f"unknown key; expected one of {', '.join(sorted(convs))}")
                try:
                    values[key] = convs[key](raw)
                except ValueError as e:
                    self.fail(f"{name}.{key}", str(e))
        try:
            obj = cls(**values)
        except TypeError as e:  # pragma: no cover - convs and fields are kept in step
            self.fail(name, str(e))
        if isinstance(obj, PollingSettings):
            if obj.min_interval > obj.max_interval:
                self.fail("polling.min_interval", "must not exceed polling.max_interval")
        return obj

    def feeds(self, raw: Any, polling: PollingSettings) -> tuple[FeedSource, ...]:
        if not isinstance(raw, list):
            self.fail("feeds", "expected [[feeds]] tables (an array of tables)")
        out: list[FeedSource] = []
        names: dict[str, int] = {}
        urls: dict[str, int] = {}
        for i, t in enumerate(raw):
            k = f"feeds[{i}]"
            if not isinstance(t, dict):
                self.fail(k, f"expected a [[feeds]] table, got {_show(t)}")
            for key in t:
                if key not in _FEED_KEYS:
                    self.fail(f"{k}.{key}", f"unknown key; expected one of {', '.join(sorted(_FEED_KEYS))}")
            name = t.get("name")
            if not isinstance(name, str) or not name.strip():
                self.fail(f"{k}.name", "expected a non-empty string (every feed needs a name)")
            url = t.get("url")
            if not isinstance(url, str):
                self.fail(f"{k}.url", f"expected an http(s) URL or a local file path, got {_show(url) if url is not None else 'nothing'}")
            try:
                url = normalise_feed_url(url, self.path.parent)
            except ValueError as e:
                self.fail(f"{k}.url", str(e))
            tags = t.get("tags", [])
            if not isinstance(tags, list) or not all(isinstance(x, str) and x.strip() for x in tags):
                self.fail(f"{k}.tags", f"expected an array of non-empty strings, got {_show(tags)}")
            interval = None
            if "interval" in t:
                try:
                    interval = _duration(1)(t["interval"])
                except ValueError as e:
                    self.fail(f"{k}.interval", str(e))
            folder = self.folder(k, t.get("folder", ""))
            enabled, allow_internal = t.get("enabled", True), t.get("allow_internal", False)
            for key, value in (("enabled", enabled), ("allow_internal", allow_internal)):
                if not isinstance(value, bool):
                    self.fail(f"{k}.{key}", f"expected true or false, got {_show(value)}")
            name = name.strip()
            if name.lower() in names:
                self.fail(f"{k}.name", f"duplicate feed: the name {name!r} is already used by feeds[{names[name.lower()]}]")
            if url in urls:
                self.fail(f"{k}.url", f"duplicate feed: {url!r} is already listed as feeds[{urls[url]}]")
            names[name.lower()], urls[url] = i, i
            out.append(FeedSource(name=name, url=url, tags=tuple(x.strip() for x in tags),
                                  interval=interval, enabled=enabled,
                                  allow_internal=allow_internal, folder=folder))
        return tuple(out)

    def folder(self, k: str, raw: Any) -> str:
        """A feed's folder: a string, nested folders joined with "/" ("World/Europe"); the
        empty parts and spaces around them are dropped, so that one folder has one name."""
        if not isinstance(raw, str) or _CONTROL.search(raw):
            self.fail(f"{k}.folder", f"expected a folder name as a string, got {_show(raw)}")
        return folder_path(raw.split("/"))
