"""The daemon's control channel: newline-delimited JSON over a Unix socket in the store.

One writer (``diplowatch daemon``) owns the store; viewers (dashboards, browser tabs, CLI
commands) read the store themselves and send what would be a write to the daemon:

    request                                              answer (one line)
    {"op": "status"}                                     {"ok": true, "pid": …, "generation": …, …}
    {"op": "mark", "ids": [id…], "read": b, "starred": b} {"ok": true, "marked": n}  (saved)
    {"op": "label", "id": id, "labels": [label…]}        {"ok": true, "labels": […], "at": t} (saved)
    {"op": "poll", "feeds": [name|key…] | null, "force": b} {"ok": true, "queued": true}
    {"op": "enable", "feed": name|key, "enabled": b}     {"ok": true, "config": path, "created": b}
    {"op": "subscribe"}                                  {"ok": true, "generation": n}, then events:
        {"event": "changed", "generation": n}            the daemon saved (reload the store)
        {"event": "poll-started", "due": n, "what": s}   a cycle began
        {"event": "poll-finished", "new": n, "failed": n, "feeds": n, "error": s|null}
        {"event": "config", "path": p}                   the feed list changed
        {"event": "bye"}                                 the daemon is stopping

A refused request answers ``{"ok": false, "error": "…"}``. Requests are checked here for shape
and size (:func:`parse_request`); the daemon checks that ids and feeds exist. The socket is
mode 0600 in the store directory (itself 0700) and the server also refuses peers of another
uid (SO_PEERCRED): the channel is for the store's owner on this machine only.

Browser tabs (``diplowatch serve``) say so in every request (``"tab": "readonly"`` or
``"writable"``, from $DIPLOWATCH_TAB): a read-only tab may only ask for status and subscribe,
tabs together may ask for one poll per TAB_POLL_EVERY seconds (visitors cannot make the daemon
hammer publishers), and tabs never take the last LOCAL_SLOTS connections (a full house of tabs
cannot lock the owner's command line and dashboards out).

No textual, no rich; nothing here touches the store.
"""
from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Iterator

from feeds.lazy import LazyModule
from feeds.model import LABELS
from feeds.redact import redact_text
from feeds.service.socket_path import SOCKET_NAME, control_socket_path  # also imported from here

if TYPE_CHECKING:
    import asyncio
else:  # the server's (the daemon has it loaded); a client, a one-shot command, never needs it
    asyncio = LazyModule("asyncio")

log = logging.getLogger("diplowatch.control")

MAX_LINE = 256 * 1024  # bytes per request line: 10 000 ids fit with room to spare
MAX_IDS = 10_000  # ids per mark request ("mark all read" on a pane sends a page at a time)
MAX_FEEDS = 1_000  # feeds named in one poll request
MAX_NAME = 2_000  # characters of a feed name or URL
MAX_CLIENTS = 64  # connections served at once (viewers subscribe: one each)
IDLE_TIMEOUT = 30.0  # seconds a non-subscribed connection may stay silent
MAX_PER_UID = MAX_CLIENTS - 8  # connections of one user: the rest stays open to the others
DRAIN_TIMEOUT = 10.0  # seconds a subscriber may leave its events unread before it is dropped
MAX_DEPTH = 32  # nesting of a request's JSON (a request is two levels deep)
QUEUE_LIMIT = 256  # events buffered per subscriber; a viewer that falls behind is dropped
CONNECT_TIMEOUT = 1.0
REQUEST_TIMEOUT = 5.0
TAB_ENV = "DIPLOWATCH_TAB"  # set by `serve` in a browser tab's process
TAB_MODES = ("readonly", "writable")
LOCAL_SLOTS = 16  # of MAX_CLIENTS, never given to browser tabs
TAB_POLL_EVERY = 30.0  # seconds between poll requests from browser tabs, all tabs together

OPS = ("status", "mark", "label", "poll", "enable", "subscribe")
_ITEM_ID = re.compile(r"[0-9a-f]{16}")
_FIELDS = {"status": set(), "subscribe": set(), "mark": {"ids", "read", "starred"},
           "label": {"id", "labels"}, "poll": {"feeds", "force"}, "enable": {"feed", "enabled"}}


class ControlError(Exception):
    """The daemon refused a request (``str()`` is its reason, for the user)."""


