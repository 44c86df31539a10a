"""The daemon's control channel: newline-delimited JSON over a Unix socket in the store.

One writer (``diplowatch daemon``) owns the store; viewers (dashboards, browser tabs, CLI
commands) read the store themselves and send what would be a write to the daemon:

    request                                              answer (one line)
    {"op": "status"}                                     {"ok": true, "pid": …, "generation": …, …}
    {"op": "mark", "ids": [id…], "read": b, "starred": b} {"ok": true, "marked": n}  (saved)
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

No textual, no rich; nothing here touches the store.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import re
import socket
import struct
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterator

log = logging.getLogger("diplowatch.control")

SOCKET_NAME = "control.sock"
MAX_LINE = 256 * 1024  # bytes per request line: 10 000 ids fit with room to spare
MAX_IDS = 10_000  # ids per mark request ("mark all read" on a pane sends a page at a time)
MAX_FEEDS = 1_000  # feeds named in one poll request
MAX_NAME = 2_000  # characters of a feed name or URL
MAX_CLIENTS = 64  # connections served at once (viewers subscribe: one each)
IDLE_TIMEOUT = 30.0  # seconds a non-subscribed connection may stay silent
QUEUE_LIMIT = 256  # events buffered per subscriber; a viewer that falls behind is dropped
CONNECT_TIMEOUT = 1.0
REQUEST_TIMEOUT = 5.0
_SUN_PATH_MAX = 107  # sockaddr_un.sun_path holds 108 bytes with the NUL

OPS = ("status", "mark", "poll", "enable", "subscribe")
_ITEM_ID = re.compile(r"[0-9a-f]{16}")
_FIELDS = {"status": set(), "subscribe": set(), "mark": {"ids", "read", "starred"},
           "poll": {"feeds", "force"}, "enable": {"feed", "enabled"}}


class ControlError(Exception):
    """The daemon refused a request (``str()`` is its reason, for the user)."""


class DaemonUnavailable(ControlError):
    """No daemon answers on the store's control socket (not running, stopped or hung)."""


class RequestError(ValueError):
    """A request that is malformed, too large or names an unknown item or feed."""


# --- where the socket lives --------------------------------------------------------------

def control_socket_path(store_dir: Path | str) -> Path:
    """The control socket of a store: ``<store>/control.sock``.

    A Unix socket path is limited to 107 bytes; for a deeper store the socket goes to a
    private per-user folder under the temp dir, named by a hash of the store's real path,
    so the daemon and its viewers still derive the same path without asking anyone.
    """
    directory = Path(store_dir).expanduser()
    path = directory / SOCKET_NAME
    if len(os.fsencode(str(path.absolute()))) <= _SUN_PATH_MAX:
        return path.absolute()
    digest = hashlib.blake2b(os.fsencode(str(directory.resolve())), digest_size=8).hexdigest()
    return Path(tempfile.gettempdir()) / f"diplowatch-{os.getuid()}" / f"{digest}.sock"


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

    def to_json(self) -> dict[str, Any]:
        if self.op == "mark":
            return {"op": "mark", "ids": list(self.ids), "read": self.read, "starred": self.starred}
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
    try:
        data = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        raise RequestError("not a JSON request") from None
    if not isinstance(data, dict):
        raise RequestError("a request is a JSON object")
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


def _encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"


# --- the server (inside the daemon's event loop) --------------------------------------------

Handler = Callable[[Request], Awaitable[dict[str, Any]]]


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
        try:
            if not _same_user(writer):
                log.warning("control: refused a connection from another user")
                return
            if self._clients > MAX_CLIENTS:
                writer.write(_encode({"ok": False, "error": "too many connections"}))
                return
            await self._requests(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._clients -= 1
            if task is not None:
                self._tasks.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    async def _requests(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                line = await asyncio.wait_for(reader.readline(), IDLE_TIMEOUT)
            except (ValueError, asyncio.LimitOverrunError):
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
                if request.op == "subscribe":
                    await self._stream(reader, writer)
                    return
                answer = {"ok": True, **await self.handler(request)}
            except (RequestError, ControlError) as e:
                answer = {"ok": False, "error": str(e)}
            except Exception as e:  # noqa: BLE001 - a bug costs one request, not the daemon
                log.exception("control: %s failed", line[:200])
                answer = {"ok": False, "error": f"internal error: {e.__class__.__name__}: {e}"}
            writer.write(_encode(answer))
            await writer.drain()

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
                    writer.write(_encode(event))
                    await writer.drain()
            finally:
                hangup.cancel()
        finally:
            self._subscribers.discard(sub)


def _same_user(writer: asyncio.StreamWriter) -> bool:
    sock = writer.get_extra_info("socket")
    if sock is None or not hasattr(socket, "SO_PEERCRED"):
        return True  # not Linux: the socket's mode 0600 is the guard
    try:
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except OSError:
        return False
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid in (os.getuid(), 0)


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
            sock.sendall(_encode(request.to_json()))
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
            self._sock.sendall(_encode(Request("subscribe").to_json()))
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
