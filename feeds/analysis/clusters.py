"""Story clusters: the versions of one story from different feeds, found by their headlines.

A new item joins the cluster of the most similar indexed item that

- comes from another feed, and was published at most ``window`` (48 h) apart from it;
- shares *distinctive* words with it: at least ``min_shared`` (2) of them, and at least half
  of the distinctive words of the shorter headline. A distinctive word is not a stopword,
  not one of the generic words of diplomatic news ("talks", "sanctions", "says"…) and not an
  actor's alias (actors are compared as actors: "Moscow" and "Kremlin" both stand for
  Russia);
- offers at least ``min_shared`` independent pieces of evidence (:func:`evidence`): a phrase
  of shared words counts once ("Zaporizhzhia nuclear plant" is one name, not three clues;
  "Rosneft and Lukoil" are two), naming a common actor once more;
- scores at least ``threshold`` (60) on rapidfuzz ``token_set_ratio`` between the
  normalised headlines (diacritics folded, lowercased, stopwords dropped, crudely stemmed,
  aliases replaced by their actor);
- and does not contradict it (:func:`conflicting`): a number in each headline that the other
  lacks ("16th" / "17th" package, 300 / 390 prisoners), or a proper noun in each that the
  other lacks ("famine in Gaza" / "famine in Sudan"; a word of the other headline with the
  same first four letters counts as present: Sudan / Sudanese). Proper nouns are the
  capitalised words of a sentence-case headline; a Title Case headline gives none.

Otherwise the item starts a cluster of its own. ``Item.cluster`` is the cluster id: the id
of the cluster's first item (an item stored before clustering existed has ``cluster=None``
and reads as its own cluster, see :func:`cluster_of`). Clusters never merge with each other
and an item never changes cluster, so ids are stable.

The index (distinctive word → items) covers the items published within ``horizon`` (7 days)
and lives in memory only: it is rebuilt from the store's recent window at start-up
(:meth:`Clusterer.rebuild`), which is cheaper than keeping a second database in step.
Candidates are the items in at least two of the posting sets of the new item's distinctive
words, found by pairwise set intersections (in C): most of the index is never touched in
Python, and only the few items that pass the cheap tests are scored by rapidfuzz. A word in
more than ``MAX_POSTINGS`` indexed items, or a pair of words found together in more than
``MAX_PAIR``, names no particular story and yields no candidates on its own; this also
bounds the cost per new item.
"""
from __future__ import annotations

import calendar
import gc
import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Sequence

from feeds.classify.actors import ActorSpec, ActorTagger, fold
from feeds.config.load import ClusterSettings
from feeds.model import Item, utc_iso

# A word in more indexed items than this names no particular story: its postings are not read.
MAX_POSTINGS = 1500
# Shared distinctive words must be at least this share of the shorter headline's: two
# stories at one place ("Zaporizhzhia nuclear plant") share a long name and little else.
SHARED_FRACTION = 0.5
# Two words found together in more indexed items than this are a set phrase of the moment
# ("shadow fleet", "nuclear plant"), not two clues: they yield no candidates on their own
# (items sharing a third word with the new one are still found through it).
MAX_PAIR = 200

_STOPWORDS = frozenset("""
a an the and or but nor of in on at to for from by with without into onto over under after
before since until as than then about against between among amid amidst during per via near
vs versus is are was were be been being am has have had do does did will would shall should
can could may might must it its it's this that these those there here he she they them
their his her him we our us you your i me my who whom whose which what when where why how
not no yes all any some more most much many few each every both either neither other another
such only own same so too very just also still yet again ever now new up down out off
monday tuesday wednesday thursday friday saturday sunday today tonight yesterday tomorrow
""".split())

# Words of almost every diplomatic headline: never distinctive (compared stemmed).
_GENERIC_WORDS = """
say says said saying tell tells told report reports reported reportedly claim claims
talk talks meet meets meeting meetings met hold holds held holding
official officials leader leaders minister ministers president presidents prime
foreign government governments country countries state states nation nations national
war peace deal deals agree agrees agreed agreement plan plans
sanction sanctions sanctioned call calls called urge urges urged warn warns warned
discuss discusses discussed visit visits visited
news update live latest week weeks day days year years time times first second last next
announce announces announced according
"""