class DaemonUnavailable(ControlError):
    """No daemon answers on the store's control socket (not running, stopped or hung)."""


class RequestError(ValueError):
    """A request that is malformed, too large or names an unknown item or feed."""


# --- where the socket lives --------------------------------------------------------------

def _private_dir(directory: Path) -> None:
    """Make sure the fallback socket folder is ours alone (0700, not a symlink)."""
    try:
        directory.mkdir(mode=0o700, exist_ok=True)
    except OSError as e:
        raise OSError(f"cannot create {directory}: {e.strerror or e}") from None
    st = os.lstat(directory)
    if not os.path.isdir(directory) or os.path.islink(directory) or st.st_uid != os.getuid():
        raise OSError(f"{directory} is not a private folder of this user: refusing to put "
                      "the control socket there")
    if st.st_mode & 0o077:
        os.chmod(directory, 0o700)


# --- requests ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Request:
    op: str
    ids: tuple[str, ...] = ()
    read: bool | None = None
    starred: bool | None = None
    feeds: tuple[str, ...] | None = None
    force: bool = True
    feed: str = ""
    enabled: bool = True
    tab: str | None = None  # a browser tab's mode (TAB_MODES); None: the owner's own tools
    labels: tuple[str, ...] = ()  # label: the item's labels set by hand (ids[0])

    def to_json(self) -> dict[str, Any]:
        if self.op == "mark":
            return {"op": "mark", "ids": list(self.ids), "read": self.read, "starred": self.starred}
        if self.op == "label":
            return {"op": "label", "id": self.ids[0], "labels": list(self.labels)}
        if self.op == "poll":
            return {"op": "poll", "feeds": None if self.feeds is None else list(self.feeds),
                    "force": self.force}
        if self.op == "enable":
            return {"op": "enable", "feed": self.feed, "enabled": self.enabled}
        return {"op": self.op}


def _optional_bool(data: dict[str, Any], key: str) -> bool | None:
    value = data.get(key)
    if value is not None and not isinstance(value, bool):
        raise RequestError(f"{key} must be true, false or null")
    return value


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME:
        raise RequestError(f"{what} must be a non-empty string of at most {MAX_NAME} characters")
    return value


def parse_request(line: bytes | str) -> Request:
    """One request line → a checked :class:`Request` (RequestError says what is wrong)."""
    if isinstance(line, bytes) and len(line) > MAX_LINE:
        raise RequestError(f"request too large (more than {MAX_LINE} bytes)")
    if _nesting(line) > MAX_DEPTH:  # json.loads would recurse (RecursionError) before failing
        raise RequestError(f"request nested more than {MAX_DEPTH} levels deep")
    try:
        data = json.loads(line)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise RequestError("not a JSON request") from None
    if not isinstance(data, dict):
        raise RequestError("a request is a JSON object")
    tab = data.pop("tab", None)  # any op may come from a browser tab
    if tab is not None and tab not in TAB_MODES:
        raise RequestError(f"tab must be one of: {', '.join(TAB_MODES)}")
    request = _parse_fields(data)
    return request if tab is None else replace(request, tab=tab)


def _parse_fields(data: dict[str, Any]) -> Request:
    op = data.get("op")
    if op not in _FIELDS:
        raise RequestError(f"unknown op {op!r} (known: {', '.join(OPS)})")
    extra = set(data) - {"op"} - _FIELDS[op]
    if extra:
        raise RequestError(f"{op}: unknown field(s) {', '.join(sorted(map(str, extra)))}")
    if op == "mark":
        ids = data.get("ids")
        if not isinstance(ids, list) or not ids:
            raise RequestError("mark: ids must be a non-empty list")
        if len(ids) > MAX_IDS:
            raise RequestError(f"mark: at most {MAX_IDS} ids per request")
        if not all(isinstance(i, str) and _ITEM_ID.fullmatch(i) for i in ids):
            raise RequestError("mark: every id is 16 lowercase hex digits")
        read, starred = _optional_bool(data, "read"), _optional_bool(data, "starred")
        if read is None and starred is None:
            raise RequestError("mark: set read and/or starred")
        return Request("mark", ids=tuple(dict.fromkeys(ids)), read=read, starred=starred)
    if op == "label":
        return _parse_label(data)
    if op == "poll":
        feeds = data.get("feeds")
        if feeds is not None:
            if not isinstance(feeds, list) or not feeds or len(feeds) > MAX_FEEDS:
                raise RequestError(f"poll: feeds must be null or a list of 1 to {MAX_FEEDS} names")
            feeds = tuple(_name(f, "poll: a feed") for f in feeds)
        force = data.get("force", True)
        if not isinstance(force, bool):
            raise RequestError("poll: force must be true or false")
        return Request("poll", feeds=feeds, force=force)
    if op == "enable":
        enabled = data.get("enabled")
        if not isinstance(enabled, bool):
            raise RequestError("enable: enabled must be true or false")
        return Request("enable", feed=_name(data.get("feed"), "enable: feed"), enabled=enabled)
    return Request(op)


