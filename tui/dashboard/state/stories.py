"""Stories (clusters): the story directory (``feeds.analysis.clusters.ClusterDirectory``),
built from the store's recent window after the first paint and then fed each feed's new
items; it gives the "N sources" of a row and the ids of a story's versions. The versions
themselves (every source's item, for the detail) are loaded on demand and cached per story
until it grows.

``changed`` publishes the stories whose badges and versions changed (None: every story),
for the panes and the details that show them. ``window_read`` is set once the first build
has its copy of the window (or failed): the start's re-classification, which holds the store
for seconds at a time, waits for it."""
from __future__ import annotations

import threading
from typing import Any, Callable, Iterable

from textual.dom import DOMNode
from textual.signal import Signal

from feeds.analysis.clusters import ClusterDirectory, cluster_of
from feeds.model import Item
from storage.query import SORT_KEY

VERSIONS_CACHE = 256  # stories whose versions are kept for the detail

LoadVersions = Callable[[str, tuple[str, ...], int], Any]


class Stories:
    def __init__(self, owner: DOMNode, load_versions: LoadVersions) -> None:
        """``load_versions(cluster, ids, size)`` starts a worker that posts VersionsLoaded."""
        self.directory: ClusterDirectory | None = None
        self.window_read = threading.Event()
        self.changed: Signal[set[str] | None] = Signal(owner, "stories-changed")
        self._load_versions = load_versions
        self._building = False
        self._again = False  # the store changed while it was built: build again
        self._backlog: list[Item] = []  # new items landing while it is built
        self._touched: set[str] = set()  # stories whose badges need a redraw
        self._versions: dict[str, tuple[Item, ...]] = {}
        self._versions_loading: set[str] = set()

    # --- the directory ------------------------------------------------------------------

    def begin_build(self) -> bool:
        """True if a build should start now (else one follows the build running)."""
        if self._building:
            self._again = True  # a viewer's store was reloaded meanwhile
            return False
        self._building = True
        self._backlog = []
        return True

    def build(self, store: Any) -> ClusterDirectory:
        """(worker thread) The directory of the store's recent window."""
        items = store.recent()
        self.window_read.set()
        return ClusterDirectory.from_items(items)

    def built(self, directory: ClusterDirectory) -> bool:
        """The built directory is in use; True if another build must follow."""
        directory.add(self._backlog)  # what landed meanwhile (add ignores repeats)
        self._backlog = []
        self._building = False
        self.directory = directory
        self._versions.clear()
        self.changed.publish(None)
        again, self._again = self._again, False
        return again

    def build_failed(self) -> None:
        self.window_read.set()
        self._building = self._again = False
        self._backlog = []

    def learn(self, items: list[Item]) -> None:
        """New items join the directory (cheap: a dict step per item)."""
        if self.directory is None:
            if self._building:
                self._backlog.extend(items)
            return
        self.directory.add(items)
        for item in items:
            cid = cluster_of(item)
            self._versions.pop(cid, None)
            self._touched.add(cid)

    def redraw(self) -> None:
        """After an insert: the stories that grew since the last one are redrawn."""
        touched, self._touched = self._touched, set()
        if touched:
            self.changed.publish(touched)

    def sources(self, item: Item) -> int:
        """How many feeds carry the item's story (1 until the directory is built)."""
        return self.directory.sources(cluster_of(item)) if self.directory is not None else 1

    # --- versions, for the detail --------------------------------------------------------

    def versions_for(self, item: Item) -> tuple[Item, ...]:
        """The item's story, every version newest first, if known; else () and a load."""
        if self.directory is None:
            return ()
        cid = cluster_of(item)
        size = self.directory.size(cid)
        if size < 2:
            return ()
        cached = self._versions.get(cid)
        if cached is not None:
            return cached
        if cid not in self._versions_loading:
            self._versions_loading.add(cid)
            self._load_versions(cid, self.directory.member_ids(cid), size)
        return ()

    @staticmethod
    def read_versions(store: Any, ids: Iterable[str]) -> tuple[Item, ...]:
        """(worker thread) A story's items, newest first."""
        items = [it for it in map(store.get, ids) if it is not None]
        items.sort(key=SORT_KEY, reverse=True)
        return tuple(items)

    def versions_loaded(self, cid: str, items: tuple[Item, ...], size: int) -> None:
        self._versions_loading.discard(cid)
        if self.directory is not None and self.directory.size(cid) == size:
            if len(self._versions) >= VERSIONS_CACHE:
                self._versions.clear()
            self._versions[cid] = items
        # else it grew meanwhile: the detail asks again
        self.changed.publish({cid})

    def versions_failed(self) -> None:
        self._versions_loading.clear()