def _epoch(iso: str) -> float:
    """``feeds.model.parse_utc_iso`` without strptime (5x faster; a rebuild reads thousands)."""
    return float(calendar.timegm((int(iso[0:4]), int(iso[5:7]), int(iso[8:10]),
                                  int(iso[11:13]), int(iso[14:16]), int(iso[17:19]))))


def _stem(word: str) -> str:
    """A deliberately crude stemmer: both versions of a headline get the same treatment."""
    if len(word) > 4 and not word[-1].isdigit():
        if word.endswith("ies") and len(word) > 5:
            word = word[:-3] + "y"
        elif word.endswith("ing") and len(word) > 5:
            word = word[:-3]
        elif word.endswith("ed") and len(word) > 4:
            word = word[:-2]
        elif word.endswith("es") and len(word) > 4:
            word = word[:-1]
        elif word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        if word.endswith("e") and len(word) > 4:
            word = word[:-1]
    return word


_GENERIC = frozenset(_stem(w) for w in _GENERIC_WORDS.split())
_WORD = re.compile(r"\w+(?:['.]\w+)*")
_POSSESSIVE = re.compile(r"'s\b|'\B", re.I)
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True, slots=True)
class Signature:
    """What clustering knows about a headline."""

    text: str  # normalised: stems and actor tokens, in order (for rapidfuzz)
    stems: tuple[str, ...]  # the headline's words stemmed, in order; "" for a stopword or alias
    distinctive: tuple[str, ...]
    # Small tuples rather than sets: the index holds one Signature per item (memory).
    numbers: tuple[str, ...]
    proper: tuple[str, ...] | None  # None: a Title Case headline says nothing about this
    actors: tuple[str, ...] = ()  # canonical actors the headline names


_STOP, _ALIAS = "", None  # what a word is when it is no word of the story
_WORD_CACHE_MAX = 200_000


class Normaliser:
    """Headline → :class:`Signature`; actor aliases become one token per actor."""

    def __init__(self, actors: ActorSpec | None = None) -> None:
        self._tagger = ActorTagger(actors) if actors is not None and actors.actors else None
        self._alias_words = actors.alias_words if actors is not None else frozenset()
        # word as written, lowercased → its stem, "" (stopword) or None (alias word):
        # news repeats its vocabulary, so each word is looked at once.
        self._words: dict[str, str | None] = {}

    def _word(self, low: str) -> str | None:
        kind = self._words.get(low, False)
        if kind is False:
            if low in _STOPWORDS:
                kind = _STOP
            elif low in self._alias_words:
                kind = _ALIAS
            else:
                kind = _stem(low)
            if len(self._words) >= _WORD_CACHE_MAX:
                self._words.clear()
            self._words[low] = kind
        return kind

    def signature(self, title: str) -> Signature:
        folded = _POSSESSIVE.sub("", fold(title))  # fold straightens apostrophes
        actors = self._tagger.tag(title) if self._tagger is not None else ()
        stems: list[str] = []
        seq: list[str] = []
        distinctive: list[str] = []
        numbers: list[str] = []
        proper: list[str] = []
        capitalised = considered = 0
        for word in _WORD.findall(folded):
            stem = self._word(word.lower().replace(".", ""))
            if stem == _STOP:
                seq.append("")  # a stopword breaks a phrase
                continue
            upper = word[0].isupper()
            if not word[0].isdigit():
                considered += 1
                capitalised += upper
            if stem is _ALIAS:
                seq.append("")
                continue
            stems.append(stem)
            seq.append(stem)
            if not stem.isalpha() and _DIGIT.search(stem):
                numbers.append(stem)
            if stem not in _GENERIC:
                if upper:
                    proper.append(stem)
                if len(stem) > 1 and stem not in distinctive:
                    distinctive.append(stem)
        # Title Case: most words capitalised, so capitals say nothing about proper nouns.
        title_case = considered >= 3 and capitalised > 0.6 * considered
        tokens = stems + ["@" + a.lower().replace(" ", "_") for a in actors]
        return Signature(" ".join(tokens), tuple(seq), tuple(distinctive), tuple(numbers),
                         None if title_case else tuple(proper), actors)


@dataclass(eq=False, slots=True)
class _Entry:
    id: str
    feed: str
    ts: float
    cluster: str
    sig: Signature


