"""Re-classify stored items when the rules change, without fetching anything again."""
from __future__ import annotations

from typing import Any, Callable

FINGERPRINT_KEY = "rules_fingerprint"


def rules_changed(store: Any, rules_spec: Any) -> bool:
    return store.get_meta(FINGERPRINT_KEY) != rules_spec.fingerprint


def reclassify(store: Any, rules_spec: Any,
               progress: Callable[[int, int], None] | None = None) -> int:
    """Apply the rules to every stored item (every partition); returns how many changed.

    The new fingerprint is recorded so the next start does not do it again.
    """
    from feeds.classify import Classifier

    classifier = Classifier.from_spec(rules_spec)

    def transform(item):
        return item.with_classification(classifier.classify(item.title, item.summary))

    changed = store.replace_all(transform, progress=progress)
    store.set_meta(FINGERPRINT_KEY, rules_spec.fingerprint)
    store.flush()
    return changed


def reclassify_if_needed(store: Any, rules_spec: Any,
                         progress: Callable[[int, int], None] | None = None) -> int | None:
    """Re-classify when the rules' fingerprint differs from the one the store was built with.

    A new, empty store just records the fingerprint. Returns the count changed, or None
    when nothing had to be done.
    """
    if store.readonly or not rules_changed(store, rules_spec):
        return None
    if store.get_meta(FINGERPRINT_KEY) is None and not store.recent(1):
        store.set_meta(FINGERPRINT_KEY, rules_spec.fingerprint)
        return None
    return reclassify(store, rules_spec, progress)
