"""The briefing: grouping by label and story, content, escaping for Markdown and HTML, CLI."""
from __future__ import annotations

import os
import re
from datetime import timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest

from feeds.analysis.briefing import build_briefing, cluster_label, md_text, md_url, render_briefing
from feeds.analysis.clusters import ClusterView
from storage.store import Store
from tests.features.conftest import HOUR, T0, make_item

HOSTILE = "**bold** [x](javascript:alert(1)) <script>alert(1)</script> & http://evil.example _u_ `c`"


def story_items():
    a, b, c = "https://a.example/rss", "https://b.example/rss", "https://c.example/rss"
    lead = make_item("Russia and Ukraine hold talks in Istanbul", feed=a, published=T0 - 3 * HOUR,
                     actors=("Russia", "Ukraine"), summary="Delegations met for two hours.",
                     source="Wire A")
    return [
        lead,
        make_item("Istanbul hosts Russia-Ukraine talks", feed=b, published=T0 - HOUR,
                  actors=("Turkey", "Russia", "Ukraine"), cluster=lead.id, source="Wire B",
                  labels=("statements",)),
        make_item("Delegations meet in Istanbul", feed=c, published=T0 - 2 * HOUR,
                  cluster=lead.id, source="Wire C"),
        make_item("EU adopts 17th sanctions package", feed=a, published=T0 - 4 * HOUR,
                  labels=("sanctions",), actors=("European Union",), source="Wire A"),
        make_item("Kremlin condemns the package", feed=b, published=T0 - 30 * 60,
                  labels=("statements",), actors=("Russia",), source="Wire B"),
        make_item("Football: a friendly", feed=c, published=T0 - 5 * HOUR, labels=(), source="Wire C"),
    ]


def test_groups_by_label_then_story_newest_first() -> None:
    groups = build_briefing(story_items())
    assert [g.label for g in groups] == ["talks", "sanctions", "statements"]
    [talks] = groups[0].clusters
    assert talks.sources == 3 and [it.source for it in talks.items] == ["Wire B", "Wire C", "Wire A"]
    assert cluster_label(talks) == "talks"  # two talks, one statement among its sources
    groups = build_briefing(story_items(), include_other=True)
    assert groups[-1].label == "other" and groups[-1].clusters[0].lead.title == "Football: a friendly"


def test_stories_in_a_group_newest_first() -> None:
    items = [make_item("Old talks", published=T0 - 5 * HOUR), make_item("New talks", published=T0)]
    [group] = build_briefing(items)
    assert [v.lead.title for v in group.clusters] == ["New talks", "Old talks"]


def test_markdown_content() -> None:
    text = render_briefing(build_briefing(story_items()), "md", T0, "Morning brief",
                           subtitle="Items published since 2026-05-13 12:00", tz=timezone.utc)
    assert text.startswith("# Morning brief\n\nItems published since 2026-05-13 12:00\n")
    assert "_Generated 2026-05-14 12:00 UTC · 3 stories from 5 items_" in text
    assert "## Talks (1 story)" in text and "## Sanctions (1 story)" in text
    assert "### Istanbul hosts Russia-Ukraine talks" in text
    assert "3 sources · latest 2026-05-14 11:00 · actors: Turkey, Russia, Ukraine" in text
    assert "- 2026-05-14 11:00 · **Wire B** · [Istanbul hosts Russia-Ukraine talks](https://news.example/" in text
    assert "Football" not in text  # unlabelled items only with --other
    assert "> Delegations met for two hours." in text  # the lede: the newest summary given
    # Newest source first within the story.
    story = text[text.index("### Istanbul"):text.index("## Sanctions")]
    assert story.index("Wire B") < story.index("Wire C") < story.index("Wire A")


def test_markdown_escaping_makes_feed_text_inert() -> None:
    item = make_item(HOSTILE, link="https://news.example/a(b)c", summary=HOSTILE, source="A_b*")
    text = render_briefing(build_briefing([item]), "md", T0, tz=timezone.utc)
    escaped = md_text(HOSTILE)
    assert f"### {escaped}" in text and f"> {escaped}" in text
    assert "**A\\_b\\*** · " in text
    assert "(https://news.example/a%28b%29c)" in text
    # No unescaped markup survives: every *, [, ], (, ), <, >, _, ` and & is preceded by "\".
    assert re.search(r"(?<!\\)[\[\]<>`&]", escaped) is None
    assert "javascript\\:" not in escaped and "http\\://evil" in escaped  # no autolink
    for bad in ("<script>", "[x](", "**bold**"):
        assert bad not in escaped


def test_markdown_rendered_by_a_commonmark_parser_is_inert() -> None:
    markdown_it = pytest.importorskip("markdown_it")
    item = make_item(HOSTILE, link="https://news.example/x y", summary="1986. A year")
    html_out = markdown_it.MarkdownIt("commonmark").render(
        render_briefing(build_briefing([item]), "md", T0, tz=timezone.utc))
    assert "<script>" not in html_out and "javascript:" not in html_out.replace(
        "javascript:alert", "") and 'href="javascript' not in html_out
    assert "<strong>bold</strong>" not in html_out and "<ol" not in html_out
    assert "&lt;script&gt;" in html_out  # shown as text


def test_markdown_links_only_http() -> None:
    assert md_url("javascript:alert(1)") == "" and md_url("ftp://x.example/") == ""
    assert md_url("https://x.example/a b") == ""  # not a valid link at all
    assert md_url("https://x.example/[a]<b>'\"") == "https://x.example/%5Ba%5D%3Cb%3E%27%22"
    item = make_item("No link", link="javascript:alert(1)")
    text = render_briefing(build_briefing([item]), "md", T0, tz=timezone.utc)
    assert "javascript" not in text and "· No link" in text


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append((tag, dict(attrs)))