def _parse_label(data: dict[str, Any]) -> Request:
    item_id, labels = data.get("id"), data.get("labels")
    if not isinstance(item_id, str) or not _ITEM_ID.fullmatch(item_id):
        raise RequestError("label: id is 16 lowercase hex digits")
    if not isinstance(labels, list) or not all(lbl in LABELS for lbl in labels):
        raise RequestError(f"label: labels must be a list of {', '.join(LABELS)} (empty: none)")
    return Request("label", ids=(item_id,), labels=tuple(lbl for lbl in LABELS if lbl in labels))


def _nesting(line: bytes | str) -> int:
    """An upper bound of the JSON nesting depth (brackets inside strings count too); 0 when
    the line has too few brackets to go past MAX_DEPTH (then it is not counted)."""
    text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
    if text.count("[") + text.count("{") <= MAX_DEPTH:  # every sane request: no scan
        return 0
    depth = most = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            most = max(most, depth)
        elif ch in "]}":
            depth -= 1
    return most


def _encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"


def _encode_out(message: dict[str, Any]) -> bytes:
    """An answer or event the daemon sends: no URL credentials, whatever field holds one."""
    text = json.dumps(message, separators=(",", ":"), ensure_ascii=False)
    return redact_text(text).encode("utf-8") + b"\n"


# --- the server (inside the daemon's event loop) --------------------------------------------

Handler = Callable[[Request], Awaitable[dict[str, Any]]]


@dataclass(eq=False)
class _Connection:
    tab: bool = False  # counted among the browser tabs' connections


@dataclass(eq=False)
class _Subscriber:
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))


