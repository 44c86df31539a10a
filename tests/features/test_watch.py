"""Watch terms: matching, config validation, and a hit that is reported and notified exactly
once, through a real subprocess, across re-polls and restarts."""
from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

import pytest

from feeds.classify.evaluate import read_tsv
from feeds.config.load import ConfigError, WatchSettings, load_config
from feeds.parse.pool import ParsePool
from feeds.poll.poller import Poller
from feeds.analysis.notify import Notifier
from feeds.analysis.watch import WatchHit, WatchMatcher
from storage.store import Store
from tests.feedserver import FeedServer, Response, rfc822, rss, rss_item
from tests.features.conftest import HOUR, T0, make_item

WIRES = Path(__file__).resolve().parents[1] / "data" / "wires"


def matcher(*terms: str | tuple[str, str], exclude: tuple[str, ...] = ()) -> WatchMatcher:
    pairs = tuple(t if isinstance(t, tuple) else (t, t) for t in terms)
    return WatchMatcher(WatchSettings(terms=pairs, exclude=exclude))


def test_terms_phrases_wildcards_near_and_names() -> None:
    m = matcher(("Ceasefire", "ceasefire|cease fire|truce"), "prisoner exchange*",
                ("Nuclear plant", "zaporizhzhia ~3 plant"))
    hit = m.match(make_item("Truce holds as prisoner exchanges begin"))
    assert hit is not None and hit.terms == ("Ceasefire", "prisoner exchange*")
    assert [(e.term, e.text, e.field) for e in hit.evidence] == [
        ("Ceasefire", "Truce", "title"), ("prisoner exchange*", "prisoner exchanges", "title")]
    hit = m.match(make_item("Drone hits training centre",
                            summary="A strike near the Zaporizhzhia nuclear power plant."))
    assert hit.terms == ("Nuclear plant",) and hit.evidence[0].field == "summary"
    assert m.match(make_item("Talks in Geneva")) is None


def test_exclusions_and_word_boundaries() -> None:
    m = matcher("ceasefire", exclude=("ceasefire violation*",))
    assert m.match(make_item("Ceasefire violations reported")) is None
    assert m.match(make_item("Ceasefire agreed; earlier ceasefire violations")) is not None
    assert m.match(make_item("Ceasefires are rare")) is None  # whole words, as in the rules


def test_two_names_for_one_pattern_stay_apart() -> None:
    m = matcher(("A", "truce"), ("B", "truce"))
    assert m.match(make_item("Truce")).terms == ("A", "B")


def test_items_without_a_terms_words_skip_the_scan_and_the_rest_match_as_before() -> None:
    """Each term's words are looked for as plain substrings before the engine's scan; an
    item that lacks them all cannot match. What matches is what the scan alone finds."""
    m = matcher(("Truce", "ceasefire|cease fire|truce"), ("Swap", "exchang*|swap* ~3 prisoner*|pow"),
                ("Kremlin", "kremlin's"), ("Caps", "=US ~2 envoy"))
    items = [
        make_item("Envoys meet in Geneva"),  # none of the words
        make_item("Talks", summary="A CEASE-FIRE was agreed at dawn"),  # in the summary
        make_item("Prisoners exchanged under a deal"),  # a stem, and the near pair
        make_item("Power cuts across the capital"),  # "pow" is in "Power", no whole word
        make_item("The Kremlin's line on the talks"),
        make_item("The Kremlin\u2019s line, again"),  # a curly apostrophe: not ASCII
        make_item("US envoy lands", summary="us envoy"),  # case-sensitive: the title only
        make_item("Cease\u2011fire holds"),  # not ASCII (a non-breaking hyphen): scanned
    ]
    hits = {hit.item.title: hit.terms for hit in m.hits(items)}
    assert hits == {"Talks": ("Truce",), "Prisoners exchanged under a deal": ("Swap",),
                    "The Kremlin's line on the talks": ("Kremlin",),
                    "The Kremlin\u2019s line, again": ("Kremlin",),
                    "US envoy lands": ("Caps",), "Cease\u2011fire holds": ("Truce",)}
    assert [e.field for e in m.match(items[6]).evidence] == ["title"]
    # A term that is not ASCII: every item goes to the scan.
    m = matcher("türkiye|ankara")
    assert m.match(make_item("Türkiye hosts a meeting")) is not None
    assert m.match(make_item("Officials in Ankara")) is not None
    assert m.match(make_item("Turkiye hosts a meeting")) is None


