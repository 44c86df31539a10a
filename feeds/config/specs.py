"""A config's rules and actor gazetteer, as parsed, or as the config cache kept them.

Kept ones are decoded at their first use: a poll that parses nothing (every feed answering
304) needs only their fingerprints, to tell whether the store must be re-classified, and
decoding them (the classifier's modules imported, ~3,400 spec objects built) cost it ~20 ms.
"""
from __future__ import annotations

import pickle
import threading
from typing import Any, Callable


class Specs:
    """``rules`` (a ``RulesSpec``) and ``actors`` (an ``ActorSpec``), either may be None.

    Equal when their fingerprints are: a fingerprint is a hash of what the spec holds.
    """

    __slots__ = ("_pair", "_blob", "_fingerprints", "_lock", "_fallback")

    def __init__(self, rules: Any = None, actors: Any = None) -> None:
        self._pair: tuple[Any, Any] | None = (rules, actors)
        self._blob: bytes | None = None
        self._fingerprints: tuple[str | None, str | None] | None = None
        self._lock = threading.Lock()
        self._fallback: Callable[[], tuple[Any, Any]] | None = None

    @classmethod
    def kept(cls, blob: bytes, fingerprints: tuple[str | None, str | None],
             fallback: Callable[[], tuple[Any, Any]]) -> Specs:
        """Specs pickled as ``(rules, actors)`` by this program's config cache (see
        feeds.config.cache: a private file whose key is the config's text), with the
        fingerprints they had; ``fallback`` parses them again should the pickle not load."""
        specs = cls()
        specs._pair, specs._blob, specs._fingerprints = None, blob, fingerprints
        specs._fallback = fallback
        return specs

    @property
    def rules(self) -> Any:
        return self._decoded()[0]

    @property
    def actors(self) -> Any:
        return self._decoded()[1]

    @property
    def fingerprints(self) -> tuple[str | None, str | None]:
        """(the rules', the gazetteer's) fingerprint, None for a missing spec."""
        if self._fingerprints is None:
            rules, actors = self._decoded()
            self._fingerprints = (getattr(rules, "fingerprint", None),
                                  getattr(actors, "fingerprint", None))
        return self._fingerprints

    def _decoded(self) -> tuple[Any, Any]:
        pair = self._pair
        if pair is None:
            with self._lock:  # (one decoding, so every thread sees the same objects)
                if self._pair is None:
                    try:
                        self._pair = pickle.loads(self._blob)
                    except Exception:  # (the file checked whole, from this very code: never
                        self._pair = self._fallback()  # seen; parsed again if ever)
                    self._blob = self._fallback = None
                pair = self._pair
        return pair

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Specs):
            return NotImplemented
        return self is other or self.fingerprints == other.fingerprints

    def __hash__(self) -> int:
        return hash(self.fingerprints)

    def __reduce__(self) -> tuple:
        return Specs, self._decoded()

    def __repr__(self) -> str:
        state = "kept" if self._pair is None else "decoded"
        return f"Specs({state}, fingerprints={self.fingerprints!r})"
