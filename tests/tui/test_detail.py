"""The detail of an item: evidence, link handling, read and star."""
from __future__ import annotations

import webbrowser
from dataclasses import replace

import pytest

from storage.query import NO_FLAGS
from storage.store import Store
from tests.tui.helpers import T0, make_item, record_toasts, rows, screen_text, settle
from tui.dashboard.screens.item import ItemScreen
from tui.dashboard.widgets.item_detail import DetailView, render_detail

TALK = make_item("Russia and Ukraine hold peace talks in Istanbul",
                 "Delegations met for a new round of negotiations.",
                 link="https://news.example/talks", published=T0 - 600)
SANCTION = make_item("EU imposes new sanctions on Russian banks",
                     "The asset freeze covers five lenders.", link="http://news.example/eu",
                     published=T0 - 1200)


def test_detail_highlights_the_evidence_in_title_and_summary() -> None:
    content = render_detail(DetailView(TALK, NO_FLAGS, T0))
    text = content.plain
    assert "Evidence" in text and "talks" in text
    highlighted = {text[s.start:s.end] for s in content.spans if "underline" in str(s.style)}
    # every match the classifier reported is underlined where it occurred
    for m in TALK.evidence:
        assert m.text in highlighted
    assert "peace talks" in " ".join(highlighted)
    assert f"talks {TALK.scores['talks']:.1f}" in text
    assert "https://news.example/talks" in text


def test_a_long_rule_in_the_evidence_wraps_under_itself() -> None:
    long_rule = "|".join(f"alternative{i}" for i in range(20)) + " ~2 talks"
    match = replace(TALK.evidence[0], term=long_rule)
    lines = render_detail(DetailView(replace(TALK, evidence=(match,)), NO_FLAGS, T0)).plain
    lines = lines.splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("rule "))
    rule_lines = [lines[start]] + [ln for ln in lines[start + 1:start + 8]
                                   if ln.startswith(" " * 18) and ln.strip()]
    assert len(rule_lines) > 1 and all(len(ln) <= 80 for ln in rule_lines)
    assert "".join(ln.strip() for ln in rule_lines).replace("rule ", "", 1).replace(" ", "") \
        == long_rule.replace(" ", "")


def test_a_penalty_is_listed_as_evidence_against_and_not_highlighted() -> None:
    against = replace(TALK.evidence[-1], term="met for", text="met for",
                      field="summary", start=12, end=19, weight=-0.5)
    item = replace(TALK, evidence=(*TALK.evidence, against))
    for compact in (False, True):
        content = render_detail(DetailView(item, NO_FLAGS, T0, compact=compact))
        text = content.plain
        assert ("“met for” in the summary against" in text
                or "“met for” summary against" in text)
        underlined = [text[s.start:s.end] for s in content.spans if "underline" in str(s.style)]
        assert "met for" not in underlined and "Delegations" in underlined
        assert "peace talks" in " ".join(underlined)


def test_a_penalty_on_the_same_text_as_a_rule_is_listed_apart() -> None:
    peace = next(m for m in TALK.evidence if m.text == "peace talks")
    against = replace(peace, term="peace", weight=-0.5)
    item = replace(TALK, evidence=(*TALK.evidence, against))
    for compact in (False, True):
        text = render_detail(DetailView(item, NO_FLAGS, T0, compact=compact)).plain
        assert text.count("“peace talks”") == 2 and "against" in text


async def test_detail_pane_follows_the_cursor_and_enter_opens_the_item(make_app) -> None:
    app = make_app(items=[TALK, SANCTION], offline=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.dashboard.detail.item.id == TALK.id
        text = screen_text(app)
        assert "Evidence" in text and "“peace talks”" in text
        await pilot.press("tab")  # the Sanctions pane
        assert app.dashboard.detail.item.id == SANCTION.id
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ItemScreen)
        text = screen_text(app)
        assert "EU imposes new sanctions on Russian banks" in text
        assert "rule" in text and "sanction" in text  # the rules that fired, in full
        assert app.store.flags(SANCTION.id).read  # opening an item marks it read
        await pilot.press("escape")
        assert app.screen is app.dashboard