class ControlServer:
    """Serves :class:`Request` s to ``handler`` (which returns the answer's fields, or raises
    RequestError / ControlError to refuse) and streams :meth:`publish` ed events to
    subscribers. ``start()`` and ``close()`` run on the daemon's loop."""

    def __init__(self, path: Path, handler: Handler, *,
                 subscribed: Callable[[], dict[str, Any]] | None = None) -> None:
        self.path = path
        self.handler = handler
        self.subscribed = subscribed or (lambda: {})  # fields of the subscribe answer
        self._server: asyncio.AbstractServer | None = None
        self._subscribers: set[_Subscriber] = set()
        self._tasks: set[asyncio.Task] = set()
        self._clients = 0
        self._per_uid: dict[int, int] = {}  # connections per peer uid
        self._tabs = 0  # connections of browser tabs (at most MAX_CLIENTS - LOCAL_SLOTS)
        self._tab_poll_at = -math.inf  # monotonic time of the last poll a tab asked for

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    async def start(self) -> None:
        """Bind the socket (0600). The caller holds the store's writer lock, so a socket
        file left by a killed daemon is stale and is replaced."""
        if self.path.name != SOCKET_NAME:  # the fallback folder for a deep store
            _private_dir(self.path.parent)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        old_umask = os.umask(0o177)  # no window in which the socket is open to others
        try:
            self._server = await asyncio.start_unix_server(self._serve, path=str(self.path),
                                                           limit=MAX_LINE + 2)
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o600)

    def publish(self, event: dict[str, Any]) -> None:
        """Queue an event for every subscriber; one that cannot keep up is disconnected
        (it reconnects and reloads, which is all it would have done with the backlog)."""
        for sub in list(self._subscribers):
            try:
                sub.queue.put_nowait(event)
            except asyncio.QueueFull:
                self._subscribers.discard(sub)
                with contextlib.suppress(asyncio.QueueFull):
                    sub.queue.get_nowait()
                    sub.queue.put_nowait(None)  # → the writer closes the connection

    async def close(self) -> None:
        """Say bye to subscribers, stop listening, remove the socket file."""
        self.publish({"event": "bye"})
        for sub in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                sub.queue.put_nowait(None)
        if self._server is not None:
            self._server.close()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=1.0)
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._clients += 1
        conn = _Connection()
        uid = _peer_uid(writer)
        self._per_uid[uid] = self._per_uid.get(uid, 0) + 1
        try:
            if uid not in (os.getuid(), 0, -1):
                log.warning("control: refused a connection from another user")
                return
            if self._clients > MAX_CLIENTS or self._per_uid[uid] > MAX_PER_UID:
                log.warning("control: refused a connection: %d open (%d of uid %d)",
                            self._clients - 1, self._per_uid[uid] - 1, uid)
                writer.write(_encode({"ok": False, "error": "too many connections"}))
                await _linger(reader, writer)
                return
            await self._requests(reader, writer, conn)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._clients -= 1
            self._per_uid[uid] -= 1
            if not self._per_uid[uid]:
                del self._per_uid[uid]
            if conn.tab:
                self._tabs -= 1
            if task is not None:
                self._tasks.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    async def _requests(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                        conn: _Connection) -> None:
        while True:
            try:
                async with asyncio.timeout(IDLE_TIMEOUT):  # (no task per line, as wait_for makes)
                    line = await reader.readline()
            except (ValueError, asyncio.LimitOverrunError):
                log.warning("control: refused a request larger than %d bytes", MAX_LINE)
                writer.write(_encode({"ok": False,
                                      "error": f"request too large (more than {MAX_LINE} bytes)"}))
                await writer.drain()
                return
            except asyncio.TimeoutError:
                return
            if not line:
                return
            if not line.strip():
                continue
            try:
                request = parse_request(line)
                if request.tab is not None and not self._admit_tab(conn):
                    writer.write(_encode({"ok": False, "error": "too many browser tabs are "
                                          "connected to the daemon (the rest is kept for the "
                                          "local command line)"}))
                    await writer.drain()
                    return  # closed at once: its connection slot is free again
                self._check_tab(request)
                if request.op == "subscribe":
                    await self._stream(reader, writer)
                    return
                answer = {"ok": True, **await self.handler(request)}
            except RequestError as e:  # malformed: one line in the log, never a traceback
                log.warning("control: refused a request: %s", e)
                answer = {"ok": False, "error": str(e)}
            except ControlError as e:
                answer = {"ok": False, "error": str(e)}
            except Exception as e:  # noqa: BLE001 - a bug costs one request, not the daemon
                log.exception("control: %s failed", line[:200])
                answer = {"ok": False, "error": f"internal error: {e.__class__.__name__}: {e}"}
            writer.write(_encode_out(answer))
            await writer.drain()

    def _admit_tab(self, conn: _Connection) -> bool:
        """Count a browser tab's connection once; False when tabs hold all but LOCAL_SLOTS."""
        if conn.tab:
            return True
        if self._tabs >= MAX_CLIENTS - LOCAL_SLOTS:
            log.warning("control: refused a browser tab (%d tab connections)", self._tabs)
            return False
        self._tabs += 1
        conn.tab = True
        return True

    def _check_tab(self, request: Request) -> None:
        """Refuse (ControlError) what a browser tab may not ask for now."""
        if request.tab is None or request.op in ("status", "subscribe"):
            return
        if request.tab != "writable":
            raise ControlError(f"read-only browser tab: {request.op} is not allowed (`diplowatch "
                               "serve --allow-writes` allows marks, labels, polls and feed "
                               "changes)")
        if request.op == "poll":
            now = time.monotonic()
            wait = self._tab_poll_at + TAB_POLL_EVERY - now
            if wait > 0:
                raise ControlError(f"rate-limited, try in {math.ceil(wait)} s (browser tabs may "
                                   f"ask for one poll every {TAB_POLL_EVERY:g} s)")
            self._tab_poll_at = now

    async def _stream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sub = _Subscriber()
        self._subscribers.add(sub)
        try:
            writer.write(_encode({"ok": True, **self.subscribed()}))
            await writer.drain()
            # The viewer sends nothing more; its EOF (or the daemon stopping) ends the stream.
            hangup = asyncio.ensure_future(reader.read(1))
            try:
                while True:
                    get = asyncio.ensure_future(sub.queue.get())
                    done, _ = await asyncio.wait({get, hangup}, return_when=asyncio.FIRST_COMPLETED)
                    if get not in done:
                        get.cancel()
                        return
                    event = get.result()
                    if event is None:
                        return
                    writer.write(_encode_out(event))
                    try:  # a viewer that stopped reading must not hold its slot forever
                        await asyncio.wait_for(writer.drain(), DRAIN_TIMEOUT)
                    except asyncio.TimeoutError:
                        log.warning("control: dropped a subscriber that stopped reading")
                        return
            finally:
                hangup.cancel()
        finally:
            self._subscribers.discard(sub)