def test_html_escaping_and_links() -> None:
    item = make_item(HOSTILE, link='https://news.example/"onmouseover=alert(1)', summary=HOSTILE,
                     source="<b>Wire</b>")
    page = render_briefing(build_briefing([item]), "html", T0, "Brief <i>", tz=timezone.utc)
    parser = _Tags()
    parser.feed(page)
    tags = {t for t, _ in parser.tags}
    assert "script" not in tags and "i" not in tags and tags <= {
        "html", "head", "meta", "title", "style", "body", "h1", "p", "section", "h2", "article",
        "h3", "ul", "li", "time", "b", "a", "blockquote"}
    links = [a for t, a in parser.tags if t == "a"]
    assert links == [{"href": 'https://news.example/"onmouseover=alert(1)', "rel": "noopener noreferrer"}]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;Wire&lt;/b&gt;" in page
    assert "Content-Security-Policy" in page and "<title>Brief &lt;i&gt;</title>" in page
    assert 'href="javascript' not in page


def test_html_content_and_empty_briefing() -> None:
    page = render_briefing(build_briefing(story_items()), "html", T0, tz=timezone.utc)
    assert "<h2>Talks (1 story)</h2>" in page and "3 sources · latest 2026-05-14 11:00" in page
    assert '<time datetime="2026-05-14T11:00:00Z">2026-05-14 11:00</time>' in page
    assert "No items match." in render_briefing([], "html", T0, tz=timezone.utc)
    assert "No items match." in render_briefing([], "md", T0, tz=timezone.utc)
    with pytest.raises(ValueError):
        render_briefing([], "pdf", T0)


def test_a_cluster_view_of_one_item() -> None:
    item = make_item("Alone")
    view = ClusterView(item.id, (item,))
    assert view.sources == 1 and view.lead is item


# --- CLI ---------------------------------------------------------------------------------------

@pytest.fixture
def stored(tmp_path: Path, clock):
    items = story_items() + [make_item("Old talks", published=T0 - 40 * HOUR)]
    with Store.open(tmp_path / "store", clock=clock) as store:
        store.upsert_items(items)
    return items


def test_cli_brief_markdown_and_html(stored, write_config, run_cli, tmp_path: Path) -> None:
    config = write_config()
    r = run_cli(config, "brief")
    assert r.exit_code == 0, r.output
    assert r.output.startswith("# diplowatch briefing\n") and "3 stories from 5 items" in r.output
    assert "Old talks" not in r.output  # older than 24 h
    assert "Old talks" in run_cli(config, "brief", "--since", "48h").output
    out = tmp_path / "brief.html"
    r = run_cli(config, "brief", "--format", "html", "-o", str(out), "--other", "--title", "Daily")
    assert r.exit_code == 0 and "wrote a briefing of 4 stories (6 items)" in r.output
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<h1>Daily</h1>" in page and "Other news" in page


def test_cli_brief_filters(stored, write_config, run_cli) -> None:
    config = write_config()
    r = run_cli(config, "brief", "--actor", "kremlin")
    assert r.exit_code == 0, r.output
    assert "actor Russia" in r.output and "Kremlin condemns" in r.output and "EU adopts" not in r.output
    r = run_cli(config, "brief", "--label", "sanctions")
    assert "EU adopts" in r.output and "Istanbul" not in r.output
    assert run_cli(config, "brief", "--since", "yesterday-ish").exit_code == 2


def test_save_briefing_replaces_the_file_atomically(tmp_path: Path, monkeypatch) -> None:
    import errno

    from feeds.analysis.briefing import compose_briefing, save_briefing
    from storage import atomic

    path = tmp_path / "brief.md"
    first = compose_briefing(story_items(), "md", T0, "First")
    save_briefing(path, first)
    assert path.read_text(encoding="utf-8") == first.text
    inode = path.stat().st_ino
    second = compose_briefing(story_items(), "md", T0, "Second")
    save_briefing(path, second)
    assert path.read_text(encoding="utf-8") == second.text
    assert path.stat().st_ino != inode  # a new file renamed over the old one, not rewritten in place

    def disk_full(fd: int, payload: bytes) -> None:
        os.write(fd, payload[: len(payload) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic, "_write_all", disk_full)
    with pytest.raises(OSError, match="No space left"):
        save_briefing(path, compose_briefing(story_items(), "md", T0, "Third"))
    assert path.read_text(encoding="utf-8") == second.text  # the previous briefing, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["brief.md"]  # no temp file left


def test_cli_brief_into_a_missing_directory_is_one_line_and_exit_2(stored, write_config, run_cli,
                                                                    tmp_path: Path) -> None:
    out = tmp_path / "no such dir" / "brief.md"
    r = run_cli(write_config(), "brief", "-o", str(out))
    assert r.exit_code == 2, r.output
    assert isinstance(r.exception, SystemExit)  # not an uncaught OSError
    assert r.output.splitlines() == [
        f"diplowatch: could not write the briefing to {out}: No such file or directory"]
    assert not out.parent.exists()


def test_an_item_without_a_source_name_shows_its_feed_without_credentials() -> None:
    from dataclasses import replace

    item = replace(make_item("Envoys meet in Geneva", feed="https://ann:s3cret@wire.example/rss"),
                   source="")
    text = render_briefing(build_briefing([item]), "md", T0, "Brief", tz=timezone.utc)
    assert "ann:\\*\\*\\*@wire.example" in text or "ann:***@wire.example" in text
    assert "s3cret" not in text
