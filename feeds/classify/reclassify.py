"""Re-classify stored items when the rules change, and re-tag their actors when the gazetteer
changes, without fetching anything again."""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

FINGERPRINT_KEY = "rules_fingerprint"
ACTORS_FINGERPRINT_KEY = "actors_fingerprint"


def rules_changed(store: Any, rules_spec: Any) -> bool:
    return store.get_meta(FINGERPRINT_KEY) != rules_spec.fingerprint


def actors_changed(store: Any, actors_spec: Any) -> bool:
    return actors_spec is not None and store.get_meta(ACTORS_FINGERPRINT_KEY) != actors_spec.fingerprint


def reclassify(store: Any, rules_spec: Any,
               progress: Callable[[int, int], None] | None = None, *,
               actors: Any = None) -> int:
    """Apply the rules (and, given ``actors``, an ``ActorSpec``, the gazetteer) to every
    stored item (every partition); returns how many changed.

    The new fingerprints are recorded so the next start does not do it again.
    """
    from feeds.classify.actors import ActorTagger
    from feeds.classify.engine import Classifier

    classifier = Classifier.from_spec(rules_spec)
    tagger = ActorTagger.from_spec(actors) if actors is not None else None

    def transform(item):
        new = item.with_classification(classifier.classify(item.title, item.summary))
        if tagger is not None:
            new = replace(new, actors=tagger.tag(item.title, item.summary))
        return new

    changed = store.replace_all(transform, progress=progress)
    store.set_meta(FINGERPRINT_KEY, rules_spec.fingerprint)
    if actors is not None:
        store.set_meta(ACTORS_FINGERPRINT_KEY, actors.fingerprint)
    store.flush()
    return changed


def reclassify_if_needed(store: Any, rules_spec: Any,
                         progress: Callable[[int, int], None] | None = None, *,
                         actors: Any = None) -> int | None:
    """Re-classify (and re-tag) when the rules' or the gazetteer's fingerprint differs from
    the one the store was built with.

    A new, empty store just records the fingerprints. Returns the count changed, or None
    when nothing had to be done.
    """
    if store.readonly or not (rules_changed(store, rules_spec) or actors_changed(store, actors)):
        return None
    if store.get_meta(FINGERPRINT_KEY) is None and not store.recent(1):
        store.set_meta(FINGERPRINT_KEY, rules_spec.fingerprint)
        if actors is not None:
            store.set_meta(ACTORS_FINGERPRINT_KEY, actors.fingerprint)
        return None
    return reclassify(store, rules_spec, progress, actors=actors)
