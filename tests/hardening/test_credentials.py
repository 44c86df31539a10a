"""Credentials in feed URLs (https://user:pass@host/feed) are sent to their host and shown
nowhere: `feeds list` (table, JSON), OPML export, notify payloads, feed health, control-socket
answers and events, logs. Real server, real files, the real CLI."""
from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from feeds.poll.health import feed_health
from feeds.model import FeedState, FeedStatus, FeedSource
from feeds.redact import redact_text, redact_url
from feeds.service.control import ControlClient, ControlServer, Request
from tests.feedserver import FeedServer, Response, rss, rss_item
from tui.cli.main import cli

REPO = Path(__file__).resolve().parents[2]
SECRET = "s3cret-Pa55"


@pytest.mark.parametrize("url,shown", [
    ("https://alice:pw@host/feed", "https://alice:***@host/feed"),
    ("https://token123@host/feed", "https://***@host/feed"),
    ("http://a:p@ss@host:8080/x?q=b@c", "http://a:***@host:8080/x?q=b@c"),
    ("https://host/feed", "https://host/feed"),
    ("https://host/path@x", "https://host/path@x"),
    ("/home/me@work/seed.xml", "/home/me@work/seed.xml"),
])
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_redact_text_finds_every_url_in_a_message() -> None:
    text = f"moved from https://a:{SECRET}@x.example/f to http://b:{SECRET}@y.example/ (HTTP 301)"
    assert SECRET not in redact_text(text) and redact_text(text).count(":***@") == 2


def _config(tmp_path: Path, url: str, notify_out: Path) -> Path:
    script = f"import sys; open({str(notify_out)!r}, 'ab').write(sys.stdin.buffer.read() + b'\\n')"
    path = tmp_path / "config.toml"
    path.write_text(textwrap.dedent(f"""\
        [polling]
        min_interval = "1s"
        parse_workers = 1
        [watch]
        notify_command = [{json.dumps(sys.executable)}, "-c", {json.dumps(script)}]
        [watch.terms]
        Talks = "talks"
        [[feeds]]
        name = "Private"
        url = "{url}"
        """), encoding="utf-8")
    return path


def test_the_cli_fetches_with_credentials_and_shows_them_nowhere(tmp_path: Path,
                                                                 feed_server: FeedServer) -> None:
    feed_server.route("/feed", Response(body=rss([rss_item("Weather", guid="g0")])))
    url = f"http://alice:{SECRET}@127.0.0.1:{feed_server.port}/feed"
    notify_out = tmp_path / "notify.jsonl"
    config = _config(tmp_path, url, notify_out)
    base = ["--config", str(config), "--db", str(tmp_path / "store")]
    run = CliRunner().invoke
    assert run(cli, base + ["poll", "--once", "--all"]).exit_code == 0  # the feed's backlog
    feed_server.route("/feed", Response(body=rss([rss_item("Peace talks resume", guid="g1")])))
    polled = run(cli, base + ["poll", "--once", "--all"])
    assert polled.exit_code == 0, polled.output
    (_, request) = feed_server.requests("/feed")
    assert request.headers["authorization"] == "Basic " + base64.b64encode(
        f"alice:{SECRET}".encode()).decode()
    outputs = {
        "poll": polled.output,
        "feeds list": run(cli, base + ["feeds", "list"]).output,
        "feeds list json": run(cli, base + ["feeds", "list", "--format", "json"]).output,
        "feeds export": run(cli, base + ["feeds", "export"]).output,
        "list json": run(cli, base + ["list", "--format", "json"]).output,
        "notify payload": notify_out.read_text(encoding="utf-8"),
    }
    for what, text in outputs.items():
        assert SECRET not in text, what
    assert json.loads(outputs["feeds list json"])[0]["feed_url"] == redact_url(url)
    assert "alice:***@" in outputs["feeds export"]
    assert json.loads(outputs["notify payload"].splitlines()[0])["feed_url"] == redact_url(url)
    assert SECRET in config.read_text()  # the config keeps what fetching needs


def test_feed_health_shows_no_credentials() -> None:
    url = f"https://alice:{SECRET}@old.example/feed"
    moved = f"https://alice:{SECRET}@new.example/feed"
    state = FeedState(key=url, url=moved, status=FeedStatus.ERROR, failures=2,
                      error=f"HTTP 500 at {moved}", failing_since="2026-01-01T00:00:00Z",
                      next_poll="2026-01-01T01:00:00Z", redirect_target=moved)
    health = feed_health(FeedSource("Private", url), state, 3, 1_767_225_600.0)
    assert SECRET not in json.dumps(health.to_dict())
    assert SECRET not in " ".join(map(str, (health.url, health.summary, health.error,
                                            health.redirect_pending, health.shown_key)))
    assert health.key == url  # the identity, for polling and toggling, not for display


async def test_control_answers_and_events_carry_no_credentials(tmp_path: Path) -> None:
    leaky = f"https://alice:{SECRET}@host.example/feed"

    async def handler(request: Request) -> dict:
        return {"error_of_a_feed": f"failed at {leaky}"}

    server = ControlServer(tmp_path / "control.sock", handler)
    await server.start()
    try:
        client = ControlClient(tmp_path)
        answer = await asyncio.to_thread(client.status)
        assert SECRET not in json.dumps(answer) and "alice:***@" in answer["error_of_a_feed"]
        subscription = await asyncio.to_thread(client.subscribe)
        server.publish({"event": "poll-finished", "failures": [["Private", "error", leaky]]})
        event = await asyncio.to_thread(next, iter(subscription))
        subscription.close()
        assert SECRET not in json.dumps(event) and event["event"] == "poll-finished"
    finally:
        await server.close()


def test_logs_carry_no_credentials(tmp_path: Path) -> None:
    """Whatever logs a URL (a message argument, a traceback), the log file has it redacted."""
    log = tmp_path / "app.log"
    code = textwrap.dedent(f"""
        import logging
        from pathlib import Path
        from tui.cli.logs import setup_logging
        setup_logging(path=Path({str(log)!r}), stderr=True)
        url = "https://alice:{SECRET}@host.example/feed"
        logging.getLogger("diplowatch.poll").warning("fetching %s", url)
        try:
            raise ValueError(url)
        except ValueError:
            logging.getLogger("diplowatch.daemon").exception("poll cycle failed")
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    text = log.read_text(encoding="utf-8")
    assert "alice:***@host.example" in text and "ValueError" in text
    assert SECRET not in text and SECRET not in done.stderr
