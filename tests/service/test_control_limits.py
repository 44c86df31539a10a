"""The control socket under hostile or careless clients: malformed and deeply nested requests
are logged in one line (no traceback), silent connections time out, one uid cannot take every
slot, and a subscriber that stops reading is dropped (a real server on a real Unix socket)."""
from __future__ import annotations

import asyncio
import json
import logging
import socket
from pathlib import Path

import pytest

from feeds.service import control
from feeds.service.control import ControlClient, ControlServer, Request


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def records():
    handler = _Records()
    logger = logging.getLogger("diplowatch.control")
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)


@pytest.fixture
async def server(tmp_path: Path):
    async def handler(request: Request) -> dict:
        return {"pong": True}

    srv = ControlServer(tmp_path / "control.sock", handler)
    await srv.start()
    yield srv
    await srv.close()


def _connect(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(str(path))
    return sock


def _exchange(path: Path, payload: bytes) -> list[dict]:
    with _connect(path) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return [json.loads(line) for line in data.splitlines()]


@pytest.mark.parametrize("payload", [
    b"[" * 100_000 + b"]" * 100_000 + b"\n",
    b'{"op": "mark", "ids": ' + b"[" * 5_000 + b"]" * 5_000 + b', "read": true}\n',
    b'{"op": "status", "x": ' + b'{"a":' * 5_000 + b"1" + b"}" * 5_000 + b"}\n",
    b"nonsense\n",
    b'{"op": "mark", "ids": "not a list", "read": true}\n',
], ids=["deep-array", "deep-ids", "deep-object", "not-json", "wrong-shape"])
async def test_a_malformed_request_is_one_log_line_not_a_traceback(
        server: ControlServer, records: list, payload: bytes) -> None:
    (answer,) = await asyncio.to_thread(_exchange, server.path, payload)
    assert answer["ok"] is False and "internal error" not in answer["error"]
    warnings = [r for r in records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "refused a request" in warnings[0].getMessage()
    assert all(r.exc_info is None for r in records)
    assert "\n" not in warnings[0].getMessage()
    assert (await asyncio.to_thread(ControlClient(server.path.parent).status))["pong"]


async def test_a_silent_connection_is_closed_after_the_idle_timeout(
        server: ControlServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control, "IDLE_TIMEOUT", 0.3)

    def silent() -> bytes:
        with _connect(server.path) as sock:
            return sock.recv(1)  # b"" once the server hangs up

    assert await asyncio.wait_for(asyncio.to_thread(silent), 5) == b""


async def test_one_uid_cannot_take_every_slot(server: ControlServer, records: list,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    assert control.MAX_CLIENTS - control.MAX_PER_UID >= 8  # room left for the others
    monkeypatch.setattr(control, "MAX_PER_UID", 3)
    held = [await asyncio.to_thread(_connect, server.path) for _ in range(3)]
    try:
        answers = await asyncio.to_thread(_exchange, server.path, b'{"op": "status"}\n')
        assert answers == [{"ok": False, "error": "too many connections"}]
        assert any("refused a connection" in r.getMessage() for r in records)
    finally:
        for sock in held:
            sock.close()
    await asyncio.sleep(0.2)  # the server notices the hang-ups
    (answer,) = await asyncio.to_thread(_exchange, server.path, b'{"op": "status"}\n')
    assert answer == {"ok": True, "pong": True}


async def test_a_subscriber_that_stops_reading_is_dropped(
        server: ControlServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control, "DRAIN_TIMEOUT", 0.3)
    sock = await asyncio.to_thread(_connect, server.path)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        sock.sendall(b'{"op": "subscribe"}\n')
        await asyncio.sleep(0.2)
        assert server.subscribers == 1
        big = {"event": "changed", "pad": "x" * 60_000}
        for _ in range(200):  # never read: the socket buffers fill, the drain stalls
            server.publish(big)
            await asyncio.sleep(0.005)
            if server.subscribers == 0:
                break
        for _ in range(100):
            if server.subscribers == 0:
                break
            await asyncio.sleep(0.05)
        assert server.subscribers == 0
    finally:
        sock.close()