def test_the_substring_check_never_drops_a_hit_on_real_wires() -> None:
    terms = (("Truce", "ceasefire|cease fire|truce|armistice"),
             ("Swap", "exchang*|swap* ~3 prisoner*|pow|pows"), ("Talks", "talk* ~3> peace"),
             ("US sanctions", "u.s. ~5 sanction*"), ("EU sanctions", "=EU ~4 sanction*"),
             ("Deal", "o'brien|deal"))
    fast, scan_only = matcher(*terms), matcher(*terms)
    assert fast._needles  # (the check is on)
    scan_only._needles = None  # the engine's scan on every item
    items = [make_item(row.title, summary=row.text) for path in ("dev.tsv", "holdout.tsv")
             for row in read_tsv(WIRES / path)]
    found = [(h.item.id, h.terms, h.evidence) for h in fast.hits(items)]
    assert len(found) > 50
    assert found == [(h.item.id, h.terms, h.evidence) for h in scan_only.hits(items)]


def test_no_terms_no_matcher() -> None:
    m = WatchMatcher(WatchSettings())
    assert not m.active and m.match(make_item("Ceasefire")) is None


def test_hit_json_is_the_item_plus_its_terms() -> None:
    item = make_item("Ceasefire <b>now</b>", actors=("Russia",), source="Wire",
                     feed="https://a.example/rss")
    data = WatchHit(item, ("ceasefire",)).to_dict()
    assert data["title"] == "Ceasefire <b>now</b>" and data["watch_terms"] == ["ceasefire"]
    assert data["actors"] == ["Russia"] and data["id"] == item.id
    # The field names of every JSON output: feed is the name, feed_url the URL.
    assert (data["feed"], data["feed_url"]) == ("Wire", "https://a.example/rss")
    assert "source" not in data


# --- config ------------------------------------------------------------------------------------

def test_bundled_watch_settings(bundled) -> None:
    assert bundled.watch.bell is True and bundled.watch.notify_command == ()
    assert any("ceasefire" in p for _, p in bundled.watch.terms)


def test_a_table_names_the_terms(write_config) -> None:
    config = load_config(write_config(extra='[watch.terms]\nCeasefire = "ceasefire|truce"\n'))
    assert config.watch.terms == (("Ceasefire", "ceasefire|truce"),)


def test_an_error_in_a_named_term_points_at_its_line(write_config) -> None:
    path = write_config(extra='[watch.terms]\nCeasefire = "truce"\n"Bad one" = "a ~ b"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert path.read_text().splitlines()[err.value.line - 1].startswith('"Bad one"')
    assert 'watch.terms.Bad one' in str(err.value) and "'a ~ b'" in str(err.value)


@pytest.mark.parametrize("extra, key, problem", [
    ('[watch]\nnotify_command = "notify-send diplowatch"\n', "watch.notify_command",
     "never run through a shell"),
    ('[watch]\nnotify_command = ["notify-send", ""]\n', "watch.notify_command", "non-empty strings"),
    ('[watch]\nterms = ["neg*ate"]\n', "watch.terms", "'neg*ate': wildcard"),
    ('[watch]\nterms = "ceasefire"\n', "watch.terms", "expected an array of patterns"),
    ('[watch]\nexclude = ["a ~x b"]\n', "watch.exclude", "malformed near pattern"),
    ('[watch]\nbell = "yes"\n', "watch.bell", "true or false"),
    ('[watch]\nnotify_timeout = "soon"\n', "watch.notify_timeout", "duration"),
    ('[watch]\nsound = true\n', "watch.sound", "unknown key"),
])
def test_watch_config_errors_name_file_key_and_line(write_config, extra, key, problem) -> None:
    path = write_config(extra=extra)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}, line {err.value.line}, {key}: ") and problem in msg, msg


def test_cli_refuses_a_shell_string_with_exit_2(write_config, run_cli) -> None:
    r = run_cli(write_config(extra='[watch]\nnotify_command = "notify-send x"\n'), "poll", "--once")
    assert r.exit_code == 2 and "watch.notify_command" in r.output and "shell" in r.output


# --- the notify command ------------------------------------------------------------------------

# Appends one line per run: its argv and the JSON it read on stdin.
RECORDER = ("import json, sys; data = sys.stdin.buffer.read(); "
            "open(sys.argv[1], 'a', encoding='utf-8').write("
            "json.dumps({'argv': sys.argv[1:], 'item': json.loads(data)}) + '\\n')")


def recorder(path: Path) -> list[str]:
    return [sys.executable, "-c", RECORDER, str(path)]