async def _linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Let a refused client read its answer: closing with its request unread would reset
    the connection before the answer is read."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(writer.drain(), 1.0)
        await asyncio.wait_for(reader.read(MAX_LINE), 1.0)


def _peer_uid(writer: asyncio.StreamWriter) -> int:
    """The peer's uid (SO_PEERCRED); -1 where the platform cannot tell (the socket's mode
    0600 is the guard there), -2 when asking failed (refused)."""
    sock = writer.get_extra_info("socket")
    if sock is None or not hasattr(socket, "SO_PEERCRED"):
        return -1
    try:
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except OSError:
        return -2
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid


# --- the client (viewers, CLI; blocking, any thread) ----------------------------------------

class ControlClient:
    """Talks to the daemon of a store. Every call has a short timeout and raises
    DaemonUnavailable when nobody answers, ControlError when the daemon refuses."""

    def __init__(self, store_path: Path | str, *, timeout: float = REQUEST_TIMEOUT,
                 connect_timeout: float = CONNECT_TIMEOUT) -> None:
        self.store_path = Path(store_path).expanduser()
        self.socket_path = control_socket_path(self.store_path)
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.tab = tab_mode()

    def _message(self, request: Request) -> bytes:
        """The request's line, marked as a browser tab's when this process is one."""
        data = request.to_json()
        if self.tab is not None:
            data["tab"] = self.tab
        return _encode(data)

    def _connect(self) -> socket.socket:
        try:
            owner = os.lstat(self.socket_path).st_uid
        except OSError:
            owner = os.getuid()  # missing: connect() says so below
        if owner not in (os.getuid(), 0):
            raise DaemonUnavailable(f"{self.socket_path} belongs to another user: not talking "
                                    "to it")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.connect_timeout)
        try:
            sock.connect(str(self.socket_path))
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            raise DaemonUnavailable(f"no diplowatch daemon is running for the store "
                                    f"{self.store_path}") from None
        except (OSError, socket.timeout) as e:
            sock.close()
            raise DaemonUnavailable(f"cannot reach the diplowatch daemon of {self.store_path} "
                                    f"({e.strerror or e})") from None
        return sock

    def call(self, request: Request, *, timeout: float | None = None) -> dict[str, Any]:
        """Send one request; the daemon's answer (``ok`` true), else ControlError."""
        sock = self._connect()
        try:
            sock.settimeout(timeout or self.timeout)
            sock.sendall(self._message(request))
            answer = _read_line(sock)
        except socket.timeout:
            raise DaemonUnavailable(f"the diplowatch daemon of {self.store_path} did not answer "
                                    f"within {timeout or self.timeout:g} s") from None
        except OSError as e:
            raise DaemonUnavailable(f"the diplowatch daemon of {self.store_path} went away "
                                    f"({e.strerror or e})") from None
        finally:
            sock.close()
        if answer is None:
            raise DaemonUnavailable(f"the diplowatch daemon of {self.store_path} went away "
                                    "before answering")
        if not answer.get("ok"):
            raise ControlError(str(answer.get("error") or "refused"))
        return answer

    def status(self, *, timeout: float | None = None) -> dict[str, Any]:
        return self.call(Request("status"), timeout=timeout)

    def mark(self, ids: list[str] | tuple[str, ...], *, read: bool | None = None,
             starred: bool | None = None) -> int:
        """Set read/starred on items (all known, or nothing is marked); saved when it returns."""
        try:
            request = parse_request(json.dumps(
                Request("mark", ids=tuple(ids), read=read, starred=starred).to_json()))
        except RequestError as e:
            raise ControlError(str(e)) from None
        return int(self.call(request)["marked"])

    def set_labels(self, item_id: str, labels: list[str] | tuple[str, ...]) -> dict[str, Any]:
        """Set an item's labels by hand; saved when it returns: ``{"labels": […], "at": t}``."""
        try:
            line = json.dumps({"op": "label", "id": item_id, "labels": list(labels)})
            request = parse_request(line)
        except RequestError as e:
            raise ControlError(str(e)) from None
        return self.call(request)

    def poll_now(self, feeds: list[str] | tuple[str, ...] | None = None, *,
                 force: bool = True) -> dict[str, Any]:
        """Ask for a poll cycle (queued behind a running one); progress comes as events.
        The answer's ``cycle`` is the serial of the cycle that will serve the request."""
        return self.call(Request("poll", feeds=None if feeds is None else tuple(feeds), force=force))

    def poll_and_wait(self, feeds: list[str] | tuple[str, ...] | None = None, *,
                      force: bool = True) -> dict[str, Any]:
        """Ask for a poll cycle and wait until it is saved: its ``poll-finished`` event."""
        subscription = self.subscribe()  # first: the cycle's events cannot be missed
        try:
            serial = int(self.poll_now(feeds, force=force).get("cycle") or 0)
            for event in subscription:
                if event.get("event") == "poll-finished" and int(event.get("cycle") or 0) >= serial:
                    return event
                if event.get("event") == "bye":
                    break
        finally:
            subscription.close()
        raise DaemonUnavailable(f"the diplowatch daemon of {self.store_path} stopped before "
                                "the poll cycle finished")

    def set_enabled(self, feed: str, enabled: bool) -> dict[str, Any]:
        """Enable/disable a feed in the daemon's config; ``{"config": path, "created": b}``."""
        return self.call(Request("enable", feed=feed, enabled=enabled), timeout=self.timeout * 2)

    def subscribe(self) -> "Subscription":
        return Subscription(self)


