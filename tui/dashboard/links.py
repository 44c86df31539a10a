"""An item's link, opened in the browser or copied: http and https links only (a feed's
``javascript:`` link is never opened)."""
from __future__ import annotations

from textual.app import App

from feeds.model import Item
from feeds.text import safe_link, safe_text


def open_link(app: App, item: Item) -> None:
    link = safe_link(item.link)
    if not link:
        text = "This item has no web link that can be opened (only http and https links are opened)."
        app.notify(text, severity="warning", timeout=4, markup=False)
        return
    app.open_url(link)
    app.notify(f"Opening {safe_text(link, 120)}", timeout=3, markup=False)


def copy_link(app: App, item: Item) -> None:
    link = safe_link(item.link)
    if not link:
        app.notify("This item has no web link to copy.", severity="warning", timeout=4,
                   markup=False)
        return
    app.copy_to_clipboard(link)
    app.notify("Link copied.", timeout=2, markup=False)
