"""Re-classifying after a rules change: the panes keep the stored labels until each week is
done (newest first), rows then move between panes in place, the status line counts the
weeks, and labels set by hand stay."""
from __future__ import annotations

from dataclasses import replace

from feeds.classify.reclassify import FINGERPRINT_KEY
from feeds.model import Item
from tests.tui.helpers import T0, make_item, record_toasts, rows, settle
from tui.dashboard.messages import FeedEdited
from tui.dashboard.state.reclassify import pane_changes
from tui.render import panes_of

DAY = 86400.0
# (title, summary, days ago, the label the old rules gave it)
STORIES = [
    ("Envoys hold peace talks in Geneva", "Negotiations resume.", 0, "sanctions"),
    ("EU imposes new sanctions on Russian banks", "The asset freeze covers five lenders.", 0,
     None),
    ("Minister condemns the strikes on Kharkiv", "A statement followed.", 8, "talks"),
    ("Qatar hosts peace talks", "Negotiations in Doha.", 15, None),
    ("UN envoy opens ceasefire talks in Cairo", "Mediators met both sides.", 22, "statements"),
    ("US extends arms embargo on Sudan", "An export control too.", 40, "talks"),
    ("Central bank holds rates steady", "Markets were calm.", 41, "statements"),
]


def stored_as_before(title: str, summary: str, days: float, old: str | None) -> tuple[Item, Item]:
    """(the item as the bundled rules classify it, as the old rules had stored it)."""
    now = make_item(title, summary, published=T0 - days * DAY - 600, guid=title)
    labels = (old,) if old else ()
    return now, replace(now, labels=labels, primary=old, scores={}, evidence=())


def shown(app) -> dict[str, set[str]]:
    return {p.pane: set(p.table.items) for p in app.dashboard.panes()}


async def test_panes_keep_rows_while_weeks_are_reclassified_newest_first(make_app) -> None:
    pairs = [stored_as_before(*story) for story in STORIES]
    new = {it.id: it for it, _ in pairs}
    app = make_app(items=[old for _, old in pairs], offline=True)
    app.store.set_meta(FINGERPRINT_KEY, "the rules of yesterday")
    # An analyst said the Geneva talks were sanctions news: the new rules never undo that.
    corrected = pairs[0][0].id
    app.store.set_labels(corrected, ["sanctions"])
    app.store.flush()
    screen = app.dashboard
    weeks: list[tuple[int, int, dict[str, set[str]], dict[str, set[str]], set[str]]] = []
    apply = screen.reclass.apply

    async def watch(message, panes, view):
        before = shown(app)
        await apply(message, panes, view)
        weeks.append((message.done, message.total, before, shown(app),
                      {it.id for it in message.changed}))

    screen.reclass.apply = watch
    statuses: list[str] = []
    set_status = screen.set_status

    def record(*args, **kwargs):
        set_status(*args, **kwargs)
        statuses.append(screen.status.activity)

    screen.set_status = record
    toasts = record_toasts(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        done = [w for w in weeks if w[0]]
        total = done[0][1]
        assert total == 5 and [w[0] for w in done] == [1, 2, 3, 4, 5]
        # Every item stays on screen at every step: rows only move between panes.
        every = set(new)
        for _, _, before, after, _ in weeks:
            assert set().union(*before.values()) == every
            assert set().union(*after.values()) == every
        # The newest week first: this week's items changed in the first message.
        assert done[0][4] == {pairs[1][0].id}  # the Geneva talks are corrected: left out
        assert corrected not in set().union(*(w[4] for w in weeks))
        assert any(f"re-classifying: week 3 of {total}," in s for s in statuses), statuses
        # At the end each row is where the new rules (or the analyst) put it.
        end = shown(app)
        for iid, item in new.items():
            expected = ("sanctions",) if iid == corrected else panes_of(item)
            assert {p for p, ids in end.items() if iid in ids} == set(expected), item.title
        assert rows(app, "talks") == ["Qatar hosts peace talks",
                                      "UN envoy opens ceasefire talks in Cairo"]
        assert app.store.get(corrected).labels == ("sanctions",)
        assert app.poll.counts["talks"] == 2
        assert "re-classifying" not in screen.status.activity
        assert any("re-classified" in m for _, m in toasts), toasts
    again = app.store.get(pairs[5][0].id)
    assert again.labels == pairs[5][0].labels  # saved: an older week, on disk


async def test_the_story_directory_reads_the_window_before_the_run_holds_the_store(
        make_app, monkeypatch) -> None:
    """A week's re-classification holds the store for seconds at a million items: the run
    at the start waits until the story directory has its copy of the window."""
    from threading import Event

    from tui.dashboard.state.stories import Stories

    pairs = [stored_as_before(*story) for story in STORIES]
    app = make_app(items=[old for _, old in pairs], offline=True)
    app.store.set_meta(FINGERPRINT_KEY, "the rules of yesterday")
    release, building, build = Event(), Event(), Stories.build

    def held(stories, store):
        building.set()
        release.wait(10)
        return build(stories, store)

    monkeypatch.setattr(Stories, "build", held)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(500):
            if building.is_set():
                break
            await pilot.pause(0.01)
        await pilot.pause(0.3)
        assert app.dashboard.reclass.running and app.dashboard.reclass.written == 0
        assert app.store.get_meta(FINGERPRINT_KEY) == "the rules of yesterday"
        release.set()
        await settle(pilot)
        assert app.dashboard.reclass.written == 5 and app.stories.directory is not None
        assert app.store.get_meta(FINGERPRINT_KEY) != "the rules of yesterday"


async def test_under_a_filter_only_the_rows_it_admits_come_in(make_app) -> None:
    pairs = [stored_as_before(*story) for story in STORIES[:3]]
    app = make_app(items=[old for _, old in pairs], offline=True)  # nothing to do at start
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"Geneva", "enter")
        await settle(pilot)
        assert rows(app, "sanctions") == ["Envoys hold peace talks in Geneva"]
        assert rows(app, "talks") == [] and rows(app, "statements") == []
        app.store.set_meta(FINGERPRINT_KEY, "the rules of yesterday")
        # A feed enabled in the feed screen reloads the config: its rules differ now.
        app.feeds_changed.publish(FeedEdited(app.config, "enabled UN News"))
        await settle(pilot)
        assert rows(app, "talks") == ["Envoys hold peace talks in Geneva"]
        assert rows(app, "sanctions") == []
        assert rows(app, "statements") == []  # Kharkiv is statements now, but not "Geneva"
        assert app.store.get(pairs[2][0].id).labels == ("statements",)


def test_pane_changes_moves_rows_by_item_id() -> None:
    talk = make_item("Envoys hold peace talks in Geneva", guid="a")
    statement = replace(talk, labels=("statements",), primary="statements")
    kept = replace(talk, scores={"talks": 9.0})
    moved, same = [(statement, ("statements",))], [(kept, ("talks",))]
    assert pane_changes("talks", {talk.id: talk}, moved, lambda it: True) == ([], [], [talk.id])
    assert pane_changes("statements", {}, moved, lambda it: True) == ([statement], [], [])
    assert pane_changes("statements", {}, moved, lambda it: False) == ([], [], [])
    assert pane_changes("talks", {talk.id: talk}, same, lambda it: False) == ([], [kept], [])
