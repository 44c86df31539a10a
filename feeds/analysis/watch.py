"""Watch terms: alert on new items that match, and run the user's notify command once each.

``[watch]`` in the config::

    [watch]
    terms = ["ceasefire|cease fire|truce", "zaporizhzhia ~3 nuclear"]  # or a table:
    # [watch.terms]
    # Ceasefire = "ceasefire|cease fire|truce"
    exclude = ["truce talks collapse*"]      # optional: a match overlapping one is dropped
    bell = true                              # the dashboard and `poll --once` ring the bell
    notify_command = ["notify-send", "diplowatch"]
    notify_timeout = "10s"

Terms are patterns of the rules language (phrases, ``*``, ``|``, near ``A ~N B``), matched by
the same compiled engine as the classification rules, on the headline and the first 1,000
characters of the summary. The poller matches only items that are new to the store, so an
item alerts once, however often it is polled again.

``notify_command`` is an argument list, run without a shell, once per matching item, with
the item as JSON on its standard input (``Item.to_dict()`` plus ``"watch_terms"``). Feed
text never reaches its command line. Commands run one at a time on a background thread, so
a poll never waits for them; one that fails or outlives ``notify_timeout`` is killed and
logged, never fatal.
"""
from __future__ import annotations

import logging
import queue
import subprocess
import threading
from collections import deque
from dataclasses import dataclass, replace
from typing import Callable, Iterable

import orjson

from feeds.config.load import WatchSettings
from feeds.model import LABELS, Item, Match
from feeds.classify.rules import LabelRules, Rule, RulesSpec, parse_pattern

log = logging.getLogger("diplowatch.watch")

_CARRIER = LABELS[0]  # the rules engine needs a label to hang the watch terms on


@dataclass(frozen=True, slots=True)
class WatchHit:
    """A new item that matched watch terms."""

    item: Item
    terms: tuple[str, ...]  # names of the terms that matched, in config order
    evidence: tuple[Match, ...] = ()  # what matched where (Match.term is the term's name)

    def to_dict(self) -> dict:
        """The JSON a notify command reads on stdin."""
        d = self.item.to_dict()
        d["watch_terms"] = list(self.terms)
        return d


class WatchMatcher:
    """Compiled watch terms. ``match(item)`` → a :class:`WatchHit` or None."""

    def __init__(self, settings: WatchSettings) -> None:
        from feeds.classify.engine import Classifier

        self.settings = settings
        self.names = tuple(name for name, _ in settings.terms)
        # Each term's pattern gets its index as its source, so that two terms with the same
        # pattern under different names stay apart in the evidence.
        rules = tuple(Rule(_CARRIER, replace(parse_pattern(p, "watch.terms", near=None),
                                             source=str(i)), 1.0)
                      for i, (_, p) in enumerate(settings.terms))
        exclude = tuple(parse_pattern(p, "watch.exclude", near=None) for p in settings.exclude)
        labels = tuple(LabelRules(label, 1.0, rules if label == _CARRIER else (),
                                  exclude if label == _CARRIER else ())
                       for label in LABELS)
        self._classifier = Classifier(RulesSpec(1.0, 0.0, labels)) if rules else None

    @property
    def active(self) -> bool:
        return self._classifier is not None

    def match(self, item: Item) -> WatchHit | None:
        if self._classifier is None:
            return None
        found = self._classifier.classify(item.title, item.summary).evidence
        if not found:
            return None
        indexes = sorted({int(m.term) for m in found})
        evidence = tuple(replace(m, label="watch", term=self.names[int(m.term)]) for m in found)
        return WatchHit(item, tuple(dict.fromkeys(self.names[i] for i in indexes)), evidence)

    def hits(self, items: Iterable[Item]) -> list[WatchHit]:
        return [hit for hit in map(self.match, items) if hit is not None]


class Notifier:
    """Runs ``argv`` once per submitted hit, on one background thread, the hit's JSON on
    stdin. ``errors`` keeps the last failures (also logged); ``on_error`` is called with
    each, from the background thread."""

    def __init__(self, argv: Iterable[str], timeout: float = 10.0, *,
                 on_error: Callable[[str], None] | None = None) -> None:
        self.argv = tuple(argv)
        if not self.argv:
            raise ValueError("a notify command needs at least the program to run")
        self.timeout = timeout
        self.on_error = on_error
        self.errors: deque[str] = deque(maxlen=20)
        self.runs = 0  # commands started
        self._queue: queue.Queue[WatchHit | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, hits: Iterable[WatchHit]) -> None:
        hits = list(hits)
        if not hits:
            return
        with self._lock:
            if self._closed:
                raise RuntimeError("the notifier is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="diplowatch-notify",
                                                daemon=True)
                self._thread.start()
        for hit in hits:
            self._queue.put(hit)

    def wait(self) -> None:
        """Block until every submitted hit has been handled."""
        self._queue.join()

    def close(self, timeout: float | None = None) -> None:
        """Handle what is queued (waiting at most ``timeout`` seconds), then stop."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            hit = self._queue.get()
            try:
                if hit is None:
                    return
                self._notify(hit)
            finally:
                self._queue.task_done()

    def _notify(self, hit: WatchHit) -> None:
        self.runs += 1
        payload = orjson.dumps(hit.to_dict())
        try:
            proc = subprocess.run(self.argv, input=payload, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, timeout=self.timeout, shell=False,
                                  close_fds=True, check=False)
        except FileNotFoundError:
            self._fail(f"notify command not found: {self.argv[0]!r}")
        except subprocess.TimeoutExpired:
            self._fail(f"notify command {self.argv[0]!r} was stopped after "
                       f"{self.timeout:g} s (item {hit.item.id})")
        except OSError as e:
            self._fail(f"notify command {self.argv[0]!r} could not run: {e.strerror or e}")
        else:
            if proc.returncode != 0:
                detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
                self._fail(f"notify command {self.argv[0]!r} exited with status "
                           f"{proc.returncode} (item {hit.item.id})"
                           + (f": {detail[-1][:200]}" if detail else ""))

    def _fail(self, message: str) -> None:
        log.warning("%s", message)
        self.errors.append(message)
        if self.on_error is not None:
            try:
                self.on_error(message)
            except Exception:  # a broken callback must not stop the notifier
                log.exception("notify error callback failed")