def conflicting(a: Signature, b: Signature) -> bool:
    """Different numbers, or different proper nouns, on both sides."""
    if (a.numbers and b.numbers and any(n not in b.numbers for n in a.numbers)
            and any(n not in a.numbers for n in b.numbers)):
        return True
    if a.proper and b.proper:
        return bool(_unmatched(a.proper, b.distinctive) and _unmatched(b.proper, a.distinctive))
    return False


def _unmatched(proper: tuple[str, ...], other: tuple[str, ...]) -> bool:
    """A proper noun with no kin in the other headline. Kin share their first four letters,
    so that a country and its demonym (Sudan, Sudanese; Ukraine, Ukrainian) agree."""
    prefixes = {w[:4] for w in other}
    return any(p[:4] not in prefixes for p in proper)


def evidence(a: Signature, b: Signature) -> int:
    """Independent pieces of evidence that two headlines tell one story: each phrase of
    shared distinctive words (the larger count of separate runs of them in either headline:
    "Zaporizhzhia nuclear plant" is one name, not three clues; "Rosneft and Lukoil" are two),
    plus one for naming a common actor."""
    shared = set(a.distinctive) & set(b.distinctive)

    def runs(seq: tuple[str, ...]) -> int:
        n, inside = 0, False
        for stem in seq:
            hit = stem in shared
            n += hit and not inside
            inside = hit
        return n

    return max(runs(a.stems), runs(b.stems)) + any(x in b.actors for x in a.actors)


def _enough_words(shared: int, a: Signature, b: Signature, settings: ClusterSettings) -> bool:
    return (shared >= settings.min_shared
            and shared >= SHARED_FRACTION * min(len(a.distinctive), len(b.distinctive)))


@dataclass(frozen=True, slots=True)
class Comparison:
    """Every test of :func:`similar` on two headlines (``clusters explain``)."""

    same_story: bool
    score: float
    shared: tuple[str, ...]  # shared distinctive words
    evidence: int
    conflict: bool
    a: Signature
    b: Signature


def compare(a: Signature, b: Signature, settings: ClusterSettings) -> Comparison:
    from rapidfuzz import fuzz

    shared = tuple(w for w in a.distinctive if w in b.distinctive)
    score = fuzz.token_set_ratio(a.text, b.text)
    same, _ = similar(a, b, settings)
    return Comparison(same, score, shared, evidence(a, b), conflicting(a, b), a, b)


def similar(a: Signature, b: Signature, settings: ClusterSettings) -> tuple[bool, float]:
    """The merge test for two headlines (without the index): (same story?, score)."""
    shared = len(set(a.distinctive) & set(b.distinctive))
    if (not _enough_words(shared, a, b, settings) or conflicting(a, b)
            or evidence(a, b) < settings.min_shared):
        return False, 0.0
    from rapidfuzz import fuzz

    score = fuzz.token_set_ratio(a.text, b.text)
    return score >= settings.threshold, score