def tab_mode() -> str | None:
    """This process's browser-tab mode ($DIPLOWATCH_TAB); an unknown value reads as read-only."""
    mode = os.environ.get(TAB_ENV)
    if not mode:
        return None
    return mode if mode in TAB_MODES else "readonly"


class Subscription:
    """The event stream: ``first`` is the subscribe answer; iterate for events. Iteration
    ends when the daemon goes away; ``close()`` (from any thread) ends it too."""

    def __init__(self, client: ControlClient) -> None:
        self.client = client
        self._sock = client._connect()
        self._lock = threading.Lock()
        self._buffer = b""
        try:
            self._sock.settimeout(client.timeout)
            self._sock.sendall(client._message(Request("subscribe")))
            first = _read_line(self._sock, self)
        except (OSError, socket.timeout):
            self.close()
            raise DaemonUnavailable(f"the diplowatch daemon of {client.store_path} did not "
                                    "accept a subscription") from None
        if first is None or not first.get("ok"):
            self.close()
            raise DaemonUnavailable(f"the diplowatch daemon of {client.store_path} did not "
                                    "accept a subscription")
        self.first = first
        self._sock.settimeout(None)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        while True:
            try:
                event = _read_line(self._sock, self)
            except OSError:
                return
            if event is None:
                return
            yield event

    def close(self) -> None:
        with self._lock:
            sock, self._sock = self._sock, None  # type: ignore[assignment]
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def _read_line(sock: socket.socket | None, keep: Subscription | None = None) -> dict[str, Any] | None:
    """One JSON line from the socket (None at EOF). ``keep`` holds bytes read past it."""
    buffer = keep._buffer if keep is not None else b""
    while b"\n" not in buffer:
        if sock is None:
            return None
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buffer += chunk
        if len(buffer) > MAX_LINE * 4:
            raise OSError("answer too large")
    line, _, rest = buffer.partition(b"\n")
    if keep is not None:
        keep._buffer = rest
    try:
        value = json.loads(line)
    except ValueError:
        raise OSError("not a JSON answer") from None
    return value if isinstance(value, dict) else None