def runs(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _toml_list(argv: list[str]) -> str:
    return "[" + ", ".join(json.dumps(a) for a in argv) + "]"


def _feed(*entries: tuple[str, str]) -> bytes:
    return rss([rss_item(title, guid=guid, link=f"https://news.example/{guid}", pub=rfc822(T0 - HOUR))
                for guid, title in entries])


@pytest.fixture
def own_pool():
    """``own_pool(config)``: parse workers built for this test from its config, closed at
    teardown (also when an assertion failed)."""
    pools: list[ParsePool] = []

    def make(config) -> ParsePool:
        pools.append(ParsePool(config.rules, workers=1, timeout=20, actors_spec=config.actors,
                               watch_spec=config.watch))
        return pools[-1]

    yield make
    for pool in pools:
        pool.close()


@pytest.mark.parametrize("in_workers", [True, False], ids=["matched-in-parse-workers", "matched-here"])
async def test_a_hit_is_reported_and_notified_exactly_once(
        tmp_path: Path, write_config, feed_server: FeedServer, tagging_pool, own_pool, clock,
        in_workers: bool) -> None:
    log = tmp_path / "notified.jsonl"
    feed_server.route("/a.xml", Response(body=_feed(("2", "Markets rally"))))
    config = load_config(write_config([("A", feed_server.url("/a.xml"))], extra=(
        '[watch]\nterms = ["ceasefire|truce", "hostage*"]\n'
        f"notify_command = {_toml_list(recorder(log))}\n")))
    if in_workers:  # as the app builds it: the workers match the terms, this process does not
        pool = own_pool(config)
    else:  # a pool without the terms: the poller matches them itself
        pool = tagging_pool
    seen = []

    def not_here(items):
        raise AssertionError("matched in the app's process")

    with Store.open(tmp_path / "s", clock=clock) as store:
        poller = Poller(config, store, clock=clock, parse_pool=pool)
        if in_workers:
            poller.watch.hits = not_here
        await poller.poll_cycle()  # the feed's first document: its backlog, not news
        feed_server.route("/a.xml", Response(body=_feed(("1", "Ceasefire agreed in Gaza; talks go on"),
                                                        ("2", "Markets rally"))))
        report = await poller.poll_cycle(force=True, on_feed=lambda o: seen.extend(o.watch_hits))
        assert [(h.item.title, h.terms) for h in report.watch_hits] == [
            ("Ceasefire agreed in Gaza; talks go on", ("ceasefire|truce",))]
        assert [h.item.id for h in seen] == [h.item.id for h in report.watch_hits]
        poller.notifier.wait()
        assert len(runs(log)) == 1
        # Polled again (the same document, then one with a new, unwatched item): no new hit.
        assert (await poller.poll_cycle(force=True)).watch_hits == []
        feed_server.route("/a.xml", Response(body=_feed(("3", "Grain prices fall"),
                                                        ("1", "Ceasefire agreed in Gaza; talks go on"),
                                                        ("2", "Markets rally"))))
        assert (await poller.poll_cycle(force=True)).watch_hits == []
        poller.close()
    with Store.open(tmp_path / "s", clock=clock) as store:  # a restart: still known, no alert
        feed_server.route("/a.xml", Response(body=_feed(("4", "Truce and hostage release"),
                                                        ("3", "Grain prices fall"),
                                                        ("1", "Ceasefire agreed in Gaza; talks go on"))))
        poller = Poller(config, store, clock=clock, parse_pool=pool)
        report = await poller.poll_cycle(force=True)
        assert [h.terms for h in report.watch_hits] == [("ceasefire|truce", "hostage*")]
        assert [m.term for m in report.watch_hits[0].evidence] == ["ceasefire|truce", "hostage*"]
        poller.close()  # waits for the command
    done = runs(log)
    assert [r["item"]["title"] for r in done] == ["Ceasefire agreed in Gaza; talks go on",
                                                   "Truce and hostage release"]
    # The command line is the configured one: feed text only ever arrives on stdin.
    assert all(r["argv"] == [str(log)] for r in done)
    assert done[1]["item"]["watch_terms"] == ["ceasefire|truce", "hostage*"]


def _hit(title: str = "Ceasefire") -> WatchHit:
    return WatchHit(make_item(title), ("ceasefire",))


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_a_failing_command_is_logged_not_fatal() -> None:
    errors: list[str] = []
    records = _Records()  # on the logger itself: the app's log setup stops propagation
    logger = logging.getLogger("diplowatch.watch")
    logger.addHandler(records)
    try:
        notifier = Notifier([sys.executable, "-c", "import sys; sys.stderr.write('boom'); sys.exit(3)"],
                            on_error=errors.append)
        notifier.submit([_hit(), _hit()])
        notifier.close()
    finally:
        logger.removeHandler(records)
    assert notifier.runs == 2 and len(errors) == 2
    assert "exited with status 3" in errors[0] and errors[0].endswith(": boom")
    assert records.messages == errors


def test_a_slow_command_is_stopped_and_does_not_block_the_caller() -> None:
    notifier = Notifier([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.3)
    started = time.monotonic()
    notifier.submit([_hit()])
    assert time.monotonic() - started < 0.2  # submit returns at once
    notifier.close()
    assert "stopped after 0.3 s" in notifier.errors[0]


def test_a_missing_program_is_reported() -> None:
    notifier = Notifier(["/nonexistent/diplowatch-notify"])
    notifier.submit([_hit()])
    notifier.close()
    assert "not found" in notifier.errors[0]


def test_cli_poll_prints_watch_hits(tmp_path: Path, write_config, feed_server: FeedServer, run_cli) -> None:
    feed_server.route("/a.xml", Response(body=_feed(("2", "Weather"))))
    config = write_config([("Wire", feed_server.url("/a.xml"))], extra='[watch]\nterms = ["truce"]\n')
    assert "watch " not in run_cli(config, "poll", "--once").output  # the feed's backlog
    feed_server.route("/a.xml", Response(body=_feed(("1", "Truce declared in Sudan"), ("2", "Weather"))))
    r = run_cli(config, "poll", "--once", "--all")
    assert r.exit_code == 0, r.output
    assert "watch         truce: Truce declared in Sudan (Wire)" in r.output.splitlines()
    assert "\a" not in r.output  # the bell only rings on a terminal
    assert "watch " not in run_cli(config, "poll", "--once", "--all").output


async def test_the_daemon_rebuilds_its_poller_when_the_watch_terms_change(
        tmp_path: Path, write_config, tagging_pool, clock) -> None:
    """Terms are matched by the poller's parse workers: new terms need a new poller (a feed
    list change keeps it, and its workers)."""
    from dataclasses import replace

    from feeds.service.daemon import Daemon

    config = load_config(write_config([("A", "http://127.0.0.1:9/a.xml")],
                                      extra='[watch]\nterms = ["ceasefire"]\n'))
    made: list[Poller] = []

    def make_poller(cfg):
        made.append(Poller(cfg, store, clock=clock, parse_pool=tagging_pool))
        return made[-1]

    with Store.open(tmp_path / "s", clock=clock) as store:
        daemon = Daemon(config, store, make_poller=make_poller, socket_path=tmp_path / "ctl.sock")
        daemon.poller = make_poller(config)
        await daemon._use_config(replace(config, feeds=config.feeds[:0]))
        assert len(made) == 1 and daemon.poller is made[0]
        await daemon._use_config(replace(config, watch=WatchSettings(terms=(("truce", "truce"),))))
        assert len(made) == 2 and daemon.poller is made[1]
        assert daemon.poller.watch.names == ("truce",)
        daemon.poller.close()


# --- a new feed's backlog ----------------------------------------------------------------------

def _dated(*entries: tuple[str, str, float]) -> bytes:
    return rss([rss_item(title, guid=guid, link=f"https://news.example/{guid}", pub=rfc822(ts))
                for guid, title, ts in entries])


async def test_a_new_feeds_backlog_is_stored_but_raises_no_alert(
        tmp_path: Path, write_config, feed_server: FeedServer, tagging_pool, clock) -> None:
    """Subscribing is not news: the first document of a feed alerts only on what it published
    after the poller met the feed; later polls alert as before."""
    log = tmp_path / "notified.jsonl"
    feed_server.route("/a.xml", Response(body=_dated(("1", "Truce in Sudan", T0 - HOUR),
                                                     ("2", "Truce in Yemen", T0 - 2 * HOUR))))
    feed_server.route("/b.xml", Response(500, b"down", content_type="text/plain"))
    config = load_config(write_config(
        [("A", feed_server.url("/a.xml")), ("B", feed_server.url("/b.xml"))],
        extra=f'[watch]\nterms = ["truce"]\nnotify_command = {_toml_list(recorder(log))}\n'))
    with Store.open(tmp_path / "s", clock=clock) as store:
        poller = Poller(config, store, clock=clock, parse_pool=tagging_pool)
        first = await poller.poll_cycle()  # B fails: it was met (added) at T0 all the same
        assert len(first.new_items) == 2 and first.news == [] and first.watch_hits == []
        clock.advance(2 * HOUR)
        feed_server.route("/b.xml", Response(body=_dated(("3", "Truce talks (old)", T0 - HOUR),
                                                         ("4", "Truce signed", T0 + HOUR))))
        feed_server.route("/a.xml", Response(body=_dated(("5", "Truce in Libya", T0 + HOUR),
                                                         ("1", "Truce in Sudan", T0 - HOUR))))
        second = await poller.poll_cycle(force=True)
        assert sorted(h.item.title for h in second.watch_hits) == ["Truce in Libya", "Truce signed"]
        assert sorted(it.title for it in second.news) == ["Truce in Libya", "Truce signed"]
        assert len(second.new_items) == 3  # the old item of B is stored all the same
        poller.close()
    assert sorted(r["item"]["title"] for r in runs(log)) == ["Truce in Libya", "Truce signed"]