@pytest.fixture
def browser(monkeypatch, tmp_path):
    """``browser(found)``: what Python's webbrowser module finds, as a terminal gives it: a
    BROWSER command, or (no DISPLAY, no BROWSER, no text browser on PATH) nothing at all."""
    def make(found: bool) -> None:
        monkeypatch.setattr(webbrowser, "_tryorder", None)  # it looks again, in this env
        monkeypatch.setattr(webbrowser, "_browsers", {})
        for name in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER"):
            monkeypatch.delenv(name, raising=False)
        if found:
            monkeypatch.setenv("BROWSER", "true")
        else:
            monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    return make


async def test_o_with_no_browser_says_so_and_offers_y(make_app, monkeypatch, browser) -> None:
    browser(False)
    opened: list[str] = []
    app = make_app(items=[TALK], offline=True)
    monkeypatch.setattr(app, "open_url", lambda url, **kw: opened.append(url))
    toasts = record_toasts(app)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await pilot.pause()
        assert opened == []
        [(title, message)] = toasts
        assert title == "Cannot open the link" and "No web browser found" in message
        assert "press y to copy" in message
        await pilot.press("y")
        assert app.clipboard == "https://news.example/talks"


async def test_o_opens_http_links_only(make_app, monkeypatch, browser) -> None:
    browser(True)
    hostile = make_item("Ministers meet for talks", "Talks in Vienna.", link="javascript:alert(1)",
                        published=T0 - 300)
    opened: list[str] = []
    app = make_app(items=[hostile, TALK], offline=True)
    monkeypatch.setattr(app, "open_url", lambda url, **kw: opened.append(url))
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        assert app.dashboard.selected_item.id == hostile.id
        await pilot.press("o")
        await pilot.pause()
        assert opened == []
        assert "no web link" in screen_text(app)
        await pilot.press("j", "o")
        await pilot.pause()
        assert opened == ["https://news.example/talks"]


async def test_javascript_link_from_a_feed_is_never_opened(make_app, feed_server, monkeypatch,
                                                           browser) -> None:
    from tests.feedserver import Response, rss, rss_item

    browser(True)
    feed_server.route("/a.xml", Response(body=rss([rss_item(
        "Envoys hold talks in Geneva", guid="x", link="javascript:alert(document.cookie)",
        summary="Negotiations resumed.")])))
    opened: list[str] = []
    app = make_app([("A", "/a.xml")])
    monkeypatch.setattr(app, "open_url", lambda url, **kw: opened.append(url))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await settle(pilot)
        assert rows(app, "talks") == ["Envoys hold talks in Geneva"]
        await pilot.press("o")
        await pilot.press("enter")
        await pilot.press("o")
        await pilot.pause()
        assert opened == []


async def test_copy_link(make_app) -> None:
    app = make_app(items=[TALK], offline=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("y")
        assert app.clipboard == "https://news.example/talks"


async def test_mark_read_and_star_are_saved_and_shown(make_app, tmp_path) -> None:
    app = make_app(items=[TALK, SANCTION], offline=True)
    app.marks.flush.delay = 0.05
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        table = app.dashboard.pane("talks").table
        await pilot.press("m")
        await settle(pilot)
        assert app.store.flags(TALK.id).read
        assert "dim" in str(table.get_cell(TALK.id, "title").spans[-1].style) or \
            "dim" in str(table.get_cell(TALK.id, "title").style)
        await pilot.press("s")
        await settle(pilot)
        assert app.store.flags(TALK.id).starred
        assert table.get_cell(TALK.id, "mark").plain.startswith("★")
        assert "★ starred" in screen_text(app)
        await pilot.pause(0.3)  # the debounced flush
        await settle(pilot)
        assert not app.store.dirty
        await pilot.press("m")  # and back to unread
        await settle(pilot)
        assert not app.store.flags(TALK.id).read
    app.store.close()
    reopened = Store.open(tmp_path / "store")
    try:
        assert reopened.flags(TALK.id).starred and not reopened.flags(TALK.id).read
    finally:
        reopened.close()