@dataclass
class Clusterer:
    """The incremental clusterer. Not thread-safe: the poller calls it from one task.

    ``assign(items, now)`` decides clusters for items about to be stored (returns copies
    with ``cluster`` set; the index is not changed); ``add(items, now)`` indexes items once
    stored. ``rebuild(items, now)`` starts over from stored items.
    """

    settings: ClusterSettings
    actors: ActorSpec | None = None
    _norm: Normaliser = field(init=False, repr=False)
    _entries: dict[str, _Entry] = field(init=False, repr=False, default_factory=dict)
    _postings: dict[str, set[_Entry]] = field(init=False, repr=False, default_factory=dict)
    _oldest: float = field(init=False, repr=False, default=0.0)
    _pending: dict[str, Signature] = field(init=False, repr=False, default_factory=dict)
    # (where the stored items come from, when): a rebuild waiting until the index is needed
    _source: tuple[Callable[[], Iterable[Item]], float] | None = field(
        init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        self._norm = Normaliser(self.actors)

    def __len__(self) -> int:
        return len(self._entries)

    # -- deciding --

    def _decide(self, item: Item, ts: float, sig: Signature) -> str:
        """The cluster ``item`` joins, against the index as it is: its own id if none."""
        settings = self.settings
        if len(sig.distinctive) < settings.min_shared:
            return item.id
        postings = self._postings
        lists = [plist for plist in map(postings.get, sig.distinctive)
                 if plist and len(plist) <= MAX_POSTINGS]
        if len(lists) < settings.min_shared:
            return item.id
        # An item sharing two distinctive words is in the intersection of two posting sets:
        # set intersections run in C, so most of the index is never touched in Python.
        if settings.min_shared == 1:
            candidates: set[_Entry] = set().union(*lists)
        else:
            candidates = set()
            for i, a in enumerate(lists):
                for b in lists[i + 1:]:
                    both = a & b if len(a) <= len(b) else b & a
                    if len(both) <= MAX_PAIR:
                        candidates |= both
        from rapidfuzz import fuzz  # only now: most polls of a quiet feed never score

        best: tuple[float, float, _Entry] | None = None
        window = settings.window
        for entry in candidates:
            if entry.feed == item.feed or abs(entry.ts - ts) > window or entry.id == item.id:
                continue
            shared = sum(entry in plist for plist in lists)
            if not _enough_words(shared, sig, entry.sig, settings):
                continue
            score = fuzz.token_set_ratio(sig.text, entry.sig.text,
                                         score_cutoff=settings.threshold)
            if not score or (best is not None and (score, entry.ts) <= best[:2]):
                continue
            if conflicting(sig, entry.sig) or evidence(sig, entry.sig) < settings.min_shared:
                continue
            best = (score, entry.ts, entry)
        return item.id if best is None else best[2].cluster

    def assign(self, items: Sequence[Item], now: float) -> list[Item]:
        """Copies of ``items`` with ``cluster`` set. Items published before the horizon are
        returned unchanged (``cluster`` None keeps whatever the store has)."""
        out = []
        for item in items:
            ts = _epoch(item.published)
            if ts < now - self.settings.horizon:
                out.append(item)
                continue
            self._build_deferred()
            sig = self._norm.signature(item.title)
            if len(self._pending) >= 10_000:  # assigned but never added: do not grow forever
                self._pending.clear()
            self._pending[item.id] = sig  # ``add`` reuses it
            out.append(replace(item, cluster=self._decide(item, ts, sig)))
        return out

    # -- the index --

    def add(self, items: Iterable[Item], now: float) -> None:
        """Index stored items (their ``cluster`` as stored; None reads as their own id)."""
        self.evict(now)
        cutoff = utc_iso(now - self.settings.horizon)  # ISO strings sort as times do
        for item in items:
            if item.published < cutoff or item.id in self._entries:
                continue
            if self._source is not None:  # (the rebuild reads these items from the store)
                self._build_deferred()
                if item.id in self._entries:
                    continue
            sig = self._pending.pop(item.id, None) or self._norm.signature(item.title)
            entry = _Entry(item.id, item.feed, _epoch(item.published), cluster_of(item), sig)
            self._entries[item.id] = entry
            for word in entry.sig.distinctive:
                plist = self._postings.get(word)
                if plist is None:
                    self._postings[word] = {entry}
                else:
                    plist.add(entry)

    def rebuild_when_needed(self, source: Callable[[], Iterable[Item]], now: float) -> None:
        """``rebuild(source(), now)`` once an item inside the horizon needs the index: a
        one-shot poll that stores nothing recent never reads the stored items."""
        self._source = (source, now)

    def _build_deferred(self) -> None:
        if self._source is not None:
            source, now = self._source
            self._source = None
            self.rebuild(source(), now)

    def rebuild(self, items: Iterable[Item], now: float) -> None:
        """Start over from stored items (e.g. ``store.recent()`` at start-up)."""
        self._source = None
        self._entries.clear()
        self._postings.clear()
        self._oldest = now - self.settings.horizon
        # Building ~10 objects per item would trigger cyclic-GC passes over the whole
        # (acyclic) heap again and again: paused, the rebuild takes about half the time.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            self.add(items, now)
        finally:
            if was_enabled:
                gc.enable()

    def evict(self, now: float) -> None:
        """Forget items published before the horizon (posting lists compacted)."""
        cutoff = now - self.settings.horizon
        # Evicting is a full pass: do it when the horizon has moved by a tenth of itself.
        if cutoff - self._oldest < self.settings.horizon / 10:
            return
        self._oldest = cutoff
        gone = [e for e in self._entries.values() if e.ts < cutoff]
        if not gone:
            return
        touched = set()
        for entry in gone:
            del self._entries[entry.id]
            touched.update(entry.sig.distinctive)
        for word in touched:
            plist = self._postings.get(word)
            if plist is not None:
                plist.difference_update([e for e in plist if e.ts < cutoff])
                if not plist:
                    del self._postings[word]


# --- reading clusters (CLI, briefing, dashboard) -----------------------------------------------

def cluster_of(item: Item) -> str:
    """The cluster id of an item: its ``cluster``, or its own id when it has none."""
    return item.cluster or item.id


@dataclass(frozen=True, slots=True)
class ClusterView:
    """One story: its items newest first (``items[0]`` is the row to show)."""

    id: str
    items: tuple[Item, ...]

    @property
    def lead(self) -> Item:
        return self.items[0]

    @property
    def sources(self) -> int:
        """How many feeds carry the story ("N sources")."""
        return len({it.feed for it in self.items})

    @property
    def published(self) -> str:
        return self.items[0].published


def group_by_cluster(items: Iterable[Item]) -> list[ClusterView]:
    """Items (e.g. a pane's page) → one view per cluster, newest cluster first; each view
    holds only the given items of its cluster, newest first."""
    groups: dict[str, list[Item]] = {}
    for item in items:
        groups.setdefault(cluster_of(item), []).append(item)
    views = [ClusterView(cid, tuple(sorted(members, key=_newest_key, reverse=True)))
             for cid, members in groups.items()]
    views.sort(key=lambda v: _newest_key(v.lead), reverse=True)
    return views


def _newest_key(item: Item) -> tuple[str, str, str]:
    return (item.published, item.first_seen, item.id)


def cluster_members(store: Any, cluster_id: str) -> list[Item]:
    """Every item of a cluster in the store's recent window, newest first.

    A scan of the in-memory window (a few ms at 100k items): the detail view of one story.
    Cluster members are published within ``window`` of each other, so a cluster whose
    first item is in the window has all its members there, but at the window's edge.
    """
    return [it for it in store.recent() if it.id == cluster_id or it.cluster == cluster_id]


class ClusterDirectory:
    """Cluster id → member ids and feeds, over the recent window: "N sources" for every row
    of a pane without a scan per row. Build once (``from_items(store.recent())``), then
    ``add(new_items)`` after each poll cycle.

    Most stories have one version: such a story is kept as two strings (its item, its feed)
    until a second version arrives, and only then as a list and a set. Strings are not
    tracked by the garbage collector, so a directory of tens of thousands of items adds next
    to nothing to the collector's passes, which the dashboard pays for on its UI thread.
    """

    def __init__(self) -> None:
        self._single: dict[str, str] = {}  # one-version stories: cluster id → item id
        self._single_feed: dict[str, str] = {}  # … → its feed
        self._members: dict[str, list[str]] = {}  # stories of two or more versions
        self._feeds: dict[str, set[str]] = {}

    @classmethod
    def from_items(cls, items: Iterable[Item]) -> "ClusterDirectory":
        directory = cls()
        directory.add(items)
        return directory

    def add(self, items: Iterable[Item]) -> None:
        single, single_feed, members_of = self._single, self._single_feed, self._members
        for item in items:
            cid = cluster_of(item)
            members = members_of.get(cid)
            if members is None:
                first = single.get(cid)
                if first is None:
                    single[cid] = item.id
                    single_feed[cid] = item.feed
                    continue
                if first == item.id:
                    continue
                del single[cid]
                members = members_of[cid] = [first]
                self._feeds[cid] = {single_feed.pop(cid)}
            if item.id not in members:
                members.append(item.id)
                self._feeds[cid].add(item.feed)

    def size(self, cluster_id: str) -> int:
        return len(self._members.get(cluster_id, ())) or 1

    def sources(self, cluster_id: str) -> int:
        return len(self._feeds.get(cluster_id, ())) or 1

    def member_ids(self, cluster_id: str) -> tuple[str, ...]:
        members = self._members.get(cluster_id)
        if members is not None:
            return tuple(members)
        return (self._single.get(cluster_id, cluster_id),)
