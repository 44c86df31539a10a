"""Re-classify stored items when the rules change, and re-tag their actors when the gazetteer
changes, without fetching anything again."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

from feeds.model import Item

FINGERPRINT_KEY = "rules_fingerprint"
ACTORS_FINGERPRINT_KEY = "actors_fingerprint"


@dataclass(frozen=True, slots=True)
class WeekDone:
    """One week re-classified and saved: ``done`` of ``total`` weeks (newest first),
    ``seen`` items read so far, and this week's items whose classification changed, as the
    rules now have them (labels set by hand are kept on top of them by the store)."""

    done: int
    total: int
    seen: int
    changed: list[Item]


def specs_changed(store: Any, fingerprints: tuple[str | None, str | None]) -> bool:
    """Whether the store was built with other rules, or another gazetteer (when one is
    given), than these (the rules', the gazetteer's) fingerprints say."""
    rules, actors = fingerprints
    return (store.get_meta(FINGERPRINT_KEY) != rules
            or actors is not None and store.get_meta(ACTORS_FINGERPRINT_KEY) != actors)


def reclassify(store: Any, rules_spec: Any,
               progress: Callable[[int, int], None] | None = None, *,
               actors: Any = None, on_week: Callable[[WeekDone], None] | None = None) -> int:
    """Apply the rules (and, given ``actors``, an ``ActorSpec``, the gazetteer) to every
    stored item (every partition); returns how many changed.

    Weeks are done newest first, each saved before the next; ``on_week`` hears of each
    (before ``progress``), so a viewer can update the rows it shows as they change. The new
    fingerprints are recorded at the end, so an interrupted run is done again next time.
    """
    from feeds.classify.actors import ActorTagger
    from feeds.classify.engine import Classifier

    classifier = Classifier.from_spec(rules_spec)
    tagger = ActorTagger.from_spec(actors) if actors is not None else None

    week: list[Item] = []
    seen = 0

    def transform(item):
        nonlocal seen
        seen += 1
        new = item.with_classification(classifier.classify(item.title, item.summary))
        if tagger is not None:
            new = replace(new, actors=tagger.tag(item.title, item.summary))
        if on_week is not None and new != item:
            week.append(new)
        return new

    def step(done: int, total: int) -> None:
        if on_week is not None and done:
            batch, week[:] = list(week), []
            on_week(WeekDone(done, total, seen, batch))
        if progress is not None:
            progress(done, total)

    changed = store.replace_all(transform, progress=step)
    store.set_meta(FINGERPRINT_KEY, rules_spec.fingerprint)
    if actors is not None:
        store.set_meta(ACTORS_FINGERPRINT_KEY, actors.fingerprint)
    store.flush()
    return changed


def reclassify_if_needed(store: Any, specs: Any,
                         progress: Callable[[int, int], None] | None = None, *,
                         on_week: Callable[[WeekDone], None] | None = None) -> int | None:
    """Re-classify (and re-tag) when the rules' or the gazetteer's fingerprint differs from
    the one the store was built with. ``specs``: a config's (feeds.config.specs.Specs),
    whose rules are decoded only when they are needed.

    A new, empty store just records the fingerprints; a config without rules changes
    nothing. Returns the count changed, or None when nothing had to be done.
    """
    fingerprints = specs.fingerprints
    rules_fingerprint, actors_fingerprint = fingerprints
    if store.readonly or rules_fingerprint is None or not specs_changed(store, fingerprints):
        return None
    if store.get_meta(FINGERPRINT_KEY) is None and not store.recent(1):
        store.set_meta(FINGERPRINT_KEY, rules_fingerprint)
        if actors_fingerprint is not None:
            store.set_meta(ACTORS_FINGERPRINT_KEY, actors_fingerprint)
        return None
    return reclassify(store, specs.rules, progress, actors=specs.actors, on_week=on_week)
